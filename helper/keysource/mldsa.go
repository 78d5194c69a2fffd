package keysource

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/cloudflare/circl/sign"
	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
)

// ML-DSA keys (FIPS 204) in PKCS#8, per RFC 9881 (draft-ietf-lamps-dilithium-
// certificates): the privateKey OCTET STRING holds one of
//
//	seed         [0] IMPLICIT OCTET STRING (32 bytes)
//	expandedKey  OCTET STRING
//	both         SEQUENCE { seed OCTET STRING, expandedKey OCTET STRING }
//
// Go 1.26 has no public ML-DSA, so keys are circl's, which implement
// crypto.Signer for pure ML-DSA with an empty context (opts = crypto.Hash(0)),
// the mode Roles Anywhere verifies.

var mldsaSchemes = []sign.Scheme{mldsa44.Scheme(), mldsa65.Scheme(), mldsa87.Scheme()}

func mldsaScheme(oid asn1.ObjectIdentifier) sign.Scheme {
	for _, s := range mldsaSchemes {
		if s.(interface{ Oid() asn1.ObjectIdentifier }).Oid().Equal(oid) {
			return s
		}
	}
	return nil
}

type pkcs8 struct {
	Version    int
	Algo       pkix.AlgorithmIdentifier
	PrivateKey []byte
	// Attributes and publicKey (v2) are ignored.
	Rest asn1.RawValue `asn1:"optional"`
}

// errNotMLDSA means the PKCS#8 structure is fine but holds another algorithm.
var errNotMLDSA = errors.New("not an ML-DSA key")

func parseMLDSAPKCS8(der []byte) (crypto.Signer, error) {
	var k pkcs8
	if _, err := asn1.Unmarshal(der, &k); err != nil {
		return nil, errNotMLDSA
	}
	scheme := mldsaScheme(k.Algo.Algorithm)
	if scheme == nil {
		return nil, errNotMLDSA
	}
	var raw asn1.RawValue
	if rest, err := asn1.Unmarshal(k.PrivateKey, &raw); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("malformed %s private key", scheme.Name())
	}
	var seed, expanded []byte
	switch {
	case raw.Class == asn1.ClassContextSpecific && raw.Tag == 0 && !raw.IsCompound:
		seed = raw.Bytes
	case raw.Class == asn1.ClassUniversal && raw.Tag == asn1.TagOctetString:
		expanded = raw.Bytes
	case raw.Class == asn1.ClassUniversal && raw.Tag == asn1.TagSequence:
		var both struct{ Seed, Expanded []byte }
		if _, err := asn1.Unmarshal(raw.FullBytes, &both); err != nil {
			return nil, fmt.Errorf("malformed %s private key: %v", scheme.Name(), err)
		}
		seed, expanded = both.Seed, both.Expanded
	default:
		return nil, fmt.Errorf("malformed %s private key: unexpected tag %d", scheme.Name(), raw.Tag)
	}
	var key sign.PrivateKey
	if seed != nil {
		if len(seed) != scheme.SeedSize() {
			return nil, fmt.Errorf("%s seed is %d bytes, want %d", scheme.Name(), len(seed), scheme.SeedSize())
		}
		_, key = scheme.DeriveKey(seed)
		if expanded != nil {
			// RFC 9881 asks consumers to check the two agree.
			if b, _ := key.MarshalBinary(); !bytes.Equal(b, expanded) {
				return nil, fmt.Errorf("%s private key: seed and expanded key disagree", scheme.Name())
			}
		}
	} else {
		var err error
		if key, err = scheme.UnmarshalBinaryPrivateKey(expanded); err != nil {
			return nil, fmt.Errorf("malformed %s expanded private key: %v", scheme.Name(), err)
		}
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s key is not a crypto.Signer", scheme.Name())
	}
	return signer, nil
}

// spkiInfo is a SubjectPublicKeyInfo, for algorithms x509 does not parse.
type spkiInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	PublicKey asn1.BitString
}

// mldsaMatches reports whether pub (a circl ML-DSA public key) is the key in
// cert, comparing the raw SubjectPublicKeyInfo since x509 leaves
// cert.PublicKey nil for ML-DSA.
func mldsaMatches(pub crypto.PublicKey, cert *x509.Certificate) bool {
	pk, ok := pub.(sign.PublicKey)
	if !ok {
		return false
	}
	var spki spkiInfo
	if _, err := asn1.Unmarshal(cert.RawSubjectPublicKeyInfo, &spki); err != nil {
		return false
	}
	scheme := mldsaScheme(spki.Algorithm.Algorithm)
	if scheme == nil || scheme.Name() != pk.Scheme().Name() {
		return false
	}
	b, err := pk.MarshalBinary()
	return err == nil && bytes.Equal(b, spki.PublicKey.RightAlign())
}

// MLDSAName returns "ML-DSA-44", "ML-DSA-65" or "ML-DSA-87" when cert
// carries an ML-DSA public key, and "" otherwise.
func MLDSAName(cert *x509.Certificate) string {
	var spki spkiInfo
	if _, err := asn1.Unmarshal(cert.RawSubjectPublicKeyInfo, &spki); err != nil {
		return ""
	}
	if s := mldsaScheme(spki.Algorithm.Algorithm); s != nil {
		return s.Name()
	}
	return ""
}
