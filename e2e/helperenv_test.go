package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/iamra/iamra/credentials"
	"github.com/iamra/iamra/helper/credcache"
	"github.com/iamra/iamra/helper/credcache/credcachetest"
	"github.com/iamra/iamra/helper/credserver"
	"github.com/iamra/iamra/helper/keysource"
	"github.com/iamra/iamra/helper/keysource/keysourcetest"
	"github.com/iamra/iamra/helper/rolesclient"
	"github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/server"
	"github.com/iamra/iamra/store"
	"github.com/iamra/iamra/sts"
	"github.com/iamra/iamra/x509attr"
)

// TestMain removes the helper binary built for the helper tests, if any.
func TestMain(m *testing.M) {
	code := m.Run()
	if helperBin.dir != "" {
		os.RemoveAll(helperBin.dir)
	}
	os.Exit(code)
}

// helperBin is the iamra binary, built at most once per test run and
// shared by every test that runs it as aws_signing_helper.
var helperBin struct {
	once sync.Once
	dir  string
	path string // dir/aws_signing_helper, a symlink to dir/iamra
	err  error
}

// helperBinary builds ./cmd/iamra and returns the path of a symlink to it
// named aws_signing_helper, the documented drop-in installation.
func helperBinary(t testing.TB) string {
	t.Helper()
	helperBin.once.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			helperBin.err = fmt.Errorf("the go tool is needed to build cmd/iamra: %w", err)
			return
		}
		if helperBin.dir, err = os.MkdirTemp("", "iamra-e2e-bin-"); err != nil {
			helperBin.err = err
			return
		}
		bin := filepath.Join(helperBin.dir, "iamra")
		cmd := exec.Command(goTool, "build", "-o", bin, "./cmd/iamra")
		cmd.Dir = ".." // the module root
		if out, err := cmd.CombinedOutput(); err != nil {
			helperBin.err = fmt.Errorf("go build ./cmd/iamra: %v\n%s", err, out)
			return
		}
		helperBin.path = filepath.Join(helperBin.dir, "aws_signing_helper")
		helperBin.err = os.Symlink(bin, helperBin.path)
	})
	if helperBin.err != nil {
		t.Fatal(helperBin.err)
	}
	return helperBin.path
}

// raServer is one run of a real iamra server (store, snapshot, handlers,
// TLS) on a loopback port. A helperWorld stops and restarts it on the same
// data directory and port.
type raServer struct {
	*server.Server
	Endpoint string
	addr     string
	cancel   context.CancelFunc
	done     chan error
}

// helperWorld is a running iamra server seeded with what a credential
// helper needs: a trust anchor holding a test CA, a profile, a role whose
// trust policy admits the trust anchor, and a workload certificate and key
// on disk.
type helperWorld struct {
	t       testing.TB
	opts    worldOptions
	dataDir string
	srv     *raServer
	audit   *lockedBuffer
	pki     *keysourcetest.PKI

	TrustAnchorArn, ProfileArn, RoleArn string
	// Cert and Key are files of the default workload identity: an ECDSA
	// P-256 key and a leaf with serial 0x1001.
	Cert, Key string
	Leaf      *x509.Certificate
}

type worldOptions struct {
	// Now is the server's clock (default time.Now).
	Now func() time.Time
	// ProfileSeconds is the profile's durationSeconds (default 3600).
	ProfileSeconds int32
}

const (
	helperAnchorID  = "b1b2c3d4-0000-1111-2222-333344445555"
	helperProfileID = "c1b2c3d4-0000-1111-2222-333344445555"
	helperRoleName  = "helper-e2e"
)

