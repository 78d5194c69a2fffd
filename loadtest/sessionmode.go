package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/rolesanywhere"
)

// Report is what the load command prints for CreateSession (also as JSON
// with --json).
type Report struct {
	KeyType      KeyType `json:"keyType"`
	Certificates int     `json:"certificates"`
	Concurrency  int     `json:"concurrency"`
	Summary
	SessionsPerSecond  float64 `json:"sessionsPerSecond"`
	CryptoBoundPerSec  float64 `json:"cryptoBoundPerSecond"`
	SessionsPerCPUSec  float64 `json:"sessionsPerServerCpuSecond,omitempty"`
	CryptoPerCPUSec    float64 `json:"cryptoPerCpuSecond,omitempty"`
	WritesPerRequest   float64 `json:"storeWritesPerRequest"`
	ServerStoreMetrics bool    `json:"-"`

	m Measurement
}

func (r *Report) printText(w io.Writer) {
	fmt.Fprintf(w, "CreateSession over HTTPS keep-alive: %s leaves, %d certificates, %d clients\n", r.KeyType, r.Certificates, r.Concurrency)
	r.m.print(w, wording{unit: "sessions", bound: "crypto bound (parse + chain verify + request verify, all cores)",
		boundUnit: "crypto ops", request: "request"})
}

// runSessions creates a trust anchor, a role that trusts it and a profile
// on the server, issues n distinct certificates, drives CreateSession with
// them, and deletes what it created.
func runSessions(ctx context.Context, s *devServer, kt KeyType, n, conc int, dur time.Duration, pid int, log io.Writer) (*Report, error) {
	admin := Admin{
		RolesAnywhere: rolesanywhere.NewFromConfig(s.Config),
		IAM:           iam.NewFromConfig(s.Config),
	}

	fmt.Fprintf(log, "issuing %d %s certificates…\n", n, kt)
	f, err := NewFixture(kt, n, time.Now())
	if err != nil {
		return nil, err
	}
	target, teardown, err := Setup(ctx, admin, f, s.Endpoint, s.Region)
	if err != nil {
		return nil, err
	}
	defer func() {
		// An interrupted run still cleans up, briefly.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := teardown(ctx); err != nil {
			fmt.Fprintf(log, "cleanup (left on the server): %v\n", err)
		}
	}()
	fmt.Fprintln(log, "signing requests…")
	reqs, err := f.Sign(target, time.Now())
	if err != nil {
		return nil, err
	}
	opts := Options{Concurrency: conc, Duration: dur, Client: s.Client, Accept: AcceptStatus(http.StatusCreated)}
	if err := WaitReady(ctx, reqs, opts); err != nil {
		return nil, err
	}
	fmt.Fprintln(log, "measuring the crypto bound…")
	bound, err := f.CryptoBound(3 * time.Second)
	if err != nil {
		return nil, err
	}
	m := measure(ctx, s, reqs, opts, bound, pid, log)
	rep := &Report{
		KeyType: kt, Certificates: n, Concurrency: conc, Summary: m.summary(),
		SessionsPerSecond: m.Result.PerSecond, CryptoBoundPerSec: bound.PerSecond,
		WritesPerRequest: m.WritesPerRequest(), m: m,
	}
	if m.ServerCPUSeconds > 0 {
		rep.SessionsPerCPUSec, rep.CryptoPerCPUSec = m.PerServerCPUSecond(), bound.PerCPUSecond
	}
	return rep, nil
}
