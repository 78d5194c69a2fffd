package loadtest

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"
)

// Command is `iamra loadtest`: against a running server (admin
// credentials and endpoint from a dev.env file) it drives pre-signed
// requests over HTTPS keep-alive and reports throughput and latency beside
// a bound measured in the same run, and, given --server-pid, the server's
// CPU time and peak memory.
//
// --api rolesanywhere (the default) creates a trust anchor, a role that
// trusts it and a profile, issues --certs distinct certificates, calls
// CreateSession, and deletes the three. --api
// acm-pca creates a root CA through the ACM-PCA API, makes --csrs client
// keys and CSRs, calls IssueCertificate, and checks a sample of what was
// issued.
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("iamra loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	api := fs.String("api", "rolesanywhere", "what to load: rolesanywhere (CreateSession) or acm-pca (private CA IssueCertificate)")
	envFile := fs.String("dev-env", "", "dev.env file written by `iamra server --dev` (endpoint, CA bundle, admin key)")
	keyType := fs.String("key", "p256", "rolesanywhere: leaf key type, p256 or rsa2048")
	certs := fs.Int("certs", 10000, "rolesanywhere: distinct leaf certificates (and so subjects)")
	csrs := fs.Int("csrs", 2000, "acm-pca: distinct client P-256 keys and CSRs (none is sent twice before all were sent)")
	conc := fs.Int("concurrency", 0, "concurrent keep-alive clients (default 16; 32 with --api acm-pca)")
	dur := fs.Duration("duration", 20*time.Second, "how long to send (at most 4m: requests are pre-signed)")
	pid := fs.Int("server-pid", 0, "server process id, to report its CPU time and peak RSS from /proc")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if msg := checkFlags(fs, *api, *envFile, *dur); msg != "" {
		fmt.Fprintf(stderr, "iamra loadtest: %s\n", msg)
		return 2
	}
	n := cmp.Or(*conc, defaultConcurrency[*api])
	s, err := connect(*envFile, n)
	var r interface{ printText(io.Writer) }
	if err == nil {
		switch *api {
		case "rolesanywhere":
			r, err = runSessions(ctx, s, KeyType(*keyType), *certs, n, *dur, *pid, stderr)
		case "acm-pca":
			r, err = runPCA(ctx, s, *csrs, n, *dur, *pid, stderr)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "iamra loadtest: %v\n", err)
		return 1
	}
	if *asJSON {
		b, _ := json.MarshalIndent(r, "", "  ")
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	r.printText(stdout)
	return 0
}

// defaultConcurrency is per --api: issuance waits on durable commits, so
// more clients keep the server's cores busy.
var defaultConcurrency = map[string]int{"rolesanywhere": 16, "acm-pca": 32}

// modeFlags are the flags that apply to one --api only.
var modeFlags = map[string]string{"key": "rolesanywhere", "certs": "rolesanywhere", "csrs": "acm-pca"}

// checkFlags returns what is wrong with the command line, or "".
func checkFlags(fs *flag.FlagSet, api, envFile string, dur time.Duration) string {
	if api != "rolesanywhere" && api != "acm-pca" {
		return fmt.Sprintf("--api must be rolesanywhere or acm-pca, not %q", api)
	}
	if envFile == "" {
		return "--dev-env is required"
	}
	if dur > 4*time.Minute {
		return "--duration must be at most 4m (signatures are valid for the skew window)"
	}
	var msg string
	fs.Visit(func(f *flag.Flag) {
		if m, ok := modeFlags[f.Name]; ok && m != api && msg == "" {
			msg = fmt.Sprintf("--%s applies to --api %s only", f.Name, m)
		}
	})
	return msg
}
