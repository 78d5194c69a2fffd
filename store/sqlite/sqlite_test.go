package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iamra/iamra/store"
	"github.com/iamra/iamra/store/storetest"
)

func openTemp(t testing.TB, opts Options) *Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "iamra.db"), opts)
}

// openAt opens the store at path, closed at the end of the test if the
// test has not closed it.
func openAt(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(t.Context(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t, Options{}) })
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		path string
		opts Options
		err  string
	}{
		{url: "sqlite:///var/lib/iamra/iamra.db", path: "/var/lib/iamra/iamra.db"},
		{url: "sqlite://data/iamra.db", path: "data/iamra.db"},
		{url: "sqlite://iamra.db", path: "iamra.db"},
		{url: "sqlite://./iamra.db", path: "./iamra.db"},
		{url: "sqlite:data/iamra.db", path: "data/iamra.db"},
		{url: "sqlite:///tmp/a%20b%3Fc.db", path: "/tmp/a b?c.db"},
		{url: "sqlite:///x.db?busy_timeout=10s&max_readers=8&poll_interval=250ms", path: "/x.db",
			opts: Options{BusyTimeout: 10 * time.Second, MaxReaders: 8, PollInterval: 250 * time.Millisecond}},
		{url: "sqlite://rel/x.db?poll_interval=off", path: "rel/x.db", opts: Options{PollInterval: -1}},
		{url: "postgres://db/x", err: `store/sqlite: URL scheme is "postgres", want "sqlite"`},
		{url: "sqlite://", err: "store/sqlite: URL has no database path (want sqlite:///absolute/path or sqlite://relative/path)"},
		{url: "sqlite:///x.db?cache=shared", err: `store/sqlite: unknown URL parameter "cache" (known: busy_timeout, max_readers, poll_interval)`},
		{url: "sqlite:///x.db?busy_timeout=5", err: `store/sqlite: busy_timeout="5": want a positive duration such as 5s`},
		{url: "sqlite:///x.db?busy_timeout=-1s", err: `store/sqlite: busy_timeout="-1s": want a positive duration such as 5s`},
		{url: "sqlite:///x.db?max_readers=0", err: `store/sqlite: max_readers="0": want an integer from 1 to 1024`},
		{url: "sqlite:///x.db?max_readers=many", err: `store/sqlite: max_readers="many": want an integer from 1 to 1024`},
		{url: "sqlite:///x.db?poll_interval=0s", err: `store/sqlite: poll_interval="0s": want a positive duration such as 1s, or off`},
		{url: "sqlite:///x.db?max_readers=1&max_readers=2", err: "store/sqlite: URL parameter max_readers given 2 times"},
		{url: "sqlite://user@host/x.db", err: "store/sqlite: URL must not contain user information"},
		{url: "sqlite://host:5432/x.db", err: `store/sqlite: URL host "host:5432" has a port; use sqlite:///absolute/path or sqlite://relative/path`},
		{url: "sqlite:///x.db#frag", err: "store/sqlite: URL must not contain a fragment"},
		{url: "sqlite:///x.db?a=%zz", err: `store/sqlite: bad URL query: invalid URL escape "%zz"`},
	} {
		t.Run(tc.url, func(t *testing.T) {
			u, err := url.Parse(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			path, opts, err := ParseURL(u)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error = %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil || path != tc.path || opts != tc.opts {
				t.Fatalf("ParseURL = %q, %+v, %v; want %q, %+v", path, opts, err, tc.path, tc.opts)
			}
		})
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"sqlite:///a/b.db", "sqlite://rel?max_readers=3", "sqlite:x?poll_interval=off", "sqlite://h:1/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		path, opts, err := ParseURL(u)
		if err == nil && (path == "" || opts.MaxReaders < 0 || opts.BusyTimeout < 0) {
			t.Fatalf("ParseURL(%q) = %q, %+v without error", raw, path, opts)
		}
	})
}

