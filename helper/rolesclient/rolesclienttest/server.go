// Package rolesclienttest is a CreateSession stub for tests of the
// credential helper: an httptest server that records each request, checks
// its SigV4-X509 signature with sigv4x509.Verify, and answers as told.
package rolesclienttest

import (
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/iamra/iamra/sigv4x509"
)

// Request is what the stub saw of one request.
type Request struct {
	Header     http.Header
	Host       string
	RequestURI string
	Proto      string
	Body       []byte
}

// Responder answers the n-th request (from 1).
type Responder func(n int, w http.ResponseWriter)

// Server is a running stub.
type Server struct {
	*httptest.Server
	// Now, if set, is the clock requests are verified against; zero means
	// time.Now.
	Now func() time.Time

	mu        sync.Mutex
	requests  []Request
	verifyErr []error
}

// New starts a stub (HTTPS with HTTP/2 when tls is set) and closes it when
// the test ends.
func New(t testing.TB, tls bool, respond Responder) *Server {
	t.Helper()
	s := &Server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		now := time.Now()
		if s.Now != nil {
			now = s.Now()
		}
		_, verr := sigv4x509.Verify(r, body, sigv4x509.VerifyOptions{Now: now})
		s.mu.Lock()
		s.requests = append(s.requests, Request{Header: r.Header.Clone(), Host: r.Host, RequestURI: r.RequestURI, Proto: r.Proto, Body: body})
		if verr != nil {
			s.verifyErr = append(s.verifyErr, verr)
		}
		n := len(s.requests)
		s.mu.Unlock()
		respond(n, w)
	}))
	if tls {
		s.EnableHTTP2 = true
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// VerifyErrors returns the signature verification failures so far.
func (s *Server) VerifyErrors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.verifyErr...)
}

// WriteCA writes the TLS server's certificate as a PEM CA bundle in dir
// (for AWS_CA_BUNDLE) and returns its path.
func (s *Server) WriteCA(t testing.TB, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "stub-ca.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// CredentialSet is a CreateSession response body for credentials expiring
// at exp.
func CredentialSet(exp string) string {
	return `{"credentialSet":[{"assumedRoleUser":{"arn":"arn:aws:sts::123456789012:assumed-role/test-role/0123","assumedRoleId":"AROAEXAMPLE:0123"},` +
		`"credentials":{"accessKeyId":"ASIAEXAMPLEEXAMPLE12","expiration":"` + exp + `","secretAccessKey":"secret/key+1<&>","sessionToken":"token=="},` +
		`"packedPolicySize":12,"roleArn":"arn:aws:iam::123456789012:role/test-role","sourceIdentity":"CN=workload"}],` +
		`"subjectArn":"arn:aws:rolesanywhere:us-east-1:123456789012:subject/s1"}`
}

// OK answers 201 with CredentialSet(exp).
func OK(exp string) Responder {
	return func(_ int, w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, CredentialSet(exp))
	}
}

// AWSError answers with an AWS REST-JSON error, request id req-123.
func AWSError(status int, code, msg string, extra http.Header) Responder {
	return func(_ int, w http.ResponseWriter) {
		for k, v := range extra {
			w.Header()[k] = v
		}
		w.Header().Set("X-Amzn-ErrorType", code)
		w.Header().Set("X-Amzn-RequestId", "req-123")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":"com.amazonaws.rolesanywhere#%s","message":%q}`, code, msg)
	}
}
