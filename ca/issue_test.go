package ca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/iamra/iamra/awserr"
)

var t0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func mustKey(t testing.TB, spec string) crypto.Signer {
	t.Helper()
	k, err := GenerateKey(spec, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustRoot(t testing.TB) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	k := mustKey(t, KeyECP256)
	c, err := NewSelfSignedRoot(pkix.Name{CommonName: "iamra test root", Organization: []string{"iamra"}}, k, t0, t0.AddDate(10, 0, 0), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return c, k
}

func mustCSR(t testing.TB, key crypto.Signer, tmpl *x509.CertificateRequest) *x509.CertificateRequest {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	return csr
}

func TestGenerateKey(t *testing.T) {
	for _, spec := range []string{KeyRSA2048, KeyECP256, KeyECP384, KeyECP521} {
		k := mustKey(t, spec)
		got, err := KeyAlgorithmOf(k.Public())
		if err != nil || got != spec {
			t.Errorf("%s: KeyAlgorithmOf = %q, %v", spec, got, err)
		}
	}
	_, err := GenerateKey("ED25519", rand.Reader)
	if err == nil || err.Error() != `InvalidArgsException: The key algorithm "ED25519" is not supported. [ca.key.algorithm] (The key algorithm "ED25519" is not supported.)` {
		t.Fatalf("err = %v", err)
	}
}

func TestSelfSignedRootMeetsTrustAnchorRules(t *testing.T) {
	root, _ := mustRoot(t)
	if root.Version != 3 || !root.BasicConstraintsValid || !root.IsCA {
		t.Fatalf("not a v3 CA: %+v", root)
	}
	if root.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Fatalf("key usage %b", root.KeyUsage)
	}
	if len(root.SubjectKeyId) != 20 || root.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		t.Fatalf("SKI %x, alg %v", root.SubjectKeyId, root.SignatureAlgorithm)
	}
	if root.MaxPathLen != -1 || len(root.CRLDistributionPoints) != 0 {
		t.Fatalf("pathlen %d, CDP %v", root.MaxPathLen, root.CRLDistributionPoints)
	}
	if err := root.CheckSignatureFrom(root); err != nil {
		t.Fatal(err)
	}
}