// TestOpenURL opens stores through the registry, by absolute and by
// relative path.
func TestOpenURL(t *testing.T) {
	t.Chdir(t.TempDir())
	wd, _ := os.Getwd()
	abs := filepath.Join(t.TempDir(), "a b", "iamra.db")
	for _, tc := range []struct{ url, path string }{
		{"sqlite://state/iamra.db?poll_interval=off", filepath.Join(wd, "state", "iamra.db")},
		{(&url.URL{Scheme: Scheme, Path: abs}).String(), abs},
	} {
		s, err := store.Open(t.Context(), tc.url)
		if err != nil {
			t.Fatal(err)
		}
		put(t, s, store.Record{Kind: store.KindSetting, ID: "x", Data: []byte(`1`)})
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if got := s.(*Store).Path(); got != tc.path {
			t.Fatalf("%s: Path = %q, want %q", tc.url, got, tc.path)
		}
		if _, err := os.Stat(tc.path); err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
	}
}

func TestFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "state")
	path := filepath.Join(dir, "iamra.db")
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, store.Record{Kind: store.KindSetting, ID: "x", Data: []byte(`1`)})
	for _, c := range []struct {
		path string
		mode os.FileMode
	}{
		{filepath.Dir(dir), 0o700},
		{dir, 0o700},
		{path, 0o600},
		{path + "-wal", 0o600},
		{path + "-shm", 0o600},
	} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != c.mode {
			t.Errorf("%s mode = %v, want %v", c.path, got, c.mode)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// An existing file keeps the mode the operator gave it.
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	s, err = Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Fatalf("reopening changed the mode to %v", fi.Mode().Perm())
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	foreign := filepath.Join(dir, "foreign.db")
	execSQL(t, foreign, "CREATE TABLE t (x)")
	newer := filepath.Join(dir, "newer.db")
	s, err := Open(t.Context(), newer, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	execSQL(t, newer, fmt.Sprintf("PRAGMA user_version = %d", len(migrations)+1))
	otherApp := filepath.Join(dir, "other.db")
	execSQL(t, otherApp, "PRAGMA application_id = 1234")
	notDB := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		path string
		err  string
	}{
		{"", "store/sqlite: empty database path"},
		{":memory:", `store/sqlite: ":memory:" is not a file path; the store needs a database file`},
		{foreign, "store/sqlite: not an iamra database (it has tables but no iamra schema)"},
		{newer, fmt.Sprintf("store/sqlite: database schema version %d is newer than this iamra supports (%d); upgrade iamra", len(migrations)+1, len(migrations))},
		{otherApp, "store/sqlite: not an iamra database (application_id 0x4d2)"},
		{notDB, "store/sqlite: open " + notDB + ": file is not a database (26)"},
		{filepath.Join(blocker, "x.db"), "store/sqlite: stat " + filepath.Join(blocker, "x.db") + ": not a directory"},
	} {
		s, err := Open(t.Context(), tc.path, Options{})
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", tc.path)
			continue
		}
		if err.Error() != tc.err {
			t.Errorf("Open(%q) error = %q, want %q", tc.path, err, tc.err)
		}
	}
}

// execSQL runs one statement on a database file outside the store.
func execSQL(t *testing.T, path, stmt string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt); err != nil {
		t.Fatal(err)
	}
}

