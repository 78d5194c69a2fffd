package restjson

import (
	"context"
	"net/http"

	"github.com/iamra/iamra/awserr"
)

// UnknownOperation is the error for a method and path no operation has.
func UnknownOperation(r *http.Request) *awserr.Error {
	return awserr.New("UnknownOperationException", http.StatusNotFound, "The requested operation is not supported").
		Because(ReasonUnknownRoute, "no operation for %s %s", r.Method, r.URL.EscapedPath())
}

// Router dispatches on method and exact path with http.ServeMux patterns
// ("POST /trustanchors", "GET /trustanchor/{trustAnchorId}"). Requests no
// pattern matches, including a known path with another method, get
// UnknownOperationException in the error envelope rather than ServeMux's
// plain-text 404/405, which SDKs would report as an unparseable response.
type Router struct {
	mux *http.ServeMux
}

// NewRouter returns an empty Router.
func NewRouter() *Router { return &Router{mux: http.NewServeMux()} }

// HandleFunc registers h for pattern; it panics on an invalid or
// conflicting pattern, as http.ServeMux does (a programming error).
func (rt *Router) HandleFunc(pattern string, h http.HandlerFunc) {
	rt.mux.HandleFunc(pattern, h)
}

// ServeHTTP dispatches r.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := rt.mux.Handler(r); pattern == "" {
		WriteError(w, r, UnknownOperation(r))
		return
	}
	rt.mux.ServeHTTP(w, r)
}

// requestIDHeaderKey is HeaderRequestID as http.Header stores it, so that
// setting it needs no canonicalisation on every response.
const requestIDHeaderKey = "X-Amzn-Requestid"

// EnsureRequestID returns r with a request id in its context, keeping one
// an outer middleware already assigned and otherwise taking newID(), and
// sets the x-amzn-RequestId response header to it.
func EnsureRequestID(w http.ResponseWriter, r *http.Request, newID func() string) *http.Request {
	id := RequestID(r.Context())
	if id == "" {
		id = newID()
		r = r.WithContext(WithRequestID(r.Context(), id))
	}
	setRequestIDHeader(w.Header(), id, nil)
	return r
}

// setRequestIDHeader is h.Set(HeaderRequestID, id), leaving the header
// alone when an outer middleware already set it so. It stores value, a
// slice holding id that the caller may have at hand, or a new one.
func setRequestIDHeader(h http.Header, id string, value []string) {
	if v := h[requestIDHeaderKey]; len(v) == 1 && v[0] == id {
		return
	}
	if len(value) != 1 || value[0] != id {
		value = []string{id}
	}
	h[requestIDHeaderKey] = value
}

// RequestState is what a server learns about a request while serving it:
// its id, the operation its handler recognises and the authenticated
// caller. It sits in the request's context as one value, read by
// RequestID, SetOperation and Caller as if set with WithRequestID and
// WithCaller, so that a request whose middleware
// learns all three is copied (http.Request.WithContext) once instead of
// once for each.
type RequestState struct {
	context.Context
	id     string
	op     operation
	caller string
	// header is the x-amzn-RequestId header's value, allocated with
	// the state.
	header [1]string
}

// stateKey is the context key of a RequestState.
type stateKey struct{}

// BeginRequest returns r with a RequestState in its context, and the
// state. The request id is the one an outer middleware already assigned
// or else newID(); the x-amzn-RequestId response header is set to it.
func BeginRequest(w http.ResponseWriter, r *http.Request, newID func() string) (*http.Request, *RequestState) {
	ctx := r.Context()
	id := RequestID(ctx)
	if id == "" {
		id = newID()
	}
	st := &RequestState{Context: ctx, id: id, header: [1]string{id}}
	setRequestIDHeader(w.Header(), id, st.header[:])
	return r.WithContext(st), st
}

// StateOf returns the RequestState BeginRequest put in ctx, or nil.
func StateOf(ctx context.Context) *RequestState {
	st, _ := ctx.Value(stateKey{}).(*RequestState)
	return st
}

// Operation is the operation name the handler gave SetOperation, or "".
func (s *RequestState) Operation() string { return s.op.name }

// SetCaller records the ARN of the authenticated caller for the handlers
// the request goes to next, as WithCaller would. Call it before handing
// the request on, never while another goroutine may read the context.
func (s *RequestState) SetCaller(arn string) { s.caller = arn }

// Value answers for the keys of the values the state holds and asks the
// parent context for the others.
func (s *RequestState) Value(key any) any {
	switch key {
	case requestIDKey:
		return s.id
	case operationKey:
		return &s.op
	case stateKey{}:
		return s
	case callerKey:
		if s.caller != "" {
			return s.caller
		}
	}
	return s.Context.Value(key)
}
