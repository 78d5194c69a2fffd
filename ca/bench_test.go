package ca

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// rawCreator returns the bound: one x509.CreateCertificate with a P-256
// CA key for a client key, the irreducible cost of issuing.
func rawCreator(b *testing.B) func(i int) {
	root, rootKey := mustRoot(b)
	leafKey := mustKey(b, KeyECP256)
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "bench"}, NotBefore: t0, NotAfter: t0.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	return func(i int) {
		tmpl.SerialNumber = big.NewInt(int64(i + 1))
		if _, err := x509.CreateCertificate(rand.Reader, tmpl, root, leafKey.Public(), rootKey); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawCreateCertificate(b *testing.B) {
	raw := rawCreator(b)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		raw(i)
	}
}

// BenchmarkIssueP256 issues through the Service with the SQLite store (a
// durable commit per certificate): CSR parse and signature check, policy,
// signing, and the record. It reports its cost as a multiple of
// x509.CreateCertificate measured in the same run (metric "x-raw").
func BenchmarkIssueP256(b *testing.B) {
	// The bound is measured here, in the same run (testing.Benchmark
	// cannot nest inside a benchmark).
	raw := rawCreator(b)
	const rawN = 300
	start := time.Now()
	for i := range rawN {
		raw(i)
	}
	rawNs := float64(time.Since(start).Nanoseconds()) / rawN
	h := newHarness(b)
	ctx := context.Background()
	caARN := h.activeRoot(b)
	csr := csrPEM(b, mustKey(b, KeyECP256), &x509.CertificateRequest{Subject: pkix.Name{CommonName: "bench"}})
	req := IssueCertificateRequest{CertificateAuthorityArn: caARN, Csr: csr, SigningAlgorithm: SHA256WithECDSA,
		TemplateArn: TemplateEndEntityClientAuth, Validity: Validity{Type: ValidityHours, Value: 24}}
	b.ResetTimer()
	for b.Loop() {
		if _, err := h.svc.IssueCertificate(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(per/rawNs, "x-raw")
	b.ReportMetric(rawNs, "raw-ns/op")
}
