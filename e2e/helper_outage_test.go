package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/iamra/iamra/helper/credcache/credcachetest"
)

// The iamra server goes away while serve holds credentials (900 s, the
// profile's duration): serve keeps answering with the last good
// credentials, through both protocols, until they expire, then answers 503
// with a message saying why, never an empty success; the server comes back
// on the same data directory and port, and serve's background refresh
// recovers without anyone asking. Time is a manual clock shared by serve
// and the server (see inProcessServe).
func TestHelperServeOutage(t *testing.T) {
	clk := credcachetest.NewClock(time.Now().UTC().Truncate(time.Second))
	w := newHelperWorld(t, worldOptions{Now: clk.Now, ProfileSeconds: 900})
	// serve's default --session-duration is 3600; the profile caps it.
	s := w.startInProcessServe(t, clk, w.inProcessFetcher(t, clk.Now, 3600), nil)
	eventually(t, "serve's first credentials", func() bool { return status(t, s.Base+"/readyz") == http.StatusOK })
	code, first := getCreds(t, s.Base)
	if code != http.StatusOK {
		t.Fatalf("GET /v1/credentials: %d %+v", code, first)
	}
	w.checkIssued(t, first.AccessKeyId, first.SecretAccessKey, first.Token, w.Leaf, clk.Now())
	if want := clk.Now().Add(900 * time.Second).Format(time.RFC3339); first.Expiration != want {
		t.Fatalf("expiration %s, want %s (the profile's 900 s)", first.Expiration, want)
	}

	w.stop()
	// Past the refresh point (at most 600 s into the 900 s), before expiry:
	// the background refresh fails against the stopped server.
	clk.Advance(700 * time.Second)
	eventually(t, "a failed refresh", func() bool { return s.Cache.Stats().Failures > 0 })
	code, held := getCreds(t, s.Base)
	if code != http.StatusOK || held.AccessKeyId != first.AccessKeyId || held.Token != first.Token {
		t.Fatalf("during the outage: %d %s, want the last good credentials %s", code, held.AccessKeyId, first.AccessKeyId)
	}
	if code, body := getIMDSCreds(t, s.Base); code != http.StatusOK || !strings.Contains(body, first.AccessKeyId) {
		t.Fatalf("IMDS during the outage: %d %s", code, body)
	}
	if st := status(t, s.Base+"/readyz"); st != http.StatusOK {
		t.Fatalf("/readyz during the outage with valid credentials: %d", st)
	}

	// The credentials expire with the server still down.
	clk.Advance(200 * time.Second)
	code, gone := getCreds(t, s.Base)
	if code != http.StatusServiceUnavailable || gone.AccessKeyId != "" || gone.Code != "CredentialsUnavailable" ||
		!strings.Contains(gone.Message, "no valid credentials") {
		t.Fatalf("after expiry: %d %+v, want 503 CredentialsUnavailable", code, gone)
	}
	if code, body := getIMDSCreds(t, s.Base); code < 500 || strings.Contains(body, first.AccessKeyId) {
		t.Fatalf("IMDS after expiry: %d %s", code, body)
	}
	if st := status(t, s.Base+"/readyz"); st != http.StatusServiceUnavailable {
		t.Fatalf("/readyz without credentials: %d", st)
	}

	// The server returns; serve's backoff (at most 10 s on this clock)
	// brings a new refresh. Only /readyz is polled, which never fetches:
	// the recovery is serve's own.
	w.restart(t)
	failures := s.Cache.Stats().Failures
	eventually(t, "serve to recover", func() bool {
		if status(t, s.Base+"/readyz") == http.StatusOK {
			return true
		}
		if s.Cache.Stats().Failures > failures+20 {
			t.Fatalf("serve keeps failing after the server returned")
		}
		clk.Advance(time.Second)
		return false
	})
	code, back := getCreds(t, s.Base)
	if code != http.StatusOK || back.AccessKeyId == first.AccessKeyId {
		t.Fatalf("after recovery: %d %+v", code, back)
	}
	w.checkIssued(t, back.AccessKeyId, back.SecretAccessKey, back.Token, w.Leaf, clk.Now())
	if rec := w.sessionFor(t, back.AccessKeyId); rec.ErrorCode != "" {
		t.Fatalf("audit %+v", rec)
	}
}
