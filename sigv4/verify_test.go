package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/iamra/iamra/awserr"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

const stsBody = "Action=GetCallerIdentity&Version=2011-06-15"

func hashHex(b string) string {
	s := sha256.Sum256([]byte(b))
	return hex.EncodeToString(s[:])
}

// clientRequest builds the request an SDK would send.
func clientRequest(t testing.TB, method, rawURL, body string, header http.Header) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, rawURL, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	return req
}

// sign signs req with the AWS SDK for Go v2 signer.
func sign(t testing.TB, req *http.Request, body string, creds aws.Credentials, service, region string, at time.Time) {
	t.Helper()
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hashHex(body), service, region, at); err != nil {
		t.Fatal(err)
	}
}

// presign presigns req with the SDK signer and returns the URL and the
// headers the caller must send with it.
func presign(t testing.TB, req *http.Request, creds aws.Credentials, service, region string, at time.Time) (string, http.Header) {
	t.Helper()
	u, h, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, hashHex(""), service, region, at)
	if err != nil {
		t.Fatal(err)
	}
	return u, h
}

// toServer puts req on the wire and reads it back as net/http's server
// would see it (Host in r.Host, Content-Length in r.ContentLength, the
// request URI parsed), without a network round trip.
func toServer(t testing.TB, req *http.Request) (*http.Request, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return fromWire(t, buf.Bytes())
}

func fromWire(t testing.TB, wire []byte) (*http.Request, []byte) {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(wire)))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return r, body
}

func stsRequest(t testing.TB, creds aws.Credentials, at time.Time) *http.Request {
	req := clientRequest(t, "POST", "https://sts.us-east-1.amazonaws.com/", stsBody,
		http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}})
	sign(t, req, stsBody, creds, "sts", "us-east-1", at)
	return req
}

func opts(now time.Time) VerifyOptions {
	return VerifyOptions{Now: now, Lookup: lookup}
}

func TestVerifyHeaderSigned(t *testing.T) {
	for _, creds := range []aws.Credentials{longTerm, session} {
		r, body := toServer(t, stsRequest(t, creds, t0))
		res, err := Verify(context.Background(), r, body, opts(t0))
		if err != nil {
			t.Fatal(err)
		}
		want := Credential{AccessKeyID: creds.AccessKeyID, Date: "20261122", Region: "us-east-1", Service: "sts"}
		if res.Credential != want || res.SessionToken != creds.SessionToken || res.Presigned || !res.Time.Equal(t0) {
			t.Fatalf("result %+v", res)
		}
		cred, ok, err := ParseRequest(r)
		if err != nil || !ok || cred != want {
			t.Fatalf("ParseRequest = %+v, %v, %v", cred, ok, err)
		}
	}
}

