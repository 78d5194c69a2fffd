package subject

import (
	"context"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/store"
	"github.com/iamra/iamra/store/sqlite"
	"github.com/iamra/iamra/trust/trusttest"
)

var (
	scope = arn.Scope{Partition: "aws", Region: "us-east-1", AccountID: "123456789012"}
	t0    = time.Date(2026, 11, 22, 13, 0, 0, 0, time.UTC)
)

func openStore(t *testing.T) store.Store {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func get(t *testing.T, st store.Store, dn string) (rolesanywhere.Subject, int64) {
	t.Helper()
	var s rolesanywhere.Subject
	var v int64
	err := st.View(context.Background(), func(tx store.Tx) error {
		var err error
		s, v, err = store.Get[rolesanywhere.Subject](tx, store.KindSubject, ID(dn))
		return err
	})
	if err != nil {
		t.Fatalf("subject %s: %v", dn, err)
	}
	return s, v
}

func TestIDIsAStableUUID(t *testing.T) {
	id := ID("CN=workload-rsa,O=Example")
	if id != ID("CN=workload-rsa,O=Example") || id == ID("CN=other") {
		t.Fatal("ids must be a function of the DN")
	}
	if !rolesanywhere.ValidID(id) {
		t.Fatalf("%s is not a valid rolesanywhere id", id)
	}
}

func TestRecordAndCoalesce(t *testing.T) {
	st := openStore(t)
	r := New(st, scope, Options{})
	pki := trusttest.New(t, nil, t0)
	root := pki.Root("Root")
	a := pki.Leaf(root, "a", trusttest.Subject(pkix.Name{CommonName: "a"}))
	a2 := pki.Leaf(root, "a", trusttest.Subject(pkix.Name{CommonName: "a"})) // same subject, new certificate
	arnA := r.Observe(Observation{Leaf: a.Cert, At: t0})
	r.Observe(Observation{Leaf: a.Cert, At: t0.Add(time.Second), Failed: true})
	r.Observe(Observation{Leaf: a2.Cert, At: t0.Add(2 * time.Second), InstanceProperties: map[string]string{"host": "n1"}})
	if arnA != "arn:aws:rolesanywhere:us-east-1:123456789012:subject/"+ID("CN=a") {
		t.Fatalf("ARN %s", arnA)
	}
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	s, v := get(t, st, "CN=a")
	if v != 1 {
		t.Errorf("three sightings coalesced into version %d, want one write", v)
	}
	if !s.LastSeenAt.Equal(t0.Add(2*time.Second)) || !s.CreatedAt.Equal(t0) || s.X509Subject != "CN=a" || !s.Enabled {
		t.Errorf("subject %+v", s)
	}
	if len(s.Credentials) != 2 || s.Credentials[0].SerialNumber != trusttestSerial(a2) || !s.Credentials[1].Failed {
		t.Errorf("credentials %+v", s.Credentials)
	}
	if len(s.InstanceProperties) != 1 || s.InstanceProperties[0].Properties["host"] != "n1" {
		t.Errorf("instance properties %+v", s.InstanceProperties)
	}
}

func trusttestSerial(c *trusttest.Cert) string {
	return hex.EncodeToString(c.Cert.SerialNumber.Bytes())
}

// A sighting that only moves lastSeenAt waits until the stored value is a
// Precision old; one with news is written at once.
func TestPrecisionBoundsWrites(t *testing.T) {
	st := openStore(t)
	r := New(st, scope, Options{Precision: time.Minute})
	pki := trusttest.New(t, nil, t0)
	root := pki.Root("Root")
	leaf := pki.Leaf(root, "w")
	flush := func() {
		t.Helper()
		if err := r.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	r.Observe(Observation{Leaf: leaf.Cert, At: t0})
	flush()
	r.Observe(Observation{Leaf: leaf.Cert, At: t0.Add(10 * time.Second)})
	flush()
	if _, v := get(t, st, "CN=w"); v != 1 {
		t.Fatalf("a routine sighting was written at once (version %d)", v)
	}
	if r.Pending() != 1 {
		t.Fatalf("the sighting must stay pending, have %d", r.Pending())
	}
	r.Observe(Observation{Leaf: leaf.Cert, At: t0.Add(20 * time.Second), Failed: true})
	flush()
	s, v := get(t, st, "CN=w")
	if v != 2 || !s.Credentials[0].Failed || !s.LastSeenAt.Equal(t0.Add(20*time.Second)) {
		t.Fatalf("a failure must be written at once: version %d, %+v", v, s)
	}
	r.Observe(Observation{Leaf: leaf.Cert, At: t0.Add(90 * time.Second), Failed: true})
	flush()
	if s, v := get(t, st, "CN=w"); v != 3 || !s.LastSeenAt.Equal(t0.Add(90*time.Second)) {
		t.Fatalf("lastSeenAt older than the precision must be written: version %d, %v", v, s.LastSeenAt)
	}
}

type failingStore struct {
	store.Store
	fail bool
}

func (f *failingStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	if f.fail {
		return errors.New("disk unavailable")
	}
	return f.Store.Update(ctx, fn)
}

// A failed flush loses nothing: the sightings are written by the next one.
func TestFailedFlushRequeues(t *testing.T) {
	fs := &failingStore{Store: openStore(t), fail: true}
	var flushed []int
	r := New(fs, scope, Options{OnFlush: func(n int, _ time.Duration, _ error) { flushed = append(flushed, n) }})
	pki := trusttest.New(t, nil, t0)
	leaf := pki.Leaf(pki.Root("Root"), "w")
	r.Observe(Observation{Leaf: leaf.Cert, At: t0})
	if err := r.Flush(context.Background()); err == nil {
		t.Fatal("flush on a failing store succeeded")
	}
	fs.fail = false
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	get(t, fs.Store, "CN=w")
	if len(flushed) != 2 || flushed[0] != 0 || flushed[1] != 1 {
		t.Fatalf("flush reports %v", flushed)
	}
}

// Past MaxPending, new subjects are dropped and counted; known ones still
// coalesce.
func TestMaxPending(t *testing.T) {
	drops := 0
	r := New(openStore(t), scope, Options{MaxPending: 2, OnDrop: func() { drops++ }})
	pki := trusttest.New(t, nil, t0)
	root := pki.Root("Root")
	for _, cn := range []string{"a", "b", "c", "a"} {
		r.Observe(Observation{Leaf: pki.Leaf(root, cn).Cert, At: t0})
	}
	if r.Pending() != 2 || drops != 1 {
		t.Fatalf("pending %d drops %d", r.Pending(), drops)
	}
}
