// Package cputime reads the CPU time this process has used, so that
// benchmarks and the load test can state a cost as CPU time: on a machine
// shared with other work, wall time swings far more than CPU time does.
package cputime

import (
	"syscall"
	"time"
)

// Self is the user and system CPU time this process has used so far, or 0
// if the system does not say.
func Self() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Meter measures wall and CPU time from when it was started.
type Meter struct {
	wall time.Time
	cpu  time.Duration
}

// Start starts a Meter now.
func Start() Meter { return Meter{wall: time.Now(), cpu: Self()} }

// Per is the wall and CPU nanoseconds each of n operations took since m
// started.
func (m Meter) Per(n int) (wallNs, cpuNs float64) {
	return float64(time.Since(m.wall).Nanoseconds()) / float64(n), float64(Self()-m.cpu) / float64(n)
}
