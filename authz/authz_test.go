package authz

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/credentials"
	"github.com/iamra/iamra/iam"
	"github.com/iamra/iamra/sigv4"
	"github.com/iamra/iamra/store/sqlite"
	"github.com/iamra/iamra/sts"
)

var (
	now       = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	testScope = arn.Scope{Partition: "aws", Region: "us-east-1", AccountID: "111122223333"}
	admin     = AdminKey{AccessKeyID: "AKIAADMINADMINADMIN0", SecretAccessKey: "admin-secret", Arn: "arn:aws:iam::111122223333:user/iamra-admin"}
)

type fixture struct {
	v    *Verifier
	svc  *iam.Service
	ring *credentials.KeyRing
	role iam.Role
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "authz.db"), sqlite.Options{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dir := iam.NewDirectory(st)
	svc := iam.New(iam.Config{Store: st, Scope: testScope, Now: func() time.Time { return now }, Directory: dir})
	role, err := svc.CreateRole(context.Background(), iam.CreateRoleInput{RoleName: "node",
		AssumeRolePolicyDocument: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"rolesanywhere.amazonaws.com"},"Action":"sts:AssumeRole"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.PutRolePolicy(context.Background(), "node", "read",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/${aws:PrincipalTag/team}/*"}]}`); err != nil {
		t.Fatal(err)
	}
	ring, _ := credentials.NewKeyRing(now, nil)
	v := New(Config{Ring: ring, Directory: dir, Now: func() time.Time { return now },
		Admin: func(id string) (AdminKey, bool) { return admin, id == admin.AccessKeyID }})
	return &fixture{v: v, svc: svc, ring: ring, role: role}
}

func (f *fixture) session(t testing.TB) aws.Credentials {
	t.Helper()
	c, err := credentials.Mint(credentials.Session{RoleArn: f.role.Arn, RoleID: f.role.RoleID, RoleSessionName: "node-1",
		SourceIdentity: "CN=node-1", Tags: []sts.Tag{{Key: "team", Value: "blue"}}, IssuedAt: now, Expiration: now.Add(time.Hour)}, f.ring, nil)
	if err != nil {
		t.Fatal(err)
	}
	return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
}

func signed(t testing.TB, c aws.Credentials, method, target, service string, body []byte) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), c, r, hex.EncodeToString(sum[:]), service, "us-east-1", now); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAuthenticateAndAuthorize(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := signed(t, f.session(t), "GET", "https://svc.example/x", "s3", nil)
	p, err := f.v.Authenticate(ctx, r, nil, Options{Service: "s3"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Arn != "arn:aws:sts::111122223333:assumed-role/node/node-1" || p.RoleName != "node" || p.SessionName != "node-1" ||
		p.SourceIdentity != "CN=node-1" || p.Admin() || p.Session().SecretAccessKey != "" || p.UserID != f.role.RoleID+":node-1" {
		t.Fatalf("principal %+v", p)
	}
	for _, tc := range []struct {
		action, resource string
		allowed          bool
		decision         string
	}{
		{"s3:GetObject", "arn:aws:s3:::data/blue/k", true, "Allow"},
		{"s3:GetObject", "arn:aws:s3:::data/red/k", false, "ImplicitDeny"},
		{"s3:PutObject", "arn:aws:s3:::data/blue/k", false, "ImplicitDeny"},
	} {
		d, err := f.v.Authorize(ctx, p, tc.action, tc.resource, nil)
		if err != nil || d.Allowed != tc.allowed || d.Decision != tc.decision {
			t.Errorf("%s %s: %+v %v", tc.action, tc.resource, d, err)
		}
	}
	// Wrong service in the scope.
	if _, err := f.v.Authenticate(ctx, r, nil, Options{Service: "sts", Dialect: sigv4.Query}); awserr.As(err).Code != "SignatureDoesNotMatch" {
		t.Fatalf("scope: %v", err)
	}
	// The admin key may do everything.
	ra := signed(t, aws.Credentials{AccessKeyID: admin.AccessKeyID, SecretAccessKey: admin.SecretAccessKey}, "GET", "https://svc.example/x", "s3", nil)
	pa, err := f.v.Authenticate(ctx, ra, nil, Options{})
	if err != nil || !pa.Admin() || pa.Type != "IAMUser" || pa.Account != "111122223333" || !strings.HasPrefix(pa.UserID, "AIDA") {
		t.Fatalf("admin %+v %v", pa, err)
	}
	if d, _ := f.v.Authorize(ctx, pa, "iam:DeleteRole", "", nil); !d.Allowed || d.Resource != "*" {
		t.Fatalf("admin decision %+v", d)
	}
	// Revoked: refused at authentication.
	if _, err := f.svc.RevokeSessions(ctx, "node", time.Time{}); err != nil {
		t.Fatal(err)
	}
	_, err = f.v.Authenticate(ctx, signed(t, f.session(t), "GET", "https://svc.example/x", "s3", nil), nil, Options{})
	if e := awserr.As(err); e.Code != "AccessDeniedException" || e.Reason != "session.revoked" {
		t.Fatalf("revoked: %v", err)
	}
}

func TestMiddleware(t *testing.T) {
	f := newFixture(t)
	h := f.v.Require(Options{Service: "s3"}, "s3:GetObject", func(r *http.Request) string { return "arn:aws:s3:::data" + r.URL.Path },
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, _ := PrincipalFrom(r.Context())
			body, _ := io.ReadAll(r.Body)
			io.WriteString(w, p.SessionName+" "+string(body))
		}))
	sess := f.session(t)
	tests := []struct {
		name   string
		req    *http.Request
		status int
		body   string
	}{
		{"allowed", signed(t, sess, "POST", "https://svc.example/blue/k", "s3", []byte("payload")), 200, "node-1 payload"},
		{"denied", signed(t, sess, "POST", "https://svc.example/red/k", "s3", nil), 403,
			`{"__type":"AccessDeniedException","message":"User: arn:aws:sts::111122223333:assumed-role/node/node-1 is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::data/red/k"}` + "\n"},
		{"unsigned", httptest.NewRequest("GET", "https://svc.example/blue/k", nil), 403,
			`{"__type":"MissingAuthenticationTokenException","message":"Missing Authentication Token"}` + "\n"},
		{"bad bearer token", func() *http.Request {
			r := httptest.NewRequest("GET", "https://svc.example/blue/k", nil)
			r.Header.Set("Authorization", "Bearer k8s-aws-v1.!!!")
			return r
		}(), 401, `{"__type":"InvalidToken","message":"The token is not a valid k8s-aws-v1 token."}` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, tc.req)
			if w.Code != tc.status || w.Body.String() != tc.body {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
		})
	}
}

func TestTokenRequest(t *testing.T) {
	enc := func(u string) string { return TokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(u)) }
	good := "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"
	tests := []struct {
		token, cluster, detail string
	}{
		{enc(good), "c", ""},
		{"k8s-aws-v2.abc", "c", `token does not start with "k8s-aws-v1."`},
		{TokenPrefix + "***", "c", "token is not base64url: illegal base64 data at input byte 0"},
		{enc("ftp://x/?Action=GetCallerIdentity"), "c", "token URL ftp://x is not an http(s) URL with a host"},
		{enc("https://x/path?Action=GetCallerIdentity"), "c", `token URL path is "/path", not /`},
		{enc("https://x/?Action=AssumeRole"), "c", `token URL action is "AssumeRole", not GetCallerIdentity`},
		{enc("https://x/?Action=GetCallerIdentity&RoleArn=x"), "c", `token URL has parameter "RoleArn"`},
		{enc(good), "", "token is bound to a cluster (signs x-k8s-aws-id) but no cluster id was given"},
		{TokenPrefix + strings.Repeat("A", 20000), "c", "token is 20011 characters, more than 16384"},
	}
	for _, tc := range tests {
		r, err := TokenRequest(context.Background(), tc.token, tc.cluster)
		if tc.detail == "" {
			if err != nil || r.Header.Get("x-k8s-aws-id") != tc.cluster || r.Host != "sts.us-east-1.amazonaws.com" {
				t.Errorf("good token: %v", err)
			}
			continue
		}
		if e := awserr.As(err); e.Code != "InvalidToken" || e.Detail != tc.detail {
			t.Errorf("%.40s: %v, want %s", tc.token, err, tc.detail)
		}
	}
}

func TestCheckEndpointErrors(t *testing.T) {
	f := newFixture(t)
	h := f.v.Handler()
	for _, tc := range []struct{ method, body, want string }{
		{"GET", "", `{"__type":"MethodNotAllowed","message":"Use POST."}`},
		{"POST", `{}`, `{"__type":"ValidationException","message":"The request is not a valid authorization check."}`},
		{"POST", `{"token":"x","request":{"method":"GET","url":"https://a/"}}`, `{"__type":"ValidationException","message":"The request is not a valid authorization check."}`},
		{"POST", `{"request":{"method":"GET","url":"/relative"}}`, `{"__type":"ValidationException","message":"The request is not a valid authorization check."}`},
		{"POST", `{"request":{"method":"GET","url":"https://a/","body":"%%%"}}`, `{"__type":"ValidationException","message":"The request is not a valid authorization check."}`},
		{"POST", `{"token":"k8s-aws-v1.aHR0cHM6Ly94Lz9BY3Rpb249R2V0Q2FsbGVySWRlbnRpdHk","clusterId":"c"}`, `{"__type":"MissingAuthenticationTokenException"`},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(tc.method, "/", strings.NewReader(tc.body)))
		if !strings.HasPrefix(w.Body.String(), tc.want) || w.Code < 400 {
			t.Errorf("%s %s: %d %s", tc.method, tc.body, w.Code, w.Body)
		}
	}
}
