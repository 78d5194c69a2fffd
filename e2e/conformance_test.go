package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/iamra/iamra/credentials"
	"github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/store"
	"github.com/iamra/iamra/sts"
	"github.com/iamra/iamra/subject"
	"github.com/iamra/iamra/trust/trusttest"
)

// The two requests the official aws_signing_helper v1.8.0 sent are
// accepted, with the outcomes the conformance README lists.
func TestConformanceRequests(t *testing.T) {
	tests := []struct {
		name        string
		file        string
		accept      bool
		wantStatus  int
		wantError   string
		wantRole    string
		wantSource  string
		wantSeconds int
	}{
		{name: "rsa", file: "request-rsa.http", wantStatus: 201,
			wantRole: "arn:aws:sts::123456789012:assumed-role/test-role/0123456789abcdef", wantSource: "CN=workload-rsa", wantSeconds: 3600},
		{name: "ecdsa chain, session name refused", file: "request-ecdsa-chain.http", wantStatus: 403,
			wantError: "AccessDeniedException: Not authorized to set roleSessionName."},
		{name: "ecdsa chain, session name accepted", file: "request-ecdsa-chain.http", accept: true, wantStatus: 201,
			wantRole: "arn:aws:sts::123456789012:assumed-role/test-role/interop-test", wantSource: "CN=workload-ec", wantSeconds: 900},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := readCapture(t, tc.file)
			now := captureTime(t, req)
			ts := newServer(t, now)
			ts.seedConformance(t, tc.accept)
			rec := ts.serve(req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, body %s", rec.Code, rec.Body)
			}
			if rec.Header().Get("x-amzn-RequestId") == "" {
				t.Error("no x-amzn-RequestId header")
			}
			if tc.wantError != "" {
				if got := rec.Header().Get("X-Amzn-ErrorType") + ": " + errorMessage(t, rec.Body.Bytes()); got != tc.wantError {
					t.Fatalf("error %q, want %q", got, tc.wantError)
				}
				return
			}
			var out createSessionResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
				t.Fatal(err)
			}
			if len(out.CredentialSet) != 1 {
				t.Fatalf("credentialSet has %d items", len(out.CredentialSet))
			}
			cs := out.CredentialSet[0]
			if cs.AssumedRoleUser.Arn != tc.wantRole || cs.SourceIdentity != tc.wantSource || cs.RoleArn != confRole {
				t.Errorf("got role %q source %q roleArn %q", cs.AssumedRoleUser.Arn, cs.SourceIdentity, cs.RoleArn)
			}
			if want := now.Add(time.Duration(tc.wantSeconds) * time.Second).UTC().Format("2006-01-02T15:04:05Z"); cs.Credentials.Expiration != want {
				t.Errorf("expiration %q, want %q", cs.Credentials.Expiration, want)
			}
			c := cs.Credentials
			if !strings.HasPrefix(c.AccessKeyID, "ASIA") || len(c.AccessKeyID) != 20 || c.SecretAccessKey == "" || c.SessionToken == "" {
				t.Errorf("credentials malformed: %+v", c)
			}
			if !strings.HasPrefix(out.SubjectArn, "arn:aws:rolesanywhere:us-east-1:123456789012:subject/") {
				t.Errorf("subjectArn %q", out.SubjectArn)
			}
			// The token carries the whole session, sealed: no database row.
			sess, err := credentials.Open(c.SessionToken, c.AccessKeyID, ts.Ring, now)
			if err != nil {
				t.Fatal(err)
			}
			if sess.Issuer != confTrustAnchor || sess.RoleArn != confRole || sess.SecretAccessKey != c.SecretAccessKey || sess.SourceIdentity != tc.wantSource {
				t.Errorf("sealed session %+v", sess)
			}
		})
	}
}

func errorMessage(t testing.TB, body []byte) string {
	t.Helper()
	var e struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	return e.Message
}

