package restjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/iamra/iamra/awserr"
)

// logged records what a custom unmarshaler was given, and fails as
// told: a decoding step that is not idempotent and whose error may be a
// *json.SyntaxError although the body is valid JSON.
type logged struct {
	Calls []string
}

func (l *logged) UnmarshalJSON(b []byte) error {
	l.Calls = append(l.Calls, string(b))
	switch string(b) {
	case `"syntax"`:
		var x int
		return json.Unmarshal([]byte("{"), &x)
	case `"fail"`:
		return errors.New("logged: fail")
	}
	return nil
}

type shapes struct {
	Name   *string           `json:"name"`
	Count  *int32            `json:"count"`
	N      int64             `json:"n"`
	F      float64           `json:"f"`
	List   []string          `json:"list"`
	Blob   []byte            `json:"blob"`
	Map    map[string]string `json:"map"`
	Any    any               `json:"any"`
	Log    logged            `json:"log"`
	LogPtr *logged           `json:"logPtr"`
	Raw    json.RawMessage   `json:"raw"`
	Inner  *struct {
		Flag *bool `json:"flag"`
	} `json:"inner"`
}

// targets are the values Unmarshal is compared on: zero and pre-filled
// (callers set path members before decoding, and record v even when
// decoding fails).
func targets() []func() any {
	return []func() any{
		func() any { return new(input) },
		func() any { return new(shapes) },
		func() any {
			name, flag := "preset", true
			s := &shapes{Name: &name, List: []string{"a", "b"}, Map: map[string]string{"k": "v"}, Any: map[string]any{"x": 1.0},
				Log: logged{Calls: []string{"before"}}, LogPtr: &logged{}}
			s.Inner = &struct {
				Flag *bool `json:"flag"`
			}{Flag: &flag}
			return s
		},
		func() any { return new(map[string]any) },
		func() any { return new(any) },
		func() any { return new([]int) },
		func() any { return new(logged) },
		func() any { return shapes{} }, // not a pointer
		func() any { return nil },
	}
}

// checkUnmarshal compares Unmarshal with unmarshalStream on data for
// every target: the same error and the same v afterwards.
func checkUnmarshal(t *testing.T, data []byte) {
	t.Helper()
	for i, mk := range targets() {
		got, want := mk(), mk()
		gotErr := Unmarshal(data, got)
		var wantErr error
		if len(bytes.TrimSpace(data)) != 0 {
			wantErr = unmarshalStream(data, want)
		}
		if !reflect.DeepEqual(gotErr, wantErr) {
			t.Fatalf("target %d, body %q: error %#v, want %#v", i, data, gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("target %d, body %q: decoded %#v, want %#v", i, data, got, want)
		}
	}
}

var unmarshalSeeds = []string{
	``, ` `, "\v\f", `null`, `{}`, ` {} `, `{}x`, `{}{}`, `{} null`, `{} {`, `{}]`, `123`, `123abc`, `1 2`, `"x"`, `"x" y`, `[1,2]`, `[1,"a"]`,
	`{`, `{"name"`, `{"name":`, `{"name":"a"`, `{"name":"a",`, `{"name":}`, `{"name":"a"}}`, `{"name":"a"}` + "\n",
	`{"count":"5"}`, `{"count":"5"} x`, `{"count":"5"}{`, `{"count":1.5}`, `{"count":99999999999}`, `{"n":1e400}`, `{"f":1e400}`,
	`{"list":{}}`, `{"list":["a",1,"c"]}`, `{"inner":{"flag":"yes"}}`, `{"inner":null}`, `{"name":null}`,
	`{"blob":"AAEC"}`, `{"blob":"A"}`, `{"blob":"AAEC","count":"x","blob":"*"}`, `{"map":{"a":"b","c":1}}`, `{"any":[1,{"a":null}]}`,
	`{"log":"syntax"}`, `{"log":"fail"}`, `{"log":"ok","log":"syntax","count":"x"}`, `{"logPtr":"syntax"} trailing`, `{"log":"syntax"`,
	`{"raw":{"a" : [1, 2]}}`, `{"NAME":"folded"}`, `{"name":"a","name":"b"}`, `{"name":"\ud800"}`, "{\"name\":\"\xff\"}",
	"\xef\xbb\xbf{}",
}

// deepSeeds nest past encoding/json's depth limit; too slow to fuzz from.
var deepSeeds = []string{`{"a":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`, strings.Repeat("[", 10001)}

// Unmarshal is unmarshalStream, error and result alike, on the bodies
// where they could part: every error kind, errors before and after data
// the stream would not reach, custom unmarshalers that fail with a syntax
// error on valid JSON, and pre-filled targets.
func TestUnmarshalIsStream(t *testing.T) {
	for _, s := range append(unmarshalSeeds, deepSeeds...) {
		checkUnmarshal(t, []byte(s))
	}
}

// The texts clients see, pinned.
func TestUnmarshalErrorTexts(t *testing.T) {
	for _, tc := range []struct{ body, reason, msg string }{
		{`{}x`, ReasonJSONTrailing, "Unexpected data after the JSON document"},
		{`{"count":"5"} x`, ReasonJSONType, "Unexpected string at 'count': expected an integer in range"},
		{`123abc`, ReasonJSONType, "Expected a JSON object, found number"},
		{`{"name":"a"`, ReasonJSONSyntax, "Invalid JSON: unexpected end of input"},
		{`{"name":}x`, ReasonJSONSyntax, "Invalid JSON at offset 9: invalid character '}' looking for beginning of value"},
		{`{"blob":"A"}`, ReasonJSONValue, "Invalid JSON value: illegal base64 data at input byte 0"},
		{"\xef\xbb\xbf{}", ReasonJSONSyntax, "Invalid JSON at offset 1: invalid character 'ï' looking for beginning of value"},
	} {
		var in input
		err := Unmarshal([]byte(tc.body), &in)
		var e *awserr.Error
		if !errors.As(err, &e) || e.Reason != tc.reason || e.Message != tc.msg {
			t.Errorf("Unmarshal(%q) = %#v, want %s %q", tc.body, err, tc.reason, tc.msg)
		}
	}
}

// FuzzUnmarshal checks Unmarshal against unmarshalStream on any body.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range unmarshalSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkUnmarshal(t, data)
	})
}

