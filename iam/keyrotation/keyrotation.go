// Package keyrotation rotates the key ring that seals session tokens:
// a new current key at a fixed interval, retired keys kept for opening the
// tokens they sealed until those can no longer be valid
// (credentials.RetiredKeyRetention), then pruned.
//
// Rotation must reach every replica before any of them seals with the new
// key, or the others could not open its tokens. So a rotation is prepared
// on a copy of the ring, saved (the server stores it sealed under its KEK,
// and replicas reload it on the store's change notification), and only
// then published in this process. A failed save changes nothing.
package keyrotation

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"time"

	"github.com/iamra/iamra/credentials"
)

// DefaultInterval is how long a key stays current. A day bounds what one
// leaked ring key exposes to a day of sessions, and keeps the ring at
// about three keys (the current one and those retired in the last 12h5m).
const DefaultInterval = 24 * time.Hour

// Rotator rotates and prunes a key ring.
type Rotator struct {
	Ring *credentials.KeyRing
	// Save persists the next ring before it is used; required. The server
	// writes it to the store sealed with the KEK.
	Save func(ctx context.Context, next *credentials.KeyRing) error
	// Interval is how long a key stays current; DefaultInterval when zero.
	Interval time.Duration
	Now      func() time.Time
	Rand     io.Reader
	// OnError is told about failed rotations in Run; nil ignores them
	// (Run retries at the next check).
	OnError func(error)
}

func (r *Rotator) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

func (r *Rotator) interval() time.Duration {
	if r.Interval <= 0 {
		return DefaultInterval
	}
	return r.Interval
}

// Due reports whether the current key is older than the interval, or
// whether retired keys can be pruned.
func (r *Rotator) Due(now time.Time) bool {
	for _, k := range r.Ring.Keys() {
		if k.Retired.IsZero() && now.Sub(k.Created) >= r.interval() {
			return true
		}
		if !k.Retired.IsZero() && now.Sub(k.Retired) > credentials.RetiredKeyRetention {
			return true
		}
	}
	return false
}

// Result says what a rotation did.
type Result struct {
	NewKey  uint32 // the new current key's id
	Pruned  int    // retired keys dropped
	KeysNow int
}

// Rotate makes a new current key now and prunes expired retired keys:
// prepared on a copy, saved, then published.
func (r *Rotator) Rotate(ctx context.Context) (Result, error) {
	if r.Ring == nil || r.Save == nil {
		return Result{}, errors.New("keyrotation: Ring and Save are required")
	}
	rnd := r.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	now := r.now()
	data, err := r.Ring.MarshalBinary()
	if err != nil {
		return Result{}, err
	}
	next, err := credentials.ParseKeyRing(data)
	if err != nil {
		return Result{}, err
	}
	if err := next.Rotate(now, rnd); err != nil {
		return Result{}, err
	}
	pruned := next.Prune(now)
	if err := r.Save(ctx, next); err != nil {
		return Result{}, err
	}
	data, err = next.MarshalBinary()
	if err != nil {
		return Result{}, err
	}
	if err := r.Ring.UnmarshalBinary(data); err != nil {
		return Result{}, err
	}
	res := Result{Pruned: pruned}
	for _, k := range r.Ring.Keys() {
		res.KeysNow++
		if k.Retired.IsZero() {
			res.NewKey = k.ID
		}
	}
	return res, nil
}

// Run checks every check interval (a tenth of Interval, at most an hour)
// and rotates when Due, until ctx ends.
func (r *Rotator) Run(ctx context.Context) {
	check := min(r.interval()/10, time.Hour)
	t := time.NewTicker(check)
	defer t.Stop()
	for {
		if r.Due(r.now()) {
			if _, err := r.Rotate(ctx); err != nil && r.OnError != nil {
				r.OnError(err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
