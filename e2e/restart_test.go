package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rolesanywhere"
	"github.com/aws/aws-sdk-go-v2/service/rolesanywhere/types"

	"github.com/iamra/iamra/datadir"
	"github.com/iamra/iamra/server"
	"github.com/iamra/iamra/trust/trusttest"
)

const childEnv = "IAMRA_E2E_SERVER_CHILD"

// TestServerChildProcess is not a test: run by startChild, it serves a
// data directory until killed.
func TestServerChildProcess(t *testing.T) {
	dir := os.Getenv(childEnv)
	if dir == "" {
		t.Skip("helper process for TestRestartAfterSIGKILL")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(context.Background(), server.Config{DataDir: dir, Scope: testScope, Now: time.Now, Rand: rand.Reader,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("LISTENING %s\n", ln.Addr())
	if err := srv.Run(context.Background(), ln, false); err != nil {
		t.Fatal(err)
	}
}

type child struct {
	cmd      *exec.Cmd
	endpoint string
}

func startChild(t *testing.T, dir string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestServerChildProcess$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if addr, ok := strings.CutPrefix(lines.Text(), "LISTENING "); ok {
			go io.Copy(io.Discard, out)
			return &child{cmd: cmd, endpoint: "https://" + addr}
		}
	}
	t.Fatalf("child server exited before listening: %v", lines.Err())
	return nil
}

func childClient(t *testing.T, dir, endpoint string) *rolesanywhere.Client {
	t.Helper()
	st, err := datadir.Init(context.Background(), datadir.Dir(dir), datadir.Options{Scope: testScope, Now: time.Now, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(st.CA)
	k := st.AdminKeys[0]
	return rolesanywhere.New(rolesanywhere.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: awscreds.NewStaticCredentialsProvider(k.AccessKeyID, k.SecretAccessKey, ""),
		HTTPClient:  &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
	})
}

// Everything the server acknowledged survives a SIGKILL.
func TestRestartAfterSIGKILL(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	// Create the data directory (keys, admin credentials) before the child
	// starts, so parent and child share it.
	childClient(t, dir, "https://unused")
	first := startChild(t, dir)
	c := childClient(t, dir, first.endpoint)
	ctx := context.Background()
	pki := trusttest.New(t, nil, time.Now())

	var anchors, profiles []string
	for i := 0; i < 20; i++ {
		root := pki.Root(fmt.Sprintf("Root %d", i))
		ta, err := c.CreateTrustAnchor(ctx, &rolesanywhere.CreateTrustAnchorInput{
			Name: aws.String(fmt.Sprintf("anchor-%d", i)), Enabled: aws.Bool(i%2 == 0),
			Source: &types.Source{SourceType: types.TrustAnchorTypeCertificateBundle, SourceData: &types.SourceDataMemberX509CertificateData{Value: root.PEM()}},
			Tags:   []types.Tag{{Key: aws.String("n"), Value: aws.String(fmt.Sprint(i))}},
		})
		if err != nil {
			t.Fatal(err)
		}
		anchors = append(anchors, *ta.TrustAnchor.TrustAnchorId)
		p, err := c.CreateProfile(ctx, &rolesanywhere.CreateProfileInput{Name: aws.String(fmt.Sprintf("profile-%d", i)),
			RoleArns: []string{"arn:aws:iam::123456789012:role/r"}, DurationSeconds: aws.Int32(int32(900 + i))})
		if err != nil {
			t.Fatal(err)
		}
		profiles = append(profiles, *p.Profile.ProfileId)
	}
	// The last acknowledged write, then the kill.
	if _, err := c.UpdateProfile(ctx, &rolesanywhere.UpdateProfileInput{ProfileId: aws.String(profiles[19]), Name: aws.String("renamed")}); err != nil {
		t.Fatal(err)
	}
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.cmd.Wait()

	second := startChild(t, dir)
	c = childClient(t, dir, second.endpoint)
	for i, id := range anchors {
		ta, err := c.GetTrustAnchor(ctx, &rolesanywhere.GetTrustAnchorInput{TrustAnchorId: aws.String(id)})
		if err != nil {
			t.Fatalf("trust anchor %d lost: %v", i, err)
		}
		if *ta.TrustAnchor.Enabled != (i%2 == 0) || *ta.TrustAnchor.Name != fmt.Sprintf("anchor-%d", i) {
			t.Errorf("trust anchor %d changed: %+v", i, ta.TrustAnchor)
		}
		tags, err := c.ListTagsForResource(ctx, &rolesanywhere.ListTagsForResourceInput{ResourceArn: ta.TrustAnchor.TrustAnchorArn})
		if err != nil || len(tags.Tags) != 1 || *tags.Tags[0].Value != fmt.Sprint(i) {
			t.Errorf("tags of trust anchor %d: %v %+v", i, err, tags)
		}
	}
	for i, id := range profiles {
		p, err := c.GetProfile(ctx, &rolesanywhere.GetProfileInput{ProfileId: aws.String(id)})
		if err != nil {
			t.Fatalf("profile %d lost: %v", i, err)
		}
		if *p.Profile.DurationSeconds != int32(900+i) {
			t.Errorf("profile %d duration %d", i, *p.Profile.DurationSeconds)
		}
	}
	p, _ := c.GetProfile(ctx, &rolesanywhere.GetProfileInput{ProfileId: aws.String(profiles[19])})
	if *p.Profile.Name != "renamed" {
		t.Errorf("last acknowledged update lost: name %q", *p.Profile.Name)
	}
}