// Variants of the RSA capture, derived in the test, each refused with
// AWS's type and message and an operator reason in the audit record.
func TestConformanceRejections(t *testing.T) {
	tests := []struct {
		name       string
		mutate     func(r *http.Request, ts *testServer)
		wantStatus int
		wantError  string
		wantReason string
	}{
		{name: "body byte flipped", mutate: func(r *http.Request, ts *testServer) { setBody(r, `{"durationSeconds":3601}`) },
			wantStatus: 403, wantError: "AccessDeniedException: Invalid signature", wantReason: "sig.bad_signature"},
		{name: "host port changed", mutate: func(r *http.Request, ts *testServer) { r.Host = "127.0.0.1:18451" },
			wantStatus: 403, wantError: "AccessDeniedException: Invalid signature", wantReason: "sig.bad_signature"},
		{name: "clock six minutes ahead", mutate: func(r *http.Request, ts *testServer) { ts.clock.Add(6 * time.Minute) },
			wantStatus: 403, wantError: "AccessDeniedException: Invalid signature", wantReason: "sig.skew"},
		{name: "serial changed", mutate: func(r *http.Request, ts *testServer) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Credential=81985529216486895/", "Credential=81985529216486896/", 1))
		}, wantStatus: 403, wantError: "AccessDeniedException: Invalid signature", wantReason: "sig.serial_mismatch"},
		{name: "unknown trust anchor", mutate: func(r *http.Request, ts *testServer) {
			ts.Store.Update(context.Background(), func(tx store.Tx) error { return tx.Delete(store.KindTrustAnchor, confTrustAnchorID) })
			ts.Snapshot.Rebuild(context.Background())
		}, wantStatus: 403, wantError: "AccessDeniedException: Specified Trust Anchor wasn't found.", wantReason: "anchor.not_found"},
		{name: "disabled trust anchor", mutate: func(r *http.Request, ts *testServer) {
			modify(ts, store.KindTrustAnchor, confTrustAnchorID, func(ta *rolesanywhere.TrustAnchor) { ta.Enabled = false })
		}, wantStatus: 403, wantError: "AccessDeniedException: Specified Trust Anchor wasn't found.", wantReason: "anchor.disabled"},
		{name: "trust anchor holds another CA", mutate: func(r *http.Request, ts *testServer) {
			other := trusttest.New(t, nil, ts.clock.Now()).Root("Other CA")
			modify(ts, store.KindTrustAnchor, confTrustAnchorID, func(ta *rolesanywhere.TrustAnchor) {
				ta.Source.SourceData.X509CertificateData = other.PEM()
			})
		}, wantStatus: 403, wantError: "AccessDeniedException: Untrusted signing certificate", wantReason: "chain.untrusted"},
		{name: "disabled profile", mutate: func(r *http.Request, ts *testServer) {
			modify(ts, store.KindProfile, confProfileID, func(p *rolesanywhere.Profile) { p.Enabled = false })
		}, wantStatus: 403, wantError: "AccessDeniedException: Invalid or empty profile provided.", wantReason: "profile.disabled"},
		{name: "role not in profile", mutate: func(r *http.Request, ts *testServer) {
			modify(ts, store.KindProfile, confProfileID, func(p *rolesanywhere.Profile) { p.RoleArns = []string{"arn:aws:iam::123456789012:role/other"} })
		}, wantStatus: 403, wantError: "AccessDeniedException: Requested Role isn't one of those listed in the Profile.", wantReason: "profile.role_not_listed"},
		{name: "request duration caps a longer profile duration", mutate: func(r *http.Request, ts *testServer) {
			modify(ts, store.KindProfile, confProfileID, func(p *rolesanywhere.Profile) { p.DurationSeconds = 7200 })
		}, wantStatus: 201},
		{name: "profile duration beyond the role maximum", mutate: func(r *http.Request, ts *testServer) {
			modify(ts, store.KindRole, "test-role", func(role *sts.Role) { role.MaxSessionDuration = 1800 })
		}, wantStatus: 400, wantError: "ValidationException: The requested DurationSeconds exceeds the MaxSessionDuration set for this role.", wantReason: "role.duration_exceeds_max"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := readCapture(t, "request-rsa.http")
			ts := newServer(t, captureTime(t, req))
			ts.seedConformance(t, false)
			tc.mutate(req, ts)
			rec := ts.serve(req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, body %s", rec.Code, rec.Body)
			}
			if tc.wantError == "" {
				return
			}
			if got := rec.Header().Get("X-Amzn-ErrorType") + ": " + errorMessage(t, rec.Body.Bytes()); got != tc.wantError {
				t.Fatalf("error %q, want %q", got, tc.wantError)
			}
			ev := lastAudit(t, ts)
			if ev.EventName != "CreateSession" || ev.ErrorCode != strings.SplitN(tc.wantError, ":", 2)[0] || ev.AdditionalEventData["reason"] != tc.wantReason {
				t.Fatalf("audit record: %+v", ev)
			}
			if ev.RequestID != rec.Header().Get("x-amzn-RequestId") {
				t.Errorf("audit request id %q, response %q", ev.RequestID, rec.Header().Get("x-amzn-RequestId"))
			}
		})
	}
}

