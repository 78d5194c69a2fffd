package loadtest

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iamra/iamra/cputime"
)

// Bound is the cost of the work no request can avoid, measured in the
// load-test process in the same run as the load.
type Bound struct {
	// PerSecond is operations per wall-clock second on all cores: the
	// ceiling of requests per second on this machine now.
	PerSecond float64
	// PerCPUSecond is operations per second of CPU time actually used,
	// which other processes on a shared machine do not distort.
	PerCPUSecond float64
}

// measureBound runs op on every core for about d and counts the calls
// that succeed; w is the worker and i counts its calls from w, so workers
// start on different samples. The first error stops the measurement.
func measureBound(d time.Duration, op func(w, i int) error) (Bound, error) {
	var ops atomic.Int64
	var errOnce sync.Once
	var firstErr error
	cpuStart := cputime.Self()
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := w; time.Now().Before(deadline); i++ {
				if err := op(w, i); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				ops.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cputime.Self() - cpuStart
	if firstErr != nil {
		return Bound{}, firstErr
	}
	b := Bound{PerSecond: float64(ops.Load()) / elapsed.Seconds()}
	if cpu > 0 {
		b.PerCPUSecond = float64(ops.Load()) / cpu.Seconds()
	}
	return b, nil
}