func newHelperWorld(t testing.TB, opts worldOptions) *helperWorld {
	t.Helper()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ProfileSeconds == 0 {
		opts.ProfileSeconds = 3600
	}
	w := &helperWorld{t: t, opts: opts, dataDir: t.TempDir(), audit: &lockedBuffer{b: &bytes.Buffer{}}, pki: keysourcetest.NewPKI(t)}
	w.start(t, "127.0.0.1:0")
	t.Cleanup(w.stop)
	w.seed(t)
	w.Leaf, w.Cert, w.Key = w.identity(t, t.TempDir(), keysourcetest.ECKey(t), 0x1001, "helper-e2e-workload")
	return w
}

// start runs the server on addr ("127.0.0.1:0" for any free port).
func (w *helperWorld) start(t testing.TB, addr string) {
	t.Helper()
	srv, err := server.New(context.Background(), server.Config{
		DataDir: w.dataDir, Scope: testScope, Now: w.opts.Now, Rand: rand.Reader,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), AuditWriter: w.audit,
		SubjectFlush: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rs := &raServer{Server: srv, Endpoint: "https://" + ln.Addr().String(), addr: ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { rs.done <- srv.Run(ctx, ln, false) }()
	w.srv = rs
}

// stop shuts the server down and waits until its port is closed.
func (w *helperWorld) stop() {
	if w.srv == nil || w.srv.cancel == nil {
		return
	}
	w.srv.FlushAudit()
	w.srv.cancel()
	if err := <-w.srv.done; err != nil {
		w.t.Errorf("server: %v", err)
	}
	w.srv.cancel = nil
}

// restart starts the server again on the same data directory and port.
func (w *helperWorld) restart(t testing.TB) {
	t.Helper()
	w.start(t, w.srv.addr)
}

func (w *helperWorld) Endpoint() string { return w.srv.Endpoint }

// CABundle is the PEM file of the CA that issued the server's TLS
// certificate, for AWS_CA_BUNDLE.
func (w *helperWorld) CABundle() string { return w.srv.Dir.CABundle() }

// httpClient trusts the server's TLS CA.
func (w *helperWorld) httpClient() *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(w.srv.State.CA)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 30 * time.Second}
}

