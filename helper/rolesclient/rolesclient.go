// Package rolesclient calls IAM Roles Anywhere CreateSession the way the
// official credential helper (aws_signing_helper v1.8.0) does, byte for
// byte: POST {endpoint}/sessions with the three ARNs in the query, a fixed
// JSON body, the amz-sdk-* headers and a SigV4-X509 signature.
//
// What it does better: every attempt re-reads the certificate and key and
// is signed afresh (so a rotation between attempts is used at once and the
// algorithm always follows the key), responses with missing credential
// fields are a clear error instead of a crash, and an AWS error comes back
// as an *Error that keeps AWS's type and message and adds a hint naming what
// to check (trust anchor region, clock skew, certificate validity,
// intermediates, profile roles, ...).
package rolesclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/helper/keysource"
	"github.com/iamra/iamra/sigv4x509"
)

// IdentitySource yields the signing identity; keysource.Source implements
// it. It is asked once per attempt.
type IdentitySource interface {
	Load(ctx context.Context) (*keysource.Identity, error)
}

// Input is one CreateSession call, in the official helper's terms.
type Input struct {
	TrustAnchorARN string
	ProfileARN     string
	RoleARN        string
	// DurationSeconds is sent as given (the official helper sends its
	// default, 3600, and does no range check; the server validates).
	DurationSeconds int
	// RoleSessionName is sent only when non-empty.
	RoleSessionName string
	// Region is the signing region; empty means the trust anchor ARN's.
	Region string
	// Endpoint is the base URL; empty means AWS_ENDPOINT_URL_ROLESANYWHERE,
	// AWS_ENDPOINT_URL, or the regional endpoint (see ResolveEndpoint).
	Endpoint string
	Identity IdentitySource
}

// Output holds the credentials of credentialSet[0].
type Output struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// Expiration is the server's string, verbatim, as credential_process
	// output carries it.
	Expiration string
	// ExpirationTime is Expiration parsed (RFC 3339).
	ExpirationTime time.Time

	AssumedRoleARN   string
	AssumedRoleID    string
	RoleARN          string
	SourceIdentity   string
	SubjectARN       string
	PackedPolicySize int
}

// Client sends CreateSession requests. The zero value is not usable; use
// New, then adjust fields before the first call.
type Client struct {
	HTTP *http.Client
	// Now is the clock used for X-Amz-Date.
	Now func() time.Time
	// Rand feeds invocation ids (UUID v4) and retry jitter.
	Rand io.Reader
	// Sleep waits between attempts.
	Sleep func(ctx context.Context, d time.Duration) error
	// Getenv reads AWS_ENDPOINT_URL*, AWS_USE_FIPS_ENDPOINT and
	// AWS_USE_DUALSTACK_ENDPOINT.
	Getenv func(string) string
	// UserAgent is sent unsigned; see UserAgent.
	UserAgent string
	// MaxAttempts is the number of tries, the SDK standard retryer's 3.
	MaxAttempts int
	// BaseBackoff is the backoff before attempt 2; it doubles per attempt
	// and is fully jittered, capped at 20 s, as the SDK's standard retryer.
	BaseBackoff time.Duration
	// Logf, when set, receives a debug trace of requests and responses
	// (--debug). Secrets are never passed to it.
	Logf func(format string, args ...any)
}

// DefaultVersion is the version reported after "CredHelper/": the official
// release whose behaviour iamra reproduces, with iamra's version as semver
// build metadata, so tools that parse the official User-Agent still see a
// CredHelper and a comparable version.
const DefaultVersion = "1.8.0+iamra"

