package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	kt "github.com/iamra/iamra/helper/keysource/keysourcetest"
	"github.com/iamra/iamra/helper/rolesclient/rolesclienttest"
)

const (
	taARN      = "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/a1b2c3d4-0000-1111-2222-333344445555"
	profileARN = "arn:aws:rolesanywhere:us-east-1:123456789012:profile/p1b2c3d4-0000-1111-2222-333344445555"
	roleARN    = "arn:aws:iam::123456789012:role/test-role"
)

// syncBuffer is a bytes.Buffer safe for a command writing while the test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fixture is an identity on disk plus a CreateSession stub.
type fixture struct {
	dir, cert, key string
	rsaKey         *rsa.PrivateKey
	srv            *rolesclienttest.Server
	vars           map[string]string
}

func newFixture(t *testing.T, respond rolesclienttest.Responder) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir()}
	pki := kt.NewPKI(t)
	f.rsaKey = kt.RSAKey(t)
	f.cert = kt.Write(t, f.dir, "cert.pem", kt.CertPEM(pki.Issue(t, f.rsaKey.Public(), 81985529216486895, "workload")))
	f.key = kt.Write(t, f.dir, "key.pem", kt.KeyPEM(t, f.rsaKey))
	f.srv = rolesclienttest.New(t, true, respond)
	f.vars = map[string]string{"AWS_CA_BUNDLE": f.srv.WriteCA(t, f.dir)}
	return f
}

// args are the flags every credential command of the fixture needs.
func (f *fixture) args(extra ...string) []string {
	return append([]string{"--certificate", f.cert, "--private-key", f.key, "--trust-anchor-arn", taARN,
		"--profile-arn", profileARN, "--role-arn", roleARN, "--endpoint", f.srv.URL}, extra...)
}

// testEnv returns an environment with captured output, the fixture's
// variables, a real clock and no sleeping unless sleep is given.
func (f *fixture) env(stdout, stderr io.Writer) *env {
	return &env{
		stdin: strings.NewReader(""), stdout: stdout, stderr: stderr,
		getenv:   func(k string) string { return f.vars[k] },
		now:      time.Now,
		sleep:    func(context.Context, time.Duration) error { return nil },
		homeDir:  func() (string, error) { return f.dir, nil },
		readFile: os.ReadFile,
		log:      log.New(stderr, "", log.LstdFlags),
	}
}

func (f *fixture) run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), f.env(&out, &errb), args)
	return code, out.String(), errb.String()
}

func TestCredentialProcess(t *testing.T) {
	f := newFixture(t, rolesclienttest.OK("2030-01-01T00:00:00Z"))
	code, out, errs := f.run(t, append([]string{"credential-process"}, f.args("--session-duration=900")...)...)
	if code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, errs)
	}
	// The official bytes: encoding/json member order, HTML-escaped, no
	// trailing newline.
	want := `{"Version":1,"AccessKeyId":"ASIAEXAMPLEEXAMPLE12","SecretAccessKey":"secret/key+1\u003c\u0026\u003e","SessionToken":"token==","Expiration":"2030-01-01T00:00:00Z"}`
	if out != want {
		t.Fatalf("stdout\n got %q\nwant %q", out, want)
	}
	if errs := f.srv.VerifyErrors(); len(errs) > 0 {
		t.Fatal(errs[0])
	}
	if b := string(f.srv.Requests()[0].Body); b != `{"durationSeconds":900}` {
		t.Fatalf("body %s", b)
	}
}

