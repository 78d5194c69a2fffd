package rolesclient

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"
)

// TransportOptions are the official helper's transport flags.
type TransportOptions struct {
	// NoVerifySSL is --no-verify-ssl: accept any server certificate.
	NoVerifySSL bool
	// CABundle is a PEM file of trusted roots replacing the system pool,
	// as AWS_CA_BUNDLE does for the SDK; empty means the system roots.
	CABundle string
	// Timeout bounds one attempt, response body included; zero means 60 s.
	Timeout time.Duration
}

// NewHTTPClient returns the client CreateSession calls use: TLS 1.2 or
// newer, HTTP/2 when the server offers it, proxies from HTTPS_PROXY and
// NO_PROXY (the SDK's default transport does this too, which is why the
// official --with-proxy flag changes nothing; Go never proxies loopback).
func NewHTTPClient(o TransportOptions) (*http.Client, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.NoVerifySSL} //nolint:gosec // --no-verify-ssl is the user's explicit choice
	t.ForceAttemptHTTP2 = true
	t.Proxy = http.ProxyFromEnvironment
	if o.CABundle != "" {
		pem, err := os.ReadFile(o.CABundle)
		if err != nil {
			return nil, fmt.Errorf("CA bundle: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", o.CABundle)
		}
		t.TLSClientConfig.RootCAs = pool
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	return &http.Client{Transport: t, Timeout: timeout}, nil
}
