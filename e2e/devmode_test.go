package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/iamra/iamra/devmode"
	helpercli "github.com/iamra/iamra/helper/cli"
)

// readDevEnv parses the export lines of dev.env.
func readDevEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		line, ok := strings.CutPrefix(s.Text(), "export ")
		if !ok {
			t.Fatalf("dev.env line %q is not an export", s.Text())
		}
		k, v, _ := strings.Cut(line, "=")
		env[k] = strings.Trim(v, "'")
	}
	return env
}

// startDevServer starts a server and bootstraps dev mode on it, as
// `iamra server --dev` does.
func startDevServer(t *testing.T) (*runningServer, *devmode.Info) {
	t.Helper()
	rs := startServer(t, time.Now())
	info, err := devmode.Bootstrap(context.Background(), rs.Server, devmode.Options{Endpoint: rs.Endpoint, Now: time.Now, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	return rs, info
}

// The README's run command: dev mode bootstraps a demo, writes dev.env, and
// the printed helper command gets credentials with it.
func TestDevMode(t *testing.T) {
	rs, info := startDevServer(t)
	ctx := context.Background()
	var banner bytes.Buffer
	devmode.PrintBanner(&banner, info)
	if !strings.Contains(banner.String(), "source "+info.EnvFile) {
		t.Errorf("banner does not say how to load dev.env:\n%s", banner.String())
	}
	st, err := os.Stat(info.EnvFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("dev.env (holds the admin secret): %v %v", err, st)
	}
	env := readDevEnv(t, info.EnvFile)
	for _, k := range []string{"IAMRA_ENDPOINT", "AWS_CA_BUNDLE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION",
		"IAMRA_TRUST_ANCHOR_ARN", "IAMRA_PROFILE_ARN", "IAMRA_ROLE_ARN", "IAMRA_DEMO_CERT", "IAMRA_DEMO_KEY"} {
		if env[k] == "" {
			t.Errorf("dev.env lacks %s", k)
		}
	}
	if st, err := os.Stat(env["IAMRA_DEMO_KEY"]); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("demo key file: %v %v", err, st)
	}

	// The banner's command, run in-process with dev.env's values.
	t.Setenv("AWS_CA_BUNDLE", env["AWS_CA_BUNDLE"])
	var out, errs bytes.Buffer
	code := helpercli.Main(ctx, []string{"credential-process", "--certificate", env["IAMRA_DEMO_CERT"], "--private-key", env["IAMRA_DEMO_KEY"],
		"--trust-anchor-arn", env["IAMRA_TRUST_ANCHOR_ARN"], "--profile-arn", env["IAMRA_PROFILE_ARN"],
		"--role-arn", env["IAMRA_ROLE_ARN"], "--endpoint", env["IAMRA_ENDPOINT"]}, nil, &out, &errs)
	if code != 0 {
		t.Fatalf("credential-process exit %d: %s", code, errs.String())
	}
	var creds struct {
		Version                                                int
		AccessKeyId, SecretAccessKey, SessionToken, Expiration string
	}
	if err := json.Unmarshal(out.Bytes(), &creds); err != nil || creds.Version != 1 || !strings.HasPrefix(creds.AccessKeyId, "ASIA") {
		t.Fatalf("credential_process output %q: %v", out.String(), err)
	}

	// Bootstrapping the same data directory again reuses the demo.
	again, err := devmode.Bootstrap(ctx, rs.Server, devmode.Options{Endpoint: rs.Endpoint, Now: time.Now, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	if again.TrustAnchorArn != info.TrustAnchorArn || again.ProfileArn != info.ProfileArn || again.CAArn != info.CAArn {
		t.Errorf("second bootstrap made new resources: %+v vs %+v", again, info)
	}
}
