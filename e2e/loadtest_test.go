package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/rolesanywhere"

	"github.com/iamra/iamra/loadtest"
)

// `iamra loadtest` (CreateSession, the default) against a dev-mode
// server, as docs/performance.md runs it but short. The dev role trusts
// the dev trust anchor alone, so this passes only if the load test brings
// a role that trusts the anchor it creates.
func TestLoadtestCreateSession(t *testing.T) {
	rs, info := startDevServer(t)
	ctx := context.Background()
	r, errs := runLoadtest[loadtest.Report](t, "--dev-env", info.EnvFile, "--certs", "50", "--duration", "1s", "--concurrency", "4")
	if r.Certificates != 50 || r.Concurrency != 4 {
		t.Errorf("report names the run wrongly: %+v", r)
	}
	if r.Requests == 0 || r.Failures != 0 {
		t.Fatalf("%d requests, %d failures:\n%s", r.Requests, r.Failures, errs)
	}

	// The run deleted what it created: the dev demo is all that is left.
	admin := rs.loadtestAdmin(t)
	var left []string
	roles, err := admin.IAM.ListRoles(ctx, &awsiam.ListRolesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles.Roles {
		left = append(left, aws.ToString(r.RoleName))
	}
	anchors, err := admin.RolesAnywhere.ListTrustAnchors(ctx, &rolesanywhere.ListTrustAnchorsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range anchors.TrustAnchors {
		left = append(left, aws.ToString(a.Name))
	}
	profiles, err := admin.RolesAnywhere.ListProfiles(ctx, &rolesanywhere.ListProfilesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range profiles.Profiles {
		left = append(left, aws.ToString(p.Name))
	}
	for _, name := range left {
		if strings.HasPrefix(name, "loadtest-") {
			t.Errorf("%s left on the server:\n%s", name, errs)
		}
	}
}

// `iamra loadtest --api acm-pca` against a dev-mode server, as an operator
// runs it but short: every IssueCertificate succeeds,
// the sampled certificates verify, every figure of the report is
// measured, and the cost split is derived from the figures it names. The
// figures' values are not checked: timings here mean nothing.
func TestLoadtestACMPCA(t *testing.T) {
	_, info := startDevServer(t)
	// The server runs in this process, so its CPU time is this process's.
	r, errs := runLoadtest[loadtest.PCAReport](t, "--api", "acm-pca", "--dev-env", info.EnvFile, "--server-pid", strconv.Itoa(os.Getpid()),
		"--csrs", "100", "--duration", "1s", "--concurrency", "4")
	if r.API != "acm-pca" || r.CSRs != 100 || r.Concurrency != 4 {
		t.Errorf("report names the run wrongly: %+v", r)
	}
	if r.Requests == 0 || r.Failures != 0 {
		t.Fatalf("%d requests, %d failures:\n%s", r.Requests, r.Failures, errs)
	}
	if r.Sampled == 0 || r.Sampled > 20 || r.SampleFailures != 0 {
		t.Errorf("%d certificates sampled, %d failed:\n%s", r.Sampled, r.SampleFailures, errs)
	}
	for name, v := range map[string]float64{
		"certificatesPerSecond": r.CertificatesPerSecond, "p50Millis": r.P50Millis, "p99Millis": r.P99Millis,
		"rawCreateCertificatePerSecond": r.RawCreatePerSec, "throughputRatio": r.ThroughputRatio,
		"serverCpuSeconds": r.ServerCPUSeconds, "certificatesPerServerCpuSecond": r.CertsPerCPUSec,
		"rawCreateCertificatePerCpuSecond": r.RawCreatePerCPUSec, "cpuEfficiencyRatio": r.CPUEfficiency,
		"serverPeakRssMiB": r.ServerPeakRSSMiB, "storeWrites": r.StoreWrites, "storeWritesPerCertificate": r.WritesPerCertificate,
		"requestFloorRequests": float64(r.FloorRequests), "requestFloorServerCpuSeconds": r.FloorServerCPUSeconds,
		"cryptoFloorPerCpuSecond":       r.CryptoFloorPerCPUSec,
		"rawCreateCertificateCpuMicros": r.RawCreateMicros, "issuanceServerCpuMicrosPerCertificate": r.IssuanceMicros,
		"cryptoFloorCpuMicrosPerCertificate": r.CryptoFloorMicros, "requestFloorServerCpuMicrosPerRequest": r.RequestFloorMicros,
		"ceilingCpuEfficiencyRatio": r.Ceiling,
	} {
		if !(v > 0) {
			t.Errorf("%s = %v, not measured", name, v)
		}
	}
	if r.FloorFailures != 0 {
		t.Errorf("%d DescribeCertificateAuthority calls of the request floor failed:\n%s", r.FloorFailures, errs)
	}
	// The server and the load share this process, so the floors include
	// the load's own CPU and the rest may be any sign: only the arithmetic
	// is checked.
	floors := r.CryptoFloorMicros + r.RequestFloorMicros
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"rawCreateCertificateCpuMicros", r.RawCreateMicros, 1e6 / r.RawCreatePerCPUSec},
		{"issuanceServerCpuMicrosPerCertificate", r.IssuanceMicros, 1e6 / r.CertsPerCPUSec},
		{"cryptoFloorCpuMicrosPerCertificate", r.CryptoFloorMicros, 1e6 / r.CryptoFloorPerCPUSec},
		{"requestFloorServerCpuMicrosPerRequest", r.RequestFloorMicros, 1e6 * r.FloorServerCPUSeconds / float64(r.FloorRequests)},
		{"restServerCpuMicrosPerCertificate", r.RestMicros, r.IssuanceMicros - r.CryptoFloorMicros - r.RequestFloorMicros},
		{"ceilingCpuEfficiencyRatio", r.Ceiling, r.RawCreateMicros / floors},
		{"cpuEfficiencyRatio", r.CPUEfficiency, r.RawCreateMicros / r.IssuanceMicros},
	} {
		if math.Abs(c.got-c.want) > 1e-9*math.Abs(c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// runLoadtest runs `iamra loadtest` with args and --json, fails the test
// unless it exits 0, and returns the report and what the command logged.
func runLoadtest[R any](t *testing.T, args ...string) (R, string) {
	t.Helper()
	var out, errs bytes.Buffer
	var r R
	if code := loadtest.Command(context.Background(), append(args, "--json"), &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	t.Logf("report: %s", out.String())
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("report %q: %v", out.String(), err)
	}
	return r, errs.String()
}
