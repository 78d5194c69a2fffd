package query

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamra/iamra/api/restjson"
	"github.com/iamra/iamra/awserr"
)

func request(method, target, body, contentType string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func TestParse(t *testing.T) {
	const form = "application/x-www-form-urlencoded; charset=utf-8"
	tests := []struct {
		name, method, target, body, ctype string
		want                              map[string]string
		err                               string
	}{
		{name: "post body", method: "POST", target: "/", body: "Action=GetRole&Version=2010-05-08&RoleName=a%2Bb", ctype: form,
			want: map[string]string{"Action": "GetRole", "Version": "2010-05-08", "RoleName": "a+b"}},
		{name: "presigned get", method: "GET", target: "/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Date=20240101T000000Z",
			want: map[string]string{"Action": "GetCallerIdentity", "Version": "2011-06-15", "X-Amz-Date": "20240101T000000Z"}},
		{name: "query and body merge", method: "POST", target: "/?Version=2010-05-08", body: "Action=ListRoles", ctype: form,
			want: map[string]string{"Action": "ListRoles", "Version": "2010-05-08"}},
		{name: "body without content type", method: "POST", target: "/", body: "Action=ListRoles",
			want: map[string]string{"Action": "ListRoles"}},
		{name: "repeated in body", method: "POST", target: "/", body: "Action=A&Action=B", ctype: form,
			err: "MalformedQueryString: The parameter Action appears more than once. [query.duplicate_param] (body repeats parameter \"Action\")"},
		{name: "repeated across query and body", method: "POST", target: "/?Action=A", body: "Action=B", ctype: form,
			err: "MalformedQueryString: The parameter Action appears more than once. [query.duplicate_param] (body repeats parameter \"Action\")"},
		{name: "json body", method: "POST", target: "/", body: "{}", ctype: "application/json",
			err: "MalformedQueryString: The request body must be application/x-www-form-urlencoded. [query.content_type] (Content-Type \"application/json\")"},
		{name: "bad escape", method: "POST", target: "/", body: "Action=%zz", ctype: form,
			err: "MalformedQueryString: The query string is malformed. [query.malformed] (body: invalid URL escape \"%zz\")"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(request(tc.method, tc.target, tc.body, tc.ctype), []byte(tc.body))
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err = %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Len() != len(tc.want) {
				t.Fatalf("got %v", f.v)
			}
			for k, v := range tc.want {
				if f.Get(k) != v || !f.Has(k) {
					t.Errorf("%s = %q, want %q", k, f.Get(k), v)
				}
			}
		})
	}
}

