package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/iamra/iamra/arn"
)

var (
	signedTestScope = arn.Scope{Partition: "aws", Region: "us-east-1", AccountID: "123456789012"}
	signedTestNow   = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
)

// signedServer is a server on a fixed clock whose log lines a test can
// read.
type signedServer struct {
	*Server
	log   *bytes.Buffer
	audit *bytes.Buffer
	admin aws.Credentials
}

func newSignedServer(t testing.TB) *signedServer {
	t.Helper()
	log, auditLog := &bytes.Buffer{}, &bytes.Buffer{}
	logger := slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	srv, err := New(context.Background(), Config{DataDir: t.TempDir(), Scope: signedTestScope, Now: func() time.Time { return signedTestNow },
		Rand: rand.Reader, Logger: logger, AuditWriter: auditLog, SubjectFlush: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	k := srv.State.AdminKeys[0]
	return &signedServer{Server: srv, log: log, audit: auditLog, admin: aws.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey}}
}

// request builds a request as net/http's server hands it to the handler,
// signed with creds for service unless creds is empty.
func (s *signedServer) request(t testing.TB, method, target, body string, header http.Header, creds aws.Credentials, service string) *http.Request {
	t.Helper()
	return s.requestFrom(t, method, target, body, strings.NewReader(body), header, creds, service)
}

// chunked is request with a body of unknown length.
func (s *signedServer) chunked(t testing.TB, method, target, body string, header http.Header, creds aws.Credentials, service string) *http.Request {
	t.Helper()
	r := s.requestFrom(t, method, target, body, struct{ io.Reader }{strings.NewReader(body)}, header, creds, service)
	if r.ContentLength != -1 {
		t.Fatalf("length %d", r.ContentLength)
	}
	return r
}

func (s *signedServer) requestFrom(t testing.TB, method, target, body string, rd io.Reader, header http.Header, creds aws.Credentials, service string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, "https://iamra.example:8443"+target, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body, req.ContentLength = nil, 0
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if creds.AccessKeyID != "" {
		sum := sha256.Sum256([]byte(body))
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", signedTestNow); err != nil {
			t.Fatal(err)
		}
	}
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		t.Fatal(err)
	}
	r.RemoteAddr = "192.0.2.1:1234"
	return r
}

// presigned is a POST / presigned with the admin key for acm-pca.
func (s *signedServer) presigned(t testing.TB, query, body string, header http.Header) *http.Request {
	t.Helper()
	req, err := http.NewRequest("POST", "https://iamra.example:8443/"+query, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	sum := sha256.Sum256([]byte(body))
	u, h, err := v4.NewSigner().PresignHTTP(context.Background(), s.admin, req, hex.EncodeToString(sum[:]), "acm-pca", "us-east-1", signedTestNow)
	if err != nil {
		t.Fatal(err)
	}
	r := s.request(t, "POST", strings.TrimPrefix(u, "https://iamra.example:8443"), body, h, aws.Credentials{}, "")
	if !strings.Contains(r.URL.RawQuery, "X-Amz-Signature=") {
		t.Fatalf("presigned URL %s", u)
	}
	return r
}

var requestIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// serve sends r through the server's root handler and describes the
// response: status, headers (the request id checked for its form and
// shown as <id>) and body.
func (s *signedServer) serve(t testing.TB, r *http.Request) string {
	t.Helper()
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	resp := w.Result()
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", resp.StatusCode)
	keys := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		vs := resp.Header[k]
		if k == "X-Amzn-Requestid" {
			if len(vs) != 1 || !requestIDPattern.MatchString(vs[0]) {
				t.Errorf("request id %q", vs)
			}
			vs = []string{"<id>"}
		}
		fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(vs, ","))
	}
	body, _ := io.ReadAll(resp.Body)
	b.Write(body)
	return b.String()
}

