package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// The canonicalisation appends to one buffer and hashes without
// crypto/hmac, to stay off the heap. The fuzz targets here hold it to a
// plain reference: strings built the obvious way, the library's header
// key canonicalisation and crypto/hmac.

// referenceCanonical is the canonical request built with strings.
func referenceCanonical(r *http.Request, a *auth, host, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	for i := 0; i < len(path); i++ {
		if c := path[i]; c == '/' {
			b.WriteByte(c)
		} else {
			b.WriteString(rfc3986(path[i : i+1]))
		}
	}
	b.WriteString("\n")
	var params []string
	for k, vs := range a.query {
		if a.presigned && k == "X-Amz-Signature" {
			continue
		}
		for _, v := range vs {
			params = append(params, rfc3986(k)+"\x00"+rfc3986(v))
		}
	}
	slices.Sort(params)
	b.WriteString(strings.ReplaceAll(strings.Join(params, "&"), "\x00", "="))
	b.WriteString("\n")
	names := strings.Split(a.signed, ";")
	for _, h := range names {
		var vals []string
		switch strings.ToLower(h) {
		case "host":
			vals = []string{host}
		case "content-length":
			if r.ContentLength >= 0 {
				vals = []string{fmt.Sprint(r.ContentLength)}
			}
		case "transfer-encoding":
			if len(r.TransferEncoding) > 0 {
				b.WriteString(h + ":" + strings.Join(r.TransferEncoding, ",") + "\n")
				continue
			}
			vals = r.Header[http.CanonicalHeaderKey(h)]
		default:
			vals = r.Header[http.CanonicalHeaderKey(h)]
		}
		trimmed := make([]string, len(vals))
		for i, v := range vals {
			trimmed[i] = strings.Join(strings.FieldsFunc(v, func(c rune) bool { return c == ' ' }), " ")
		}
		b.WriteString(h + ":" + strings.Join(trimmed, ",") + "\n")
	}
	b.WriteString("\n" + strings.Join(names, ";") + "\n" + payloadHash)
	return b.String()
}

func referenceStringToSign(a *auth, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return Algorithm + "\n" + a.amzDate + "\n" + a.cred.Date + "/" + a.cred.Region + "/" + a.cred.Service + "/aws4_request\n" + hex.EncodeToString(sum[:])
}

func referenceHMAC(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// FuzzCanonical: for any request that parses as signed, the canonical
// request and string to sign are the reference's, and so is the HMAC.
func FuzzCanonical(f *testing.F) {
	for _, s := range seedRequests(f) {
		f.Add(s)
	}
	f.Add([]byte("POST /a%2Fb/%C3%BC?b=2&a=1&a=0&X-Amz-Signature=x HTTP/1.1\r\nHost: h:443\r\nX-Amz-Date: 20261122T100000Z\r\nX-Multi: a   b\r\nx-multi:  c \r\n" +
		"Transfer-Encoding: chunked\r\nAuthorization: AWS4-HMAC-SHA256 Credential=a/20261122/r/s/aws4_request, SignedHeaders=HOST;transfer-encoding;x-multi;X-Amz-Date;x_y;x.y;ü, Signature=00\r\n\r\n0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, body, ok := readRequest(data)
		if !ok {
			return
		}
		a, signed, err := parseAuth(r, JSON)
		if err != nil || !signed {
			return
		}
		var sum [2 * sha256.Size]byte
		payload, err := a.payloadHash(r, body, &sum, JSON)
		if err != nil {
			return
		}
		var scratch [256]byte
		for _, host := range []string{r.Host, "other.example"} {
			cr := appendCanonicalRequest(scratch[:0], r, &a, host, payload)
			if want := referenceCanonical(r, &a, host, string(payload)); string(cr) != want {
				t.Fatalf("canonical request\n%q\nwant\n%q", cr, want)
			}
			sts := appendStringToSign(cr[len(cr):], &a, cr)
			if want := referenceStringToSign(&a, string(cr)); string(sts) != want {
				t.Fatalf("string to sign\n%q\nwant\n%q", sts, want)
			}
			key := deriveKey(a.cred.AccessKeyID, a.cred)
			if got, want := hmacSHA256(key[:], sts), referenceHMAC(key[:], sts); !hmac.Equal(got[:], want) {
				t.Fatalf("HMAC %x, want %x", got, want)
			}
		}
	})
}

// FuzzHMAC: hmacSHA256 is crypto/hmac's HMAC-SHA256 for keys and messages
// of any length.
func FuzzHMAC(f *testing.F) {
	f.Add([]byte(""), []byte(""))
	f.Add([]byte("AWS4wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), []byte("20150830"))
	f.Add([]byte(strings.Repeat("k", 64)), []byte(strings.Repeat("m", 192)))
	f.Add([]byte(strings.Repeat("k", 65)), []byte(strings.Repeat("m", 193)))
	f.Fuzz(func(t *testing.T, key, msg []byte) {
		if got, want := hmacSHA256(key, msg), referenceHMAC(key, msg); !hmac.Equal(got[:], want) {
			t.Fatalf("HMAC(%q, %q) = %x, want %x", key, msg, got, want)
		}
	})
}

// FuzzHeaderNames: headerValues finds what a lookup by
// http.CanonicalHeaderKey finds, and isLower is strings.ToLower's
// comparison.
func FuzzHeaderNames(f *testing.F) {
	for _, s := range []string{"x-amz-date", "X-AMZ-TARGET", "content-type", "x_y", "x.y", "a b", "ü", "Ho\u017ft", "\u212a-x", strings.Repeat("a", 70), ""} {
		f.Add(s, "x-amz-date")
	}
	f.Fuzz(func(t *testing.T, name, lower string) {
		h := http.Header{http.CanonicalHeaderKey(name): {"v"}, name: {"raw"}, "X-Amz-Date": {"d"}}
		if got, want := headerValues(h, name), h[http.CanonicalHeaderKey(name)]; !slices.Equal(got, want) {
			t.Fatalf("headerValues(%q) = %q, want %q", name, got, want)
		}
		lower = strings.ToLower(lower)
		for _, l := range []string{lower, strings.ToLower(name)} {
			if !isASCII(l) {
				continue
			}
			if got, want := isLower(name, l), strings.ToLower(name) == l; got != want {
				t.Fatalf("isLower(%q, %q) = %v, want %v", name, l, got, want)
			}
		}
	})
}

// FuzzParseAmzDate: parseAmzDate is time.Parse with the X-Amz-Date
// layout, for strings of digits where the layout has them.
func FuzzParseAmzDate(f *testing.F) {
	for _, s := range []string{"20261122T100000Z", "20240229T000000Z", "20230229T000000Z", "21000229T000000Z", "20000229T235959Z", "00000229T000000Z",
		"20261131T000000Z", "20261232T000000Z", "20261300T000000Z", "20260001T000000Z", "20260100T000000Z", "20261122T240000Z",
		"20261122T236000Z", "20261122T235960Z", "99991231T235959Z", "20261122T100000", "2026-11-22T10:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseAmzDate(s)
		digits := len(s) == len(amzDateFormat)
		for i := 0; digits && i < len(s); i++ {
			digits = i == 8 || i == 15 || '0' <= s[i] && s[i] <= '9'
		}
		want, err := time.Parse(amzDateFormat, s)
		if !digits {
			if ok {
				t.Fatalf("parseAmzDate(%q) accepted", s)
			}
			return
		}
		if ok != (err == nil) || ok && !got.Equal(want) || ok && got.Location() != want.Location() {
			t.Fatalf("parseAmzDate(%q) = %v %v, time.Parse %v %v", s, got, ok, want, err)
		}
	})
}
