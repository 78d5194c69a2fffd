package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"testing"
	"time"
)

// runningServer is a testServer serving HTTPS on a loopback port.
type runningServer struct {
	*testServer
	Endpoint string
	Client   *http.Client // trusts the server's CA
}

func startServer(t testing.TB, now time.Time) *runningServer {
	t.Helper()
	ts := newServer(t, now)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ts.Run(ctx, ln, false) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	pool := x509.NewCertPool()
	pool.AddCert(ts.State.CA)
	return &runningServer{
		testServer: ts,
		Endpoint:   "https://" + ln.Addr().String(),
		Client:     &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}},
	}
}
