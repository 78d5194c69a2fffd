package credserver_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamra/iamra/helper/credcache"
	"github.com/iamra/iamra/helper/credserver"
)

// 200 clients asking at the moment the credentials expire cause one fetch,
// over both protocols at once.
func TestConcurrentGETsAtExpiryFetchOnce(t *testing.T) {
	f := newFixture(t, fixtureOpts{fakeClock: true})
	fe := f.fetchers["default"]
	tok := f.imdsToken(t, "")
	if code, _, _ := f.do(t, "GET", "/v1/credentials", nil); code != 200 || fe.Calls() != 1 {
		t.Fatalf("priming: %d, %d fetches", code, fe.Calls())
	}
	f.clock.Advance(time.Hour)
	release := fe.Hold()
	var wg sync.WaitGroup
	results := make([]string, 200)
	for i := range 200 {
		wg.Go(func() {
			path, hdr := "/v1/credentials", map[string]string(nil)
			if i%2 == 1 {
				path, hdr = "/latest/meta-data/iam/security-credentials/test-role", map[string]string{"X-aws-ec2-metadata-token": tok}
			}
			code, _, body := f.do(t, "GET", path, hdr)
			if code != 200 {
				results[i] = body
				return
			}
			results[i] = decode(t, body)["AccessKeyId"]
		})
	}
	eventually(t, "the shared fetch to start", func() bool { return fe.Calls() == 2 })
	release()
	wg.Wait()
	want := fe.Mint(2).AccessKeyID
	for i, got := range results {
		if got != want {
			t.Fatalf("client %d got %q, want %s", i, got, want)
		}
	}
	if n := fe.Calls(); n != 2 {
		t.Fatalf("fetches = %d, want 2 (priming + one shared)", n)
	}
}

// The credential source fails: the server keeps serving the last good
// credentials until they expire, then 503 with the reason (never an empty
// "Success"), and recovers by itself once the source does.
func TestOutage(t *testing.T) {
	f := newFixture(t, fixtureOpts{fakeClock: true, run: true})
	fe, cache := f.fetchers["default"], f.caches["default"]
	eventually(t, "the first fetch", cache.Ready)
	good := fe.Mint(1)
	if code, _, _ := f.do(t, "GET", "/readyz", nil); code != 200 {
		t.Fatalf("readyz with credentials: %d", code)
	}

	fe.Fail(errors.New("CreateSession: dial tcp 10.0.0.1:443: connection refused"))
	f.clock.Advance(45 * time.Minute) // past the latest refresh point
	eventually(t, "a failed refresh", func() bool { return cache.Stats().Failures > 0 })
	for _, step := range []time.Duration{time.Minute, 5 * time.Minute, 8*time.Minute + 59*time.Second} {
		f.clock.Advance(step)
		code, body := f.imdsCredentials(t)
		if code != 200 || body["AccessKeyId"] != good.AccessKeyID || body["Code"] != "Success" {
			t.Fatalf("before expiry (%s): %d %v", f.clock.Now().Format(time.TimeOnly), code, body)
		}
	}

	f.clock.Advance(time.Second) // 13:00:00, the expiry
	const why = `no valid credentials for route "default": last refresh failed: CreateSession: dial tcp 10.0.0.1:443: connection refused`
	code, body := f.imdsCredentials(t)
	if code != 503 || body["Code"] != "CredentialsUnavailable" || body["Message"] != why || body["AccessKeyId"] != "" {
		t.Fatalf("IMDS after expiry: %d %v", code, body)
	}
	code, _, raw := f.do(t, "GET", "/v1/credentials", nil)
	if code != 503 || strings.TrimSpace(raw) != `{"code":"CredentialsUnavailable","message":"`+strings.ReplaceAll(why, `"`, `\"`)+`"}` {
		t.Fatalf("container after expiry: %d %s", code, raw)
	}
	if code, _, raw := f.do(t, "GET", "/readyz", nil); code != 503 || raw != "not ready: no valid credentials for [\"default\"]\n" {
		t.Fatalf("readyz without credentials: %d %q", code, raw)
	}

	fe.Fail(nil)
	eventually(t, "recovery by the refresher", func() bool {
		f.clock.Advance(time.Second)
		return cache.Ready()
	})
	code, body = f.imdsCredentials(t)
	if code != 200 || body["AccessKeyId"] == good.AccessKeyID || body["AccessKeyId"] == "" {
		t.Fatalf("after recovery: %d %v", code, body)
	}
}

