package ca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/iamra/iamra/awserr"
)

// matchStdlib signs tmpl with createCertificate and with
// x509.CreateCertificate and fails unless the TBSCertificates are the same
// bytes and ours is a well-formed certificate whose signature verifies
// under the issuer's key. It returns ours, parsed.
func matchStdlib(t testing.TB, tmpl, parent *x509.Certificate, key subjectKey, issuerKey crypto.Signer) *x509.Certificate {
	t.Helper()
	ours, err := createCertificate(rand.Reader, tmpl, parent, key.spki, issuerKey)
	if err != nil {
		t.Fatalf("createCertificate: %v", err)
	}
	std, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.pub, issuerKey)
	if err != nil {
		t.Fatalf("x509.CreateCertificate: %v", err)
	}
	oc, err := x509.ParseCertificate(ours)
	if err != nil {
		t.Fatalf("our certificate does not parse: %v", err)
	}
	sc, err := x509.ParseCertificate(std)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(oc.RawTBSCertificate, sc.RawTBSCertificate) {
		t.Fatalf("TBSCertificate differs from crypto/x509's at byte %d\nours   %x\nstdlib %x",
			firstDifference(oc.RawTBSCertificate, sc.RawTBSCertificate), oc.RawTBSCertificate, sc.RawTBSCertificate)
	}
	if a, b := outerAlgorithm(t, ours), outerAlgorithm(t, std); !bytes.Equal(a, b) {
		t.Fatalf("signatureAlgorithm %x, crypto/x509 wrote %x", a, b)
	}
	// PKCS#1 v1.5 signatures are deterministic: the whole certificates match.
	if !certSigAlgs[tmpl.SignatureAlgorithm].pss && publicKeyAlgorithmOf(tmpl.SignatureAlgorithm) == x509.RSA && !bytes.Equal(ours, std) {
		t.Fatal("RSA PKCS#1 v1.5 certificates differ outside the TBSCertificate")
	}
	if parent == tmpl && !oc.IsCA {
		// CheckSignatureFrom wants a CA; a self-signed leaf is checked
		// against its own key.
		err = oc.CheckSignature(oc.SignatureAlgorithm, oc.RawTBSCertificate, oc.Signature)
	} else if parent == tmpl {
		err = oc.CheckSignatureFrom(oc)
	} else {
		err = oc.CheckSignatureFrom(parent)
	}
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	return oc
}

func keyName(k crypto.Signer) string {
	name, _ := KeyAlgorithmOf(k.Public())
	return name
}

