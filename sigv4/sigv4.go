// Package sigv4 verifies AWS Signature Version 4 (HMAC-SHA256) requests:
// the admin control plane, IAM, STS and ACM PCA APIs that AWS SDKs and the
// AWS CLI sign with an access key.
//
// Both forms are accepted: the Authorization header, and presigned URLs
// (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
// X-Amz-SignedHeaders, X-Amz-Signature and X-Amz-Security-Token query
// parameters), including presigned GetCallerIdentity URLs with signed
// headers that are not in the URL, as EKS-style tokens carry them.
//
// The canonical request is rebuilt the way the AWS SDKs build it for
// non-S3 services: the already-escaped path is escaped a second time,
// query parameters are decoded, RFC 3986-encoded and sorted, headers are
// taken in SignedHeaders order with runs of spaces collapsed, and the
// payload hash is X-Amz-Content-Sha256 when sent, else the SHA-256 of the
// body (presigned requests included: SDK presigners for STS sign the empty
// body's hash). Signatures are compared in constant time.
//
// Errors are *awserr.Error values with AWS's messages; VerifyOptions.Dialect
// picks the codes of the caller's protocol (see Dialect), and each carries
// a Reason for the operator:
//
//	sig.missing         no SigV4 authentication at all
//	sig.incomplete      malformed Authorization header or query parameters
//	sig.scope           credential scope with the wrong date or service
//	sig.skew            X-Amz-Date too far from the server's clock
//	sig.presign_expired presigned URL past X-Amz-Expires
//	sig.unsigned_header an x-amz-* header that the signature does not cover
//	sig.payload_hash    X-Amz-Content-Sha256 that does not match the body
//	sig.missing_token   temporary (ASIA) access key without a session token
//	sig.unknown_key     SecretLookup found no secret
//	sig.mismatch        wrong signature
//
// plus whatever Reason the SecretLookup's errors carry (credentials.Open
// uses token.*).
package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iamra/iamra/awserr"
)

// Algorithm is the only signing algorithm this package verifies.
const Algorithm = "AWS4-HMAC-SHA256"

