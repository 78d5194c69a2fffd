package ca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamra/iamra/awserr"
)

// FuzzIssueFromCSR feeds arbitrary CSR bytes (PEM or DER) through
// ParseCSR and Issue: no input may panic, and every rejection must be an
// AWS-shaped client error.
func FuzzIssueFromCSR(f *testing.F) {
	root, rootKey := mustRoot(f)
	k := mustKey(f, KeyECP256)
	f.Add(csrPEM(f, k, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "seed"}, DNSNames: []string{"a.example"}}))
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "der"}}, k)
	f.Add(der)
	f.Add([]byte("-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		csr, err := ParseCSR(data)
		if err != nil {
			checkClientError(t, err)
			return
		}
		for _, tmpl := range []string{TemplateEndEntity, TemplateBlankEndEntityAPICSR, TemplateSubordinateCAPathLen0} {
			c, err := Issue(root, rootKey, IssueRequest{Template: tmpl, CSR: csr, NotBefore: t0, NotAfter: t0.Add(time.Hour),
				Passthrough: &Passthrough{DNSNames: []string{"x.example"}}}, rand.Reader)
			if err != nil {
				checkClientError(t, err)
				continue
			}
			if err := c.CheckSignatureFrom(root); err != nil {
				t.Fatalf("issued certificate does not verify: %v", err)
			}
			if tmpl != TemplateSubordinateCAPathLen0 && c.IsCA {
				t.Fatal("a CSR made itself a CA")
			}
		}
	})
}

func checkClientError(t *testing.T, err error) {
	t.Helper()
	var e *awserr.Error
	if !errors.As(err, &e) || e.Status != 400 {
		t.Fatalf("not a client error: %v", err)
	}
}

// FuzzValidity resolves arbitrary Validity values: no panic, and every
// accepted value is a date X.509 can encode.
func FuzzValidity(f *testing.F) {
	for _, v := range []Validity{{ValidityDays, 1}, {ValidityEndDate, 491231235959}, {ValidityEndDate, 20491231235959},
		{ValidityAbsolute, 2524608000}, {ValidityYears, 9999}, {ValidityHours, -5}, {"X", 1}} {
		f.Add(v.Type, v.Value)
	}
	f.Fuzz(func(t *testing.T, typ string, value int64) {
		got, err := Validity{Type: typ, Value: value}.Time(t0, "validity")
		if err != nil {
			checkClientError(t, err)
			return
		}
		if got.Year() > maxYear {
			t.Fatalf("%s %d resolved to %v", typ, value, got)
		}
	})
}

