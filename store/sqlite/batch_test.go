package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/iamra/iamra/store"
)

// member is one Update run by hand into the open batch, the way Update
// runs it, so a test decides exactly which Updates share a commit.
type member struct {
	name string
	ctx  context.Context // nil = the test's
	fn   func(store.Tx) error
	err  error // want errors.Is(got, err); nil = success
	wait bool  // want: the caller has to wait for the commit
}

// runMembers runs ms, in order, into one batch and returns it, still open.
func runMembers(t *testing.T, s *Store, ms []member) *batch {
	t.Helper()
	var b *batch
	for _, m := range ms {
		s.writeSem <- struct{}{}
		got, err := s.joinBatch()
		if err != nil {
			t.Fatalf("%s: join: %v", m.name, err)
		}
		if b == nil {
			b = got
		} else if got != b {
			t.Fatalf("%s: ran in a new batch", m.name)
		}
		ctx := m.ctx
		if ctx == nil {
			ctx = t.Context()
		}
		wait, err := s.runInBatch(ctx, got, m.fn)
		if !errors.Is(err, m.err) || (m.err == nil) != (err == nil) {
			t.Fatalf("%s: error = %v, want %v", m.name, err, m.err)
		}
		if wait != m.wait {
			t.Fatalf("%s: wait = %v, want %v", m.name, wait, m.wait)
		}
	}
	return b
}

func putFn(kind store.Kind, id string) func(store.Tx) error {
	return func(tx store.Tx) error {
		_, err := tx.Put(store.Record{Kind: kind, ID: id, Data: []byte(`"` + id + `"`)})
		return err
	}
}

// exists reports whether kind/id is committed, as a reader sees it.
func exists(t *testing.T, s *Store, kind store.Kind, id string) bool {
	t.Helper()
	err := s.View(t.Context(), func(tx store.Tx) error {
		_, err := tx.Get(kind, id)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// changeLog returns the change log's entries after revision after.
func changeLog(t *testing.T, s *Store, after int64) []string {
	t.Helper()
	rows, err := s.readers.QueryContext(t.Context(), stmtText[sChangesSince], after)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var rev int64
		var kinds string
		if err := rows.Scan(&rev, &kinds); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d %s", rev, kinds))
	}
	return out
}

// TestBatchMembers runs Updates of every outcome into one batch: each
// gets its own result, failed ones leave nothing, later ones see earlier
// ones' writes, readers see nothing until the one COMMIT, and every
// Update that wrote has its own revision and change log entry.
func TestBatchMembers(t *testing.T) {
	s := openTemp(t, Options{PollInterval: -1})
	put(t, s, store.Record{Kind: store.KindRole, ID: "existing", Data: []byte(`1`)})
	ch := s.Changes(t.Context())
	rev0, commits0 := int64(1), s.commits.Load()
	boom := errors.New("boom")
	canceled, cancel := context.WithCancel(t.Context())
	cancel()

	b := runMembers(t, s, []member{
		{name: "writes a", fn: putFn(store.KindSubject, "a"), wait: true},
		{name: "fails after writing", fn: func(tx store.Tx) error {
			if err := putFn(store.KindSubject, "b")(tx); err != nil {
				return err
			}
			return boom
		}, err: boom},
		{name: "sees a", fn: func(tx store.Tx) error { _, err := tx.Get(store.KindSubject, "a"); return err }, wait: true},
		{name: "does not see b", fn: func(tx store.Tx) error { _, err := tx.Get(store.KindSubject, "b"); return err }, err: store.ErrNotFound},
		{name: "contract error", fn: putFn(store.KindRole, "existing"), err: store.ErrExists},
		{name: "caller gave up", ctx: canceled, fn: putFn(store.KindSubject, "gone"), err: context.Canceled},
		{name: "writes c", fn: putFn(store.KindProfile, "c"), wait: true},
		{name: "writes a second kind", fn: func(tx store.Tx) error {
			if _, err := tx.PutAny(store.Record{Kind: store.KindProfile, ID: "c", Data: []byte(`2`)}); err != nil {
				return err
			}
			return putFn(store.KindCRL, "d")(tx)
		}, wait: true},
	})
	if exists(t, s, store.KindSubject, "a") {
		t.Fatal("a reader saw a write before its batch committed")
	}
	if err := s.awaitCommit(b); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if n := s.commits.Load() - commits0; n != 1 {
		t.Fatalf("%d commits for one batch", n)
	}
	if s.open != nil {
		t.Fatal("batch still open after its commit")
	}
	for id, want := range map[string]bool{"a": true, "b": false, "gone": false} {
		if got := exists(t, s, store.KindSubject, id); got != want {
			t.Errorf("subject %s stored = %v, want %v", id, got, want)
		}
	}
	if !exists(t, s, store.KindProfile, "c") || !exists(t, s, store.KindCRL, "d") {
		t.Error("a successful write of the batch is missing")
	}
	if rev, err := s.Revision(t.Context()); err != nil || rev != rev0+3 {
		t.Fatalf("revision = %d, %v; want %d (one per Update that wrote)", rev, err, rev0+3)
	}
	want := []string{`2 ["subject"]`, `3 ["profile"]`, `4 ["crl","profile"]`}
	if got := changeLog(t, s, rev0); !slices.Equal(got, want) {
		t.Fatalf("change log = %q, want %q", got, want)
	}
	if c := <-ch; c.Revision != 4 || fmt.Sprint(c.Kinds) != "[crl profile subject]" {
		t.Fatalf("notification = %+v, want revision 4, kinds [crl profile subject]", c)
	}
}

// TestBatchPanic checks that an fn panicking in the middle of a batch
// takes back only its own writes and leaves the batch to commit.
func TestBatchPanic(t *testing.T) {
	s := openTemp(t, Options{PollInterval: -1})
	var b *batch
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("panic did not propagate")
			}
		}()
		b = runMembers(t, s, []member{
			{name: "writes a", fn: putFn(store.KindSubject, "a"), wait: true},
			{name: "panics", fn: func(tx store.Tx) error {
				_ = putFn(store.KindSubject, "p")(tx)
				panic("fn panics")
			}},
		})
	}()
	b = runMembers(t, s, []member{{name: "writes c", fn: putFn(store.KindSubject, "c"), wait: true}})
	if err := s.awaitCommit(b); err != nil {
		t.Fatal(err)
	}
	if !exists(t, s, store.KindSubject, "a") || !exists(t, s, store.KindSubject, "c") || exists(t, s, store.KindSubject, "p") {
		t.Fatal("want a and c stored, p not")
	}
	if rev, _ := s.Revision(t.Context()); rev != 2 {
		t.Fatalf("revision = %d, want 2", rev)
	}
}

