package credserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamra/iamra/helper/credcache"
	"github.com/iamra/iamra/helper/credcache/credcachetest"
	"github.com/iamra/iamra/helper/credserver"
)

const testRoleArn = "arn:aws:iam::123456789012:role/path/test-role"

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// fixture is a running server with one or more routes backed by counting
// fetchers on one clock.
type fixture struct {
	base     string               // http://127.0.0.1:port
	clock    *credcachetest.Clock // nil when on real time
	fetchers map[string]*credcachetest.Fetcher
	caches   map[string]*credcache.Cache
	client   *http.Client
}

type fixtureOpts struct {
	fakeClock bool
	run       bool     // start each cache's refresher
	routes    []string // route names; default "default"
	cfg       credserver.Config
}

func newFixture(t testing.TB, o fixtureOpts) *fixture {
	t.Helper()
	f := &fixture{fetchers: map[string]*credcachetest.Fetcher{}, caches: map[string]*credcache.Cache{}}
	now, after := time.Now, time.After
	if o.fakeClock {
		f.clock = credcachetest.NewClock(t0)
		now, after = f.clock.Now, f.clock.After
	}
	if len(o.routes) == 0 {
		o.routes = []string{"default"}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cfg := o.cfg
	cfg.Routes = nil
	for i, name := range o.routes {
		fe := &credcachetest.Fetcher{Name: name, Now: now, Lifetime: time.Hour}
		c := credcache.New(name, fe.Fetch, credcache.Options{Now: now, After: after, Logger: o.cfg.Logger})
		f.fetchers[name], f.caches[name] = fe, c
		r := credserver.Route{Cache: c}
		if i == 0 {
			r.RoleArn = testRoleArn
		}
		cfg.Routes = append(cfg.Routes, r)
		if o.run {
			go c.Run(ctx)
		}
	}
	if cfg.Now == nil {
		cfg.Now = now
	}
	srv, err := credserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	f.base = "http://" + ln.Addr().String()
	f.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	t.Cleanup(func() {
		// Idle client connections first: a connection the transport dialed
		// but never used would hold up graceful shutdown.
		f.client.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return f
}

// do sends a request and returns status, headers and body.
func (f *fixture) do(t testing.TB, method, path string, hdr map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// imdsToken obtains an IMDSv2 token under prefix ("" or "/role/<name>").
func (f *fixture) imdsToken(t testing.TB, prefix string) string {
	t.Helper()
	code, _, body := f.do(t, http.MethodPut, prefix+"/latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "21600"})
	if code != http.StatusOK {
		t.Fatalf("token: %d %s", code, body)
	}
	return body
}

// imdsCredentials fetches the IMDS credential document of the default route.
func (f *fixture) imdsCredentials(t testing.TB) (int, map[string]string) {
	t.Helper()
	tok := f.imdsToken(t, "")
	code, _, body := f.do(t, http.MethodGet, "/latest/meta-data/iam/security-credentials/test-role",
		map[string]string{"X-aws-ec2-metadata-token": tok})
	return code, decode(t, body)
}

func decode(t testing.TB, body string) map[string]string {
	t.Helper()
	m := map[string]string{}
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return m
}

// writeToken writes a token file (0600) and returns its path.
func writeToken(t testing.TB, dir, token string) string {
	t.Helper()
	p := filepath.Join(dir, "token")
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil { // atomic, as a rotation is
		t.Fatal(err)
	}
	return p
}

// eventually polls cond; the bound only stops a hung test.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for range 20000 {
		if cond() {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("gave up waiting for %s", what)
}

// cleanAWSEnv clears every AWS_* variable for the test, and points the
// shared files at nothing, so only the server can supply credentials.
func cleanAWSEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	missing := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", missing)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", missing)
	t.Setenv("AWS_REGION", "us-east-1")
}
