package authz

import (
	"context"
	"encoding/base64"
	"testing"
)

// FuzzTokenRequest decodes arbitrary EKS-style tokens: an error or a GET
// GetCallerIdentity request, never a panic.
func FuzzTokenRequest(f *testing.F) {
	enc := func(u string) string { return TokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(u)) }
	f.Add(enc("https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"), "c")
	f.Add(enc("http://[::1]:8443/?Action=GetCallerIdentity"), "")
	f.Add(enc("https://u@h/?Action=GetCallerIdentity#frag"), "c")
	f.Add(TokenPrefix+"====", "c")
	f.Add("k8s-aws-v1.", "")
	f.Fuzz(func(t *testing.T, token, cluster string) {
		r, err := TokenRequest(context.Background(), token, cluster)
		if err != nil {
			return
		}
		if r.Method != "GET" || r.URL.Query().Get("Action") != "GetCallerIdentity" || r.URL.Host == "" {
			t.Fatalf("accepted %s %s", r.Method, r.URL)
		}
	})
}
