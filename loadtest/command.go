package loadtest

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rolesanywhere"
)

// Report is what the load command prints (also as JSON with --json).
type Report struct {
	KeyType            KeyType `json:"keyType"`
	Certificates       int     `json:"certificates"`
	Concurrency        int     `json:"concurrency"`
	Requests           int64   `json:"requests"`
	Failures           int64   `json:"failures"`
	SessionsPerSecond  float64 `json:"sessionsPerSecond"`
	P50Millis          float64 `json:"p50Millis"`
	P99Millis          float64 `json:"p99Millis"`
	CryptoBoundPerSec  float64 `json:"cryptoBoundPerSecond"`
	ThroughputRatio    float64 `json:"throughputRatio"`
	ServerCPUSeconds   float64 `json:"serverCpuSeconds,omitempty"`
	SessionsPerCPUSec  float64 `json:"sessionsPerServerCpuSecond,omitempty"`
	CryptoPerCPUSec    float64 `json:"cryptoPerCpuSecond,omitempty"`
	CPUEfficiency      float64 `json:"cpuEfficiencyRatio,omitempty"`
	ServerPeakRSSMiB   float64 `json:"serverPeakRssMiB,omitempty"`
	StoreWrites        float64 `json:"storeWrites"`
	WritesPerRequest   float64 `json:"storeWritesPerRequest"`
	ServerStoreMetrics bool    `json:"-"`
}

// Command is `iamra loadtest`: it creates a trust anchor and a profile on a
// running server (admin credentials and ARNs from a dev.env file), issues
// --certs distinct certificates, and drives CreateSession over HTTPS
// keep-alive, reporting throughput and latency beside the crypto bound,
// and, given --server-pid, the server's CPU time and peak memory.
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("iamra loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envFile := fs.String("dev-env", "", "dev.env file written by `iamra server --dev` (endpoint, CA bundle, admin key, role)")
	keyType := fs.String("key", "p256", "leaf key type: p256 or rsa2048")
	certs := fs.Int("certs", 10000, "distinct leaf certificates (and so subjects)")
	conc := fs.Int("concurrency", 16, "concurrent keep-alive clients")
	dur := fs.Duration("duration", 20*time.Second, "how long to send (at most 4m: requests are pre-signed)")
	pid := fs.Int("server-pid", 0, "server process id, to report its CPU time and peak RSS from /proc")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *envFile == "" {
		fmt.Fprintln(stderr, "iamra loadtest: --dev-env is required")
		return 2
	}
	if *dur > 4*time.Minute {
		fmt.Fprintln(stderr, "iamra loadtest: --duration must be at most 4m (signatures are valid for the skew window)")
		return 2
	}
	r, err := run(ctx, *envFile, KeyType(*keyType), *certs, *conc, *dur, *pid, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "iamra loadtest: %v\n", err)
		return 1
	}
	if *asJSON {
		b, _ := json.MarshalIndent(r, "", "  ")
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	fmt.Fprintf(stdout, "CreateSession over HTTPS keep-alive: %s leaves, %d certificates, %d clients\n", r.KeyType, r.Certificates, r.Concurrency)
	fmt.Fprintf(stdout, "  requests %d (failures %d), %.0f sessions/s, p50 %.2f ms, p99 %.2f ms\n", r.Requests, r.Failures, r.SessionsPerSecond, r.P50Millis, r.P99Millis)
	fmt.Fprintf(stdout, "  crypto bound (parse + chain verify + request verify, all cores): %.0f/s; throughput ratio %.2f\n", r.CryptoBoundPerSec, r.ThroughputRatio)
	if r.ServerCPUSeconds > 0 {
		fmt.Fprintf(stdout, "  server CPU %.1f s: %.0f sessions per CPU-second vs %.0f crypto ops per CPU-second: CPU efficiency %.2f\n",
			r.ServerCPUSeconds, r.SessionsPerCPUSec, r.CryptoPerCPUSec, r.CPUEfficiency)
		fmt.Fprintf(stdout, "  server peak RSS %.1f MiB\n", r.ServerPeakRSSMiB)
	}
	fmt.Fprintf(stdout, "  store write transactions %.0f: %.5f per request\n", r.StoreWrites, r.WritesPerRequest)
	return 0
}

