package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/audit"
	"github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/server"
	"github.com/iamra/iamra/store"
	"github.com/iamra/iamra/sts"
)

var testScope = arn.Scope{Partition: "aws", Region: "us-east-1", AccountID: "123456789012"}

// conformanceDir is ../shared/conformance/createsession from the repository
// root; tests read the captures there and never copy them.
func conformanceDir(t testing.TB) string {
	t.Helper()
	d := filepath.Join("..", "..", "shared", "conformance", "createsession")
	if _, err := os.Stat(d); err != nil {
		t.Fatalf("conformance captures not found at %s (the shared/ folder sits beside the repository): %v", d, err)
	}
	return d
}

// safeClock is the server's clock in tests: tests move it while the
// server's goroutines read it.
type safeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *safeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *safeClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type testServer struct {
	*server.Server
	audit *lockedBuffer
	clock *safeClock
}

func newServer(t testing.TB, now time.Time) *testServer {
	t.Helper()
	c := &safeClock{t: now}
	auditBuf := &lockedBuffer{b: &bytes.Buffer{}}
	srv, err := server.New(context.Background(), server.Config{
		DataDir: t.TempDir(), Scope: testScope, Now: c.Now, Rand: rand.Reader,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), AuditWriter: auditBuf,
		SubjectFlush: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &testServer{Server: srv, audit: auditBuf, clock: c}
}

// lockedBuffer is an audit sink tests can read while the server writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// put writes records straight into the store (ids the API would refuse,
// like the captures' "p1b2c3d4-…", are fine here) and rebuilds the
// snapshot.
func (ts *testServer) put(t testing.TB, kind store.Kind, id string, v any) {
	t.Helper()
	err := ts.Store.Update(context.Background(), func(tx store.Tx) error {
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = tx.PutAny(store.Record{Kind: kind, ID: id, Data: data})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Snapshot.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
}

const (
	confTrustAnchorID = "a1b2c3d4-0000-1111-2222-333344445555"
	confProfileID     = "p1b2c3d4-0000-1111-2222-333344445555"
	confTrustAnchor   = "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/" + confTrustAnchorID
	confProfile       = "arn:aws:rolesanywhere:us-east-1:123456789012:profile/" + confProfileID
	confRole          = "arn:aws:iam::123456789012:role/test-role"
)

// seedConformance creates the fixture the captures were made against.
func (ts *testServer) seedConformance(t testing.TB, acceptRoleSessionName bool) {
	t.Helper()
	caPEM, err := os.ReadFile(filepath.Join(conformanceDir(t), "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	now := rolesanywhere.NewTime(ts.clock.Now())
	ts.put(t, store.KindTrustAnchor, confTrustAnchorID, rolesanywhere.TrustAnchor{
		TrustAnchorID: confTrustAnchorID, TrustAnchorArn: confTrustAnchor, Name: "conformance", Enabled: true,
		Source:    rolesanywhere.Source{SourceType: rolesanywhere.SourceCertificateBundle, SourceData: rolesanywhere.SourceData{X509CertificateData: string(caPEM)}},
		CreatedAt: now, UpdatedAt: now, NotificationSettings: rolesanywhere.DefaultNotificationSettings(),
	})
	ts.put(t, store.KindProfile, confProfileID, rolesanywhere.Profile{
		ProfileID: confProfileID, ProfileArn: confProfile, Name: "conformance", Enabled: true, RoleArns: []string{confRole},
		DurationSeconds: 3600, AcceptRoleSessionName: acceptRoleSessionName, AttributeMappings: rolesanywhere.DefaultAttributeMappings(),
		CreatedAt: now, UpdatedAt: now,
	})
	ts.put(t, store.KindRole, "test-role", sts.Role{
		Arn: confRole, RoleName: "test-role", Path: "/", RoleID: "AROAEXAMPLEEXAMPLE1", MaxSessionDuration: 3600,
		AssumeRolePolicyDocument: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"rolesanywhere.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}]}`,
	})
}

// readCapture parses a captured request file.
func readCapture(t testing.TB, name string) (*http.Request, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(conformanceDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.RemoteAddr = "127.0.0.1:40000"
	return req, body
}

func captureTime(t testing.TB, req *http.Request) time.Time {
	t.Helper()
	ts, err := time.Parse("20060102T150405Z", req.Header.Get("X-Amz-Date"))
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// serve runs req through the server's root handler.
func (ts *testServer) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	ts.Handler().ServeHTTP(rec, req)
	return rec
}

type createSessionResponse struct {
	CredentialSet []struct {
		AssumedRoleUser struct {
			Arn           string `json:"arn"`
			AssumedRoleID string `json:"assumedRoleId"`
		} `json:"assumedRoleUser"`
		Credentials struct {
			AccessKeyID     string `json:"accessKeyId"`
			Expiration      string `json:"expiration"`
			SecretAccessKey string `json:"secretAccessKey"`
			SessionToken    string `json:"sessionToken"`
		} `json:"credentials"`
		PackedPolicySize int    `json:"packedPolicySize"`
		RoleArn          string `json:"roleArn"`
		SourceIdentity   string `json:"sourceIdentity"`
	} `json:"credentialSet"`
	SubjectArn string `json:"subjectArn"`
}

// auditEvents flushes and parses the server's audit log.
func (ts *testServer) auditEvents(t testing.TB) []audit.Event {
	t.Helper()
	ts.FlushAudit()
	var out []audit.Event
	for _, line := range strings.Split(strings.TrimSpace(ts.audit.String()), "\n") {
		if line == "" {
			continue
		}
		var ev audit.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, ev)
	}
	return out
}
