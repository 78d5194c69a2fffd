package trust

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/iamra/iamra/trust/trusttest"
)

// BenchmarkVerifyChain measures a whole chain verification (leaf issued
// by the anchor, anchor certificate also presented, one CRL of the
// anchor) and reports it as a multiple of the one signature check it
// cannot avoid, measured in the same run ("x-sigcheck"): the rest is
// overhead this package and crypto/x509 add.
func BenchmarkVerifyChain(b *testing.B) {
	for _, kt := range []struct {
		name string
		key  trusttest.KeyType
	}{{"P256", trusttest.P256}, {"RSA2048", trusttest.RSA2048}} {
		b.Run(kt.name, func(b *testing.B) {
			pki := trusttest.New(b, rand.Reader, testNow)
			root := pki.Root("Root", trusttest.WithKeyType(kt.key))
			leaf := pki.Leaf(root, "leaf", trusttest.WithKeyType(kt.key))
			anchor := anchorOf(root)
			ix := NewRevocationIndex([]CRL{{List: pki.CRL(root, trusttest.Revoke(pki.Leaf(root, "revoked").Cert))}})
			presented := certs(root)

			// The bound: the leaf's signature check alone, timed here so
			// both numbers come from the same machine state.
			const rounds = 200
			start := time.Now()
			for range rounds {
				if err := leaf.Cert.CheckSignatureFrom(root.Cert); err != nil {
					b.Fatal(err)
				}
			}
			sigcheck := float64(time.Since(start).Nanoseconds()) / rounds

			b.ResetTimer()
			for b.Loop() {
				if _, err := VerifyChain(leaf.Cert, presented, anchor, ix, testNow); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(sigcheck, "sigcheck-ns")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/sigcheck, "x-sigcheck")
		})
	}
}
