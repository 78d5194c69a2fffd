package sqlite

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/iamra/iamra/store"
)

// The child process of TestDurability is this test binary again, told by
// these variables which database to write, where to start counting, and
// with how many goroutines.
const (
	envDurabilityDB      = "IAMRA_SQLITE_DURABILITY_DB"
	envDurabilityStart   = "IAMRA_SQLITE_DURABILITY_START"
	envDurabilityWorkers = "IAMRA_SQLITE_DURABILITY_WORKERS"
)

// durabilityDoc is what the writer stores for sequence number seq.
func durabilityDoc(seq int) []byte {
	return fmt.Appendf(nil, `{"seq":%d,"pad":%q}`, seq, strings.Repeat("x", seq%200))
}

// failsOnPurpose tells which sequence numbers the writer's fn fails after
// writing, so that failed Updates share batches with acknowledged ones.
func failsOnPurpose(seq int) bool { return seq%10 == 7 }

func seqID(seq int) string { return fmt.Sprintf("seq-%08d", seq) }

// TestHelperWriter is the child side of TestDurability, not a test of its
// own: its goroutines write records in a loop and print "ack N" once the
// Update that wrote record N has returned nil.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv(envDurabilityDB)
	if path == "" {
		t.Skip("child process of TestDurability")
	}
	start, err := strconv.Atoi(os.Getenv(envDurabilityStart))
	if err != nil {
		t.Fatal(err)
	}
	workers, err := strconv.Atoi(os.Getenv(envDurabilityWorkers))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), path, Options{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	// Bounded, so that an orphaned child stops by itself; the parent kills
	// it long before.
	deadline := time.Now().Add(60 * time.Second)
	var next atomic.Int64
	next.Store(int64(start))
	boom := errors.New("fails on purpose")
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				seq := int(next.Add(1) - 1)
				err := s.Update(context.Background(), func(tx store.Tx) error {
					// A new record, and a counter rewritten every time, so
					// the WAL holds both appends and overwrites when the
					// kill lands.
					if _, err := tx.Put(store.Record{Kind: store.KindSubject, ID: seqID(seq), Data: durabilityDoc(seq)}); err != nil {
						return err
					}
					rec, err := tx.Get(store.KindSetting, "count")
					n := 0
					if err == nil {
						err = json.Unmarshal(rec.Data, &n)
					} else if errors.Is(err, store.ErrNotFound) {
						err = nil
					}
					if err != nil {
						return err
					}
					if _, err := tx.PutAny(store.Record{Kind: store.KindSetting, ID: "count", Data: fmt.Appendf(nil, "%d", n+1)}); err != nil {
						return err
					}
					if failsOnPurpose(seq) {
						return boom
					}
					return nil
				})
				if failsOnPurpose(seq) && err == boom {
					continue
				}
				if err != nil {
					panic(err)
				}
				// One write of a short line to a pipe is atomic, so lines
				// from several goroutines do not mix.
				fmt.Fprintf(os.Stdout, "ack %d\n", seq)
			}
		})
	}
	wg.Wait()
}

// TestDurability kills a writing process with SIGKILL, a few times, and
// checks after each kill that every acknowledged Update survived, that no
// failed one left anything, and that the database is intact: first with
// one writer, then with concurrent writers whose Updates share commits.
// (SIGKILL loses what the process held in memory but not the kernel's
// page cache; synchronous=FULL, checked by TestPragmas, covers the page
// cache on power loss.)
func TestDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	for _, workers := range []int{1, 16} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "iamra.db")
			const (
				rounds       = 3
				acksPerRound = 200
			)
			next := 0
			for round := range rounds {
				acked := runWriter(t, path, next, workers, acksPerRound)
				t.Logf("round %d: %d acknowledged (seq %d..%d)", round, len(acked), slices.Min(acked), slices.Max(acked))
				next = verifyDurable(t, path, acked) + 1
			}
		})
	}
}

// runWriter starts the child writing from seq start, reads n acks, kills
// it, and returns the acknowledged sequence numbers.
func runWriter(t *testing.T, path string, start, workers, n int) []int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), envDurabilityDB+"="+path, envDurabilityStart+"="+strconv.Itoa(start),
		envDurabilityWorkers+"="+strconv.Itoa(workers))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()

	var acked []int
	sc := bufio.NewScanner(out)
	for len(acked) < n && sc.Scan() {
		line := sc.Text()
		num, ok := strings.CutPrefix(line, "ack ")
		if !ok {
			continue // test framework chatter
		}
		seq, err := strconv.Atoi(num)
		if err != nil {
			t.Fatalf("child printed %q", line)
		}
		acked = append(acked, seq)
	}
	if len(acked) < n {
		t.Fatalf("child stopped after %d acks: %v", len(acked), sc.Err())
	}
	// Kill while the child is mid-stream: it keeps writing while we read.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed = true
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die of SIGKILL: %v", err)
	}
	return acked
}

// verifyDurable reopens the database after a kill and checks integrity,
// every acknowledged record, and that commits were atomic: the counter
// every Update incremented equals the records stored and the revision. It
// returns the highest sequence number stored, which may exceed the last
// ack (committed, killed before printing).
func verifyDurable(t *testing.T, path string, acked []int) int {
	t.Helper()
	s, err := Open(t.Context(), path, Options{PollInterval: -1})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()

	rows, err := s.writer.QueryContext(t.Context(), "PRAGMA integrity_check")
	if err != nil {
		t.Fatal(err)
	}
	var results []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			t.Fatal(err)
		}
		results = append(results, r)
	}
	rows.Close()
	if len(results) != 1 || results[0] != "ok" {
		t.Fatalf("integrity_check after kill: %v", results)
	}

	last := -1
	var stored, count int
	err = s.View(t.Context(), func(tx store.Tx) error {
		for _, seq := range acked {
			rec, err := tx.Get(store.KindSubject, seqID(seq))
			if err != nil {
				return fmt.Errorf("acknowledged record %d lost: %w", seq, err)
			}
			if string(rec.Data) != string(durabilityDoc(seq)) {
				return fmt.Errorf("acknowledged record %d corrupt: %s", seq, rec.Data)
			}
		}
		recs, _, err := tx.List(store.KindSubject, store.ListOptions{})
		if err != nil {
			return err
		}
		for _, r := range recs {
			seq, err := strconv.Atoi(strings.TrimPrefix(r.ID, "seq-"))
			if err != nil {
				return fmt.Errorf("unexpected record %s", r.ID)
			}
			if failsOnPurpose(seq) {
				return fmt.Errorf("record %d stored by an Update that failed", seq)
			}
			last = max(last, seq)
		}
		stored = len(recs)
		rec, err := tx.Get(store.KindSetting, "count")
		if err != nil {
			return err
		}
		return json.Unmarshal(rec.Data, &count)
	})
	if err != nil {
		t.Fatal(err)
	}
	if count != stored {
		t.Fatalf("counter says %d Updates, but %d records are stored: a commit was torn", count, stored)
	}
	// Each Update advanced the revision once; the revision is durable too.
	if rev, err := s.Revision(t.Context()); err != nil || rev != int64(stored) {
		t.Fatalf("revision = %d, %v; want %d", rev, err, stored)
	}
	return last
}
