package restjson

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/iamra/iamra/awserr"
)

func TestWriteError(t *testing.T) {
	for _, tc := range []struct {
		name       string
		err        error
		status     int
		code, body string
	}{
		{"aws error", awserr.NotFound("Resource not found").Because("r", "secret detail"), 404, "ResourceNotFoundException",
			`{"__type":"ResourceNotFoundException","message":"Resource not found"}`},
		{"plain error hides its text", errors.New("disk on fire"), 500, "InternalFailure",
			`{"__type":"InternalFailure","message":"An internal error occurred."}`},
		{"no HTML escaping", awserr.Validation("a <b> & c"), 400, "ValidationException",
			`{"__type":"ValidationException","message":"a <b> & c"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r = r.WithContext(WithRequestID(r.Context(), "rid-1"))
			w := httptest.NewRecorder()
			WriteError(w, r, tc.err)
			if w.Code != tc.status || w.Header().Get("X-Amzn-ErrorType") != tc.code ||
				w.Header().Get("x-amzn-RequestId") != "rid-1" || w.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("status %d headers %v", w.Code, w.Header())
			}
			if got := strings.TrimSpace(w.Body.String()); got != tc.body {
				t.Fatalf("body %s, want %s", got, tc.body)
			}
		})
	}
}

func TestWriteJSONUnencodable(t *testing.T) {
	w := httptest.NewRecorder()
	WriteJSON(w, 200, map[string]any{"f": func() {}})
	if w.Code != 500 || w.Header().Get("X-Amzn-ErrorType") != "InternalFailure" {
		t.Fatalf("status %d headers %v", w.Code, w.Header())
	}
}

type input struct {
	Name  *string  `json:"name"`
	Count *int32   `json:"count"`
	List  []string `json:"list"`
	Blob  []byte   `json:"blob"`
	Inner *struct {
		Flag *bool `json:"flag"`
	} `json:"inner"`
}

func TestDecodeBody(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		code, msg  string // "" = decodes
	}{
		{"empty", "", "", ""},
		{"whitespace", " \n\t", "", ""},
		{"null", "null", "", ""},
		{"unknown members", `{"name":"a","zzz":{"deep":[1,2]}}`, "", ""},
		{"syntax", `{"name":}`, "SerializationException", "Invalid JSON at offset 9: invalid character '}' looking for beginning of value"},
		{"truncated", `{"name":"a"`, "SerializationException", "Invalid JSON: unexpected end of input"},
		{"string for integer", `{"count":"5"}`, "SerializationException", "Unexpected string at 'count': expected an integer in range"},
		{"fraction for integer", `{"count":1.5}`, "SerializationException", "Unexpected number 1.5 at 'count': expected an integer in range"},
		{"object for list", `{"list":{}}`, "SerializationException", "Unexpected object at 'list': expected a list"},
		{"nested", `{"inner":{"flag":"yes"}}`, "SerializationException", "Unexpected string at 'inner.flag': expected a boolean"},
		{"top-level string", `"x"`, "SerializationException", "Expected a JSON object, found string"},
		{"trailing", `{}x`, "SerializationException", "Unexpected data after the JSON document"},
		{"two documents", `{}{}`, "SerializationException", "Unexpected data after the JSON document"},
		{"blob", `{"blob":"AAEC"}`, "", ""},
		{"bad blob", `{"blob":"A"}`, "SerializationException", "Invalid JSON value: illegal base64 data at input byte 0"},
		{"too large", `{"name":"` + strings.Repeat("x", 100) + `"}`, "RequestEntityTooLargeException", "Request entity too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
			var in input
			err := DecodeBody(r, 64, &in)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			e, ok := err.(*awserr.Error)
			if !ok || e.Code != tc.code || e.Message != tc.msg || e.Status >= 500 {
				t.Fatalf("error %#v, want %s %q", err, tc.code, tc.msg)
			}
		})
	}
}

func TestRouter(t *testing.T) {
	rt := NewRouter()
	rt.HandleFunc("GET /thing/{id}", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, 200, map[string]string{"id": r.PathValue("id")})
	})
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/thing/a%2Fb", 200, `{"id":"a/b"}`},
		{"POST", "/thing/a", 404, `{"__type":"UnknownOperationException","message":"The requested operation is not supported"}`},
		{"GET", "/thing", 404, `{"__type":"UnknownOperationException","message":"The requested operation is not supported"}`},
		{"GET", "/", 404, `{"__type":"UnknownOperationException","message":"The requested operation is not supported"}`},
	} {
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
		if w.Code != tc.status || strings.TrimSpace(w.Body.String()) != tc.body {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, w.Code, w.Body)
		}
	}
}

func TestContext(t *testing.T) {
	ctx := context.Background()
	if RequestID(ctx) != "" || Caller(ctx) != "" {
		t.Fatal("empty context has values")
	}
	ctx = WithCaller(WithRequestID(ctx, "r"), "arn:aws:iam::1:user/u")
	if RequestID(ctx) != "r" || Caller(ctx) != "arn:aws:iam::1:user/u" {
		t.Fatal("values lost")
	}

	w := httptest.NewRecorder()
	r := EnsureRequestID(w, httptest.NewRequest("GET", "/", nil), func() string { return "new" })
	if RequestID(r.Context()) != "new" || w.Header().Get("x-amzn-RequestId") != "new" {
		t.Fatal("no request id assigned")
	}
	w = httptest.NewRecorder()
	r = EnsureRequestID(w, r, func() string { return "other" })
	if RequestID(r.Context()) != "new" || w.Header().Get("x-amzn-RequestId") != "new" {
		t.Fatal("an assigned request id was replaced")
	}
}
