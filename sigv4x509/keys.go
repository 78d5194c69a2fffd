package sigv4x509

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
)

// AlgorithmFor picks the SigV4-X509 algorithm for a public key: RSA of any
// size, ECDSA on P-256, P-384 or P-521, or ML-DSA-44/65/87 as circl keys.
// Anything else is an error, since no algorithm label covers it.
func AlgorithmFor(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return "", errors.New("sigv4x509: empty RSA public key")
		}
		return AlgorithmRSA, nil
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			return "", errors.New("sigv4x509: empty ECDSA public key")
		}
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return AlgorithmECDSA, nil
		}
		return "", fmt.Errorf("sigv4x509: ECDSA curve %s is not supported (P-256, P-384 or P-521)", k.Curve.Params().Name)
	case *mldsa44.PublicKey, *mldsa65.PublicKey, *mldsa87.PublicKey:
		return AlgorithmMLDSA, nil
	case nil:
		return "", errors.New("sigv4x509: no public key (unknown public key algorithm)")
	}
	return "", fmt.Errorf("sigv4x509: %s keys are not supported (RSA, ECDSA or ML-DSA)", keyType(pub))
}

// keyType names a key's type for error details.
func keyType(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k != nil && k.N != nil {
			return fmt.Sprintf("RSA-%d", k.N.BitLen())
		}
		return "RSA"
	case *ecdsa.PublicKey:
		if k != nil && k.Curve != nil {
			return "ECDSA " + k.Curve.Params().Name
		}
		return "ECDSA"
	case *mldsa44.PublicKey:
		return "ML-DSA-44"
	case *mldsa65.PublicKey:
		return "ML-DSA-65"
	case *mldsa87.PublicKey:
		return "ML-DSA-87"
	case nil:
		return "unknown"
	}
	return fmt.Sprintf("%T", pub)
}

// ParseCertificate parses one DER certificate like x509.ParseCertificate,
// and additionally fills PublicKey with a circl key when the certificate
// holds an ML-DSA key, which crypto/x509 leaves nil. A certificate whose
// ML-DSA key is malformed is an error, as a malformed RSA or ECDSA key is
// for crypto/x509.
func ParseCertificate(der []byte) (*x509.Certificate, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	if cert.PublicKey == nil {
		pub, isMLDSA, err := parseMLDSAPublicKey(cert.RawSubjectPublicKeyInfo)
		if isMLDSA {
			if err != nil {
				return nil, err
			}
			cert.PublicKey = pub
		}
	}
	return cert, nil
}

// CertificatePublicKey returns the certificate's public key: PublicKey when
// crypto/x509 parsed it, else the ML-DSA key decoded from the
// SubjectPublicKeyInfo.
func CertificatePublicKey(cert *x509.Certificate) (crypto.PublicKey, error) {
	if cert == nil {
		return nil, errors.New("sigv4x509: nil certificate")
	}
	if cert.PublicKey != nil {
		return cert.PublicKey, nil
	}
	pub, isMLDSA, err := parseMLDSAPublicKey(cert.RawSubjectPublicKeyInfo)
	if !isMLDSA {
		return nil, err
	}
	return pub, err
}

type subjectPublicKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	PublicKey asn1.BitString
}

