package cacli

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca/types"

	"github.com/iamra/iamra/ca"
)

// subjectFields maps the attribute names ParseSubject accepts to the
// field of ca.Subject they set (RFC 4514 short names, plus long names).
var subjectFields = map[string]func(*ca.Subject) *string{
	"CN": func(s *ca.Subject) *string { return &s.CommonName }, "O": func(s *ca.Subject) *string { return &s.Organization },
	"OU": func(s *ca.Subject) *string { return &s.OrganizationalUnit }, "C": func(s *ca.Subject) *string { return &s.Country },
	"ST": func(s *ca.Subject) *string { return &s.State }, "L": func(s *ca.Subject) *string { return &s.Locality },
	"SERIALNUMBER": func(s *ca.Subject) *string { return &s.SerialNumber }, "TITLE": func(s *ca.Subject) *string { return &s.Title },
	"SN": func(s *ca.Subject) *string { return &s.Surname }, "GN": func(s *ca.Subject) *string { return &s.GivenName },
	"DNQUALIFIER": func(s *ca.Subject) *string { return &s.DistinguishedNameQualifier },
	"PSEUDONYM":   func(s *ca.Subject) *string { return &s.Pseudonym },
	"INITIALS":    func(s *ca.Subject) *string { return &s.Initials },
}

// ParseSubject reads "CN=Example Root,O=Example,C=US" (a backslash
// escapes a comma or backslash). Each attribute may appear once; "" is an
// empty subject.
func ParseSubject(s string) (ca.Subject, error) {
	var out ca.Subject
	seen := map[string]bool{}
	for _, part := range splitEscaped(s) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		key := strings.ToUpper(strings.TrimSpace(k))
		field, known := subjectFields[key]
		switch {
		case !ok:
			return ca.Subject{}, fmt.Errorf("subject part %q is not NAME=value", part)
		case !known:
			return ca.Subject{}, fmt.Errorf("subject attribute %q is not one of CN, O, OU, C, ST, L, SERIALNUMBER, TITLE, SN, GN, DNQUALIFIER, PSEUDONYM, INITIALS", k)
		case seen[key]:
			return ca.Subject{}, fmt.Errorf("subject attribute %s appears twice", key)
		}
		seen[key] = true
		*field(&out) = strings.TrimSpace(v)
	}
	return out, nil
}

func splitEscaped(s string) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case s[i] == ',':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	return append(parts, cur.String())
}

// FormatSubject prints the common attributes of a PCA subject as
// ParseSubject reads them.
func FormatSubject(s *types.ASN1Subject) string {
	var parts []string
	for _, f := range []struct {
		k string
		v *string
	}{{"CN", s.CommonName}, {"OU", s.OrganizationalUnit}, {"O", s.Organization}, {"L", s.Locality}, {"ST", s.State}, {"C", s.Country}} {
		if v := aws.ToString(f.v); v != "" {
			parts = append(parts, f.k+"="+strings.NewReplacer(`\`, `\\`, ",", `\,`).Replace(v))
		}
	}
	return strings.Join(parts, ",")
}

// asn1Subject converts to the SDK's shape (empty fields stay absent).
func asn1Subject(s ca.Subject) *types.ASN1Subject {
	opt := func(v string) *string {
		if v == "" {
			return nil
		}
		return aws.String(v)
	}
	return &types.ASN1Subject{
		CommonName: opt(s.CommonName), Organization: opt(s.Organization), OrganizationalUnit: opt(s.OrganizationalUnit),
		Country: opt(s.Country), State: opt(s.State), Locality: opt(s.Locality), SerialNumber: opt(s.SerialNumber),
		Title: opt(s.Title), Surname: opt(s.Surname), GivenName: opt(s.GivenName), Initials: opt(s.Initials),
		Pseudonym: opt(s.Pseudonym), DistinguishedNameQualifier: opt(s.DistinguishedNameQualifier),
	}
}

func parseURI(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("--uri %q is not an absolute URI", s)
	}
	return u, nil
}
