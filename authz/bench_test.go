package authz

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"testing"
	"time"
)

// hmacNsPerOp times n HMAC-SHA256 computations over a string to sign of
// typical size: the bound a SigV4 verification cannot beat, measured on
// the same machine in the same run.
func hmacNsPerOp(n int) float64 {
	key := make([]byte, 32)
	msg := make([]byte, 160)
	var out [sha256.Size]byte
	start := time.Now()
	for range n {
		m := hmac.New(sha256.New, key)
		m.Write(msg)
		m.Sum(out[:0])
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

// BenchmarkSessionRequest verifies a request signed with session
// credentials the way a service using this package does: open the sealed
// token, check the signature (signing key cached), check revocation, and
// evaluate the session's effective policy for one action. It reports
// verifications per second on one core and the cost in multiples of one
// raw HMAC-SHA256 measured in the same run ("x-hmac").
func BenchmarkSessionRequest(b *testing.B) {
	f := newFixture(b)
	r := signed(b, f.session(b), "GET", "https://svc.example/blue/k?list-type=2", "s3", nil)
	ctx := context.Background()
	if _, err := f.v.Authenticate(ctx, r, nil, Options{Service: "s3"}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := f.v.Authenticate(ctx, r, nil, Options{Service: "s3"})
		if err != nil {
			b.Fatal(err)
		}
		d, err := f.v.Authorize(ctx, p, "s3:GetObject", "arn:aws:s3:::data/blue/k", nil)
		if err != nil || !d.Allowed {
			b.Fatal(d, err)
		}
	}
	b.StopTimer()
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	bound := hmacNsPerOp(max(b.N, 10000))
	b.ReportMetric(float64(time.Second)/ns, "verifications/s")
	b.ReportMetric(ns/bound, "x-hmac")
	b.ReportMetric(bound, "hmac-ns")
}
