// Package credcache holds one set of temporary AWS credentials in memory and
// keeps it fresh: the cache behind the helper's `serve` endpoints.
//
// The official aws_signing_helper refreshes lazily inside the request
// handler, without a lock, and overwrites good credentials with empty ones
// when a refresh fails. This cache does the opposite (DESIGN.md decision 6):
//
//   - Get answers from memory while the held credentials are unexpired; it
//     never returns expired credentials.
//   - When nothing valid is held, callers share one fetch (single-flight):
//     200 concurrent Gets at expiry cause one call of the Fetcher.
//   - Run refreshes in the background before expiry, at a jittered point so a
//     fleet of helpers started together does not refresh in lockstep.
//   - A failed refresh keeps the last good credentials until they expire, and
//     is retried with capped exponential backoff. Between retries Get fails
//     fast with the last error instead of calling the Fetcher once per request.
//
// Usage:
//
//	c := credcache.New("default", fetch, credcache.Options{Logger: log})
//	go c.Run(ctx)             // proactive refresh; optional but recommended
//	creds, err := c.Get(ctx)  // err explains why nothing valid is held
//
// Stats reports counters and the expiry for metrics; credserver exports
// them to Prometheus at scrape time, labelled by route name, so this package
// needs no metrics dependency.
package credcache

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Credentials are temporary AWS credentials.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
	// LastUpdated is when the cache obtained these credentials. The cache
	// sets it; a Fetcher leaves it zero.
	LastUpdated time.Time
}

// Fetcher obtains new credentials, typically by calling CreateSession. It
// must return credentials that expire in the future.
type Fetcher func(ctx context.Context) (Credentials, error)

// Options tune a Cache. The zero value gives the documented defaults.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// After waits in Run (default time.After). Tests inject a fake clock's.
	After func(time.Duration) <-chan time.Time
	// Rand supplies jitter (default crypto/rand.Reader; read only when a
	// fetch completes, so its cost does not matter).
	Rand io.Reader
	// RefreshBefore is how long before expiry the background refresh starts,
	// before jitter. Default: a quarter of the credentials' lifetime, but at
	// least 5 minutes. It is capped at half the lifetime so short-lived
	// credentials are not refreshed in a loop.
	RefreshBefore time.Duration
	// MinRetry and MaxRetry bound the backoff after a failed fetch
	// (defaults 1s and 1m; a MaxRetry below MinRetry is raised).
	MinRetry, MaxRetry time.Duration
	// FetchTimeout bounds one Fetcher call (default 1m). The fetch is shared,
	// so it is not cancelled when the caller that started it goes away.
	FetchTimeout time.Duration
	// Logger receives refresh outcomes, never secrets (default: discard).
	Logger *slog.Logger
}

// Stats is a snapshot for metrics.
type Stats struct {
	Refreshes  uint64    // successful fetches
	Failures   uint64    // failed fetches
	Expiration time.Time // of the held credentials; zero if none
	Ready      bool      // holds unexpired credentials
}

// Cache holds the credentials of one route. It is safe for concurrent use.
type Cache struct {
	name  string
	fetch Fetcher
	opt   Options

	held atomic.Pointer[Credentials] // last good credentials; read lock-free by Get

	mu       sync.Mutex
	inflight *call         // the one running fetch, if any
	due      time.Time     // when the next background fetch is due
	failures int           // consecutive failed fetches
	lastErr  error         // of the last fetch, nil after a success
	kick     chan struct{} // wakes Run when due changes

	refreshes, failed atomic.Uint64
}

// call is one shared fetch; done is closed when creds and err are set.
type call struct {
	done  chan struct{}
	creds Credentials
	err   error
}