// Canonicalisation corner cases, each signed by the SDK.
func TestVerifyCanonicalisation(t *testing.T) {
	tests := []struct {
		name, method, url, body string
		header                  http.Header
		rawPath                 string
	}{
		{"root", "GET", "https://h.example/", "", nil, ""},
		{"empty path", "GET", "https://h.example", "", nil, ""},
		{"path needing escapes", "GET", "https://h.example/trustanchor/a b/ü/x+y=z/~._-", "", nil, ""},
		{"escaped slash", "GET", "https://h.example/a%2Fb/c", "", nil, "/a%2Fb/c"},
		{"double slashes and dots kept", "GET", "https://h.example//a/./b/../c/", "", nil, ""},
		{"query sorting and encoding", "GET", "https://h.example/list?z=1&a=2&a=1&b=&c=%20+*~!'()&%C3%BC=%E2%82%AC&nextToken=ab%2Bc%2F%3D", "", nil, ""},
		{"query without value", "GET", "https://h.example/?flag&x=1", "", nil, ""},
		{"header spaces collapsed", "POST", "https://h.example/", `{"a":1}`, http.Header{"X-Custom": {"  a   b  c  "}, "Content-Type": {"application/x-amz-json-1.1"}}, ""},
		{"repeated header", "PUT", "https://h.example/x", "body", http.Header{"X-Multi": {"one", " two ", "three  four"}}, ""},
		{"json target", "POST", "https://acm-pca.eu-west-3.amazonaws.com/", `{"MaxResults":3}`, http.Header{"X-Amz-Target": {"ACMPrivateCA.ListCertificateAuthorities"}, "Content-Type": {"application/x-amz-json-1.1"}}, ""},
		{"non-default port", "GET", "http://127.0.0.1:8443/trustanchors?pageSize=5", "", nil, ""},
		{"default port stripped", "GET", "https://h.example:443/", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := clientRequest(t, tt.method, tt.url, tt.body, tt.header)
			if tt.rawPath != "" {
				req.URL.RawPath = tt.rawPath
			}
			sign(t, req, tt.body, session, "rolesanywhere", "eu-west-3", t0)
			r, body := toServer(t, req)
			if _, err := Verify(context.Background(), r, body, opts(t0)); err != nil {
				t.Fatal(err)
			}
			// The same request presigned verifies too.
			if tt.body == "" {
				req := clientRequest(t, tt.method, tt.url, "", tt.header)
				if tt.rawPath != "" {
					req.URL.RawPath = tt.rawPath
				}
				q := req.URL.Query()
				q.Set("X-Amz-Expires", "300")
				req.URL.RawQuery = q.Encode()
				u, h := presign(t, req, session, "rolesanywhere", "eu-west-3", t0)
				preq := clientRequest(t, tt.method, u, "", h)
				r, body := toServer(t, preq)
				res, err := Verify(context.Background(), r, body, opts(t0.Add(time.Minute)))
				if err != nil {
					t.Fatalf("presigned %s: %v", u, err)
				}
				if !res.Presigned {
					t.Fatal("not reported as presigned")
				}
			}
		})
	}
}