func (w *helperWorld) seed(t testing.TB) {
	t.Helper()
	scope := testScope
	w.TrustAnchorArn = scope.New("rolesanywhere", "trust-anchor/"+helperAnchorID, true).String()
	w.ProfileArn = scope.New("rolesanywhere", "profile/"+helperProfileID, true).String()
	w.RoleArn = scope.New("iam", "role/"+helperRoleName, false).String()
	now := rolesanywhere.NewTime(w.opts.Now())
	put := func(kind store.Kind, id string, v any) {
		data, err := json.Marshal(v)
		if err == nil {
			err = w.srv.Store.Update(context.Background(), func(tx store.Tx) error {
				_, err := tx.PutAny(store.Record{Kind: kind, ID: id, Data: data})
				return err
			})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	put(store.KindTrustAnchor, helperAnchorID, rolesanywhere.TrustAnchor{
		TrustAnchorID: helperAnchorID, TrustAnchorArn: w.TrustAnchorArn, Name: "helper-e2e", Enabled: true,
		Source: rolesanywhere.Source{SourceType: rolesanywhere.SourceCertificateBundle,
			SourceData: rolesanywhere.SourceData{X509CertificateData: string(keysourcetest.CertPEM(w.pki.CA))}},
		CreatedAt: now, UpdatedAt: now, NotificationSettings: rolesanywhere.DefaultNotificationSettings(),
	})
	put(store.KindProfile, helperProfileID, rolesanywhere.Profile{
		ProfileID: helperProfileID, ProfileArn: w.ProfileArn, Name: "helper-e2e", Enabled: true, RoleArns: []string{w.RoleArn},
		DurationSeconds: w.opts.ProfileSeconds, AttributeMappings: rolesanywhere.DefaultAttributeMappings(),
		CreatedAt: now, UpdatedAt: now,
	})
	put(store.KindRole, helperRoleName, sts.Role{
		Arn: w.RoleArn, RoleName: helperRoleName, Path: "/", RoleID: "AROAHELPERE2EHELPER1",
		MaxSessionDuration: max(3600, w.opts.ProfileSeconds), AssumeRolePolicyDocument: sts.TrustPolicy(w.TrustAnchorArn),
	})
	if err := w.srv.Snapshot.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// identity issues a leaf for key and writes dir/cert.pem and dir/key.pem.
func (w *helperWorld) identity(t testing.TB, dir string, key crypto.Signer, serial int64, cn string) (*x509.Certificate, string, string) {
	t.Helper()
	leaf := w.pki.Issue(t, key.Public(), serial, cn)
	return leaf, keysourcetest.Write(t, dir, "cert.pem", keysourcetest.CertPEM(leaf)), keysourcetest.Write(t, dir, "key.pem", keysourcetest.KeyPEM(t, key))
}

// helperFlags are the credential flags of `aws_signing_helper
// credential-process|serve|update` for the identity in cert and key.
func (w *helperWorld) helperFlags(cert, key string) []string {
	return []string{"--certificate", cert, "--private-key", key, "--trust-anchor-arn", w.TrustAnchorArn,
		"--profile-arn", w.ProfileArn, "--role-arn", w.RoleArn, "--endpoint", w.Endpoint()}
}

// checkIssued opens the session token with the server's key ring, as the
// server does for every signed call: the credentials are real, and the
// server minted them for the helper's role and for leaf (the default
// session name is the leaf's serial, the source identity its subject).
func (w *helperWorld) checkIssued(t testing.TB, akid, secret, token string, leaf *x509.Certificate, now time.Time) credentials.Session {
	t.Helper()
	s, err := credentials.Open(token, akid, w.srv.Ring, now)
	if err != nil {
		t.Fatalf("the server does not recognise the helper's credentials %s: %v", akid, err)
	}
	wantSession, wantSource := x509attr.SerialHex(leaf.SerialNumber), x509attr.SourceIdentity(leaf)
	if s.SecretAccessKey != secret || s.RoleArn != w.RoleArn || s.RoleSessionName != wantSession || s.SourceIdentity != wantSource {
		t.Fatalf("session %s: role %q session %q source identity %q secret matches %v; want role %q session %q source identity %q",
			akid, s.RoleArn, s.RoleSessionName, s.SourceIdentity, s.SecretAccessKey == secret, w.RoleArn, wantSession, wantSource)
	}
	if arn, _ := s.AssumedRoleArn(); arn != "arn:aws:sts::123456789012:assumed-role/"+helperRoleName+"/"+wantSession {
		t.Fatalf("assumed role ARN %q", arn)
	}
	return s
}

// sessionRecord is an audit line of a CreateSession.
type sessionRecord struct {
	EventName    string `json:"eventName"`
	ErrorCode    string `json:"errorCode"`
	UserIdentity struct {
		X509Subject  string `json:"x509Subject"`
		SerialNumber string `json:"serialNumber"`
	} `json:"userIdentity"`
	ResponseElements struct {
		AccessKeyID string `json:"accessKeyId"`
	} `json:"responseElements"`
	AdditionalEventData struct {
		Reason             string `json:"reason"`
		SignatureAlgorithm string `json:"signatureAlgorithm"`
	} `json:"additionalEventData"`
}

// sessions returns the CreateSession records of the audit log so far,
// across restarts.
func (w *helperWorld) sessions(t testing.TB) []sessionRecord {
	t.Helper()
	if w.srv.cancel != nil {
		w.srv.FlushAudit()
	}
	var out []sessionRecord
	for _, line := range strings.Split(w.audit.String(), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var r sessionRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if r.EventName == "CreateSession" {
			out = append(out, r)
		}
	}
	return out
}

// sessionFor is the successful CreateSession that issued akid.
func (w *helperWorld) sessionFor(t testing.TB, akid string) sessionRecord {
	t.Helper()
	for _, r := range w.sessions(t) {
		if r.ErrorCode == "" && r.ResponseElements.AccessKeyID == akid {
			return r
		}
	}
	t.Fatalf("no CreateSession in the audit log issued %s", akid)
	return sessionRecord{}
}

var createSessionMetric = regexp.MustCompile(`(?m)^iamra_createsession_total\{outcome="success",reason=""\} (\d+)$`)

// createSessions reads the server's count of successful CreateSessions
// from its Prometheus endpoint.
func (w *helperWorld) createSessions(t testing.TB) int {
	t.Helper()
	resp, err := w.httpClient().Get(w.Endpoint() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	m := createSessionMetric.FindSubmatch(body)
	if m == nil {
		return 0 // no series before the first CreateSession
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// inProcessFetcher builds what `serve` builds from its flags (see
// helper/cli serve.go: keysource.Open, rolesclient.NewHTTPClient with
// AWS_CA_BUNDLE, rolesclient.New, and the CreateSession → credcache
// adapter), with the clock injected, for tests that must move time.
func (w *helperWorld) inProcessFetcher(t testing.TB, now func() time.Time, durationSeconds int) credcache.Fetcher {
	t.Helper()
	src, err := keysource.Open(keysource.Options{Certificate: w.Cert, PrivateKey: w.Key, Sleep: keysource.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	hc, err := rolesclient.NewHTTPClient(rolesclient.TransportOptions{CABundle: w.CABundle()})
	if err != nil {
		t.Fatal(err)
	}
	c := rolesclient.New(hc, rolesclient.DefaultVersion)
	c.Now = now
	// Retries between attempts wait at most 50 ms of wall time: the
	// cache's own backoff, on the manual clock, is what the tests exercise.
	c.Sleep = func(ctx context.Context, d time.Duration) error {
		return keysource.Sleep(ctx, min(d, 50*time.Millisecond))
	}
	in := rolesclient.Input{TrustAnchorARN: w.TrustAnchorArn, ProfileARN: w.ProfileArn, RoleARN: w.RoleArn,
		DurationSeconds: durationSeconds, Endpoint: w.Endpoint(), Identity: src}
	return func(ctx context.Context) (credcache.Credentials, error) {
		out, err := c.CreateSession(ctx, in)
		if err != nil {
			return credcache.Credentials{}, err
		}
		return credcache.Credentials{AccessKeyID: out.AccessKeyID, SecretAccessKey: out.SecretAccessKey,
			SessionToken: out.SessionToken, Expiration: out.ExpirationTime}, nil
	}
}

// cleanAWSEnv empties the variables through which the developer's own AWS
// setup could reach an SDK under test.
func cleanAWSEnv(t *testing.T) {
	t.Helper()
	none := filepath.Join(t.TempDir(), "none")
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	t.Setenv("AWS_REGION", "us-east-1")
}

// childEnvWithout is the environment for a child process: the test's,
// without AWS_* variables, plus extra.
func childEnvWithout(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// botoAvailable skips the test when python3 with boto3 is absent.
func botoAvailable(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: boto3 cannot be tested")
	}
	if out, err := exec.Command(py, "-c", "import boto3").CombinedOutput(); err != nil {
		t.Skipf("boto3 is not installed for %s: %v %s", py, err, out)
	}
	return py
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// serveProcess is `aws_signing_helper serve` running as its own process,
// as a sidecar runs it.
type serveProcess struct {
	cmd    *exec.Cmd
	Base   string // http://127.0.0.1:PORT
	stderr *lockedBuffer
	waited chan struct{}
}

var servePort = regexp.MustCompile(`Local server started on port: (\d+)`)

// startServe runs the helper binary's serve with args (port 0 unless args
// choose one) and waits until it announces its port, which it does only
// once it holds credentials. It is stopped with SIGTERM when the test ends.
func startServe(t testing.TB, bin string, env []string, args ...string) *serveProcess {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--port", "0"}, args...)...)
	cmd.Env = env
	pr, pw := io.Pipe()
	p := &serveProcess{cmd: cmd, stderr: &lockedBuffer{b: &bytes.Buffer{}}, waited: make(chan struct{})}
	cmd.Stderr = io.MultiWriter(p.stderr, pw)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		pw.Close()
		close(p.waited)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.waited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-p.waited
		}
	})
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		if m := servePort.FindStringSubmatch(lines.Text()); m != nil {
			go io.Copy(io.Discard, pr)
			p.Base = "http://127.0.0.1:" + m[1]
			return p
		}
	}
	<-p.waited
	t.Fatalf("serve exited before listening (%v):\n%s", cmd.ProcessState, p.stderr.String())
	return nil
}

// Stderr is what serve has logged so far.
func (p *serveProcess) Stderr() string { return p.stderr.String() }

// inProcessServe is `serve` assembled in-process from the pieces
// helper/cli's serve wires (a credcache.Cache over a CreateSession fetcher,
// credserver in front of it, the cache's Run refreshing in the background),
// with a manual clock shared by the cache, the server endpoints, the
// CreateSession signer and the iamra server, so that tests move time
// instead of waiting 15 minutes for credentials to expire. The CLI offers
// no clock or refresh-interval flag, hence this.
type inProcessServe struct {
	Base  string
	Cache *credcache.Cache
}

// startInProcessServe serves the cache on a loopback port until the test
// ends. wrap, if set, wraps the credserver handler (the test's own
// instrumentation); otherwise credserver.Serve runs the listener itself.
func (w *helperWorld) startInProcessServe(t testing.TB, clk *credcachetest.Clock, fetch credcache.Fetcher, wrap func(http.Handler) http.Handler) *inProcessServe {
	t.Helper()
	cache := credcache.New(helperRoleName, fetch, credcache.Options{Now: clk.Now, After: clk.After,
		MinRetry: time.Second, MaxRetry: 10 * time.Second})
	srv, err := credserver.New(credserver.Config{Routes: []credserver.Route{{Cache: cache, RoleArn: w.RoleArn}},
		Region: "us-east-1", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { cache.Run(ctx); done <- nil }()
	if wrap == nil {
		go func() { done <- srv.Serve(ctx, ln) }()
	} else {
		hs := &http.Server{Handler: wrap(srv)}
		go func() {
			if err := hs.Serve(ln); err != http.ErrServerClosed {
				done <- err
				return
			}
			done <- nil
		}()
		go func() { <-ctx.Done(); hs.Close() }()
	}
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Errorf("in-process serve: %v", err)
			}
		}
	})
	return &inProcessServe{Base: "http://" + ln.Addr().String(), Cache: cache}
}

// containerCreds is the container endpoint's answer.
type containerCreds struct {
	AccessKeyId, SecretAccessKey, Token, Expiration, RoleArn string
	// Code and Message are set on errors.
	Code    string `json:"code"`
	Message string `json:"message"`
}

// getCreds asks the container endpoint at base for credentials.
func getCreds(t testing.TB, base string) (int, containerCreds) {
	t.Helper()
	resp, err := http.Get(base + "/v1/credentials")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c containerCreds
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatalf("GET /v1/credentials: %d, body not JSON: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, c
}

// getIMDSCreds asks the IMDS emulation at base, the IMDSv2 way: a token,
// then the role's credentials.
func getIMDSCreds(t testing.TB, base string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, base+"/latest/api/token", nil)
	req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "60")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	token, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("IMDS token: %d %s", resp.StatusCode, token)
	}
	req, _ = http.NewRequest(http.MethodGet, base+"/latest/meta-data/iam/security-credentials/"+helperRoleName, nil)
	req.Header.Set("X-aws-ec2-metadata-token", string(token))
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(body)
}

// status is the HTTP status of GET base+path.
func status(t testing.TB, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// eventually polls cond until it holds, failing the test after a minute
// of wall time (generous: this is a shared two-core machine).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
