package ca

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"io"
)

// KeyProtector encrypts CA private keys at rest. *kek.KEK implements it;
// ad (associated data) binds a sealed key to the CA it belongs to, so a
// sealed key copied into another CA's record does not open.
type KeyProtector interface {
	Seal(plaintext, ad []byte) ([]byte, error)
	Open(ciphertext, ad []byte) ([]byte, error)
}

// KeyRef says where a CA's private key lives. It is stored in the CA
// record and never holds a plaintext key.
type KeyRef struct {
	// Store names the KeyStore holding the key ("software", "pkcs11").
	Store string `json:"Store"`
	// Sealed is the KeyProtector-sealed PKCS#8 key (software store).
	Sealed []byte `json:"Sealed,omitempty"`
	// Label and ID name the key objects in an HSM (pkcs11 store).
	Label string `json:"Label,omitempty"`
	ID    string `json:"ID,omitempty"`
}

// KeyStore creates and loads CA private keys. Implementations must be safe
// for concurrent use.
type KeyStore interface {
	// Name is the KeyRef.Store value of keys this store makes.
	Name() string
	// Generate makes a new key for the CA named caARN, with a PCA key
	// algorithm name ("EC_prime256v1").
	Generate(ctx context.Context, caARN, keyAlgorithm string) (KeyRef, crypto.Signer, error)
	// Signer returns the key ref points at.
	Signer(ctx context.Context, caARN string, ref KeyRef) (crypto.Signer, error)
	// Destroy removes the key for good (permanent CA deletion). Stores
	// whose keys live only in the KeyRef do nothing.
	Destroy(ctx context.Context, caARN string, ref KeyRef) error
}

// SoftwareKeyStore keeps CA keys in the CA record, as PKCS#8 sealed by a
// KeyProtector (the KEK) with the CA's ARN as associated data.
type SoftwareKeyStore struct {
	Protector KeyProtector
	Rand      io.Reader
}

// SoftwareKeyStoreName is the KeyRef.Store of SoftwareKeyStore keys.
const SoftwareKeyStoreName = "software"

func (s *SoftwareKeyStore) Name() string { return SoftwareKeyStoreName }

func keyAD(caARN string) []byte { return []byte("iamra:ca-key:" + caARN) }

func (s *SoftwareKeyStore) Generate(_ context.Context, caARN, keyAlgorithm string) (KeyRef, crypto.Signer, error) {
	key, err := GenerateKey(keyAlgorithm, s.Rand)
	if err != nil {
		return KeyRef{}, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return KeyRef{}, nil, fmt.Errorf("ca: encode key: %w", err)
	}
	sealed, err := s.Protector.Seal(der, keyAD(caARN))
	clear(der)
	if err != nil {
		return KeyRef{}, nil, fmt.Errorf("ca: seal key: %w", err)
	}
	return KeyRef{Store: SoftwareKeyStoreName, Sealed: sealed}, key, nil
}

func (s *SoftwareKeyStore) Signer(_ context.Context, caARN string, ref KeyRef) (crypto.Signer, error) {
	der, err := s.Protector.Open(ref.Sealed, keyAD(caARN))
	if err != nil {
		return nil, fmt.Errorf("ca: open key of %s: %w", caARN, err)
	}
	defer clear(der)
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("ca: decode key of %s: %w", caARN, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("ca: key of %s is a %T, not a signer", caARN, k)
	}
	return signer, nil
}

func (s *SoftwareKeyStore) Destroy(context.Context, string, KeyRef) error { return nil }