// TestBatchNotLeftOpen checks that an Update nobody waits for does not
// leave SQLite's write lock held until the next Update: another process
// can write at once.
func TestBatchNotLeftOpen(t *testing.T) {
	s, other := openPair(t, -1)
	for _, m := range []member{
		{name: "fails", fn: func(tx store.Tx) error { _ = putFn(store.KindSubject, "x")(tx); return errors.New("no") }},
		{name: "reads", fn: func(tx store.Tx) error { _, _, err := tx.List(store.KindSubject, store.ListOptions{}); return err }},
	} {
		s.writeSem <- struct{}{}
		b, err := s.joinBatch()
		if err != nil {
			t.Fatal(err)
		}
		if wait, _ := s.runInBatch(t.Context(), b, m.fn); wait || s.open != nil {
			t.Fatalf("%s: wait = %v, batch open = %v", m.name, wait, s.open != nil)
		}
		// Against a held lock this would fail with SQLITE_BUSY after
		// busy_timeout.
		if err := other.Update(t.Context(), putFn(store.KindProfile, m.name)); err != nil {
			t.Fatalf("%s: other process's Update: %v", m.name, err)
		}
	}
}

// TestBatchCommitFails makes the COMMIT itself fail (a deferred foreign
// key, checked only at COMMIT, through a trigger the test adds): every
// Update of the batch fails, nothing is applied or notified, and the next
// Update works.
func TestBatchCommitFails(t *testing.T) {
	s := openTemp(t, Options{PollInterval: -1})
	for _, stmt := range []string{
		"PRAGMA foreign_keys = ON", // the writer is one connection: it sticks
		"CREATE TABLE parent (id INTEGER PRIMARY KEY)",
		"CREATE TABLE child (p INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)",
		"CREATE TRIGGER poison AFTER INSERT ON documents WHEN NEW.id = 'poison' BEGIN INSERT INTO child (p) VALUES (1); END",
	} {
		if _, err := s.writer.ExecContext(t.Context(), stmt); err != nil {
			t.Fatal(err)
		}
	}
	ch := s.Changes(t.Context())
	b := runMembers(t, s, []member{
		{name: "writes a", fn: putFn(store.KindSubject, "a"), wait: true},
		{name: "writes poison", fn: putFn(store.KindSubject, "poison"), wait: true},
		{name: "writes c", fn: putFn(store.KindSubject, "c"), wait: true},
	})
	// Three members wait; each gets the same answer.
	errs := make(chan error, 3)
	for range 3 {
		go func() { errs <- s.awaitCommit(b) }()
	}
	for range 3 {
		if err := <-errs; !errors.Is(err, ErrDatabase) || !strings.Contains(err.Error(), "commit") {
			t.Fatalf("member of a failed commit got %v", err)
		}
	}
	for _, id := range []string{"a", "poison", "c"} {
		if exists(t, s, store.KindSubject, id) {
			t.Fatalf("%s stored by a failed commit", id)
		}
	}
	if rev, _ := s.Revision(t.Context()); rev != 0 {
		t.Fatalf("revision = %d after a failed commit", rev)
	}
	select {
	case c := <-ch:
		t.Fatalf("failed commit notified %+v", c)
	default:
	}
	put(t, s, store.Record{Kind: store.KindSubject, ID: "after", Data: []byte(`1`)})
	if rev, _ := s.Revision(t.Context()); rev != 1 || !exists(t, s, store.KindSubject, "after") {
		t.Fatalf("Update after a failed commit: revision %d", rev)
	}
}

