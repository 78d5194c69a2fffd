package credentials

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// MaxSessionDuration is the longest session a token may carry (AWS's
// DurationSeconds limit, 43200 s). Mint refuses longer ones, which is what
// makes pruning retired keys safe.
const MaxSessionDuration = 12 * time.Hour

// RetiredKeyRetention is how long a retired key is kept for opening tokens:
// the longest session plus clock skew between replicas.
const RetiredKeyRetention = MaxSessionDuration + 5*time.Minute

// keySize is the length of a ring key: 256-bit keys for AES-256-GCM and
// HMAC-SHA256.
const keySize = 32

// ringKey is one token-sealing key. Values are never modified once they
// are part of a published ring.
type ringKey struct {
	id      uint32
	key     [keySize]byte
	block   cipher.Block // AES-256 under key: derives the per-token keys
	created time.Time
	// retired is when the key stopped being current; zero for the current
	// key.
	retired time.Time
}

func (k *ringKey) init() error {
	b, err := aes.NewCipher(k.key[:])
	if err != nil {
		return fmt.Errorf("credentials: key ring: %w", err)
	}
	k.block = b
	return nil
}

// ring is an immutable snapshot of the key ring.
type ring struct {
	keys    []*ringKey // sorted by created, oldest first
	current *ringKey   // nil only for an empty ring
}

func (r *ring) lookup(id uint32) *ringKey {
	for _, k := range r.keys {
		if k.id == id {
			return k
		}
	}
	return nil
}

// KeyRing holds the keys that seal and open session tokens: one current
// key for sealing, and retired keys kept for opening the tokens they
// sealed until those can no longer be valid.
//
// A KeyRing is safe for concurrent use. Mint and Open read an immutable
// snapshot through an atomic pointer and never lock; Rotate, Prune and
// UnmarshalBinary build a new snapshot and publish it. The zero value is
// an empty ring, which opens nothing and cannot mint.
type KeyRing struct {
	mu   sync.Mutex // serialises writers
	snap atomic.Pointer[ring]
}

// NewKeyRing returns a ring with one new current key drawn from rnd
// (crypto/rand when nil).
func NewKeyRing(now time.Time, rnd io.Reader) (*KeyRing, error) {
	kr := new(KeyRing)
	if err := kr.Rotate(now, rnd); err != nil {
		return nil, err
	}
	return kr, nil
}

func (kr *KeyRing) load() *ring {
	if r := kr.snap.Load(); r != nil {
		return r
	}
	return &ring{}
}

// Rotate adds a new current key; the previous current key is retired at
// now and keeps opening the tokens it sealed.
func (kr *KeyRing) Rotate(now time.Time, rnd io.Reader) error {
	if rnd == nil {
		rnd = rand.Reader
	}
	kr.mu.Lock()
	defer kr.mu.Unlock()
	old := kr.load()
	nk := &ringKey{created: now.UTC()}
	if _, err := io.ReadFull(rnd, nk.key[:]); err != nil {
		return fmt.Errorf("credentials: rotate key ring: %w", err)
	}
	if err := nk.init(); err != nil {
		return err
	}
	// Random ids, not a counter: two rings rotated independently (a
	// restored backup, a split brain) then never reuse an id for
	// different keys.
	var idb [4]byte
	for {
		if _, err := io.ReadFull(rnd, idb[:]); err != nil {
			return fmt.Errorf("credentials: rotate key ring: %w", err)
		}
		nk.id = binary.BigEndian.Uint32(idb[:])
		if old.lookup(nk.id) == nil {
			break
		}
	}
	next := &ring{keys: make([]*ringKey, 0, len(old.keys)+1), current: nk}
	for _, k := range old.keys {
		if k == old.current {
			c := *k
			c.retired = now.UTC()
			k = &c
		}
		next.keys = append(next.keys, k)
	}
	next.keys = append(next.keys, nk)
	kr.snap.Store(next)
	return nil
}

