package restjson

import (
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

// EnsureRequestID returns r with a request id in its context, keeping one
// an outer middleware already assigned and otherwise taking newID(), and
// sets the x-amzn-RequestId response header to it.
func EnsureRequestID(w http.ResponseWriter, r *http.Request, newID func() string) *http.Request {
	id := RequestID(r.Context())
	if id == "" {
		id = newID()
		r = r.WithContext(WithRequestID(r.Context(), id))
	}
	w.Header().Set(HeaderRequestID, id)
	return r
}