func TestCredentialProcessErrors(t *testing.T) {
	f := newFixture(t, rolesclienttest.AWSError(403, "AccessDeniedException", "Untrusted signing certificate", nil))
	code, out, errs := f.run(t, append([]string{"credential-process"}, f.args()...)...)
	if code != 1 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if !regexp.MustCompile(`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d operation error RolesAnywhere: CreateSession, https response error StatusCode: 403, RequestID: req-123, AccessDeniedException: Untrusted signing certificate; hint: The certificate \(subject "CN=workload,O=Example"`).MatchString(errs) {
		t.Fatalf("stderr: %s", errs)
	}

	cases := []struct {
		args []string
		want string
	}{
		{[]string{"credential-process", "--certificate", "c", "--cert-selector", "Key=x509Serial,Value=1"},
			"Error: if any flags in the group [certificate cert-selector] are set none of the others can be; [cert-selector certificate] were all set\n"},
		{[]string{"update", "--once", "--retry-errors"},
			"Error: if any flags in the group [once retry-errors] are set none of the others can be; [once retry-errors] were all set\n"},
		{[]string{"serve", "--pkcs8-password", "x", "--tpm-key-password", "y"},
			"Error: if any flags in the group [pkcs8-password tpm-key-password] are set none of the others can be; [pkcs8-password tpm-key-password] were all set\n"},
		{[]string{"sign-string", "--format", "xml"}, "invalid value \"xml\" for flag -format: xml is not included in json,text,bin\n"},
		{[]string{"credential-process", "stray"}, "Error: unexpected argument \"stray\" (flags take the form --name value or --name=value)\n"},
		{[]string{"frobnicate"}, "Error: unknown command \"frobnicate\" for \"aws_signing_helper\"\nRun 'aws_signing_helper --help' for usage.\n"},
	}
	for _, c := range cases {
		code, _, errs := f.run(t, c.args...)
		if code != 1 || !strings.HasPrefix(errs, c.want) {
			t.Errorf("%v: exit %d, stderr\n%s\nwant prefix\n%s", c.args, code, errs, c.want)
		}
	}
	code, _, errs = f.run(t, "credential-process", "--certificate", f.cert, "--private-key", f.key, "--profile-arn", profileARN, "--role-arn", roleARN)
	if code != 1 || !strings.HasSuffix(errs, " --trust-anchor-arn is required\n") {
		t.Errorf("missing trust anchor: exit %d, %s", code, errs)
	}
}

func TestVersionAndHelp(t *testing.T) {
	f := &fixture{vars: map[string]string{}}
	if code, out, _ := f.run(t, "version"); code != 0 || !strings.HasPrefix(out, "1.8.0+iamra") || !strings.HasSuffix(out, "\n") {
		t.Errorf("version: %d %q", code, out)
	}
	if code, out, _ := f.run(t); code != 0 || !strings.Contains(out, "credential-process") {
		t.Errorf("no arguments: %d %q", code, out)
	}
	if code, out, _ := f.run(t, "serve", "--help"); code != 0 || !strings.Contains(out, "--port int") || !strings.Contains(out, "(default 9911)") {
		t.Errorf("serve --help: %d %q", code, out)
	}
}

