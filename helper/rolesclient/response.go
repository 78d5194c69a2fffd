package rolesclient

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"time"
)

type sessionResponse struct {
	CredentialSet []struct {
		AssumedRoleUser *struct {
			ARN           string `json:"arn"`
			AssumedRoleID string `json:"assumedRoleId"`
		} `json:"assumedRoleUser"`
		Credentials *struct {
			AccessKeyID     *string `json:"accessKeyId"`
			Expiration      *string `json:"expiration"`
			SecretAccessKey *string `json:"secretAccessKey"`
			SessionToken    *string `json:"sessionToken"`
		} `json:"credentials"`
		PackedPolicySize int    `json:"packedPolicySize"`
		RoleARN          string `json:"roleArn"`
		SourceIdentity   string `json:"sourceIdentity"`
	} `json:"credentialSet"`
	SubjectARN string `json:"subjectArn"`
}

// ParseResponse reads a successful CreateSession response body. All four
// credential fields of credentialSet[0] are required (the official helper
// dereferences them blindly and crashes when one is missing).
func ParseResponse(data []byte) (Output, error) {
	var r sessionResponse
	if err := json.Unmarshal(data, &r); err != nil {
		return Output{}, fmt.Errorf("CreateSession response is not valid JSON: %v", err)
	}
	if len(r.CredentialSet) == 0 {
		return Output{}, errors.New("unable to obtain temporary security credentials from CreateSession: the response's credentialSet is empty")
	}
	set := r.CredentialSet[0]
	if set.Credentials == nil {
		return Output{}, errors.New("CreateSession response is missing credentialSet[0].credentials")
	}
	cr := set.Credentials
	var missing []string
	for _, f := range []struct {
		name string
		v    *string
	}{{"accessKeyId", cr.AccessKeyID}, {"secretAccessKey", cr.SecretAccessKey}, {"sessionToken", cr.SessionToken}, {"expiration", cr.Expiration}} {
		if f.v == nil || *f.v == "" {
			missing = append(missing, "credentialSet[0].credentials."+f.name)
		}
	}
	if len(missing) > 0 {
		return Output{}, fmt.Errorf("CreateSession response is missing %s", strings.Join(missing, ", "))
	}
	exp, err := time.Parse(time.RFC3339, *cr.Expiration)
	if err != nil {
		return Output{}, fmt.Errorf("CreateSession response has an unparseable expiration %q (want RFC 3339)", *cr.Expiration)
	}
	out := Output{
		AccessKeyID: *cr.AccessKeyID, SecretAccessKey: *cr.SecretAccessKey, SessionToken: *cr.SessionToken,
		Expiration: *cr.Expiration, ExpirationTime: exp,
		RoleARN: set.RoleARN, SourceIdentity: set.SourceIdentity, SubjectARN: r.SubjectARN, PackedPolicySize: set.PackedPolicySize,
	}
	if u := set.AssumedRoleUser; u != nil {
		out.AssumedRoleARN, out.AssumedRoleID = u.ARN, u.AssumedRoleID
	}
	return out, nil
}

// Error is a failed CreateSession: an AWS error response, or a request
// that got no response.
type Error struct {
	// StatusCode is the HTTP status, 0 when no response arrived.
	StatusCode int
	// Code is AWS's error type ("AccessDeniedException"), from
	// X-Amzn-ErrorType or the body's __type.
	Code string
	// Message is AWS's message, verbatim.
	Message   string
	RequestID string
	Endpoint  string
	// Transport is the network or TLS error when there was no response.
	Transport error
	// Attempts is set when every attempt failed with a retryable error.
	Attempts int
	// Hint says what to check, in iamra's words; empty when there is
	// nothing specific to say.
	Hint string
}

// Error formats like the SDK error the official helper prints, then the
// hint:
//
//	operation error RolesAnywhere: CreateSession, https response error StatusCode: 403, RequestID: req-123, AccessDeniedException: Invalid signature; hint: ...
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("operation error RolesAnywhere: CreateSession, ")
	if e.Attempts > 1 {
		fmt.Fprintf(&b, "exceeded maximum number of attempts, %d, ", e.Attempts)
	}
	fmt.Fprintf(&b, "https response error StatusCode: %d, RequestID: %s, ", e.StatusCode, e.RequestID)
	switch {
	case e.Transport != nil:
		fmt.Fprintf(&b, "request send failed, %v", e.Transport)
	case e.Code != "":
		fmt.Fprintf(&b, "%s: %s", e.Code, e.Message)
	default:
		fmt.Fprintf(&b, "api error %s: %s", strings.ReplaceAll(http.StatusText(e.StatusCode), " ", ""), e.Message)
	}
	if e.Hint != "" {
		b.WriteString("; hint: " + e.Hint)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Transport }

var throttlingCodes = map[string]bool{
	"ThrottlingException": true, "Throttling": true, "ThrottledException": true, "RequestThrottledException": true,
	"TooManyRequestsException": true, "ProvisionedThroughputExceededException": true, "TransactionInProgressException": true,
	"RequestLimitExceeded": true, "BandwidthLimitExceeded": true, "LimitExceededException": true, "RequestThrottled": true,
	"SlowDown": true, "PriorRequestNotComplete": true, "EC2ThrottledException": true,
}

// retryable follows the SDK's standard retryer: no response, 5xx, 429 and
// throttling error codes.
func (e *Error) retryable() bool {
	return e.Transport != nil || e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests || throttlingCodes[e.Code]
}

// parseError reads an AWS REST-JSON error: type from X-Amzn-ErrorType
// (before any ':'), else the body's __type/code (after any '#'); message
// from the body's message/Message.
func parseError(resp *http.Response, data []byte) *Error {
	e := &Error{StatusCode: resp.StatusCode, RequestID: resp.Header.Get("X-Amzn-Requestid")}
	if e.RequestID == "" {
		e.RequestID = resp.Header.Get("X-Amz-Request-Id")
	}
	var body struct {
		Type     string `json:"__type"`
		Code     string `json:"code"`
		CodeUp   string `json:"Code"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	isJSON := json.Unmarshal(data, &body) == nil
	code := resp.Header.Get("X-Amzn-Errortype")
	for _, c := range []string{body.Type, body.Code, body.CodeUp} {
		if code == "" {
			code = c
		}
	}
	code, _, _ = strings.Cut(code, ":")
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	e.Code = strings.TrimSpace(code)
	e.Message = body.Message
	if e.Message == "" {
		e.Message = body.MessageU
	}
	if !isJSON && e.Message == "" {
		e.Message = printable(string(data), 200)
	}
	return e
}

// printable shortens s to n bytes of printable text for an error message.
func printable(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

type cryptoRand struct{}

func (cryptoRand) Read(p []byte) (int, error) { return rand.Read(p) }

// randBig returns a uniform-enough value in [0, n) from r; it is used for
// jitter only.
func randBig(r io.Reader, n *big.Int) (*big.Int, error) {
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return nil, err
	}
	v := new(big.Int).SetUint64(binary.BigEndian.Uint64(b[:]))
	return v.Mod(v, n), nil
}
