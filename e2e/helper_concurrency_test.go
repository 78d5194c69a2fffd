package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iamra/iamra/helper/credcache"
	"github.com/iamra/iamra/helper/credcache/credcachetest"
)

// 200 applications ask serve for credentials at the moment its held ones
// expire (half through the container endpoint, half through IMDS): the
// server sees exactly one CreateSession, counted both by its
// iamra_createsession_total metric and by its audit log, and every
// application gets the credentials that one call returned.
func TestHelperServeConcurrentRefresh(t *testing.T) {
	const clients = 200
	clk := credcachetest.NewClock(time.Now().UTC().Truncate(time.Second))
	w := newHelperWorld(t, worldOptions{Now: clk.Now, ProfileSeconds: 900})

	// The fetch waits until every request has reached serve, so that they
	// all arrive while no valid credentials are held; it is otherwise the
	// real CreateSession. The first fetch (at start) passes at once.
	var entered atomic.Int64
	allIn := make(chan struct{})
	var gate atomic.Bool
	fetch := w.inProcessFetcher(t, clk.Now, 900)
	gated := func(ctx context.Context) (credcache.Credentials, error) {
		if gate.Load() {
			select {
			case <-allIn:
			case <-ctx.Done():
				return credcache.Credentials{}, ctx.Err()
			}
		}
		return fetch(ctx)
	}
	count := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && (r.URL.Path == "/v1/credentials" || strings.HasPrefix(r.URL.Path, "/latest/meta-data/iam/security-credentials/")) &&
				entered.Add(1) == clients {
				close(allIn)
			}
			h.ServeHTTP(rw, r)
		})
	}
	s := w.startInProcessServe(t, clk, gated, count)
	eventually(t, "serve's first credentials", func() bool { return status(t, s.Base+"/readyz") == http.StatusOK })
	_, first := getCreds(t, s.Base)
	entered.Store(0)
	before, auditBefore := w.createSessions(t), len(w.sessions(t))
	if before != 1 {
		t.Fatalf("%d CreateSessions before the refresh, want 1", before)
	}

	// IMDS tokens first (a PUT each, as every SDK does), then expiry.
	tokens := make([]string, clients/2)
	for i := range tokens {
		req, _ := http.NewRequest(http.MethodPut, s.Base+"/latest/api/token", nil)
		req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "21600")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		ioCopy(&b, resp)
		tokens[i] = b.String()
	}
	gate.Store(true)
	clk.Advance(900 * time.Second)

	type answer struct {
		code int
		akid string
		err  error
	}
	answers := make([]answer, clients)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: time.Minute}
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			var req *http.Request
			if i%2 == 0 {
				req, _ = http.NewRequest(http.MethodGet, s.Base+"/v1/credentials", nil)
			} else {
				req, _ = http.NewRequest(http.MethodGet, s.Base+"/latest/meta-data/iam/security-credentials/"+helperRoleName, nil)
				req.Header.Set("X-aws-ec2-metadata-token", tokens[i/2])
			}
			resp, err := client.Do(req)
			if err != nil {
				answers[i].err = err
				return
			}
			defer resp.Body.Close()
			var c struct{ AccessKeyId string }
			answers[i].code, answers[i].err = resp.StatusCode, json.NewDecoder(resp.Body).Decode(&c)
			answers[i].akid = c.AccessKeyId
		})
	}
	wg.Wait()

	if n := entered.Load(); n != clients {
		t.Fatalf("%d requests reached serve, want %d", n, clients)
	}
	akids := map[string]int{}
	for i, a := range answers {
		if a.err != nil || a.code != http.StatusOK {
			t.Fatalf("client %d: %d %v", i, a.code, a.err)
		}
		akids[a.akid]++
	}
	if len(akids) != 1 || akids[first.AccessKeyId] != 0 {
		t.Fatalf("clients got %v (the expired set was %s); want one new set for all", akids, first.AccessKeyId)
	}
	after, auditAfter := w.createSessions(t), len(w.sessions(t))
	if after-before != 1 || auditAfter-auditBefore != 1 {
		t.Fatalf("%d concurrent GETs at expiry caused %d CreateSessions (metric), %d (audit log); want exactly 1",
			clients, after-before, auditAfter-auditBefore)
	}
	for akid := range akids {
		w.sessionFor(t, akid)
	}
}
