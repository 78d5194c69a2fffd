package credserver_test

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/iamra/iamra/helper/credcache"
	"github.com/iamra/iamra/helper/credcache/credcachetest"
	"github.com/iamra/iamra/helper/credserver"
)

const benchClients = 64

// parallel64 makes RunParallel use 64 goroutines whatever GOMAXPROCS is.
func parallel64(b *testing.B) {
	b.SetParallelism(max(1, benchClients/runtime.GOMAXPROCS(0)))
}

// BenchmarkCacheGet is the in-memory bound: 64 goroutines reading one cache.
func BenchmarkCacheGet(b *testing.B) {
	fe := &credcachetest.Fetcher{}
	c := credcache.New("bench", fe.Fetch, credcache.Options{})
	parallel64(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Get(context.Background()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(fe.Calls())*10000/float64(b.N), "fetches/10kGET")
}

// cacheGetNs measures BenchmarkCacheGet's loop inline, so the HTTP
// benchmark reports its overhead against a bound from the same run.
func cacheGetNs(c *credcache.Cache) float64 {
	const perClient = 5000
	var wg sync.WaitGroup
	start := time.Now()
	for range benchClients {
		wg.Go(func() {
			for range perClient {
				c.Get(context.Background())
			}
		})
	}
	wg.Wait()
	return float64(time.Since(start).Nanoseconds()) / (benchClients * perClient)
}

// BenchmarkCredentialGET is what an application's SDK costs the helper: 64
// clients GETting credentials over a real loopback connection pool, through
// the container endpoint (with its authorization token) and through IMDS
// (with a session token), reported as a multiple of an in-memory Get.
func BenchmarkCredentialGET(b *testing.B) {
	for _, api := range []string{"container", "imds"} {
		b.Run(api, func(b *testing.B) {
			f := newFixture(b, fixtureOpts{cfg: credserver.Config{AuthToken: "bench-token"}})
			path, hdr := "/v1/credentials", "Authorization"
			val := "bench-token"
			if api == "imds" {
				path, hdr = "/latest/meta-data/iam/security-credentials/test-role", "X-Aws-Ec2-Metadata-Token"
				val = f.imdsToken(b, "")
			}
			if code, _, body := f.do(b, "GET", path, map[string]string{hdr: val}); code != 200 {
				b.Fatalf("%d %s", code, body)
			}
			bound := cacheGetNs(f.caches["default"])
			parallel64(b)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				req, _ := http.NewRequest("GET", f.base+path, nil)
				req.Header.Set(hdr, val)
				for pb.Next() {
					resp, err := f.client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.StopTimer()
			nsPerOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(nsPerOp/bound, "x-CacheGet")
			b.ReportMetric(float64(f.fetchers["default"].Calls())*10000/float64(b.N), "fetches/10kGET")
		})
	}
}