// Prune drops retired keys whose tokens have all expired: those retired
// more than RetiredKeyRetention before now. It never drops the current
// key, and returns how many keys it dropped.
func (kr *KeyRing) Prune(now time.Time) int {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	old := kr.load()
	next := &ring{current: old.current}
	for _, k := range old.keys {
		if k != old.current && now.Sub(k.retired) > RetiredKeyRetention {
			continue
		}
		next.keys = append(next.keys, k)
	}
	dropped := len(old.keys) - len(next.keys)
	if dropped > 0 {
		kr.snap.Store(next)
	}
	return dropped
}

// KeyInfo describes a ring key without its secret, for status pages and
// metrics.
type KeyInfo struct {
	ID      uint32
	Created time.Time
	Retired time.Time // zero for the current key
}

// Keys lists the ring's keys, oldest first.
func (kr *KeyRing) Keys() []KeyInfo {
	r := kr.load()
	out := make([]KeyInfo, len(r.keys))
	for i, k := range r.keys {
		out[i] = KeyInfo{ID: k.id, Created: k.created, Retired: k.retired}
	}
	return out
}

// ringJSON is the serialised ring. It is plain JSON because the server
// stores it sealed with the KEK (package kek); it is never stored or sent
// in the clear.
type ringJSON struct {
	Version int           `json:"version"`
	Current uint32        `json:"current"`
	Keys    []ringKeyJSON `json:"keys"`
}

type ringKeyJSON struct {
	ID      uint32    `json:"id"`
	Key     []byte    `json:"key"`
	Created time.Time `json:"created"`
	Retired time.Time `json:"retired,omitzero"`
}

// MarshalBinary serialises the ring, secrets included. Seal the result
// (kek.KEK.Seal) before storing it.
func (kr *KeyRing) MarshalBinary() ([]byte, error) {
	r := kr.load()
	if r.current == nil {
		return nil, errors.New("credentials: key ring is empty")
	}
	out := ringJSON{Version: 1, Current: r.current.id}
	for _, k := range r.keys {
		out.Keys = append(out.Keys, ringKeyJSON{ID: k.id, Key: k.key[:], Created: k.created, Retired: k.retired})
	}
	return json.Marshal(out)
}

// UnmarshalBinary replaces the ring's keys with those in data, atomically:
// a server calls it when the stored ring changes, while requests keep
// opening tokens with the old snapshot until the new one is published.
func (kr *KeyRing) UnmarshalBinary(data []byte) error {
	var in ringJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return fmt.Errorf("credentials: key ring: %w", err)
	}
	if in.Version != 1 {
		return fmt.Errorf("credentials: key ring: unsupported version %d", in.Version)
	}
	next := &ring{}
	for _, kj := range in.Keys {
		if len(kj.Key) != keySize {
			return fmt.Errorf("credentials: key ring: key %08x is %d bytes, want %d", kj.ID, len(kj.Key), keySize)
		}
		if next.lookup(kj.ID) != nil {
			return fmt.Errorf("credentials: key ring: duplicate key id %08x", kj.ID)
		}
		k := &ringKey{id: kj.ID, created: kj.Created, retired: kj.Retired}
		copy(k.key[:], kj.Key)
		if err := k.init(); err != nil {
			return err
		}
		next.keys = append(next.keys, k)
		if k.id == in.Current {
			next.current = k
		}
	}
	if next.current == nil {
		return fmt.Errorf("credentials: key ring: current key %08x is not in the ring", in.Current)
	}
	if !next.current.retired.IsZero() {
		return fmt.Errorf("credentials: key ring: current key %08x is marked retired", in.Current)
	}
	slices.SortStableFunc(next.keys, func(a, b *ringKey) int { return a.created.Compare(b.created) })
	kr.mu.Lock()
	kr.snap.Store(next)
	kr.mu.Unlock()
	return nil
}

// ParseKeyRing returns a ring from MarshalBinary's output.
func ParseKeyRing(data []byte) (*KeyRing, error) {
	kr := new(KeyRing)
	if err := kr.UnmarshalBinary(data); err != nil {
		return nil, err
	}
	return kr, nil
}
