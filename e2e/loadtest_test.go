package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strconv"
	"testing"

	"github.com/iamra/iamra/loadtest"
)

// `iamra loadtest --api acm-pca` against a dev-mode server, as an operator
// runs it but short: every IssueCertificate succeeds,
// the sampled certificates verify, and every figure of the report is
// measured. The figures' values are not checked: timings here mean
// nothing.
func TestLoadtestACMPCA(t *testing.T) {
	_, info := startDevServer(t)
	ctx := context.Background()
	var out, errs bytes.Buffer
	// The server runs in this process, so its CPU time is this process's.
	code := loadtest.Command(ctx, []string{"--api", "acm-pca", "--dev-env", info.EnvFile, "--server-pid", strconv.Itoa(os.Getpid()),
		"--csrs", "100", "--duration", "1s", "--concurrency", "4", "--json"}, &out, &errs)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	t.Logf("report: %s", out.String())
	var r loadtest.PCAReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("report %q: %v", out.String(), err)
	}
	if r.API != "acm-pca" || r.CSRs != 100 || r.Concurrency != 4 {
		t.Errorf("report names the run wrongly: %+v", r)
	}
	if r.Requests == 0 || r.Failures != 0 {
		t.Fatalf("%d requests, %d failures:\n%s", r.Requests, r.Failures, errs.String())
	}
	if r.Sampled == 0 || r.Sampled > 20 || r.SampleFailures != 0 {
		t.Errorf("%d certificates sampled, %d failed:\n%s", r.Sampled, r.SampleFailures, errs.String())
	}
	for name, v := range map[string]float64{
		"certificatesPerSecond": r.CertificatesPerSecond, "p50Millis": r.P50Millis, "p99Millis": r.P99Millis,
		"rawCreateCertificatePerSecond": r.RawCreatePerSec, "throughputRatio": r.ThroughputRatio,
		"serverCpuSeconds": r.ServerCPUSeconds, "certificatesPerServerCpuSecond": r.CertsPerCPUSec,
		"rawCreateCertificatePerCpuSecond": r.RawCreatePerCPUSec, "cpuEfficiencyRatio": r.CPUEfficiency,
		"serverPeakRssMiB": r.ServerPeakRSSMiB, "storeWrites": r.StoreWrites, "storeWritesPerCertificate": r.WritesPerCertificate,
	} {
		if !(v > 0) {
			t.Errorf("%s = %v, not measured", name, v)
		}
	}
}
