// Package trusttest builds throwaway PKIs in memory for tests: roots,
// intermediates, leaves and CRLs, with options for every way a
// certificate can break a trust rule.
//
// Keys and certificates made here protect nothing. Time and randomness
// are injected; failures end the test through testing.TB, so helpers read
// as one line each in a table test.
package trusttest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"
)

// KeyType selects a generated key.
type KeyType int

const (
	P256 KeyType = iota
	P384
	P521
	P224 // unsupported by AWS's key policy
	RSA2048
	RSA3072
	RSA1024 // too weak for AWS's key policy
	Ed25519 // unsupported by AWS's key policy
)

// Cert is a certificate with its private key.
type Cert struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// PEM is the certificate in PEM form.
func (c *Cert) PEM() string { return PEM(c.Cert) }

// PKI issues certificates. Serial numbers count up from 0x1000 so every
// certificate of one PKI is distinct.
type PKI struct {
	tb   testing.TB
	rand io.Reader
	now  time.Time

	mu     sync.Mutex
	serial int64
	keys   map[KeyType]crypto.Signer
}

// New returns a PKI whose default validity is around now and whose keys
// and signatures draw from rand.
func New(tb testing.TB, rand io.Reader, now time.Time) *PKI {
	return &PKI{tb: tb, rand: rand, now: now, serial: 0x1000, keys: make(map[KeyType]crypto.Signer)}
}

// Now is the time the PKI was created for.
func (p *PKI) Now() time.Time { return p.now }

// Option adjusts the certificate template before signing.
type Option func(*spec)

type spec struct {
	tpl      *x509.Certificate
	keyType  KeyType
	key      crypto.Signer
	fresh    bool
	version1 bool
	mutate   []func(*x509.Certificate)
}

// WithKeyType selects the key type of the new certificate (default P-256).
func WithKeyType(k KeyType) Option { return func(s *spec) { s.keyType = k } }

// WithKey uses key as the new certificate's key.
func WithKey(key crypto.Signer) Option { return func(s *spec) { s.key = key } }

// FreshKey generates a new key instead of reusing the PKI's key of that
// type. Keys are reused by default because RSA generation is slow and
// tests rarely care which key a certificate holds.
func FreshKey() Option { return func(s *spec) { s.fresh = true } }

// Validity sets notBefore and notAfter.
func Validity(notBefore, notAfter time.Time) Option {
	return func(s *spec) { s.tpl.NotBefore, s.tpl.NotAfter = notBefore, notAfter }
}

// Serial sets the serial number.
func Serial(n *big.Int) Option { return func(s *spec) { s.tpl.SerialNumber = n } }

// Subject replaces the subject DN.
func Subject(n pkix.Name) Option { return func(s *spec) { s.tpl.Subject = n } }

// SignatureAlgorithm selects the algorithm the issuer signs with,
// including SHA1WithRSA and ECDSAWithSHA1 to test their rejection.
func SignatureAlgorithm(a x509.SignatureAlgorithm) Option {
	return func(s *spec) { s.tpl.SignatureAlgorithm = a }
}

// Version1 issues an X.509 v1 certificate (no extensions at all).
func Version1() Option { return func(s *spec) { s.version1 = true } }

// Template edits the template after the defaults are set, for anything
// else (keyUsage, basicConstraints, SANs, name constraints…).
func Template(f func(*x509.Certificate)) Option {
	return func(s *spec) { s.mutate = append(s.mutate, f) }
}

// Root issues a self-signed root CA valid from an hour before now for ten
// years: basicConstraints CA:TRUE, keyUsage keyCertSign|cRLSign.
func (p *PKI) Root(cn string, opts ...Option) *Cert {
	p.tb.Helper()
	return p.ca(nil, cn, 10, opts)
}

// Intermediate issues a CA certificate under parent, valid for five years.
func (p *PKI) Intermediate(parent *Cert, cn string, opts ...Option) *Cert {
	p.tb.Helper()
	return p.ca(parent, cn, 5, opts)
}

func (p *PKI) ca(parent *Cert, cn string, years int, opts []Option) *Cert {
	p.tb.Helper()
	s := p.spec(cn, opts)
	s.tpl.NotAfter = p.pick(s.tpl.NotAfter, p.now.AddDate(years, 0, 0))
	s.tpl.BasicConstraintsValid = true
	s.tpl.IsCA = true
	s.tpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	return p.issue(s, parent)
}

// Leaf issues an end-entity certificate under parent, valid for a day:
// basicConstraints CA:FALSE, keyUsage digitalSignature, EKU clientAuth.
func (p *PKI) Leaf(parent *Cert, cn string, opts ...Option) *Cert {
	p.tb.Helper()
	s := p.spec(cn, opts)
	s.tpl.NotAfter = p.pick(s.tpl.NotAfter, p.now.Add(24*time.Hour))
	s.tpl.BasicConstraintsValid = true
	s.tpl.KeyUsage = x509.KeyUsageDigitalSignature
	s.tpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	return p.issue(s, parent)
}

func (p *PKI) pick(set, def time.Time) time.Time {
	if !set.IsZero() {
		return set
	}
	return def
}