// TestPragmas checks the settings durability rests on, on the connection
// that commits.
func TestPragmas(t *testing.T) {
	s := openTemp(t, Options{BusyTimeout: 1234 * time.Millisecond})
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"synchronous":  "2",
		"busy_timeout": "1234",
		"user_version": fmt.Sprint(len(migrations)),
	} {
		var got string
		if err := s.writer.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("writer PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	var qo int
	if err := s.readers.QueryRow("PRAGMA query_only").Scan(&qo); err != nil || qo != 1 {
		t.Errorf("reader PRAGMA query_only = %d, %v; want 1", qo, err)
	}
}

func put(t *testing.T, s store.Store, recs ...store.Record) {
	t.Helper()
	err := s.Update(t.Context(), func(tx store.Tx) error {
		for _, r := range recs {
			if _, err := tx.PutAny(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReopen checks records, versions and the revision persist across a
// clean close.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "iamra.db")
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, store.Record{Kind: store.KindRole, ID: "r", Data: []byte(`{"a":1}`)})
	put(t, s, store.Record{Kind: store.KindRole, ID: "r", Data: []byte(`{"a":2}`)})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s, err = Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.View(t.Context(), func(tx store.Tx) error {
		rec, err := tx.Get(store.KindRole, "r")
		if err != nil || rec.Version != 2 || string(rec.Data) != `{"a":2}` {
			t.Fatalf("after reopen: %+v, %v", rec, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rev, err := s.Revision(t.Context()); rev != 2 || err != nil {
		t.Fatalf("Revision after reopen = %d, %v; want 2", rev, err)
	}
}

func TestClosed(t *testing.T) {
	s := openTemp(t, Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	noop := func(store.Tx) error { return nil }
	if err := s.Update(t.Context(), noop); !errors.Is(err, ErrClosed) {
		t.Errorf("Update after Close = %v", err)
	}
	if err := s.View(t.Context(), noop); !errors.Is(err, ErrClosed) {
		t.Errorf("View after Close = %v", err)
	}
	if _, err := s.Revision(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("Revision after Close = %v", err)
	}
	if err := s.Refresh(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("Refresh after Close = %v", err)
	}
	if _, ok := <-s.Changes(t.Context()); ok {
		t.Error("Changes after Close delivered a value")
	}
}

// TestCloseWaitsForUpdate closes the store while an Update runs: the
// Update commits and Close returns after it.
func TestCloseWaitsForUpdate(t *testing.T) {
	s := openTemp(t, Options{})
	inside := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- s.Update(context.Background(), func(tx store.Tx) error {
			close(inside)
			<-release
			_, err := tx.PutAny(store.Record{Kind: store.KindRole, ID: "r", Data: []byte(`1`)})
			return err
		})
	}()
	<-inside
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Update during Close: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestBadArguments(t *testing.T) {
	s := openTemp(t, Options{})
	for _, tc := range []struct {
		name string
		fn   func(store.Tx) error
		err  string
	}{
		{"empty kind", func(tx store.Tx) error { _, err := tx.Get("", "x"); return err }, "store/sqlite: empty kind"},
		{"empty id", func(tx store.Tx) error { _, err := tx.PutAny(store.Record{Kind: "k"}); return err }, "store/sqlite: empty id for kind k"},
		{"list empty kind", func(tx store.Tx) error { _, _, err := tx.List("", store.ListOptions{}); return err }, "store/sqlite: empty kind"},
		{"negative limit", func(tx store.Tx) error { _, _, err := tx.List("k", store.ListOptions{Limit: -1}); return err }, "store/sqlite: negative list limit -1"},
		{"negative version", func(tx store.Tx) error {
			_, err := tx.Put(store.Record{Kind: "k", ID: "i", Version: -2})
			return err
		}, "store/sqlite: negative version -2 for k/i"},
		{"delete empty id", func(tx store.Tx) error { return tx.Delete("k", "") }, "store/sqlite: empty id for kind k"},
		{"conflict text", func(tx store.Tx) error {
			_, err := tx.Put(store.Record{Kind: "k", ID: "i", Version: 3})
			return err
		}, "store: version conflict: k/i is not at version 3"},
		{"not found text", func(tx store.Tx) error { return tx.Delete("k", "i") }, "store: record not found: k/i"},
	} {
		if err := s.Update(t.Context(), tc.fn); err == nil || err.Error() != tc.err {
			t.Errorf("%s: error = %v, want %s", tc.name, err, tc.err)
		}
	}
	err := s.View(t.Context(), func(tx store.Tx) error {
		_, err := tx.PutAny(store.Record{Kind: "k", ID: "i"})
		return err
	})
	if !errors.Is(err, errReadOnly) {
		t.Errorf("write in View: %v", err)
	}
	// A nil document is stored as an empty one, not rejected by NOT NULL.
	put(t, s, store.Record{Kind: "k", ID: "nil"})
}

// TestPanicRollsBack checks that a panicking fn leaves nothing applied and
// the store usable: no lock and no connection stays taken.
func TestPanicRollsBack(t *testing.T) {
	s := openTemp(t, Options{MaxReaders: 1})
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("panic did not propagate")
			}
		}()
		_ = s.View(t.Context(), func(tx store.Tx) error { panic("fn panics") })
	}()
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("panic did not propagate")
			}
		}()
		_ = s.Update(t.Context(), func(tx store.Tx) error {
			_, _ = tx.PutAny(store.Record{Kind: "k", ID: "p", Data: []byte(`1`)})
			panic("fn panics")
		})
	}()
	put(t, s, store.Record{Kind: "k", ID: "q", Data: []byte(`1`)})
	err := s.View(t.Context(), func(tx store.Tx) error {
		_, err := tx.Get("k", "p")
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("record written before the panic: %v", err)
	}
}

// TestDatabaseErrorsWrapped corrupts nothing but drops the table under the
// store: the errors callers see match ErrDatabase, are no contract errors,
// and fail the transaction even if fn swallows them.
func TestDatabaseErrorsWrapped(t *testing.T) {
	s := openTemp(t, Options{})
	if _, err := s.writer.ExecContext(t.Context(), "DROP TABLE documents"); err != nil {
		t.Fatal(err)
	}
	var inner error
	err := s.Update(t.Context(), func(tx store.Tx) error {
		_, inner = tx.PutAny(store.Record{Kind: "k", ID: "i", Data: []byte(`1`)})
		return nil // swallowed
	})
	for _, e := range []error{inner, err} {
		if !errors.Is(e, ErrDatabase) || errors.Is(e, store.ErrNotFound) || errors.Is(e, store.ErrConflict) {
			t.Errorf("error %v: want ErrDatabase only", e)
		}
		if e != nil && !strings.HasPrefix(e.Error(), "store/sqlite: put k: ") {
			t.Errorf("error text %q does not name the operation", e)
		}
	}
}

// openPair opens two stores on one file, as the server and an admin
// command would; only the server polls, every serverPoll.
func openPair(t *testing.T, serverPoll time.Duration) (server, admin *Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "iamra.db")
	open := func(poll time.Duration) *Store {
		s, err := Open(t.Context(), path, Options{PollInterval: poll})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	return open(serverPoll), open(-1)
}

// TestOtherProcessChanges runs two stores on one file, as the server and
// an admin command would: each sees the other's commits through Refresh.
func TestOtherProcessChanges(t *testing.T) {
	server, admin := openPair(t, -1)
	ch := server.Changes(t.Context())

	put(t, admin, store.Record{Kind: store.KindProfile, ID: "p", Data: []byte(`1`)})
	put(t, admin, store.Record{Kind: store.KindCRL, ID: "c", Data: []byte(`1`)})
	if err := server.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	c := <-ch
	if c.Revision != 2 || fmt.Sprint(c.Kinds) != "[crl profile]" {
		t.Fatalf("change = %+v, want revision 2, kinds [crl profile]", c)
	}

	// The server's own commit also reports what the admin committed before
	// it and Refresh has not yet seen.
	put(t, admin, store.Record{Kind: store.KindRole, ID: "r", Data: []byte(`1`)})
	put(t, server, store.Record{Kind: store.KindSubject, ID: "s", Data: []byte(`1`)})
	c = <-ch
	if c.Revision != 4 || fmt.Sprint(c.Kinds) != "[role subject]" {
		t.Fatalf("change = %+v, want revision 4, kinds [role subject]", c)
	}
	if err := server.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-ch:
		t.Fatalf("Refresh repeated a notification: %+v", c)
	default:
	}
}

// TestPolling lets the poller find another process's commit by itself.
func TestPolling(t *testing.T) {
	server, admin := openPair(t, 10*time.Millisecond)
	ch := server.Changes(t.Context())
	put(t, admin, store.Record{Kind: store.KindTrustAnchor, ID: "a", Data: []byte(`1`)})
	select {
	case c := <-ch:
		if c.Revision != 1 || fmt.Sprint(c.Kinds) != "[trust-anchor]" {
			t.Fatalf("change = %+v", c)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("poller never reported the other store's commit")
	}
}

// TestChangeLogPruned checks that a subscriber behind a pruned change log
// still hears of every kind (all stored kinds are reported).
func TestChangeLogPruned(t *testing.T) {
	for _, prune := range []string{
		"DELETE FROM changes WHERE revision = 1", // a gap before the entries left
		"DELETE FROM changes",                    // nothing left at all
	} {
		server, admin := openPair(t, -1)
		ch := server.Changes(t.Context())
		put(t, admin, store.Record{Kind: store.KindProfile, ID: "p", Data: []byte(`1`)})
		put(t, admin, store.Record{Kind: store.KindRole, ID: "r", Data: []byte(`1`)})
		if _, err := admin.writer.ExecContext(t.Context(), prune); err != nil {
			t.Fatal(err)
		}
		if err := server.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		if c := <-ch; c.Revision != 2 || fmt.Sprint(c.Kinds) != "[profile role]" {
			t.Fatalf("after %s: change = %+v, want revision 2, kinds [profile role]", prune, c)
		}
	}
}

// BenchmarkUpdateBatch100 writes 100 records per Update, the way the
// server batches subject updates. It reports the batch's cost as a ratio
// to an Update of one record measured in the same run: batching is working
// while the ratio stays a small constant, far below 100.
func BenchmarkUpdateBatch100(b *testing.B) {
	s := openTemp(b, Options{PollInterval: -1})
	data := []byte(`{"subjectId":"00000000-0000-0000-0000-000000000000","lastSeenAt":"2026-01-01T00:00:00Z","x509Subject":"CN=workload"}`)
	batch := func(n, round int) {
		err := s.Update(context.Background(), func(tx store.Tx) error {
			for i := range n {
				if _, err := tx.PutAny(store.Record{Kind: store.KindSubject, ID: fmt.Sprintf("s%03d", (round*n+i)%1000), Data: data}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	const boundRounds = 20
	start := time.Now()
	for i := range boundRounds {
		batch(1, i)
	}
	single := time.Since(start) / boundRounds

	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		batch(100, i)
	}
	b.StopTimer()
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(per)/float64(single), "x-single-put-update")
	b.ReportMetric(float64(per)/100, "ns/record")
}

// BenchmarkGet reads one record in a View. It reports the cost as a ratio
// to the same SELECT issued directly on the read pool in the same run, the
// floor the store's transaction and bookkeeping add to.
func BenchmarkGet(b *testing.B) {
	s := openTemp(b, Options{PollInterval: -1})
	put := func(id string) {
		err := s.Update(context.Background(), func(tx store.Tx) error {
			_, err := tx.PutAny(store.Record{Kind: store.KindRole, ID: id, Data: []byte(`{"roleArn":"arn:aws:iam::123456789012:role/r"}`)})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for i := range 100 {
		put(fmt.Sprintf("r%02d", i))
	}
	ctx := context.Background()
	const boundRounds = 2000
	start := time.Now()
	for range boundRounds {
		var v int64
		var d []byte
		if err := s.readers.QueryRowContext(ctx, stmtText[sGet], string(store.KindRole), "r42").Scan(&v, &d); err != nil {
			b.Fatal(err)
		}
	}
	bare := time.Since(start) / boundRounds

	b.ResetTimer()
	for b.Loop() {
		err := s.View(ctx, func(tx store.Tx) error {
			_, err := tx.Get(store.KindRole, "r42")
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(per)/float64(bare), "x-bare-select")
}

// BenchmarkUpdateParallel has 32 goroutines each commit one small record
// per Update, as concurrent API requests do. It reports the wall time per
// Update as a ratio to one Update alone measured in the same run
// ("x-serial-update"): 1 means the Updates paid a commit each; group commit
// brings it towards 1/batch size.
func BenchmarkUpdateParallel(b *testing.B) {
	s := openTemp(b, Options{PollInterval: -1})
	data := []byte(`{"serial":"00","status":"ISSUED","certificatePem":"` + strings.Repeat("A", 700) + `"}`)
	var n atomic.Int64
	one := func() {
		id := fmt.Sprintf("c%09d", n.Add(1))
		err := s.Update(context.Background(), func(tx store.Tx) error {
			_, err := tx.Put(store.Record{Kind: store.KindCertificate, ID: id, Data: data})
			return err
		})
		if err != nil {
			panic(err)
		}
	}
	const boundRounds = 20
	start := time.Now()
	for range boundRounds {
		one()
	}
	single := time.Since(start) / boundRounds

	b.SetParallelism(32 / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			one()
		}
	})
	b.StopTimer()
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(per)/float64(single), "x-serial-update")
	b.ReportMetric(float64(single.Nanoseconds()), "serial-ns/update")
}
