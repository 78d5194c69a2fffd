package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
)

// `aws_signing_helper serve`, the built binary against a running server,
// hands the credentials it obtained to the AWS SDK for Go v2 and to boto3
// through their own IMDS and container-credentials providers, configured
// only by the environment variables an application would be given. All of
// them read the one cached set: one CreateSession for the whole test.
func TestHelperServe(t *testing.T) {
	bin := helperBinary(t)
	w := newHelperWorld(t, worldOptions{})
	dir := t.TempDir()
	const authToken = "container-token-0123456789"
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(authToken), 0o600); err != nil {
		t.Fatal(err)
	}
	serve := startServe(t, bin, childEnvWithout("AWS_CA_BUNDLE="+w.CABundle()),
		append(w.helperFlags(w.Cert, w.Key), "--auth-token-file", tokenFile, "--debug")...)

	var akid string      // of the one set every client must get
	var secrets []string // what must never appear in serve's log
	sdk := func(t *testing.T, env map[string]string, wantSource string) {
		cleanAWSEnv(t)
		for k, v := range env {
			t.Setenv(k, v)
		}
		cfg, err := config.LoadDefaultConfig(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		creds, err := cfg.Credentials.Retrieve(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if creds.Source != wantSource || !creds.CanExpire {
			t.Fatalf("resolved by %q (can expire %v), want %q", creds.Source, creds.CanExpire, wantSource)
		}
		w.checkIssued(t, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, w.Leaf, time.Now())
		secrets = append(secrets, creds.SecretAccessKey, creds.SessionToken)
		if akid == "" {
			akid = creds.AccessKeyID
		} else if creds.AccessKeyID != akid {
			t.Fatalf("serve handed out %s after %s: its cache did not hold", creds.AccessKeyID, akid)
		}
	}
	t.Run("go-sdk-v2-imds", func(t *testing.T) {
		sdk(t, map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT": serve.Base + "/"}, ec2rolecreds.ProviderName)
	})
	t.Run("go-sdk-v2-container", func(t *testing.T) {
		sdk(t, map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": serve.Base + "/v1/credentials",
			"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile}, endpointcreds.ProviderName)
	})
	t.Run("boto3", func(t *testing.T) {
		py := botoAvailable(t)
		cases, _ := json.Marshal([]map[string]string{
			{"AWS_EC2_METADATA_SERVICE_ENDPOINT": serve.Base + "/"},
			{"AWS_CONTAINER_CREDENTIALS_FULL_URI": serve.Base + "/v1/credentials", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile},
		})
		// One interpreter, a new session per case: each builds boto3's
		// default chain afresh from the environment.
		const script = `
import json, os, sys, boto3
for case in json.loads(sys.argv[1]):
    for k in ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"):
        os.environ.pop(k, None)
    os.environ.update(case)
    c = boto3.Session().get_credentials()
    f = c.get_frozen_credentials()
    print(c.method, f.access_key, f.secret_key, f.token)
`
		cmd := exec.Command(py, "-c", script, string(cases))
		cmd.Env = childEnvWithout("HOME="+t.TempDir(), "AWS_CONFIG_FILE="+filepath.Join(dir, "none"),
			"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"), "AWS_DEFAULT_REGION=us-east-1",
			// botocore's IMDS defaults (1 s, one attempt) are tight on a
			// busy shared machine.
			"AWS_METADATA_SERVICE_TIMEOUT=10", "AWS_METADATA_SERVICE_NUM_ATTEMPTS=3")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("boto3: %v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != 2 {
			t.Fatalf("boto3 printed %q", out)
		}
		for i, method := range []string{"iam-role", "container-role"} {
			f := strings.Fields(lines[i])
			if len(f) != 4 || f[0] != method {
				t.Fatalf("boto3 case %d printed %q, want method %s", i, lines[i], method)
			}
			w.checkIssued(t, f[1], f[2], f[3], w.Leaf, time.Now())
			secrets = append(secrets, f[2], f[3])
			if akid != "" && f[1] != akid {
				t.Fatalf("boto3 got %s, the SDK %s: serve's cache did not hold", f[1], akid)
			}
		}
	})

	// The container endpoint refuses a caller without the token.
	resp, err := http.Get(serve.Base + "/v1/credentials")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("container endpoint without the token: %d, want 401", resp.StatusCode)
	}
	if n := len(w.sessions(t)); n != 1 {
		t.Errorf("%d CreateSessions for one serve process, want 1", n)
	}
	// Even with --debug, serve logs no secret.
	logged := serve.Stderr()
	if strings.Contains(logged, authToken) {
		t.Error("serve logged the container authorization token")
	}
	if akid != "" {
		if cred := w.sessionFor(t, akid); cred.ErrorCode != "" {
			t.Fatalf("audit %+v", cred)
		}
	}
	for _, secret := range secrets {
		if strings.Contains(logged, secret) {
			t.Fatal("serve logged a secret access key or session token")
		}
	}
}
