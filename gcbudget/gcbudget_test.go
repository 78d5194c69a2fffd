package gcbudget

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		live, budget uint64
		want         int
	}{
		{10 * mib, 128 * mib, MaxPercent},  // small heap: grow to 5×
		{25 * mib, 128 * mib, MaxPercent},  // exactly 5× fits: 400
		{32 * mib, 128 * mib, 300},         // 32 MiB × 4 = 128 MiB
		{64 * mib, 128 * mib, 100},         // doubling fills the budget
		{100 * mib, 128 * mib, MinPercent}, // never below Go's default
		{200 * mib, 128 * mib, MinPercent}, // live heap above the budget
		{0, 128 * mib, MaxPercent},         // before the first collection
	} {
		if got := Percent(tc.live, tc.budget); got != tc.want {
			t.Errorf("Percent(%d MiB, %d MiB) = %d, want %d", tc.live/mib, tc.budget/mib, got, tc.want)
		}
	}
}

func TestLimit(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		live, budget uint64
		want         int64
	}{
		{10 * mib, 96 * mib, 96 * mib},    // the budget caps a small heap
		{40 * mib, 96 * mib, 96 * mib},    // 2×40+16 = 96
		{60 * mib, 96 * mib, 136 * mib},   // above the budget: GOGC=100's room
		{500 * mib, 96 * mib, 1016 * mib}, // never collection without pause
	} {
		if got := Limit(tc.live, tc.budget); got != tc.want {
			t.Errorf("Limit(%d MiB, %d MiB) = %d MiB, want %d MiB", tc.live/mib, tc.budget/mib, got/mib, tc.want/mib)
		}
	}
}

func TestEnabled(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if !Enabled(env(nil)) {
		t.Error("disabled with no GOGC or GOMEMLIMIT")
	}
	if Enabled(env(map[string]string{"GOGC": "200"})) || Enabled(env(map[string]string{"GOMEMLIMIT": "1GiB"})) {
		t.Error("enabled although the operator chose")
	}
}

// Run sets a percentage and a limit from the live heap and restores the
// previous ones when it stops.
func TestRunRestores(t *testing.T) {
	prev := debug.SetGCPercent(137)
	defer debug.SetGCPercent(prev)
	prevLimit := debug.SetMemoryLimit(1 << 40)
	defer debug.SetMemoryLimit(prevLimit)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { Run(ctx, 1<<40, time.Millisecond); close(done) }()
	// A budget of a TiB leaves the test's small heap at MaxPercent.
	deadline := time.Now().Add(10 * time.Second)
	for {
		// Read, not set-and-restore: a write here would race with Run's.
		p := gcPercent()
		if p == MaxPercent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GC percent %d, want %d", p, MaxPercent)
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if p := debug.SetGCPercent(137); p != 137 {
		t.Fatalf("GC percent %d after Run, want the previous 137", p)
	}
	if l := debug.SetMemoryLimit(-1); l != 1<<40 {
		t.Fatalf("memory limit %d after Run, want the previous one", l)
	}
}

// gcPercent is the runtime's current GC percentage.
func gcPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}
