package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"testing"
	"time"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/credentials"
)

// Two replicas share a store: a key rotated in by one opens tokens on the
// other without a restart, because every replica reloads the ring when its
// stored record changes.
func TestKeyRingReloadAcrossReplicas(t *testing.T) {
	dir := t.TempDir()
	scope := arn.Scope{Partition: "aws", Region: "us-east-1", AccountID: "123456789012"}
	start := func() *Server {
		srv, err := New(context.Background(), Config{DataDir: dir, Scope: scope, Now: time.Now, Rand: rand.Reader, AuditWriter: &bytes.Buffer{}})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Run(ctx, ln, false) }()
		t.Cleanup(func() { cancel(); <-done })
		return srv
	}
	a, b := start(), start()
	if _, err := a.rotator.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	creds, err := credentials.Mint(credentials.Session{RoleArn: "arn:aws:iam::123456789012:role/r", RoleSessionName: "s",
		IssuedAt: now, Expiration: now.Add(time.Hour)}, a.Ring, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := credentials.Open(creds.SessionToken, creds.AccessKeyID, b.Ring, time.Now())
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica b never learned the rotated key: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
