// Package keysourcetest builds throwaway PKI material for tests of the
// credential helper: a CA, leaves for RSA, ECDSA and ML-DSA keys, and their
// PEM encodings. crypto/x509 cannot certify ML-DSA keys, so those leaves are
// assembled here by hand.
package keysourcetest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudflare/circl/sign"
)

// PKI is a test CA.
type PKI struct {
	CA    *x509.Certificate
	CAKey *rsa.PrivateKey
	// NotBefore and NotAfter bound every certificate issued.
	NotBefore, NotAfter time.Time
}

// NewPKI creates a CA valid from an hour before now for a year.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	key := RSAKey(t)
	now := time.Now()
	p := &PKI{CAKey: key, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour)}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Test Root CA"},
		NotBefore:             p.NotBefore,
		NotAfter:              p.NotAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatalf("create CA: %v", err)
	}
	if p.CA, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	return p
}

// RSAKey returns a fresh 2048-bit RSA key.
func RSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// ECKey returns a fresh P-256 key.
func ECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Intermediate issues a CA certificate under p, returning a PKI rooted at
// it (its CA field is the intermediate).
func (p *PKI) Intermediate(t testing.TB, cn string) *PKI {
	t.Helper()
	key := RSAKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             p.NotBefore,
		NotAfter:              p.NotAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.CA, key.Public(), p.CAKey)
	if err != nil {
		t.Fatalf("create intermediate: %v", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &PKI{CA: c, CAKey: key, NotBefore: p.NotBefore, NotAfter: p.NotAfter}
}

// Issue certifies pub (RSA, ECDSA or a circl ML-DSA key) as a leaf with the
// given serial and common name.
func (p *PKI) Issue(t testing.TB, pub crypto.PublicKey, serial int64, cn string) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Example"}},
		NotBefore:             p.NotBefore,
		NotAfter:              p.NotAfter,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	mldsa, isMLDSA := pub.(sign.PublicKey)
	certPub := pub
	if isMLDSA {
		certPub = ECKey(t).Public() // placeholder, replaced below
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.CA, certPub, p.CAKey)
	if err != nil {
		t.Fatalf("issue leaf: %v", err)
	}
	if isMLDSA {
		der = p.replaceSPKI(t, der, mldsa)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse leaf: %v", err)
	}
	return c
}

// replaceSPKI swaps the SubjectPublicKeyInfo of a certificate for an ML-DSA
// one and re-signs it with the CA key.
func (p *PKI) replaceSPKI(t testing.TB, der []byte, pub sign.PublicKey) []byte {
	t.Helper()
	var cert struct {
		TBS    asn1.RawValue
		SigAlg asn1.RawValue
		Sig    asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &cert); err != nil {
		t.Fatal(err)
	}
	var fields []asn1.RawValue
	for rest := cert.TBS.Bytes; len(rest) > 0; {
		var f asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &f); err != nil {
			t.Fatal(err)
		}
		fields = append(fields, f)
	}
	raw, err := pub.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	spki, err := asn1.Marshal(struct {
		Alg pkix.AlgorithmIdentifier
		Key asn1.BitString
	}{pkix.AlgorithmIdentifier{Algorithm: pub.Scheme().(interface{ Oid() asn1.ObjectIdentifier }).Oid()},
		asn1.BitString{Bytes: raw, BitLength: 8 * len(raw)}})
	if err != nil {
		t.Fatal(err)
	}
	// version [0], serial, signature, issuer, validity, subject, spki, ...
	fields[6] = asn1.RawValue{FullBytes: spki}
	var body []byte
	for _, f := range fields {
		body = append(body, f.FullBytes...)
	}
	tbs, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body})
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(tbs)
	sig, err := rsa.SignPKCS1v15(rand.Reader, p.CAKey, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	out, err := asn1.Marshal(struct {
		TBS    asn1.RawValue
		SigAlg asn1.RawValue
		Sig    asn1.BitString
	}{asn1.RawValue{FullBytes: tbs}, cert.SigAlg, asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// CertPEM encodes certificates as consecutive CERTIFICATE blocks.
func CertPEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// KeyPEM encodes an RSA or ECDSA key as PKCS#8 "PRIVATE KEY", or a circl
// ML-DSA key as PKCS#8 in RFC 9881's seed form.
func KeyPEM(t testing.TB, key crypto.Signer) []byte {
	t.Helper()
	if k, ok := key.(sign.PrivateKey); ok {
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: MLDSAPKCS8(t, k, "seed")})
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// MLDSAPKCS8 encodes an ML-DSA key in one of RFC 9881's three private key
// forms: "seed", "expanded" or "both".
func MLDSAPKCS8(t testing.TB, k sign.PrivateKey, form string) []byte {
	t.Helper()
	seed := k.(interface{ Seed() []byte }).Seed()
	expanded, err := k.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var inner []byte
	switch form {
	case "seed":
		inner, err = asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: seed})
	case "expanded":
		inner, err = asn1.Marshal(expanded)
	case "both":
		inner, err = asn1.Marshal(struct{ Seed, Expanded []byte }{seed, expanded})
	default:
		t.Fatalf("unknown ML-DSA key form %q", form)
	}
	if err != nil {
		t.Fatal(err)
	}
	der, err := asn1.Marshal(struct {
		Version int
		Alg     pkix.AlgorithmIdentifier
		Key     []byte
	}{0, pkix.AlgorithmIdentifier{Algorithm: k.Scheme().(interface{ Oid() asn1.ObjectIdentifier }).Oid()}, inner})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// Write writes data to dir/name with mode 0600 and returns the path.
func Write(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
