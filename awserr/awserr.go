// Package awserr is the error type every iamra API returns: an AWS error
// code and HTTP status for the client, and a reason plus detail for the
// operator.
//
// AWS keeps its rejections terse ("Untrusted signing certificate"); iamra
// sends the same text so clients behave identically, and carries the exact
// cause (Reason, a stable code listed in docs/errors.md, and Detail, a
// sentence naming the rule, certificate or field) to the log and the audit
// record, linked to the client's error by the request id.
package awserr

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error is an AWS-shaped error.
type Error struct {
	// Code is the AWS error type, e.g. "AccessDeniedException".
	Code string
	// Status is the HTTP status code sent with it.
	Status int
	// Message is what the client sees, AWS's text where AWS has one.
	Message string
	// Reason is a stable, dotted code for operators ("sig.skew",
	// "chain.untrusted"); docs/errors.md lists every one.
	Reason string
	// Detail explains this occurrence to the operator. It may name
	// certificates and fields, but never secrets.
	Detail string
}

func (e *Error) Error() string {
	s := e.Code + ": " + e.Message
	if e.Reason != "" {
		s += " [" + e.Reason + "]"
	}
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// Because returns a copy of e with the operator-facing reason and detail set.
func (e *Error) Because(reason, format string, args ...any) *Error {
	c := *e
	c.Reason = reason
	c.Detail = fmt.Sprintf(format, args...)
	return &c
}

// As extracts an *Error from err. Errors that are not AWS-shaped become
// InternalFailure, so nothing unexplained reaches a client as anything but
// a 500 with a generic message.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: "InternalFailure", Status: http.StatusInternalServerError,
		Message: "An internal error occurred.", Reason: "internal", Detail: err.Error()}
}

// New returns an error with the given code, status and client message.
func New(code string, status int, message string) *Error {
	return &Error{Code: code, Status: status, Message: message}
}

// Constructors for the codes the rolesanywhere API models, plus the common
// authentication errors every AWS service returns.
func AccessDenied(msg string) *Error { return New("AccessDeniedException", http.StatusForbidden, msg) }
func Validation(msg string) *Error   { return New("ValidationException", http.StatusBadRequest, msg) }
func NotFound(msg string) *Error {
	return New("ResourceNotFoundException", http.StatusNotFound, msg)
}
func TooManyTags(msg string) *Error { return New("TooManyTagsException", http.StatusBadRequest, msg) }
func MissingAuthenticationToken() *Error {
	return New("MissingAuthenticationTokenException", http.StatusForbidden, "Missing Authentication Token")
}
func InvalidClientTokenID() *Error {
	return New("UnrecognizedClientException", http.StatusForbidden, "The security token included in the request is invalid.")
}
func SignatureDoesNotMatch() *Error {
	return New("InvalidSignatureException", http.StatusForbidden,
		"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
}
func Internal(detail string) *Error {
	return &Error{Code: "InternalFailure", Status: http.StatusInternalServerError,
		Message: "An internal error occurred.", Reason: "internal", Detail: detail}
}

// Violation is one failed constraint, in the words of AWS's validation
// framework ("Coral"): Value '5' at 'durationSeconds' failed to satisfy
// constraint: Member must have value greater than or equal to 900.
type Violation struct {
	Value      string // the offending value as shown; "" prints "null"
	Null       bool   // the value was missing
	Field      string // the member path, e.g. "durationSeconds" or "roleArns.1.member"
	Constraint string // "Member must have value greater than or equal to 900"
}

func (v Violation) String() string {
	val := "'" + v.Value + "'"
	if v.Null {
		val = "null"
	}
	return "Value " + val + " at '" + v.Field + "' failed to satisfy constraint: " + v.Constraint
}

// Violations builds the ValidationException AWS sends for failed
// constraints: "1 validation error detected: …" or
// "N validation errors detected: …; …". It returns nil for none.
func Violations(vs ...Violation) *Error {
	if len(vs) == 0 {
		return nil
	}
	msgs := make([]string, len(vs))
	for i, v := range vs {
		msgs[i] = v.String()
	}
	noun := "errors"
	if len(vs) == 1 {
		noun = "error"
	}
	return Validation(fmt.Sprintf("%d validation %s detected: %s", len(vs), noun, strings.Join(msgs, "; "))).
		Because("validation.constraint", "%s", strings.Join(msgs, "; "))
}
