package sqlite

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iamra/iamra/store"
)

// The child process of TestDurability is this test binary again, told by
// these variables which database to write and where to start counting.
const (
	envDurabilityDB    = "IAMRA_SQLITE_DURABILITY_DB"
	envDurabilityStart = "IAMRA_SQLITE_DURABILITY_START"
)

// durabilityDoc is what the writer stores for sequence number seq.
func durabilityDoc(seq int) []byte {
	return fmt.Appendf(nil, `{"seq":%d,"pad":%q}`, seq, strings.Repeat("x", seq%200))
}

// TestHelperWriter is the child side of TestDurability, not a test of its
// own: it writes records in a loop and prints "ack N" once the Update that
// wrote record N has returned nil.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv(envDurabilityDB)
	if path == "" {
		t.Skip("child process of TestDurability")
	}
	start, err := strconv.Atoi(os.Getenv(envDurabilityStart))
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
	for seq := start; time.Now().Before(deadline); seq++ {
		err := s.Update(context.Background(), func(tx store.Tx) error {
			// Two records per commit: a new one, and a counter that is
			// rewritten every time, so the WAL holds both appends and
			// overwrites when the kill lands.
			if _, err := tx.Put(store.Record{Kind: store.KindSubject, ID: fmt.Sprintf("seq-%08d", seq), Data: durabilityDoc(seq)}); err != nil {
				return err
			}
			_, err := tx.PutAny(store.Record{Kind: store.KindSetting, ID: "last", Data: fmt.Appendf(nil, "%d", seq)})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		// os.Stdout is unbuffered: the line leaves with the write call.
		fmt.Fprintf(os.Stdout, "ack %d\n", seq)
	}
}

// TestDurability kills a writing process with SIGKILL, a few times, and
// checks after each kill that every acknowledged Update survived and the
// database is intact. (SIGKILL loses what the process held in memory but
// not the kernel's page cache; synchronous=FULL, checked by TestPragmas,
// covers the page cache on power loss.)
func TestDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	path := filepath.Join(t.TempDir(), "iamra.db")
	const (
		rounds       = 3
		acksPerRound = 200
	)
	next := 0
	for round := range rounds {
		acked := runWriter(t, path, next, acksPerRound)
		t.Logf("round %d: %d acknowledged (seq %d..%d)", round, len(acked), acked[0], acked[len(acked)-1])
		last := verifyDurable(t, path, acked)
		next = last + 1
	}
}

// runWriter starts the child writing from seq start, reads n acks, kills
// it, and returns the acknowledged sequence numbers.
func runWriter(t *testing.T, path string, start, n int) []int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), envDurabilityDB+"="+path, envDurabilityStart+"="+strconv.Itoa(start))
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

// verifyDurable reopens the database after a kill and checks integrity and
// every acknowledged record. It returns the highest sequence number stored,
// which may exceed the last ack (committed, killed before printing).
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

	var last int
	err = s.View(t.Context(), func(tx store.Tx) error {
		for _, seq := range acked {
			rec, err := tx.Get(store.KindSubject, fmt.Sprintf("seq-%08d", seq))
			if err != nil {
				return fmt.Errorf("acknowledged record %d lost: %w", seq, err)
			}
			if string(rec.Data) != string(durabilityDoc(seq)) {
				return fmt.Errorf("acknowledged record %d corrupt: %s", seq, rec.Data)
			}
		}
		rec, err := tx.Get(store.KindSetting, "last")
		if err != nil {
			return err
		}
		if err := json.Unmarshal(rec.Data, &last); err != nil {
			return err
		}
		if last < acked[len(acked)-1] {
			return fmt.Errorf("counter says %d, but %d was acknowledged", last, acked[len(acked)-1])
		}
		// Commits are atomic: the counter's record exists too.
		if _, err := tx.Get(store.KindSubject, fmt.Sprintf("seq-%08d", last)); err != nil {
			return fmt.Errorf("counter at %d but its record: %w", last, err)
		}
		if _, err := tx.Get(store.KindSubject, fmt.Sprintf("seq-%08d", last+1)); err == nil {
			return fmt.Errorf("record %d stored without its counter update", last+1)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Each Update advanced the revision once; the revision is durable too.
	if rev, err := s.Revision(t.Context()); err != nil || rev != int64(last+1) {
		t.Fatalf("revision = %d, %v; want %d", rev, err, last+1)
	}
	return last
}
