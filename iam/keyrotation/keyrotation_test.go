package keyrotation

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/iamra/iamra/credentials"
)

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func TestRotate(t *testing.T) {
	ring, err := credentials.NewKeyRing(t0, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	var saved *credentials.KeyRing
	r := &Rotator{Ring: ring, Now: func() time.Time { return now },
		Save: func(_ context.Context, next *credentials.KeyRing) error { saved = next; return nil }}
	old, err := credentials.Mint(credentials.Session{RoleArn: "arn:aws:iam::111122223333:role/r", RoleSessionName: "s",
		IssuedAt: now, Expiration: now.Add(12 * time.Hour)}, ring, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Due(now.Add(23 * time.Hour)) {
		t.Fatal("due before the interval")
	}
	now = now.Add(24 * time.Hour)
	if !r.Due(now) {
		t.Fatal("not due after the interval")
	}
	res, err := r.Rotate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.KeysNow != 2 || res.Pruned != 0 || saved == nil || len(saved.Keys()) != 2 {
		t.Fatalf("rotation %+v, saved %v", res, saved.Keys())
	}
	// The retired key still opens the tokens it sealed (here already
	// expired, so ExpiredToken, not InvalidClientTokenId).
	if _, err := credentials.Open(old.SessionToken, old.AccessKeyID, ring, t0.Add(time.Hour)); err != nil {
		t.Fatalf("old token: %v", err)
	}
	// New tokens are sealed with the new key.
	fresh, _ := credentials.Mint(credentials.Session{RoleArn: "arn:aws:iam::111122223333:role/r", RoleSessionName: "s",
		IssuedAt: now, Expiration: now.Add(time.Hour)}, ring, nil)
	if _, err := credentials.Open(fresh.SessionToken, fresh.AccessKeyID, saved, now); err != nil {
		t.Fatalf("saved ring cannot open new tokens: %v", err)
	}
	// A day later the first retired key is pruned.
	now = now.Add(24 * time.Hour)
	res, err = r.Rotate(context.Background())
	if err != nil || res.Pruned != 1 || res.KeysNow != 2 {
		t.Fatalf("second rotation %+v %v", res, err)
	}
	if _, err := credentials.Open(old.SessionToken, old.AccessKeyID, ring, t0.Add(time.Hour)); err == nil {
		t.Fatal("pruned key still opens tokens")
	}
}

// A failed save publishes nothing: this process keeps sealing with the
// key every replica knows.
func TestRotateSaveFails(t *testing.T) {
	ring, _ := credentials.NewKeyRing(t0, nil)
	before := ring.Keys()
	r := &Rotator{Ring: ring, Now: func() time.Time { return t0.Add(48 * time.Hour) },
		Save: func(context.Context, *credentials.KeyRing) error { return errors.New("store down") }}
	if _, err := r.Rotate(context.Background()); err == nil {
		t.Fatal("rotation succeeded without saving")
	}
	if after := ring.Keys(); len(after) != 1 || after[0] != before[0] {
		t.Fatalf("ring changed: %v", after)
	}
}
