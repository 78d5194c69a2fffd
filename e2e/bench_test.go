package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamra/iamra/loadtest"
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
			f, err := loadtest.NewFixture(kt, 256, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			target, _, err := loadtest.Setup(ctx, rs.loadtestAdmin(b), f, rs.Endpoint, "us-east-1")
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

// loadtestAdmin is the control-plane clients `iamra loadtest` sets up
// with, signing with the server's admin key.
func (rs *runningServer) loadtestAdmin(t testing.TB) loadtest.Admin {
	k := rs.State.AdminKeys[0]
	return loadtest.Admin{RolesAnywhere: rs.admin(t), IAM: awsiam.New(awsiam.Options{Region: "us-east-1", BaseEndpoint: aws.String(rs.Endpoint),
		Credentials: awscreds.NewStaticCredentialsProvider(k.AccessKeyID, k.SecretAccessKey, ""), HTTPClient: rs.Client})}
}
