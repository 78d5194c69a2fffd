package keysource

import (
	"crypto/x509"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// DefaultPKCS11Lib is the module loaded when --pkcs11-lib is not given, as
// in the official helper: p11-kit's proxy, which forwards to every module
// registered with p11-kit.
const DefaultPKCS11Lib = "p11-kit-proxy.so"

// TokenCertificate is a certificate found on a PKCS#11 token, with a URI
// that names it (without the PIN).
type TokenCertificate struct {
	Cert *x509.Certificate
	URI  string
}

// PKCS11URI is a parsed RFC 7512 "pkcs11:" URI. Only the attributes a
// credential helper uses get fields; Path and Query keep everything,
// percent-decoded.
type PKCS11URI struct {
	Path  map[string]string
	Query map[string]string
}

var pkcs11PathAttrs = map[string]bool{
	"token": true, "manufacturer": true, "serial": true, "model": true,
	"library-manufacturer": true, "library-description": true, "library-version": true,
	"object": true, "type": true, "id": true,
	"slot-description": true, "slot-manufacturer": true, "slot-id": true,
}

var pkcs11QueryAttrs = map[string]bool{
	"pin-source": true, "pin-value": true, "module-name": true, "module-path": true,
}

// ParsePKCS11URI parses s, e.g.
// "pkcs11:token=iamra;object=workload;type=private?pin-value=1234".
func ParsePKCS11URI(s string) (*PKCS11URI, error) {
	rest, ok := strings.CutPrefix(s, "pkcs11:")
	if !ok {
		return nil, fmt.Errorf("PKCS#11 URI must start with \"pkcs11:\"")
	}
	path, query, _ := strings.Cut(rest, "?")
	u := &PKCS11URI{Path: map[string]string{}, Query: map[string]string{}}
	if err := splitAttrs(path, ";", pkcs11PathAttrs, u.Path); err != nil {
		return nil, err
	}
	if err := splitAttrs(query, "&", pkcs11QueryAttrs, u.Query); err != nil {
		return nil, err
	}
	if t, ok := u.Path["type"]; ok {
		switch t {
		case "cert", "private", "public", "data", "secret-key":
		default:
			return nil, fmt.Errorf("PKCS#11 URI: unknown object type %q", t)
		}
	}
	if id, ok := u.Path["slot-id"]; ok {
		if _, err := strconv.ParseUint(id, 10, 64); err != nil {
			return nil, fmt.Errorf("PKCS#11 URI: slot-id %q is not a decimal number", id)
		}
	}
	return u, nil
}

func splitAttrs(s, sep string, known map[string]bool, into map[string]string) error {
	if s == "" {
		return nil
	}
	for _, attr := range strings.Split(s, sep) {
		if attr == "" {
			continue
		}
		k, v, ok := strings.Cut(attr, "=")
		if !ok {
			return fmt.Errorf("PKCS#11 URI: attribute %q has no value", attr)
		}
		if !known[k] && !strings.HasPrefix(k, "x-") {
			return fmt.Errorf("PKCS#11 URI: unknown attribute %q", k)
		}
		if _, dup := into[k]; dup {
			return fmt.Errorf("PKCS#11 URI: attribute %q appears twice", k)
		}
		dv, err := url.PathUnescape(v)
		if err != nil {
			return fmt.Errorf("PKCS#11 URI: attribute %q: bad percent-encoding", k)
		}
		into[k] = dv
	}
	return nil
}

// String formats u back into a URI, percent-encoding what RFC 7512 requires
// and omitting pin-value, so it is safe to print.
func (u *PKCS11URI) String() string {
	var b strings.Builder
	b.WriteString("pkcs11:")
	write := func(m map[string]string, order []string, sep string) {
		// Standard attributes in RFC 7512's example order, vendor ones after.
		keys := slices.DeleteFunc(slices.Clone(order), func(k string) bool { _, ok := m[k]; return !ok })
		var vendor []string
		for k := range m {
			if !slices.Contains(order, k) {
				vendor = append(vendor, k)
			}
		}
		slices.Sort(vendor)
		for i, k := range append(keys, vendor...) {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(k + "=" + escapePKCS11(m[k]))
		}
	}
	write(u.Path, []string{"model", "manufacturer", "serial", "token", "library-manufacturer", "library-description",
		"library-version", "slot-manufacturer", "slot-description", "slot-id", "id", "object", "type"}, ";")
	q := maps.Clone(u.Query)
	delete(q, "pin-value")
	if len(q) > 0 {
		b.WriteString("?")
		write(q, []string{"pin-source", "module-name", "module-path"}, "&")
	}
	return b.String()
}

// escapePKCS11 percent-encodes everything outside RFC 7512's pchar set minus
// the attribute separators.
func escapePKCS11(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~:[]@!$'()*+,=", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
