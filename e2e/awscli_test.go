package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iamra/iamra/trust/trusttest"
)

// awsCLIs are the AWS CLI versions a user may have: v1 (the machine
// image's, on PATH, with boto3 beside it) and v2 (Debian's awscli package,
// installed by scripts/test).
func awsCLIs(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	if p, err := exec.LookPath("aws"); err == nil {
		if v, _ := exec.Command(p, "--version").CombinedOutput(); strings.HasPrefix(string(v), "aws-cli/1.") {
			out["v1"] = p
		}
	}
	if v, err := exec.Command("/usr/bin/aws", "--version").CombinedOutput(); err == nil && strings.HasPrefix(string(v), "aws-cli/2.") {
		out["v2"] = "/usr/bin/aws"
	}
	if _, ok := out["v2"]; !ok && os.Getenv("CI") != "" {
		t.Fatal("AWS CLI v2 (/usr/bin/aws) is missing: scripts/test installs Debian's awscli")
	}
	if len(out) == 0 {
		t.Skip("no AWS CLI installed (scripts/test installs it)")
	}
	return out
}

// runAWSCLI runs an AWS CLI with credentials c, a clean environment (plus
// env), the server's CA bundle and, unless env overrides the endpoint,
// --endpoint-url endpoint; it returns the JSON output.
func runAWSCLI(t *testing.T, bin, endpoint, caBundle string, c aws.Credentials, env []string, args ...string) map[string]any {
	t.Helper()
	home := t.TempDir()
	full := append(args, "--output", "json")
	if len(env) == 0 {
		full = append(full, "--endpoint-url", endpoint)
	}
	cmd := exec.Command(bin, full...)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"AWS_ACCESS_KEY_ID=" + c.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + c.SecretAccessKey, "AWS_SESSION_TOKEN=" + c.SessionToken,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CA_BUNDLE=" + caBundle,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
		"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true",
	}, env...)
	if pyenv := os.Getenv("PYENV_ROOT"); pyenv != "" {
		cmd.Env = append(cmd.Env, "PYENV_ROOT="+pyenv)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, args, err, stderr.String())
	}
	out := map[string]any{}
	if stdout.Len() > 0 {
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatalf("%s %v: output %q: %v", bin, args, stdout.String(), err)
		}
	}
	return out
}

// cli runs an AWS CLI against the server with the admin key.
func (rs *runningServer) cli(t *testing.T, bin string, args ...string) map[string]any {
	t.Helper()
	k := rs.State.AdminKeys[0]
	return runAWSCLI(t, bin, rs.Endpoint, rs.Dir.CABundle(), aws.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey}, nil, args...)
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func TestAWSCLI(t *testing.T) {
	clis := awsCLIs(t)
	for version, bin := range clis {
		t.Run(version, func(t *testing.T) {
			rs := startServer(t, time.Now())
			pki := trusttest.New(t, nil, time.Now())
			root := pki.Root("CLI Root " + version)
			dir := t.TempDir()
			caFile := filepath.Join(dir, "ca.pem")
			crlFile := filepath.Join(dir, "crl.pem")
			os.WriteFile(caFile, []byte(root.PEM()), 0o644)
			os.WriteFile(crlFile, trusttest.CRLPEM(pki.CRL(root)), 0o644)

			ta := rs.cli(t, bin, "rolesanywhere", "create-trust-anchor", "--name", "cli-anchor", "--enabled",
				"--source", `{"sourceType":"CERTIFICATE_BUNDLE","sourceData":{"x509CertificateData":`+jsonString(root.PEM())+`}}`)
			taArn, _ := dig(ta, "trustAnchor", "trustAnchorArn").(string)
			if !strings.HasPrefix(taArn, "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/") {
				t.Fatalf("create-trust-anchor: %v", ta)
			}
			p := rs.cli(t, bin, "rolesanywhere", "create-profile", "--name", "cli-profile", "--enabled",
				"--role-arns", "arn:aws:iam::123456789012:role/cli-role", "--duration-seconds", "7200")
			if dig(p, "profile", "durationSeconds") != float64(7200) || dig(p, "profile", "enabled") != true {
				t.Fatalf("create-profile: %v", p)
			}
			crl := rs.cli(t, bin, "rolesanywhere", "import-crl", "--name", "cli-crl", "--crl-data", "fileb://"+crlFile,
				"--trust-anchor-arn", taArn, "--enabled")
			if dig(crl, "crl", "trustAnchorArn") != taArn {
				t.Fatalf("import-crl: %v", crl)
			}
			for cmd, key := range map[string]string{"list-trust-anchors": "trustAnchors", "list-profiles": "profiles", "list-crls": "crls"} {
				out := rs.cli(t, bin, "rolesanywhere", cmd)
				if items, _ := out[key].([]any); len(items) != 1 {
					t.Errorf("%s: %v", cmd, out)
				}
			}
			if out := rs.cli(t, bin, "rolesanywhere", "list-subjects"); out["subjects"] != nil && len(out["subjects"].([]any)) != 0 {
				t.Errorf("list-subjects: %v", out)
			}
		})
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
