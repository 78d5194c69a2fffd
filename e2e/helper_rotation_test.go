package e2e

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iamra/iamra/helper/keysource"
	"github.com/iamra/iamra/helper/keysource/keysourcetest"
	"github.com/iamra/iamra/helper/rolesclient"
	"github.com/iamra/iamra/x509attr"
)

// atomicDir writes a certificate and key the way the kubelet's
// AtomicWriter updates a secret or projected volume: each generation in a
// new hidden timestamped directory, ..data a symlink to it, swapped by
// renaming a new symlink over it, the old generation removed afterwards,
// and the visible files symlinks through ..data.
type atomicDir struct {
	dir string
	gen int
	cur string
}

func (a *atomicDir) cert() string { return filepath.Join(a.dir, "tls.crt") }
func (a *atomicDir) key() string  { return filepath.Join(a.dir, "tls.key") }

func (a *atomicDir) publish(p pair) error {
	a.gen++
	name := fmt.Sprintf("..2026_11_22_14_00_00.%09d", a.gen)
	gen := filepath.Join(a.dir, name)
	if err := os.Mkdir(gen, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(gen, "tls.crt"), p.certPEM, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(gen, "tls.key"), p.keyPEM, 0o600); err != nil {
		return err
	}
	tmp := filepath.Join(a.dir, "..data_tmp")
	if err := os.Symlink(name, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(a.dir, "..data")); err != nil {
		return err
	}
	if a.cur == "" {
		for _, f := range []string{"tls.crt", "tls.key"} {
			if err := os.Symlink(filepath.Join("..data", f), filepath.Join(a.dir, f)); err != nil {
				return err
			}
		}
	} else if err := os.RemoveAll(filepath.Join(a.dir, a.cur)); err != nil {
		return err
	}
	a.cur = name
	return nil
}

// pair is a workload certificate and its key, PEM encoded, and the
// SigV4-X509 algorithm the key signs with.
type pair struct {
	leaf      *x509.Certificate
	certPEM   []byte
	keyPEM    []byte
	algorithm string
}

func newPair(t testing.TB, w *helperWorld, key crypto.Signer, serial int64, cn string) pair {
	t.Helper()
	leaf := w.pki.Issue(t, key.Public(), serial, cn)
	alg := "AWS4-X509-ECDSA-SHA256"
	if _, ok := key.(*ecdsa.PrivateKey); !ok {
		alg = "AWS4-X509-RSA-SHA256"
	}
	return pair{leaf: leaf, certPEM: keysourcetest.CertPEM(leaf), keyPEM: keysourcetest.KeyPEM(t, key), algorithm: alg}
}