func (p *PKI) spec(cn string, opts []Option) *spec {
	s := &spec{tpl: &x509.Certificate{Subject: pkix.Name{CommonName: cn}}}
	for _, o := range opts {
		o(s)
	}
	if s.tpl.SerialNumber == nil {
		p.mu.Lock()
		p.serial++
		s.tpl.SerialNumber = big.NewInt(p.serial)
		p.mu.Unlock()
	}
	if s.tpl.NotBefore.IsZero() {
		s.tpl.NotBefore = p.now.Add(-time.Hour)
	}
	return s
}

func (p *PKI) issue(s *spec, parent *Cert) *Cert {
	p.tb.Helper()
	for _, f := range s.mutate {
		f(s.tpl)
	}
	key := s.key
	if key == nil {
		key = p.key(s.keyType, s.fresh)
	}
	issuerCert, issuerKey := s.tpl, key
	if parent != nil {
		issuerCert, issuerKey = parent.Cert, parent.Key
	}
	var der []byte
	var err error
	if s.version1 {
		der, err = p.version1(s.tpl, issuerCert, key.Public(), issuerKey)
	} else {
		der, err = x509.CreateCertificate(p.rand, s.tpl, issuerCert, key.Public(), issuerKey)
	}
	if err != nil {
		p.tb.Fatalf("trusttest: issuing %q: %v", s.tpl.Subject.CommonName, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		p.tb.Fatalf("trusttest: parsing %q: %v", s.tpl.Subject.CommonName, err)
	}
	return &Cert{Cert: c, Key: key}
}

func (p *PKI) key(t KeyType, fresh bool) crypto.Signer {
	p.tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if k, ok := p.keys[t]; ok && !fresh {
		return k
	}
	k := NewKey(p.tb, p.rand, t)
	if !fresh {
		p.keys[t] = k
	}
	return k
}

// NewKey generates a key of type t.
func NewKey(tb testing.TB, rand io.Reader, t KeyType) crypto.Signer {
	tb.Helper()
	var k crypto.Signer
	var err error
	switch t {
	case P256:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand)
	case P384:
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand)
	case P521:
		k, err = ecdsa.GenerateKey(elliptic.P521(), rand)
	case P224:
		k, err = ecdsa.GenerateKey(elliptic.P224(), rand)
	case RSA2048:
		k, err = rsa.GenerateKey(rand, 2048)
	case RSA3072:
		k, err = rsa.GenerateKey(rand, 3072)
	case RSA1024:
		k, err = rsa.GenerateKey(rand, 1024)
	case Ed25519:
		_, k, err = ed25519.GenerateKey(rand)
	default:
		tb.Fatalf("trusttest: unknown key type %d", t)
	}
	if err != nil {
		tb.Fatalf("trusttest: generating key: %v", err)
	}
	return k
}

// CRLOption adjusts a CRL template.
type CRLOption func(*x509.RevocationList)

// Revoke lists certificates as revoked an hour before now (the PKI's).
func Revoke(certs ...*x509.Certificate) CRLOption {
	return func(l *x509.RevocationList) {
		for _, c := range certs {
			l.RevokedCertificateEntries = append(l.RevokedCertificateEntries, x509.RevocationListEntry{
				SerialNumber: c.SerialNumber, RevocationTime: l.ThisUpdate, ReasonCode: 1})
		}
	}
}

// Updates sets thisUpdate and nextUpdate (a nextUpdate before now makes a
// stale CRL).
func Updates(this, next time.Time) CRLOption {
	return func(l *x509.RevocationList) { l.ThisUpdate, l.NextUpdate = this, next }
}

// CRLTemplate edits the CRL template directly.
func CRLTemplate(f func(*x509.RevocationList)) CRLOption { return CRLOption(f) }

// CRL issues a CRL signed by issuer, thisUpdate an hour before now,
// nextUpdate a week after.
func (p *PKI) CRL(issuer *Cert, opts ...CRLOption) *x509.RevocationList {
	p.tb.Helper()
	return p.CRLSignedBy(issuer, issuer.Key, opts...)
}

// CRLSignedBy issues a CRL in issuer's name signed by key — with any key
// but issuer's, a CRL whose signature does not verify.
func (p *PKI) CRLSignedBy(issuer *Cert, key crypto.Signer, opts ...CRLOption) *x509.RevocationList {
	p.tb.Helper()
	p.mu.Lock()
	p.serial++
	n := big.NewInt(p.serial)
	p.mu.Unlock()
	tpl := &x509.RevocationList{Number: n, ThisUpdate: p.now.Add(-time.Hour), NextUpdate: p.now.Add(7 * 24 * time.Hour)}
	for _, o := range opts {
		o(tpl)
	}
	der, err := x509.CreateRevocationList(p.rand, tpl, issuer.Cert, key)
	if err != nil {
		p.tb.Fatalf("trusttest: issuing CRL of %q: %v", issuer.Cert.Subject.CommonName, err)
	}
	l, err := x509.ParseRevocationList(der)
	if err != nil {
		p.tb.Fatalf("trusttest: parsing CRL: %v", err)
	}
	return l
}

// PEM encodes certificates as concatenated PEM CERTIFICATE blocks.
func PEM(certs ...*x509.Certificate) string {
	var b strings.Builder
	for _, c := range certs {
		b.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
	}
	return b.String()
}

// CRLPEM encodes a CRL as one PEM X509 CRL block.
func CRLPEM(l *x509.RevocationList) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: l.Raw})
}
