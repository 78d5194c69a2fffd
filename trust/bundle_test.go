package trust

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/trust/trusttest"
)

var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// wantErr asserts err is an *awserr.Error with exactly this code, reason
// and message/detail; an empty reason means err must be nil.
func wantErr(t *testing.T, err error, code, reason, message, detail string) {
	t.Helper()
	if reason == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	e, ok := err.(*awserr.Error)
	if !ok {
		t.Fatalf("want *awserr.Error %s, got %T %v", reason, err, err)
	}
	if e.Code != code || e.Reason != reason || e.Message != message || e.Detail != detail {
		t.Fatalf("got  %s / %s / %q / %q\nwant %s / %s / %q / %q", e.Code, e.Reason, e.Message, e.Detail, code, reason, message, detail)
	}
	want := map[string]int{"ValidationException": 400, "AccessDeniedException": 403}[code]
	if e.Status != want {
		t.Fatalf("status %d, want %d", e.Status, want)
	}
}

func TestName(t *testing.T) {
	pki := trusttest.New(t, rand.Reader, testNow)
	c := pki.Root("Root", trusttest.Serial(big.NewInt(0x123)), trusttest.Template(func(c *x509.Certificate) {
		c.Subject.Organization = []string{"Example"}
	}))
	if got, want := Name(c.Cert), `"CN=Root,O=Example" (serial 0123)`; got != want {
		t.Fatalf("Name = %s, want %s", got, want)
	}
}

