package loadtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// Measurement is what every mode measures: the load beside its bound and,
// given the server's process id, the server's CPU time and peak memory,
// and the store write transactions the load caused.
type Measurement struct {
	Result Result
	Bound  Bound
	// ServerCPUSeconds and ServerPeakRSSMiB are 0 without a process id.
	ServerCPUSeconds float64
	ServerPeakRSSMiB float64
	StoreWrites      float64
}

// measure runs the load against s, reading the server's CPU time and
// store revision around it.
func measure(ctx context.Context, s *devServer, reqs []*Prepared, opts Options, bound Bound, pid int, log io.Writer) Measurement {
	revBefore, _ := scrapeGauge(s.Client, s.Endpoint+"/metrics", "iamra_store_revision")
	cpuBefore, _ := processCPU(pid)
	fmt.Fprintf(log, "sending for %s…\n", opts.Duration)
	res := Run(ctx, reqs, opts)
	cpuAfter, _ := processCPU(pid)
	// Subject writes are batched once a second, and the gauge follows the
	// store's change feed: wait for both so the last writes are counted.
	time.Sleep(1500 * time.Millisecond)
	revAfter, _ := scrapeGauge(s.Client, s.Endpoint+"/metrics", "iamra_store_revision")
	if res.Failures() > 0 {
		fmt.Fprintf(log, "%d failures: responses by status %v, %d transport errors\n", res.Failures(), res.Statuses, res.Errors)
	}
	m := Measurement{Result: res, Bound: bound, StoreWrites: revAfter - revBefore}
	if pid > 0 {
		m.ServerCPUSeconds = cpuAfter - cpuBefore
		m.ServerPeakRSSMiB, _ = peakRSS(pid)
	}
	return m
}

// Summary is what every mode reports of its measurement, under the same
// JSON names.
type Summary struct {
	Requests         int64   `json:"requests"`
	Failures         int64   `json:"failures"`
	P50Millis        float64 `json:"p50Millis"`
	P99Millis        float64 `json:"p99Millis"`
	ThroughputRatio  float64 `json:"throughputRatio"`
	ServerCPUSeconds float64 `json:"serverCpuSeconds,omitempty"`
	CPUEfficiency    float64 `json:"cpuEfficiencyRatio,omitempty"`
	ServerPeakRSSMiB float64 `json:"serverPeakRssMiB,omitempty"`
	StoreWrites      float64 `json:"storeWrites"`
}

func (m Measurement) summary() Summary {
	r := m.Result
	return Summary{
		Requests: r.Requests, Failures: r.Failures(), P50Millis: millis(r.P50), P99Millis: millis(r.P99),
		ThroughputRatio: m.ThroughputRatio(), ServerCPUSeconds: m.ServerCPUSeconds, CPUEfficiency: m.CPUEfficiency(),
		ServerPeakRSSMiB: m.ServerPeakRSSMiB, StoreWrites: m.StoreWrites,
	}
}

// against is m measured against another bound.
func (m Measurement) against(b Bound) Measurement {
	m.Bound = b
	return m
}

// ThroughputRatio is requests per second ÷ the bound on all cores.
func (m Measurement) ThroughputRatio() float64 { return m.Result.PerSecond / m.Bound.PerSecond }

// PerServerCPUSecond is successful requests per second of server CPU (0
// when that was not measured).
func (m Measurement) PerServerCPUSecond() float64 {
	if m.ServerCPUSeconds <= 0 {
		return 0
	}
	return float64(m.Result.Requests-m.Result.Rejected) / m.ServerCPUSeconds
}

// CPUEfficiency is the share of the server's CPU that the bound's work
// would take: requests per server CPU-second ÷ bound operations per
// CPU-second.
func (m Measurement) CPUEfficiency() float64 {
	if m.Bound.PerCPUSecond <= 0 {
		return 0
	}
	return m.PerServerCPUSecond() / m.Bound.PerCPUSecond
}

// WritesPerRequest is store write transactions per request sent.
func (m Measurement) WritesPerRequest() float64 {
	if m.Result.Requests == 0 {
		return 0
	}
	return m.StoreWrites / float64(m.Result.Requests)
}

// wording names a mode's quantities in the text report.
type wording struct {
	unit      string // what a request yields, plural: "sessions"
	bound     string // what the bound measures
	boundUnit string // its operations, plural
	request   string // what writes are counted per
}

// print writes the measurement as text, in w's words.
func (m Measurement) print(out io.Writer, w wording) {
	r := m.Result
	fmt.Fprintf(out, "  requests %d (failures %d), %.0f %s/s, p50 %.2f ms, p99 %.2f ms\n", r.Requests, r.Failures(), r.PerSecond, w.unit, millis(r.P50), millis(r.P99))
	fmt.Fprintf(out, "  %s: %.0f/s; throughput ratio %.2f\n", w.bound, m.Bound.PerSecond, m.ThroughputRatio())
	if m.ServerCPUSeconds > 0 {
		fmt.Fprintf(out, "  server CPU %.1f s: %.0f %s per CPU-second vs %.0f %s per CPU-second: CPU efficiency %.2f\n",
			m.ServerCPUSeconds, m.PerServerCPUSecond(), w.unit, m.Bound.PerCPUSecond, w.boundUnit, m.CPUEfficiency())
		fmt.Fprintf(out, "  server peak RSS %.1f MiB\n", m.ServerPeakRSSMiB)
	}
	fmt.Fprintf(out, "  store write transactions %.0f: %.5f per %s\n", m.StoreWrites, m.WritesPerRequest(), w.request)
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// processCPU returns a process's user+system CPU seconds from /proc.
func processCPU(pid int) (float64, error) {
	if pid <= 0 {
		return 0, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the parenthesised command name; utime and stime are
	// fields 14 and 15 of the whole line, in clock ticks (100 a second on
	// Linux).
	s := string(b)
	rest := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseFloat(rest[11], 64)
	st, _ := strconv.ParseFloat(rest[12], 64)
	return (ut + st) / 100, nil
}

// peakRSS returns a process's peak resident memory (VmHWM) in MiB.
func peakRSS(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024, err
		}
	}
	return 0, errors.New("no VmHWM")
}

func scrapeGauge(c *http.Client, url, name string) (float64, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	s := bufio.NewScanner(resp.Body)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("metric %s not found", name)
}