func firstDifference(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// outerAlgorithm returns the Certificate's signatureAlgorithm element,
// checking the outer SEQUENCE { tbs, algorithm, BIT STRING } on the way.
func outerAlgorithm(t testing.TB, der []byte) []byte {
	t.Helper()
	s := cryptobyte.String(der)
	var cert, tbs, alg cryptobyte.String
	var sig []byte
	if !s.ReadASN1(&cert, cbasn1.SEQUENCE) || !s.Empty() || !cert.ReadASN1Element(&tbs, cbasn1.SEQUENCE) ||
		!cert.ReadASN1Element(&alg, cbasn1.SEQUENCE) || !cert.ReadASN1BitStringAsBytes(&sig) || !cert.Empty() {
		t.Fatalf("not Certificate ::= SEQUENCE { tbs, algorithm, signature }: %x", der)
	}
	return alg
}

// issueMatches builds the template Issue would sign for req and checks
// it against crypto/x509.
func issueMatches(t testing.TB, issuer *x509.Certificate, issuerKey crypto.Signer, req IssueRequest) *x509.Certificate {
	t.Helper()
	tpl, err := LookupTemplate(req.Template)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, key, err := certificateTemplate(tpl, issuer, issuerKey, req, rand.Reader)
	if err != nil {
		t.Fatalf("certificateTemplate: %v", err)
	}
	parent := issuer
	if parent == nil {
		parent = tmpl
	}
	return matchStdlib(t, tmpl, parent, key, issuerKey)
}

// testPKI is a set of issuers and subject keys for the equivalence tests.
type testPKI struct {
	issuers []testIssuer
	keys    []crypto.Signer // RSA-2048, P-256, P-384, P-521
}

type testIssuer struct {
	name string
	cert *x509.Certificate
	key  crypto.Signer
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	p := &testPKI{}
	for _, spec := range []string{KeyRSA2048, KeyECP256, KeyECP384, KeyECP521} {
		p.keys = append(p.keys, mustKey(t, spec))
	}
	subject := pkix.Name{CommonName: "iamra test root", Organization: []string{"iamra"}}
	for _, spec := range []string{KeyRSA2048, KeyECP256, KeyECP384} {
		k := mustKey(t, spec)
		c, err := NewSelfSignedRoot(subject, k, time.Date(1949, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2070, 1, 1, 0, 0, 0, 0, time.UTC), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		p.issuers = append(p.issuers, testIssuer{"root " + spec, c, k})
	}
	// An RSA intermediate with a path length constraint, issued by the
	// P-256 root.
	subKey := mustKey(t, KeyRSA2048)
	sub, err := Issue(p.issuers[1].cert, p.issuers[1].key, IssueRequest{Template: TemplateSubordinateCAPathLen3, PublicKey: subKey.Public(),
		Subject: pkix.Name{CommonName: "iamra test sub", Country: []string{"NL"}}, NotBefore: t0.AddDate(-70, 0, 0), NotAfter: t0.AddDate(40, 0, 0)}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p.issuers = append(p.issuers, testIssuer{"sub RSA pathlen 3", sub, subKey})
	return p
}

// algorithmsFor lists the PCA signing algorithms an issuer's key can use.
func algorithmsFor(issuerKey crypto.Signer) []string {
	var names []string
	for name := range signingAlgorithms {
		if _, err := SignatureAlgorithm(name, issuerKey.Public()); err == nil {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// nameCase is a way of naming the subject of a request.
type nameCase struct {
	name string
	req  func(key crypto.Signer, issuer *x509.Certificate) IssueRequest
}

func nameCases(t testing.TB) []nameCase {
	spiffe := mustURL(t, "spiffe://example.org/ns/default/sa/app")
	allSANs := func(r *x509.CertificateRequest) *x509.CertificateRequest {
		r.DNSNames = []string{"app.example.org", "*.app.example.org"}
		r.IPAddresses = []net.IP{net.IPv4(10, 0, 0, 1), net.ParseIP("2001:db8::1"), net.ParseIP("::ffff:192.0.2.7")}
		r.URIs = []*url.URL{spiffe, mustURL(t, "https://example.org/a?b=c#d")}
		r.EmailAddresses = []string{"app@example.org"}
		return r
	}
	csrCase := func(name string, tmpl func() *x509.CertificateRequest) nameCase {
		return nameCase{name, func(key crypto.Signer, _ *x509.Certificate) IssueRequest {
			return IssueRequest{CSR: mustCSR(t, key, tmpl())}
		}}
	}
	return []nameCase{
		csrCase("CSR subject and every SAN kind", func() *x509.CertificateRequest {
			return allSANs(&x509.CertificateRequest{Subject: pkix.Name{
				CommonName: "app", Organization: []string{"Example", "Second Org"}, OrganizationalUnit: []string{"Dev"},
				Country: []string{"NL"}, Province: []string{"Noord-Holland"}, Locality: []string{"Amsterdam"},
				StreetAddress: []string{"Dam 1"}, PostalCode: []string{"1012 JS"}, SerialNumber: "42",
			}})
		}),
		csrCase("CSR empty subject with SANs", func() *x509.CertificateRequest {
			return allSANs(&x509.CertificateRequest{})
		}),
		csrCase("CSR subject only", func() *x509.CertificateRequest {
			return &x509.CertificateRequest{Subject: pkix.Name{CommonName: "only a subject"}}
		}),
		csrCase("CSR UTF-8 and non-printable subject", func() *x509.CertificateRequest {
			return &x509.CertificateRequest{Subject: pkix.Name{CommonName: "Zoë & *co* @ home", Organization: []string{"a'b(c)"}},
				DNSNames: []string{"x.example"}}
		}),
		csrCase("CSR extra subject attributes", func() *x509.CertificateRequest {
			return &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x", ExtraNames: []pkix.AttributeTypeAndValue{
				{Type: oidTitle, Value: "Engineer"}, {Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}, Value: "example"}}}}
		}),
		{"CSR subject equal to the issuer's", func(key crypto.Signer, issuer *x509.Certificate) IssueRequest {
			return IssueRequest{CSR: mustCSR(t, key, &x509.CertificateRequest{Subject: issuer.Subject, DNSNames: []string{"same.example"}})}
		}},
		{"public key with subject and SANs", func(key crypto.Signer, _ *x509.Certificate) IssueRequest {
			return IssueRequest{PublicKey: key.Public(), Subject: pkix.Name{CommonName: "dev", Organization: []string{"iamra"}},
				DNSNames: []string{"dev.local"}, IPAddresses: []net.IP{net.IPv6loopback}, URIs: []*url.URL{spiffe}, EmailAddresses: []string{"a@b.c"}}
		}},
		{"public key with SANs only", func(key crypto.Signer, _ *x509.Certificate) IssueRequest {
			return IssueRequest{PublicKey: key.Public(), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
		}},
	}
}

// TestEncoderMatchesStdlib compares the TBSCertificate of every template,
// issuer, signing algorithm, subject key type and way of naming the
// subject with crypto/x509's. The full product would take minutes of RSA
// signing, so the issuer × algorithm × template product is crossed with
// the keys, names and CRL settings in rotation, and the names × keys
// product is covered in full for one issuer.
func TestEncoderMatchesStdlib(t *testing.T) {
	pki := newTestPKI(t)
	names := nameCases(t)
	var templates []string
	for _, name := range TemplateNames() {
		if name != TemplateRootCA && name != "RootCACertificate_APIPassthrough/V1" {
			templates = append(templates, name)
		}
	}
	const cdp = "http://127.0.0.1:8443/crl/0123.crl"
	i := 0
	for _, iss := range pki.issuers {
		for _, alg := range algorithmsFor(iss.key) {
			for _, tmpl := range templates {
				if tpl, _ := LookupTemplate(tmpl); tpl.CA && iss.cert.MaxPathLen >= 0 && tpl.PathLen >= iss.cert.MaxPathLen {
					continue // the issuer's path length constraint forbids it
				}
				i++
				key, nc := pki.keys[i%len(pki.keys)], names[i%len(names)]
				req := nc.req(key, iss.cert)
				req.Template, req.SigningAlgorithm = tmpl, alg
				req.NotBefore, req.NotAfter = t0, t0.AddDate(1, 0, 0)
				if i%3 != 0 {
					req.CRLDistributionPoint = cdp
				}
				t.Run(fmt.Sprintf("%s/%s/%s/%s/%s", iss.name, alg, tmpl, keyName(key), nc.name), func(t *testing.T) {
					issueMatches(t, iss.cert, iss.key, req)
				})
			}
		}
	}
	iss := pki.issuers[1]
	for _, nc := range names {
		for _, key := range pki.keys {
			for _, tmpl := range []string{TemplateEndEntity, TemplateBlankEndEntityCSR, TemplateSubordinateCAPathLen0} {
				req := nc.req(key, iss.cert)
				req.Template, req.NotBefore, req.NotAfter, req.CRLDistributionPoint = tmpl, t0, t0.AddDate(1, 0, 0), cdp
				t.Run(fmt.Sprintf("names/%s/%s/%s", nc.name, keyName(key), tmpl), func(t *testing.T) {
					issueMatches(t, iss.cert, iss.key, req)
				})
			}
		}
	}
}

// TestEncoderRootMatchesStdlib covers self-signed roots, from a CSR and
// from a public key, with every algorithm of each root key.
func TestEncoderRootMatchesStdlib(t *testing.T) {
	pki := newTestPKI(t)
	for _, iss := range pki.issuers[:3] {
		for _, alg := range algorithmsFor(iss.key) {
			for _, tmpl := range []string{TemplateRootCA, "RootCACertificate_APIPassthrough/V1"} {
				t.Run(iss.name+"/"+alg+"/"+tmpl, func(t *testing.T) {
					subject := pkix.Name{CommonName: "root " + alg, Organization: []string{"iamra"}}
					csr := mustCSR(t, iss.key, &x509.CertificateRequest{Subject: subject})
					for _, req := range []IssueRequest{
						{CSR: csr, CRLDistributionPoint: "http://ignored.example/crl"},
						{PublicKey: iss.key.Public(), Subject: subject},
					} {
						req.Template, req.SigningAlgorithm, req.NotBefore, req.NotAfter = tmpl, alg, t0, t0.AddDate(10, 0, 0)
						c := issueMatches(t, nil, iss.key, req)
						// crypto/x509 leaves the AKI out when issuer == subject.
						if len(c.AuthorityKeyId) != 0 || len(c.CRLDistributionPoints) != 0 || !c.IsCA || c.MaxPathLen != -1 {
							t.Fatalf("AKI %x CDP %v IsCA %v pathlen %d", c.AuthorityKeyId, c.CRLDistributionPoints, c.IsCA, c.MaxPathLen)
						}
					}
				})
			}
		}
	}
}

// TestEncoderPassthroughMatchesStdlib covers what the passthrough
// templates take from the CSR's extensions and the API's Passthrough.
func TestEncoderPassthroughMatchesStdlib(t *testing.T) {
	pki := newTestPKI(t)
	iss := pki.issuers[1]
	critical := []byte{0x0c, 0x02, 'h', 'i'}
	csrExts := []pkix.Extension{
		{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Value: []byte{0x05, 0x00}},
		{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: critical},
		{Id: oidKeyUsage, Critical: true, Value: []byte{0x03, 0x02, 0x05, 0xa0}},
		{Id: oidExtKeyUsage, Value: []byte{0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x04}},
		{Id: asn1.ObjectIdentifier{2, 5, 29, 32}, Value: []byte{0x30, 0x06, 0x30, 0x04, 0x06, 0x02, 0x2a, 0x03}},
		// Template-owned: dropped.
		{Id: oidBasicConstr, Critical: true, Value: []byte{0x30, 0x03, 0x01, 0x01, 0xff}},
		{Id: oidSKI, Value: []byte{0x04, 0x01, 0x01}},
		{Id: oidAKI, Value: []byte{0x30, 0x03, 0x80, 0x01, 0x01}},
		{Id: oidCDP, Value: []byte{0x30, 0x00}},
		{Id: oidAIA, Value: []byte{0x30, 0x00}},
	}
	apiSubject := &pkix.Name{CommonName: "from-api", Organization: []string{"API"}}
	apiSANs := Passthrough{DNSNames: []string{"api.example"}, IPAddresses: []net.IP{net.IPv4(192, 0, 2, 1), net.ParseIP("2001:db8::2")},
		URIs: []*url.URL{mustURL(t, "urn:example:api")}, EmailAddresses: []string{"api@example.org"}}
	both := apiSANs
	both.Subject = apiSubject
	for _, key := range pki.keys {
		csr := mustCSR(t, key, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "from-csr"}, DNSNames: []string{"csr.example"},
			ExtraExtensions: csrExts})
		emptySubjectCSR := mustCSR(t, key, &x509.CertificateRequest{DNSNames: []string{"csr.example"}})
		for _, tc := range []struct {
			name string
			tmpl string
			csr  *x509.CertificateRequest
			pt   *Passthrough
		}{
			{"blank CSR", TemplateBlankEndEntityCSR, csr, &both},
			{"blank API subject and SANs", TemplateBlankEndEntityAPI, csr, &both},
			{"blank API subject only", TemplateBlankEndEntityAPI, csr, &Passthrough{Subject: apiSubject}},
			{"blank API SANs only", TemplateBlankEndEntityAPI, csr, &apiSANs},
			{"blank API empty subject", TemplateBlankEndEntityAPI, csr, &Passthrough{Subject: &pkix.Name{}}},
			{"blank API SANs on empty subject", TemplateBlankEndEntityAPI, emptySubjectCSR, &apiSANs},
			{"blank APICSR", TemplateBlankEndEntityAPICSR, csr, &both},
			{"blank APICSR no passthrough", TemplateBlankEndEntityAPICSR, csr, nil},
			{"client auth API", "EndEntityClientAuthCertificate_APIPassthrough/V1", csr, &both},
			{"OCSP API", "OCSPSigningCertificate_APIPassthrough/V1", csr, &Passthrough{Subject: apiSubject}},
			{"sub CA API", "SubordinateCACertificate_PathLen2_APIPassthrough/V1", csr, &apiSANs},
		} {
			t.Run(keyName(key)+"/"+tc.name, func(t *testing.T) {
				c := issueMatches(t, iss.cert, iss.key, IssueRequest{Template: tc.tmpl, CSR: tc.csr, Passthrough: tc.pt,
					NotBefore: t0, NotAfter: t0.Add(time.Hour), CRLDistributionPoint: "http://127.0.0.1/crl"})
				copied := 0
				for _, e := range c.Extensions {
					if e.Id.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}) && e.Critical && bytes.Equal(e.Value, critical) {
						copied++
					}
				}
				if want := b2i(tc.csr == csr && tc.tmpl != TemplateBlankEndEntityAPI && tc.tmpl[:5] == "Blank"); copied != want {
					t.Fatalf("CSR extension copied %d times, want %d", copied, want)
				}
				if c.IsCA != (tc.tmpl == "SubordinateCACertificate_PathLen2_APIPassthrough/V1") {
					t.Fatalf("IsCA %v", c.IsCA)
				}
			})
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestEncoderDetails pins encodings crypto/x509 is particular about:
// validity times either side of 1950 and 2050, serial numbers, the SAN
// extension's criticality, RSA KeyEncipherment and the AKI of a subject
// named like its issuer.
func TestEncoderDetails(t *testing.T) {
	pki := newTestPKI(t)
	iss := pki.issuers[1]
	rsaKey, ecKey := pki.keys[0], pki.keys[1]
	utc := func(y int, m time.Month, d, h, mi, s int) time.Time { return time.Date(y, m, d, h, mi, s, 0, time.UTC) }
	t.Run("validity", func(t *testing.T) {
		for _, v := range []struct {
			nb, na       time.Time
			nbTag, naTag cbasn1.Tag
		}{
			{utc(1949, 12, 31, 23, 59, 59), utc(1950, 1, 1, 0, 0, 0), cbasn1.GeneralizedTime, cbasn1.UTCTime},
			{utc(2049, 12, 31, 23, 59, 59), utc(2050, 1, 1, 0, 0, 0), cbasn1.UTCTime, cbasn1.GeneralizedTime},
			{utc(2026, 2, 28, 1, 2, 3).Add(999 * time.Millisecond), utc(2069, 12, 31, 23, 59, 59), cbasn1.UTCTime, cbasn1.GeneralizedTime},
			{time.Date(2030, 6, 1, 1, 0, 0, 0, time.FixedZone("UTC+5", 5*3600)), time.Date(2049, 12, 31, 23, 0, 0, 0, time.FixedZone("UTC-5", -5*3600)),
				cbasn1.UTCTime, cbasn1.GeneralizedTime},
		} {
			c := issueMatches(t, iss.cert, iss.key, IssueRequest{PublicKey: ecKey.Public(), Subject: pkix.Name{CommonName: "v"}, NotBefore: v.nb, NotAfter: v.na})
			if nb, na := validityTags(t, c.RawTBSCertificate); nb != v.nbTag || na != v.naTag {
				t.Fatalf("%v..%v: tags %#x %#x, want %#x %#x", v.nb, v.na, nb, na, v.nbTag, v.naTag)
			}
		}
	})
	t.Run("serials", func(t *testing.T) {
		huge, _ := new(big.Int).SetString("ff"+string(bytes.Repeat([]byte("ee"), 24)), 16)
		for _, s := range []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(127), big.NewInt(128), big.NewInt(255), big.NewInt(256),
			new(big.Int).Lsh(big.NewInt(1), 126), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 127), big.NewInt(1)),
			new(big.Int).Lsh(big.NewInt(1), 159), huge} {
			c := issueMatches(t, iss.cert, iss.key, IssueRequest{PublicKey: ecKey.Public(), Subject: pkix.Name{CommonName: "s"},
				NotBefore: t0, NotAfter: t0.Add(time.Hour), SerialNumber: s})
			if c.SerialNumber.Cmp(s) != 0 {
				t.Fatalf("serial %v, want %v", c.SerialNumber, s)
			}
		}
	})
	t.Run("empty subject makes the SANs critical", func(t *testing.T) {
		c := issueMatches(t, iss.cert, iss.key, IssueRequest{PublicKey: ecKey.Public(), DNSNames: []string{"x.example"}, NotBefore: t0, NotAfter: t0.Add(time.Hour)})
		if !sanCritical(c) {
			t.Fatal("SAN extension not critical")
		}
		c = issueMatches(t, iss.cert, iss.key, IssueRequest{PublicKey: ecKey.Public(), Subject: pkix.Name{CommonName: "x"}, DNSNames: []string{"x.example"}, NotBefore: t0, NotAfter: t0.Add(time.Hour)})
		if sanCritical(c) {
			t.Fatal("SAN extension critical")
		}
	})
	t.Run("KeyEncipherment for RSA subject keys", func(t *testing.T) {
		for _, tc := range []struct {
			tmpl string
			key  crypto.Signer
			want bool
		}{
			{TemplateEndEntity, rsaKey, true}, {TemplateEndEntityServerAuth, rsaKey, true}, {TemplateEndEntity, ecKey, false},
			{TemplateEndEntityClientAuth, rsaKey, false}, {TemplateCodeSigning, rsaKey, false},
		} {
			c := issueMatches(t, iss.cert, iss.key, IssueRequest{Template: tc.tmpl, PublicKey: tc.key.Public(), Subject: pkix.Name{CommonName: "k"}, NotBefore: t0, NotAfter: t0.Add(time.Hour)})
			if got := c.KeyUsage&x509.KeyUsageKeyEncipherment != 0; got != tc.want {
				t.Fatalf("%s %T: KeyEncipherment %v", tc.tmpl, tc.key.Public(), got)
			}
		}
	})
	t.Run("subject named like the issuer gets no AKI", func(t *testing.T) {
		c := issueMatches(t, iss.cert, iss.key, IssueRequest{PublicKey: ecKey.Public(), Subject: iss.cert.Subject, NotBefore: t0, NotAfter: t0.Add(time.Hour)})
		if len(c.AuthorityKeyId) != 0 {
			t.Fatalf("AKI %x", c.AuthorityKeyId)
		}
	})
	t.Run("OCSP no-check", func(t *testing.T) {
		c := issueMatches(t, iss.cert, iss.key, IssueRequest{Template: TemplateOCSPSigning, PublicKey: ecKey.Public(), Subject: pkix.Name{CommonName: "ocsp"}, NotBefore: t0, NotAfter: t0.Add(time.Hour)})
		last := c.Extensions[len(c.Extensions)-1]
		if !last.Id.Equal(oidOCSPNoCheck) || !bytes.Equal(last.Value, asn1NullEncoded) {
			t.Fatalf("last extension %v %x", last.Id, last.Value)
		}
	})
}

