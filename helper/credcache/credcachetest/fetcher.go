package credcachetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/iamra/iamra/helper/credcache"
)

// Fetcher mints fake but well-formed credentials (ASIA… key ids, 40-character
// secrets) valid for Lifetime from Now. Its Fetch method is a
// credcache.Fetcher. Configure the fields before the first Fetch.
type Fetcher struct {
	Name     string           // goes into the keys, so fetchers' keys differ
	Now      func() time.Time // default time.Now
	Lifetime time.Duration    // default 1h

	mu    sync.Mutex
	calls int
	err   error
	gate  chan struct{}
}

// Fetch returns the next credentials, the error set by Fail, or blocks while
// the fetcher is held.
func (f *Fetcher) Fetch(ctx context.Context) (credcache.Credentials, error) {
	f.mu.Lock()
	f.calls++
	n, err, gate := f.calls, f.err, f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return credcache.Credentials{}, ctx.Err()
		}
	}
	if err != nil {
		return credcache.Credentials{}, err
	}
	return f.Mint(n), nil
}

// Mint returns the credentials the n-th call (from 1) returns.
func (f *Fetcher) Mint(n int) credcache.Credentials {
	now, life := time.Now, f.Lifetime
	if f.Now != nil {
		now = f.Now
	}
	if life == 0 {
		life = time.Hour
	}
	return credcache.Credentials{
		AccessKeyID:     fmt.Sprintf("ASIA%s%08d", strings.ToUpper(f.Name), n),
		SecretAccessKey: fmt.Sprintf("fakeSecretKey/%s/%026d", f.Name, n),
		SessionToken:    fmt.Sprintf("IQoJb3JpZ2luX2VjEFakeSessionToken+%s+%d/==", f.Name, n),
		// Whole seconds, as every wire format carries them.
		Expiration: now().Add(life).Truncate(time.Second),
	}
}

// Calls is how many times Fetch has been called.
func (f *Fetcher) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// Fail makes later fetches return err; Fail(nil) makes them succeed again.
func (f *Fetcher) Fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// Hold makes later fetches block until the returned release is called.
func (f *Fetcher) Hold() (release func()) {
	gate := make(chan struct{})
	f.mu.Lock()
	f.gate = gate
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			f.gate = nil
			f.mu.Unlock()
			close(gate)
		})
	}
}
