package restjson

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A RequestState answers RequestID, SetOperation and Caller as the
// separate context values would, in one copy of the request.
func TestBeginRequest(t *testing.T) {
	type otherKey struct{}
	r := httptest.NewRequest("POST", "/", nil)
	r = r.WithContext(context.WithValue(r.Context(), otherKey{}, "kept"))
	w := httptest.NewRecorder()
	r2, st := BeginRequest(w, r, func() string { return "rid-1" })
	ctx := r2.Context()
	if RequestID(ctx) != "rid-1" || w.Header().Get(HeaderRequestID) != "rid-1" || StateOf(ctx) != st {
		t.Fatalf("id %q, header %v", RequestID(ctx), w.Header())
	}
	if ctx.Value(otherKey{}) != "kept" || RequestID(r.Context()) != "" {
		t.Fatal("parent context values lost, or the original request changed")
	}
	if Caller(ctx) != "" || st.Operation() != "" {
		t.Fatalf("caller %q, operation %q before anything set them", Caller(ctx), st.Operation())
	}
	SetOperation(ctx, "DescribeCertificateAuthority")
	st.SetCaller("arn:aws:iam::123456789012:user/admin")
	if st.Operation() != "DescribeCertificateAuthority" || Caller(ctx) != "arn:aws:iam::123456789012:user/admin" {
		t.Fatalf("caller %q, operation %q", Caller(ctx), st.Operation())
	}
	// A handler further in keeps the id, and the header stays one value.
	r3 := EnsureRequestID(w, r2, func() string { t.Fatal("new id made"); return "" })
	if RequestID(r3.Context()) != "rid-1" || len(w.Header().Values(HeaderRequestID)) != 1 {
		t.Fatalf("header %v", w.Header())
	}
	// Values set on top of the state shadow it.
	inner := WithCaller(WithRequestID(ctx, "rid-2"), "arn:other")
	if RequestID(inner) != "rid-2" || Caller(inner) != "arn:other" || StateOf(inner) != st {
		t.Fatal("values on top of the state not read first")
	}
	if StateOf(context.Background()) != nil {
		t.Fatal("state in a plain context")
	}
}

// An id an outer middleware assigned is kept, and a header set by a
// handler before is replaced, as EnsureRequestID does.
func TestBeginRequestKeepsID(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(WithRequestID(r.Context(), "outer"))
	w := httptest.NewRecorder()
	w.Header()[http.CanonicalHeaderKey(HeaderRequestID)] = []string{"a", "b"}
	r, _ = BeginRequest(w, r, func() string { t.Fatal("new id made"); return "" })
	if RequestID(r.Context()) != "outer" || len(w.Header().Values(HeaderRequestID)) != 1 || w.Header().Get(HeaderRequestID) != "outer" {
		t.Fatalf("id %q, header %v", RequestID(r.Context()), w.Header())
	}
	if requestIDHeaderKey != http.CanonicalHeaderKey(HeaderRequestID) {
		t.Fatalf("requestIDHeaderKey %q", requestIDHeaderKey)
	}
}
