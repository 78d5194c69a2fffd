package rolesclient_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"

	"github.com/iamra/iamra/helper/keysource"
	kt "github.com/iamra/iamra/helper/keysource/keysourcetest"
	"github.com/iamra/iamra/helper/rolesclient"
	"github.com/iamra/iamra/helper/rolesclient/rolesclienttest"
	"github.com/iamra/iamra/sigv4x509"
)

const (
	taARN      = "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/a1b2c3d4-0000-1111-2222-333344445555"
	profileARN = "arn:aws:rolesanywhere:us-east-1:123456789012:profile/p1b2c3d4-0000-1111-2222-333344445555"
	roleARN    = "arn:aws:iam::123456789012:role/test-role"
)

// conformance is the directory of the captured official requests, read in
// place (never copied into the repository).
const conformance = "../../../shared/conformance/createsession"

func conformanceFile(t *testing.T, name, sha string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(conformance, name))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("conformance vectors not found at %s (they live outside the repository, in /work/shared)", conformance)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sha {
		t.Fatalf("%s has SHA-256 %x, want %s: the file was altered", name, got, sha)
	}
	return b
}

// staticIdentity always returns one identity and counts loads.
type staticIdentity struct {
	mu    sync.Mutex
	ids   []*keysource.Identity // returned in turn, the last one repeatedly
	loads int
}

func (s *staticIdentity) Load(context.Context) (*keysource.Identity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.ids[min(s.loads, len(s.ids)-1)]
	s.loads++
	return id, nil
}

func newIdentity(t *testing.T, pki *kt.PKI, ec bool, serial int64) *keysource.Identity {
	t.Helper()
	if ec {
		k := kt.ECKey(t)
		return &keysource.Identity{Certificate: pki.Issue(t, k.Public(), serial, "workload-ec"), Signer: k}
	}
	k := kt.RSAKey(t)
	return &keysource.Identity{Certificate: pki.Issue(t, k.Public(), serial, "workload-rsa"), Signer: k}
}

var (
	ok201    = rolesclienttest.OK
	awsError = rolesclienttest.AWSError
)

func newServer(t *testing.T, tls bool, respond rolesclienttest.Responder) *rolesclienttest.Server {
	return rolesclienttest.New(t, tls, respond)
}

// testClient returns a client with a fixed clock, deterministic randomness
// and no real sleeping; sleeps records the backoffs asked for.
func testClient(httpClient *http.Client, now time.Time, sleeps *[]time.Duration) *rolesclient.Client {
	c := rolesclient.New(httpClient, "1.8.0")
	c.Now = func() time.Time { return now }
	c.Rand = bytes.NewReader(bytes.Repeat([]byte{0x5a}, 4096))
	c.Getenv = func(string) string { return "" }
	c.Sleep = func(_ context.Context, d time.Duration) error {
		if sleeps != nil {
			*sleeps = append(*sleeps, d)
		}
		return nil
	}
	return c
}