// TestCloseCommitsBatch closes the store while a batch waits for its
// commit: Close commits it, and the write is there after reopening.
func TestCloseCommitsBatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "iamra.db")
	s, err := Open(t.Context(), path, Options{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	b := runMembers(t, s, []member{{name: "writes a", fn: putFn(store.KindSubject, "a"), wait: true}})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.awaitCommit(b); err != nil {
		t.Fatalf("batch pending at Close: %v", err)
	}
	s, err = Open(t.Context(), path, Options{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !exists(t, s, store.KindSubject, "a") {
		t.Fatal("write of the batch pending at Close lost")
	}
}

// TestConcurrentUpdatesBatched runs many concurrent Updates through the
// public API, some failing after they wrote, some failing on a contract
// error: every caller gets its own result, exactly the successful writes
// are stored, the revision counts them, and fewer commits than Updates
// were needed.
func TestConcurrentUpdatesBatched(t *testing.T) {
	const (
		workers = 32
		each    = 10
	)
	boom := errors.New("boom")
	// Batching depends on how the goroutines happen to be scheduled; a
	// round in which each Update committed alone is tried again (the
	// results are checked in every round).
	for round := 0; ; round++ {
		s := openTemp(t, Options{PollInterval: -1})
		put(t, s, store.Record{Kind: store.KindRole, ID: "shared", Data: []byte(`1`)})
		commits0 := s.commits.Load()
		ch := s.Changes(t.Context())
		var wg sync.WaitGroup
		var mu sync.Mutex
		var stored, failed []string
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					id := fmt.Sprintf("w%02d-%02d", w, i)
					var want error
					err := s.Update(t.Context(), func(tx store.Tx) error {
						if err := putFn(store.KindSubject, id)(tx); err != nil {
							return err
						}
						switch (w + i) % 5 {
						case 1:
							want = boom
							return boom
						case 3:
							_, err := tx.Put(store.Record{Kind: store.KindRole, ID: "shared"})
							want = store.ErrExists
							return err
						}
						want = nil
						return nil
					})
					if !errors.Is(err, want) || (want == nil) != (err == nil) {
						t.Errorf("%s: Update = %v, want %v", id, err, want)
					}
					mu.Lock()
					if err == nil {
						stored = append(stored, id)
					} else {
						failed = append(failed, id)
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for _, id := range stored {
			if !exists(t, s, store.KindSubject, id) {
				t.Fatalf("acknowledged %s not stored", id)
			}
		}
		for _, id := range failed {
			if exists(t, s, store.KindSubject, id) {
				t.Fatalf("failed %s stored", id)
			}
		}
		want := int64(1 + len(stored))
		if rev, err := s.Revision(t.Context()); err != nil || rev != want {
			t.Fatalf("revision = %d, %v; want %d", rev, err, want)
		}
		if got := int64(len(changeLog(t, s, 1))); got != want-1 {
			t.Fatalf("%d change log entries for %d Updates that wrote", got, want-1)
		}
		for c := range ch {
			if c.Revision == want {
				break
			}
		}
		commits := s.commits.Load() - commits0
		t.Logf("round %d: %d Updates stored, %d failed, %d commits", round, len(stored), len(failed), commits)
		if commits < int64(len(stored)) {
			return
		}
		if round == 9 {
			t.Fatalf("%d concurrent Updates never shared a commit", workers*each)
		}
	}
}

// TestUpdateStartsNoGoroutine checks that an Update, from BEGIN to COMMIT
// and with queries that return rows, runs on the caller's goroutine alone:
// a goroutine per transaction or per query (what sql.Tx and cancellable
// contexts bring) costs more CPU to wake and park than a small commit.
func TestUpdateStartsNoGoroutine(t *testing.T) {
	s := openTemp(t, Options{PollInterval: -1})
	put(t, s, store.Record{Kind: store.KindCA, ID: "ca", Data: []byte(`{}`)})
	ctx, cancel := context.WithCancel(t.Context()) // a request's: it can end
	defer cancel()
	before := runtime.NumGoroutine()
	var during []int
	err := s.Update(ctx, func(tx store.Tx) error {
		during = append(during, runtime.NumGoroutine())
		if _, err := tx.Get(store.KindCA, "ca"); err != nil {
			return err
		}
		during = append(during, runtime.NumGoroutine())
		if _, err := tx.PutAny(store.Record{Kind: store.KindCA, ID: "ca", Data: []byte(`{"v":2}`)}); err != nil {
			return err
		}
		if _, _, err := tx.List(store.KindCA, store.ListOptions{}); err != nil {
			return err
		}
		during = append(during, runtime.NumGoroutine())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range during {
		if n != before {
			t.Fatalf("goroutines: %d before the Update, %d at step %d inside it", before, n, i)
		}
	}
}
