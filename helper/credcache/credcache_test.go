package credcache_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamra/iamra/helper/credcache"
	"github.com/iamra/iamra/helper/credcache/credcachetest"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// zeros is a Rand that makes jitter zero, so schedules are exact.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func newCache(t *testing.T) (*credcache.Cache, *credcachetest.Clock, *credcachetest.Fetcher) {
	t.Helper()
	clock := credcachetest.NewClock(t0)
	f := &credcachetest.Fetcher{Now: clock.Now, Lifetime: time.Hour}
	c := credcache.New("default", f.Fetch, credcache.Options{Now: clock.Now, After: clock.After, Rand: zeros{}})
	return c, clock, f
}

// eventually polls cond until it holds; the bound only stops a hung test,
// it asserts nothing about speed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 20000; i++ {
		if cond() {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("gave up waiting for %s", what)
}

// running starts c's refresher until the test ends and waits for the first
// fetch.
func running(t *testing.T, c *credcache.Cache) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go c.Run(ctx)
	eventually(t, "the first fetch", c.Ready)
	return ctx
}

func TestGetFetchesOnceThenServesFromMemory(t *testing.T) {
	c, clock, f := newCache(t)
	if c.Ready() {
		t.Fatal("ready before any fetch")
	}
	got, err := c.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := f.Mint(1)
	want.LastUpdated = t0
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	clock.Advance(59 * time.Minute)
	again, err := c.Get(context.Background())
	if err != nil || again != want {
		t.Fatalf("second Get: %+v, %v", again, err)
	}
	if n := f.Calls(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
	if !c.Ready() {
		t.Fatal("not ready while holding credentials")
	}
	st := c.Stats()
	if st.Refreshes != 1 || st.Failures != 0 || !st.Expiration.Equal(want.Expiration) || !st.Ready {
		t.Fatalf("stats = %+v", st)
	}
}

func TestNeverReturnsExpiredCredentials(t *testing.T) {
	c, clock, f := newCache(t)
	first, _ := c.Get(context.Background())
	clock.Advance(time.Hour) // exactly at expiry: no longer valid
	if c.Ready() {
		t.Fatal("ready at expiry")
	}
	got, err := c.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessKeyID == first.AccessKeyID || !clock.Now().Before(got.Expiration) || f.Calls() != 2 {
		t.Fatalf("got %s expiring %s after %d fetches", got.AccessKeyID, got.Expiration, f.Calls())
	}
}

func TestConcurrentGetsAtExpiryShareOneFetch(t *testing.T) {
	c, clock, f := newCache(t)
	if _, err := c.Get(context.Background()); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour)
	release := f.Hold()
	var wg sync.WaitGroup
	keys := make([]string, 200)
	errs := make([]error, 200)
	for i := range 200 {
		wg.Go(func() {
			cr, err := c.Get(context.Background())
			keys[i], errs[i] = cr.AccessKeyID, err
		})
	}
	eventually(t, "the shared fetch to start", func() bool { return f.Calls() == 2 })
	release()
	wg.Wait()
	want := f.Mint(2).AccessKeyID
	for i := range 200 {
		if errs[i] != nil || keys[i] != want {
			t.Fatalf("caller %d: %q, %v", i, keys[i], errs[i])
		}
	}
	if n := f.Calls(); n != 2 {
		t.Fatalf("fetches = %d, want 2 (initial + one shared)", n)
	}
}

func TestRejectsUnusableCredentials(t *testing.T) {
	for _, tc := range []struct {
		name  string
		creds credcache.Credentials
		want  string
	}{
		{"empty", credcache.Credentials{},
			`no valid credentials for route "r": last refresh failed: fetcher returned credentials without an access key id or secret access key`},
		{"expired", credcache.Credentials{AccessKeyID: "ASIA", SecretAccessKey: "s", Expiration: t0},
			`no valid credentials for route "r": last refresh failed: fetcher returned credentials that expired at 2026-11-22T12:00:00Z`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fetch := func(context.Context) (credcache.Credentials, error) { return tc.creds, nil }
			c := credcache.New("r", fetch, credcache.Options{Now: func() time.Time { return t0 }})
			_, err := c.Get(context.Background())
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v\nwant  %s", err, tc.want)
			}
			if c.Ready() || c.Stats().Failures != 1 {
				t.Fatalf("ready=%v stats=%+v", c.Ready(), c.Stats())
			}
		})
	}
}

func TestCallerCancellationDoesNotAbortSharedFetch(t *testing.T) {
	c, _, f := newCache(t)
	release := f.Hold()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := c.Get(ctx); done <- err }()
	eventually(t, "the fetch to start", func() bool { return f.Calls() == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), `waiting for credentials of route "default"`) {
		t.Fatalf("err = %v", err)
	}
	release()
	eventually(t, "the fetch to finish", c.Ready)
	if _, err := c.Get(context.Background()); err != nil || f.Calls() != 1 {
		t.Fatalf("after cancel: %v, %d fetches", err, f.Calls())
	}
}

// TestOutage walks through an outage of the credential source with the
// background refresher running: last good credentials are served until they
// expire, then a clear error without a fetch per request, then recovery by
// the refresher alone.
func TestOutage(t *testing.T) {
	c, clock, f := newCache(t)
	ctx := running(t, c)
	good, _ := c.Get(ctx)

	f.Fail(errors.New("CreateSession: connection refused"))
	clock.Advance(45 * time.Minute) // refresh point (quarter of 1h, no jitter)
	eventually(t, "a failed refresh", func() bool { return c.Stats().Failures >= 1 })
	for range 3 {
		clock.Advance(3 * time.Minute) // still before expiry
		got, err := c.Get(ctx)
		if err != nil || got != good {
			t.Fatalf("during outage before expiry: %+v, %v", got, err)
		}
	}
	clock.Advance(good.Expiration.Sub(clock.Now()))
	_, err := c.Get(ctx)
	const want = `no valid credentials for route "default": last refresh failed: CreateSession: connection refused`
	if err == nil || err.Error() != want {
		t.Fatalf("after expiry: %v\nwant %s", err, want)
	}
	// Between retries Get answers from the last failure instead of calling
	// the source once per request.
	calls := f.Calls()
	for range 10 {
		if _, err := c.Get(ctx); err == nil {
			t.Fatal("credentials after expiry")
		}
	}
	if f.Calls() > calls+1 {
		t.Fatalf("%d fetches for 10 Gets during backoff", f.Calls()-calls)
	}

	f.Fail(nil)
	eventually(t, "recovery by the refresher", func() bool {
		clock.Advance(time.Second)
		return c.Ready()
	})
	got, err := c.Get(ctx)
	if err != nil || got.AccessKeyID == good.AccessKeyID {
		t.Fatalf("after recovery: %+v, %v", got, err)
	}
}

func TestRunRefreshesBeforeExpiry(t *testing.T) {
	c, clock, f := newCache(t)
	ctx := running(t, c)
	clock.Advance(45*time.Minute - time.Second)
	if n := f.Calls(); n != 1 {
		t.Fatalf("refreshed %d times before the refresh point", n-1)
	}
	clock.Advance(time.Second)
	eventually(t, "the background refresh", func() bool { return f.Calls() == 2 && c.Stats().Refreshes == 2 })
	got, _ := c.Get(ctx)
	if got.AccessKeyID != f.Mint(2).AccessKeyID {
		t.Fatalf("serving %s after refresh", got.AccessKeyID)
	}
}