// The signed APIs answer, log and count exactly so: every response and
// log line of the authentication and routing paths, to the byte.
func TestSignedAPIs(t *testing.T) {
	s := newSignedServer(t)
	pca := func(op string) http.Header {
		return http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amz-Target": {"ACMPrivateCA." + op}}
	}
	create := `{"CertificateAuthorityConfiguration":{"KeyAlgorithm":"EC_prime256v1","SigningAlgorithm":"SHA256WITHECDSA","Subject":{"CommonName":"Test"}},"CertificateAuthorityType":"ROOT"}`
	got := s.serve(t, s.request(t, "POST", "/", create, pca("CreateCertificateAuthority"), s.admin, "acm-pca"))
	m := regexp.MustCompile(`"CertificateAuthorityArn":"([^"]+)"`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("CreateCertificateAuthority: %s", got)
	}
	caARN := m[1]
	// The write is audited under the admin's ARN, which the server
	// passes to the API with the request.
	s.FlushAudit()
	if want := `"userIdentity":{"type":"IAMUser","arn":"` + s.State.AdminKeys[0].Arn + `"`; !strings.Contains(s.audit.String(), want) {
		t.Errorf("audit %s\nwant %s", s.audit.String(), want)
	}
	describe := `{"CertificateAuthorityArn":"` + caARN + `"}`
	wrong := aws.Credentials{AccessKeyID: s.admin.AccessKeyID, SecretAccessKey: "wrong"}
	unknown := aws.Credentials{AccessKeyID: "AKIAUNKNOWNUNKNOWN00", SecretAccessKey: s.admin.SecretAccessKey}
	errorHeaders := func(status int, code, ctype string) string {
		return fmt.Sprintf("%d\nContent-Type: %s\nX-Amzn-Errortype: %s\nX-Amzn-Requestid: <id>\n", status, ctype, code)
	}
	jsonErr := func(status int, code, msg string) string {
		return errorHeaders(status, code, "application/json") + `{"__type":"` + code + `","message":"` + msg + `"}` + "\n"
	}
	tests := []struct {
		name string
		req  *http.Request
		want string // a prefix of the description for successes
		log  string
	}{
		{name: "describe", req: s.request(t, "POST", "/", describe, pca("DescribeCertificateAuthority"), s.admin, "acm-pca"),
			want: "200\nContent-Type: application/x-amz-json-1.1\nX-Amzn-Requestid: <id>\n" + `{"CertificateAuthority":{"Arn":"` + caARN + `"`},
		{name: "list trust anchors", req: s.request(t, "GET", "/trustanchors", "", nil, s.admin, "rolesanywhere"),
			want: "200\nContent-Type: application/json\nX-Amzn-Requestid: <id>\n" + `{"trustAnchors":[]}` + "\n"},
		{name: "unknown route", req: s.request(t, "GET", "/nowhere", "", nil, s.admin, "rolesanywhere"),
			want: jsonErr(404, "UnknownOperationException", "The requested operation is not supported")},
		{name: "wrong secret", req: s.request(t, "POST", "/", describe, pca("DescribeCertificateAuthority"), wrong, "acm-pca"),
			want: jsonErr(403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."),
			log:  `level=INFO msg="signed request refused" requestId=<id> code=InvalidSignatureException reason=sig.mismatch detail="signature of ` + s.admin.AccessKeyID + ` does not match; the canonical request should have been`},
		{name: "unknown key", req: s.request(t, "POST", "/", describe, pca("DescribeCertificateAuthority"), unknown, "acm-pca"),
			want: jsonErr(403, "UnrecognizedClientException", "The security token included in the request is invalid."),
			log:  `level=INFO msg="signed request refused" requestId=<id> code=UnrecognizedClientException reason=auth.unknown_access_key detail="access key AKIAUNKNOWNUNKNOWN00 is not an admin key" accessKeyId=AKIAUNKNOWNUNKNOWN00` + "\n"},
		{name: "unsigned", req: s.request(t, "POST", "/", describe, pca("DescribeCertificateAuthority"), aws.Credentials{}, ""),
			want: jsonErr(403, "MissingAuthenticationTokenException", "Missing Authentication Token")},
		{name: "malformed", req: s.request(t, "POST", "/", describe, http.Header{"Authorization": {"AWS4-HMAC-SHA256 Credential=a/b"}}, aws.Credentials{}, ""),
			want: jsonErr(400, "IncompleteSignatureException", "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")},
		{name: "other service", req: s.request(t, "POST", "/", "{}", nil, s.admin, "s3"),
			want: jsonErr(400, "UnknownOperationException", `iamra does not serve the \"s3\" API on this endpoint.`)},
		{name: "unsigned payload hash", req: func() *http.Request {
			r := s.request(t, "POST", "/", describe, pca("DescribeCertificateAuthority"), s.admin, "acm-pca")
			r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
			return r
		}(),
			want: jsonErr(403, "AccessDeniedException", "There were headers present in the request which were not signed"),
			log:  `level=INFO msg="signed request refused" requestId=<id> code=AccessDeniedException reason=sig.unsigned_header detail="headers not covered by SignedHeaders: x-amz-content-sha256" accessKeyId=` + s.admin.AccessKeyID + "\n"},
		{name: "body too large", req: s.request(t, "POST", "/", strings.Repeat(" ", maxAdminBody+1), pca("DescribeCertificateAuthority"), s.admin, "acm-pca"),
			want: jsonErr(413, "RequestEntityTooLargeException", "Request entity too large")},
		{name: "body too large, no length", req: s.chunked(t, "POST", "/", strings.Repeat(" ", maxAdminBody+1), pca("DescribeCertificateAuthority"), s.admin, "acm-pca"),
			want: jsonErr(413, "RequestEntityTooLargeException", "Request entity too large")},
		{name: "body of unknown length", req: s.chunked(t, "POST", "/", describe, pca("DescribeCertificateAuthority"), s.admin, "acm-pca"),
			want: "200\nContent-Type: application/x-amz-json-1.1\nX-Amzn-Requestid: <id>\n" + `{"CertificateAuthority":{"Arn":"` + caARN + `"`},
		{name: "body shorter than its length", req: func() *http.Request {
			r := s.request(t, "POST", "/", describe, pca("DescribeCertificateAuthority"), s.admin, "acm-pca")
			r.Body = io.NopCloser(io.MultiReader(strings.NewReader(describe[:10]), iotest.ErrReader(io.ErrUnexpectedEOF)))
			return r
		}(),
			want: jsonErr(413, "RequestEntityTooLargeException", "Request entity too large")},
		{name: "presigned without expiry", req: s.presigned(t, "", describe, pca("DescribeCertificateAuthority")),
			want: jsonErr(400, "IncompleteSignatureException", "AWS query-string parameters must include 'X-Amz-Expires'. Re-examine the query-string parameters."),
			log:  `level=INFO msg="signed request refused" requestId=<id> code=IncompleteSignatureException reason=sig.incomplete detail="presigned URL lacks X-Amz-Expires" accessKeyId=` + s.admin.AccessKeyID + "\n"},
		// The presigner moves X-Amz-Target into the query, where PCA does
		// not look: the signature passes, the operation is unknown.
		{name: "presigned", req: s.presigned(t, "?X-Amz-Expires=300", describe, pca("DescribeCertificateAuthority")),
			want: errorHeaders(400, "UnknownOperationException", "application/x-amz-json-1.1") + `{"__type":"UnknownOperationException","message":"The requested operation is not supported by iamra's ACM Private CA API."}`,
			log:  `level=INFO msg="acmpca: request refused" request_id=<id> operation="" code=UnknownOperationException reason=route.unknown detail="X-Amz-Target \"\""` + "\n"},
		{name: "sts", req: s.request(t, "POST", "/", "Action=GetCallerIdentity&Version=2011-06-15",
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, s.admin, "sts"),
			want: "200\nContent-Type: text/xml\nX-Amzn-Requestid: <id>\n<GetCallerIdentityResponse"},
	}
	idRE := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.log.Reset()
			got := s.serve(t, tc.req)
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("response\n%s\nwant\n%s", got, tc.want)
			}
			if log := idRE.ReplaceAllString(s.log.String(), "<id>"); !strings.HasPrefix(log, tc.log) || (tc.log == "") != (log == "") {
				t.Errorf("log\n%s\nwant\n%s", log, tc.log)
			}
		})
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	var series []string
	for line := range strings.SplitSeq(w.Body.String(), "\n") {
		if strings.HasPrefix(line, "iamra_http_requests_total{") || strings.HasPrefix(line, "iamra_http_request_duration_seconds_count{") {
			series = append(series, line)
		}
	}
	want := []string{
		`iamra_http_request_duration_seconds_count{api="acm-pca",operation="CreateCertificateAuthority",outcome="success"} 1`,
		`iamra_http_request_duration_seconds_count{api="acm-pca",operation="DescribeCertificateAuthority",outcome="success"} 2`,
		`iamra_http_request_duration_seconds_count{api="acm-pca",operation="unknown",outcome="client_error"} 8`,
		`iamra_http_request_duration_seconds_count{api="malformed",operation="unknown",outcome="client_error"} 1`,
		`iamra_http_request_duration_seconds_count{api="other",operation="unknown",outcome="client_error"} 1`,
		`iamra_http_request_duration_seconds_count{api="rolesanywhere",operation="ListTrustAnchors",outcome="success"} 1`,
		`iamra_http_request_duration_seconds_count{api="rolesanywhere",operation="unknown",outcome="client_error"} 1`,
		`iamra_http_request_duration_seconds_count{api="sts",operation="unknown",outcome="success"} 1`,
		`iamra_http_request_duration_seconds_count{api="unsigned",operation="unknown",outcome="client_error"} 1`,
		`iamra_http_requests_total{api="acm-pca",operation="CreateCertificateAuthority",outcome="success"} 1`,
		`iamra_http_requests_total{api="acm-pca",operation="DescribeCertificateAuthority",outcome="success"} 2`,
		`iamra_http_requests_total{api="acm-pca",operation="unknown",outcome="client_error"} 8`,
		`iamra_http_requests_total{api="malformed",operation="unknown",outcome="client_error"} 1`,
		`iamra_http_requests_total{api="other",operation="unknown",outcome="client_error"} 1`,
		`iamra_http_requests_total{api="rolesanywhere",operation="ListTrustAnchors",outcome="success"} 1`,
		`iamra_http_requests_total{api="rolesanywhere",operation="unknown",outcome="client_error"} 1`,
		`iamra_http_requests_total{api="sts",operation="unknown",outcome="success"} 1`,
		`iamra_http_requests_total{api="unsigned",operation="unknown",outcome="client_error"} 1`,
	}
	if !slices.Equal(series, want) {
		t.Errorf("metrics\n%s\nwant\n%s", strings.Join(series, "\n"), strings.Join(want, "\n"))
	}
}

// Request ids are version 4 UUIDs and do not repeat.
func TestNewRequestID(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		id := newRequestID()
		if !requestIDPattern.MatchString(id) || seen[id] {
			t.Fatalf("request id %q (seen before: %v)", id, seen[id])
		}
		seen[id] = true
	}
}