func TestParseAnchorBundle(t *testing.T) {
	pki := trusttest.New(t, rand.Reader, testNow)
	root := pki.Root("Root")
	root2 := pki.Root("Root 2", trusttest.WithKeyType(trusttest.P384))
	rsaRoot := pki.Root("RSA Root", trusttest.WithKeyType(trusttest.RSA2048))
	inter := pki.Intermediate(root, "Intermediate")
	future := pki.Root("Future", trusttest.Validity(testNow.Add(time.Hour), testNow.AddDate(1, 0, 0)))
	expired := pki.Root("Expired", trusttest.Validity(testNow.AddDate(-2, 0, 0), testNow.AddDate(-1, 0, 0)))
	v1 := pki.Root("V1", trusttest.Version1())
	noBC := pki.Root("NoBC", trusttest.Template(func(c *x509.Certificate) { c.BasicConstraintsValid, c.IsCA = false, false }))
	notCA := pki.Root("NotCA", trusttest.Template(func(c *x509.Certificate) { c.IsCA = false }))
	noKU := pki.Root("NoKU", trusttest.Template(func(c *x509.Certificate) { c.KeyUsage = 0 }))
	noCertSign := pki.Root("NoCertSign", trusttest.Template(func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageCRLSign }))
	sha1 := pki.Root("SHA1", trusttest.WithKeyType(trusttest.RSA2048), trusttest.SignatureAlgorithm(x509.SHA1WithRSA))
	ecSHA1 := pki.Root("ECSHA1", trusttest.SignatureAlgorithm(x509.ECDSAWithSHA1))
	rsa1024 := pki.Root("RSA1024", trusttest.WithKeyType(trusttest.RSA1024))
	p224 := pki.Root("P224", trusttest.WithKeyType(trusttest.P224))
	ed := pki.Root("Ed", trusttest.WithKeyType(trusttest.Ed25519))
	leaf := pki.Leaf(root, "leaf")

	const msg = "Invalid certificate bundle: "
	bad := func(c *trusttest.Cert, what string) string {
		return fmt.Sprintf("certificate 1 %s %s", Name(c.Cert), what)
	}
	keyPEM := "-----BEGIN PRIVATE KEY-----\nTUlJ\n-----END PRIVATE KEY-----\n"
	for _, tc := range []struct {
		name   string
		pem    string
		reason string
		detail string
		count  int
	}{
		{name: "root", pem: root.PEM(), count: 1},
		{name: "two roots", pem: root.PEM() + root2.PEM(), count: 2},
		{name: "rsa root", pem: rsaRoot.PEM(), count: 1},
		{name: "intermediate as anchor", pem: inter.PEM(), count: 1},
		{name: "not yet valid is staged", pem: future.PEM(), count: 1},
		{name: "whitespace around and CRLF", pem: "\r\n  " + strings.ReplaceAll(root.PEM(), "\n", "\r\n") + "\n\n" + root2.PEM() + " \t\n", count: 2},
		{name: "too large", pem: strings.Repeat(" ", 16001), reason: ReasonAnchorTooLarge, detail: "the bundle is 16001 characters long; the maximum is 16000"},
		{name: "empty", pem: "", reason: ReasonAnchorCount, detail: "no PEM certificate found"},
		{name: "blank", pem: " \n", reason: ReasonAnchorCount, detail: "no PEM certificate found"},
		{name: "garbage before", pem: "hello\n" + root.PEM(), reason: ReasonAnchorPEM, detail: "the data does not start with a PEM BEGIN line"},
		{name: "garbage after", pem: root.PEM() + "x", reason: ReasonAnchorPEM, detail: "unexpected data after PEM block 1"},
		{name: "garbage between", pem: root.PEM() + "--\n" + root2.PEM(), reason: ReasonAnchorPEM, detail: "unexpected data after PEM block 1"},
		{name: "no END", pem: strings.TrimSuffix(root.PEM(), "-----END CERTIFICATE-----\n"), reason: ReasonAnchorPEM, detail: "PEM block 1 has no END line"},
		{name: "broken block then good", pem: "-----BEGIN CERTIFICATE-----\nAAAA\n" + root.PEM(), reason: ReasonAnchorPEM, detail: "PEM block 1 has no END line before the next BEGIN line"},
		{name: "bad base64", pem: "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", reason: ReasonAnchorPEM, detail: "PEM block 1 is malformed"},
		{name: "private key", pem: keyPEM, reason: ReasonAnchorPEM, detail: `PEM block 1 is of type "PRIVATE KEY"; only CERTIFICATE blocks are allowed`},
		{name: "headers", pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: root.Cert.Raw})), reason: ReasonAnchorPEM, detail: "PEM block 1 has headers; certificates must not have any"},
		{name: "three", pem: root.PEM() + root2.PEM() + rsaRoot.PEM(), reason: ReasonAnchorCount, detail: "3 certificates found; a trust anchor holds at most 2"},
		{name: "not DER", pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("nope")})), reason: ReasonAnchorParse, detail: "certificate 1 cannot be parsed: x509: malformed certificate"},
		{name: "duplicate", pem: root.PEM() + root.PEM(), reason: ReasonAnchorDuplicate, detail: "certificate 2 is the same as certificate 1"},
		{name: "v1", pem: v1.PEM(), reason: ReasonAnchorVersion, detail: bad(v1, "is X.509 v1; a CA certificate must be v3")},
		{name: "no basicConstraints", pem: noBC.PEM(), reason: ReasonAnchorNotCA, detail: bad(noBC, "has no basicConstraints extension; CA:TRUE is required")},
		{name: "CA:FALSE", pem: notCA.PEM(), reason: ReasonAnchorNotCA, detail: bad(notCA, "has basicConstraints CA:FALSE; CA:TRUE is required")},
		{name: "leaf", pem: leaf.PEM(), reason: ReasonAnchorNotCA, detail: bad(leaf, "has basicConstraints CA:FALSE; CA:TRUE is required")},
		{name: "no keyUsage", pem: noKU.PEM(), reason: ReasonAnchorKeyUsage, detail: bad(noKU, "has no keyUsage extension; keyCertSign is required")},
		{name: "no keyCertSign", pem: noCertSign.PEM(), reason: ReasonAnchorKeyUsage, detail: bad(noCertSign, "has a keyUsage without keyCertSign")},
		{name: "sha1", pem: sha1.PEM(), reason: ReasonAnchorWeakSignature, detail: bad(sha1, "is signed with SHA1-RSA; SHA-256 or stronger is required (no MD5, no SHA-1)")},
		{name: "ecdsa sha1", pem: ecSHA1.PEM(), reason: ReasonAnchorWeakSignature, detail: bad(ecSHA1, "is signed with ECDSA-SHA1; SHA-256 or stronger is required (no MD5, no SHA-1)")},
		{name: "rsa 1024", pem: rsa1024.PEM(), reason: ReasonAnchorKeyUnsupported, detail: bad(rsa1024, "has an RSA key of 1024 bits; at least 2048 bits are required")},
		{name: "p224", pem: p224.PEM(), reason: ReasonAnchorKeyUnsupported, detail: bad(p224, "has an ECDSA key on curve P-224; P-256, P-384 or P-521 is required")},
		{name: "ed25519", pem: ed.PEM(), reason: ReasonAnchorKeyUnsupported, detail: bad(ed, "has a Ed25519 key; RSA (2048 bits or more) or ECDSA (P-256, P-384, P-521) is required")},
		{name: "expired", pem: expired.PEM(), reason: ReasonAnchorExpired, detail: bad(expired, "expired at 2025-11-22T12:00:00Z (now 2026-11-22T12:00:00Z)")},
		{name: "second bad", pem: root.PEM() + leaf.PEM(), reason: ReasonAnchorNotCA, detail: "certificate 2 " + Name(leaf.Cert) + " has basicConstraints CA:FALSE; CA:TRUE is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			certs, err := ParseAnchorBundle(tc.pem, testNow)
			wantErr(t, err, "ValidationException", tc.reason, msg+tc.detail, tc.detail)
			if err == nil && len(certs) != tc.count {
				t.Fatalf("%d certificates, want %d", len(certs), tc.count)
			}
		})
	}

	// A zero now skips the expiry check, for loading stored anchors.
	if _, err := ParseAnchorBundle(expired.PEM(), time.Time{}); err != nil {
		t.Fatalf("zero now: %v", err)
	}
}

