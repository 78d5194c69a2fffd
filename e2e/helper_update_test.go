package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
)

// `aws_signing_helper update`, the built binary against a running server,
// writes credentials the server minted into a profile of the shared
// credentials file, leaving the other profiles and comments as they were;
// the AWS SDK for Go v2 reads them from there. Run without --once, it
// keeps the profile fresh until stopped, and a SIGTERM is a clean exit.
func TestHelperUpdate(t *testing.T) {
	bin := helperBinary(t)
	w := newHelperWorld(t, worldOptions{})
	dir := t.TempDir()
	credsFile := filepath.Join(dir, "credentials")
	const other = "# managed by hand\n[other]\naws_access_key_id = AKIAOTHEROTHEROTHER1\naws_secret_access_key = other-secret\n\n"
	if err := os.WriteFile(credsFile, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	env := childEnvWithout("AWS_CA_BUNDLE="+w.CABundle(), "AWS_SHARED_CREDENTIALS_FILE="+credsFile, "HOME="+dir)

	resolve := func(t *testing.T) string {
		cleanAWSEnv(t)
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", credsFile)
		cfg, err := config.LoadDefaultConfig(context.Background(), config.WithSharedConfigProfile("ra"))
		if err != nil {
			t.Fatal(err)
		}
		creds, err := cfg.Credentials.Retrieve(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		w.checkIssued(t, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, w.Leaf, time.Now())
		data, err := os.ReadFile(credsFile)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), other) {
			t.Fatalf("the other profile changed:\n%s", data)
		}
		if fi, err := os.Stat(credsFile); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("credentials file mode %v (%v), want 0600", fi.Mode(), err)
		}
		return creds.AccessKeyID
	}

	t.Run("once", func(t *testing.T) {
		cmd := exec.Command(bin, append([]string{"update", "--once", "--profile", "ra"}, w.helperFlags(w.Cert, w.Key)...)...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("update --once: %v\n%s", err, out)
		}
		resolve(t)
	})

	t.Run("until-stopped", func(t *testing.T) {
		before := len(w.sessions(t))
		cmd := exec.Command(bin, append([]string{"update", "--profile", "ra"}, w.helperFlags(w.Cert, w.Key)...)...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		defer cmd.Process.Kill()
		eventually(t, "update's first write", func() bool { return len(w.sessions(t)) > before })
		// The CreateSession is audited before the helper writes the file.
		eventually(t, "the profile to hold the new credentials", func() bool {
			data, _ := os.ReadFile(credsFile)
			return strings.Contains(string(data), w.sessions(t)[before].ResponseElements.AccessKeyID)
		})
		resolve(t)
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("update after SIGTERM: %v\n%s", err, stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("update did not stop on SIGTERM\n%s", stderr.String())
		}
	})
}
