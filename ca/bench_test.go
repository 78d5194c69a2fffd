package ca

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/iamra/iamra/cputime"
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
	raw := measureBound(rawCreator(b))
	h := newHarness(b)
	ctx := context.Background()
	caARN := h.activeRoot(b)
	csr := csrPEM(b, mustKey(b, KeyECP256), &x509.CertificateRequest{Subject: pkix.Name{CommonName: "bench"}})
	req := IssueCertificateRequest{CertificateAuthorityArn: caARN, Csr: csr, SigningAlgorithm: SHA256WithECDSA,
		TemplateArn: TemplateEndEntityClientAuth, Validity: Validity{Type: ValidityHours, Value: 24}}
	b.ResetTimer()
	cpu0 := cputime.Self()
	for b.Loop() {
		if _, err := h.svc.IssueCertificate(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	reportBound(b, raw, cpu0, "x-raw")
}

// bound is the cost of one run of what a benchmark compares itself with:
// wall time and this process's CPU time (which, on a machine shared with
// other work, varies much less than wall time).
type bound struct{ wallNs, cpuNs float64 }

// measureBound measures f, here in the same run as the benchmark
// (testing.Benchmark cannot nest inside a benchmark), so that both see the
// same machine load. It runs f at least 300 times and for at least 200ms,
// so that a bound of a few microseconds is not one scheduler hiccup.
func measureBound(f func(i int)) bound {
	const minRuns, minTime = 300, 200 * time.Millisecond
	m := cputime.Start()
	start := time.Now()
	n := 0
	for ; n < minRuns || time.Since(start) < minTime; n++ {
		f(n)
	}
	wall, cpu := m.Per(n)
	return bound{wallNs: wall, cpuNs: cpu}
}

// benchAgainst runs op as the benchmark and reports its cost as a multiple
// of bound's, measured in the same run, as metric unit (see reportBound).
func benchAgainst(b *testing.B, unit string, bound, op func() error) {
	bd := measureBound(func(int) {
		if err := bound(); err != nil {
			b.Fatal(err)
		}
	})
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Self()
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	reportBound(b, bd, cpu0, unit)
}

// reportBound reports the benchmark's cost per operation as a multiple of
// the bound, in wall time (metric unit, e.g. "x-raw") and in CPU time
// since cpu0, taken just before the benchmark loop ("cpu-" + unit), and
// the bound's own CPU time and the benchmark's.
func reportBound(b *testing.B, bd bound, cpu0 time.Duration, unit string) {
	b.StopTimer()
	cpu := float64(cputime.Self() - cpu0)
	per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(per/bd.wallNs, unit)
	b.ReportMetric(cpu/float64(b.N)/bd.cpuNs, "cpu-"+unit)
	b.ReportMetric(bd.cpuNs, "bound-cpu-ns/op")
	b.ReportMetric(cpu/float64(b.N), "cpu-ns/op")
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
	raw := measureBound(func(int) {
		if _, err := x509.CreateCertificate(rand.Reader, tmpl, root, key.pub, rootKey); err != nil {
			b.Fatal(err)
		}
	})
	b.ResetTimer()
	cpu0 := cputime.Self()
	for b.Loop() {
		if _, err := createCertificate(rand.Reader, tmpl, root, key.spki, rootKey); err != nil {
			b.Fatal(err)
		}
	}
	reportBound(b, raw, cpu0, "x-raw")
}

// BenchmarkIssueFromCSR measures Issue alone, without the Service and its
// store: CSR signature check, template, encoding, signature and parsing,
// as a multiple of x509.CreateCertificate (rawCreator).
func BenchmarkIssueFromCSR(b *testing.B) {
	raw := measureBound(rawCreator(b))
	root, rootKey := mustRoot(b)
	csr := mustCSR(b, mustKey(b, KeyECP256), &x509.CertificateRequest{Subject: pkix.Name{CommonName: "bench"}})
	req := IssueRequest{Template: TemplateEndEntityClientAuth, CSR: csr, NotBefore: t0, NotAfter: t0.Add(24 * time.Hour),
		CRLDistributionPoint: "http://127.0.0.1:8443/crl/bench.crl"}
	b.ResetTimer()
	cpu0 := cputime.Self()
	for b.Loop() {
		if _, err := Issue(root, rootKey, req, rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
	reportBound(b, raw, cpu0, "x-raw")
}

// BenchmarkIssueForRecord is what IssueCertificate does for each
// certificate besides policy and the store: ParseCSR of the PEM, the CSR
// signature check, encoding, the signature, and the record
// (issueForRecord, certificatePEM, marshalIssued), as a multiple of
// x509.CreateCertificate (rawCreator).
func BenchmarkIssueForRecord(b *testing.B) {
	raw := measureBound(rawCreator(b))
	root, rootKey := mustRoot(b)
	csr := csrPEM(b, mustKey(b, KeyECP256), &x509.CertificateRequest{Subject: pkix.Name{CommonName: "bench"}})
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Self()
	for b.Loop() {
		req, err := ParseCSR(csr)
		if err != nil {
			b.Fatal(err)
		}
		c, err := issueForRecord(root, rootKey, IssueRequest{Template: TemplateEndEntityClientAuth, CSR: req, NotBefore: t0, NotAfter: t0.Add(24 * time.Hour),
			CRLDistributionPoint: "http://127.0.0.1:8443/crl/bench.crl"}, rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		serial := serialHex(c.serial)
		rec := IssuedCertificate{Arn: "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/bench/certificate/" + serial,
			CertificateAuthorityArn: "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/bench", Serial: serial,
			Subject: c.subject, NotBefore: c.notBefore, NotAfter: c.notAfter, IssuedAt: t0,
			TemplateArn: "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1", Status: CertificateIssued, CertificatePEM: certificatePEM(c.der)}
		if _, err := marshalIssued(&rec); err != nil {
			b.Fatal(err)
		}
	}
	reportBound(b, raw, cpu0, "x-raw")
}