// UserAgent formats the official helper's User-Agent,
// "CredHelper/<version> (<go version>; <GOOS>; <GOARCH>)".
func UserAgent(version string) string {
	return fmt.Sprintf("CredHelper/%s (%s; %s; %s)", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// New returns a client with real time, crypto randomness, os.Getenv and the
// official retry policy.
func New(httpClient *http.Client, version string) *Client {
	return &Client{
		HTTP:        httpClient,
		Now:         time.Now,
		Rand:        cryptoRand{},
		Sleep:       keysource.Sleep,
		Getenv:      os.Getenv,
		UserAgent:   UserAgent(version),
		MaxAttempts: 3,
		BaseBackoff: time.Second,
	}
}

const maxBackoff = 20 * time.Second

// maxResponse bounds the response body read; a credential set is ~2 KiB.
const maxResponse = 1 << 20

// CreateSession exchanges the identity for temporary credentials.
func (c *Client) CreateSession(ctx context.Context, in Input) (Output, error) {
	if in.Identity == nil {
		return Output{}, errors.New("rolesclient: Input.Identity is nil")
	}
	region, err := signingRegion(in)
	if err != nil {
		return Output{}, err
	}
	endpoint := in.Endpoint
	if endpoint == "" {
		endpoint = ResolveEndpoint(region, c.Getenv)
	}
	base, err := url.Parse(strings.TrimRight(endpoint, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return Output{}, fmt.Errorf("invalid endpoint %q: want https://host[:port][/path]", endpoint)
	}
	query := url.Values{"profileArn": {in.ProfileARN}, "roleArn": {in.RoleARN}, "trustAnchorArn": {in.TrustAnchorARN}}
	target := base.String() + "/sessions?" + query.Encode()
	body := requestBody(in.DurationSeconds, in.RoleSessionName)

	invocationID, err := uuidV4(c.Rand)
	if err != nil {
		return Output{}, fmt.Errorf("rolesclient: invocation id: %w", err)
	}
	maxAttempts := max(c.MaxAttempts, 1)
	call := &call{c: c, in: in, region: region, endpoint: base.String()}
	var last error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		if attempt > 1 {
			if err := c.Sleep(ctx, c.backoff(attempt)); err != nil {
				return Output{}, fmt.Errorf("%w (retry interrupted: %v)", last, err)
			}
		}
		out, retry, err := call.attempt(ctx, target, body, invocationID, attempt, maxAttempts)
		if err == nil {
			return out, nil
		}
		last = err
		if !retry || ctx.Err() != nil {
			return Output{}, err
		}
	}
	var e *Error
	if errors.As(last, &e) {
		e.Attempts = maxAttempts
	}
	return Output{}, last
}

// requestBody is the official body: fixed key order, roleSessionName only
// when set (smithy's serializer writes members in model order).
func requestBody(duration int, roleSessionName string) []byte {
	b := []byte(`{"durationSeconds":` + strconv.Itoa(duration))
	if roleSessionName != "" {
		name, _ := json.Marshal(roleSessionName)
		b = append(append(b, `,"roleSessionName":`...), name...)
	}
	return append(b, '}')
}

func signingRegion(in Input) (string, error) {
	ta, err := arn.Parse(in.TrustAnchorARN)
	if err != nil {
		return "", fmt.Errorf("invalid trust anchor ARN %q", in.TrustAnchorARN)
	}
	p, err := arn.Parse(in.ProfileARN)
	if err != nil {
		return "", fmt.Errorf("invalid profile ARN %q", in.ProfileARN)
	}
	if _, err := arn.Parse(in.RoleARN); err != nil {
		return "", fmt.Errorf("invalid role ARN %q", in.RoleARN)
	}
	if ta.Region != p.Region {
		// The official helper's check, with its message.
		return "", errors.New("trust anchor and profile regions don't match")
	}
	if in.Region != "" {
		return in.Region, nil
	}
	if ta.Region == "" {
		return "", fmt.Errorf("trust anchor ARN %q has no region; pass --region", in.TrustAnchorARN)
	}
	return ta.Region, nil
}

// ResolveEndpoint picks the base URL when --endpoint is not given, as the
// SDK does for the official helper: AWS_ENDPOINT_URL_ROLESANYWHERE, then
// AWS_ENDPOINT_URL (unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true), then
// https://rolesanywhere[-fips].<region>.<domain>, with the dual-stack
// domain under AWS_USE_DUALSTACK_ENDPOINT=true.
func ResolveEndpoint(region string, getenv func(string) string) string {
	if !strings.EqualFold(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		for _, v := range []string{"AWS_ENDPOINT_URL_ROLESANYWHERE", "AWS_ENDPOINT_URL"} {
			if e := getenv(v); e != "" {
				return e
			}
		}
	}
	host := "rolesanywhere"
	if strings.EqualFold(getenv("AWS_USE_FIPS_ENDPOINT"), "true") {
		host += "-fips"
	}
	domain := "amazonaws.com"
	dual := strings.EqualFold(getenv("AWS_USE_DUALSTACK_ENDPOINT"), "true")
	switch {
	case strings.HasPrefix(region, "cn-") && dual:
		domain = "api.amazonwebservices.com.cn"
	case strings.HasPrefix(region, "cn-"):
		domain = "amazonaws.com.cn"
	case dual:
		domain = "api.aws"
	}
	return "https://" + host + "." + region + "." + domain
}

// backoff is full jitter over an exponential base, as the SDK's standard
// retryer: uniform in [0, min(base·2^(attempt-2), 20 s)).
func (c *Client) backoff(attempt int) time.Duration {
	ceiling := c.BaseBackoff << (attempt - 2)
	if ceiling <= 0 || ceiling > maxBackoff {
		ceiling = maxBackoff
	}
	n, err := randInt(c.Rand, int64(ceiling))
	if err != nil {
		return ceiling / 2
	}
	return time.Duration(n)
}

func randInt(r io.Reader, n int64) (int64, error) {
	v, err := randBig(r, big.NewInt(n))
	if err != nil {
		return 0, err
	}
	return v.Int64(), nil
}

// uuidV4 formats 16 random bytes as an RFC 9562 version 4 UUID.
func uuidV4(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// call carries what every attempt of one CreateSession shares.
type call struct {
	c        *Client
	in       Input
	region   string
	endpoint string
}

// attempt sends one signed request. retry says whether another attempt may
// succeed.
func (k *call) attempt(ctx context.Context, target string, body []byte, invocationID string, n, maxN int) (Output, bool, error) {
	c := k.c
	id, err := k.in.Identity.Load(ctx)
	if err != nil {
		return Output{}, false, fmt.Errorf("loading certificate and key: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Output{}, false, fmt.Errorf("rolesclient: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Amz-Sdk-Invocation-Id", invocationID)
	req.Header.Set("Amz-Sdk-Request", fmt.Sprintf("attempt=%d; max=%d", n, maxN))
	now := c.Now()
	if err := sigv4x509.Sign(req, body, sigv4x509.SignInput{
		Certificate: id.Certificate, Chain: id.Chain, Signer: id.Signer, Region: k.region, Time: now, Rand: c.Rand,
	}); err != nil {
		return Output{}, false, err
	}
	req.Header.Set("User-Agent", c.UserAgent) // unsigned, as in the official helper
	c.debugRequest(req, n)

	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Output{}, true, &Error{Endpoint: k.endpoint, Transport: err, Hint: transportHint(err, k.endpoint)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return Output{}, true, &Error{Endpoint: k.endpoint, StatusCode: resp.StatusCode, Transport: err, Hint: transportHint(err, k.endpoint)}
	}
	c.debugResponse(resp)
	if resp.StatusCode/100 == 2 {
		if len(data) > maxResponse {
			return Output{}, false, fmt.Errorf("CreateSession response larger than %d bytes", maxResponse)
		}
		out, err := ParseResponse(data)
		return out, false, err
	}
	e := parseError(resp, data)
	e.Endpoint = k.endpoint
	e.Hint = hint(e, hintContext{in: k.in, region: k.region, endpoint: k.endpoint, id: id, now: now, serverDate: resp.Header.Get("Date")})
	return Output{}, e.retryable(), e
}

func (c *Client) debugRequest(req *http.Request, n int) {
	if c.Logf == nil {
		return
	}
	c.Logf("CreateSession attempt %d: %s %s", n, req.Method, req.URL)
	for _, h := range []string{"Host", "Amz-Sdk-Invocation-Id", "Amz-Sdk-Request", "X-Amz-Date", "Authorization", "User-Agent"} {
		v := req.Header.Get(h)
		if h == "Host" {
			v = req.URL.Host
		}
		c.Logf("  %s: %s", h, v)
	}
}

func (c *Client) debugResponse(resp *http.Response) {
	if c.Logf == nil {
		return
	}
	// The body carries the secret key and session token: never logged.
	c.Logf("CreateSession response: %s %s, x-amzn-RequestId: %s, X-Amzn-ErrorType: %s",
		resp.Proto, resp.Status, resp.Header.Get("X-Amzn-Requestid"), resp.Header.Get("X-Amzn-Errortype"))
}
