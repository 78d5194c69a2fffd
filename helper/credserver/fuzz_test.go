package credserver_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/iamra/iamra/helper/credcache"
	"github.com/iamra/iamra/helper/credcache/credcachetest"
	"github.com/iamra/iamra/helper/credserver"
)

// zeroRand makes the IMDS token key and nonces fixed, so the seed corpus can
// hold the one valid token.
type zeroRand struct{}

func (zeroRand) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// The token this server issues for a 21600 s TTL at t0 (see the seeds).
const fuzzToken = "AAAAAGsDLaAAAAAAAAAAAN-Fx0LzomUXnjXaES6gzUwuaWP_kDYlXlevAx5079nS"

// FuzzServeHTTP throws arbitrary requests at the server: it must never
// panic, and credentials leave only with the issued IMDS token or the
// configured authorization token.
func FuzzServeHTTP(f *testing.F) {
	now := func() time.Time { return t0 }
	fe := &credcachetest.Fetcher{Now: now}
	cache := credcache.New("default", fe.Fetch, credcache.Options{Now: now})
	srv, err := credserver.New(credserver.Config{
		Routes:    []credserver.Route{{Cache: cache, RoleArn: testRoleArn}},
		AuthToken: "auth-token", Now: now, Rand: zeroRand{},
	})
	if err != nil {
		f.Fatal(err)
	}
	secret := fe.Mint(1).SecretAccessKey
	// Seeds: testdata/fuzz/FuzzServeHTTP (method, path, TTL, IMDS token,
	// Authorization, X-Forwarded-For).
	f.Fuzz(func(t *testing.T, method, path, ttl, token, auth, xff string) {
		r, err := http.NewRequest(method, "http://127.0.0.1"+path, nil)
		if err != nil {
			return
		}
		for k, v := range map[string]string{"X-Aws-Ec2-Metadata-Token-Ttl-Seconds": ttl, "X-Aws-Ec2-Metadata-Token": token,
			"Authorization": auth, "X-Forwarded-For": xff} {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		if strings.Contains(w.Body.String(), secret) && token != fuzzToken && auth != "auth-token" {
			t.Fatalf("%s %q (token %q, auth %q) returned credentials", method, path, token, auth)
		}
	})
}

// The fixed seed really is the token the server issues, so the seeds above
// reach the credential paths.
func TestFuzzTokenIsIssued(t *testing.T) {
	srv, err := credserver.New(credserver.Config{
		Routes: []credserver.Route{{Cache: credcache.New("default", nil, credcache.Options{})}},
		Now:    func() time.Time { return t0 }, Rand: zeroRand{},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("PUT", "/latest/api/token", nil)
	r.Header.Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "21600")
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	if w.Body.String() != fuzzToken {
		t.Fatalf("issued %q", w.Body.String())
	}
}