const (
	amzDateFormat   = "20060102T150405Z"
	unsignedPayload = "UNSIGNED-PAYLOAD"
	// maxPresignExpires is SigV4's limit on X-Amz-Expires: one week.
	maxPresignExpires = 604800
	// DefaultSkew is how far X-Amz-Date may be from the server's clock.
	DefaultSkew = 5 * time.Minute
	// emptySHA256 is the hex SHA-256 of an empty body.
	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// Credential is a request's credential scope:
// <AccessKeyID>/<Date>/<Region>/<Service>/aws4_request.
type Credential struct {
	AccessKeyID string
	Date        string // YYYYMMDD
	Region      string
	Service     string
}

// SecretLookup returns the secret access key for accessKeyID. sessionToken
// is the request's X-Amz-Security-Token ("" for long-term keys); the
// lookup must check that it belongs to accessKeyID (credentials.Open does).
// Errors should be *awserr.Error (InvalidClientTokenId for unknown keys,
// ExpiredToken for expired sessions); Verify rewrites their codes into the
// caller's dialect.
type SecretLookup func(ctx context.Context, accessKeyID, sessionToken string) (secret string, err error)

// VerifyOptions configures Verify.
type VerifyOptions struct {
	// Now is the server's time.
	Now time.Time
	// Skew is how far X-Amz-Date may be from Now; DefaultSkew when zero.
	Skew time.Duration
	// Lookup finds secrets. Required.
	Lookup SecretLookup
	// Dialect picks the error codes; JSON when zero.
	Dialect Dialect
	// Service, when set, is the only credential-scope service accepted
	// ("sts", "rolesanywhere", …).
	Service string
	// PresignedLifetime, when set, is how long presigned requests are
	// valid after X-Amz-Date, whatever their X-Amz-Expires says. AWS STS
	// behaves so with 15 minutes: it ignores X-Amz-Expires, and EKS-style
	// tokens are presigned with X-Amz-Expires=60 (older authenticators even
	// with 0) yet reused for 14 minutes. When zero, X-Amz-Expires (1 to
	// 604800 seconds) is required and enforced.
	PresignedLifetime time.Duration
	// Keys, when set, caches derived signing keys across requests.
	Keys *KeyCache
}

// Result describes a verified request.
type Result struct {
	Credential
	// SessionToken is the X-Amz-Security-Token ("" for long-term keys).
	SessionToken string
	// Presigned is true for query-string (presigned URL) authentication.
	Presigned bool
	// SignedHeaders are the header names the signature covers.
	SignedHeaders []string
	// Time is the request's signing time (X-Amz-Date).
	Time time.Time
}

// auth is what a request says about its own signature.
type auth struct {
	cred      Credential
	presigned bool
	signed    string // SignedHeaders as sent: names joined with ';'
	signature string
	amzDate   string // the timestamp as it goes into the string to sign
	dateFrom  string // "x-amz-date" or "date", for messages
	expires   string // X-Amz-Expires, presigned only
	token     string
	query     url.Values // parsed query; nil when the request has none
}

// ParseRequest reads the credential scope of a SigV4-HMAC request without
// verifying anything, so a router can pick the service. It returns
// ok=false and no error for a request without SigV4 authentication (no
// "AWS4-…" Authorization header, no X-Amz-Algorithm query parameter), and
// an IncompleteSignature error for a malformed one. Errors use the JSON
// dialect; Query.Rewrite converts them.
//
// Requests signed with another AWS4 algorithm (CreateSession's
// AWS4-X509-*) are reported as malformed: route them before calling this.
func ParseRequest(r *http.Request) (Credential, bool, error) {
	p := Parse(r)
	return p.Credential()
}

// Parsed is what ParseRequest reads from a request, kept so that
// VerifyParsed need not read the request a second time.
type Parsed struct {
	a      auth
	signed bool
	err    *awserr.Error
}

// Parse reads r's SigV4-HMAC authentication as ParseRequest does.
func Parse(r *http.Request) Parsed {
	a, ok, err := parseAuth(r, JSON)
	return Parsed{a: a, signed: ok, err: err}
}

// Credential returns what ParseRequest returns for the request.
func (p *Parsed) Credential() (Credential, bool, error) {
	if p.err != nil {
		return Credential{}, false, p.err
	}
	return p.a.cred, p.signed, nil
}

var presignParams = []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"}

func parseAuth(r *http.Request, d Dialect) (auth, bool, *awserr.Error) {
	var a auth
	if r.URL.RawQuery != "" {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return a, false, d.newError(famIncomplete, "The query string is malformed.", "sig.incomplete", "query string: %v", err)
		}
		a.query = q
	}
	authz := r.Header.Values("Authorization")
	hasHeader := len(authz) > 0 && strings.HasPrefix(authz[0], "AWS4-")
	hasQuery := false
	for _, p := range presignParams {
		if _, ok := a.query[p]; ok {
			hasQuery = true
		}
	}
	switch {
	case hasHeader && hasQuery:
		return a, false, d.newError(famIncomplete, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.",
			"sig.incomplete", "request has both an Authorization header and presigned query parameters")
	case hasHeader:
		if len(authz) > 1 {
			return a, false, d.newError(famIncomplete, "The request must carry exactly one Authorization header.", "sig.incomplete", "%d Authorization headers", len(authz))
		}
		return a, true, parseHeaderAuth(r, authz[0], &a, d)
	case hasQuery:
		a.presigned = true
		return a, true, parseQueryAuth(&a, d)
	}
	return a, false, nil
}