func TestMembers(t *testing.T) {
	f := NewForm(map[string]string{
		"Tags.member.2.Key": "b", "Tags.member.2.Value": "2",
		"Tags.member.1.Key": "a", "Tags.member.1.Value": "1",
		"Tags.member.10.Key": "j",
		"TagKeys.member.1":   "x", "TagKeys.member.2": "y",
		"Empty":                                  "",
		"ContextEntries.member.1.ContextKeyName": "aws:SourceIp",
		"ContextEntries.member.1.ContextKeyValues.member.1": "10.0.0.1",
		"ContextEntries.member.1.ContextKeyValues.member.2": "10.0.0.2",
	})
	tags, err := f.Members("Tags")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range tags {
		got = append(got, m.Get("Key")+"="+m.Get("Value"))
	}
	if want := []string{"a=1", "b=2", "j="}; !slices.Equal(got, want) {
		t.Fatalf("tags %v, want %v", got, want)
	}
	keys, err := f.Strings("TagKeys")
	if err != nil || !slices.Equal(keys, []string{"x", "y"}) {
		t.Fatalf("TagKeys %v %v", keys, err)
	}
	if e, err := f.Strings("Empty"); err != nil || len(e) != 0 {
		t.Fatalf("empty list %v %v", e, err)
	}
	ce, _ := f.Members("ContextEntries")
	vals, err := ce[0].Strings("ContextKeyValues")
	if err != nil || ce[0].Get("ContextKeyName") != "aws:SourceIp" || !slices.Equal(vals, []string{"10.0.0.1", "10.0.0.2"}) {
		t.Fatalf("context entries %v %v", vals, err)
	}

	bad := []struct {
		key, err string
	}{
		{"Tags.member.0.Key", `ValidationError: 1 validation error detected: Value 'Tags.member.0.Key' at 'Tags' failed to satisfy constraint: Member index must be a number from 1 to 1000 [query.bad_member_index] (parameter "Tags.member.0.Key" has member index "0")`},
		{"Tags.member.01.Key", `ValidationError: 1 validation error detected: Value 'Tags.member.01.Key' at 'Tags' failed to satisfy constraint: Member index must be a number from 1 to 1000 [query.bad_member_index] (parameter "Tags.member.01.Key" has member index "01")`},
		{"Tags.member.1001.Key", `ValidationError: 1 validation error detected: Value 'Tags.member.1001.Key' at 'Tags' failed to satisfy constraint: Member index must be a number from 1 to 1000 [query.bad_member_index] (parameter "Tags.member.1001.Key" has member index "1001")`},
		{"Tags.member.x", `ValidationError: 1 validation error detected: Value 'Tags.member.x' at 'Tags' failed to satisfy constraint: Member index must be a number from 1 to 1000 [query.bad_member_index] (parameter "Tags.member.x" has member index "x")`},
	}
	for _, b := range bad {
		if _, err := NewForm(map[string]string{b.key: "v"}).Members("Tags"); err == nil || err.Error() != b.err {
			t.Errorf("%s: err = %v\nwant %s", b.key, err, b.err)
		}
	}
	if _, err := NewForm(map[string]string{"TagKeys.member.1.Key": "v"}).Strings("TagKeys"); err == nil {
		t.Error("structured member accepted as a string")
	}
}

func TestScalars(t *testing.T) {
	f := NewForm(map[string]string{"N": "12", "B": "true", "X": "twelve", "Y": "yes"})
	if n, ok, err := f.Int("N", "n"); n != 12 || !ok || err != nil {
		t.Errorf("Int = %d %v %v", n, ok, err)
	}
	if _, ok, err := f.Int("missing", "m"); ok || err != nil {
		t.Errorf("missing Int: %v %v", ok, err)
	}
	if _, _, err := f.Int("X", "maxItems"); err == nil || err.Error() != "ValidationError: 1 validation error detected: Value 'twelve' at 'maxItems' failed to satisfy constraint: Member must be an integer [validation.constraint] (Value 'twelve' at 'maxItems' failed to satisfy constraint: Member must be an integer)" {
		t.Errorf("bad Int: %v", err)
	}
	if b, ok, err := f.Bool("B", "b"); !b || !ok || err != nil {
		t.Errorf("Bool = %v %v %v", b, ok, err)
	}
	if _, _, err := f.Bool("Y", "onlyAttached"); err == nil {
		t.Error("yes accepted as a boolean")
	}
	if err := Required("roleName", "policyName"); err.Message != "2 validation errors detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null; Value null at 'policyName' failed to satisfy constraint: Member must not be null" || err.Code != "ValidationError" {
		t.Errorf("Required: %v", err)
	}
}

func TestCheckAction(t *testing.T) {
	known := func(a string) bool { return a == "GetRole" }
	tests := []struct{ form, want string }{
		{"Action=GetRole&Version=2010-05-08", ""},
		{"Action=GetRole", ""},
		{"Version=2010-05-08", "MissingAction: Missing Action"},
		{"Action=Nope&Version=2010-05-08", "InvalidAction: Could not find operation Nope for version 2010-05-08"},
		{"Action=GetRole&Version=2011-06-15", "InvalidAction: Could not find operation GetRole for version 2011-06-15"},
	}
	for _, tc := range tests {
		f, _ := Parse(request("GET", "/?"+tc.form, "", ""), nil)
		_, err := IAM.CheckAction(f, known)
		got := ""
		if err != nil {
			e := awserr.As(err)
			got = e.Code + ": " + e.Message
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.form, got, tc.want)
		}
	}
}