// TestConformanceRSA replays the official helper's captured RSA request:
// same date, ARNs, body, Host and amz-sdk values must give the identical
// Authorization header, and every signed header byte for byte.
func TestConformanceRSA(t *testing.T) {
	raw := conformanceFile(t, "request-rsa.http", "c0076b27c28e6b223ceabd1786a6c8da2877ab139fbde60f96bf7ea2d226fe38")
	want, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	wantBody, _ := io.ReadAll(want.Body)
	date, err := time.Parse(sigv4x509.DateLayout, want.Header.Get("X-Amz-Date"))
	if err != nil {
		t.Fatal(err)
	}
	invocation, err := hex.DecodeString(strings.ReplaceAll(want.Header.Get("Amz-Sdk-Invocation-Id"), "-", ""))
	if err != nil {
		t.Fatal(err)
	}
	src, err := keysource.Open(keysource.Options{
		Certificate: filepath.Join(conformance, "leaf-rsa.pem"),
		PrivateKey:  filepath.Join(conformance, "leaf-rsa-key.TEST-ONLY.pem"),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	srv := newServer(t, false, ok201("2026-11-22T14:28:57Z"))
	srv.Now = func() time.Time { return date }
	// Dial the stub whatever the URL says, so the request carries the
	// captured Host (127.0.0.1:18450), port included and signed.
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}}
	c := testClient(&http.Client{Transport: tr}, date, nil)
	c.Rand = bytes.NewReader(invocation)
	c.UserAgent = want.Header.Get("User-Agent")

	out, err := c.CreateSession(context.Background(), rolesclient.Input{
		TrustAnchorARN: taARN, ProfileARN: profileARN, RoleARN: roleARN,
		DurationSeconds: 3600, Endpoint: "http://" + want.Host, Identity: src,
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.AccessKeyID != "ASIAEXAMPLEEXAMPLE12" || out.Expiration != "2026-11-22T14:28:57Z" {
		t.Fatalf("output %+v", out)
	}
	if errs := srv.VerifyErrors(); len(errs) > 0 {
		t.Fatalf("server-side verification failed: %v", errs[0])
	}
	got := srv.Requests()[0]
	if got.Header.Get("Authorization") != want.Header.Get("Authorization") {
		t.Fatalf("Authorization\n got: %s\nwant: %s", got.Header.Get("Authorization"), want.Header.Get("Authorization"))
	}
	if got.RequestURI != want.RequestURI || got.Host != want.Host || !bytes.Equal(got.Body, wantBody) {
		t.Fatalf("request line/host/body differ:\n got %s %s %q\nwant %s %s %q", got.RequestURI, got.Host, got.Body, want.RequestURI, want.Host, wantBody)
	}
	for name := range want.Header {
		if g, w := got.Header.Values(name), want.Header.Values(name); strings.Join(g, ",") != strings.Join(w, ",") {
			t.Errorf("header %s = %q, want %q", name, g, w)
		}
	}
	for name := range got.Header {
		if _, ok := want.Header[name]; !ok {
			t.Errorf("extra header %s: %q", name, got.Header.Values(name))
		}
	}
}

// TestCreateSessionTLS: a real HTTPS server with HTTP/2, trusting its CA
// through the CA bundle option, verifying every request with
// sigv4x509.Verify; an ECDSA identity with an intermediate is sent with
// its chain.
func TestCreateSessionTLS(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	pki := kt.NewPKI(t)
	inter := pki.Intermediate(t, "Issuing CA")
	id := newIdentity(t, inter, true, 4242)
	id.Chain = append(id.Chain, inter.CA)

	srv := newServer(t, true, ok201("2030-01-01T00:00:00Z"))
	srv.Now = func() time.Time { return now }
	bundle := kt.Write(t, t.TempDir(), "ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	hc, err := rolesclient.NewHTTPClient(rolesclient.TransportOptions{CABundle: bundle})
	if err != nil {
		t.Fatal(err)
	}
	c := testClient(hc, now, nil)
	out, err := c.CreateSession(context.Background(), rolesclient.Input{
		TrustAnchorARN: taARN, ProfileARN: profileARN, RoleARN: roleARN, DurationSeconds: 900,
		RoleSessionName: "interop-test", Endpoint: srv.URL, Identity: &staticIdentity{ids: []*keysource.Identity{id}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if errs := srv.VerifyErrors(); len(errs) > 0 {
		t.Fatalf("server-side verification failed: %v", errs[0])
	}
	wantOut := rolesclient.Output{
		AccessKeyID: "ASIAEXAMPLEEXAMPLE12", SecretAccessKey: "secret/key+1<&>", SessionToken: "token==",
		Expiration: "2030-01-01T00:00:00Z", ExpirationTime: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
		AssumedRoleARN: "arn:aws:sts::123456789012:assumed-role/test-role/0123", AssumedRoleID: "AROAEXAMPLE:0123",
		RoleARN: roleARN, SourceIdentity: "CN=workload", SubjectARN: "arn:aws:rolesanywhere:us-east-1:123456789012:subject/s1", PackedPolicySize: 12,
	}
	if out != wantOut {
		t.Fatalf("output\n got %+v\nwant %+v", out, wantOut)
	}
	r := srv.Requests()[0]
	checks := map[string]string{
		"proto":            r.Proto,
		"body":             string(r.Body),
		"Content-Type":     r.Header.Get("Content-Type"),
		"Amz-Sdk-Request":  r.Header.Get("Amz-Sdk-Request"),
		"User-Agent":       r.Header.Get("User-Agent"),
		"X-Amz-X509-Chain": r.Header.Get("X-Amz-X509-Chain"),
		"algorithm":        strings.Fields(r.Header.Get("Authorization"))[0],
	}
	wantChecks := map[string]string{
		"proto":            "HTTP/2.0",
		"body":             `{"durationSeconds":900,"roleSessionName":"interop-test"}`,
		"Content-Type":     "application/json",
		"Amz-Sdk-Request":  "attempt=1; max=3",
		"User-Agent":       fmt.Sprintf("CredHelper/1.8.0 (%s; %s; %s)", runtime.Version(), runtime.GOOS, runtime.GOARCH),
		"X-Amz-X509-Chain": base64.StdEncoding.EncodeToString(inter.CA.Raw),
		"algorithm":        "AWS4-X509-ECDSA-SHA256",
	}
	for k, w := range wantChecks {
		if checks[k] != w {
			t.Errorf("%s = %q, want %q", k, checks[k], w)
		}
	}
	if !strings.HasPrefix(r.RequestURI, "/sessions?profileArn=arn%3Aaws%3Arolesanywhere%3Aus-east-1%3A123456789012%3Aprofile%2F") {
		t.Errorf("request URI %s", r.RequestURI)
	}
}

// TestRetry: a 500 then a 201 takes two attempts, each signed afresh with
// its own date, attempt number and freshly loaded identity (here rotated
// from RSA to ECDSA between the attempts), under one invocation id.
func TestRetry(t *testing.T) {
	pki := kt.NewPKI(t)
	ids := &staticIdentity{ids: []*keysource.Identity{newIdentity(t, pki, false, 1), newIdentity(t, pki, true, 2)}}
	srv := newServer(t, false, func(n int, w http.ResponseWriter) {
		if n == 1 {
			awsError(500, "InternalServerException", "boom", nil)(n, w)
			return
		}
		ok201("2030-01-01T00:00:00Z")(n, w)
	})
	t0 := time.Now().Truncate(time.Second)
	var sleeps []time.Duration
	c := testClient(srv.Client(), t0, &sleeps)
	tick := 0
	c.Now = func() time.Time { tick++; return t0.Add(time.Duration(tick) * time.Second) }
	if _, err := c.CreateSession(context.Background(), rolesclient.Input{
		TrustAnchorARN: taARN, ProfileARN: profileARN, RoleARN: roleARN, DurationSeconds: 3600, Endpoint: srv.URL, Identity: ids,
	}); err != nil {
		t.Fatal(err)
	}
	if len(srv.Requests()) != 2 || ids.loads != 2 || len(sleeps) != 1 {
		t.Fatalf("%d requests, %d identity loads, %d sleeps; want 2, 2, 1", len(srv.Requests()), ids.loads, len(sleeps))
	}
	reqs := srv.Requests()
	a, b := reqs[0].Header, reqs[1].Header
	if a.Get("X-Amz-Date") == b.Get("X-Amz-Date") {
		t.Errorf("both attempts dated %s", a.Get("X-Amz-Date"))
	}
	if a.Get("Amz-Sdk-Request") != "attempt=1; max=3" || b.Get("Amz-Sdk-Request") != "attempt=2; max=3" {
		t.Errorf("Amz-Sdk-Request %q then %q", a.Get("Amz-Sdk-Request"), b.Get("Amz-Sdk-Request"))
	}
	if a.Get("Amz-Sdk-Invocation-Id") != b.Get("Amz-Sdk-Invocation-Id") {
		t.Errorf("invocation id changed between attempts")
	}
	if !strings.HasPrefix(a.Get("Authorization"), "AWS4-X509-RSA-SHA256 Credential=1/") || !strings.HasPrefix(b.Get("Authorization"), "AWS4-X509-ECDSA-SHA256 Credential=2/") {
		t.Errorf("authorizations %q / %q", a.Get("Authorization"), b.Get("Authorization"))
	}
	if sleeps[0] < 0 || sleeps[0] >= time.Second {
		t.Errorf("first backoff %v, want in [0, 1s)", sleeps[0])
	}
}

func TestErrors(t *testing.T) {
	pki := kt.NewPKI(t)
	id := newIdentity(t, pki, false, 77)
	now := time.Now().UTC().Truncate(time.Second)
	skewed := http.Header{"Date": {now.Add(-10 * time.Minute).Format(http.TimeFormat)}}
	const prefix = "operation error RolesAnywhere: CreateSession, https response error StatusCode: "
	cases := []struct {
		name     string
		respond  func(int, http.ResponseWriter)
		region   string
		requests int
		want     string
	}{
		{"invalid signature with skewed clock", awsError(403, "AccessDeniedException", "Invalid signature", skewed), "", 1,
			prefix + "403, RequestID: req-123, AccessDeniedException: Invalid signature; hint: This machine's clock is 10m0s ahead of the server's (Date: " + skewed.Get("Date") +
				"); signatures are valid for 5 minutes, so fix the clock (NTP). Check that the clock is within 5 minutes of the server's (local time " + now.Format(time.RFC3339) +
				"), that the request is signed for the trust anchor's region (signed for us-east-1), and that no proxy rewrites the request's host, path or body."},
		{"invalid signature, wrong region", awsError(403, "AccessDeniedException", "Invalid signature", nil), "eu-west-1", 1,
			prefix + "403, RequestID: req-123, AccessDeniedException: Invalid signature; hint: The request was signed for region eu-west-1 but the trust anchor is in us-east-1: drop --region or set it to us-east-1. " +
				"Check that the clock is within 5 minutes of the server's (local time " + now.Format(time.RFC3339) + "), that the request is signed for the trust anchor's region (signed for eu-west-1), and that no proxy rewrites the request's host, path or body."},
		{"untrusted certificate", awsError(403, "AccessDeniedException", "Untrusted signing certificate", nil), "", 1,
			prefix + `403, RequestID: req-123, AccessDeniedException: Untrusted signing certificate; hint: The certificate (subject "CN=workload-rsa,O=Example", issuer "CN=Test Root CA", serial 77) does not chain to the trust anchor's CA. ` +
				"Check that --trust-anchor-arn names the trust anchor holding the issuing CA; if the certificate was issued by an intermediate CA, pass it with --intermediates (no chain was sent); and that the certificate is not revoked by a CRL imported into Roles Anywhere."},
		{"role not in profile", awsError(403, "AccessDeniedException", "Requested Role isn't one of those listed in the Profile.", nil), "", 1,
			prefix + "403, RequestID: req-123, AccessDeniedException: Requested Role isn't one of those listed in the Profile.; hint: Add " + roleARN + " to the profile's roleArns, or pass a --role-arn the profile lists."},
		{"trust anchor not found", awsError(403, "AccessDeniedException", "Specified Trust Anchor wasn't found.", nil), "", 1, ""},
		{"throttled, retried", awsError(400, "ThrottlingException", "Rate exceeded", nil), "", 3,
			prefix + "400, RequestID: req-123, ThrottlingException: Rate exceeded; hint: CreateSession is rate-limited (on AWS, 10 requests per second per account by default). Use `serve` or `update`, which cache credentials, instead of running credential-process for every command."},
		{"5xx exhausted", awsError(503, "ServiceUnavailableException", "down", nil), "", 3, ""},
		{"not an AWS endpoint", func(_ int, w http.ResponseWriter) {
			w.WriteHeader(404)
			io.WriteString(w, "<html>\n<h1>Not Found</h1></html>")
		}, "", 1, ""},
		{"missing session token", func(_ int, w http.ResponseWriter) {
			w.WriteHeader(201)
			io.WriteString(w, `{"credentialSet":[{"credentials":{"accessKeyId":"A","expiration":"2030-01-01T00:00:00Z","secretAccessKey":"S"}}]}`)
		}, "", 1, "CreateSession response is missing credentialSet[0].credentials.sessionToken"},
		{"empty credential set", func(_ int, w http.ResponseWriter) { w.WriteHeader(201); io.WriteString(w, `{"credentialSet":[]}`) }, "", 1,
			"unable to obtain temporary security credentials from CreateSession: the response's credentialSet is empty"},
		{"bad expiration", rolesclienttest.OK("tomorrow"), "", 1,
			`CreateSession response has an unparseable expiration "tomorrow" (want RFC 3339)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newServer(t, false, c.respond)
			cl := testClient(srv.Client(), now, nil)
			_, err := cl.CreateSession(context.Background(), rolesclient.Input{
				TrustAnchorARN: taARN, ProfileARN: profileARN, RoleARN: roleARN, DurationSeconds: 3600,
				Region: c.region, Endpoint: srv.URL, Identity: &staticIdentity{ids: []*keysource.Identity{id}},
			})
			if err == nil {
				t.Fatal("CreateSession succeeded")
			}
			if len(srv.Requests()) != c.requests {
				t.Errorf("%d requests, want %d", len(srv.Requests()), c.requests)
			}
			want := c.want
			switch c.name {
			case "trust anchor not found":
				want = prefix + "403, RequestID: req-123, AccessDeniedException: Specified Trust Anchor wasn't found.; hint: The trust anchor " + taARN +
					" does not exist (or is disabled) where the request went (" + srv.URL + "). Check --trust-anchor-arn and that the endpoint is in the ARN's region (us-east-1)."
			case "5xx exhausted":
				want = "operation error RolesAnywhere: CreateSession, exceeded maximum number of attempts, 3, https response error StatusCode: 503, RequestID: req-123, ServiceUnavailableException: down; hint: The service failed; try again later."
			case "not an AWS endpoint":
				want = prefix + "404, RequestID: , api error NotFound: <html> <h1>Not Found</h1></html>; hint: " + srv.URL +
					" does not look like a Roles Anywhere endpoint (a 404 without an AWS error type); check --endpoint and AWS_ENDPOINT_URL*."
			case "throttled, retried":
				want = strings.Replace(want, "CreateSession, https", "CreateSession, exceeded maximum number of attempts, 3, https", 1)
			}
			if err.Error() != want {
				t.Fatalf("error\n got: %s\nwant: %s", err, want)
			}
		})
	}
}

func TestTransportErrors(t *testing.T) {
	pki := kt.NewPKI(t)
	id := &staticIdentity{ids: []*keysource.Identity{newIdentity(t, pki, true, 9)}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	tlsSrv := newServer(t, true, ok201("2030-01-01T00:00:00Z"))
	untrusted, _ := rolesclient.NewHTTPClient(rolesclient.TransportOptions{})
	insecure, _ := rolesclient.NewHTTPClient(rolesclient.TransportOptions{NoVerifySSL: true})

	in := rolesclient.Input{TrustAnchorARN: taARN, ProfileARN: profileARN, RoleARN: roleARN, DurationSeconds: 3600, Identity: id}
	in.Endpoint = closed
	_, err = testClient(http.DefaultClient, time.Now(), nil).CreateSession(context.Background(), in)
	var e *rolesclient.Error
	if !errors.As(err, &e) || e.Attempts != 3 || !strings.HasSuffix(err.Error(), "; hint: Nothing listens at "+closed+"; check --endpoint and that the server runs.") {
		t.Errorf("connection refused: %v", err)
	}
	in.Endpoint = tlsSrv.URL
	_, err = testClient(untrusted, time.Now(), nil).CreateSession(context.Background(), in)
	if err == nil || !strings.HasSuffix(err.Error(), "; hint: The server's TLS certificate is not trusted: point AWS_CA_BUNDLE (which replaces the system roots) or SSL_CERT_FILE at its CA, or use --no-verify-ssl for tests only.") {
		t.Errorf("untrusted TLS: %v", err)
	}
	if _, err := testClient(insecure, time.Now(), nil).CreateSession(context.Background(), in); err != nil {
		t.Errorf("--no-verify-ssl: %v", err)
	}
}

func TestInputErrors(t *testing.T) {
	id := &staticIdentity{ids: []*keysource.Identity{{}}}
	cases := []struct {
		in   rolesclient.Input
		want string
	}{
		{rolesclient.Input{TrustAnchorARN: "x", ProfileARN: profileARN, RoleARN: roleARN, Identity: id}, `invalid trust anchor ARN "x"`},
		{rolesclient.Input{TrustAnchorARN: taARN, ProfileARN: strings.Replace(profileARN, "us-east-1", "eu-west-1", 1), RoleARN: roleARN, Identity: id}, "trust anchor and profile regions don't match"},
		{rolesclient.Input{TrustAnchorARN: taARN, ProfileARN: profileARN, RoleARN: "role", Identity: id}, `invalid role ARN "role"`},
		{rolesclient.Input{TrustAnchorARN: taARN, ProfileARN: profileARN, RoleARN: roleARN, Identity: id, Endpoint: "ftp://x"}, `invalid endpoint "ftp://x": want https://host[:port][/path]`},
		{rolesclient.Input{TrustAnchorARN: taARN, ProfileARN: profileARN, RoleARN: roleARN}, "rolesclient: Input.Identity is nil"},
	}
	for _, c := range cases {
		_, err := testClient(http.DefaultClient, time.Now(), nil).CreateSession(context.Background(), c.in)
		if err == nil || err.Error() != c.want {
			t.Errorf("error = %v, want %q", err, c.want)
		}
	}
}

func TestResolveEndpoint(t *testing.T) {
	cases := []struct {
		region string
		env    map[string]string
		want   string
	}{
		{"us-east-1", nil, "https://rolesanywhere.us-east-1.amazonaws.com"},
		{"us-gov-west-1", map[string]string{"AWS_USE_FIPS_ENDPOINT": "true"}, "https://rolesanywhere-fips.us-gov-west-1.amazonaws.com"},
		{"eu-west-1", map[string]string{"AWS_USE_DUALSTACK_ENDPOINT": "true"}, "https://rolesanywhere.eu-west-1.api.aws"},
		{"cn-north-1", nil, "https://rolesanywhere.cn-north-1.amazonaws.com.cn"},
		{"us-east-1", map[string]string{"AWS_ENDPOINT_URL": "https://generic", "AWS_ENDPOINT_URL_ROLESANYWHERE": "https://ra:8443"}, "https://ra:8443"},
		{"us-east-1", map[string]string{"AWS_ENDPOINT_URL": "https://generic"}, "https://generic"},
		{"us-east-1", map[string]string{"AWS_ENDPOINT_URL": "https://generic", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "https://rolesanywhere.us-east-1.amazonaws.com"},
	}
	for _, c := range cases {
		if got := rolesclient.ResolveEndpoint(c.region, func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("ResolveEndpoint(%s, %v) = %s, want %s", c.region, c.env, got, c.want)
		}
	}
}

// TestMLDSA: an ML-DSA-65 identity from a PKCS#8 file is signed with
// AWS4-X509-MLDSA and verifies at the server.
func TestMLDSA(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	pki := kt.NewPKI(t)
	pub, priv, err := mldsa65.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src, err := keysource.Open(keysource.Options{
		Certificate: kt.Write(t, dir, "c.pem", kt.CertPEM(pki.Issue(t, pub, 65, "pq"))),
		PrivateKey:  kt.Write(t, dir, "k.pem", kt.KeyPEM(t, priv)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	srv := newServer(t, false, ok201("2030-01-01T00:00:00Z"))
	srv.Now = func() time.Time { return now }
	if _, err := testClient(srv.Client(), now, nil).CreateSession(context.Background(), rolesclient.Input{
		TrustAnchorARN: taARN, ProfileARN: profileARN, RoleARN: roleARN, DurationSeconds: 3600, Endpoint: srv.URL, Identity: src,
	}); err != nil {
		t.Fatal(err)
	}
	if errs := srv.VerifyErrors(); len(errs) > 0 {
		t.Fatal(errs[0])
	}
	if a := srv.Requests()[0].Header.Get("Authorization"); !strings.HasPrefix(a, "AWS4-X509-MLDSA Credential=65/") {
		t.Fatalf("Authorization %s", a)
	}
}