func parseHeaderAuth(r *http.Request, authz string, a *auth, d Dialect) *awserr.Error {
	alg, rest, _ := strings.Cut(authz, " ")
	if alg != Algorithm {
		return d.newError(famIncomplete, fmt.Sprintf("Unsupported AWS 'algorithm': '%s'.", alg), "sig.incomplete", "Authorization algorithm %q", alg)
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			cred, haveCred = v, true
		case "SignedHeaders":
			signed, haveSigned = v, true
		case "Signature":
			sig, haveSig = v, true
		}
	}
	var missing []string
	if !haveCred {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if !haveSig {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if !haveSigned {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if v := r.Header.Get("X-Amz-Date"); v != "" {
		a.amzDate, a.dateFrom = v, "x-amz-date"
	} else if v := r.Header.Get("Date"); v != "" {
		a.dateFrom = "date"
		t, err := http.ParseTime(v)
		if err != nil {
			return d.newError(famIncomplete, fmt.Sprintf("Date must be in RFC 1123 format. Got '%s'.", v), "sig.incomplete", "Date header %q", v)
		}
		a.amzDate = t.UTC().Format(amzDateFormat)
	} else {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) > 0 {
		return d.newError(famIncomplete, strings.Join(missing, " "), "sig.incomplete", "Authorization header lacks parts")
	}
	a.signature = sig
	a.token = r.Header.Get("X-Amz-Security-Token")
	return a.parseScope(cred, signed, "the AWS Authorization", d)
}

func parseQueryAuth(a *auth, d Dialect) *awserr.Error {
	var missing []string
	for _, p := range presignParams {
		switch len(a.query[p]) {
		case 0:
			missing = append(missing, "AWS query-string parameters must include '"+p+"'.")
		case 1:
		default:
			return d.newError(famIncomplete, fmt.Sprintf("The query-string parameter '%s' may appear only once. Re-examine the query-string parameters.", p),
				"sig.incomplete", "query parameter %s appears %d times", p, len(a.query[p]))
		}
	}
	if len(missing) > 0 {
		return d.newError(famIncomplete, strings.Join(missing, " ")+" Re-examine the query-string parameters.", "sig.incomplete", "presigned URL lacks parameters")
	}
	if alg := a.query.Get("X-Amz-Algorithm"); alg != Algorithm {
		return d.newError(famIncomplete, fmt.Sprintf("Unsupported AWS 'algorithm': '%s'.", alg), "sig.incomplete", "X-Amz-Algorithm %q", alg)
	}
	a.signature = a.query.Get("X-Amz-Signature")
	a.amzDate, a.dateFrom = a.query.Get("X-Amz-Date"), "x-amz-date"
	a.expires = a.query.Get("X-Amz-Expires")
	a.token = a.query.Get("X-Amz-Security-Token")
	return a.parseScope(a.query.Get("X-Amz-Credential"), a.query.Get("X-Amz-SignedHeaders"), "X-Amz-SignedHeaders", d)
}

// parseScope reads the Credential and SignedHeaders values, common to both
// forms.
func (a *auth) parseScope(cred, signed, where string, d Dialect) *awserr.Error {
	var parts [5]string
	if strings.Count(cred, "/") != len(parts)-1 {
		return d.newError(famIncomplete, fmt.Sprintf("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", cred),
			"sig.incomplete", "credential %q", cred)
	}
	rest := cred
	for i := range len(parts) - 1 {
		parts[i], rest, _ = strings.Cut(rest, "/")
	}
	parts[4] = rest
	if parts[4] != "aws4_request" {
		return d.newError(famIncomplete, fmt.Sprintf("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", parts[4]),
			"sig.incomplete", "credential %q", cred)
	}
	if parts[2] == "" {
		return d.newError(famIncomplete, "Credential should be scoped to a valid region.", "sig.incomplete", "credential %q", cred)
	}
	a.cred = Credential{AccessKeyID: parts[0], Date: parts[1], Region: parts[2], Service: parts[3]}
	a.signed = signed
	host := false
	for h := range strings.SplitSeq(signed, ";") {
		if h == "" {
			return d.newError(famIncomplete, fmt.Sprintf("SignedHeaders '%s' has an empty header name.", signed), "sig.incomplete", "SignedHeaders %q", signed)
		}
		host = host || h == "host"
	}
	if !host {
		return d.newError(famIncomplete, fmt.Sprintf("'Host' or ':authority' must be a 'SignedHeader' in %s.", where), "sig.incomplete", "SignedHeaders %q", signed)
	}
	return nil
}

// Verify checks the SigV4-HMAC signature of r, whose body the caller has
// already read (body; nil for none). It returns the verified scope, or an
// *awserr.Error in opts.Dialect.
func Verify(ctx context.Context, r *http.Request, body []byte, opts VerifyOptions) (*Result, error) {
	d := opts.Dialect
	if opts.Lookup == nil {
		return nil, awserr.Internal("sigv4: VerifyOptions.Lookup is nil")
	}
	a, ok, aerr := parseAuth(r, d)
	if aerr != nil {
		return nil, aerr
	}
	if !ok {
		return nil, d.newError(famMissing, d.missingMessage(), "sig.missing", "%s %s carries no SigV4 signature", r.Method, r.URL.Path)
	}
	return verify(ctx, r, body, &a, opts)
}

// VerifyParsed is Verify for the request r that p was parsed from (and
// that has not changed since), without reading its authentication again.
func VerifyParsed(ctx context.Context, r *http.Request, body []byte, p *Parsed, opts VerifyOptions) (*Result, error) {
	if p.err != nil || !p.signed || opts.Lookup == nil {
		// Verify words the refusal in opts' dialect.
		return Verify(ctx, r, body, opts)
	}
	return verify(ctx, r, body, &p.a, opts)
}

// verify checks the signature a request says it has.
func verify(ctx context.Context, r *http.Request, body []byte, a *auth, opts VerifyOptions) (*Result, error) {
	d := opts.Dialect
	skew := opts.Skew
	if skew <= 0 {
		skew = DefaultSkew
	}
	t, aerr := a.checkTime(opts.Now, skew, opts.PresignedLifetime, d)
	if aerr != nil {
		return nil, aerr
	}
	if opts.Service != "" && a.cred.Service != opts.Service {
		return nil, d.newError(famMismatch, fmt.Sprintf("Credential should be scoped to correct service: '%s'.", opts.Service),
			"sig.scope", "credential scope service %q", a.cred.Service)
	}
	if aerr := a.checkUnsignedHeaders(r, d); aerr != nil {
		return nil, aerr
	}
	var payloadSum [2 * sha256.Size]byte
	payloadHash, aerr := a.payloadHash(r, body, &payloadSum, d)
	if aerr != nil {
		return nil, aerr
	}
	if strings.HasPrefix(a.cred.AccessKeyID, "ASIA") && a.token == "" {
		return nil, d.newError(famInvalidKey, msgInvalidToken, "sig.missing_token", "temporary access key %s sent without X-Amz-Security-Token", a.cred.AccessKeyID)
	}
	secret, err := opts.Lookup(ctx, a.cred.AccessKeyID, a.token)
	if err != nil {
		return nil, d.Rewrite(err)
	}
	if secret == "" {
		return nil, d.newError(famInvalidKey, msgInvalidToken, "sig.unknown_key", "no secret for access key %s", a.cred.AccessKeyID)
	}

	key := opts.Keys.signingKey(secret, a.cred)
	// Room for the canonical request and the string to sign of a usual
	// call, so that neither reaches the heap.
	var scratch [1024]byte
	cr, toSign, ok := a.check(scratch[:0], r, r.Host, payloadHash, key)
	if !ok {
		canonical, sts := string(cr), string(toSign)
		// SDK presigners leave a default port in the URL they return while
		// signing the host without it (the header-signing path strips it
		// from the Host header too), so a request to host:443 may carry a
		// signature over plain host.
		if h, stripped := stripDefaultPort(r.Host); stripped {
			_, _, ok = a.check(scratch[:0], r, h, payloadHash, key)
		}
		if !ok {
			return nil, d.newError(famMismatch, msgMismatch, "sig.mismatch",
				"signature of %s does not match; the canonical request should have been %q and the string to sign %q",
				a.cred.AccessKeyID, redactToken(canonical, a.token), sts)
		}
	}
	return &Result{Credential: a.cred, SessionToken: a.token, Presigned: a.presigned, SignedHeaders: strings.Split(a.signed, ";"), Time: t}, nil
}

// check computes the signature over the request with host as the Host
// value and compares it with the one sent, in constant time. The
// canonical request and the string to sign it returns are appended to buf.
func (a *auth) check(buf []byte, r *http.Request, host string, payloadHash []byte, key [sha256.Size]byte) (canonical, toSign []byte, ok bool) {
	buf = appendCanonicalRequest(buf, r, a, host, payloadHash)
	canonical = buf
	toSign = appendStringToSign(buf[len(buf):], a, canonical)
	sig := hmacSHA256(key[:], toSign)
	var got, sent [2 * sha256.Size]byte
	hex.Encode(got[:], sig[:])
	if len(a.signature) != len(sent) {
		return canonical, toSign, false
	}
	copy(sent[:], a.signature)
	return canonical, toSign, hmac.Equal(got[:], sent[:])
}

// stripDefaultPort removes a trailing :443 or :80 from host.
func stripDefaultPort(host string) (string, bool) {
	for _, p := range []string{":443", ":80"} {
		if h, ok := strings.CutSuffix(host, p); ok && h != "" && !strings.HasSuffix(h, ":") {
			return h, true
		}
	}
	return host, false
}

// checkTime validates the signing time against the scope date and the
// server's clock.
func (a *auth) checkTime(now time.Time, skew, presignedLifetime time.Duration, d Dialect) (time.Time, *awserr.Error) {
	t, ok := parseAmzDate(a.amzDate)
	if !ok {
		return t, d.newError(famIncomplete, fmt.Sprintf("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", a.amzDate),
			"sig.incomplete", "%s %q", a.dateFrom, a.amzDate)
	}
	if a.cred.Date != a.amzDate[:8] {
		return t, d.newError(famMismatch, fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", a.cred.Date, a.amzDate[:8], a.dateFrom),
			"sig.scope", "credential scope date %q, %s %q", a.cred.Date, a.dateFrom, a.amzDate)
	}
	now = now.UTC()
	mins := int(skew / time.Minute)
	if t.After(now.Add(skew)) {
		return t, d.newError(famMismatch, fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %d min.)",
			a.amzDate, now.Add(skew).Format(amzDateFormat), now.Format(amzDateFormat), mins),
			"sig.skew", "request signed %v ahead of server time", t.Sub(now))
	}
	if !a.presigned {
		if t.Before(now.Add(-skew)) {
			return t, d.newError(famMismatch, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %d min.)",
				a.amzDate, now.Add(-skew).Format(amzDateFormat), now.Format(amzDateFormat), mins),
				"sig.skew", "request signed %v before server time", now.Sub(t))
		}
		return t, nil
	}
	lifetime := presignedLifetime
	if a.expires != "" || lifetime == 0 {
		n, err := strconv.ParseInt(a.expires, 10, 64)
		switch {
		case a.expires == "":
			return t, d.newError(famIncomplete, "AWS query-string parameters must include 'X-Amz-Expires'. Re-examine the query-string parameters.", "sig.incomplete", "presigned URL lacks X-Amz-Expires")
		case err != nil:
			return t, d.newError(famIncomplete, "X-Amz-Expires should be a number", "sig.incomplete", "X-Amz-Expires %q", a.expires)
		case n < 0:
			return t, d.newError(famIncomplete, "X-Amz-Expires must be non-negative", "sig.incomplete", "X-Amz-Expires %q", a.expires)
		case n > maxPresignExpires:
			return t, d.newError(famIncomplete, "X-Amz-Expires must be less than a week (in seconds) that is 604800", "sig.incomplete", "X-Amz-Expires %q", a.expires)
		case n == 0 && lifetime == 0:
			return t, d.newError(famIncomplete, "X-Amz-Expires must be at least 1", "sig.incomplete", "X-Amz-Expires %q", a.expires)
		}
		if lifetime == 0 {
			lifetime = time.Duration(n) * time.Second
		}
	}
	if deadline := t.Add(lifetime); now.After(deadline) {
		return t, d.newError(famDenied, "Request has expired", "sig.presign_expired",
			"presigned at %s, valid for %v, expired at %s", a.amzDate, lifetime, deadline.Format(amzDateFormat))
	}
	return t, nil
}

