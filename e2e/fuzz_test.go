package e2e

import (
	"bufio"
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzCreateSessionHTTP sends arbitrary raw HTTP requests to the server's
// root handler: whatever the bytes, the answer is never a 5xx and never a
// panic. Seeds are the official client's captures (read in place) and
// hand-made variants.
func FuzzCreateSessionHTTP(f *testing.F) {
	for _, name := range []string{"request-rsa.http", "request-ecdsa-chain.http"} {
		if raw, err := os.ReadFile(filepath.Join(conformanceDir(f), name)); err == nil {
			f.Add(raw)
		}
	}
	f.Add([]byte("POST /sessions HTTP/1.1\r\nHost: x\r\nX-Amz-X509: AAAA\r\nAuthorization: AWS4-X509-RSA-SHA256 Credential=1/2/3/4/5, SignedHeaders=host, Signature=zz\r\nContent-Length: 2\r\n\r\n{}"))
	f.Add([]byte("POST /sessions?profileArn=%zz HTTP/1.1\r\nHost: x\r\nX-Amz-X509: !!\r\nX-Amz-X509-Chain: ,,,\r\nContent-Length: 1\r\n\r\n{"))
	f.Add([]byte("GET /trustanchors HTTP/1.1\r\nHost: x\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIA/20261122/us-east-1/rolesanywhere/aws4_request, SignedHeaders=host, Signature=00\r\n\r\n"))
	ts := newServer(f, time.Date(2026, 11, 22, 13, 28, 57, 0, time.UTC))
	ts.seedConformance(f, true)
	h := ts.Handler()
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return // not HTTP: the server's own parser refuses it before any handler
		}
		req.RemoteAddr = "127.0.0.1:1"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, raw, rec.Body)
		}
	})
}
