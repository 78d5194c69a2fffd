package trust

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/trust/trusttest"
)

func TestChainCache(t *testing.T) {
	now := time.Date(2026, 11, 22, 13, 0, 0, 0, time.UTC)
	pki := trusttest.New(t, nil, now)
	root := pki.Root("Root")
	inter := pki.Intermediate(root, "Issuing", trusttest.Validity(now.Add(-time.Hour), now.Add(2*time.Hour)))
	leaf := pki.Leaf(inter, "w", trusttest.Validity(now.Add(-time.Hour), now.Add(24*time.Hour)))
	anchor := NewAnchor("a", "arn:a", []*x509.Certificate{root.Cert}, true)
	cache := NewChainCache(2)
	presented := []*x509.Certificate{inter.Cert}

	for i := 0; i < 2; i++ {
		res, err := VerifyChainCached(cache, leaf.Cert, presented, anchor, nil, now)
		if err != nil || len(res.Chain) != 3 || res.Chain[0] != leaf.Cert {
			t.Fatalf("round %d: %v %v", i, err, res.Chain)
		}
	}
	if cache.Len() != 1 {
		t.Fatalf("cache holds %d chains", cache.Len())
	}
	// Not presenting the intermediate is a different request: no shortcut.
	if _, err := VerifyChainCached(cache, leaf.Cert, nil, anchor, nil, now); awserr.As(err).Reason != ReasonChainUntrusted {
		t.Fatalf("without intermediate: %v", err)
	}
	// Revocation is checked on every use of a cached chain.
	crl := NewRevocationIndex([]CRL{{ARN: "crl", List: pki.CRL(inter, trusttest.Revoke(leaf.Cert))}})
	if _, err := VerifyChainCached(cache, leaf.Cert, presented, anchor, crl, now); awserr.As(err).Reason != ReasonChainRevoked {
		t.Fatalf("revoked leaf from the cache: %v", err)
	}
	// Past the intermediate's notAfter the cached entry does not apply and
	// full verification explains why.
	if _, err := VerifyChainCached(cache, leaf.Cert, presented, anchor, nil, now.Add(3*time.Hour)); awserr.As(err).Reason != ReasonChainExpired {
		t.Fatalf("expired intermediate: %v", err)
	}
	// Full: starts over rather than growing.
	other := pki.Leaf(inter, "x")
	third := pki.Leaf(inter, "y")
	for _, l := range []*trusttest.Cert{other, third} {
		if _, err := VerifyChainCached(cache, l.Cert, presented, anchor, nil, now); err != nil {
			t.Fatal(err)
		}
	}
	if cache.Len() > 2 {
		t.Fatalf("cache grew to %d", cache.Len())
	}
}
