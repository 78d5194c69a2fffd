package credcache

import (
	"bytes"
	"testing"
	"time"
)

// constRand returns the same byte forever: 0x00 gives no jitter, 0xff
// nearly the maximum.
type constRand byte

func (b constRand) Read(p []byte) (int, error) {
	copy(p, bytes.Repeat([]byte{byte(b)}, len(p)))
	return len(p), nil
}

func TestRefreshIn(t *testing.T) {
	for _, tc := range []struct {
		name     string
		before   time.Duration
		lifetime time.Duration
		rand     constRand
		want     time.Duration
	}{
		{"1h: a quarter before expiry", 0, time.Hour, 0, 45 * time.Minute},
		{"12h: a quarter", 0, 12 * time.Hour, 0, 9 * time.Hour},
		{"15m: at least 5 minutes", 0, 15 * time.Minute, 0, 10 * time.Minute},
		{"6m: at most half the lifetime", 0, 6 * time.Minute, 0, 3 * time.Minute},
		{"configured", 10 * time.Minute, time.Hour, 0, 50 * time.Minute},
		{"configured, capped at half", 50 * time.Minute, time.Hour, 0, 30 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New("r", nil, Options{RefreshBefore: tc.before, Rand: tc.rand})
			if got := c.refreshIn(tc.lifetime); got != tc.want {
				t.Fatalf("refreshIn(%s) = %s, want %s", tc.lifetime, got, tc.want)
			}
		})
	}
}

func TestRefreshJitterStaysInRange(t *testing.T) {
	for b := range 256 {
		c := New("r", nil, Options{Rand: constRand(b)})
		// 1h lifetime: refresh 15m before expiry, moved earlier by < 7m30s.
		if got := c.refreshIn(time.Hour); got <= 37*time.Minute+30*time.Second || got > 45*time.Minute {
			t.Fatalf("rand byte %#x: refreshIn = %s", b, got)
		}
	}
}

func TestBackoff(t *testing.T) {
	c := New("r", nil, Options{Rand: constRand(0)})
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 6: 32 * time.Second, 7: time.Minute, 40: time.Minute} {
		if got := c.backoff(n); got != want {
			t.Errorf("backoff(%d) = %s, want %s", n, got, want)
		}
	}
	c = New("r", nil, Options{Rand: constRand(0xff), MinRetry: 10 * time.Second, MaxRetry: 5 * time.Minute})
	// Jitter takes off less than half: the wait stays above d/2.
	for n, lo := range map[int]time.Duration{1: 5 * time.Second, 10: 150 * time.Second} {
		if got := c.backoff(n); got <= lo || got > 2*lo {
			t.Errorf("backoff(%d) = %s, want in (%s, %s]", n, got, lo, 2*lo)
		}
	}
}