// New returns a cache for the route called name; it holds nothing until the
// first Get or Run.
func New(name string, fetch Fetcher, opts Options) *Cache {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.After == nil {
		opts.After = time.After
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.MinRetry <= 0 {
		opts.MinRetry = time.Second
	}
	if opts.MaxRetry < opts.MinRetry {
		opts.MaxRetry = max(time.Minute, opts.MinRetry)
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.Logger = opts.Logger.With("route", name)
	return &Cache{name: name, fetch: fetch, opt: opts, kick: make(chan struct{}, 1)}
}

// Name is the route name given to New.
func (c *Cache) Name() string { return c.name }

// Get returns unexpired credentials. If none are held it fetches, sharing
// one fetch among all concurrent callers; while a failed fetch is backing
// off it returns that failure at once. The error says why no credentials are
// available.
func (c *Cache) Get(ctx context.Context) (Credentials, error) {
	if cr := c.valid(c.opt.Now()); cr != nil {
		return *cr, nil
	}
	c.mu.Lock()
	now := c.opt.Now()
	if cr := c.valid(now); cr != nil { // fetched while we waited for the lock
		c.mu.Unlock()
		return *cr, nil
	}
	cl := c.inflight
	if cl == nil && c.lastErr != nil && now.Before(c.due) {
		err := c.unavailable(c.lastErr)
		c.mu.Unlock()
		return Credentials{}, err
	}
	if cl == nil {
		cl = c.startLocked(ctx)
	}
	c.mu.Unlock()
	select {
	case <-cl.done:
		if cl.err != nil {
			return Credentials{}, c.unavailable(cl.err)
		}
		return cl.creds, nil
	case <-ctx.Done():
		return Credentials{}, fmt.Errorf("waiting for credentials of route %q: %w", c.name, context.Cause(ctx))
	}
}

func (c *Cache) unavailable(err error) error {
	return fmt.Errorf("no valid credentials for route %q: last refresh failed: %w", c.name, err)
}

// valid returns the held credentials if they are unexpired at now.
func (c *Cache) valid(now time.Time) *Credentials {
	if cr := c.held.Load(); cr != nil && now.Before(cr.Expiration) {
		return cr
	}
	return nil
}

// Ready reports whether the cache holds unexpired credentials.
func (c *Cache) Ready() bool { return c.valid(c.opt.Now()) != nil }

// Stats returns counters and the held credentials' expiry.
func (c *Cache) Stats() Stats {
	s := Stats{Refreshes: c.refreshes.Load(), Failures: c.failed.Load()}
	if cr := c.held.Load(); cr != nil {
		s.Expiration = cr.Expiration
		s.Ready = c.opt.Now().Before(cr.Expiration)
	}
	return s
}

// Run refreshes the credentials in the background until ctx is done: at
// once if none are held, before expiry (see Options.RefreshBefore) once they
// are, and with backoff after failures. Start it once per cache.
func (c *Cache) Run(ctx context.Context) {
	for {
		c.mu.Lock()
		wait := c.due.Sub(c.opt.Now())
		cl := c.inflight
		if cl == nil && wait <= 0 {
			cl = c.startLocked(ctx)
		}
		c.mu.Unlock()
		var timer <-chan time.Time
		if cl == nil {
			timer = c.opt.After(wait)
		}
		select {
		case <-ctx.Done():
			return
		case <-timer:
		case <-c.kick:
		case <-doneOf(cl):
		}
	}
}

// doneOf is cl.done, or nil (blocks forever in select) for no call.
func doneOf(cl *call) <-chan struct{} {
	if cl == nil {
		return nil
	}
	return cl.done
}

// startLocked starts the shared fetch. The fetch outlives the caller that
// happened to start it (its cancellation would fail everyone else), bounded
// by FetchTimeout.
func (c *Cache) startLocked(ctx context.Context) *call {
	cl := &call{done: make(chan struct{})}
	c.inflight = cl
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opt.FetchTimeout)
	go func() {
		defer cancel()
		creds, err := c.fetch(fctx)
		c.finish(cl, creds, err)
	}()
	return cl
}

// finish records a fetch's outcome and schedules the next one.
func (c *Cache) finish(cl *call, creds Credentials, err error) {
	now := c.opt.Now()
	if err == nil {
		err = check(creds, now)
	}
	c.mu.Lock()
	if err == nil {
		creds.LastUpdated = now
		c.held.Store(&creds)
		c.failures, c.lastErr = 0, nil
		c.due = now.Add(c.refreshIn(creds.Expiration.Sub(now)))
		c.refreshes.Add(1)
		c.opt.Logger.Info("credentials refreshed", "expiration", creds.Expiration.UTC(), "next_refresh", c.due.UTC())
	} else {
		c.failures++
		c.lastErr = err
		c.due = now.Add(c.backoff(c.failures))
		c.failed.Add(1)
		attrs := []any{"error", err, "failures", c.failures, "retry_at", c.due.UTC()}
		if held := c.valid(now); held != nil {
			attrs = append(attrs, "serving_until", held.Expiration.UTC())
		}
		c.opt.Logger.Warn("credential refresh failed", attrs...)
	}
	cl.creds, cl.err = creds, err
	c.inflight = nil
	c.mu.Unlock()
	close(cl.done)
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// check rejects what must never be served: empty or already expired
// credentials (the official helper served both as "Success").
func check(cr Credentials, now time.Time) error {
	switch {
	case cr.AccessKeyID == "" || cr.SecretAccessKey == "":
		return errors.New("fetcher returned credentials without an access key id or secret access key")
	case !now.Before(cr.Expiration):
		return fmt.Errorf("fetcher returned credentials that expired at %s", cr.Expiration.UTC().Format(time.RFC3339))
	}
	return nil
}

// refreshIn is how long after a fetch the next one is due, for credentials
// that live for lifetime from now.
func (c *Cache) refreshIn(lifetime time.Duration) time.Duration {
	before := c.opt.RefreshBefore
	if before <= 0 {
		before = max(lifetime/4, 5*time.Minute)
	}
	before = min(before, lifetime/2)
	// Jitter only moves the refresh earlier, by up to half of before, so it
	// never eats into the safety margin.
	return lifetime - before - c.jitter(before/2)
}

// backoff is the wait after the n-th consecutive failure: MinRetry doubled
// per failure, capped at MaxRetry, the upper half jittered.
func (c *Cache) backoff(n int) time.Duration {
	d := c.opt.MaxRetry
	if n < 32 {
		d = min(c.opt.MinRetry<<(n-1), c.opt.MaxRetry)
	}
	return d - c.jitter(d/2)
}

// jitter is uniform in [0, d).
func (c *Cache) jitter(d time.Duration) time.Duration {
	var b [8]byte
	if d <= 0 {
		return 0
	}
	if _, err := io.ReadFull(c.opt.Rand, b[:]); err != nil {
		return 0
	}
	return time.Duration(binary.LittleEndian.Uint64(b[:]) % uint64(d))
}
