package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkHelperServe measures `aws_signing_helper serve`, the built
// binary in its own process backed by a running iamra server, answering
// container-credential GETs from 64 concurrent keep-alive clients:
// GETs/s and p99 latency, the same load against a minimal Go HTTP server
// answering the same bytes (the bound, measured in the same run, and the
// ratio to it), CreateSession calls per 10,000 GETs (the credentials live
// an hour, so any value above 0 is a refresh the load caused), and serve's
// peak resident memory (VmHWM).
func BenchmarkHelperServe(b *testing.B) {
	const clients = 64
	bin := helperBinary(b)
	w := newHelperWorld(b, worldOptions{})
	tokenFile := filepath.Join(b.TempDir(), "token")
	const token = "bench-token-0123456789abcdef"
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		b.Fatal(err)
	}
	serve := startServe(b, bin, childEnvWithout("AWS_CA_BUNDLE="+w.CABundle()),
		append(w.helperFlags(w.Cert, w.Key), "--auth-token-file", tokenFile)...)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxIdleConns: 2 * clients}}
	get := func(base string) func() (*http.Request, error) {
		return func() (*http.Request, error) {
			req, err := http.NewRequest(http.MethodGet, base+"/v1/credentials", nil)
			if err == nil {
				req.Header.Set("Authorization", token)
			}
			return req, err
		}
	}
	// Warm up: connections, and the body the bound server will send.
	warm := runGETs(client, get(serve.Base), clients, clients)
	if warm.err != nil {
		b.Fatal(warm.err)
	}
	before := w.createSessions(b)
	idle, idleErr := vmHWM(serve.cmd.Process.Pid)

	b.ResetTimer()
	r := runGETs(client, get(serve.Base), b.N, clients)
	b.StopTimer()
	if r.err != nil {
		b.Fatal(r.err)
	}
	sessions := w.createSessions(b) - before

	bound, err := boundServer(warm.body)
	if err != nil {
		b.Fatal(err)
	}
	defer bound.Close()
	br := runGETs(client, get("http://"+bound.Addr().String()), b.N, clients)
	if br.err != nil {
		b.Fatal(br.err)
	}

	b.ReportMetric(r.perSecond(), "GETs/s")
	b.ReportMetric(float64(r.p99().Microseconds()), "p99-µs")
	b.ReportMetric(br.perSecond(), "bound-GETs/s")
	b.ReportMetric(float64(br.p99().Microseconds()), "bound-p99-µs")
	b.ReportMetric(r.perSecond()/br.perSecond(), "ratio")
	b.ReportMetric(float64(sessions)*10000/float64(b.N), "CreateSessions/10kGETs")
	if hwm, err := vmHWM(serve.cmd.Process.Pid); err == nil && idleErr == nil {
		b.ReportMetric(float64(idle)/1024, "serve-VmHWM-before-load-MB")
		b.ReportMetric(float64(hwm)/1024, "serve-VmHWM-MB")
		// Most of it is file-backed: pages of the one iamra binary that
		// the helper's start-up touches, shared and reclaimable.
		for _, f := range []string{"RssAnon", "RssFile"} {
			if kb, err := procStatus(serve.cmd.Process.Pid, f); err == nil {
				b.ReportMetric(float64(kb)/1024, "serve-"+f+"-MB")
			}
		}
	} else {
		b.Logf("serve's peak resident memory: %v %v", idleErr, err)
	}
}

// getRun is the outcome of one load run.
type getRun struct {
	elapsed   time.Duration
	latencies []time.Duration
	body      []byte // of one response
	err       error
}

func (r getRun) perSecond() float64 { return float64(len(r.latencies)) / r.elapsed.Seconds() }

func (r getRun) p99() time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	s := slices.Clone(r.latencies)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*99/100)]
}

// runGETs sends n requests from conc concurrent clients, each waiting for
// its answer before sending the next; every answer must be a 200.
func runGETs(client *http.Client, newReq func() (*http.Request, error), n, conc int) getRun {
	var next atomic.Int64
	var mu sync.Mutex
	var run getRun
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Go(func() {
			lat := make([]time.Duration, 0, n/conc+1)
			var body []byte
			var err error
			for next.Add(1) <= int64(n) {
				t0 := time.Now()
				var req *http.Request
				if req, err = newReq(); err != nil {
					break
				}
				var resp *http.Response
				if resp, err = client.Do(req); err != nil {
					break
				}
				body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil && resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("status %d: %s", resp.StatusCode, body)
				}
				if err != nil {
					break
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			defer mu.Unlock()
			run.latencies = append(run.latencies, lat...)
			if body != nil {
				run.body = body
			}
			if err != nil && run.err == nil {
				run.err = err
			}
		})
	}
	wg.Wait()
	run.elapsed = time.Since(start)
	return run
}

// boundServer is the least any HTTP credential endpoint in Go can do:
// net/http answering fixed bytes, in this process, on loopback.
func boundServer(body []byte) (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	return ln, nil
}

// vmHWM is a process's peak resident set size in KiB (Linux).
func vmHWM(pid int) (int, error) { return procStatus(pid, "VmHWM") }

// procStatus reads a field in kB of /proc/PID/status (Linux).
func procStatus(pid int, field string) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		if v, ok := strings.CutPrefix(lines.Text(), field+":"); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}
