package keysource

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"software.sslmate.com/src/go-pkcs12"
)

// bundle is what one file contributed: certificates in file order and at
// most one private key.
type bundle struct {
	certs []*x509.Certificate
	key   crypto.Signer
}

// errNeedPassword is returned when a key is encrypted and no password is
// available; the source may prompt and retry.
var errNeedPassword = errors.New("private key is encrypted; pass --pkcs8-password")

// parseFile interprets one file's content. PEM may hold any mix of
// CERTIFICATE blocks and one private key (a cert-manager tls.crt with its
// chain, or a Kubernetes podCertificate credential bundle with key and
// chain); anything that is not PEM is tried as PKCS#12, then as a DER
// certificate.
func parseFile(name string, data, password []byte) (bundle, error) {
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		return parseBinary(name, data, password)
	}
	var b bundle
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch block.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return bundle{}, fmt.Errorf("%s: certificate %d: %v", name, len(b.certs)+1, err)
			}
			b.certs = append(b.certs, c)
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
			if b.key != nil {
				return bundle{}, fmt.Errorf("%s: more than one private key", name)
			}
			k, err := parseKeyBlock(block, password)
			if err != nil {
				return bundle{}, fmt.Errorf("%s: %w", name, err)
			}
			b.key = k
		case "TSS2 PRIVATE KEY":
			// The TPM source takes these blocks out before parsing; here one
			// appeared in a file that was not a TPM key file at start-up.
			return bundle{}, permanent{fmt.Errorf("%s: unexpected TPM 2.0 key (TSS2 PRIVATE KEY); TPM keys are used when --private-key (or --certificate without --private-key) holds one at start-up", name)}
		default:
			// "EC PARAMETERS" (openssl ecparam -genkey), "TRUSTED CERTIFICATE"
			// and friends carry nothing we sign with.
		}
	}
	if len(b.certs) == 0 && b.key == nil {
		return bundle{}, fmt.Errorf("%s: no CERTIFICATE or PRIVATE KEY PEM block found", name)
	}
	return b, nil
}

func parseBinary(name string, data, password []byte) (bundle, error) {
	if c, err := x509.ParseCertificate(data); err == nil {
		return bundle{certs: []*x509.Certificate{c}}, nil
	}
	key, leaf, chain, err := pkcs12.DecodeChain(data, string(password))
	switch {
	case errors.Is(err, pkcs12.ErrIncorrectPassword):
		if len(password) == 0 {
			return bundle{}, fmt.Errorf("%s: PKCS#12 file is password-protected; pass --pkcs8-password: %w", name, errNeedPassword)
		}
		return bundle{}, fmt.Errorf("%s: PKCS#12: %w", name, ErrIncorrectPassword)
	case err != nil && (len(data) == 0 || data[0] != 0x30):
		return bundle{}, fmt.Errorf("%s: not a PEM file (no -----BEGIN line), DER certificate or PKCS#12 file", name)
	case err != nil:
		return bundle{}, fmt.Errorf("%s: neither a DER certificate nor a readable PKCS#12 file: %v", name, err)
	}
	signer, err := asSigner(key)
	if err != nil {
		return bundle{}, fmt.Errorf("%s: %w", name, err)
	}
	return bundle{certs: append([]*x509.Certificate{leaf}, chain...), key: signer}, nil
}

func parseKeyBlock(block *pem.Block, password []byte) (crypto.Signer, error) {
	der := block.Bytes
	//lint:ignore SA1019 legacy OpenSSL "Proc-Type: 4,ENCRYPTED" keys still exist in the wild; the official helper reads them too.
	if x509.IsEncryptedPEMBlock(block) { //nolint:staticcheck
		if len(password) == 0 {
			return nil, errNeedPassword
		}
		var err error
		//lint:ignore SA1019 see above.
		if der, err = x509.DecryptPEMBlock(block, password); err != nil { //nolint:staticcheck
			return nil, ErrIncorrectPassword
		}
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" {
		if len(password) == 0 {
			return nil, errNeedPassword
		}
		plain, err := decryptPKCS8(der, password)
		if err != nil {
			return nil, err
		}
		k, err := parseKeyDER(plain)
		if err != nil {
			// Valid padding by chance, garbage inside: the password was wrong.
			return nil, ErrIncorrectPassword
		}
		return k, nil
	}
	return parseKeyDER(der)
}

// parseKeyDER tries the encodings in the official helper's order: PKCS#8,
// ML-DSA PKCS#8, SEC1, PKCS#1. The PEM label is not trusted, since tools
// disagree on it.
func parseKeyDER(der []byte) (crypto.Signer, error) {
	k8, err8 := x509.ParsePKCS8PrivateKey(der)
	if err8 == nil {
		return asSigner(k8)
	}
	if k, err := parseMLDSAPKCS8(der); err == nil {
		return k, nil
	} else if !errors.Is(err, errNotMLDSA) {
		return nil, err
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("unrecognised private key encoding (tried PKCS#8, ML-DSA, SEC1, PKCS#1): %v", err8)
}

func asSigner(k any) (crypto.Signer, error) {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return nil, errors.New("Ed25519 keys are not supported by IAM Roles Anywhere (use RSA, ECDSA or ML-DSA)")
	case nil:
		return nil, errors.New("no private key")
	}
	return nil, fmt.Errorf("unsupported private key type %T", k)
}

// keyMatches reports whether pub is the public key certified by cert.
func keyMatches(pub crypto.PublicKey, cert *x509.Certificate) bool {
	if cert.PublicKey != nil {
		eq, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
		return ok && eq.Equal(pub)
	}
	return mldsaMatches(pub, cert)
}
