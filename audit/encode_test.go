package audit

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// legacyLine is the line Record wrote before it had its own encoder:
// json.Marshal of the event with the defaults applied.
func legacyLine(e Event) ([]byte, error) {
	if e.EventVersion == "" {
		e.EventVersion = "1.08"
	}
	if e.EventType == "" {
		e.EventType = "AwsApiCall"
	}
	e.EventTime = e.EventTime.UTC().Truncate(time.Second)
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// certOut stands for an API's output type with its own AppendJSON.
type certOut struct {
	CertificateArn string `json:"CertificateArn"`
}

func (o certOut) AppendJSON(b []byte) []byte {
	return append(AppendJSONString(append(b, `{"CertificateArn":`...), o.CertificateArn), '}')
}

type plain struct {
	A string  `json:"a"`
	B float64 `json:"b,omitempty"`
	C []int   `json:"c"`
}

// awkward strings: HTML, quotes and backslashes, control characters,
// invalid UTF-8, U+2028/9, non-ASCII.
var awkward = []string{"", "plain", `<a href="x">&amp;</a>`, "q\"b\\s/", "\x00\x01\b\f\n\r\t\x1f\x7f", "\xff\xfe", "a\xe2\x80", "\u2028\u2029",
	"ü€𝄞", "\xed\xa0\x80", "\ufffd"}

func testEvents() []Event {
	at := time.Date(2026, 11, 22, 13, 28, 57, 123456789, time.FixedZone("x", 3600))
	issued := Event{EventTime: at, EventSource: "acm-pca.amazonaws.com", EventName: "IssueCertificate", AWSRegion: "us-east-1",
		SourceIPAddress: "127.0.0.1", UserAgent: "aws-sdk-go-v2/1.0 os/linux", RequestID: "0b7f8b3e-8f4c-4f67-9d0a-2a6c9f1e5d21",
		UserIdentity: Identity{Type: "IAMUser", Arn: "arn:aws:iam::123456789012:user/admin", AccountID: "123456789012"},
		RequestParameters: json.RawMessage(`{"CertificateAuthorityArn":"arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/c","Csr":"<1012 characters>",` +
			`"SigningAlgorithm":"SHA256WITHECDSA","Validity":{"Type":"HOURS","Value":24}}`),
		ResponseElements:   certOut{CertificateArn: "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/c/certificate/0123456789abcdef"},
		RecipientAccountID: "123456789012"}
	refused := issued
	refused.ResponseElements = nil
	refused.ErrorCode, refused.ErrorMessage = "ValidationException", "1 validation error detected: Value <x> & 'y'"
	refused.AdditionalEventData = map[string]any{"reason": "input.validation", "detail": "a \"detail\" <b>"}
	botocore := issued
	botocore.RequestParameters = json.RawMessage(" {\"CertificateAuthorityArn\": \"a<>&\u2028\", \"Validity\": {\"Type\": \"DAYS\",\n\t\"Value\": 1}} ")
	session := Event{EventTime: at, EventSource: "rolesanywhere.amazonaws.com", EventName: "CreateSession", AWSRegion: "eu-west-1",
		SourceIPAddress: "10.0.0.1", UserIdentity: Identity{Type: "X509Certificate", X509Subject: "CN=workload,O=iamra test", X509Issuer: "CN=Root",
			SerialNumber: "0a1b"},
		RequestParameters: map[string]any{"trustAnchorArn": "arn:ta", "profileArn": "arn:p", "roleArn": "arn:r", "durationSeconds": int32(900)},
		ResponseElements: map[string]any{"assumedRoleUser": map[string]string{"arn": "arn:aru", "assumedRoleId": "AROA:x"}, "accessKeyId": "ASIA",
			"expiration": "2026-11-22T14:28:57Z", "sourceIdentity": "", "subjectArn": "arn:s"},
		AdditionalEventData: map[string]any{"signatureAlgorithm": "SHA256WITHECDSA"}}
	events := []Event{{}, issued, refused, botocore, session}
	for _, s := range awkward {
		events = append(events, Event{EventVersion: s, EventSource: s, EventName: s, AWSRegion: s, SourceIPAddress: s, UserAgent: s,
			UserIdentity:      Identity{Type: s, PrincipalID: s, Arn: s, AccountID: s, AccessKeyID: s, X509Subject: s, X509Issuer: s, SerialNumber: s},
			RequestParameters: map[string]string{s: s, s + "x": s}, ResponseElements: s, ErrorCode: s, ErrorMessage: s, RequestID: s,
			EventID: s, ReadOnly: true, EventType: s, RecipientAccountID: s, AdditionalEventData: map[string]any{s: s, "k" + s: []string{s}}})
	}
	// Values json.Marshal encodes, including ones it refuses.
	deep := map[string]any{}
	for m, i := deep, 0; i < 40; i++ {
		next := map[string]any{}
		m["d"], m["x"] = next, i
		m = next
	}
	for _, v := range []any{
		json.RawMessage(nil), json.RawMessage(`null`), json.RawMessage(``), json.RawMessage(`{"a":`), json.RawMessage(`{} {}`),
		json.RawMessage(`"\u003c"`), json.RawMessage("[1, 2.5e3, true, false, null, \"\xff\"]"),
		map[string]any(nil), map[string]string(nil), map[string]any{}, map[string]any{"a": nil, "b": 1.5, "c": -7, "d": int64(math.MinInt64),
			"e": true, "f": []any{1, "x"}, "g": plain{A: "<"}, "h": &plain{}, "i": uint8(3), "j": json.RawMessage(` [ ] `)},
		map[string]any{"inf": math.Inf(1)}, map[string]any{"f": func() {}}, make(chan int), plain{}, []string(nil), deep,
		map[string]any{"ch": make(chan int), "ok": 1}, 3.0, 1e21, "", certOut{CertificateArn: "<&>"},
	} {
		events = append(events, Event{RequestParameters: v}, Event{ResponseElements: v}, Event{AdditionalEventData: map[string]any{"v": v}})
	}
	// Times json.Marshal refuses.
	events = append(events, Event{EventTime: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, Event{EventTime: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)})
	return events
}

// The encoder writes json.Marshal's bytes, and fails where it fails.
func TestAppendEvent(t *testing.T) {
	for i, e := range testEvents() {
		want, wantErr := legacyLine(e)
		var buf bytes.Buffer
		w := NewWriter(&buf)
		var gotErr error
		w.OnError = func(err error) { gotErr = err }
		w.Record(e)
		if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
			t.Fatalf("event %d: error %v, want %v", i, gotErr, wantErr)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Fatalf("event %d:\n got %s\nwant %s", i, buf.Bytes(), want)
		}
	}
}

