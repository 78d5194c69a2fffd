package trust

import (
	"crypto/sha256"
	"crypto/x509"
	"sync"
	"time"
)

// ChainCache remembers chains VerifyChain accepted, so a certificate that
// comes back (a workload refreshes its credentials every few minutes with
// the same certificate) costs no second chain-signature verification.
//
// What is cached is a fact that cannot change: these exact certificates
// form a valid path to this anchor. What can change is checked on every
// use: the time (each entry keeps the validity window of the whole chain)
// and revocation (the current CRLs are consulted each time). The cache
// belongs to one configuration snapshot, so a change to trust anchors or
// CRLs starts a fresh one. It is bounded: when full it starts over, which
// costs one verification per certificate, never a wrong answer.
type ChainCache struct {
	mu  sync.RWMutex
	m   map[[sha256.Size]byte]cachedChain
	max int
}

type cachedChain struct {
	rest                []*x509.Certificate // the chain after the leaf
	notBefore, notAfter time.Time           // when every certificate of the chain is valid
}

// NewChainCache returns a cache of at most max chains (65536 if max <= 0).
func NewChainCache(max int) *ChainCache {
	if max <= 0 {
		max = 1 << 16
	}
	return &ChainCache{m: map[[sha256.Size]byte]cachedChain{}, max: max}
}

// Len reports how many chains the cache holds.
func (c *ChainCache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// cacheKey covers the anchor, the leaf and the presented certificates, so
// a request is answered from the cache only if it presents exactly what a
// verified request presented.
func cacheKey(leaf *x509.Certificate, presented []*x509.Certificate, anchor *Anchor) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(anchor.ID))
	h.Write([]byte{0})
	h.Write(leaf.Raw)
	for _, p := range presented {
		h.Write([]byte{0})
		if p != nil {
			h.Write(p.Raw)
		}
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// VerifyChainCached is VerifyChain with a cache (which may be nil).
func VerifyChainCached(cache *ChainCache, leaf *x509.Certificate, presented []*x509.Certificate, anchor *Anchor, revocations *RevocationIndex, now time.Time) (Result, error) {
	if cache == nil || anchor == nil || len(presented) > MaxChainCertificates {
		return VerifyChain(leaf, presented, anchor, revocations, now)
	}
	key := cacheKey(leaf, presented, anchor)
	cache.mu.RLock()
	e, hit := cache.m[key]
	cache.mu.RUnlock()
	if hit && !now.Before(e.notBefore) && !now.After(e.notAfter) {
		res := Result{Chain: append([]*x509.Certificate{leaf}, e.rest...)}
		if err := revocations.check(res.Chain, now, &res.StaleCRLs); err != nil {
			return Result{}, err
		}
		return res, nil
	}
	// A miss, or a chain now outside its validity: full verification
	// gives the precise answer.
	res, err := VerifyChain(leaf, presented, anchor, revocations, now)
	if err != nil {
		return res, err
	}
	// A copy: res.Chain[1:] would share its array with the leaf, and keep
	// every cached leaf's parsed certificate alive.
	e = cachedChain{rest: append([]*x509.Certificate(nil), res.Chain[1:]...), notBefore: res.Chain[0].NotBefore, notAfter: res.Chain[0].NotAfter}
	for _, c := range res.Chain[1:] {
		if c.NotBefore.After(e.notBefore) {
			e.notBefore = c.NotBefore
		}
		if c.NotAfter.Before(e.notAfter) {
			e.notAfter = c.NotAfter
		}
	}
	cache.mu.Lock()
	if len(cache.m) >= cache.max {
		clear(cache.m)
	}
	cache.m[key] = e
	cache.mu.Unlock()
	return res, nil
}
