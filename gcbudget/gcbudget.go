// Package gcbudget lets the Go garbage collector use a memory budget
// instead of the fixed GOGC=100.
//
// iamra's server keeps a small live heap (tens of MiB) and allocates fast:
// every CreateSession and IssueCertificate parses certificates and JSON.
// With GOGC=100 the collector runs whenever the heap doubles, which for a
// small heap is very often: in `iamra loadtest --api acm-pca` about a fifth
// more issuances per server CPU-second came from letting the heap grow to
// five times the live data. A fixed GOGC=400 would multiply a large live heap by five too, and
// GOMEMLIMIT alone turns a live heap above the limit into continuous
// collection. So the target follows the live heap: up to MaxPercent while
// the heap so grown stays within the budget, shrinking towards GOGC=100 as
// the live heap grows, never below it; a soft memory limit at the budget
// (raised with the live heap) keeps a heap that grows between two looks
// from overshooting.
//
// An operator's GOGC or GOMEMLIMIT environment variable turns this off:
// their setting wins.
package gcbudget

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// MaxPercent is the largest GC percentage the tuner sets; MinPercent is
// Go's default, which it never goes below.
const (
	MaxPercent = 400
	MinPercent = 100
)

// DefaultBudget is the memory the tuner aims to stay within. The server
// promises a peak RSS under 150 MiB with 10,000 distinct certificates
// coming in; RSS adds the binary's pages (about 20 MiB) to what Go manages.
const DefaultBudget = 128 << 20

// Limit is the soft memory limit (runtime/debug.SetMemoryLimit) for a live
// heap of live bytes: the budget, so that a heap growing between two of
// the tuner's looks cannot overshoot it, but never less than twice the live
// heap (plus room for stacks and the runtime), so that a live heap above
// the budget gets Go's ordinary GOGC=100 behaviour instead of collection
// without pause.
func Limit(live, budget uint64) int64 {
	return int64(max(budget, 2*live+limitHeadroom))
}

// limitHeadroom is what Go manages besides the heap: goroutine stacks,
// runtime structures.
const limitHeadroom = 16 << 20

// Percent is the GC percentage for a live heap of live bytes under budget:
// the largest that keeps the heap's next goal (live × (1 + p/100)) within
// budget, clamped to [MinPercent, MaxPercent]. Before the first collection
// the live heap reads 0: the heap is as small as it gets then, and the
// memory limit at the budget (Limit) guards it, so it gets MaxPercent.
func Percent(live, budget uint64) int {
	if live == 0 {
		return MaxPercent
	}
	if budget <= live {
		return MinPercent
	}
	p := (budget - live) * 100 / live
	return int(min(max(p, MinPercent), MaxPercent))
}

// Enabled reports whether the tuner may run: neither GOGC nor GOMEMLIMIT
// is set by the operator.
func Enabled(getenv func(string) string) bool {
	return getenv("GOGC") == "" && getenv("GOMEMLIMIT") == ""
}

// Run adjusts the GC percentage and the soft memory limit to the live heap
// every interval until ctx ends, then restores the settings it found.
func Run(ctx context.Context, budget uint64, interval time.Duration) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	set := MaxPercent
	prev := debug.SetGCPercent(set)
	defer debug.SetGCPercent(prev)
	limit := Limit(0, budget)
	prevLimit := debug.SetMemoryLimit(limit)
	defer debug.SetMemoryLimit(prevLimit)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			continue
		}
		live := sample[0].Value.Uint64()
		if p := Percent(live, budget); p != set {
			debug.SetGCPercent(p)
			set = p
		}
		if l := Limit(live, budget); l != limit {
			debug.SetMemoryLimit(l)
			limit = l
		}
	}
}

// Start runs the tuner in the background with DefaultBudget, checking
// every second, unless the operator set GOGC or GOMEMLIMIT. It stops with
// ctx.
func Start(ctx context.Context) bool {
	if !Enabled(os.Getenv) {
		return false
	}
	go Run(ctx, DefaultBudget, time.Second)
	return true
}
