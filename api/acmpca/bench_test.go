package acmpca

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	"github.com/aws/aws-sdk-go-v2/service/acmpca/types"

	"github.com/iamra/iamra/cputime"
)

// The issuance benchmarks report against the bound the issue sets: raw
// x509.CreateCertificate of a client certificate for a client key with a
// P-256 CA key, measured in the same run, twice over:
//
//   - pct-of-raw: certificates per second through the API as a share of
//     raw certificates per second on the same CPUs (wall clock; the
//     clients run in this process and take their share of the CPUs);
//   - cpu-pct-of-raw: raw CPU per certificate as a share of this
//     process's CPU per certificate issued (getrusage), which other work
//     on a shared machine distorts far less than wall time.
//
// Every request carries a CSR for a different client-made key (a pool of
// benchCSRs, used round robin), so the server verifies a new signature
// each time, as it would for real clients.

// benchCSRs is the number of distinct client keys; more than any batch.
const benchCSRs = 512

// bound is the raw x509.CreateCertificate cost.
type bound struct {
	wallNs float64 // wall time per certificate, on workers goroutines
	cpuNs  float64 // process CPU time per certificate
}

// rawCreate measures the bound: x509.CreateCertificate of a client
// certificate for a client key with a P-256 CA key, nothing else, on
// workers goroutines at once.
func rawCreate(b *testing.B, n, workers int) bound {
	caKey, leafKey := newKey(b), newKey(b)
	now := time.Now()
	root := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "raw"}, NotBefore: now, NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, root, root, caKey.Public(), caKey)
	if err != nil {
		b.Fatal(err)
	}
	if root, err = x509.ParseCertificate(der); err != nil {
		b.Fatal(err)
	}
	tmpl := &x509.Certificate{Subject: leafSubject, NotBefore: now, NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	m := cputime.Start()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			t := *tmpl
			for i := range n / workers {
				t.SerialNumber = big.NewInt(int64(w*n + i + 2))
				if _, err := x509.CreateCertificate(rand.Reader, &t, root, leafKey.Public(), caKey); err != nil {
					panic(err)
				}
			}
		})
	}
	wg.Wait()
	return perOp(m, n/workers*workers)
}

// BenchmarkIssueCertificateAPI issues P-256 certificates for client-made
// keys through the HTTP API with the AWS SDK for Go v2 (serialization,
// SigV4 signing, loopback HTTP, JSON 1.1 decoding, CSR signature check,
// signing, and a durable SQLite commit of the record), one request at a
// time: the latency-bound case, where every record is its own commit.
func BenchmarkIssueCertificateAPI(b *testing.B) {
	raw := rawCreate(b, 300, 1)
	h, next := benchSetup(b)
	ctx := context.Background()
	b.ResetTimer()
	m := cputime.Start()
	for b.Loop() {
		if _, err := h.client.IssueCertificate(ctx, next()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportVsRaw(b, raw, perOp(m, b.N))
}

// BenchmarkIssueCertificateAPIParallel is the throughput of 16 SDK clients
// per CPU issuing at once, against x509.CreateCertificate on every CPU at
// once.
func BenchmarkIssueCertificateAPIParallel(b *testing.B) {
	raw := rawCreate(b, 600, runtime.GOMAXPROCS(0))
	h, next := benchSetup(b)
	ctx := context.Background()
	b.SetParallelism(16)
	b.ResetTimer()
	m := cputime.Start()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.client.IssueCertificate(ctx, next()); err != nil {
				panic(err)
			}
		}
	})
	b.StopTimer()
	reportVsRaw(b, raw, perOp(m, b.N))
}

// BenchmarkIssueCertificateHTTPParallel is BenchmarkIssueCertificateAPIParallel
// without the AWS SDK: the clients post prepared JSON 1.1 bodies with
// net/http. The SDK's work per call (middleware, serialization, SigV4)
// runs on the same CPUs as the server in the SDK benchmarks; here the
// rate is closer to what the server alone sustains when its clients are
// other machines. The server does all of its work as before.
func BenchmarkIssueCertificateHTTPParallel(b *testing.B) {
	raw := rawCreate(b, 600, runtime.GOMAXPROCS(0))
	h, next := benchSetup(b)
	bodies := make([][]byte, benchCSRs)
	for i := range bodies {
		in := next()
		var err error
		bodies[i], err = json.Marshal(map[string]any{"CertificateAuthorityArn": in.CertificateAuthorityArn, "Csr": in.Csr,
			"SigningAlgorithm": in.SigningAlgorithm, "TemplateArn": in.TemplateArn, "Validity": in.Validity})
		if err != nil {
			b.Fatal(err)
		}
	}
	var n atomic.Uint64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.SetParallelism(16)
	b.ResetTimer()
	m := cputime.Start()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := bodies[n.Add(1)%benchCSRs]
			req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/", bytes.NewReader(body))
			if err != nil {
				panic(err)
			}
			req.Header.Set("Content-Type", ContentType)
			req.Header.Set("X-Amz-Target", TargetPrefix+"IssueCertificate")
			resp, err := client.Do(req)
			if err != nil {
				panic(err)
			}
			out, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK || !bytes.Contains(out, []byte(`"CertificateArn"`)) {
				panic(fmt.Sprintf("IssueCertificate: %d %s %v", resp.StatusCode, out, err))
			}
		}
	})
	b.StopTimer()
	reportVsRaw(b, raw, perOp(m, b.N))
}

// benchSetup makes an ACTIVE P-256 root CA and returns a function giving
// IssueCertificate inputs for benchCSRs distinct client keys, round robin.
func benchSetup(b *testing.B) (*harness, func() *acmpca.IssueCertificateInput) {
	h := newHarness(b, nil)
	h.client = acmpca.New(h.client.Options(), func(o *acmpca.Options) {
		o.HTTPClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	})
	caARN, _ := h.createRoot(b, "Bench Root", "", false)
	inputs := make([]*acmpca.IssueCertificateInput, benchCSRs)
	for i := range inputs {
		inputs[i] = &acmpca.IssueCertificateInput{CertificateAuthorityArn: &caARN,
			Csr: csrPEM(b, newKey(b), &x509.CertificateRequest{Subject: leafSubject}), SigningAlgorithm: types.SigningAlgorithmSha256withecdsa,
			TemplateArn: aws.String("EndEntityClientAuthCertificate/V1"), Validity: &types.Validity{Type: "HOURS", Value: aws.Int64(24)}}
	}
	var n atomic.Uint64
	return h, func() *acmpca.IssueCertificateInput { return inputs[(n.Add(1)-1)%benchCSRs] }
}

// reportVsRaw reports the issuance cost got against the raw bound.
// perOp is the bound of n operations measured by m.
func perOp(m cputime.Meter, n int) bound {
	wall, cpu := m.Per(n)
	return bound{wallNs: wall, cpuNs: cpu}
}

func reportVsRaw(b *testing.B, raw, got bound) {
	b.ReportMetric(100*raw.wallNs/got.wallNs, "pct-of-raw")
	b.ReportMetric(100*raw.cpuNs/got.cpuNs, "cpu-pct-of-raw")
	b.ReportMetric(got.cpuNs/1e3, "cpu-µs/cert")
	b.ReportMetric(raw.cpuNs/1e3, "raw-cpu-µs")
}
