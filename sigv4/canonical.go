package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The canonical request and the string to sign are appended to one
// buffer the caller usually keeps on its stack: they are hashed, not
// kept, and a request's worth of small strings would be garbage for the
// collector on every signed call.

// appendCanonicalRequest appends
//
//	METHOD \n URI \n QUERY \n HEADERS \n SIGNEDHEADERS \n PAYLOADHASH
//
// as the AWS SDKs build it for services other than S3.
func appendCanonicalRequest(dst []byte, r *http.Request, a *auth, host string, payloadHash []byte) []byte {
	dst = append(dst, r.Method...)
	dst = append(dst, '\n')
	// The SDKs escape the already-escaped path once more (so "%2F" becomes
	// "%252F") for every service but S3. EscapedPath gives the path's
	// bytes as sent whenever they are a valid encoding, which is what the
	// client escaped.
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	dst = appendEscaped(dst, path, false)
	dst = append(dst, '\n')
	dst = appendCanonicalQuery(dst, a)
	dst = append(dst, '\n')
	for h := range strings.SplitSeq(a.signed, ";") {
		dst = append(dst, h...)
		dst = append(dst, ':')
		dst = appendHeaderValue(dst, r, h, host)
		dst = append(dst, '\n')
	}
	dst = append(dst, '\n')
	dst = append(dst, a.signed...)
	dst = append(dst, '\n')
	return append(dst, payloadHash...)
}

// appendStringToSign appends the string to sign over the canonical
// request canonical.
func appendStringToSign(dst []byte, a *auth, canonical []byte) []byte {
	sum := sha256.Sum256(canonical)
	dst = append(dst, Algorithm+"\n"...)
	dst = append(dst, a.amzDate...)
	dst = append(dst, '\n')
	dst = appendScope(dst, a.cred)
	dst = append(dst, '\n')
	return hex.AppendEncode(dst, sum[:])
}

// appendScope appends the credential scope without the access key:
// date/region/service/aws4_request.
func appendScope(dst []byte, c Credential) []byte {
	dst = append(dst, c.Date...)
	dst = append(dst, '/')
	dst = append(dst, c.Region...)
	dst = append(dst, '/')
	dst = append(dst, c.Service...)
	return append(dst, "/aws4_request"...)
}

// appendCanonicalQuery appends the decoded query parameters,
// RFC 3986-encoded and sorted by name, then value, leaving out a presigned
// URL's signature.
func appendCanonicalQuery(dst []byte, a *auth) []byte {
	if len(a.query) == 0 {
		return dst
	}
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
			dst = append(dst, '&')
		}
		dst = append(dst, p.k...)
		dst = append(dst, '=')
		dst = append(dst, p.v...)
	}
	return dst
}

// appendHeaderValue appends a signed header's canonical value: values
// with leading and trailing spaces trimmed and inner runs of spaces
// collapsed, repeated headers joined with commas. Go's server moves Host,
// Content-Length and Transfer-Encoding out of r.Header; they are read
// from where it puts them (host as given: the caller may try variants).
func appendHeaderValue(dst []byte, r *http.Request, name, host string) []byte {
	switch {
	case isLower(name, "host"):
		return appendTrimmed(dst, host)
	case isLower(name, "content-length"):
		if r.ContentLength >= 0 {
			dst = strconv.AppendInt(dst, r.ContentLength, 10)
		}
		return dst
	case isLower(name, "transfer-encoding"):
		if len(r.TransferEncoding) > 0 {
			for i, v := range r.TransferEncoding {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = append(dst, v...)
			}
			return dst
		}
	}
	for i, v := range headerValues(r.Header, name) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendTrimmed(dst, v)
	}
	return dst
}

// isLower reports whether strings.ToLower(s) == lower, for an ASCII
// lower, without allocating when s is ASCII.
func isLower(s, lower string) bool {
	if len(s) != len(lower) {
		// Only non-ASCII letters change length in lower case.
		return !isASCII(s) && strings.ToLower(s) == lower
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return strings.ToLower(s) == lower
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// headerValues returns h[http.CanonicalHeaderKey(name)] without
// allocating the canonical key for names made of letters, digits, '-',
// '_' and '.', which it canonicalises as net/textproto does: upper case
// at the start and after each '-', lower case elsewhere. Other names
// (textproto leaves some unchanged) take the library's path.
func headerValues(h http.Header, name string) []string {
	var key [64]byte
	if len(name) > len(key) {
		return h[http.CanonicalHeaderKey(name)]
	}
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z':
			if upper {
				c -= 'a' - 'A'
			}
		case 'A' <= c && c <= 'Z':
			if !upper {
				c += 'a' - 'A'
			}
		case '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		default:
			return h[http.CanonicalHeaderKey(name)]
		}
		key[i] = c
		upper = c == '-'
	}
	return h[string(key[:len(name)])]
}

// appendTrimmed appends s without leading or trailing spaces and with
// each run of spaces as one space, as the SDKs canonicalise header
// values.
func appendTrimmed(dst []byte, s string) []byte {
	s = strings.Trim(s, " ")
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			space = true
			continue
		}
		if space {
			dst = append(dst, ' ')
			space = false
		}
		dst = append(dst, c)
	}
	return dst
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
	return string(appendEscaped(make([]byte, 0, len(s)+2*n), s, true))
}

// appendEscaped appends s with every byte but the unreserved ones (and
// '/', unless encodeSlash) percent-encoded.
func appendEscaped(dst []byte, s string, encodeSlash bool) []byte {
	const hexdigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (c == '/' && !encodeSlash) {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', hexdigits[c>>4], hexdigits[c&15])
	}
	return dst
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

// hmacSHA256 is HMAC-SHA256 (RFC 2104). crypto/hmac allocates the MAC and
// two digests for every use; the messages here are short, so the padded
// key and the message are hashed from a buffer on the stack instead.
func hmacSHA256(key, msg []byte) [sha256.Size]byte {
	const blockSize = 64
	if len(key) > blockSize {
		k := sha256.Sum256(key)
		key = k[:]
	}
	var inner [blockSize + 192]byte
	in := inner[:blockSize]
	for i := range in {
		var k byte
		if i < len(key) {
			k = key[i]
		}
		in[i] = k ^ 0x36
	}
	in = append(in, msg...)
	innerSum := sha256.Sum256(in)
	var outer [blockSize + sha256.Size]byte
	for i := range blockSize {
		var k byte
		if i < len(key) {
			k = key[i]
		}
		outer[i] = k ^ 0x5c
	}
	copy(outer[blockSize:], innerSum[:])
	return sha256.Sum256(outer[:])
}
