package x509attr

import (
	"crypto/x509"
)

// SourceIdentity is the source identity AWS sets for a certificate
// (createsession.md §5.2): "CN=<CN>" for a subject CN of at most 61
// characters, the CN alone for 62 to 64, otherwise "ID=<serial>" in
// lower-case hex of even length. A CN that STS's SourceIdentity pattern
// refuses (a space, for instance) also falls back to the ID form, so the
// AssumeRole never fails on it (iamra's choice, §11 item 4). With several
// CNs, the first in certificate order counts.
func SourceIdentity(cert *x509.Certificate) string {
	if cn, ok := firstValue(cert.Subject.Names, "CN"); ok {
		switch n := len([]rune(cn)); {
		case n <= 61 && ValidRoleSessionName("CN="+cn):
			return "CN=" + cn
		case n >= 62 && n <= 64 && ValidRoleSessionName(cn):
			return cn
		}
	}
	return "ID=" + SerialHex(cert.SerialNumber)
}

// DefaultRoleSessionName is the role session name when the request sets
// none: the serial number in lower-case hex of even length, as AWS's
// responses show it (createsession.md §5.3).
func DefaultRoleSessionName(cert *x509.Certificate) string {
	return SerialHex(cert.SerialNumber)
}

// ValidRoleSessionName applies STS's rule for role session names (and
// source identities): 2 to 64 characters of [\w+=,.@-].
func ValidRoleSessionName(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '_', c == '+', c == '=', c == ',', c == '.', c == '@', c == '-':
		default:
			return false
		}
	}
	return true
}