// BenchmarkUnmarshal decodes an IssueCertificate-sized body (a 700
// character blob among short strings) both ways.
func BenchmarkUnmarshal(b *testing.B) {
	body := []byte(`{"CertificateAuthorityArn":"arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/0b7f8b3e-8f4c-4f67-9d0a-2a6c9f1e5d21",` +
		`"Csr":"` + strings.Repeat("QUJD", 175) + `","SigningAlgorithm":"SHA256WITHECDSA",` +
		`"TemplateArn":"arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1","Validity":{"Type":"HOURS","Value":24}}`)
	type validity struct {
		Type  string `json:"Type"`
		Value int64  `json:"Value"`
	}
	type issue struct {
		CertificateAuthorityArn *string   `json:"CertificateAuthorityArn"`
		Csr                     []byte    `json:"Csr"`
		SigningAlgorithm        *string   `json:"SigningAlgorithm"`
		TemplateArn             *string   `json:"TemplateArn"`
		Validity                *validity `json:"Validity"`
	}
	for _, bc := range []struct {
		name string
		fn   func([]byte, any) error
	}{{"stream", unmarshalStream}, {"Unmarshal", Unmarshal}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var in issue
				if err := bc.fn(body, &in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// ReadBody reads what io.ReadAll(io.LimitReader(...)) reads, whatever the
// declared length and however the reader splits its data.
func TestReadBody(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 200)
	failure := errors.New("read failed")
	for _, size := range []int{0, 1, 511, 512, 513, 1100, 3199, 3200} {
		for _, declared := range []int64{-1, 0, 1, int64(size) - 1, int64(size), int64(size) + 1, 5000} {
			for _, limit := range []int64{0, 100, int64(size), 3000, 10000} {
				for _, fail := range []bool{false, true} {
					mk := func() io.Reader {
						var r io.Reader = iotest.HalfReader(bytes.NewReader(data[:size]))
						if fail {
							r = io.MultiReader(r, iotest.ErrReader(failure))
						}
						return r
					}
					got, gotErr := ReadBody(mk(), declared, limit)
					want, wantErr := io.ReadAll(io.LimitReader(mk(), limit+1))
					if !bytes.Equal(got, want) || gotErr != wantErr {
						t.Fatalf("size %d declared %d limit %d fail %v: %d bytes %v, want %d bytes %v",
							size, declared, limit, fail, len(got), gotErr, len(want), wantErr)
					}
				}
			}
		}
	}
}