func sanCritical(c *x509.Certificate) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(oidSAN) {
			return e.Critical
		}
	}
	return false
}

// validityTags returns the ASN.1 tags of notBefore and notAfter.
func validityTags(t testing.TB, tbs []byte) (cbasn1.Tag, cbasn1.Tag) {
	t.Helper()
	s := cryptobyte.String(tbs)
	var inner, validity cryptobyte.String
	var nb, na cryptobyte.String
	var nbTag, naTag cbasn1.Tag
	if !s.ReadASN1(&inner, cbasn1.SEQUENCE) || !inner.SkipASN1(cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!inner.SkipASN1(cbasn1.INTEGER) || !inner.SkipASN1(cbasn1.SEQUENCE) || !inner.SkipASN1(cbasn1.SEQUENCE) ||
		!inner.ReadASN1(&validity, cbasn1.SEQUENCE) || !validity.ReadAnyASN1(&nb, &nbTag) || !validity.ReadAnyASN1(&na, &naTag) {
		t.Fatalf("cannot read validity of %x", tbs)
	}
	return nbTag, naTag
}

// TestEncoderTemplateFieldsMatchStdlib drives createCertificate with
// hand-made templates for the corners certificateTemplate reaches only
// partly: every KeyUsage combination, extended key usage lists, path
// length constraints, ExtraExtensions replacing an extension, an explicit
// AuthorityKeyId and a parent without a subject key identifier.
func TestEncoderTemplateFieldsMatchStdlib(t *testing.T) {
	pki := newTestPKI(t)
	iss := pki.issuers[1]
	key, err := newSubjectKey(pki.keys[1].Public(), nil)
	if err != nil {
		t.Fatal(err)
	}
	base := func() *x509.Certificate { return handTemplate(key) }
	for ku := x509.KeyUsage(0); ku < 1<<9; ku++ {
		c := base()
		c.KeyUsage = ku
		matchStdlib(t, c, iss.cert, key, iss.key)
	}
	all := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageCodeSigning, x509.ExtKeyUsageOCSPSigning}
	for i := range all {
		c := base()
		c.ExtKeyUsage = all[i:]
		matchStdlib(t, c, iss.cert, key, iss.key)
	}
	for _, pl := range []struct {
		isCA bool
		max  int
		zero bool
	}{{false, -1, false}, {false, 0, false}, {true, -1, false}, {true, 0, false}, {true, 0, true}, {true, 1, false}, {true, 3, true},
		{true, 127, false}, {true, 128, false}, {true, 200, false}, {true, 70000, false}} {
		c := base()
		c.IsCA, c.MaxPathLen, c.MaxPathLenZero = pl.isCA, pl.max, pl.zero
		matchStdlib(t, c, iss.cert, key, iss.key)
	}
	c := base()
	c.BasicConstraintsValid, c.SubjectKeyId = false, nil
	matchStdlib(t, c, iss.cert, key, iss.key)

	c = base()
	c.KeyUsage, c.ExtKeyUsage = x509.KeyUsageDigitalSignature, all
	c.DNSNames = []string{"a.example"}
	c.CRLDistributionPoints = []string{"http://a.example/1.crl", "ldap://b.example/2"}
	c.ExtraExtensions = []pkix.Extension{
		{Id: oidKeyUsage, Critical: true, Value: []byte{0x03, 0x02, 0x07, 0x80}},
		{Id: oidSAN, Value: []byte{0x30, 0x03, 0x82, 0x01, 'b'}},
		{Id: oidAKI, Value: []byte{0x30, 0x03, 0x80, 0x01, 0x01}},
	}
	matchStdlib(t, c, iss.cert, key, iss.key)

	// Self-signed with an explicit AKI, and a parent without an SKI.
	self := base()
	self.AuthorityKeyId = []byte{1, 2, 3}
	selfKey, _ := newSubjectKey(iss.key.Public(), nil)
	matchStdlib(t, self, self, selfKey, iss.key)
	noSKI := *iss.cert
	noSKI.SubjectKeyId = nil
	c = base()
	c.AuthorityKeyId = []byte{4, 5, 6}
	matchStdlib(t, c, &noSKI, key, iss.key)
}

