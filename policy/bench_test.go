package policy

import (
	"crypto/hmac"
	"crypto/sha256"
	"testing"
	"time"
)

var sink []byte

// rawHMAC is the bound: one HMAC-SHA256 over a string to sign, the unit of
// work SigV4 verification is made of (sigv4 benchmarks use the same).
func rawHMAC(key, msg []byte) {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	sink = m.Sum(sink[:0])
}

// BenchmarkEvaluateTrustPolicy evaluates the EKS Hybrid Nodes trust policy
// for the three actions of one CreateSession (AssumeRole, TagSession,
// SetSourceIdentity) with a realistic request context. It reports the cost
// as a multiple of one HMAC-SHA256 measured in the same run ("x-hmac"):
// trust evaluation should cost a few HMACs, negligible next to the
// certificate signature checks of CreateSession.
func BenchmarkEvaluateTrustPolicy(b *testing.B) {
	p := mustParse(b, eksHybridTrust, Trust)
	c := createSessionContext("node-1", "node-1", taARN)
	reqs := []Request{trustRequest("sts:AssumeRole", c), trustRequest("sts:TagSession", c), trustRequest("sts:SetSourceIdentity", c)}
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range reqs {
			if !p.Evaluate(r).Allowed() {
				b.Fatal("denied")
			}
		}
	}
	elapsed := b.Elapsed()
	key, msg := make([]byte, 32), make([]byte, 256)
	start := time.Now()
	for range b.N {
		rawHMAC(key, msg)
	}
	if raw := time.Since(start); raw > 0 {
		b.ReportMetric(float64(elapsed)/float64(raw), "x-hmac")
	}
}

// BenchmarkEvaluateTrustPolicyDenied is the denial path, which builds the
// explanation for the audit record.
func BenchmarkEvaluateTrustPolicyDenied(b *testing.B) {
	p := mustParse(b, eksHybridTrust, Trust)
	r := trustRequest("sts:AssumeRole", createSessionContext("node-1", "node-2", taARN))
	b.ReportAllocs()
	for b.Loop() {
		if p.Evaluate(r).Allowed() {
			b.Fatal("allowed")
		}
	}
}

// BenchmarkParseTrustPolicy parses and validates the same policy; callers
// should cache parsed policies per role and document.
func BenchmarkParseTrustPolicy(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(eksHybridTrust, Trust); err != nil {
			b.Fatal(err)
		}
	}
}