func TestIssueFromCSR(t *testing.T) {
	root, rootKey := mustRoot(t)
	for _, tc := range []struct {
		template string
		spec     string
		ku       x509.KeyUsage
		eku      []x509.ExtKeyUsage
	}{
		{TemplateEndEntityClientAuth, KeyECP256, x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
		{TemplateEndEntity, KeyRSA2048, x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			[]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}},
		{TemplateEndEntity, KeyECP384, x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}},
		{"arn:aws:acm-pca:::template/EndEntityServerAuthCertificate/V1", KeyECP256, x509.KeyUsageDigitalSignature,
			[]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
	} {
		t.Run(tc.template+"/"+tc.spec, func(t *testing.T) {
			k := mustKey(t, tc.spec)
			u, _ := url.Parse("spiffe://example.org/ns/default/sa/app")
			csr := mustCSR(t, k, &x509.CertificateRequest{
				Subject:  pkix.Name{CommonName: "app", Organization: []string{"Example"}},
				DNSNames: []string{"app.example.org"}, IPAddresses: []net.IP{net.IPv4(10, 0, 0, 1)}, URIs: []*url.URL{u},
			})
			c, err := Issue(root, rootKey, IssueRequest{Template: tc.template, CSR: csr, NotBefore: t0, NotAfter: t0.Add(24 * time.Hour),
				CRLDistributionPoint: "http://127.0.0.1:8443/crl/abc.crl"}, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			if c.IsCA || !c.BasicConstraintsValid || c.KeyUsage != tc.ku || len(c.ExtKeyUsage) != len(tc.eku) {
				t.Fatalf("IsCA %v KU %b EKU %v", c.IsCA, c.KeyUsage, c.ExtKeyUsage)
			}
			for i := range tc.eku {
				if c.ExtKeyUsage[i] != tc.eku[i] {
					t.Fatalf("EKU %v", c.ExtKeyUsage)
				}
			}
			if c.Subject.CommonName != "app" || c.DNSNames[0] != "app.example.org" || !c.IPAddresses[0].Equal(net.IPv4(10, 0, 0, 1)) || c.URIs[0].String() != u.String() {
				t.Fatalf("names: %v %v %v %v", c.Subject, c.DNSNames, c.IPAddresses, c.URIs)
			}
			if c.CRLDistributionPoints[0] != "http://127.0.0.1:8443/crl/abc.crl" || string(c.AuthorityKeyId) != string(root.SubjectKeyId) {
				t.Fatalf("CDP %v AKI %x", c.CRLDistributionPoints, c.AuthorityKeyId)
			}
			pool := x509.NewCertPool()
			pool.AddCert(root)
			if _, err := c.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: t0.Add(time.Hour), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestIssueErrors(t *testing.T) {
	root, rootKey := mustRoot(t)
	ok := mustKey(t, KeyECP256)
	okCSR := mustCSR(t, ok, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}})
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	tampered := *okCSR
	tampered.Signature = append([]byte{}, okCSR.Signature...)
	tampered.Signature[len(tampered.Signature)-1] ^= 1
	pathLen0, pathLen0Key := root, rootKey
	{
		k := mustKey(t, KeyECP256)
		c, err := Issue(root, rootKey, IssueRequest{Template: TemplateSubordinateCAPathLen0, PublicKey: k.Public(),
			Subject: pkix.Name{CommonName: "sub"}, NotBefore: t0, NotAfter: t0.AddDate(1, 0, 0)}, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pathLen0, pathLen0Key = c, k
	}
	for _, tc := range []struct {
		name      string
		issuer    *x509.Certificate
		issuerKey crypto.Signer
		req       IssueRequest
		want      string
	}{
		{"unknown template", root, rootKey, IssueRequest{Template: "Nope/V1", CSR: okCSR, NotBefore: t0, NotAfter: t0.Add(time.Hour)},
			"InvalidArgsException: The template Nope/V1 is not supported. [ca.template.unknown] (The template Nope/V1 is not supported.)"},
		{"bad template ARN", root, rootKey, IssueRequest{Template: "arn:aws:iam:::template/EndEntityCertificate/V1", CSR: okCSR, NotBefore: t0, NotAfter: t0.Add(time.Hour)},
			"InvalidArnException: The template ARN is not valid. [ca.template.arn] (template ARN \"arn:aws:iam:::template/EndEntityCertificate/V1\" is not of the form arn:<partition>:acm-pca:::template/<name>/V1)"},
		{"tampered CSR", root, rootKey, IssueRequest{CSR: &tampered, NotBefore: t0, NotAfter: t0.Add(time.Hour)},
			"MalformedCSRException: The certificate signing request is invalid. [ca.csr.signature] (CSR signature does not verify: x509: ECDSA verification failure)"},
		{"RSA 1024", root, rootKey, IssueRequest{CSR: mustCSR(t, small, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}), NotBefore: t0, NotAfter: t0.Add(time.Hour)},
			"MalformedCSRException: The certificate signing request is invalid. [ca.csr.key] (RSA keys must be at least 2048 bits; this one has 1024.)"},
		{"P-224", root, rootKey, IssueRequest{PublicKey: p224.Public(), Subject: pkix.Name{CommonName: "x"}, NotBefore: t0, NotAfter: t0.Add(time.Hour)},
			"InvalidArgsException: The elliptic curve P-224 is not supported; use P-256, P-384 or P-521. [ca.key.curve] (The elliptic curve P-224 is not supported; use P-256, P-384 or P-521.)"},
		{"no name", root, rootKey, IssueRequest{CSR: mustCSR(t, ok, &x509.CertificateRequest{}), NotBefore: t0, NotAfter: t0.Add(time.Hour)},
			"MalformedCSRException: The certificate signing request is invalid. [ca.csr.no_name] (the CSR has neither a subject nor a subject alternative name)"},
		{"beyond CA", root, rootKey, IssueRequest{CSR: okCSR, NotBefore: t0, NotAfter: t0.AddDate(11, 0, 0)},
			"InvalidArgsException: The certificate validity specified exceeds the certificate authority validity (2036-11-20T12:00:00Z). [ca.validity.beyond_ca] (The certificate validity specified exceeds the certificate authority validity (2036-11-20T12:00:00Z).)"},
		{"inverted validity", root, rootKey, IssueRequest{CSR: okCSR, NotBefore: t0, NotAfter: t0},
			"InvalidArgsException: The certificate's validity must end after it begins. [ca.validity.order] (The certificate's validity must end after it begins.)"},
		{"root template for another key", root, rootKey, IssueRequest{Template: TemplateRootCA, CSR: okCSR, NotBefore: t0, NotAfter: t0.Add(time.Hour)},
			"InvalidArgsException: The RootCACertificate/V1 template can only be used by a root CA to issue its own certificate from its own CSR. [ca.template.root_not_self] (The RootCACertificate/V1 template can only be used by a root CA to issue its own certificate from its own CSR.)"},
		{"self-signed end entity", nil, ok, IssueRequest{CSR: okCSR, NotBefore: t0, NotAfter: t0.Add(time.Hour)},
			"InvalidArgsException: The EndEntityCertificate/V1 template cannot be used for a self-signed certificate. [ca.template.not_root] (The EndEntityCertificate/V1 template cannot be used for a self-signed certificate.)"},
		{"path length", pathLen0, pathLen0Key, IssueRequest{Template: TemplateSubordinateCAPathLen0, CSR: okCSR, NotBefore: t0, NotAfter: t0.Add(time.Hour)},
			"InvalidArgsException: The SubordinateCACertificate_PathLen0/V1 template needs a path length below the issuing CA's path length constraint of 0. [ca.template.path_len] (The SubordinateCACertificate_PathLen0/V1 template needs a path length below the issuing CA's path length constraint of 0.)"},
		{"RSA algorithm for EC CA", root, rootKey, IssueRequest{CSR: okCSR, NotBefore: t0, NotAfter: t0.Add(time.Hour), SigningAlgorithm: SHA256WithRSA},
			"InvalidArgsException: The signing algorithm SHA256WITHRSA does not match the algorithm family of the CA's key. [ca.signing_algorithm.family] (The signing algorithm SHA256WITHRSA does not match the algorithm family of the CA's key.)"},
		{"wrong issuer key", root, ok, IssueRequest{CSR: okCSR, NotBefore: t0, NotAfter: t0.Add(time.Hour)},
			"InvalidStateException: The CA's key does not match its certificate. [ca.issuer.key_mismatch] (issuer key does not match certificate CN=iamra test root,O=iamra)"},
		{"passthrough name that is not IA5", root, rootKey, IssueRequest{Template: TemplateBlankEndEntityAPI, CSR: okCSR, NotBefore: t0, NotAfter: t0.Add(time.Hour),
			Passthrough: &Passthrough{DNSNames: []string{"bücher.example"}}},
			`RequestFailedException: The certificate could not be signed. [ca.issue.sign] (signing the certificate: "bücher.example" cannot be encoded as an IA5String)`},
		{"passthrough URI crypto/x509 cannot read back", root, rootKey, IssueRequest{Template: TemplateBlankEndEntityAPI, CSR: okCSR, NotBefore: t0, NotAfter: t0.Add(time.Hour),
			Passthrough: &Passthrough{URIs: []*url.URL{{Scheme: "http", Host: "a..b", Path: "/"}}}},
			`RequestFailedException: The certificate could not be signed. [ca.issue.parse] (parsing the signed certificate: x509: cannot parse URI "http://a..b/": invalid domain)`},
		{"passthrough IP crypto/x509 cannot read back", root, rootKey, IssueRequest{Template: TemplateBlankEndEntityAPI, CSR: okCSR, NotBefore: t0, NotAfter: t0.Add(time.Hour),
			Passthrough: &Passthrough{IPAddresses: []net.IP{{10, 0, 0, 0, 1}}}},
			`RequestFailedException: The certificate could not be signed. [ca.issue.parse] (parsing the signed certificate: x509: cannot parse IP address of length 5)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// issueForRecord, which parses the certificate back only where it
			// must, refuses alike.
			_, err := issueForRecord(tc.issuer, tc.issuerKey, tc.req, rand.Reader)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("issueForRecord: got  %v\nwant %s", err, tc.want)
			}
			c, err := Issue(tc.issuer, tc.issuerKey, tc.req, rand.Reader)
			if err == nil {
				t.Fatalf("issued %v", c.Subject)
			}
			if err.Error() != tc.want {
				t.Fatalf("got  %s\nwant %s", err, tc.want)
			}
			if e := awserr.As(err); e.Status != 400 {
				t.Fatalf("status %d", e.Status)
			}
		})
	}
}

func TestPassthroughAndBlankTemplates(t *testing.T) {
	root, rootKey := mustRoot(t)
	k := mustKey(t, KeyECP256)
	csr := mustCSR(t, k, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "from-csr"}, DNSNames: []string{"csr.example"},
		ExtraExtensions: []pkix.Extension{{Id: oidBasicConstr, Critical: true, Value: []byte{0x30, 0x03, 0x01, 0x01, 0xff}}}})
	pt := &Passthrough{Subject: &pkix.Name{CommonName: "from-api"}, DNSNames: []string{"api.example"}}
	// Plain templates ignore the passthrough.
	c, err := Issue(root, rootKey, IssueRequest{CSR: csr, NotBefore: t0, NotAfter: t0.Add(time.Hour), Passthrough: pt}, rand.Reader)
	if err != nil || c.Subject.CommonName != "from-csr" || c.DNSNames[0] != "csr.example" {
		t.Fatalf("%v %v", c, err)
	}
	c, err = Issue(root, rootKey, IssueRequest{Template: "EndEntityClientAuthCertificate_APIPassthrough/V1", CSR: csr, NotBefore: t0, NotAfter: t0.Add(time.Hour), Passthrough: pt}, rand.Reader)
	if err != nil || c.Subject.CommonName != "from-api" || len(c.DNSNames) != 1 || c.DNSNames[0] != "api.example" {
		t.Fatalf("%v %v", c, err)
	}
	// A CSR cannot make itself a CA through a passthrough template.
	c, err = Issue(root, rootKey, IssueRequest{Template: TemplateBlankEndEntityCSR, CSR: csr, NotBefore: t0, NotAfter: t0.Add(time.Hour)}, rand.Reader)
	if err != nil || c.IsCA {
		t.Fatalf("%v IsCA=%v", err, c.IsCA)
	}
}

func TestSubordinateChain(t *testing.T) {
	root, rootKey := mustRoot(t)
	subKey := mustKey(t, KeyRSA2048)
	sub, err := Issue(root, rootKey, IssueRequest{Template: TemplateSubordinateCAPathLen0, PublicKey: subKey.Public(),
		Subject: pkix.Name{CommonName: "sub"}, NotBefore: t0.Add(-time.Hour), NotAfter: t0.AddDate(1, 0, 0)}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if !sub.IsCA || sub.MaxPathLen != 0 || !sub.MaxPathLenZero || !sub.NotBefore.Equal(root.NotBefore) {
		t.Fatalf("sub: IsCA %v pathlen %d/%v notBefore %v", sub.IsCA, sub.MaxPathLen, sub.MaxPathLenZero, sub.NotBefore)
	}
	leafKey := mustKey(t, KeyECP256)
	leaf, err := Issue(sub, subKey, IssueRequest{Template: TemplateEndEntityClientAuth, PublicKey: leafKey.Public(),
		Subject: pkix.Name{CommonName: "leaf"}, NotBefore: t0, NotAfter: t0.Add(time.Hour), SigningAlgorithm: SHA384WithRSAPSS}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root)
	inter.AddCert(sub)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: t0.Add(time.Minute),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatal(err)
	}
}

// Serials ascend with time whatever their random part, so that records
// issued one after the other sit together in the store's index; the
// random part is 80 bits.
func TestNewSerial(t *testing.T) {
	at := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	ones := bytes.NewReader(bytes.Repeat([]byte{0xff}, 10))
	hi, err := NewSerial(at, ones)
	if err != nil {
		t.Fatal(err)
	}
	want := new(big.Int).Lsh(big.NewInt(at.UnixMilli()), 80)
	want.Add(want, new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 80), big.NewInt(1)))
	if hi.Cmp(want) != 0 {
		t.Fatalf("NewSerial = %x, want %x", hi, want)
	}
	lo, err := NewSerial(at.Add(time.Millisecond), bytes.NewReader(make([]byte, 10)))
	if err != nil {
		t.Fatal(err)
	}
	if lo.Cmp(hi) <= 0 {
		t.Fatalf("a serial a millisecond later (%x) is not above the one before (%x)", lo, hi)
	}
	// Before 1970 the time part is 0; the serial stays positive.
	early, err := NewSerial(time.Unix(-5, 0), rand.Reader)
	if err != nil || early.Sign() <= 0 || early.BitLen() > 80 {
		t.Fatalf("NewSerial before 1970 = %v, %v", early, err)
	}
	if _, err := NewSerial(at, bytes.NewReader(nil)); err == nil {
		t.Fatal("no randomness, no serial")
	}
}
