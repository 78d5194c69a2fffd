package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/iamra/iamra/devmode"
	"github.com/iamra/iamra/loadtest"
	"github.com/iamra/iamra/store"
	"github.com/iamra/iamra/sts"
)

// BenchmarkCreateSessionHTTPS drives CreateSession over HTTPS keep-alive
// against an in-process server and reports sessions/s beside the same
// run's crypto bound (parse leaf + chain signature + request signature on
// all cores). Client and server share the machine here; the load command
// (`iamra loadtest`, docs/performance.md) separates them.
func BenchmarkCreateSessionHTTPS(b *testing.B) {
	for _, kt := range []loadtest.KeyType{loadtest.P256, loadtest.RSA2048} {
		b.Run(string(kt), func(b *testing.B) {
			rs := startServer(b, time.Now())
			role := sts.Role{Arn: "arn:aws:iam::123456789012:role/load", RoleName: "load", RoleID: "AROALOADLOADLOADLOAD1", MaxSessionDuration: 43200,
				AssumeRolePolicyDocument: devmode.TrustPolicy("arn:aws:rolesanywhere:*:*:trust-anchor/*")}
			rs.put(b, store.KindRole, "load", role)
			f, err := loadtest.NewFixture(kt, 256, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			target, err := loadtest.Setup(ctx, rs.admin(b), f, rs.Endpoint, "us-east-1", role.Arn)
			if err != nil {
				b.Fatal(err)
			}
			reqs, err := f.Sign(target, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			client := &http.Client{Transport: rs.Client.Transport.(*http.Transport).Clone()}
			client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
			opts := loadtest.Options{Concurrency: 8, Duration: time.Hour, Client: client}
			if err := loadtest.WaitReady(ctx, reqs, opts); err != nil {
				b.Fatal(err)
			}
			bound, err := f.CryptoBound(500 * time.Millisecond)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			opts.MaxRequests = int64(b.N)
			r := loadtest.Run(ctx, reqs, opts)
			b.StopTimer()
			if r.Statuses[201] != r.Requests || r.Errors > 0 {
				b.Fatalf("statuses %v errors %d", r.Statuses, r.Errors)
			}
			b.ReportMetric(r.PerSecond, "sessions/s")
			b.ReportMetric(bound.PerSecond, "crypto-bound/s")
			b.ReportMetric(r.PerSecond/bound.PerSecond, "ratio")
			b.ReportMetric(float64(r.P99.Microseconds()), "p99-µs")
		})
	}
}
