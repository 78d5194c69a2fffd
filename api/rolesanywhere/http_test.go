package rolesanywhere

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/iamra/iamra/api/restjson"
)

// TestWireFormat drives the handler with raw HTTP: what no SDK would
// send, and the envelope details an SDK hides.
func TestWireFormat(t *testing.T) {
	e := newEnv(t)
	root := e.pki.Root("Wire Root")
	createBody, _ := json.Marshal(map[string]any{
		"name":    "wire",
		"source":  map[string]any{"sourceType": "CERTIFICATE_BUNDLE", "sourceData": map[string]any{"x509CertificateData": root.PEM()}},
		"unknown": map[string]any{"members": "are ignored"},
	})
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code, message            string // code "" = success
	}{
		{"create ignores unknown members", "POST", "/trustanchors", string(createBody), 201, "", ""},
		{"empty body", "POST", "/trustanchors", "", 400, "ValidationException",
			"2 validation errors detected: Value null at 'name' failed to satisfy constraint: Member must not be null; Value null at 'source' failed to satisfy constraint: Member must not be null"},
		{"null body", "POST", "/profiles", "null", 400, "ValidationException",
			"2 validation errors detected: Value null at 'name' failed to satisfy constraint: Member must not be null; Value null at 'roleArns' failed to satisfy constraint: Member must not be null"},
		{"malformed JSON", "POST", "/profiles", `{"name":`, 400, "SerializationException", "Invalid JSON: unexpected end of input"},
		{"wrong member type", "POST", "/profiles", `{"name":5}`, 400, "SerializationException", "Unexpected number at 'name': expected a string"},
		{"integer overflow", "POST", "/profiles", `{"name":"a","roleArns":[],"durationSeconds":99999999999}`, 400, "SerializationException",
			"Unexpected number 99999999999 at 'durationSeconds': expected an integer in range"},
		{"array body", "POST", "/crls", `[]`, 400, "SerializationException", "Expected a JSON object, found array"},
		{"trailing data", "POST", "/profiles", `{} {}`, 400, "SerializationException", "Unexpected data after the JSON document"},
		{"bad base64", "POST", "/crls", `{"crlData":"!!"}`, 400, "SerializationException", "Invalid JSON value: illegal base64 data at input byte 0"},
		{"empty blob", "POST", "/crls", `{"crlData":"","name":"n","trustAnchorArn":"arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/x"}`, 400, "ValidationException",
			"1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=0 cap=0]' at 'crlData' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"unknown route", "GET", "/nothing", "", 404, "UnknownOperationException", "The requested operation is not supported"},
		{"wrong method", "PUT", "/trustanchors", "{}", 404, "UnknownOperationException", "The requested operation is not supported"},
		{"upper-case id", "GET", "/profile/ABCDEF01-0000-4000-8000-000000000000", "", 400, "ValidationException",
			"1 validation error detected: Value 'ABCDEF01-0000-4000-8000-000000000000' at 'profileId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-f0-9]{8}-([a-z0-9]{4}-){3}[a-z0-9]{12}"},
		{"pageSize not a number", "GET", "/crls?pageSize=ten", "", 400, "SerializationException", "Invalid value for pageSize: 'ten' is not an integer"},
		{"empty nextToken", "GET", "/subjects?nextToken=", "", 400, "ValidationException",
			"1 validation error detected: Value '' at 'nextToken' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"delete mapping without field", "DELETE", "/profiles/00000000-0000-4000-8000-000000000000/mappings", "", 400, "ValidationException",
			"1 validation error detected: Value null at 'certificateField' failed to satisfy constraint: Member must not be null"},
		{"list tags without ARN", "GET", "/ListTagsForResource", "", 400, "ValidationException",
			"1 validation error detected: Value null at 'resourceArn' failed to satisfy constraint: Member must not be null"},
		{"too large", "POST", "/profiles", `{"name":"` + strings.Repeat("a", DefaultMaxBodyBytes) + `"}`, 413, "RequestEntityTooLargeException", "Request entity too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, e.srv.URL+tc.path, strings.NewReader(tc.body))
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, raw)
			}
			if resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
			}
			if id := resp.Header.Get("x-amzn-RequestId"); len(id) != 36 {
				t.Errorf("x-amzn-RequestId %q", id)
			}
			if tc.code == "" {
				return
			}
			var body struct{ Type, Message string }
			if err := json.Unmarshal(raw, &struct {
				Type    *string `json:"__type"`
				Message *string `json:"message"`
			}{&body.Type, &body.Message}); err != nil {
				t.Fatalf("error body %q: %v", raw, err)
			}
			if got := resp.Header.Get("X-Amzn-ErrorType"); got != tc.code || body.Type != tc.code {
				t.Errorf("code header %q body %q, want %q", got, body.Type, tc.code)
			}
			if body.Message != tc.message {
				t.Errorf("message\n got: %s\nwant: %s", body.Message, tc.message)
			}
		})
	}
}

// TestRequestIDFromContext: an id the server's middleware assigned is the
// one the client sees, and the one the operator's log names with the
// reason of the refusal.
func TestRequestIDFromContext(t *testing.T) {
	var log bytes.Buffer
	e := newEnv(t, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(&log, nil)) })
	req := httptest.NewRequest("GET", "/profile/nope", nil)
	req = req.WithContext(restjson.WithRequestID(req.Context(), "req-123"))
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != 400 || rec.Header().Get("x-amzn-RequestId") != "req-123" {
		t.Fatalf("status %d, request id %q", rec.Code, rec.Header().Get("x-amzn-RequestId"))
	}
	for _, want := range []string{"request_id=req-123", "operation=GetProfile", "code=ValidationException", "reason=validation.constraint"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log %q lacks %q", log.String(), want)
		}
	}
}