func parseAmzDate(s string) (time.Time, bool) {
	if len(s) != len(amzDateFormat) || s[8] != 'T' || s[15] != 'Z' {
		return time.Time{}, false
	}
	for i, c := range []byte(s) {
		if i != 8 && i != 15 && (c < '0' || c > '9') {
			return time.Time{}, false
		}
	}
	// time.Parse(amzDateFormat, s) without its general layout machinery:
	// the same fields with the same ranges (it refuses what time.Date
	// would normalise).
	num := func(from, to int) int {
		n := 0
		for _, c := range []byte(s[from:to]) {
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(0, 4), num(4, 6), num(6, 8)
	hour, minute, sec := num(9, 11), num(11, 13), num(13, 15)
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC), true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// checkUnsignedHeaders refuses x-amz-* headers outside the signature: they
// change what the request means (session token, payload hash, target) and
// could otherwise be added to a captured request.
func (a *auth) checkUnsignedHeaders(r *http.Request, d Dialect) *awserr.Error {
	var unsigned []string
	for name := range r.Header {
		if len(name) < 6 || !strings.EqualFold(name[:6], "x-amz-") {
			continue
		}
		signed := false
		for h := range strings.SplitSeq(a.signed, ";") {
			if isLower(name, h) {
				signed = true
				break
			}
		}
		if !signed {
			unsigned = append(unsigned, strings.ToLower(name))
		}
	}
	if len(unsigned) > 0 {
		slices.Sort(unsigned) // the same line for the same request
		return d.newError(famDenied, "There were headers present in the request which were not signed", "sig.unsigned_header",
			"headers not covered by SignedHeaders: %s", strings.Join(unsigned, ", "))
	}
	return nil
}

// payloadHash returns the payload hash that goes into the canonical
// request. A sent X-Amz-Content-Sha256 is used as is but must match the
// body, so it cannot vouch for a body the signature does not cover;
// UNSIGNED-PAYLOAD is accepted only without a body.
//
// The hash is written to sum, and the slice returned is sum's bytes.
func (a *auth) payloadHash(r *http.Request, body []byte, sum *[2 * sha256.Size]byte, d Dialect) ([]byte, *awserr.Error) {
	claimed := r.Header.Get("X-Amz-Content-Sha256")
	if claimed == "" && a.presigned {
		claimed = a.query.Get("X-Amz-Content-Sha256")
	}
	if len(body) == 0 {
		copy(sum[:], emptySHA256)
	} else {
		bin := sha256.Sum256(body)
		hex.Encode(sum[:], bin[:])
	}
	switch {
	case claimed == "", claimed == string(sum[:]):
		return sum[:], nil
	case claimed == unsignedPayload && len(body) == 0:
		return sum[:copy(sum[:], unsignedPayload)], nil
	}
	return nil, d.newError(famMismatch, "The provided 'x-amz-content-sha256' header does not match what was computed.", "sig.payload_hash",
		"X-Amz-Content-Sha256 %q, body of %d bytes hashes to %s", claimed, len(body), string(sum[:]))
}

// deriveKey computes the signing key: HMAC chain "AWS4"+secret → date →
// region → service → "aws4_request".
func deriveKey(secret string, c Credential) [sha256.Size]byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(c.Date))
	k = hmacSHA256(k[:], []byte(c.Region))
	k = hmacSHA256(k[:], []byte(c.Service))
	return hmacSHA256(k[:], []byte("aws4_request"))
}

// redactToken hides the session token in a canonical request shown to the
// operator: the token is a credential.
func redactToken(canonical, token string) string {
	if token == "" {
		return canonical
	}
	canonical = strings.ReplaceAll(canonical, token, "<redacted>")
	return strings.ReplaceAll(canonical, rfc3986(token), "<redacted>")
}