// CreateSession is signed as /sessions whatever the path it was sent to.
func TestConformancePathPrefix(t *testing.T) {
	req, _ := readCapture(t, "request-rsa.http")
	ts := newServer(t, captureTime(t, req))
	ts.seedConformance(t, false)
	req.URL.Path = "/prefix/sessions"
	if rec := ts.serve(req); rec.Code != 201 {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
}

// Subjects are recorded off the hot path and appear after a flush.
func TestConformanceSubjectRecorded(t *testing.T) {
	req, _ := readCapture(t, "request-rsa.http")
	now := captureTime(t, req)
	ts := newServer(t, now)
	ts.seedConformance(t, false)
	if rec := ts.serve(req); rec.Code != 201 {
		t.Fatalf("status %d", rec.Code)
	}
	rev, _ := ts.Store.Revision(context.Background())
	if err := ts.Subjects.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var s rolesanywhere.Subject
	err := ts.Store.View(context.Background(), func(tx store.Tx) error {
		var err error
		s, _, err = store.Get[rolesanywhere.Subject](tx, store.KindSubject, subject.ID("CN=workload-rsa,O=Example"))
		return err
	})
	if err != nil {
		t.Fatalf("subject not recorded: %v (revision before flush %d)", err, rev)
	}
	if !s.LastSeenAt.Equal(now) || len(s.Credentials) != 1 || s.Credentials[0].SerialNumber != "0123456789abcdef" || s.Credentials[0].Failed {
		t.Fatalf("subject %+v", s)
	}
}

func setBody(r *http.Request, body string) {
	r.Body = http.NoBody
	r.Body = nopCloser{strings.NewReader(body)}
	r.ContentLength = int64(len(body))
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

func modify[T any](ts *testServer, kind store.Kind, id string, fn func(*T)) {
	err := ts.Store.Update(context.Background(), func(tx store.Tx) error {
		v, ver, err := store.Get[T](tx, kind, id)
		if err != nil {
			return err
		}
		fn(&v)
		_, err = store.Put(tx, kind, id, ver, v)
		return err
	})
	if err != nil {
		panic(err)
	}
	if err := ts.Snapshot.Rebuild(context.Background()); err != nil {
		panic(err)
	}
}

type auditEvent struct {
	EventName           string         `json:"eventName"`
	ErrorCode           string         `json:"errorCode"`
	ErrorMessage        string         `json:"errorMessage"`
	RequestID           string         `json:"requestID"`
	AdditionalEventData map[string]any `json:"additionalEventData"`
	UserIdentity        map[string]any `json:"userIdentity"`
}

func lastAudit(t testing.TB, ts *testServer) auditEvent {
	t.Helper()
	ts.FlushAudit()
	lines := strings.Split(strings.TrimSpace(ts.audit.String()), "\n")
	var ev auditEvent
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &ev); err != nil {
		t.Fatalf("audit line %q: %v", lines[len(lines)-1], err)
	}
	return ev
}
