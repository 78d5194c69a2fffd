package credserver_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/iamra/iamra/helper/credserver"
)

func TestIMDSTokenTTL(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	for _, tc := range []struct {
		ttl      string // "-" sends no header
		code     int
		wantBody string
	}{
		{"1", 200, ""},
		{"21600", 200, ""},
		{"-", 400, `{"Code":"InvalidTokenTTL","Message":"missing token TTL: send X-Aws-Ec2-Metadata-Token-Ttl-Seconds with a whole number of seconds from 1 to 21600"}`},
		{"0", 400, `{"Code":"InvalidTokenTTL","Message":"invalid token TTL \"0\": X-Aws-Ec2-Metadata-Token-Ttl-Seconds must be a whole number of seconds from 1 to 21600"}`},
		{"21601", 400, `{"Code":"InvalidTokenTTL","Message":"invalid token TTL \"21601\": X-Aws-Ec2-Metadata-Token-Ttl-Seconds must be a whole number of seconds from 1 to 21600"}`},
		{"-5", 400, `{"Code":"InvalidTokenTTL","Message":"invalid token TTL \"-5\": X-Aws-Ec2-Metadata-Token-Ttl-Seconds must be a whole number of seconds from 1 to 21600"}`},
		{"60s", 400, `{"Code":"InvalidTokenTTL","Message":"invalid token TTL \"60s\": X-Aws-Ec2-Metadata-Token-Ttl-Seconds must be a whole number of seconds from 1 to 21600"}`},
	} {
		hdr := map[string]string{"x-aws-ec2-metadata-token-ttl-seconds": tc.ttl}
		if tc.ttl == "-" {
			hdr = nil
		}
		code, h, body := f.do(t, "PUT", "/latest/api/token", hdr)
		if code != tc.code {
			t.Fatalf("TTL %s: %d %s", tc.ttl, code, body)
		}
		if tc.code != 200 {
			if strings.TrimSpace(body) != tc.wantBody {
				t.Fatalf("TTL %s: body %s\nwant %s", tc.ttl, body, tc.wantBody)
			}
			continue
		}
		if h.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds") != tc.ttl || len(body) < 32 {
			t.Fatalf("TTL %s: header %q, token %q", tc.ttl, h.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds"), body)
		}
	}
}

func TestIMDSProtocol(t *testing.T) {
	f := newFixture(t, fixtureOpts{fakeClock: true, routes: []string{"default", "second"}, cfg: credserver.Config{Region: "eu-west-3"}})
	tok := f.imdsToken(t, "")
	withTok := map[string]string{"X-aws-ec2-metadata-token": tok}
	const creds = "/latest/meta-data/iam/security-credentials/"
	for _, tc := range []struct {
		name, method, path string
		hdr                map[string]string
		code               int
		body               string
	}{
		{"role list", "GET", creds, withTok, 200, "test-role"},
		{"role list without slash", "GET", strings.TrimSuffix(creds, "/"), withTok, 200, "test-role"},
		{"route without a role ARN lists its name", "GET", "/role/second" + creds, map[string]string{"X-aws-ec2-metadata-token": f.imdsToken(t, "/role/second")}, 200, "second"},
		{"region", "GET", "/latest/meta-data/placement/region", withTok, 200, "eu-west-3"},
		{"unknown role name", "GET", creds + "other-role", withTok, 404,
			`{"Code":"NotFound","Message":"no role named \"other-role\" here; this endpoint serves \"test-role\""}`},
		{"deeper path", "GET", creds + "test-role/x", withTok, 404, "404 page not found"},
		{"unknown route", "GET", "/role/nope" + creds, withTok, 404, `{"Code":"NotFound","Message":"no route named \"nope\""}`},
		{"no token", "GET", creds + "test-role", nil, 401,
			`{"Code":"MissingToken","Message":"no token provided: PUT /latest/api/token first and send it in X-Aws-Ec2-Metadata-Token"}`},
		{"forged token", "GET", creds + "test-role", map[string]string{"X-aws-ec2-metadata-token": strings.Repeat("A", len(tok))}, 401,
			`{"Code":"InvalidToken","Message":"invalid or expired token provided"}`},
		{"official helper's token shape", "GET", creds + "test-role", map[string]string{"X-aws-ec2-metadata-token": strings.Repeat("x", 100)}, 401,
			`{"Code":"InvalidToken","Message":"invalid or expired token provided"}`},
		{"forwarded GET", "GET", creds + "test-role", map[string]string{"X-aws-ec2-metadata-token": tok, "X-Forwarded-For": "10.0.0.1"}, 400,
			`{"Code":"Forwarded","Message":"unable to process requests with X-Forwarded-For header"}`},
		{"forwarded PUT", "PUT", "/latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "60", "X-Forwarded-For": "10.0.0.1"}, 400,
			`{"Code":"Forwarded","Message":"unable to process requests with X-Forwarded-For header"}`},
		{"GET on the token path", "GET", "/latest/api/token", nil, 405, "Method Not Allowed"},
		{"other metadata", "GET", "/latest/meta-data/instance-id", withTok, 404, "404 page not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, body := f.do(t, tc.method, tc.path, tc.hdr)
			if code != tc.code || strings.TrimSpace(body) != tc.body {
				t.Fatalf("%s %s: %d %s\nwant %d %s", tc.method, tc.path, code, body, tc.code, tc.body)
			}
		})
	}

	t.Run("credential document", func(t *testing.T) {
		code, h, body := f.do(t, "GET", creds+"test-role", withTok)
		if code != 200 || h.Get("Content-Type") != "application/json" || h.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds") != "21600" {
			t.Fatalf("%d %v %s", code, h, body)
		}
		want := f.fetchers["default"].Mint(1)
		// EC2's field order, whole-second UTC times.
		wantBody := `{"Code":"Success","LastUpdated":"2026-11-22T12:00:00Z","Type":"AWS-HMAC","AccessKeyId":"` + want.AccessKeyID +
			`","SecretAccessKey":"` + want.SecretAccessKey + `","Token":"` + want.SessionToken + `","Expiration":"2026-11-22T13:00:00Z"}`
		if strings.TrimSpace(body) != wantBody {
			t.Fatalf("body %s\nwant %s", body, wantBody)
		}
	})

	t.Run("token expiry", func(t *testing.T) {
		code, _, short := f.do(t, "PUT", "/latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "60"})
		if code != 200 {
			t.Fatal(code)
		}
		hdr := map[string]string{"X-aws-ec2-metadata-token": short}
		f.clock.Advance(59 * time.Second)
		if code, h, _ := f.do(t, "GET", creds, hdr); code != 200 || h.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds") != "1" {
			t.Fatalf("before expiry: %d, TTL %q", code, h.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds"))
		}
		f.clock.Advance(time.Second)
		if code, _, body := f.do(t, "GET", creds, hdr); code != http.StatusUnauthorized {
			t.Fatalf("at expiry: %d %s", code, body)
		}
	})
}

func TestIMDSDisabled(t *testing.T) {
	f := newFixture(t, fixtureOpts{cfg: credserver.Config{DisableIMDS: true}})
	if code, _, _ := f.do(t, "PUT", "/latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "60"}); code != 404 {
		t.Fatalf("token with IMDS disabled: %d", code)
	}
	if code, _, _ := f.do(t, "GET", "/v1/credentials", nil); code != 200 {
		t.Fatalf("container endpoint: %d", code)
	}
}
