package sigv4

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/iamra/iamra/awserr"
)

// Dialect selects the error codes of a protocol family. AWS names the same
// authentication failure differently depending on the API's protocol:
// awsQuery services (STS, IAM) say "SignatureDoesNotMatch", JSON services
// (rolesanywhere's restJson1, ACM PCA's awsJson1.1) say
// "InvalidSignatureException".
//
// Every error from this package carries a stable Reason ("sig.mismatch",
// "sig.skew", …), so callers may also map errors themselves.
type Dialect uint8

const (
	// JSON is the dialect of restJson1 and awsJson services (rolesanywhere,
	// acm-pca). It is the zero value.
	JSON Dialect = iota
	// Query is the dialect of awsQuery services (sts, iam).
	Query
)

// DialectFor returns the dialect of the AWS service with the given signing
// name: Query for "sts" and "iam", JSON otherwise.
func DialectFor(service string) Dialect {
	switch service {
	case "sts", "iam":
		return Query
	}
	return JSON
}

// family is one authentication failure with its code in each dialect.
type family struct {
	query, json             string
	queryStatus, jsonStatus int
}

var (
	famMissing    = family{"MissingAuthenticationToken", "MissingAuthenticationTokenException", http.StatusForbidden, http.StatusForbidden}
	famIncomplete = family{"IncompleteSignature", "IncompleteSignatureException", http.StatusBadRequest, http.StatusBadRequest}
	famInvalidKey = family{"InvalidClientTokenId", "UnrecognizedClientException", http.StatusForbidden, http.StatusForbidden}
	famMismatch   = family{"SignatureDoesNotMatch", "InvalidSignatureException", http.StatusForbidden, http.StatusForbidden}
	// STS answers ExpiredToken with 403 on its Query API; JSON services
	// model ExpiredTokenException as a 400.
	famExpiredToken = family{"ExpiredToken", "ExpiredTokenException", http.StatusForbidden, http.StatusBadRequest}
	famDenied       = family{"AccessDenied", "AccessDeniedException", http.StatusForbidden, http.StatusForbidden}
)

var families = []family{famMissing, famIncomplete, famInvalidKey, famMismatch, famExpiredToken, famDenied}

// The missing-token message differs too: API Gateway-style JSON services
// say "Missing Authentication Token", Query services "Request is missing
// Authentication Token".
const (
	msgMissingJSON  = "Missing Authentication Token"
	msgMissingQuery = "Request is missing Authentication Token"
	msgMismatch     = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgInvalidToken = "The security token included in the request is invalid."
)

func (f family) in(d Dialect) (string, int) {
	if d == Query {
		return f.query, f.queryStatus
	}
	return f.json, f.jsonStatus
}

func (d Dialect) newError(f family, msg, reason, format string, args ...any) *awserr.Error {
	code, status := f.in(d)
	return &awserr.Error{Code: code, Status: status, Message: msg, Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// Rewrite re-expresses an authentication error in d's codes and statuses:
// an *awserr.Error whose code is one of the authentication codes of either
// dialect (as returned by this package, by a SecretLookup, or by
// credentials.Open) is copied with d's code; any other error is returned
// unchanged.
func (d Dialect) Rewrite(err error) error {
	var e *awserr.Error
	if !errors.As(err, &e) {
		return err
	}
	for _, f := range families {
		if e.Code != f.query && e.Code != f.json {
			continue
		}
		c := *e
		c.Code, c.Status = f.in(d)
		if f == famMissing && (c.Message == msgMissingJSON || c.Message == msgMissingQuery) {
			c.Message = d.missingMessage()
		}
		return &c
	}
	return err
}

func (d Dialect) missingMessage() string {
	if d == Query {
		return msgMissingQuery
	}
	return msgMissingJSON
}