// handTemplate is a minimal end-entity template for key, signed with
// ECDSA and SHA-256.
func handTemplate(key subjectKey) *x509.Certificate {
	return &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "hand"}, NotBefore: t0, NotAfter: t0.Add(time.Hour),
		SignatureAlgorithm: x509.ECDSAWithSHA256, SubjectKeyId: key.id, BasicConstraintsValid: true}
}

// TestEncoderRefusals checks that what cannot be encoded is refused, as
// crypto/x509 refuses it, and that no input panics.
func TestEncoderRefusals(t *testing.T) {
	pki := newTestPKI(t)
	iss := pki.issuers[1]
	key, _ := newSubjectKey(pki.keys[1].Public(), nil)
	for name, mod := range map[string]func(*x509.Certificate){
		"non-ASCII DNS name":        func(c *x509.Certificate) { c.DNSNames = []string{"bücher.example"} },
		"non-ASCII email":           func(c *x509.Certificate) { c.EmailAddresses = []string{"zoë@example.org"} },
		"non-ASCII URI":             func(c *x509.Certificate) { c.URIs = []*url.URL{{Scheme: "urn", Opaque: "zoë"}} },
		"invalid UTF-8 DNS name":    func(c *x509.Certificate) { c.DNSNames = []string{"a\xffb"} },
		"negative serial":           func(c *x509.Certificate) { c.SerialNumber = big.NewInt(-1) },
		"year 10000":                func(c *x509.Certificate) { c.NotAfter = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"year -1":                   func(c *x509.Certificate) { c.NotBefore = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) },
		"path length below -1":      func(c *x509.Certificate) { c.IsCA, c.MaxPathLen = true, -2 },
		"path length on a leaf":     func(c *x509.Certificate) { c.MaxPathLen = 2 },
		"wrong signature algorithm": func(c *x509.Certificate) { c.SignatureAlgorithm = x509.SHA256WithRSA },
		"invalid subject string":    func(c *x509.Certificate) { c.Subject.CommonName = "\xff" },
	} {
		t.Run(name, func(t *testing.T) {
			c := handTemplate(key)
			mod(c)
			if _, err := createCertificate(rand.Reader, c, iss.cert, key.spki, iss.key); err == nil {
				t.Fatal("createCertificate accepted it")
			}
			if _, err := x509.CreateCertificate(rand.Reader, c, iss.cert, key.pub, iss.key); err == nil {
				t.Fatal("x509.CreateCertificate accepted it")
			}
		})
	}
	// What crypto/x509 would encode differently (without the extension,
	// panicking on the nil URI, checking the key later) is refused too.
	for name, tc := range map[string]struct {
		mod    func(*x509.Certificate)
		signer crypto.Signer
	}{
		"unsupported template fields": {func(c *x509.Certificate) { c.OCSPServer = []string{"http://ocsp.example"} }, iss.key},
		"nil URI":                     {func(c *x509.Certificate) { c.URIs = []*url.URL{nil} }, iss.key},
		"key not matching the issuer": {func(*x509.Certificate) {}, pki.keys[1]},
	} {
		c := handTemplate(key)
		tc.mod(c)
		if _, err := createCertificate(rand.Reader, c, iss.cert, key.spki, tc.signer); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
}

// TestEncoderAlgorithms checks that every PCA signing algorithm has an
// encoding (the equivalence tests check the encodings themselves).
func TestEncoderAlgorithms(t *testing.T) {
	for name, alg := range signingAlgorithms {
		if _, ok := certSigAlgs[alg]; !ok {
			t.Errorf("%s (%v) has no certificate encoding", name, alg)
		}
	}
	if len(certSigAlgs) != len(signingAlgorithms) {
		t.Errorf("%d encodings for %d algorithms", len(certSigAlgs), len(signingAlgorithms))
	}
}

// TestSubjectKeyFromCSR checks that a CSR's SubjectPublicKeyInfo is used
// as it is only when it is what crypto/x509 would write, and that the key
// identifier is the same either way.
func TestSubjectKeyFromCSR(t *testing.T) {
	pki := newTestPKI(t)
	for _, k := range pki.keys {
		canonical, err := x509.MarshalPKIXPublicKey(k.Public())
		if err != nil {
			t.Fatal(err)
		}
		want, err := SubjectKeyID(k.Public())
		if err != nil {
			t.Fatal(err)
		}
		csr := mustCSR(t, k, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "k"}})
		got, err := newSubjectKey(csr.PublicKey, csr.RawSubjectPublicKeyInfo)
		if err != nil || !bytes.Equal(got.spki, canonical) || !bytes.Equal(got.id, want) {
			t.Fatalf("%T: %v %x %x", k.Public(), err, got.spki, got.id)
		}
		if &got.spki[0] != &csr.RawSubjectPublicKeyInfo[0] {
			t.Errorf("%T: the CSR's SubjectPublicKeyInfo was not used as it is", k.Public())
		}
		other := pki.keys[(slices.Index(pki.keys, k)+1)%len(pki.keys)]
		otherSPKI, _ := x509.MarshalPKIXPublicKey(other.Public())
		for name, raw := range nonCanonicalSPKIs(canonical) {
			got, err := newSubjectKey(k.Public(), raw)
			if err != nil || !bytes.Equal(got.spki, canonical) || !bytes.Equal(got.id, want) {
				t.Errorf("%T %s: %v, spki %x", k.Public(), name, err, got.spki)
			}
		}
		if got, err := newSubjectKey(k.Public(), otherSPKI); err != nil || !bytes.Equal(got.spki, canonical) {
			t.Errorf("%T: another key's SPKI was used: %v", k.Public(), err)
		}
	}
}

