package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"testing"

	"github.com/iamra/iamra/api/restjson"
	"github.com/iamra/iamra/cputime"
)

// BenchmarkSignedPCA serves signed ACM-PCA calls through the server's
// root handler (request id, routing, metrics, body, SigV4) in process,
// without the network or net/http, one at a time:
//
//   - describe: DescribeCertificateAuthority, the cheapest successful
//     signed call (it reads the store);
//   - invalid: the same call for a malformed ARN, refused by the API
//     before the store: the transport's own cost shows best here.
//
// The bound, measured in the same run, is the same request served by the
// ACM-PCA handler alone, its context already carrying the request id and
// the caller. What the transport adds is the difference, reported per
// request as transport-cpu-ns, transport-B and transport-allocs; x-api is
// the whole over the bound. Times are the process's CPU time (getrusage),
// which other work on a shared machine distorts far less than wall time.
func BenchmarkSignedPCA(b *testing.B) {
	s := newSignedServer(b)
	create := `{"CertificateAuthorityConfiguration":{"KeyAlgorithm":"EC_prime256v1","SigningAlgorithm":"SHA256WITHECDSA","Subject":{"CommonName":"Bench"}},"CertificateAuthorityType":"ROOT"}`
	m := regexp.MustCompile(`"CertificateAuthorityArn":"([^"]+)"`).FindStringSubmatch(
		s.serve(b, s.request(b, "POST", "/", create, pcaHeader("CreateCertificateAuthority"), s.admin, "acm-pca")))
	if m == nil {
		b.Fatal("CreateCertificateAuthority failed")
	}
	for _, bc := range []struct {
		name   string
		arn    string
		status int
	}{
		{"describe", m[1], http.StatusOK},
		{"invalid", "arn:aws:acm-pca:us-east-1:123456789012:nothing", http.StatusBadRequest},
	} {
		b.Run(bc.name, func(b *testing.B) {
			body := []byte(`{"CertificateAuthorityArn":"` + bc.arn + `"}`)
			signed := s.request(b, "POST", "/", string(body), pcaHeader("DescribeCertificateAuthority"), s.admin, "acm-pca")
			bare := signed.WithContext(restjson.WithCaller(restjson.WithRequestID(context.Background(), "bench"), s.State.AdminKeys[0].Arn))
			w := &discardWriter{h: http.Header{}}
			rd := bytes.NewReader(body)
			serve := func(h http.Handler, tmpl *http.Request) {
				r := *tmpl
				rd.Reset(body)
				r.Body = io.NopCloser(rd)
				clear(w.h)
				w.code = 0
				h.ServeHTTP(w, &r)
				if w.code != bc.status {
					b.Fatalf("status %d", w.code)
				}
			}
			root := s.Handler()
			s.log.Reset()
			b.ReportAllocs()
			cpu := cputime.Self()
			for b.Loop() {
				serve(root, signed)
				s.log.Reset()
			}
			b.StopTimer()
			whole := float64(cputime.Self()-cpu) / float64(b.N)
			api := measure(b.N, func() { serve(s.PCA, bare); s.log.Reset() })
			// Allocations over the same number of requests, after the
			// timing.
			n := min(b.N, 1000)
			wholeMem, apiMem := measure(n, func() { serve(root, signed); s.log.Reset() }), measure(n, func() { serve(s.PCA, bare); s.log.Reset() })
			b.ReportMetric(whole-api.ns, "transport-cpu-ns/op")
			b.ReportMetric(wholeMem.allocs-apiMem.allocs, "transport-allocs/op")
			b.ReportMetric(wholeMem.bytes-apiMem.bytes, "transport-B/op")
			b.ReportMetric(whole/api.ns, "x-api")
		})
	}
}

func pcaHeader(op string) http.Header {
	return http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amz-Target": {"ACMPrivateCA." + op}}
}

// cost is what one call of a function takes, on average: CPU time and
// allocations.
type cost struct{ ns, allocs, bytes float64 }

// measure calls fn n times.
func measure(n int, fn func()) cost {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := cputime.Self()
	for range n {
		fn()
	}
	elapsed := cputime.Self() - start
	runtime.ReadMemStats(&after)
	return cost{ns: float64(elapsed) / float64(n), allocs: float64(after.Mallocs-before.Mallocs) / float64(n),
		bytes: float64(after.TotalAlloc-before.TotalAlloc) / float64(n)}
}

// discardWriter is a ResponseWriter that keeps the status and drops the
// body, reused across requests.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header { return w.h }

func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return len(p), nil
}