type result struct {
	Name  string       `xml:"Name"`
	Items List[string] `xml:"Items"`
	None  List[string] `xml:"None"`
	When  Time         `xml:"When"`
}

func withID(r *http.Request) *http.Request {
	return r.WithContext(restjson.WithRequestID(r.Context(), "req-1"))
}

func TestWriteResult(t *testing.T) {
	res := result{Name: "a<b", Items: List[string]{"x", "y"}, When: Time(time.Date(2024, 1, 2, 3, 4, 5, 600, time.FixedZone("X", 3600)))}
	tests := []struct {
		svc    Service
		accept string
		ctype  string
		body   string
	}{
		{IAM, "", "text/xml", `<GetThingResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetThingResult><Name>a&lt;b</Name><Items><member>x</member><member>y</member></Items><None></None><When>2024-01-02T02:04:05Z</When></GetThingResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetThingResponse>`},
		{IAM, "application/json", "text/xml", `<GetThingResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetThingResult><Name>a&lt;b</Name><Items><member>x</member><member>y</member></Items><None></None><When>2024-01-02T02:04:05Z</When></GetThingResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetThingResponse>`},
		{STS, "application/json", "application/json", `{"GetThingResponse":{"GetThingResult":{"Name":"a<b","Items":["x","y"],"None":[],"When":"2024-01-02T02:04:05Z"},"ResponseMetadata":{"RequestId":"req-1"}}}` + "\n"},
	}
	for _, tc := range tests {
		r := withID(request("POST", "/", "", ""))
		if tc.accept != "" {
			r.Header.Set("Accept", tc.accept)
		}
		w := httptest.NewRecorder()
		tc.svc.WriteResult(w, r, "GetThing", res)
		if w.Code != 200 || w.Body.String() != tc.body || w.Header().Get("Content-Type") != tc.ctype || w.Header().Get("x-amzn-RequestId") != "req-1" {
			t.Errorf("%s %q: %d %s %s\n%s", tc.svc.Name, tc.accept, w.Code, w.Header(), w.Body, tc.body)
		}
	}
	w := httptest.NewRecorder()
	IAM.WriteResult(w, withID(request("POST", "/", "", "")), "DeleteThing", nil)
	if want := `<DeleteThingResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></DeleteThingResponse>`; w.Body.String() != want {
		t.Errorf("empty result: %s", w.Body)
	}
}

func TestWriteError(t *testing.T) {
	tests := []struct {
		svc    Service
		accept string
		err    error
		status int
		body   string
	}{
		{IAM, "", awserr.New("NoSuchEntity", 404, "The role with name x cannot be found.").Because("iam.role_not_found", "secret detail"), 404,
			`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with name x cannot be found.</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`},
		{STS, "", errors.New("database exploded"), 500,
			`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>An internal error occurred.</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`},
		{STS, "application/json", awserr.New("ExpiredToken", 403, "The security token included in the request is expired"), 403,
			`{"Error":{"Type":"Sender","Code":"ExpiredToken","Message":"The security token included in the request is expired"},"RequestId":"req-1"}` + "\n"},
	}
	for _, tc := range tests {
		r := withID(request("POST", "/", "", ""))
		r.Header.Set("Accept", tc.accept)
		w := httptest.NewRecorder()
		tc.svc.WriteError(w, r, tc.err)
		if w.Code != tc.status || w.Body.String() != tc.body {
			t.Errorf("%v: %d %s\nwant %s", tc.err, w.Code, w.Body, tc.body)
		}
	}
}

func TestEncodeDocument(t *testing.T) {
	doc := `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::a/*"}]}` + "\nü~"
	enc := EncodeDocument(doc)
	if strings.ContainsAny(enc, " +\"{\n") {
		t.Fatalf("not encoded: %s", enc)
	}
	if dec, err := url.PathUnescape(enc); err != nil || dec != doc {
		t.Fatalf("round trip: %q %v", dec, err)
	}
	if !strings.HasPrefix(enc, "%7B%22Version%22%3A%20%222012-10-17%22") || !strings.HasSuffix(enc, "%0A%C3%BC~") {
		t.Fatalf("encoding %s", enc)
	}
}
