package keysource_test

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/iamra/iamra/helper/keysource"
	kt "github.com/iamra/iamra/helper/keysource/keysourcetest"
)

// atomicWriter mimics the kubelet's AtomicWriter (and cert-manager's
// csi-driver): each generation is a timestamped directory, "..data" is a
// symlink to the current one, and the visible files are symlinks through
// "..data". A swap renames a fresh symlink over "..data", then deletes the
// old generation.
type atomicWriter struct {
	dir string
	gen int
	old string
}

func (w *atomicWriter) write(t *testing.T, files map[string][]byte) {
	t.Helper()
	w.gen++
	genDir := fmt.Sprintf("..2026_11_22_13_00_00.%09d", w.gen)
	if err := os.Mkdir(filepath.Join(w.dir, genDir), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		kt.Write(t, filepath.Join(w.dir, genDir), name, data)
	}
	tmp := filepath.Join(w.dir, "..data_tmp")
	if err := os.Symlink(genDir, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(w.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for name := range files {
		link := filepath.Join(w.dir, name)
		if _, err := os.Lstat(link); errors.Is(err, os.ErrNotExist) {
			if err := os.Symlink(filepath.Join("..data", name), link); err != nil {
				t.Fatal(err)
			}
		}
	}
	if w.old != "" {
		if err := os.RemoveAll(filepath.Join(w.dir, w.old)); err != nil {
			t.Fatal(err)
		}
	}
	w.old = genDir
}

// TestRotationAtomicWriter swaps an RSA identity and an ECDSA identity back
// and forth through a "..data" symlink while another goroutine loads
// continuously: every identity loaded must be one of the two, whole.
func TestRotationAtomicWriter(t *testing.T) {
	dir := t.TempDir()
	pki := kt.NewPKI(t)
	rsaKey, ecKey := kt.RSAKey(t), kt.ECKey(t)
	rsaLeaf := pki.Issue(t, rsaKey.Public(), 1001, "rotating")
	ecLeaf := pki.Issue(t, ecKey.Public(), 1002, "rotating")
	gens := []map[string][]byte{
		{"tls.crt": kt.CertPEM(rsaLeaf), "tls.key": kt.KeyPEM(t, rsaKey)},
		{"tls.crt": kt.CertPEM(ecLeaf), "tls.key": kt.KeyPEM(t, ecKey)},
	}
	w := &atomicWriter{dir: dir}
	w.write(t, gens[0])

	src, err := keysource.Open(keysource.Options{Certificate: filepath.Join(dir, "tls.crt"), PrivateKey: filepath.Join(dir, "tls.key")})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	const swaps = 300
	done := make(chan struct{})
	var wg sync.WaitGroup
	var loads, failures int
	seen := map[string]int{}
	var bad []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			id, err := src.Load(context.Background())
			loads++
			if err != nil {
				// Only a rotation outlasting every retry may fail a load,
				// and it must say so; a wrong pair must never come out.
				failures++
				continue
			}
			pub := id.Signer.Public().(interface{ Equal(crypto.PublicKey) bool })
			switch {
			case id.Certificate.Equal(rsaLeaf) && pub.Equal(rsaLeaf.PublicKey):
				seen["RSA"]++
			case id.Certificate.Equal(ecLeaf) && pub.Equal(ecLeaf.PublicKey):
				seen["ECDSA"]++
			default:
				bad = append(bad, fmt.Sprintf("load %d: certificate serial %s with a %T key", loads, id.Certificate.SerialNumber, id.Signer))
			}
		}
	}()
	for i := 1; i <= swaps; i++ {
		w.write(t, gens[i%2])
	}
	close(done)
	wg.Wait()

	if len(bad) > 0 {
		t.Fatalf("%d inconsistent identities loaded, first: %s", len(bad), bad[0])
	}
	if failures == loads {
		t.Fatalf("all %d loads failed", loads)
	}
	t.Logf("%d loads during %d swaps: %v, %d failed after retries", loads, swaps, seen, failures)

	// After the last swap (to gens[0], since swaps is even) the next load
	// sees it.
	id, err := src.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !id.Certificate.Equal(rsaLeaf) {
		t.Fatalf("after rotation loaded serial %s, want %s", id.Certificate.SerialNumber, rsaLeaf.SerialNumber)
	}
}

// TestRotationHalfDone: a writer that replaces cert and key as two
// separate renames leaves a window with the new certificate and the old
// key. Such a pair is refused (ErrKeyMismatch after the retries), never
// returned.
func TestRotationHalfDone(t *testing.T) {
	dir := t.TempDir()
	pki := kt.NewPKI(t)
	rsaKey, ecKey := kt.RSAKey(t), kt.ECKey(t)
	cert := kt.Write(t, dir, "c.pem", kt.CertPEM(pki.Issue(t, ecKey.Public(), 5, "half")))
	key := kt.Write(t, dir, "k.pem", kt.KeyPEM(t, rsaKey))
	sleeps := 0
	src, err := keysource.Open(keysource.Options{Certificate: cert, PrivateKey: key,
		Sleep: func(context.Context, time.Duration) error {
			sleeps++
			if sleeps == 2 {
				// The writer finishes its second rename during our backoff.
				kt.Write(t, dir, "k.pem", kt.KeyPEM(t, ecKey))
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	id, err := src.Load(context.Background())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if sleeps != 2 {
		t.Fatalf("retried %d times, want 2", sleeps)
	}
	if !id.Signer.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(ecKey.Public()) {
		t.Fatal("loaded the old key")
	}

	// A pair that stays mismatched fails with ErrKeyMismatch.
	kt.Write(t, dir, "k.pem", kt.KeyPEM(t, rsaKey))
	sleeps = 10
	if _, err := src.Load(context.Background()); !errors.Is(err, keysource.ErrKeyMismatch) {
		t.Fatalf("Load error = %v, want ErrKeyMismatch", err)
	}
}
