package rolesclient

import (
	"net/http"
	"testing"
)

// FuzzParseResponse: whatever a server answers, parsing returns
// credentials with all four fields set, or an error; never a panic.
func FuzzParseResponse(f *testing.F) {
	f.Add([]byte(`{"credentialSet":[{"credentials":{"accessKeyId":"A","expiration":"2030-01-01T00:00:00Z","secretAccessKey":"S","sessionToken":"T"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := ParseResponse(data)
		if err == nil && (out.AccessKeyID == "" || out.SecretAccessKey == "" || out.SessionToken == "" || out.ExpirationTime.IsZero()) {
			t.Fatalf("ParseResponse(%q) succeeded with a missing field: %+v", data, out)
		}
	})
}

// FuzzParseError: any error response (type header and body) gives an
// Error whose message formats without panicking.
func FuzzParseError(f *testing.F) {
	f.Add(403, "AccessDeniedException:http://internal", []byte(`{"__type":"x#AccessDeniedException","message":"Invalid signature"}`))
	f.Fuzz(func(t *testing.T, status int, errType string, body []byte) {
		resp := &http.Response{StatusCode: status, Header: http.Header{"X-Amzn-Errortype": {errType}}}
		_ = parseError(resp, body).Error()
	})
}