// A rotating certificate, swapped as the kubelet swaps a volume, also
// from RSA to ECDSA: the next CreateSession is signed with the new pair
// and its algorithm. While pairs are swapped continuously under a stream
// of CreateSessions, no torn pair (one generation's certificate with
// another's key) reaches the server: its audit log holds no signature
// failure, only successes, each for a pair that was published. A
// certificate replaced without its key (a non-atomic rotator) is not sent
// at all.
func TestHelperRotation(t *testing.T) {
	bin := helperBinary(t)
	w := newHelperWorld(t, worldOptions{})
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pairs := []pair{
		newPair(t, w, keysourcetest.RSAKey(t), 0x2001, "rotation-rsa-a"),
		newPair(t, w, keysourcetest.ECKey(t), 0x2002, "rotation-ec-p256"),
		newPair(t, w, p384, 0x2003, "rotation-ec-p384"),
		newPair(t, w, keysourcetest.RSAKey(t), 0x2004, "rotation-rsa-b"),
	}
	vol := &atomicDir{dir: t.TempDir()}
	env := childEnvWithout("AWS_CA_BUNDLE=" + w.CABundle())

	// credentialProcess runs the helper binary once: one CreateSession.
	credentialProcess := func(t *testing.T, cert, key string) (akid string, stderr string, err error) {
		cmd := exec.Command(bin, append([]string{"credential-process"}, w.helperFlags(cert, key)...)...)
		cmd.Env = env
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Run(); err != nil {
			return "", e.String(), err
		}
		var c struct{ AccessKeyId, SecretAccessKey, SessionToken string }
		if err := json.Unmarshal(o.Bytes(), &c); err != nil {
			t.Fatalf("credential-process printed %q: %v", o.String(), err)
		}
		return c.AccessKeyId, e.String(), nil
	}
	// usedPair checks that akid was issued for p, signed with p's key.
	usedPair := func(t *testing.T, akid string, p pair) {
		t.Helper()
		rec := w.sessionFor(t, akid)
		if rec.UserIdentity.SerialNumber != x509attr.SerialHex(p.leaf.SerialNumber) || rec.AdditionalEventData.SignatureAlgorithm != p.algorithm ||
			rec.UserIdentity.X509Subject != p.leaf.Subject.String() {
			t.Fatalf("CreateSession for %s: serial %s, subject %q, algorithm %s; want %s, %q, %s", akid, rec.UserIdentity.SerialNumber,
				rec.UserIdentity.X509Subject, rec.AdditionalEventData.SignatureAlgorithm, x509attr.SerialHex(p.leaf.SerialNumber), p.leaf.Subject, p.algorithm)
		}
	}

	t.Run("next-session-uses-new-pair", func(t *testing.T) {
		for _, p := range pairs[:3] { // RSA, then ECDSA P-256, then P-384
			if err := vol.publish(p); err != nil {
				t.Fatal(err)
			}
			akid, stderr, err := credentialProcess(t, vol.cert(), vol.key())
			if err != nil {
				t.Fatalf("after publishing %s: %v\n%s", p.leaf.Subject, err, stderr)
			}
			usedPair(t, akid, p)
		}
	})

	t.Run("swap-loop", func(t *testing.T) {
		// The loop drives the helper's libraries in-process (what
		// credential-process and serve run: keysource re-reading the files,
		// rolesclient signing), to count the torn snapshots keysource
		// retried: each retry is one call of its Sleep.
		var retries atomic.Int64
		src, err := keysource.Open(keysource.Options{Certificate: vol.cert(), PrivateKey: vol.key(),
			Sleep: func(ctx context.Context, d time.Duration) error { retries.Add(1); return keysource.Sleep(ctx, d) }})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		hc, err := rolesclient.NewHTTPClient(rolesclient.TransportOptions{CABundle: w.CABundle()})
		if err != nil {
			t.Fatal(err)
		}
		client := rolesclient.New(hc, rolesclient.DefaultVersion)
		in := rolesclient.Input{TrustAnchorARN: w.TrustAnchorArn, ProfileARN: w.ProfileArn, RoleARN: w.RoleArn,
			DurationSeconds: 3600, Endpoint: w.Endpoint(), Identity: src}

		// The swapper publishes generation after generation, a little
		// apart so that a retried read can find a settled generation, as
		// it would with any real rotator.
		ctx, stop := context.WithCancel(context.Background())
		swapped := make(chan error, 1)
		var swaps atomic.Int64
		go func() {
			for i := 0; ctx.Err() == nil; i++ {
				if err := vol.publish(pairs[i%len(pairs)]); err != nil {
					swapped <- err
					return
				}
				swaps.Add(1)
				time.Sleep(time.Millisecond)
			}
			swapped <- nil
		}()
		bySerial := map[string]pair{}
		for _, p := range pairs {
			bySerial[x509attr.SerialHex(p.leaf.SerialNumber)] = p
		}
		seen := map[string]int{}
		// Enough sessions to see every pair and several torn snapshots;
		// bounded so a machine too slow to tear any still finishes.
		for i := 0; i < 400 && (i < 40 || retries.Load() < 3 || len(seen) < len(pairs)); i++ {
			out, err := client.CreateSession(context.Background(), in)
			if err != nil {
				stop()
				t.Fatalf("CreateSession %d during the swap loop: %v", i, err)
			}
			rec := w.sessionFor(t, out.AccessKeyID)
			p, ok := bySerial[rec.UserIdentity.SerialNumber]
			if !ok || rec.AdditionalEventData.SignatureAlgorithm != p.algorithm {
				stop()
				t.Fatalf("session %d signed by serial %s with %s", i, rec.UserIdentity.SerialNumber, rec.AdditionalEventData.SignatureAlgorithm)
			}
			seen[rec.UserIdentity.SerialNumber]++
		}
		stop()
		if err := <-swapped; err != nil {
			t.Fatal(err)
		}
		t.Logf("%d swaps, sessions per serial %v, %d torn snapshots retried", swaps.Load(), seen, retries.Load())
		if retries.Load() == 0 {
			t.Errorf("no snapshot was torn in %d swaps: the loop proved nothing about torn pairs", swaps.Load())
		}
		if len(seen) < 2 {
			t.Errorf("sessions used only %v across %d swaps", seen, swaps.Load())
		}
	})

	t.Run("certificate-without-its-key", func(t *testing.T) {
		// A rotator that writes files in place has replaced the
		// certificate and not yet the key: that pair is never sent.
		dir := t.TempDir()
		cert := keysourcetest.Write(t, dir, "cert.pem", pairs[1].certPEM)
		key := keysourcetest.Write(t, dir, "key.pem", pairs[0].keyPEM)
		before := len(w.sessions(t))
		_, stderr, err := credentialProcess(t, cert, key)
		if err == nil {
			t.Fatal("credential-process succeeded with a certificate and another pair's key")
		}
		if !strings.Contains(stderr, keysource.ErrKeyMismatch.Error()) {
			t.Errorf("stderr %q does not say the key does not match", stderr)
		}
		if after := len(w.sessions(t)); after != before {
			t.Fatalf("the mismatched pair reached the server: %d CreateSessions before, %d after", before, after)
		}
		// The key arrives: the next call uses the completed pair.
		keysourcetest.Write(t, dir, "key.pem", pairs[1].keyPEM)
		akid, stderr, err := credentialProcess(t, cert, key)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		usedPair(t, akid, pairs[1])
	})

	// Across the whole test the server saw no signature failure: no
	// sig.bad_signature, no sig.algorithm_key_mismatch, nothing refused.
	for _, r := range w.sessions(t) {
		if r.ErrorCode != "" {
			t.Errorf("the server refused a CreateSession: %s (%s)", r.ErrorCode, r.AdditionalEventData.Reason)
		}
	}
}