// parseMLDSAPublicKey decodes an ML-DSA SubjectPublicKeyInfo (RFC 9881:
// parameters absent, the raw FIPS 204 public key as the bit string).
// isMLDSA reports whether the algorithm OID is one of the three, so callers
// can tell "not ML-DSA" from "broken ML-DSA".
func parseMLDSAPublicKey(spkiDER []byte) (pub crypto.PublicKey, isMLDSA bool, err error) {
	var spki subjectPublicKeyInfo
	rest, err := asn1.Unmarshal(spkiDER, &spki)
	if err != nil {
		return nil, false, fmt.Errorf("sigv4x509: malformed SubjectPublicKeyInfo: %v", err)
	}
	if len(rest) != 0 {
		return nil, false, errors.New("sigv4x509: trailing data after SubjectPublicKeyInfo")
	}
	oid := spki.Algorithm.Algorithm
	level := mldsaLevel(oid)
	if level == 0 {
		return nil, false, fmt.Errorf("sigv4x509: unsupported public key algorithm %s", oid)
	}
	name := fmt.Sprintf("ML-DSA-%d", level)
	if len(spki.Algorithm.Parameters.FullBytes) != 0 {
		return nil, true, fmt.Errorf("sigv4x509: %s key algorithm parameters must be absent", name)
	}
	if spki.PublicKey.BitLength%8 != 0 {
		return nil, true, fmt.Errorf("sigv4x509: %s public key is not a whole number of bytes", name)
	}
	raw := spki.PublicKey.Bytes
	var size int
	var unmarshal func([]byte) error
	switch level {
	case 44:
		k := new(mldsa44.PublicKey)
		pub, size, unmarshal = k, mldsa44.PublicKeySize, k.UnmarshalBinary
	case 65:
		k := new(mldsa65.PublicKey)
		pub, size, unmarshal = k, mldsa65.PublicKeySize, k.UnmarshalBinary
	case 87:
		k := new(mldsa87.PublicKey)
		pub, size, unmarshal = k, mldsa87.PublicKeySize, k.UnmarshalBinary
	}
	if len(raw) != size {
		return nil, true, fmt.Errorf("sigv4x509: %s public key is %d bytes, want %d", name, len(raw), size)
	}
	if err := unmarshal(raw); err != nil {
		return nil, true, fmt.Errorf("sigv4x509: %s public key: %v", name, err)
	}
	return pub, true, nil
}

// mldsaLevel maps the NIST OIDs id-ml-dsa-44/65/87
// (2.16.840.1.101.3.4.3.17/18/19) to 44, 65, 87, and anything else to 0.
func mldsaLevel(oid asn1.ObjectIdentifier) int {
	prefix := asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3}
	if len(oid) != len(prefix)+1 || !oid[:len(prefix)].Equal(prefix) {
		return 0
	}
	switch oid[len(prefix)] {
	case 17:
		return 44
	case 18:
		return 65
	case 19:
		return 87
	}
	return 0
}

// checkSignature verifies sig over the string to sign with pub, by the
// rules of pub's algorithm: RSASSA-PKCS1-v1_5 over SHA-256 (PSS is
// rejected by construction), ECDSA ASN.1 DER over SHA-256 whatever the
// curve, pure ML-DSA with an empty context.
func checkSignature(pub crypto.PublicKey, stringToSign, sig []byte) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		digest := sha256.Sum256(stringToSign)
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, digest[:], sig)
	case *ecdsa.PublicKey:
		digest := sha256.Sum256(stringToSign)
		if !ecdsa.VerifyASN1(k, digest[:], sig) {
			return errors.New("ECDSA signature (ASN.1 DER over SHA-256) does not verify")
		}
		return nil
	case *mldsa44.PublicKey:
		return mldsaResult(mldsa44.Verify(k, stringToSign, nil, sig))
	case *mldsa65.PublicKey:
		return mldsaResult(mldsa65.Verify(k, stringToSign, nil, sig))
	case *mldsa87.PublicKey:
		return mldsaResult(mldsa87.Verify(k, stringToSign, nil, sig))
	}
	return fmt.Errorf("no signature check for %s keys", keyType(pub))
}

func mldsaResult(ok bool) error {
	if !ok {
		return errors.New("ML-DSA signature (pure, empty context) does not verify")
	}
	return nil
}

// rawECDSAToDER re-encodes a fixed-width r‖s signature, as PKCS#11 tokens
// and Windows CNG produce, into the ASN.1 DER SEQUENCE{r, s} servers expect.
func rawECDSAToDER(k *ecdsa.PublicKey, sig []byte) ([]byte, bool) {
	size := (k.Curve.Params().BitSize + 7) / 8
	if len(sig) != 2*size {
		return nil, false
	}
	der, err := asn1.Marshal(struct{ R, S *big.Int }{
		new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:]),
	})
	return der, err == nil
}

// sameKey reports whether two public keys are the same key.
func sameKey(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}