// nonCanonicalSPKIs varies a DER SubjectPublicKeyInfo in ways parsers may
// accept and crypto/x509 never writes.
func nonCanonicalSPKIs(spki []byte) map[string][]byte {
	alg, keyBits, _ := splitSPKI(spki)
	build := func(f func(b *cryptobyte.Builder)) []byte {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, f)
		return b.BytesOrPanic()
	}
	return map[string][]byte{
		"trailing data": append(bytes.Clone(spki), 0),
		"extra element": build(func(b *cryptobyte.Builder) {
			b.AddBytes(alg)
			b.AddASN1BitString(keyBits)
			b.AddASN1NULL()
		}),
		"key bits with trailing data": build(func(b *cryptobyte.Builder) {
			b.AddBytes(alg)
			b.AddASN1BitString(append(bytes.Clone(keyBits), 0))
		}),
		"unused bits": build(func(b *cryptobyte.Builder) {
			b.AddBytes(alg)
			b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
				b.AddUint8(1)
				b.AddBytes(keyBits[:len(keyBits)-1])
				b.AddUint8(keyBits[len(keyBits)-1] &^ 1)
			})
		}),
		"not DER": {0x30, 0x80, 0x00, 0x00},
		"empty":   {},
	}
}

// TestIssueNonCanonicalCSRKey issues from CSRs whose SubjectPublicKeyInfo
// Go parses but would not have written, and checks the certificate is
// crypto/x509's all the same.
func TestIssueNonCanonicalCSRKey(t *testing.T) {
	pki := newTestPKI(t)
	iss := pki.issuers[1]
	for _, k := range pki.keys {
		canonical, _ := x509.MarshalPKIXPublicKey(k.Public())
		for name, spki := range nonCanonicalSPKIs(canonical) {
			csr, err := x509.ParseCertificateRequest(handMadeCSR(t, k, spki))
			if err != nil {
				continue // Go refuses this one: nothing to issue
			}
			t.Run(keyName(k)+"/"+name, func(t *testing.T) {
				c := issueMatches(t, iss.cert, iss.key, IssueRequest{CSR: csr, NotBefore: t0, NotAfter: t0.Add(time.Hour)})
				if !bytes.Equal(c.RawSubjectPublicKeyInfo, canonical) {
					t.Fatalf("SPKI %x", c.RawSubjectPublicKeyInfo)
				}
			})
		}
	}
}

