package sigv4

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// canonicalRequest builds
//
//	METHOD \n URI \n QUERY \n HEADERS \n SIGNEDHEADERS \n PAYLOADHASH
//
// as the AWS SDKs do for services other than S3.
func canonicalRequest(r *http.Request, a *auth, host, payloadHash string) string {
	var b strings.Builder
	b.Grow(512)
	b.WriteString(r.Method)
	b.WriteByte('\n')
	// The SDKs escape the already-escaped path once more (so "%2F" becomes
	// "%252F") for every service but S3. EscapedPath gives the path's
	// bytes as sent whenever they are a valid encoding, which is what the
	// client escaped.
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	writeEscaped(&b, path, false)
	b.WriteByte('\n')
	writeCanonicalQuery(&b, a)
	b.WriteByte('\n')
	for _, h := range a.signedHeaders {
		b.WriteString(h)
		b.WriteByte(':')
		writeHeaderValue(&b, r, h, host)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(a.signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// writeCanonicalQuery writes the decoded query parameters, RFC 3986-encoded
// and sorted by name, then value, leaving out a presigned URL's signature.
func writeCanonicalQuery(b *strings.Builder, a *auth) {
	type param struct{ k, v string }
	params := make([]param, 0, len(a.query))
	for k, vs := range a.query {
		if a.presigned && k == "X-Amz-Signature" {
			continue
		}
		ek := rfc3986(k)
		for _, v := range vs {
			params = append(params, param{ek, rfc3986(v)})
		}
	}
	slices.SortFunc(params, func(x, y param) int {
		if c := strings.Compare(x.k, y.k); c != 0 {
			return c
		}
		return strings.Compare(x.v, y.v)
	})
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
}

// writeHeaderValue writes a signed header's canonical value: values with
// leading and trailing spaces trimmed and inner runs of spaces collapsed,
// repeated headers joined with commas. Go's server moves Host,
// Content-Length and Transfer-Encoding out of r.Header; they are read
// from where it puts them (host as given: the caller may try variants).
func writeHeaderValue(b *strings.Builder, r *http.Request, name, host string) {
	switch strings.ToLower(name) {
	case "host":
		writeTrimmed(b, host)
		return
	case "content-length":
		if r.ContentLength >= 0 {
			b.WriteString(strconv.FormatInt(r.ContentLength, 10))
		}
		return
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			b.WriteString(strings.Join(r.TransferEncoding, ","))
			return
		}
	}
	for i, v := range r.Header[http.CanonicalHeaderKey(name)] {
		if i > 0 {
			b.WriteByte(',')
		}
		writeTrimmed(b, v)
	}
}

// writeTrimmed writes s without leading or trailing spaces and with each
// run of spaces as one space, as the SDKs canonicalise header values.
func writeTrimmed(b *strings.Builder, s string) {
	s = strings.Trim(s, " ")
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteByte(c)
	}
}

// rfc3986 percent-encodes every byte except the unreserved characters
// A–Z a–z 0–9 - _ . ~, with upper-case hex, as SigV4 requires.
func rfc3986(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	writeEscaped(&b, s, true)
	return b.String()
}

// writeEscaped writes s with every byte but the unreserved ones (and '/',
// unless encodeSlash) percent-encoded.
func writeEscaped(b *strings.Builder, s string, encodeSlash bool) {
	const hexdigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (c == '/' && !encodeSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdigits[c>>4])
		b.WriteByte(hexdigits[c&15])
	}
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}