// fuzzRootKey is a fixed P-256 key, so that the seed corpus can hold CSRs
// of the root's own key for the RootCACertificate templates.
func fuzzRootKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	scalar := sha256.Sum256([]byte("iamra FuzzIssueMatchesStdlib root"))
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), scalar[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fuzzPassthrough reads "CN,name,name..." into a Passthrough: each name is
// an IP address, an email address (with @), a URI (with :) or a DNS name.
func fuzzPassthrough(s string) *Passthrough {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	p := &Passthrough{}
	if parts[0] != "" {
		p.Subject = &pkix.Name{CommonName: parts[0]}
	}
	for _, v := range parts[1:] {
		if ip := net.ParseIP(v); ip != nil {
			p.IPAddresses = append(p.IPAddresses, ip)
		} else if strings.Contains(v, "@") {
			p.EmailAddresses = append(p.EmailAddresses, v)
		} else if u, err := url.Parse(v); err == nil && strings.Contains(v, ":") {
			p.URIs = append(p.URIs, u)
		} else {
			p.DNSNames = append(p.DNSNames, v)
		}
	}
	return p
}

// FuzzIssueMatchesStdlib issues arbitrary CSRs (DER or PEM) through Issue,
// with any template, signing algorithm, validity, CRL setting and API
// passthrough, and replays each on x509.CreateCertificate with the same
// template: both must accept or refuse alike, and what Issue signs must
// have crypto/x509's TBSCertificate byte for byte and verify.
//
// A mutated CSR rarely keeps a valid signature, so with sign set data is
// a CertificationRequestInfo the fuzz function signs with fuzzRootKey:
// mutations of its names, extensions and key encoding then reach the
// encoder (those that change the key itself fail the CSR check).
func FuzzIssueMatchesStdlib(f *testing.F) {
	ecKey := fuzzRootKey(f)
	rsaKey := mustKey(f, KeyRSA2048)
	from, until := time.Date(1949, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	subject := pkix.Name{CommonName: "iamra fuzz root", Organization: []string{"iamra"}}
	ecRoot, err := NewSelfSignedRoot(subject, ecKey, from, until, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	rsaRoot, err := NewSelfSignedRoot(subject, rsaKey, from, until, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	templates := TemplateNames()
	var algs []string
	for name := range signingAlgorithms {
		algs = append(algs, name)
	}
	slices.Sort(algs)

	leaf := mustKey(f, KeyECP384)
	u, _ := url.Parse("spiffe://example.org/x")
	f.Add(mustCSR(f, leaf, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "seed"}, DNSNames: []string{"a.example"},
		IPAddresses: []net.IP{net.IPv4(10, 0, 0, 1)}, URIs: []*url.URL{u}, EmailAddresses: []string{"a@example.org"}}).Raw,
		false, uint8(0), uint8(0), t0.Unix(), t0.AddDate(1, 0, 0).Unix(), true, "")
	f.Add(mustCSR(f, ecKey, &x509.CertificateRequest{Subject: subject}).RawTBSCertificateRequest,
		true, uint8(slices.Index(templates, TemplateRootCA)), uint8(slices.Index(algs, SHA256WithECDSA)), t0.Unix(), t0.AddDate(30, 0, 0).Unix(), false, "")
	f.Fuzz(func(t *testing.T, data []byte, sign bool, template, alg uint8, notBefore, notAfter int64, cdp bool, passthrough string) {
		if sign {
			data = signCSRInfo(t, ecKey, data)
		}
		csr, err := ParseCSR(data)
		if err != nil {
			return
		}
		tmplName, algName := templates[int(template)%len(templates)], algs[int(alg)%len(algs)]
		tpl, err := LookupTemplate(tmplName)
		if err != nil {
			t.Fatal(err)
		}
		issuer, issuerKey := ecRoot, crypto.Signer(ecKey)
		if publicKeyAlgorithmOf(signingAlgorithms[algName]) == x509.RSA {
			issuer, issuerKey = rsaRoot, rsaKey
		}
		if tpl.Root {
			issuer = nil
		}
		req := IssueRequest{Template: tmplName, CSR: csr, SigningAlgorithm: algName,
			NotBefore: time.Unix(notBefore, 0), NotAfter: time.Unix(notAfter, 0), Passthrough: fuzzPassthrough(passthrough)}
		if cdp {
			req.CRLDistributionPoint = "http://127.0.0.1:8443/crl/fuzz.crl"
		}
		cert, err := Issue(issuer, issuerKey, req, rand.Reader)

		// The same request through crypto/x509, with Issue's serial.
		req.SerialNumber = big.NewInt(1)
		if cert != nil {
			req.SerialNumber = cert.SerialNumber
		}
		checkIssueForRecord(t, issuer, issuerKey, req, cert)
		tmpl, key, terr := certificateTemplate(tpl, issuer, issuerKey, req, rand.Reader)
		if terr != nil {
			if err == nil {
				t.Fatalf("Issue accepted a request certificateTemplate refuses: %v", terr)
			}
			checkClientError(t, err)
			return
		}
		parent := issuer
		if parent == nil {
			parent = tmpl
		}
		var std *x509.Certificate
		der, serr := x509.CreateCertificate(rand.Reader, tmpl, parent, key.pub, issuerKey)
		if serr == nil {
			std, serr = x509.ParseCertificate(der)
		}
		switch {
		case err != nil && serr != nil:
			checkClientError(t, err)
			return
		case err != nil:
			t.Fatalf("Issue refused what crypto/x509 signs: %v", err)
		case serr != nil:
			t.Fatalf("Issue signed what crypto/x509 refuses (%v)", serr)
		}
		if !bytes.Equal(cert.RawTBSCertificate, std.RawTBSCertificate) {
			t.Fatalf("TBSCertificate differs at byte %d\nours   %x\nstdlib %x",
				firstDifference(cert.RawTBSCertificate, std.RawTBSCertificate), cert.RawTBSCertificate, std.RawTBSCertificate)
		}
		signer := issuer
		if signer == nil {
			signer = cert
		}
		if err := cert.CheckSignatureFrom(signer); err != nil {
			t.Fatalf("signature: %v", err)
		}
	})
}

// checkIssueForRecord issues req (with want's serial) through
// issueForRecord, which parses the certificate back only where it must,
// and checks it against Issue's parsed certificate want (nil: Issue
// refused req): it must refuse alike, sign only what crypto/x509 parses,
// and describe it as the parsed certificate does, down to the JSON of its
// times.
func checkIssueForRecord(t *testing.T, issuer *x509.Certificate, issuerKey crypto.Signer, req IssueRequest, want *x509.Certificate) {
	t.Helper()
	got, err := issueForRecord(issuer, issuerKey, req, rand.Reader)
	if (err == nil) != (want != nil) {
		t.Fatalf("issueForRecord: %v; Issue succeeded: %v", err, want != nil)
	}
	if err != nil {
		return
	}
	parsed, err := x509.ParseCertificate(got.der)
	if err != nil {
		t.Fatalf("issueForRecord signed what does not parse: %v", err)
	}
	jsonTime := func(tm time.Time) string { b, _ := tm.MarshalJSON(); return string(b) }
	if got.serial.Cmp(parsed.SerialNumber) != 0 || got.serial.Cmp(want.SerialNumber) != 0 ||
		got.subject != parsed.Subject.String() || got.subject != want.Subject.String() ||
		jsonTime(got.notBefore) != jsonTime(parsed.NotBefore) || jsonTime(got.notAfter) != jsonTime(parsed.NotAfter) ||
		!bytes.Equal(parsed.RawTBSCertificate, want.RawTBSCertificate) {
		t.Fatalf("issueForRecord says serial %v, subject %q, %v to %v; the certificate has %v, %q, %v to %v",
			got.serial, got.subject, got.notBefore, got.notAfter, parsed.SerialNumber, parsed.Subject.String(), parsed.NotBefore, parsed.NotAfter)
	}
}