func TestParseCRL(t *testing.T) {
	pki := trusttest.New(t, rand.Reader, testNow)
	root := pki.Root("Root", trusttest.WithKeyType(trusttest.RSA2048))
	leaf := pki.Leaf(root, "leaf")
	crl := pki.CRL(root, trusttest.Revoke(leaf.Cert))
	sha1CRL := pki.CRL(root, trusttest.CRLTemplate(func(l *x509.RevocationList) { l.SignatureAlgorithm = x509.SHA1WithRSA }))
	crlPEM := trusttest.CRLPEM(crl)

	for _, tc := range []struct {
		name   string
		data   []byte
		reason string
		detail string
	}{
		{name: "DER", data: crl.Raw},
		{name: "PEM", data: crlPEM},
		{name: "PEM with whitespace", data: append(append([]byte("\n\n "), crlPEM...), "\n"...)},
		{name: "empty", data: nil, reason: ReasonCRLTooLarge, detail: "the CRL is 0 bytes long; it must be 1 to 300000 bytes"},
		{name: "too large", data: make([]byte, 300001), reason: ReasonCRLTooLarge, detail: "the CRL is 300001 bytes long; it must be 1 to 300000 bytes"},
		{name: "two PEM blocks", data: append(append([]byte{}, crlPEM...), crlPEM...), reason: ReasonCRLPEM, detail: "2 PEM blocks found; exactly one X509 CRL block is allowed"},
		{name: "certificate PEM", data: []byte(root.PEM()), reason: ReasonCRLPEM, detail: `the PEM block is of type "CERTIFICATE"; an X509 CRL block is required`},
		{name: "PEM trailing garbage", data: append(append([]byte{}, crlPEM...), "garbage"...), reason: ReasonCRLPEM, detail: "unexpected data after PEM block 1"},
		{name: "garbage", data: []byte("hello"), reason: ReasonCRLParse, detail: "not an X.509 v2 CRL: x509: malformed crl"},
		{name: "certificate DER", data: root.Cert.Raw, reason: ReasonCRLParse, detail: "not an X.509 v2 CRL: x509: unsupported crl version"},
		{name: "DER trailing data", data: append(append([]byte{}, crl.Raw...), 0, 0), reason: ReasonCRLParse, detail: "2 bytes of trailing data after the CRL"},
		{name: "sha1", data: sha1CRL.Raw, reason: ReasonCRLWeakSignature, detail: "the CRL is signed with SHA1-RSA; SHA-256 or stronger is required (no MD5, no SHA-1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCRL(tc.data)
			wantErr(t, err, "ValidationException", tc.reason, "Invalid CRL: "+tc.detail, tc.detail)
			if err == nil && (len(got.RevokedCertificateEntries) != 1 || got.RevokedCertificateEntries[0].SerialNumber.Cmp(leaf.Cert.SerialNumber) != 0) {
				t.Fatalf("revoked entries %v", got.RevokedCertificateEntries)
			}
		})
	}
}

