package x509attr

import (
	"fmt"
	"strings"

	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/rolesanywhere"
)

// SAN specifiers.
const (
	SpecifierAll     = "*"
	SpecifierDNS     = "DNS"
	SpecifierURI     = "URI"
	SpecifierNameAll = "Name/*"
	namePrefix       = "Name/"
)

// Reasons of the ValidationExceptions for attribute mapping input.
const (
	ReasonMappingField     = "mapping.invalid_field"     // certificateField is not x509Subject, x509Issuer or x509SAN
	ReasonMappingSpecifier = "mapping.invalid_specifier" // a specifier this field does not know
)

var fields = []string{rolesanywhere.FieldIssuer, rolesanywhere.FieldSAN, rolesanywhere.FieldSubject}

// NormalizeSpecifier returns the canonical form of a specifier for a
// certificate field, as AWS shows it back: RDN short names in OpenSSL's
// spelling ("cn" → "CN"), and the SAN directoryName forms "Name" and
// "Name/" as "Name/*". Unknown specifiers are a ValidationException.
//
// "*" is accepted for x509Subject and x509Issuer only; for x509SAN it has
// no meaning (AWS: DNS and URI are single values), so iamra refuses it
// rather than store a rule that silently maps nothing.
func NormalizeSpecifier(field, spec string) (string, error) {
	switch field {
	case rolesanywhere.FieldSubject, rolesanywhere.FieldIssuer:
		if spec == SpecifierAll {
			return spec, nil
		}
		if name, ok := canonicalRDN(spec); ok {
			return name, nil
		}
	case rolesanywhere.FieldSAN:
		switch {
		case strings.EqualFold(spec, SpecifierDNS):
			return SpecifierDNS, nil
		case strings.EqualFold(spec, SpecifierURI):
			return SpecifierURI, nil
		case strings.EqualFold(spec, "Name"), strings.EqualFold(spec, namePrefix), strings.EqualFold(spec, SpecifierNameAll):
			return SpecifierNameAll, nil
		case len(spec) > len(namePrefix) && strings.EqualFold(spec[:len(namePrefix)], namePrefix):
			if name, ok := canonicalRDN(spec[len(namePrefix):]); ok {
				return namePrefix + name, nil
			}
		}
	default:
		return "", fieldError(field)
	}
	return "", awserr.Validation(fmt.Sprintf("Invalid specifier '%s' for certificateField %s; valid specifiers are %s", spec, field, validSpecifiers(field))).
		Because(ReasonMappingSpecifier, "specifier %q is not known for %s", spec, field)
}

func fieldError(field string) error {
	return awserr.Violations(awserr.Violation{Value: field, Null: field == "", Field: "certificateField",
		Constraint: "Member must satisfy enum value set: [" + strings.Join(fields, ", ") + "]"}).
		Because(ReasonMappingField, "certificateField %q is not one of %s", field, strings.Join(fields, ", "))
}

func validSpecifiers(field string) string {
	if field == rolesanywhere.FieldSAN {
		return "DNS, URI, Name/* and Name/<RDN> with RDN one of " + strings.Join(RDNNames(), ", ")
	}
	return "* and " + strings.Join(RDNNames(), ", ")
}

// ValidateMapping checks PutAttributeMapping input and returns it with
// every specifier normalised and repeats removed (first occurrence kept).
func ValidateMapping(m rolesanywhere.AttributeMapping) (rolesanywhere.AttributeMapping, error) {
	switch m.CertificateField {
	case rolesanywhere.FieldSubject, rolesanywhere.FieldIssuer, rolesanywhere.FieldSAN:
	default:
		return rolesanywhere.AttributeMapping{}, fieldError(m.CertificateField)
	}
	out := rolesanywhere.AttributeMapping{CertificateField: m.CertificateField, MappingRules: make([]rolesanywhere.MappingRule, 0, len(m.MappingRules))}
	seen := make(map[string]bool, len(m.MappingRules))
	for _, r := range m.MappingRules {
		spec, err := NormalizeSpecifier(m.CertificateField, r.Specifier)
		if err != nil {
			return rolesanywhere.AttributeMapping{}, err
		}
		if !seen[spec] {
			seen[spec] = true
			out.MappingRules = append(out.MappingRules, rolesanywhere.MappingRule{Specifier: spec})
		}
	}
	return out, nil
}

// selection is what a field's rules select from a DN: everything
// recognised, or the listed short names.
type selection struct {
	all   bool
	names map[string]bool
}

func (s *selection) add(name string) {
	if name == SpecifierAll {
		s.all = true
		return
	}
	if s.names == nil {
		s.names = make(map[string]bool)
	}
	s.names[name] = true
}

func (s selection) selects(name string) bool { return s.all || s.names[name] }
func (s selection) empty() bool              { return !s.all && len(s.names) == 0 }

// selections compiles mappings. Stored rules that no longer normalise
// (written by an older version, or directly to the store) are skipped:
// CreateSession must not fail on configuration the API would refuse.
type selections struct {
	subject, issuer, sanName selection
	dns, uri                 bool
}

func compile(mappings []rolesanywhere.AttributeMapping) selections {
	var s selections
	for _, m := range mappings {
		for _, r := range m.MappingRules {
			spec, err := NormalizeSpecifier(m.CertificateField, r.Specifier)
			if err != nil {
				continue
			}
			switch m.CertificateField {
			case rolesanywhere.FieldSubject:
				s.subject.add(spec)
			case rolesanywhere.FieldIssuer:
				s.issuer.add(spec)
			case rolesanywhere.FieldSAN:
				switch spec {
				case SpecifierDNS:
					s.dns = true
				case SpecifierURI:
					s.uri = true
				default:
					s.sanName.add(strings.TrimPrefix(spec, namePrefix))
				}
			}
		}
	}
	return s
}
