package sigv4x509

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"slices"
	"strings"
)

// canonicalURI is what the official client signs whatever path it sends
// (a --endpoint with a path prefix is sent but not signed), so a server
// mounted under a prefix must canonicalise with it too.
const canonicalURI = "/sessions"

// unsignedHeaders are never signed. The first three are the official
// client's exclusions. host is taken from the request's authority, not
// the header map. The rest are framing headers the Go transport writes
// itself, ignoring any value in the map, so signing them would sign a
// value the server never sees.
func unsignedHeader(lname string) bool {
	switch lname {
	case "authorization", "user-agent", "x-amzn-trace-id",
		"host", "content-length", "transfer-encoding", "trailer":
		return true
	}
	return false
}

// requestHost is the authority the client dials and Go sends as Host: the
// Host field if set, else the URL's host. On a server, r.Host carries the
// Host header (HTTP/1) or :authority (HTTP/2), port included.
func requestHost(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	if r.URL != nil {
		return r.URL.Host
	}
	return ""
}

// headerValues returns all values of the header named lname (lower case),
// matching keys case-insensitively so a header map filled by hand with
// non-canonical keys is read the same way as one filled by net/http.
// Several matching keys are merged in sorted key order, so the result does
// not depend on map iteration order.
func headerValues(h http.Header, lname string) []string {
	var match string
	n := 0
	for k := range h {
		if len(k) == len(lname) && strings.EqualFold(k, lname) {
			match = k
			n++
		}
	}
	switch n {
	case 0:
		return nil
	case 1:
		return h[match]
	}
	keys := make([]string, 0, n)
	for k := range h {
		if strings.EqualFold(k, lname) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var vals []string
	for _, k := range keys {
		vals = append(vals, h[k]...)
	}
	return vals
}

// deleteHeader removes every key equal to lname ignoring case.
func deleteHeader(h http.Header, lname string) {
	for k := range h {
		if strings.EqualFold(k, lname) {
			delete(h, k)
		}
	}
}

// canonicalValue is the value of one canonical header line: the values
// joined with ",", surrounding blanks trimmed and runs of spaces collapsed
// to one, as the official client's stripExcessSpaces does.
func canonicalValue(vals []string) string {
	v := strings.Trim(strings.Join(vals, ","), " \t")
	if !strings.Contains(v, "  ") {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	space := false
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// signedValue returns the canonical value of the signed header lname and
// whether the request has it at all.
func signedValue(r *http.Request, lname string) (string, bool) {
	if lname == "host" {
		h := requestHost(r)
		return h, h != ""
	}
	vals := headerValues(r.Header, lname)
	if vals == nil {
		return "", false
	}
	return canonicalValue(vals), true
}

// canonicalQuery re-encodes the parsed query the way the official client
// does: keys sorted, RFC 3986 escaping, space as %20. For well-formed
// clients this equals the raw query as sent.
func canonicalQuery(r *http.Request) string {
	if r.URL == nil || r.URL.RawQuery == "" {
		return ""
	}
	return strings.ReplaceAll(r.URL.Query().Encode(), "+", "%20")
}

func requestMethod(r *http.Request) string {
	if r.Method == "" {
		return http.MethodGet // net/http's meaning of an empty client method
	}
	return r.Method
}

// scope is the credential scope: date/region/service/aws4_request.
func scope(date8, region, service, terminal string) string {
	return date8 + "/" + region + "/" + service + "/" + terminal
}

// stringToSign builds the SigV4 string to sign for r over the signed header
// names (lower case, in the order given), hashing the canonical request
// as it is written rather than materialising it.
//
//	<algorithm>\n<X-Amz-Date>\n<scope>\n<hex SHA-256 of the canonical request>
//
// The canonical request is
//
//	METHOD\n/sessions\nQUERY\n(name:value\n)*\nname;name…\nhex(SHA-256(body))
func stringToSign(r *http.Request, algorithm, date, credScope string, signed []string, body []byte) []byte {
	h := sha256.New()
	w := func(parts ...string) {
		for _, p := range parts {
			io.WriteString(h, p)
		}
	}
	w(requestMethod(r), "\n", canonicalURI, "\n", canonicalQuery(r), "\n")
	for _, name := range signed {
		v, _ := signedValue(r, name)
		w(name, ":", v, "\n")
	}
	w("\n", strings.Join(signed, ";"), "\n", hexSHA256(body))
	return buildStringToSign(algorithm, date, credScope, h)
}

func buildStringToSign(algorithm, date, credScope string, canonicalRequest hash.Hash) []byte {
	var sum [sha256.Size]byte
	out := make([]byte, 0, len(algorithm)+len(date)+len(credScope)+3+2*sha256.Size)
	out = append(out, algorithm...)
	out = append(out, '\n')
	out = append(out, date...)
	out = append(out, '\n')
	out = append(out, credScope...)
	out = append(out, '\n')
	return hex.AppendEncode(out, canonicalRequest.Sum(sum[:0]))
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// namesToSign lists, sorted, the lower-case names of every header Sign
// signs: host plus each header in the map that unsignedHeader allows.
func namesToSign(r *http.Request) []string {
	names := []string{"host"}
	for k := range r.Header {
		l := strings.ToLower(k)
		if !unsignedHeader(l) && !slices.Contains(names, l) {
			names = append(names, l)
		}
	}
	slices.Sort(names)
	return names
}