func TestCheckEndEntity(t *testing.T) {
	pki := trusttest.New(t, rand.Reader, testNow)
	root := pki.Root("Root", trusttest.WithKeyType(trusttest.RSA2048))
	tmpl := func(f func(*x509.Certificate)) trusttest.Option { return trusttest.Template(f) }
	for _, tc := range []struct {
		name   string
		opts   []trusttest.Option
		reason string
		what   string
	}{
		{name: "ok"},
		{name: "no EKU", opts: []trusttest.Option{tmpl(func(c *x509.Certificate) { c.ExtKeyUsage = nil })}},
		{name: "server EKU only", opts: []trusttest.Option{tmpl(func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} })}},
		{name: "no keyUsage", opts: []trusttest.Option{tmpl(func(c *x509.Certificate) { c.KeyUsage = 0 })}},
		{name: "no basicConstraints", opts: []trusttest.Option{tmpl(func(c *x509.Certificate) { c.BasicConstraintsValid = false })}},
		{name: "rsa leaf", opts: []trusttest.Option{trusttest.WithKeyType(trusttest.RSA2048)}},
		{name: "v1", opts: []trusttest.Option{trusttest.Version1()}, reason: ReasonCertVersion, what: "is X.509 v1; v3 is required"},
		{name: "CA", opts: []trusttest.Option{tmpl(func(c *x509.Certificate) { c.IsCA = true })}, reason: ReasonCertIsCA,
			what: "has basicConstraints CA:TRUE; an end-entity certificate must have CA:FALSE"},
		{name: "keyEncipherment only", opts: []trusttest.Option{tmpl(func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyEncipherment })},
			reason: ReasonCertKeyUsage, what: "has a keyUsage without digitalSignature"},
		{name: "sha1", opts: []trusttest.Option{trusttest.SignatureAlgorithm(x509.SHA1WithRSA)}, reason: ReasonCertWeakSignature,
			what: "is signed with SHA1-RSA; SHA-256 or stronger is required (no MD5, no SHA-1)"},
		{name: "expired", opts: []trusttest.Option{trusttest.Validity(testNow.Add(-2*time.Hour), testNow.Add(-time.Second))}, reason: ReasonCertExpired,
			what: "expired at 2026-11-22T11:59:59Z (now 2026-11-22T12:00:00Z)"},
		{name: "not yet valid", opts: []trusttest.Option{trusttest.Validity(testNow.Add(time.Minute), testNow.Add(time.Hour))}, reason: ReasonCertNotYetValid,
			what: "is not valid before 2026-11-22T12:01:00Z (now 2026-11-22T12:00:00Z)"},
		{name: "empty subject", opts: []trusttest.Option{trusttest.Subject(pkix.Name{}), tmpl(func(c *x509.Certificate) { c.DNSNames = []string{"a.example"} })},
			reason: ReasonCertEmptySubject, what: "has an empty subject; IAM Roles Anywhere keys subjects by their DN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaf := pki.Leaf(root, "leaf", tc.opts...)
			detail := ""
			if tc.reason != "" {
				detail = "certificate " + Name(leaf.Cert) + " " + tc.what
			}
			wantErr(t, CheckEndEntity(leaf.Cert, testNow), "AccessDeniedException", tc.reason, MsgUntrusted, detail)
		})
	}
}
