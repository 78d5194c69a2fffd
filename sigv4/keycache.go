package sigv4

import (
	"crypto/sha256"
	"sync"
)

// KeyCache remembers derived signing keys, saving the four HMACs of the
// key derivation for every request after the first with the same secret,
// date, region and service. A nil *KeyCache derives every time. It is
// safe for concurrent use.
type KeyCache struct {
	mu  sync.RWMutex
	m   map[keyCacheKey][sha256.Size]byte
	max int
}

type keyCacheKey struct {
	secret string
	cred   Credential
}

// NewKeyCache returns a cache holding at most max keys; when full it starts
// over, which bounds memory without bookkeeping on the hot path (keys are
// cheap to derive again).
func NewKeyCache(max int) *KeyCache {
	if max < 1 {
		max = 1
	}
	return &KeyCache{m: make(map[keyCacheKey][sha256.Size]byte), max: max}
}

func (c *KeyCache) signingKey(secret string, cred Credential) [sha256.Size]byte {
	if c == nil {
		return deriveKey(secret, cred)
	}
	k := keyCacheKey{secret: secret, cred: cred}
	c.mu.RLock()
	key, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return key
	}
	key = deriveKey(secret, cred)
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[k] = key
	c.mu.Unlock()
	return key
}