func TestUpdate(t *testing.T) {
	f := newFixture(t, rolesclienttest.OK("2030-01-01T00:00:00Z"))
	credDir := filepath.Join(f.dir, "new", ".aws")
	path := filepath.Join(credDir, "credentials")
	f.vars["AWS_SHARED_CREDENTIALS_FILE"] = path
	// A fresh file in a fresh directory: 0700 directory, 0600 file.
	if code, _, errs := f.run(t, append([]string{"update", "--once", "--profile", "ra"}, f.args()...)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "[ra]\naws_access_key_id = ASIAEXAMPLEEXAMPLE12\naws_secret_access_key = secret/key+1<&>\naws_session_token = token==\n"
	checkFile(t, path, want, 0o600)
	if fi, _ := os.Stat(credDir); fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", fi.Mode().Perm())
	}

	// An existing file: other profiles, comments and keys are kept.
	existing := "# managed by hand\n[default]\naws_access_key_id = AKIAOLD\nregion = eu-west-1\n\n[ra]\n; comment\naws_session_token = old\naws_access_key_id=OLD\nregion = us-east-1\naws_access_key_id = DUP\n\n[other]\nx = y\n"
	if err := os.WriteFile(path, []byte(existing), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := f.run(t, append([]string{"update", "--once", "--profile", "ra"}, f.args()...)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want = "# managed by hand\n[default]\naws_access_key_id = AKIAOLD\nregion = eu-west-1\n\n[ra]\n; comment\naws_session_token = token==\naws_access_key_id = ASIAEXAMPLEEXAMPLE12\nregion = us-east-1\naws_secret_access_key = secret/key+1<&>\n\n[other]\nx = y\n"
	checkFile(t, path, want, 0o600)
}

func checkFile(t *testing.T, path, want string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Fatalf("%s:\n got %q\nwant %q", path, b, want)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != mode {
		t.Fatalf("%s mode %v, want %v", path, fi.Mode().Perm(), mode)
	}
}

// TestUpdateLoop: without --once, update refreshes 5 minutes before
// expiry, again and again, until stopped.
func TestUpdateLoop(t *testing.T) {
	now := time.Date(2029, 12, 31, 23, 0, 0, 0, time.UTC)
	f := newFixture(t, func(n int, w http.ResponseWriter) {
		rolesclienttest.OK(now.Add(time.Duration(n)*time.Hour).Format(time.RFC3339))(n, w)
	})
	f.srv.Now = func() time.Time { return now }
	path := filepath.Join(f.dir, "credentials")
	f.vars["AWS_SHARED_CREDENTIALS_FILE"] = path
	var out, errb bytes.Buffer
	e := f.env(&out, &errb)
	e.now = func() time.Time { return now }
	var waits []time.Duration
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		if len(waits) == 2 {
			cancel()
			return ctx.Err()
		}
		return nil
	}
	if code := run(ctx, e, append([]string{"update"}, f.args()...)); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if len(f.srv.Requests()) != 2 {
		t.Fatalf("%d CreateSession calls, want 2", len(f.srv.Requests()))
	}
	if waits[0] != 55*time.Minute || waits[1] != 115*time.Minute {
		t.Fatalf("waits %v, want [55m 1h55m]", waits)
	}
	if !strings.Contains(errb.String(), "Credentials will be refreshed at 2029-12-31 23:55:00 +0000 UTC") {
		t.Fatalf("stderr: %s", errb.String())
	}
}

func TestSetProfile(t *testing.T) {
	v := []string{"AK", "SK", "ST"}
	cases := []struct{ name, in, profile, want string }{
		{"empty file", "", "default", "[default]\naws_access_key_id = AK\naws_secret_access_key = SK\naws_session_token = ST\n"},
		{"append after other profile without newline", "[a]\nx=1", "b", "[a]\nx=1\n\n[b]\naws_access_key_id = AK\naws_secret_access_key = SK\naws_session_token = ST\n"},
		{"missing keys go before trailing blank lines", "[p]\nregion=x\n\n\n[q]\n", "p", "[p]\nregion=x\naws_access_key_id = AK\naws_secret_access_key = SK\naws_session_token = ST\n\n\n[q]\n"},
		{"CRLF kept", "[p]\r\naws_access_key_id = old\r\n", "p", "[p]\r\naws_access_key_id = AK\r\naws_secret_access_key = SK\r\naws_session_token = ST\r\n"},
		{"spaced header", "[ p ]\n  AWS_Session_Token = old\n", "p", "[ p ]\naws_session_token = ST\naws_access_key_id = AK\naws_secret_access_key = SK\n"},
		{"header at end without newline", "[p]", "p", "[p]\naws_access_key_id = AK\naws_secret_access_key = SK\naws_session_token = ST\n"},
		{"second section of same name untouched", "[p]\n[p]\naws_access_key_id = old\n", "p", "[p]\naws_access_key_id = AK\naws_secret_access_key = SK\naws_session_token = ST\n[p]\naws_access_key_id = old\n"},
	}
	for _, c := range cases {
		got := string(setProfile([]byte(c.in), c.profile, v))
		if got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
		if again := string(setProfile([]byte(got), c.profile, v)); again != got {
			t.Errorf("%s: not idempotent:\n%q\n%q", c.name, got, again)
		}
	}
}

func TestSignString(t *testing.T) {
	f := newFixture(t, rolesclienttest.OK("2030-01-01T00:00:00Z"))
	msg := fixedStringToSign(f.rsaKey.Public())
	// RSA, default json output over SHA-256.
	code, out, errs := f.run(t, "sign-string", "--certificate", f.cert, "--private-key", f.key)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var hexSig string
	if err := json.Unmarshal([]byte(out), &hexSig); err != nil || strings.HasSuffix(out, "\n") {
		t.Fatalf("json output %q: %v", out, err)
	}
	sig, _ := hex.DecodeString(hexSig)
	d := sha256.Sum256(msg)
	if err := rsa.VerifyPKCS1v15(&f.rsaKey.PublicKey, crypto.SHA256, d[:], sig); err != nil {
		t.Fatal(err)
	}
	// ECDSA, text over SHA-384; binary output.
	pki := kt.NewPKI(t)
	ec := kt.ECKey(t)
	cert := kt.Write(t, f.dir, "ec.pem", kt.CertPEM(pki.Issue(t, ec.Public(), 5, "ec")))
	key := kt.Write(t, f.dir, "ec.key", kt.KeyPEM(t, ec))
	code, out, errs = f.run(t, "sign-string", "--certificate", cert, "--private-key", key, "--format", "text", "--digest", "SHA384")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	sig, _ = hex.DecodeString(out)
	d384 := sha512.Sum384(fixedStringToSign(ec.Public()))
	if !ecdsa.VerifyASN1(&ec.PublicKey, d384[:], sig) {
		t.Fatal("ECDSA SHA-384 signature does not verify")
	}
	code, out, _ = f.run(t, "sign-string", "--certificate", cert, "--private-key", key, "--format=bin")
	d = sha256.Sum256(fixedStringToSign(ec.Public()))
	if code != 0 || !ecdsa.VerifyASN1(&ec.PublicKey, d[:], []byte(out)) {
		t.Fatal("binary signature does not verify")
	}
	// The fixed string's shape.
	pub, _ := ec.PublicKey.Bytes()
	suffix := sha256.Sum256(append([]byte("IAM RA"), pub...))
	if want := append([]byte("AWS Roles Anywhere Credential Helper Signing Test1"), suffix[:]...); !bytes.Equal(fixedStringToSign(ec.Public()), want) {
		t.Fatal("fixed string differs")
	}
}

func TestReadCertificateData(t *testing.T) {
	f := newFixture(t, rolesclienttest.OK("2030-01-01T00:00:00Z"))
	code, out, errs := f.run(t, "read-certificate-data", "--certificate", f.cert)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	der := firstCertificate(mustRead(t, f.cert))
	want := `{"keyType":"RSA","certificateData":"` + base64.StdEncoding.EncodeToString(der) +
		`","serialNumber":"81985529216486895","supportedAlgorithms":["RSASHA256","RSASHA384","RSASHA512"]}`
	if out != want {
		t.Fatalf("stdout\n got %s\nwant %s", out, want)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestServe runs serve on a free port, reads the port from its start-up
// log as scripts do, and fetches credentials over IMDSv2 and the container
// endpoint.
func TestServe(t *testing.T) {
	f := newFixture(t, rolesclienttest.OK(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)))
	base, errb, done, cancel := startServe(t, f)
	if !regexp.MustCompile(`Local server started on port: \d+\n`).MatchString(errb.String()) {
		t.Errorf("start-up log: %s", errb.String())
	}
	req, _ := http.NewRequest(http.MethodPut, base+"/latest/api/token", nil)
	req.Header.Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "60")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	token, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	req, _ = http.NewRequest(http.MethodGet, base+"/latest/meta-data/iam/security-credentials/test-role", nil)
	req.Header.Set("X-Aws-Ec2-Metadata-Token", string(token))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var creds struct{ AccessKeyId, SecretAccessKey, Token, Code string }
	if err := json.NewDecoder(bufio.NewReader(resp.Body)).Decode(&creds); err != nil || resp.StatusCode != 200 {
		t.Fatalf("IMDS credentials: %d %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	if creds.AccessKeyId != "ASIAEXAMPLEEXAMPLE12" || creds.SecretAccessKey != "secret/key+1<&>" || creds.Token != "token==" || creds.Code != "Success" {
		t.Fatalf("IMDS credentials %+v", creds)
	}
	resp, err = http.Get(base + "/v1/credentials")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("container credentials: %v %v", resp, err)
	}
	resp.Body.Close()
	if n := len(f.srv.Requests()); n != 1 {
		t.Errorf("%d CreateSession calls, want 1 (cached)", n)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d after cancel: %s", code, errb.String())
	}
}

// TestServeFailsFast: if the first CreateSession fails, serve exits 1
// instead of serving nothing (the official v1.8.0 starts anyway).
func TestServeFailsFast(t *testing.T) {
	f := newFixture(t, rolesclienttest.AWSError(403, "AccessDeniedException", "Invalid signature", nil))
	code, _, errs := f.run(t, append([]string{"serve", "--port", "0"}, f.args()...)...)
	if code != 1 || !strings.Contains(errs, "AccessDeniedException: Invalid signature") || strings.Contains(errs, "Local server started") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

// TestServeExtraRoles: one serve process, one route per role, each with
// its own CreateSession and cache; the first role stays the default route.
func TestServeExtraRoles(t *testing.T) {
	f := newFixture(t, rolesclienttest.OK(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)))
	second := "arn:aws:iam::123456789012:role/second"
	base, errb, done, cancel := startServe(t, f, "--extra-role", second)
	for _, path := range []string{"/v1/credentials", "/creds/second"} {
		resp, err := http.Get(base + path)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}
	var roles []string
	for _, r := range f.srv.Requests() {
		u, _ := url.Parse(r.RequestURI)
		roles = append(roles, u.Query().Get("roleArn"))
	}
	if len(roles) != 2 || roles[1] != second {
		t.Errorf("CreateSession roles %v, want the default role then %s", roles, second)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d after cancel: %s", code, errb.String())
	}
	// Two roles with one name would share a route: refused.
	code, _, errs := f.run(t, append([]string{"serve", "--port", "0", "--extra-role", "arn:aws:iam::123456789012:role/other/test-role"}, f.args()...)...)
	if code != 2 || !strings.Contains(errs, "share the route") {
		t.Fatalf("duplicate route: exit %d: %s", code, errs)
	}
	code, _, errs = f.run(t, append([]string{"serve", "--port", "0", "--extra-role", "not-an-arn"}, f.args()...)...)
	if code == 0 || !strings.Contains(errs, "want ROLE_ARN or ROLE_ARN,PROFILE_ARN") {
		t.Fatalf("bad --extra-role: exit %d: %s", code, errs)
	}
}

// startServe runs `serve --port 0` with the fixture's flags (and extra) in
// a goroutine and waits for its endpoint line; cancel stops it, done gives
// its exit code.
func startServe(t *testing.T, f *fixture, extra ...string) (base string, errb *syncBuffer, done chan int, cancel context.CancelFunc) {
	t.Helper()
	var out bytes.Buffer
	errb = &syncBuffer{}
	e := f.env(&out, errb)
	ctx, cancel := context.WithCancel(context.Background())
	done = make(chan int, 1)
	args := append(append([]string{"serve", "--port", "0"}, extra...), f.args()...)
	go func() { done <- run(ctx, e, args) }()
	for base == "" {
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, errb.String())
		case <-time.After(10 * time.Millisecond):
		}
		if m := regexp.MustCompile(`export AWS_EC2_METADATA_SERVICE_ENDPOINT=(http://127\.0\.0\.1:\d+)/`).FindStringSubmatch(errb.String()); m != nil {
			base = m[1]
		}
	}
	return base, errb, done, cancel
}
