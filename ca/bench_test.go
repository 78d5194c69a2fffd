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
	rawNs := boundNs(rawCreator(b))
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
	reportBound(b, rawNs)
}

// boundNs measures the cost of f, the bound a benchmark compares itself
// with, here in the same run (testing.Benchmark cannot nest inside a
// benchmark), so that both see the same machine load.
func boundNs(f func(i int)) float64 {
	const n = 300
	start := time.Now()
	for i := range n {
		f(i)
	}
	return float64(time.Since(start).Nanoseconds()) / n
}

// reportBound reports the benchmark's cost per operation as a multiple of
// the bound (metric "x-raw") and the bound itself.
func reportBound(b *testing.B, rawNs float64) {
	b.StopTimer()
	per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(per/rawNs, "x-raw")
	b.ReportMetric(rawNs, "raw-ns/op")
}

// BenchmarkSignCertificate measures Issue's encode-and-sign step,
// createCertificate, against x509.CreateCertificate on the same template
// (a P-256 CA, a P-256 client key, EndEntityClientAuthCertificate/V1):
// the difference is the signature check CreateCertificate makes.
func BenchmarkSignCertificate(b *testing.B) {
	root, rootKey := mustRoot(b)
	t, err := LookupTemplate(TemplateEndEntityClientAuth)
	if err != nil {
		b.Fatal(err)
	}
	csr := mustCSR(b, mustKey(b, KeyECP256), &x509.CertificateRequest{Subject: pkix.Name{CommonName: "bench"}})
	tmpl, key, err := certificateTemplate(t, root, rootKey, IssueRequest{CSR: csr, NotBefore: t0, NotAfter: t0.Add(24 * time.Hour),
		CRLDistributionPoint: "http://127.0.0.1:8443/crl/bench.crl"}, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	rawNs := boundNs(func(int) {
		if _, err := x509.CreateCertificate(rand.Reader, tmpl, root, key.pub, rootKey); err != nil {
			b.Fatal(err)
		}
	})
	b.ResetTimer()
	for b.Loop() {
		if _, err := createCertificate(rand.Reader, tmpl, root, key.spki, rootKey); err != nil {
			b.Fatal(err)
		}
	}
	reportBound(b, rawNs)
}

// BenchmarkIssueFromCSR measures Issue alone, without the Service and its
// store: CSR signature check, template, encoding, signature and parsing,
// as a multiple of x509.CreateCertificate (rawCreator).
func BenchmarkIssueFromCSR(b *testing.B) {
	rawNs := boundNs(rawCreator(b))
	root, rootKey := mustRoot(b)
	csr := mustCSR(b, mustKey(b, KeyECP256), &x509.CertificateRequest{Subject: pkix.Name{CommonName: "bench"}})
	req := IssueRequest{Template: TemplateEndEntityClientAuth, CSR: csr, NotBefore: t0, NotAfter: t0.Add(24 * time.Hour),
		CRLDistributionPoint: "http://127.0.0.1:8443/crl/bench.crl"}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Issue(root, rootKey, req, rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
	reportBound(b, rawNs)
}