// lockedBuffer collects log output from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Debug logs of every kind of request and of refreshes carry no token and
// no secret.
func TestLogsCarryNoSecrets(t *testing.T) {
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newFixture(t, fixtureOpts{fakeClock: true, run: true, cfg: credserver.Config{AuthToken: "auth-s3cret", Logger: log}})
	eventually(t, "the first fetch", f.caches["default"].Ready)
	tok := f.imdsToken(t, "")
	f.imdsCredentials(t)
	f.do(t, "GET", "/v1/credentials", map[string]string{"Authorization": "auth-s3cret"})
	f.do(t, "GET", "/v1/credentials", map[string]string{"Authorization": "wrong-s3cret"})
	f.fetchers["default"].Fail(errors.New("refused"))
	f.clock.Advance(time.Hour)
	f.imdsCredentials(t)
	creds := f.fetchers["default"].Mint(1)
	out := logs.String()
	if !strings.Contains(out, `msg=request`) || !strings.Contains(out, `msg="credential refresh failed"`) {
		t.Fatalf("expected request and refresh records, got:\n%s", out)
	}
	for _, secret := range []string{tok, "auth-s3cret", "wrong-s3cret", creds.SecretAccessKey, creds.SessionToken} {
		if strings.Contains(out, secret) {
			t.Fatalf("log contains %q:\n%s", secret, out)
		}
	}
}

