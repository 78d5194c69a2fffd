package acmpca

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/iamra/iamra/audit"
)

// appenders are the types that encode themselves, with how many fields
// their AppendJSON knows: a field added later fails TestAppendJSON until
// AppendJSON writes it.
func appenders(s1, s2 string) []struct {
	v      audit.JSONAppender
	fields int
} {
	return []struct {
		v      audit.JSONAppender
		fields int
	}{
		{issueOutput{CertificateArn: s1}, 1},
		{arnOutput{CertificateAuthorityArn: s1}, 1},
		{certificateOutput{Certificate: s1, CertificateChain: s2}, 2},
		{empty{}, 0},
		{errorBody{Type: s1, Message: s2}, 2},
	}
}

func checkAppendJSON(t *testing.T, s1, s2 string) {
	t.Helper()
	for _, a := range appenders(s1, s2) {
		want, err := json.Marshal(a.v)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.v.AppendJSON([]byte("x")); !bytes.Equal(got, append([]byte("x"), want...)) {
			t.Fatalf("%T.AppendJSON = %s, want %s", a.v, got[1:], want)
		}
		if n := reflect.TypeOf(a.v).NumField(); n != a.fields {
			t.Fatalf("%T has %d fields; its AppendJSON writes %d", a.v, n, a.fields)
		}
	}
}

var appendJSONSeeds = [][2]string{
	{"", ""}, {"arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/c/certificate/0123", ""},
	{"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n"},
	{`<script>&"\`, "\x00\x1f\x7f\t\r\b\f"}, {"\xff\xed\xa0\x80", "\u2028\u2029ü€𝄞"},
}

// AppendJSON writes json.Marshal's bytes.
func TestAppendJSON(t *testing.T) {
	for _, s := range appendJSONSeeds {
		checkAppendJSON(t, s[0], s[1])
	}
}

func FuzzAppendJSON(f *testing.F) {
	for _, s := range appendJSONSeeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(checkAppendJSON)
}

// newUUID writes what fmt.Sprintf("%x-%x-%x-%x-%x", ...) wrote.
func TestNewUUID(t *testing.T) {
	for i := 0; i < 1000; i++ {
		var b [16]byte
		rand.Read(b[:])
		got, err := newUUID(bytes.NewReader(b[:]))
		if err != nil {
			t.Fatal(err)
		}
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		if want := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]); got != want {
			t.Fatalf("newUUID = %s, want %s", got, want)
		}
	}
}