// AWS's published examples (the IAM ListUsers example of the SigV4
// documentation and cases of the SigV4 test suite), verified with their
// published signatures.
func TestVerifyAWSExamples(t *testing.T) {
	exampleSecret := "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	lk := func(_ context.Context, akid, _ string) (string, error) { return exampleSecret, nil }
	at := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	tests := []struct{ name, wire string }{
		{"iam ListUsers", "GET /?Action=ListUsers&Version=2010-05-08 HTTP/1.1\r\n" +
			"Host: iam.amazonaws.com\r\n" +
			"Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n" +
			"X-Amz-Date: 20150830T123600Z\r\n" +
			"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7\r\n\r\n"},
		{"get-vanilla", "GET / HTTP/1.1\r\n" +
			"Host: example.amazonaws.com\r\n" +
			"X-Amz-Date: 20150830T123600Z\r\n" +
			"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31\r\n\r\n"},
		{"get-vanilla-query-order-key-case", "GET /?Param2=value2&Param1=value1 HTTP/1.1\r\n" +
			"Host: example.amazonaws.com\r\n" +
			"X-Amz-Date: 20150830T123600Z\r\n" +
			"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body := fromWire(t, []byte(tt.wire))
			if _, err := Verify(context.Background(), r, body, VerifyOptions{Now: at, Lookup: lk}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// wantErr is an expected error: code and status in the JSON and Query
// dialects, AWS's message, and the operator's reason.
type wantErr struct {
	json, query      string
	jStatus, qStatus int
	message, reason  string
}

var (
	missingErr   = wantErr{"MissingAuthenticationTokenException", "MissingAuthenticationToken", 403, 403, "", "sig.missing"}
	mismatchErr  = wantErr{"InvalidSignatureException", "SignatureDoesNotMatch", 403, 403, msgMismatch, "sig.mismatch"}
	invalidKey   = wantErr{"UnrecognizedClientException", "InvalidClientTokenId", 403, 403, msgInvalidToken, ""}
	deniedErr    = wantErr{"AccessDeniedException", "AccessDenied", 403, 403, "", ""}
	expiredToken = wantErr{"ExpiredTokenException", "ExpiredToken", 400, 403, "The security token included in the request is expired", "token.expired"}
)

func incomplete(msg string) wantErr {
	return wantErr{"IncompleteSignatureException", "IncompleteSignature", 400, 400, msg, "sig.incomplete"}
}

func (w wantErr) with(message, reason string) wantErr {
	w.message, w.reason = message, reason
	return w
}

func checkErr(t *testing.T, err error, d Dialect, w wantErr) {
	t.Helper()
	var ae *awserr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want an *awserr.Error", err)
	}
	code, status := w.json, w.jStatus
	if d == Query {
		code, status = w.query, w.qStatus
	}
	msg := w.message
	if w.reason == "sig.missing" {
		msg = map[Dialect]string{JSON: "Missing Authentication Token", Query: "Request is missing Authentication Token"}[d]
	}
	if ae.Code != code || ae.Status != status || ae.Message != msg || ae.Reason != w.reason {
		t.Fatalf("got  %s %d %q [%s]\nwant %s %d %q [%s]\n(detail: %s)", ae.Code, ae.Status, ae.Message, ae.Reason, code, status, msg, w.reason, ae.Detail)
	}
	for _, secret := range []string{longTerm.SecretAccessKey, session.SecretAccessKey, session.SessionToken} {
		if strings.Contains(ae.Detail, secret) || strings.Contains(ae.Detail, rfc3986(secret)) {
			t.Fatalf("secret in detail: %s", ae.Detail)
		}
	}
}

func TestVerifyHeaderErrors(t *testing.T) {
	signedSTS := func(creds aws.Credentials, at time.Time) func(t *testing.T) (*http.Request, []byte) {
		return func(t *testing.T) (*http.Request, []byte) { return toServer(t, stsRequest(t, creds, at)) }
	}
	// edit signs an STS request, lets f change it on the client side, and
	// delivers it.
	edit := func(f func(*http.Request)) func(t *testing.T) (*http.Request, []byte) {
		return func(t *testing.T) (*http.Request, []byte) {
			req := stsRequest(t, session, t0)
			f(req)
			return toServer(t, req)
		}
	}
	setAuth := func(f func(string) string) func(t *testing.T) (*http.Request, []byte) {
		return edit(func(r *http.Request) { r.Header.Set("Authorization", f(r.Header.Get("Authorization"))) })
	}
	tests := []struct {
		name    string
		req     func(t *testing.T) (*http.Request, []byte)
		mod     func(*VerifyOptions)
		want    wantErr
		wantDet string // when set, the exact operator detail
	}{
		{name: "unsigned", req: func(t *testing.T) (*http.Request, []byte) {
			return toServer(t, clientRequest(t, "POST", "https://sts.amazonaws.com/", stsBody, nil))
		}, want: missingErr, wantDet: "POST / carries no SigV4 signature"},
		{name: "other scheme", req: edit(func(r *http.Request) { r.Header.Set("Authorization", "Bearer abc") }), want: missingErr},
		{name: "wrong secret", req: signedSTS(wrongSecret, t0), want: mismatchErr},
		{name: "body altered", req: func(t *testing.T) (*http.Request, []byte) {
			r, _ := toServer(t, stsRequest(t, session, t0))
			return r, []byte("Action=AssumeRole&Version=2011-06-15")
		}, want: mismatchErr},
		{name: "signed header altered", req: edit(func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }), want: mismatchErr},
		{name: "query added", req: edit(func(r *http.Request) { r.URL.RawQuery = "Action=AssumeRole" }), want: mismatchErr},
		{name: "path altered", req: edit(func(r *http.Request) { r.URL.Path = "/x" }), want: mismatchErr},
		{name: "method altered", req: edit(func(r *http.Request) { r.Method = "PUT" }), want: mismatchErr},
		{name: "host altered", req: edit(func(r *http.Request) { r.Host = "evil.example" }), want: mismatchErr},
		{name: "token swapped", req: edit(func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "other") }), want: invalidKey.with(msgInvalidToken, "test.unknown")},
		{name: "unsigned x-amz header", req: edit(func(r *http.Request) { r.Header.Set("X-Amz-Target", "Evil.Op") }),
			want: deniedErr.with("There were headers present in the request which were not signed", "sig.unsigned_header"), wantDet: "headers not covered by SignedHeaders: x-amz-target"},
		{name: "payload hash header mismatch", req: func(t *testing.T) (*http.Request, []byte) {
			req := clientRequest(t, "POST", "https://sts.amazonaws.com/", stsBody, http.Header{"X-Amz-Content-Sha256": {hashHex("other")}})
			sign(t, req, "other", session, "sts", "us-east-1", t0)
			return toServer(t, req)
		}, want: mismatchErr.with("The provided 'x-amz-content-sha256' header does not match what was computed.", "sig.payload_hash")},
		{name: "unsigned payload with a body", req: func(t *testing.T) (*http.Request, []byte) {
			req := clientRequest(t, "POST", "https://sts.amazonaws.com/", stsBody, http.Header{"X-Amz-Content-Sha256": {"UNSIGNED-PAYLOAD"}})
			if err := v4.NewSigner().SignHTTP(context.Background(), session, req, "UNSIGNED-PAYLOAD", "sts", "us-east-1", t0); err != nil {
				t.Fatal(err)
			}
			return toServer(t, req)
		}, want: mismatchErr.with("The provided 'x-amz-content-sha256' header does not match what was computed.", "sig.payload_hash")},
		{name: "host not signed", req: setAuth(func(a string) string {
			return strings.Replace(a, "SignedHeaders=content-length;content-type;host;", "SignedHeaders=content-length;content-type;", 1)
		}), want: incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")},
		{name: "empty signed header name", req: setAuth(func(a string) string { return strings.Replace(a, ";host;", ";;host;", 1) }),
			want: incomplete("SignedHeaders 'content-length;content-type;;host;x-amz-date;x-amz-security-token' has an empty header name.")},
		{name: "parts missing", req: setAuth(func(string) string { return "AWS4-HMAC-SHA256 SignedHeaders=host" }),
			want: incomplete("Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter.")},
		{name: "no date", req: edit(func(r *http.Request) { r.Header.Del("X-Amz-Date") }),
			want: incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")},
		{name: "bad Date header", req: edit(func(r *http.Request) { r.Header.Del("X-Amz-Date"); r.Header.Set("Date", "yesterday") }),
			want: incomplete("Date must be in RFC 1123 format. Got 'yesterday'.")},
		{name: "four-part credential", req: setAuth(func(a string) string { return strings.Replace(a, "/sts/aws4_request", "/aws4_request", 1) }),
			want: incomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" + session.AccessKeyID + "/20261122/us-east-1/aws4_request'")},
		{name: "terminator", req: setAuth(func(a string) string { return strings.Replace(a, "aws4_request", "aws5_request", 1) }),
			want: incomplete("Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'.")},
		{name: "empty region", req: setAuth(func(a string) string { return strings.Replace(a, "/us-east-1/", "//", 1) }),
			want: incomplete("Credential should be scoped to a valid region.")},
		{name: "algorithm", req: setAuth(func(a string) string { return strings.Replace(a, "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512", 1) }),
			want: incomplete("Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'.")},
		{name: "two Authorization headers", req: edit(func(r *http.Request) { r.Header.Add("Authorization", r.Header.Get("Authorization")) }),
			want: incomplete("The request must carry exactly one Authorization header.")},
		{name: "header and query auth", req: edit(func(r *http.Request) { r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256" }),
			want: incomplete("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")},
		{name: "malformed query", req: edit(func(r *http.Request) { r.URL.RawQuery = "a=%zz" }), want: incomplete("The query string is malformed.")},
		{name: "date format", req: edit(func(r *http.Request) { r.Header.Set("X-Amz-Date", "2026-11-22T10:00:00Z") }),
			want: incomplete("Date must be in ISO-8601 'basic format'. Got '2026-11-22T10:00:00Z'. See http://en.wikipedia.org/wiki/ISO_8601")},
		{name: "scope date", req: setAuth(func(a string) string { return strings.Replace(a, "/20261122/", "/20261121/", 1) }),
			want: mismatchErr.with("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261121' != '20261122', from 'x-amz-date'.", "sig.scope")},
		{name: "signed too long ago", req: signedSTS(session, t0.Add(-6*time.Minute)),
			want: mismatchErr.with("Signature expired: 20261122T095400Z is now earlier than 20261122T095500Z (20261122T100000Z - 5 min.)", "sig.skew")},
		{name: "signed in the future", req: signedSTS(session, t0.Add(6*time.Minute)),
			want: mismatchErr.with("Signature not yet current: 20261122T100600Z is still later than 20261122T100500Z (20261122T100000Z + 5 min.)", "sig.skew")},
		{name: "custom skew", req: signedSTS(session, t0.Add(-2*time.Minute)), mod: func(o *VerifyOptions) { o.Skew = time.Minute },
			want: mismatchErr.with("Signature expired: 20261122T095800Z is now earlier than 20261122T095900Z (20261122T100000Z - 1 min.)", "sig.skew")},
		{name: "wrong service", req: signedSTS(session, t0), mod: func(o *VerifyOptions) { o.Service = "rolesanywhere" },
			want: mismatchErr.with("Credential should be scoped to correct service: 'rolesanywhere'.", "sig.scope")},
		{name: "unknown key", req: signedSTS(unknown, t0), want: invalidKey.with(msgInvalidToken, "test.unknown")},
		{name: "temporary key without token", req: signedSTS(tokenless, t0), want: invalidKey.with(msgInvalidToken, "sig.missing_token")},
		{name: "lookup finds no secret", req: signedSTS(longTerm, t0), mod: func(o *VerifyOptions) {
			o.Lookup = func(context.Context, string, string) (string, error) { return "", nil }
		}, want: invalidKey.with(msgInvalidToken, "sig.unknown_key")},
		{name: "expired session", req: signedSTS(session, t0), mod: func(o *VerifyOptions) {
			o.Lookup = func(context.Context, string, string) (string, error) {
				return "", awserr.New("ExpiredToken", 403, "The security token included in the request is expired").Because("token.expired", "x")
			}
		}, want: expiredToken},
	}
	for _, tt := range tests {
		for _, d := range []Dialect{JSON, Query} {
			t.Run(tt.name+map[Dialect]string{JSON: "/json", Query: "/query"}[d], func(t *testing.T) {
				r, body := tt.req(t)
				o := opts(t0)
				o.Dialect = d
				if tt.mod != nil {
					tt.mod(&o)
				}
				res, err := Verify(context.Background(), r, body, o)
				if err == nil {
					t.Fatalf("verified: %+v", res)
				}
				checkErr(t, err, d, tt.want)
				if tt.wantDet != "" && awserr.As(err).Detail != tt.wantDet {
					t.Fatalf("detail %q, want %q", awserr.As(err).Detail, tt.wantDet)
				}
			})
		}
	}
}

func TestVerifySkewBoundaries(t *testing.T) {
	for _, at := range []time.Time{t0.Add(-5 * time.Minute), t0.Add(5 * time.Minute)} {
		r, body := toServer(t, stsRequest(t, session, at))
		if _, err := Verify(context.Background(), r, body, opts(t0)); err != nil {
			t.Fatalf("signed at %v: %v", at, err)
		}
	}
}

func TestVerifyLookupPlainError(t *testing.T) {
	r, body := toServer(t, stsRequest(t, session, t0))
	boom := errors.New("store down")
	o := opts(t0)
	o.Lookup = func(context.Context, string, string) (string, error) { return "", boom }
	if _, err := Verify(context.Background(), r, body, o); err != boom {
		t.Fatalf("err = %v, want the lookup's error unchanged", err)
	}
	o.Lookup = nil
	if _, err := Verify(context.Background(), r, body, o); awserr.As(err).Code != "InternalFailure" {
		t.Fatalf("nil lookup: %v", err)
	}
}

// presignedSTS presigns GetCallerIdentity with the given query extras and
// returns its URL.
func presignedSTS(t testing.TB, creds aws.Credentials, at time.Time, expires string) string {
	q := "Action=GetCallerIdentity&Version=2011-06-15"
	if expires != "" {
		q += "&X-Amz-Expires=" + expires
	}
	req := clientRequest(t, "GET", "https://sts.amazonaws.com/?"+q, "", nil)
	u, _ := presign(t, req, creds, "sts", "us-east-1", at)
	return u
}

func TestVerifyPresigned(t *testing.T) {
	get := func(t *testing.T, u string) (*http.Request, []byte) {
		return toServer(t, clientRequest(t, "GET", u, "", nil))
	}
	u60 := presignedSTS(t, session, t0, "60")
	okCases := []struct {
		name     string
		url      string
		now      time.Time
		lifetime time.Duration
	}{
		{"fresh", u60, t0, 0},
		{"last second", u60, t0.Add(60 * time.Second), 0},
		{"STS lifetime ignores X-Amz-Expires", u60, t0.Add(15 * time.Minute), 15 * time.Minute},
		{"X-Amz-Expires=0 with STS lifetime", presignedSTS(t, session, t0, "0"), t0.Add(10 * time.Minute), 15 * time.Minute},
		{"no X-Amz-Expires with STS lifetime", presignedSTS(t, session, t0, ""), t0.Add(10 * time.Minute), 15 * time.Minute},
		{"long-term key", presignedSTS(t, longTerm, t0, "900"), t0.Add(14 * time.Minute), 0},
	}
	for _, tt := range okCases {
		t.Run(tt.name, func(t *testing.T) {
			r, body := get(t, tt.url)
			o := opts(tt.now)
			o.PresignedLifetime = tt.lifetime
			res, err := Verify(context.Background(), r, body, o)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Presigned || res.Service != "sts" || !res.Time.Equal(t0) {
				t.Fatalf("result %+v", res)
			}
		})
	}

	replaceQuery := func(u, old, new string) string {
		if !strings.Contains(u, old) {
			t.Fatalf("%s not in %s", old, u)
		}
		return strings.Replace(u, old, new, 1)
	}
	sigParam := u60[strings.Index(u60, "&X-Amz-Signature="):]
	errCases := []struct {
		name     string
		url      string
		now      time.Time
		lifetime time.Duration
		want     wantErr
	}{
		{"expired", u60, t0.Add(61 * time.Second), 0, deniedErr.with("Request has expired", "sig.presign_expired")},
		{"expired STS lifetime", u60, t0.Add(15*time.Minute + time.Second), 15 * time.Minute, deniedErr.with("Request has expired", "sig.presign_expired")},
		{"not yet current", presignedSTS(t, session, t0.Add(6*time.Minute), "60"), t0, 0,
			mismatchErr.with("Signature not yet current: 20261122T100600Z is still later than 20261122T100500Z (20261122T100000Z + 5 min.)", "sig.skew")},
		{"tampered", replaceQuery(u60, "Action=GetCallerIdentity", "Action=GetSessionToken"), t0, 0, mismatchErr},
		{"signature altered", replaceQuery(u60, "X-Amz-Signature=", "X-Amz-Signature=0"), t0, 0, mismatchErr},
		{"token removed", replaceQuery(u60, "X-Amz-Security-Token=", "X-Amz-Ignored="), t0, 0, invalidKey.with(msgInvalidToken, "sig.missing_token")},
		{"no X-Amz-Expires", presignedSTS(t, session, t0, ""), t0, 0,
			incomplete("AWS query-string parameters must include 'X-Amz-Expires'. Re-examine the query-string parameters.")},
		{"X-Amz-Expires not a number", replaceQuery(u60, "X-Amz-Expires=60", "X-Amz-Expires=6O"), t0, 0, incomplete("X-Amz-Expires should be a number")},
		{"X-Amz-Expires negative", replaceQuery(u60, "X-Amz-Expires=60", "X-Amz-Expires=-1"), t0, 0, incomplete("X-Amz-Expires must be non-negative")},
		{"X-Amz-Expires over a week", replaceQuery(u60, "X-Amz-Expires=60", "X-Amz-Expires=604801"), t0, 0, incomplete("X-Amz-Expires must be less than a week (in seconds) that is 604800")},
		{"X-Amz-Expires zero", presignedSTS(t, session, t0, "0"), t0, 0, incomplete("X-Amz-Expires must be at least 1")},
		{"parameters missing", replaceQuery(replaceQuery(u60, "X-Amz-Credential=", "X-Credential="), sigParam, ""), t0, 0,
			incomplete("AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. Re-examine the query-string parameters.")},
		{"signature twice", u60 + sigParam, t0, 0, incomplete("The query-string parameter 'X-Amz-Signature' may appear only once. Re-examine the query-string parameters.")},
		{"algorithm", replaceQuery(u60, "X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-X509-RSA-SHA256"), t0, 0,
			incomplete("Unsupported AWS 'algorithm': 'AWS4-X509-RSA-SHA256'.")},
		{"host unsigned", replaceQuery(u60, "X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=x-amz-date"), t0, 0,
			incomplete("'Host' or ':authority' must be a 'SignedHeader' in X-Amz-SignedHeaders.")},
	}
	for _, tt := range errCases {
		for _, d := range []Dialect{JSON, Query} {
			t.Run(tt.name, func(t *testing.T) {
				r, body := get(t, tt.url)
				o := opts(tt.now)
				o.PresignedLifetime, o.Dialect = tt.lifetime, d
				res, err := Verify(context.Background(), r, body, o)
				if err == nil {
					t.Fatalf("verified: %+v", res)
				}
				checkErr(t, err, d, tt.want)
			})
		}
	}
}

// A signed x-amz-* header that the presigned URL does not carry must be
// sent along; an unsigned one is refused.
func TestVerifyPresignedHeaders(t *testing.T) {
	req := clientRequest(t, "GET", "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60", "",
		http.Header{"X-K8s-Aws-Id": {"cluster"}})
	u, h := presign(t, req, session, "sts", "us-east-1", t0)
	r, body := toServer(t, clientRequest(t, "GET", u, "", h))
	if _, err := Verify(context.Background(), r, body, opts(t0)); err != nil {
		t.Fatal(err)
	}
	h.Set("X-Amz-Meta-Extra", "1")
	r, body = toServer(t, clientRequest(t, "GET", u, "", h))
	_, err := Verify(context.Background(), r, body, opts(t0))
	checkErr(t, err, JSON, deniedErr.with("There were headers present in the request which were not signed", "sig.unsigned_header"))
}

func TestParseRequest(t *testing.T) {
	r, _ := toServer(t, clientRequest(t, "GET", "https://h.example/?a=b", "", nil))
	if c, ok, err := ParseRequest(r); ok || err != nil || c != (Credential{}) {
		t.Fatalf("unsigned: %+v %v %v", c, ok, err)
	}
	r, _ = toServer(t, clientRequest(t, "GET", presignedSTS(t, session, t0, "60"), "", nil))
	if c, ok, err := ParseRequest(r); !ok || err != nil || c != (Credential{session.AccessKeyID, "20261122", "us-east-1", "sts"}) {
		t.Fatalf("presigned: %+v %v %v", c, ok, err)
	}
	req := stsRequest(t, session, t0)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=a/b/c, SignedHeaders=host, Signature=00")
	r, _ = toServer(t, req)
	_, ok, err := ParseRequest(r)
	if ok {
		t.Fatal("malformed request reported as signed")
	}
	checkErr(t, err, JSON, incomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'a/b/c'"))
	checkErr(t, Query.Rewrite(err), Query, incomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'a/b/c'"))
}

func TestDialect(t *testing.T) {
	if DialectFor("sts") != Query || DialectFor("iam") != Query || DialectFor("rolesanywhere") != JSON || DialectFor("acm-pca") != JSON {
		t.Fatal("DialectFor")
	}
	plain := errors.New("x")
	if Query.Rewrite(plain) != plain {
		t.Fatal("plain errors must pass unchanged")
	}
	other := awserr.Validation("bad")
	if JSON.Rewrite(other) != other {
		t.Fatal("non-authentication errors must pass unchanged")
	}
	// awserr's JSON constructors become their Query equivalents.
	for _, tt := range []struct {
		in         *awserr.Error
		code, msg  string
		status     int
		jsonStatus int
	}{
		{awserr.MissingAuthenticationToken(), "MissingAuthenticationToken", "Request is missing Authentication Token", 403, 403},
		{awserr.InvalidClientTokenID(), "InvalidClientTokenId", msgInvalidToken, 403, 403},
		{awserr.SignatureDoesNotMatch(), "SignatureDoesNotMatch", msgMismatch, 403, 403},
	} {
		q := awserr.As(Query.Rewrite(tt.in.Because("r", "d")))
		if q.Code != tt.code || q.Message != tt.msg || q.Status != tt.status || q.Reason != "r" || q.Detail != "d" {
			t.Fatalf("Query.Rewrite(%s) = %+v", tt.in.Code, q)
		}
		back := awserr.As(JSON.Rewrite(q))
		if back.Code != tt.in.Code || back.Message != tt.in.Message || back.Status != tt.jsonStatus {
			t.Fatalf("JSON.Rewrite(%s) = %+v", q.Code, back)
		}
	}
}

func TestKeyCache(t *testing.T) {
	c := NewKeyCache(2)
	r, body := toServer(t, stsRequest(t, session, t0))
	o := opts(t0)
	o.Keys = c
	for range 3 {
		if _, err := Verify(context.Background(), r, body, o); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.m) != 1 {
		t.Fatalf("cache holds %d keys", len(c.m))
	}
	cred := Credential{"A", "20261122", "r", "s"}
	for i := range 5 {
		cred.Region = string(rune('a' + i))
		if c.signingKey("secret", cred) != deriveKey("secret", cred) {
			t.Fatal("cached key differs")
		}
		if len(c.m) > 2 {
			t.Fatalf("cache grew to %d", len(c.m))
		}
	}
	if NewKeyCache(0).max != 1 {
		t.Fatal("max not clamped")
	}
}

func TestRFC3986(t *testing.T) {
	for in, want := range map[string]string{
		"":                "",
		"AZaz09-_.~":      "AZaz09-_.~",
		" +*/=&?%!'()":    "%20%2B%2A%2F%3D%26%3F%25%21%27%28%29",
		"é€":              "%C3%A9%E2%82%AC",
		"arn:aws:iam::1:": "arn%3Aaws%3Aiam%3A%3A1%3A",
	} {
		if got := rfc3986(in); got != want {
			t.Errorf("rfc3986(%q) = %q, want %q", in, got, want)
		}
	}
}