// The encoder's own path, not json.Marshal's, writes the events the APIs
// record most.
func TestAppendEventOwnPath(t *testing.T) {
	for i, e := range testEvents()[:5] {
		e.EventTime = e.EventTime.UTC().Truncate(time.Second)
		if _, ok := appendEvent(nil, &e); !ok {
			t.Errorf("event %d went to json.Marshal", i)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range append(awkward, strings.Repeat("x", 100)+"\u2029") {
		want, _ := json.Marshal(s)
		if got := AppendJSONString([]byte("prefix"), s); string(got) != "prefix"+string(want) {
			t.Errorf("AppendJSONString(%q) = %s, want %s", s, got[6:], want)
		}
	}
}

// FuzzAppendEvent checks the encoder against json.Marshal with fuzzed
// strings in every place and fuzzed raw parameters.
func FuzzAppendEvent(f *testing.F) {
	for _, s := range awkward {
		f.Add(s, []byte(`{"a": "`+s+`"}`), int64(1700000000))
	}
	f.Add("x", []byte(` {"Csr" : "<4 characters>", "V":[1,{"a":null}] } `), int64(-62135596800))
	f.Fuzz(func(t *testing.T, s string, raw []byte, sec int64) {
		e := Event{EventTime: time.Unix(sec, 0), EventVersion: s, EventSource: s, EventName: s, AWSRegion: s, SourceIPAddress: s, UserAgent: s,
			UserIdentity: Identity{Type: s, Arn: s, X509Subject: s}, RequestParameters: json.RawMessage(raw),
			ResponseElements: map[string]any{s: s, "n": len(s), "m": map[string]string{s: "v"}}, ErrorCode: s, RequestID: s,
			AdditionalEventData: map[string]any{"reason": s, s: "x"}}
		want, wantErr := legacyLine(e)
		e.EventVersion, e.EventType = "1.08", "AwsApiCall"
		if s != "" {
			e.EventVersion = s
		}
		e.EventTime = e.EventTime.UTC().Truncate(time.Second)
		got, err := encodeLine(nil, &e)
		if (err == nil) != (wantErr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("encodeLine: %q %v\nwant %q %v", got, err, want, wantErr)
		}
	})
}

// BenchmarkRecord encodes the audit line of a signed IssueCertificate
// (RawMessage parameters, the output type as response elements) and of a
// refused one, into a buffered Writer.
func BenchmarkRecord(b *testing.B) {
	events := testEvents()
	for _, bc := range []struct {
		name string
		e    Event
	}{{"issued", events[1]}, {"refused", events[2]}, {"createsession", events[4]}} {
		b.Run(bc.name, func(b *testing.B) {
			w := NewBufferedWriter(discard{})
			b.ReportAllocs()
			for b.Loop() {
				w.Record(bc.e)
			}
		})
		b.Run(bc.name+"/json.Marshal", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := legacyLine(bc.e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// referenceCompact is encoding/json's encoding of a json.RawMessage
// inside a marshalled value.
func referenceCompact(src []byte) ([]byte, bool) {
	b, err := json.Marshal(json.RawMessage(src))
	return b, err == nil
}

var compactSeeds = []string{
	``, ` `, `null`, `true`, `false`, `nul`, `truex`, `0`, `-0`, `01`, `-`, `1.`, `1.5`, `1e`, `1e+`, `1E-7`, `-12.5e+3`, `.5`, `+1`,
	`""`, `"a"`, `"\"\\\/\b\f\n\r\t\u00e9\uD834\uDD1E"`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"\x00\"", "\"\x1f\"", "\"\x7f\xff\"",
	`"<a>&b"`, "\"\u2028\u2029\"", "\"\xe2\x80\"", "\"\xe2\x80\xa8", "\"\xe2\"", `"unterminated`, `"a\`,
	`{}`, ` { } `, `{"a":1}`, `{"a" : [1, 2 , {"b" :null}] , "c":"d"}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{,}`, `{1:2}`, `{"a":1 "b":2}`,
	`[]`, `[ ]`, `[1,]`, `[,1]`, `[1 2]`, `[[[]]]`, `{} {}`, `{}x`, "\t\r\n[1]\n",
	` {"CertificateAuthorityArn": "arn:aws:acm-pca:us-east-1:1:certificate-authority/c", "Csr": "<1012 characters>", "Validity": {"Type": "DAYS", "Value": 1}} `,
	strings.Repeat("[", 64) + strings.Repeat("]", 64), strings.Repeat("[", 65) + strings.Repeat("]", 65), strings.Repeat(`{"a":`, 70) + "1" + strings.Repeat("}", 70),
}

// appendCompactJSON agrees with encoding/json wherever it answers, and
// answers for what the APIs record.
func TestAppendCompactJSON(t *testing.T) {
	for _, s := range compactSeeds {
		checkCompact(t, []byte(s))
	}
	for _, s := range []string{`{"a":1}`, compactSeeds[len(compactSeeds)-4], strings.Repeat("[", 64) + strings.Repeat("]", 64)} {
		if _, ok := appendCompactJSON(nil, []byte(s)); !ok {
			t.Errorf("appendCompactJSON declined %s", s)
		}
	}
}

func checkCompact(t *testing.T, src []byte) {
	t.Helper()
	want, valid := referenceCompact(src)
	got, ok := appendCompactJSON([]byte("x"), src)
	if !ok {
		if string(got) != "x" {
			t.Fatalf("appendCompactJSON(%q) declined but wrote %q", src, got)
		}
		return
	}
	if !valid {
		t.Fatalf("appendCompactJSON(%q) = %q; encoding/json refuses it", src, got)
	}
	if !bytes.Equal(got[1:], want) {
		t.Fatalf("appendCompactJSON(%q) = %q, want %q", src, got[1:], want)
	}
}

func FuzzAppendCompactJSON(f *testing.F) {
	for _, s := range compactSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) { checkCompact(t, src) })
}
