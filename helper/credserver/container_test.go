package credserver_test

import (
	"strings"
	"testing"

	"github.com/iamra/iamra/helper/credserver"
)

func TestContainerEndpoint(t *testing.T) {
	dir := t.TempDir()
	tokenFile := writeToken(t, dir, "s3cret\n") // a trailing newline is trimmed
	f := newFixture(t, fixtureOpts{fakeClock: true, routes: []string{"default", "second"}, cfg: credserver.Config{AuthTokenFile: tokenFile}})
	def, second := f.fetchers["default"].Mint(1), f.fetchers["second"].Mint(1)
	for _, tc := range []struct {
		name, path, auth string
		code             int
		body             string
	}{
		{"default route", "/v1/credentials", "s3cret", 200,
			`{"AccessKeyId":"` + def.AccessKeyID + `","SecretAccessKey":"` + def.SecretAccessKey + `","Token":"` + def.SessionToken +
				`","Expiration":"2026-11-22T13:00:00Z","RoleArn":"` + testRoleArn + `","AccountId":"123456789012"}`},
		{"named route without role ARN", "/creds/second", "s3cret", 200,
			`{"AccessKeyId":"` + second.AccessKeyID + `","SecretAccessKey":"` + second.SecretAccessKey + `","Token":"` + second.SessionToken +
				`","Expiration":"2026-11-22T13:00:00Z"}`},
		{"unknown route", "/creds/nope", "s3cret", 404, `{"code":"NotFound","message":"no route named \"nope\""}`},
		{"no token", "/v1/credentials", "", 401,
			`{"code":"MissingAuthorization","message":"this endpoint requires the Authorization header (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)"}`},
		{"wrong token", "/v1/credentials", "s3cre", 401,
			`{"code":"InvalidAuthorization","message":"the Authorization header does not carry the configured token"}`},
		{"bearer scheme is not the protocol", "/v1/credentials", "Bearer s3cret", 401,
			`{"code":"InvalidAuthorization","message":"the Authorization header does not carry the configured token"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tc.auth != "" {
				hdr["Authorization"] = tc.auth
			}
			code, h, body := f.do(t, "GET", tc.path, hdr)
			if code != tc.code || strings.TrimSpace(body) != tc.body {
				t.Fatalf("%d %s\nwant %d %s", code, body, tc.code, tc.body)
			}
			if ct := h.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q", ct)
			}
		})
	}

	t.Run("rotation", func(t *testing.T) {
		writeToken(t, dir, "n3w")
		if code, _, _ := f.do(t, "GET", "/v1/credentials", map[string]string{"Authorization": "s3cret"}); code != 401 {
			t.Fatalf("old token: %d", code)
		}
		if code, _, _ := f.do(t, "GET", "/v1/credentials", map[string]string{"Authorization": "n3w"}); code != 200 {
			t.Fatalf("new token: %d", code)
		}
	})
}

// Without a configured token, the loopback container endpoint is open, as
// the IMDS emulation is.
func TestContainerEndpointWithoutToken(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	if code, _, body := f.do(t, "GET", "/v1/credentials", nil); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
}
