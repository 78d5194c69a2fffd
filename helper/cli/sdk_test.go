package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"

	"github.com/iamra/iamra/helper/rolesclient/rolesclienttest"
)

// TestMain lets the test binary act as aws_signing_helper when the SDK
// runs it as a credential_process.
func TestMain(m *testing.M) {
	if os.Getenv("IAMRA_TEST_AS_HELPER") == "1" {
		os.Exit(Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestSDKCredentialProcess: aws-sdk-go-v2's credential_process provider,
// the real consumer of the output, accepts what credential-process prints.
func TestSDKCredentialProcess(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the command line below is quoted for sh")
	}
	f := newFixture(t, rolesclienttest.OK("2030-01-01T00:00:00Z"))
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("IAMRA_TEST_AS_HELPER", "1")
	t.Setenv("AWS_CA_BUNDLE", f.vars["AWS_CA_BUNDLE"])
	creds, err := processcreds.NewProvider(f.commandLine(exe)).Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "ASIAEXAMPLEEXAMPLE12" || creds.SecretAccessKey != "secret/key+1<&>" || creds.SessionToken != "token==" ||
		!creds.CanExpire || !creds.Expires.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("SDK read %+v", creds)
	}
}

// commandLine is the credential-process invocation, quoted for sh.
func (f *fixture) commandLine(exe string) string {
	quoted := []string{"'" + exe + "'", "credential-process"}
	for _, a := range f.args() {
		quoted = append(quoted, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
	}
	return strings.Join(quoted, " ")
}

// TestBotocoreCredentialProcess: botocore (the AWS CLI's and boto3's
// core) reads the output through a credential_process profile.
func TestBotocoreCredentialProcess(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the command line is quoted for sh")
	}
	py, err := exec.LookPath("python3")
	if err == nil {
		err = exec.Command(py, "-c", "import botocore").Run()
	}
	if err != nil {
		t.Skip("python3 with botocore not available")
	}
	f := newFixture(t, rolesclienttest.OK("2030-01-01T00:00:00Z"))
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(f.dir, "config")
	if err := os.WriteFile(config, []byte("[profile ra]\ncredential_process = "+f.commandLine(exe)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", `import botocore.session
c = botocore.session.Session(profile="ra").get_credentials().get_frozen_credentials()
print(c.access_key, c.secret_key, c.token)`)
	cmd.Env = append(os.Environ(), "IAMRA_TEST_AS_HELPER=1", "AWS_CA_BUNDLE="+f.vars["AWS_CA_BUNDLE"],
		"AWS_CONFIG_FILE="+config, "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(f.dir, "none"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("botocore: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "ASIAEXAMPLEEXAMPLE12 secret/key+1<&> token==" {
		t.Fatalf("botocore read %q", got)
	}
}
