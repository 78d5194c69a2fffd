package ca

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
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
