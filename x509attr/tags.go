package x509attr

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/sts"
)

// STS session tag limits.
const (
	MaxTags          = 50
	MaxTagKeyChars   = 128
	MaxTagValueChars = 256
)

// Reasons of SessionTags' AccessDeniedExceptions.
const (
	ReasonTagsInvalidValue = "tags.invalid_value" // a mapped attribute's value breaks STS's tag value rules
	ReasonTagsTooMany      = "tags.too_many"      // the mappings yield more than 50 session tags
)

// Options tunes SessionTags.
type Options struct {
	// DropInvalid leaves out tags whose value STS would refuse (and the
	// tags past the 50th) instead of failing the request. AWS documents
	// this behaviour but, in practice, fails (createsession.md §5.1).
	DropInvalid bool
}

// tagSet collects the tags of one certificate, and the attributes whose
// values cannot be tags, grouped as AWS's message groups them.
type tagSet struct {
	tags                 []sts.Tag
	issuer, subject, san []string // failing attribute names
	problems             []string // operator detail
	dropInvalid          bool
}

func (t *tagSet) add(group *[]string, attr, key, value string) {
	if why := tagValueProblem(value); why != "" {
		if !t.dropInvalid {
			*group = append(*group, attr)
			t.problems = append(t.problems, fmt.Sprintf("%s %q: %s", key, value, why))
		}
		return
	}
	t.tags = append(t.tags, sts.Tag{Key: key, Value: value})
}

func (t *tagSet) addDN(group *[]string, prefix string, names []pkix.AttributeTypeAndValue, sel selection) {
	if sel.empty() {
		return
	}
	for _, a := range attributes(names) {
		if sel.selects(a.name) {
			t.add(group, a.name, prefix+a.name, strings.Join(a.values, "/"))
		}
	}
}

// SessionTags derives the session tags of a certificate from a profile's
// attribute mappings (createsession.md §5.1): x509Subject/<RDN>,
// x509Issuer/<RDN>, x509SAN/DNS (first dNSName), x509SAN/URI (first URI)
// and x509SAN/Name/<RDN> (first directoryName), multi-valued attributes
// joined with "/" in certificate order. Tags come out subject first, then
// issuer, then SAN, each in certificate order.
//
// A value STS would refuse fails the whole call as AWS does, with AWS's
// message naming the failing attributes, unless opts.DropInvalid.
func SessionTags(cert *x509.Certificate, mappings []rolesanywhere.AttributeMapping, opts Options) ([]sts.Tag, error) {
	sel := compile(mappings)
	t := &tagSet{dropInvalid: opts.DropInvalid}
	t.addDN(&t.subject, rolesanywhere.FieldSubject+"/", cert.Subject.Names, sel.subject)
	t.addDN(&t.issuer, rolesanywhere.FieldIssuer+"/", cert.Issuer.Names, sel.issuer)
	if sel.dns || sel.uri || !sel.sanName.empty() {
		san := subjectAltNames(cert)
		if sel.dns && san.hasDNS {
			t.add(&t.san, SpecifierDNS, rolesanywhere.FieldSAN+"/"+SpecifierDNS, san.dns)
		}
		if sel.uri && san.hasURI {
			t.add(&t.san, SpecifierURI, rolesanywhere.FieldSAN+"/"+SpecifierURI, san.uri)
		}
		if san.hasDirName {
			t.addDN(&t.san, rolesanywhere.FieldSAN+"/"+namePrefix, san.dirName, sel.sanName)
		}
	}
	if len(t.problems) > 0 {
		return nil, awserr.AccessDenied(fmt.Sprintf("some attributes fail to be mapped into session tags: [%s]; subject: [%s]. SAN:[%s]",
			strings.Join(t.issuer, ", "), strings.Join(t.subject, ", "), strings.Join(t.san, ", "))).
			Because(ReasonTagsInvalidValue, "%s", strings.Join(t.problems, "; "))
	}
	if len(t.tags) > MaxTags {
		if !opts.DropInvalid {
			return nil, awserr.AccessDenied(fmt.Sprintf("some attributes fail to be mapped into session tags: %d tags exceed the limit of %d", len(t.tags), MaxTags)).
				Because(ReasonTagsTooMany, "the attribute mappings yield %d session tags; STS accepts at most %d", len(t.tags), MaxTags)
		}
		t.tags = t.tags[:MaxTags]
	}
	return t.tags, nil
}

// tagValueProblem says why STS would refuse value as a session tag value,
// or "" if it is acceptable: at most 256 characters of letters, numbers,
// separators (spaces) and _ . : / = + - @.
func tagValueProblem(value string) string {
	if !utf8.ValidString(value) {
		return "not valid UTF-8"
	}
	if n := utf8.RuneCountInString(value); n > MaxTagValueChars {
		return fmt.Sprintf("%d characters, at most %d are allowed", n, MaxTagValueChars)
	}
	var bad []string
	for _, r := range value {
		if !tagChar(r) {
			if q := fmt.Sprintf("%q", r); !contains(bad, q) {
				bad = append(bad, q)
			}
		}
	}
	if len(bad) > 0 {
		return "characters " + strings.Join(bad, " ") + " are not allowed in session tag values"
	}
	return ""
}

func tagChar(r rune) bool {
	switch r {
	case '_', '.', ':', '/', '=', '+', '-', '@':
		return true
	}
	return unicode.In(r, unicode.L, unicode.Z, unicode.N)
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
