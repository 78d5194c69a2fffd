package sqlite

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/iamra/iamra/store"
)

// writeCalls is how many write system calls this process has made, from
// /proc/self/io (Linux).
func writeCalls(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skipf("no write-call count on this system: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "syscw: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no syscw in /proc/self/io")
	return 0
}

// TestWritesGathered checks that a commit reaches the WAL in one write
// rather than two a page, and a checkpoint copies consecutive pages into
// the database in one write rather than one a page.
func TestWritesGathered(t *testing.T) {
	if !gatherVFS.registered {
		t.Skip("the gathering VFS is not used on this platform")
	}
	s := openTemp(t, Options{PollInterval: -1})
	put(t, s, store.Record{Kind: store.KindCA, ID: "ca", Data: []byte(`{}`)}) // creates the WAL
	certs := func(from, to int) func(store.Tx) error {
		return func(tx store.Tx) error {
			for i := from; i < to; i++ {
				if _, err := tx.Put(store.Record{Kind: store.KindCertificate, ID: fmt.Sprintf("ca/%032x", i), Data: certDoc(strconv.Itoa(i))}); err != nil {
					return err
				}
			}
			return nil
		}
	}
	// 14 records of 1.3 KB dirty a dozen pages.
	before := writeCalls(t)
	if err := s.Update(t.Context(), certs(0, 14)); err != nil {
		t.Fatal(err)
	}
	if n := writeCalls(t) - before; n > 2 {
		t.Fatalf("the commit took %d write calls, want 1", n)
	}
	// 200 more fill about 100 consecutive new pages.
	if err := s.Update(t.Context(), certs(14, 214)); err != nil {
		t.Fatal(err)
	}
	before = writeCalls(t)
	var busy, frames, copied int
	if err := s.writer.QueryRowContext(t.Context(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
		t.Fatal(err)
	}
	if n := writeCalls(t) - before; copied < 80 || n > 10 {
		t.Fatalf("the checkpoint copied %d frames in %d write calls, want at least 80 in at most 10", copied, n)
	}
}

// TestGatherSpill writes more in one Update than SQLite's page cache
// holds, so SQLite writes frames before the commit and reads some of them
// back within the transaction: every read must see what was gathered.
// Another connection, and the store reopened, then find every record.
func TestGatherSpill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "iamra.db")
	s := openAt(t, path, Options{PollInterval: -1})
	const n = 3000 // of 2 KB: 6 MB against a 2 MB cache
	doc := func(i int) []byte { return fmt.Appendf(nil, `{"i":%d,"pad":%q}`, i, strings.Repeat("x", 2000+i%64)) }
	id := func(i int) string { return fmt.Sprintf("r%05d", i) }
	err := s.Update(t.Context(), func(tx store.Tx) error {
		for i := range n {
			if _, err := tx.Put(store.Record{Kind: store.KindSubject, ID: id(i), Data: doc(i)}); err != nil {
				return err
			}
		}
		for i := range n { // the early pages have left the cache by now
			rec, err := tx.Get(store.KindSubject, id(i))
			if err != nil {
				return err
			}
			if !bytes.Equal(rec.Data, doc(i)) {
				return fmt.Errorf("%s read back in the transaction: %.40s", id(i), rec.Data)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func(s *Store, who string) {
		t.Helper()
		err := s.View(t.Context(), func(tx store.Tx) error {
			recs, _, err := tx.List(store.KindSubject, store.ListOptions{})
			if err != nil {
				return err
			}
			if len(recs) != n {
				return fmt.Errorf("%d records, want %d", len(recs), n)
			}
			for i, r := range recs {
				if r.ID != id(i) || !bytes.Equal(r.Data, doc(i)) {
					return fmt.Errorf("record %d is %s: %.40s", i, r.ID, r.Data)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", who, err)
		}
	}
	check(s, "same store") // the readers are other connections
	other := openAt(t, path, Options{PollInterval: -1})
	check(other, "second store on the file")
	for _, st := range []*Store{other, s} {
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	s = openAt(t, path, Options{PollInterval: -1})
	check(s, "reopened")
	var ok string
	if err := s.writer.QueryRowContext(t.Context(), "PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q, %v", ok, err)
	}
}