// handMadeCSR signs a PKCS#10 request (RFC 2986) for key with the given
// SubjectPublicKeyInfo bytes, which x509.CreateCertificateRequest would
// not let through.
func handMadeCSR(t testing.TB, key crypto.Signer, spki []byte) []byte {
	t.Helper()
	name, _ := asn1.Marshal(pkix.Name{CommonName: "hand made"}.ToRDNSequence())
	var info cryptobyte.Builder
	info.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddBytes(name)
		b.AddBytes(spki)
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(*cryptobyte.Builder) {})
	})
	return signCSRInfo(t, key, info.BytesOrPanic())
}

// signCSRInfo signs a CertificationRequestInfo, whatever it holds, with
// SHA-256 and key, and returns the CertificationRequest.
func signCSRInfo(t testing.TB, key crypto.Signer, info []byte) []byte {
	t.Helper()
	alg := certSigAlgs[x509.SHA256WithRSA]
	if publicKeyFamily(key.Public()) == x509.ECDSA {
		alg = certSigAlgs[x509.ECDSAWithSHA256]
	}
	digest, err := hashOf(crypto.SHA256, info)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := key.Sign(rand.Reader, digest, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := signedDER(info, alg.id, sig)
	if err != nil {
		t.Fatal(err)
	}
	return csr
}

// externalSigner is a crypto.Signer that is not one of Go's key types, as
// a PKCS#11 or remote signer is. mangle, when set, alters its signatures.
type externalSigner struct {
	crypto.Signer
	mangle func(sig []byte) []byte
}

func (s *externalSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	sig, err := s.Signer.Sign(r, digest, opts)
	if err != nil || s.mangle == nil {
		return sig, err
	}
	return s.mangle(sig), nil
}

// rawECDSA turns an ASN.1 ECDSA signature into r||s, what PKCS#11's
// CKM_ECDSA returns and a careless module would pass on.
func rawECDSA(size int) func([]byte) []byte {
	return func(sig []byte) []byte {
		s := cryptobyte.String(sig)
		var inner cryptobyte.String
		r, ss := new(big.Int), new(big.Int)
		if !s.ReadASN1(&inner, cbasn1.SEQUENCE) || !inner.ReadASN1Integer(r) || !inner.ReadASN1Integer(ss) {
			return nil
		}
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		ss.FillBytes(out[size:])
		return out
	}
}

// TestExternalSignersAreVerified checks the self-check policy: a signer
// that is not a Go key has its signatures verified, and a bad one is
// refused with the error x509.CreateCertificate's check used to give.
func TestExternalSignersAreVerified(t *testing.T) {
	pki := newTestPKI(t)
	flip := func(sig []byte) []byte {
		sig = bytes.Clone(sig)
		sig[len(sig)-1] ^= 1
		return sig
	}
	for _, iss := range pki.issuers[:3] {
		wrongSig, err := mustKey(t, keyName(iss.key)).Sign(rand.Reader, make([]byte, 32), crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		mangles := map[string]func([]byte) []byte{
			"flipped bit": flip,
			"empty":       func([]byte) []byte { return nil },
			"wrong key":   func([]byte) []byte { return wrongSig },
		}
		if pub, ok := iss.key.Public().(*ecdsa.PublicKey); ok {
			mangles["PKCS#11 r||s"] = rawECDSA((pub.Curve.Params().BitSize + 7) / 8)
		}
		for _, alg := range algorithmsFor(iss.key) {
			req := IssueRequest{Template: TemplateEndEntityClientAuth, PublicKey: pki.keys[1].Public(), Subject: pkix.Name{CommonName: "leaf"},
				NotBefore: t0, NotAfter: t0.Add(time.Hour), SigningAlgorithm: alg}
			t.Run(iss.name+"/"+alg+"/good", func(t *testing.T) {
				c, err := Issue(iss.cert, &externalSigner{Signer: iss.key}, req, rand.Reader)
				if err != nil {
					t.Fatal(err)
				}
				if err := c.CheckSignatureFrom(iss.cert); err != nil {
					t.Fatal(err)
				}
			})
			for name, mangle := range mangles {
				t.Run(iss.name+"/"+alg+"/"+name, func(t *testing.T) {
					c, err := Issue(iss.cert, &externalSigner{Signer: iss.key, mangle: mangle}, req, rand.Reader)
					if err == nil {
						t.Fatalf("issued %v with a bad signature", c.Subject)
					}
					wantSignFailure(t, err)
				})
			}
		}
		t.Run(iss.name+"/self-signed root", func(t *testing.T) {
			_, err := NewSelfSignedRoot(pkix.Name{CommonName: "r"}, &externalSigner{Signer: iss.key, mangle: flip}, t0, t0.AddDate(1, 0, 0), rand.Reader)
			wantSignFailure(t, err)
		})
	}
}

func wantSignFailure(t *testing.T, err error) {
	t.Helper()
	e := awserr.As(err)
	if e.Code != CodeRequestFailed || e.Message != "The certificate could not be signed." || e.Reason != "ca.issue.sign" || e.Status != 400 {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(e.Detail, "signature returned by signer is invalid") {
		t.Fatalf("detail %q", e.Detail)
	}
}

// TestEncodedNameMatchesASN1 compares encodedName with asn1.Marshal of the
// same RDNs on subjects with every pkix.Name field, several values of one
// type (a multi-valued RDN, which DER sorts), extra names of strings and
// of other types, strings PrintableString cannot hold, and values neither
// can encode.
func TestEncodedNameMatchesASN1(t *testing.T) {
	title := asn1.ObjectIdentifier{2, 5, 4, 12}
	names := []struct {
		name pkix.Name
		fast bool // marshalName encodes it itself
	}{
		{pkix.Name{}, true},
		{pkix.Name{CommonName: "bench"}, true},
		{pkix.Name{Country: []string{"US"}, Organization: []string{"Example"}, OrganizationalUnit: []string{"ops", "dev", "a"},
			Locality: []string{"Seattle"}, Province: []string{"WA"}, StreetAddress: []string{"1 Main St"}, PostalCode: []string{"98101"},
			CommonName: "client", SerialNumber: "42"}, true},
		{pkix.Name{CommonName: "a*b", Organization: []string{"R&D", "Ünïcode", ""}}, true},
		{pkix.Name{CommonName: "x", ExtraNames: []pkix.AttributeTypeAndValue{{Type: title, Value: "boss"}, {Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "extra cn"}}}, true},
		{pkix.Name{CommonName: "x", ExtraNames: []pkix.AttributeTypeAndValue{{Type: title, Value: 7}}}, false},
		{pkix.Name{CommonName: "bad \xff"}, false},
		{pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{3, 1}, Value: "bad oid"}}}, false},
	}
	for _, n := range names {
		want, wantErr := asn1.Marshal(n.name.ToRDNSequence())
		got, err := encodedName(&x509.Certificate{Subject: n.name})
		if !bytes.Equal(got, want) || (err == nil) != (wantErr == nil) {
			t.Errorf("%v: encodedName %x (%v), asn1.Marshal %x (%v)", n.name, got, err, want, wantErr)
		}
		if _, ok := marshalName(n.name.ToRDNSequence()); ok != n.fast {
			t.Errorf("%v: marshalName ok = %v", n.name, ok)
		}
	}
}

// BenchmarkEncodedName encodes a CSR's subject (C, O, CN) with encodedName,
// as a multiple of asn1.Marshal measured in the same run ("x-asn1").
func BenchmarkEncodedName(b *testing.B) {
	c := &x509.Certificate{Subject: pkix.Name{Country: []string{"US"}, Organization: []string{"Example"}, CommonName: "client"}}
	benchAgainst(b, "x-asn1", func() error {
		_, err := asn1.Marshal(c.Subject.ToRDNSequence())
		return err
	}, func() error {
		_, err := encodedName(c)
		return err
	})
}

// signedDER wraps signed content the X.509 way (RFC 5280 §4.1, and PKCS#10
// alike): SEQUENCE { content, signatureAlgorithm, signature BIT STRING }.
func signedDER(content, algID, sig []byte) ([]byte, error) {
	w := derWriter{b: make([]byte, 0, len(content)+len(algID)+len(sig)+16)}
	m := w.begin(cbasn1.SEQUENCE)
	w.raw(content)
	w.raw(algID)
	w.bitString(sig)
	w.end(m)
	return w.b, w.err
}
