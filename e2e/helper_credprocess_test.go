package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
)

// The iamra binary, installed as aws_signing_helper (a symlink) and named
// in a shared config file's credential_process, gives the AWS SDK for Go
// v2, the AWS CLI v1 and v2 and boto3 credentials that the running server
// minted for the helper's certificate and role, and that the CLIs sign
// their calls with.
func TestHelperCredentialProcess(t *testing.T) {
	bin := helperBinary(t)
	w := newHelperWorld(t, worldOptions{})
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config")
	// The paths come from t.TempDir and hold no characters a shell or
	// botocore's shlex would split or interpret.
	process := strings.Join(append([]string{bin, "credential-process"}, w.helperFlags(w.Cert, w.Key)...), " ")
	cfg := "[profile iamra]\nregion = us-east-1\ncredential_process = " + process + "\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	childEnv := childEnvWithout("AWS_CONFIG_FILE="+cfgPath, "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"),
		"AWS_CA_BUNDLE="+w.CABundle(), "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true")

	t.Run("go-sdk-v2", func(t *testing.T) {
		cleanAWSEnv(t)
		t.Setenv("AWS_CONFIG_FILE", cfgPath)
		t.Setenv("AWS_CA_BUNDLE", w.CABundle()) // inherited by the helper
		cfg, err := config.LoadDefaultConfig(context.Background(), config.WithSharedConfigProfile("iamra"))
		if err != nil {
			t.Fatal(err)
		}
		creds, err := cfg.Credentials.Retrieve(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if creds.Source != processcreds.ProviderName || !creds.CanExpire || creds.Expires.Before(time.Now().Add(50*time.Minute)) {
			t.Fatalf("resolved %s, expiring %v (can expire: %v)", creds.Source, creds.Expires, creds.CanExpire)
		}
		w.checkIssued(t, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, w.Leaf, time.Now())
	})

	for version, cli := range awsCLIsOrSkip(t) {
		t.Run("aws-cli-"+version, func(t *testing.T) {
			run := func(args ...string) (stdout, stderr string, err error) {
				cmd := exec.Command(cli, args...)
				cmd.Env = append(childEnv, "HOME="+t.TempDir())
				var o, e bytes.Buffer
				cmd.Stdout, cmd.Stderr = &o, &e
				err = cmd.Run()
				return o.String(), e.String(), err
			}
			if version == "v2" { // export-credentials came with v2.9
				out, stderr, err := run("configure", "export-credentials", "--profile", "iamra")
				if err != nil {
					t.Fatalf("export-credentials: %v\n%s", err, stderr)
				}
				var c struct {
					Version                                                int
					AccessKeyId, SecretAccessKey, SessionToken, Expiration string
				}
				if err := json.Unmarshal([]byte(out), &c); err != nil || c.Version != 1 {
					t.Fatalf("export-credentials printed %q: %v", out, err)
				}
				w.checkIssued(t, c.AccessKeyId, c.SecretAccessKey, c.SessionToken, w.Leaf, time.Now())
			}
			// The CLI signs a call with the helper's credentials: the server
			// refuses them (control-plane calls need an admin key today,
			// an IAM policy once sessions are authorized, hence either
			// error), which proves they reached it; the debug log shows
			// which key signed.
			_, stderr, err := run("rolesanywhere", "list-trust-anchors", "--endpoint-url", w.Endpoint(), "--profile", "iamra", "--debug")
			if err == nil {
				t.Fatal("list-trust-anchors with session credentials succeeded; the server must refuse them")
			}
			if !strings.Contains(stderr, "UnrecognizedClientException") && !strings.Contains(stderr, "AccessDeniedException") {
				t.Fatalf("list-trust-anchors: want UnrecognizedClientException, got %v\n%s", err, tail(stderr, 3000))
			}
			m := regexp.MustCompile(`Credential=(ASIA[A-Z0-9]{16})/`).FindStringSubmatch(stderr)
			if m == nil {
				t.Fatalf("no ASIA access key signed the call:\n%s", tail(stderr, 3000))
			}
			rec := w.sessionFor(t, m[1])
			if rec.UserIdentity.SerialNumber != "1001" {
				t.Fatalf("the key %s was issued to certificate serial %q", m[1], rec.UserIdentity.SerialNumber)
			}
		})
	}

	t.Run("boto3", func(t *testing.T) {
		py := botoAvailable(t)
		cmd := exec.Command(py, "-c", `import boto3
c = boto3.Session(profile_name="iamra").get_credentials()
f = c.get_frozen_credentials()
print(c.method, f.access_key, f.secret_key, f.token)`)
		cmd.Env = append(childEnv, "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("boto3: %v\n%s", err, out)
		}
		f := strings.Fields(string(out))
		if len(f) != 4 || f[0] != "custom-process" {
			t.Fatalf("boto3 printed %q", out)
		}
		w.checkIssued(t, f[1], f[2], f[3], w.Leaf, time.Now())
	})

	// Every credential the helper obtained was a CreateSession the server
	// accepted, signed with the one ECDSA key.
	for _, r := range w.sessions(t) {
		if r.ErrorCode != "" || r.AdditionalEventData.SignatureAlgorithm != "AWS4-X509-ECDSA-SHA256" {
			t.Errorf("CreateSession record %+v", r)
		}
	}
}

// awsCLIsOrSkip is awsCLIs without ending the calling test when none is
// installed outside CI: the other clients still run.
func awsCLIsOrSkip(t *testing.T) map[string]string {
	out := map[string]string{}
	t.Run("find-aws-cli", func(t *testing.T) { out = awsCLIs(t) })
	return out
}

// tail is the end of s, where a CLI's error is.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