func readEnv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	env := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		line, ok := strings.CutPrefix(strings.TrimSpace(s.Text()), "export ")
		if !ok {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		env[k] = strings.ReplaceAll(strings.Trim(v, "'"), `'\''`, "'")
	}
	return env, s.Err()
}

func run(ctx context.Context, envFile string, kt KeyType, n, conc int, dur time.Duration, pid int, log io.Writer) (*Report, error) {
	env, err := readEnv(envFile)
	if err != nil {
		return nil, err
	}
	caPEM, err := os.ReadFile(env["AWS_CA_BUNDLE"])
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("no certificates in AWS_CA_BUNDLE")
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	endpoint, region := env["IAMRA_ENDPOINT"], env["AWS_REGION"]
	admin := rolesanywhere.New(rolesanywhere.Options{Region: region, BaseEndpoint: aws.String(endpoint), HTTPClient: client,
		Credentials: awscreds.NewStaticCredentialsProvider(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], "")})

	fmt.Fprintf(log, "issuing %d %s certificates…\n", n, kt)
	f, err := NewFixture(kt, n, time.Now())
	if err != nil {
		return nil, err
	}
	target, err := Setup(ctx, admin, f, endpoint, region, env["IAMRA_ROLE_ARN"])
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(log, "signing requests…")
	reqs, err := f.Sign(target, time.Now())
	if err != nil {
		return nil, err
	}
	opts := Options{Concurrency: conc, Duration: dur, Client: client}
	if err := WaitReady(ctx, reqs, opts); err != nil {
		return nil, err
	}
	fmt.Fprintln(log, "measuring the crypto bound…")
	bound, err := f.CryptoBound(3 * time.Second)
	if err != nil {
		return nil, err
	}
	revBefore, _ := scrapeGauge(client, endpoint+"/metrics", "iamra_store_revision")
	cpuBefore, _ := processCPU(pid)
	fmt.Fprintf(log, "sending for %s…\n", dur)
	res := Run(ctx, reqs, opts)
	cpuAfter, _ := processCPU(pid)
	// Subject writes are batched once a second: wait for the last batch so
	// it is counted.
	time.Sleep(1500 * time.Millisecond)
	revAfter, _ := scrapeGauge(client, endpoint+"/metrics", "iamra_store_revision")

	rep := &Report{
		KeyType: kt, Certificates: n, Concurrency: conc, Requests: res.Requests,
		Failures: res.Requests - res.Statuses[201] + res.Errors, SessionsPerSecond: res.PerSecond,
		P50Millis: float64(res.P50.Microseconds()) / 1000, P99Millis: float64(res.P99.Microseconds()) / 1000,
		CryptoBoundPerSec: bound.PerSecond, ThroughputRatio: res.PerSecond / bound.PerSecond,
		StoreWrites: revAfter - revBefore,
	}
	if res.Requests > 0 {
		rep.WritesPerRequest = rep.StoreWrites / float64(res.Requests)
	}
	if pid > 0 {
		rep.ServerCPUSeconds = cpuAfter - cpuBefore
		if rep.ServerCPUSeconds > 0 {
			rep.SessionsPerCPUSec = float64(res.Statuses[201]) / rep.ServerCPUSeconds
			rep.CryptoPerCPUSec = bound.PerCPUSecond
			rep.CPUEfficiency = rep.SessionsPerCPUSec / rep.CryptoPerCPUSec
		}
		rep.ServerPeakRSSMiB, _ = peakRSS(pid)
	}
	return rep, nil
}

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
