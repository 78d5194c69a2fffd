// Package restjson is the HTTP plumbing shared by iamra's AWS restJson1
// APIs (rolesanywhere): the error envelope AWS SDKs decode, bounded and
// tolerant JSON request bodies, request ids and the authenticated caller
// carried in the request context, and a method-and-path router that
// answers unknown routes in AWS's shape instead of net/http's text.
//
// # Error envelope
//
// Every error carries the code three ways, because AWS clients disagree on
// where they look: the X-Amzn-ErrorType header (smithy, botocore), and
// "__type" plus "message" in a JSON body. Every response, success or not,
// carries x-amzn-RequestId, which links the client's error to the
// operator's log and audit record.
//
// # Request bodies
//
// DecodeBody follows what AWS's services do with restJson1 input: members
// the model does not know are ignored (newer clients may send them), an
// empty body is an empty structure, and anything that is not a JSON object
// of the right member types is a 400 SerializationException. A body larger
// than the caller's limit is a 413 RequestEntityTooLargeException. Bad
// input never produces a 5xx.
package restjson

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/iamra/iamra/awserr"
)

// Header names of the restJson1 protocol.
const (
	HeaderErrorType = "X-Amzn-ErrorType"
	HeaderRequestID = "x-amzn-RequestId"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	callerKey
	operationKey
)

// operation is a slot the server puts in the context before routing, so
// the handler that recognises the operation can name it for the metrics
// and logs written after it returns.
type operation struct{ name string }

// SetOperation names the operation being served ("CreateTrustAnchor"), if
// the context has a slot.
func SetOperation(ctx context.Context, name string) {
	if op, ok := ctx.Value(operationKey).(*operation); ok {
		op.name = name
	}
}

// WithRequestID returns ctx carrying the request id id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestID is the request id carried by ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// WithCaller returns ctx carrying the ARN of the authenticated caller. The
// server's SigV4 middleware sets it; APIs record it (a profile's createdBy,
// audit records).
func WithCaller(ctx context.Context, arn string) context.Context {
	return context.WithValue(ctx, callerKey, arn)
}

// Caller is the caller ARN carried by ctx, or "" for an unauthenticated
// context (tests, in-process bootstrap).
func Caller(ctx context.Context) string {
	arn, _ := ctx.Value(callerKey).(string)
	return arn
}

// errorBody is the restJson1 error document.
type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// WriteError sends err in AWS's restJson1 error envelope. Errors that are
// not *awserr.Error become a 500 InternalFailure with a generic message:
// their text is for the operator, not the client.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := awserr.As(err)
	h := w.Header()
	if id := RequestID(r.Context()); id != "" {
		h.Set(HeaderRequestID, id)
	}
	h.Set(HeaderErrorType, e.Code)
	WriteJSON(w, e.Status, errorBody{Type: e.Code, Message: e.Message})
}

// WriteJSON sends v as the JSON body with the given status. The request id
// header, when wanted, must already be set (WriteError and the APIs'
// handlers set it before anything is written).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := marshal(v)
	if err != nil {
		// Only a programming error gets here (the values are our own
		// types); the client still gets the AWS shape.
		status = http.StatusInternalServerError
		w.Header().Set(HeaderErrorType, "InternalFailure")
		body, _ = marshal(errorBody{Type: "InternalFailure", Message: "An internal error occurred."})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// marshal encodes v without HTML escaping: policy documents and PEM come
// back byte for byte as clients sent them.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
