package iam

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/iamra/iamra/api/restjson"
	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/audit"
	"github.com/iamra/iamra/authz"
	"github.com/iamra/iamra/store/sqlite"
)

var (
	now   = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	admin = authz.AdminKey{AccessKeyID: "AKIAADMINADMINADMIN0", SecretAccessKey: "admin-secret", Arn: "arn:aws:iam::111122223333:user/iamra-admin"}
)

func newHandler(t *testing.T) (*Handler, *[]audit.Event) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "iam.db"), sqlite.Options{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := func() time.Time { return now }
	v := authz.New(authz.Config{Now: clock, Admin: func(id string) (authz.AdminKey, bool) { return admin, id == admin.AccessKeyID }})
	var evs []audit.Event
	h := New(Config{Store: st, Scope: arn.Scope{Partition: "aws", Region: "us-east-1", AccountID: "111122223333"}, Now: clock,
		Rand: bytes.NewReader(bytes.Repeat([]byte{1}, 4096)), Verifier: v,
		Audit: func(_ context.Context, ev audit.Event) { evs = append(evs, ev) }})
	return h, &evs
}

func call(t *testing.T, h http.Handler, form url.Values, sign bool) *httptest.ResponseRecorder {
	t.Helper()
	body := form.Encode()
	r := httptest.NewRequest("POST", "https://iam.amazonaws.com/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if sign {
		sum := sha256.Sum256([]byte(body))
		c := aws.Credentials{AccessKeyID: admin.AccessKeyID, SecretAccessKey: admin.SecretAccessKey}
		if err := v4.NewSigner().SignHTTP(context.Background(), c, r, hex.EncodeToString(sum[:]), "iam", "us-east-1", now); err != nil {
			t.Fatal(err)
		}
	}
	r = r.WithContext(restjson.WithRequestID(r.Context(), "req-1"))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// The XML IAM clients parse, element for element.
func TestWireFormat(t *testing.T) {
	h, evs := newHandler(t)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"rolesanywhere.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	tests := []struct {
		name   string
		form   url.Values
		sign   bool
		status int
		body   string
	}{
		{"CreateRole", url.Values{"Action": {"CreateRole"}, "Version": {"2010-05-08"}, "RoleName": {"r"}, "Path": {"/p/"},
			"AssumeRolePolicyDocument": {trust}, "Tags.member.1.Key": {"k"}, "Tags.member.1.Value": {"v"}}, true, 200,
			`<CreateRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateRoleResult><Role><Path>/p/</Path><RoleName>r</RoleName><RoleId>AROAAEAQCAIBAEAQCAIBA</RoleId><Arn>arn:aws:iam::111122223333:role/p/r</Arn><CreateDate>2026-03-01T12:00:00Z</CreateDate><AssumeRolePolicyDocument>%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22rolesanywhere.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D</AssumeRolePolicyDocument><MaxSessionDuration>3600</MaxSessionDuration><Tags><member><Key>k</Key><Value>v</Value></member></Tags></Role></CreateRoleResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></CreateRoleResponse>`},
		{"ListRolePolicies", url.Values{"Action": {"ListRolePolicies"}, "Version": {"2010-05-08"}, "RoleName": {"r"}}, true, 200,
			`<ListRolePoliciesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListRolePoliciesResult><PolicyNames></PolicyNames><IsTruncated>false</IsTruncated></ListRolePoliciesResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></ListRolePoliciesResponse>`},
		{"DeleteRole missing", url.Values{"Action": {"DeleteRole"}, "Version": {"2010-05-08"}, "RoleName": {"nope"}}, true, 404,
			`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with name nope cannot be found.</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`},
		{"unknown action", url.Values{"Action": {"CreateUser"}, "Version": {"2010-05-08"}}, true, 400,
			`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>Could not find operation CreateUser for version 2010-05-08</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`},
		{"unsigned", url.Values{"Action": {"ListRoles"}, "Version": {"2010-05-08"}}, false, 403,
			`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>MissingAuthenticationToken</Code><Message>Request is missing Authentication Token</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`},
		{"RotateSessionKeys without a rotator", url.Values{"Action": {"RotateSessionKeys"}, "Version": {"2010-05-08"}}, true, 400,
			`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>This server does not rotate session keys through the API.</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := call(t, h, tc.form, tc.sign)
			if w.Code != tc.status || w.Body.String() != tc.body || w.Header().Get("Content-Type") != "text/xml" || w.Header().Get("x-amzn-RequestId") != "req-1" {
				t.Fatalf("%d %s\n%s", w.Code, w.Header(), w.Body)
			}
		})
	}
	// Writes are audited, refusals with their reason.
	var names []string
	for _, ev := range *evs {
		names = append(names, ev.EventName+"/"+ev.ErrorCode)
	}
	if got := strings.Join(names, ","); got != "CreateRole/,DeleteRole/NoSuchEntity,RotateSessionKeys/InvalidAction" {
		t.Fatalf("audit %s", got)
	}
	if ev := (*evs)[1]; ev.AdditionalEventData["reason"] != "iam.role_not_found" || ev.UserIdentity.Arn != admin.Arn || ev.EventSource != "iam.amazonaws.com" {
		t.Fatalf("audit event %+v", ev)
	}
}
