package server

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/iamra/iamra/credentials"
	"github.com/iamra/iamra/datadir"
	"github.com/iamra/iamra/store"
)

// The session-token key ring lives in the store, sealed under the KEK, so
// every replica sharing a store seals and opens the same tokens.
const (
	keyRingID = "session-tokens"
	adKeyRing = "iamra/session-token-key-ring"
)

type sealedRing struct {
	Sealed []byte `json:"sealed"`
}

// loadKeyRing reads the ring, creating it on first start.
func loadKeyRing(ctx context.Context, st store.Store, state *datadir.State, now time.Time, rnd io.Reader) (*credentials.KeyRing, error) {
	var ring *credentials.KeyRing
	err := st.Update(ctx, func(tx store.Tx) error {
		rec, _, err := store.Get[sealedRing](tx, store.KindKeyRing, keyRingID)
		if err == nil {
			plain, err := state.KEK.Open(rec.Sealed, []byte(adKeyRing))
			if err != nil {
				return err
			}
			ring = &credentials.KeyRing{}
			return ring.UnmarshalBinary(plain)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		ring, err = credentials.NewKeyRing(now, rnd)
		if err != nil {
			return err
		}
		return putRing(tx, state, ring, 0)
	})
	return ring, err
}

func putRing(tx store.Tx, state *datadir.State, ring *credentials.KeyRing, version int64) error {
	plain, err := ring.MarshalBinary()
	if err != nil {
		return err
	}
	sealed, err := state.KEK.Seal(plain, []byte(adKeyRing))
	if err != nil {
		return err
	}
	_, err = store.Put(tx, store.KindKeyRing, keyRingID, version, sealedRing{Sealed: sealed})
	return err
}

// saveRing stores a rotated ring (the rotator publishes it only after this
// succeeds).
func (s *Server) saveRing(ctx context.Context, next *credentials.KeyRing) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		_, v, err := store.Get[sealedRing](tx, store.KindKeyRing, keyRingID)
		if err != nil {
			return err
		}
		return putRing(tx, s.State, next, v)
	})
}

// reloadRing replaces the in-memory ring with the stored one, so every
// replica opens tokens sealed with keys another replica rotated in.
func (s *Server) reloadRing(ctx context.Context) error {
	return s.Store.View(ctx, func(tx store.Tx) error {
		rec, _, err := store.Get[sealedRing](tx, store.KindKeyRing, keyRingID)
		if err != nil {
			return err
		}
		plain, err := s.State.KEK.Open(rec.Sealed, []byte(adKeyRing))
		if err != nil {
			return err
		}
		return s.Ring.UnmarshalBinary(plain)
	})
}