func TestProbesAndMetrics(t *testing.T) {
	f := newFixture(t, fixtureOpts{fakeClock: true, routes: []string{"default", "second"}})
	if code, _, body := f.do(t, "GET", "/healthz", nil); code != 200 || body != "ok\n" {
		t.Fatalf("healthz: %d %q", code, body)
	}
	f.do(t, "GET", "/v1/credentials", nil)
	if code, _, body := f.do(t, "GET", "/readyz", nil); code != 503 || body != "not ready: no valid credentials for [\"second\"]\n" {
		t.Fatalf("readyz with one route empty: %d %q", code, body)
	}
	f.do(t, "GET", "/creds/second", nil)
	f.do(t, "GET", "/creds/second", map[string]string{})
	if code, _, body := f.do(t, "GET", "/readyz", nil); code != 200 || body != "ready\n" {
		t.Fatalf("readyz: %d %q", code, body)
	}
	f.clock.Advance(10 * time.Minute)
	_, _, metrics := f.do(t, "GET", "/metrics", nil)
	for _, want := range []string{
		`iamra_helper_credential_refreshes_total{route="default"} 1`,
		`iamra_helper_credential_refresh_failures_total{route="second"} 0`,
		`iamra_helper_credential_expiry_seconds{route="default"} 3000`,
		`iamra_helper_credentials_ready{route="second"} 1`,
		`iamra_helper_http_requests_total{api="container",code="200",route="second"} 2`,
		`iamra_helper_http_requests_total{api="probe",code="503",route=""} 1`,
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// stubListener has an address but no network: Serve's bind checks run
// without opening a non-loopback socket.
type stubListener struct {
	addr   net.Addr
	closed chan struct{}
	once   sync.Once
}

func (l *stubListener) Accept() (net.Conn, error) { <-l.closed; return nil, net.ErrClosed }
func (l *stubListener) Close() error              { l.once.Do(func() { close(l.closed) }); return nil }
func (l *stubListener) Addr() net.Addr            { return l.addr }

func TestBindAddressRules(t *testing.T) {
	any4 := &net.TCPAddr{IP: net.IPv4zero, Port: 9911}
	lan := &net.TCPAddr{IP: net.IPv4(192, 168, 1, 5), Port: 9911}
	for _, tc := range []struct {
		name string
		addr net.Addr
		cfg  credserver.Config
		want string // "" serves
	}{
		{"loopback v4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, credserver.Config{}, ""},
		{"loopback v6", &net.TCPAddr{IP: net.IPv6loopback}, credserver.Config{}, ""},
		{"unix socket", &net.UnixAddr{Name: "/run/creds.sock", Net: "unix"}, credserver.Config{}, ""},
		{"all interfaces without token", any4, credserver.Config{},
			"credserver: refusing to serve credentials on non-loopback address 0.0.0.0:9911 without an authorization token: configure a token or token file, or listen on 127.0.0.1"},
		{"LAN with token but IMDS at hop limit 64", lan, credserver.Config{AuthToken: "t"},
			"credserver: refusing to serve IMDS on non-loopback address 192.168.1.5:9911 with hop limit 64: IMDS clients cannot send the authorization token; set hop limit 1 (responses then cannot cross a router) or disable IMDS"},
		{"LAN with token, IMDS at hop limit 1", lan, credserver.Config{AuthToken: "t", HopLimit: 1}, ""},
		{"all interfaces with token, container only", any4, credserver.Config{AuthToken: "t", DisableIMDS: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Routes = []credserver.Route{{Cache: credcache.New("r", nil, credcache.Options{})}}
			srv, err := credserver.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ln := &stubListener{addr: tc.addr, closed: make(chan struct{})}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ctx, ln) }()
			if tc.want != "" {
				if err := <-done; err == nil || err.Error() != tc.want {
					t.Fatalf("Serve = %v\nwant    %s", err, tc.want)
				}
				select {
				case <-ln.closed:
				default:
					t.Fatal("refused listener left open")
				}
				cancel()
				return
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("Serve = %v", err)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cache := func(name string) credserver.Route {
		return credserver.Route{Cache: credcache.New(name, nil, credcache.Options{})}
	}
	for _, tc := range []struct {
		name string
		cfg  credserver.Config
		want string
	}{
		{"no routes", credserver.Config{}, "credserver: no routes configured"},
		{"nil cache", credserver.Config{Routes: []credserver.Route{{}}}, "credserver: route 1: no cache"},
		{"bad name", credserver.Config{Routes: []credserver.Route{cache("a/b")}},
			`credserver: route 1: name "a/b" is not 1-64 letters, digits, '.', '_' or '-'`},
		{"duplicate name", credserver.Config{Routes: []credserver.Route{cache("a"), cache("a")}}, `credserver: route 2: name "a" used twice`},
		{"not a role ARN", credserver.Config{Routes: []credserver.Route{{Cache: credcache.New("a", nil, credcache.Options{}), RoleArn: "arn:aws:iam::1:user/bob"}}},
			`credserver: route 1: "arn:aws:iam::1:user/bob" is not an IAM role ARN`},
		{"token and file", credserver.Config{Routes: []credserver.Route{cache("a")}, AuthToken: "x", AuthTokenFile: empty},
			"credserver: set an authorization token or a token file, not both"},
		{"missing token file", credserver.Config{Routes: []credserver.Route{cache("a")}, AuthTokenFile: filepath.Join(dir, "nope")},
			"credserver: reading authorization token file: open " + filepath.Join(dir, "nope") + ": no such file or directory"},
		{"empty token file", credserver.Config{Routes: []credserver.Route{cache("a")}, AuthTokenFile: empty},
			"credserver: authorization token file " + empty + " is empty"},
		{"hop limit", credserver.Config{Routes: []credserver.Route{cache("a")}, HopLimit: 256}, "credserver: hop limit 256 out of range 1..255"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := credserver.New(tc.cfg)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("New = %v\nwant  %s", err, tc.want)
			}
		})
	}
}
