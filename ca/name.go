package ca

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"strconv"
	"strings"
)

// Subject is PCA's ASN1Subject: a distinguished name as JSON fields, used
// for a CA's subject and for ApiPassthrough subject overrides.
type Subject struct {
	Country                    string            `json:"Country,omitempty"`
	Organization               string            `json:"Organization,omitempty"`
	OrganizationalUnit         string            `json:"OrganizationalUnit,omitempty"`
	DistinguishedNameQualifier string            `json:"DistinguishedNameQualifier,omitempty"`
	State                      string            `json:"State,omitempty"`
	CommonName                 string            `json:"CommonName,omitempty"`
	SerialNumber               string            `json:"SerialNumber,omitempty"`
	Locality                   string            `json:"Locality,omitempty"`
	Title                      string            `json:"Title,omitempty"`
	Surname                    string            `json:"Surname,omitempty"`
	GivenName                  string            `json:"GivenName,omitempty"`
	Initials                   string            `json:"Initials,omitempty"`
	Pseudonym                  string            `json:"Pseudonym,omitempty"`
	GenerationQualifier        string            `json:"GenerationQualifier,omitempty"`
	CustomAttributes           []CustomAttribute `json:"CustomAttributes,omitempty"`
}

// CustomAttribute is an RDN given by dotted OID.
type CustomAttribute struct {
	ObjectIdentifier string `json:"ObjectIdentifier"`
	Value            string `json:"Value"`
}

// Attribute types pkix.Name has no field for.
var (
	oidDNQualifier         = asn1.ObjectIdentifier{2, 5, 4, 46}
	oidTitle               = asn1.ObjectIdentifier{2, 5, 4, 12}
	oidSurname             = asn1.ObjectIdentifier{2, 5, 4, 4}
	oidGivenName           = asn1.ObjectIdentifier{2, 5, 4, 42}
	oidInitials            = asn1.ObjectIdentifier{2, 5, 4, 43}
	oidPseudonym           = asn1.ObjectIdentifier{2, 5, 4, 65}
	oidGenerationQualifier = asn1.ObjectIdentifier{2, 5, 4, 44}
)

func (s Subject) extra() []struct {
	oid asn1.ObjectIdentifier
	v   string
} {
	return []struct {
		oid asn1.ObjectIdentifier
		v   string
	}{
		{oidDNQualifier, s.DistinguishedNameQualifier}, {oidTitle, s.Title}, {oidSurname, s.Surname},
		{oidGivenName, s.GivenName}, {oidInitials, s.Initials}, {oidPseudonym, s.Pseudonym},
		{oidGenerationQualifier, s.GenerationQualifier},
	}
}

// Name converts s to a pkix.Name. Custom attributes with a malformed OID
// give InvalidArgsException.
func (s Subject) Name() (pkix.Name, error) {
	n := pkix.Name{CommonName: s.CommonName, SerialNumber: s.SerialNumber}
	for _, f := range []struct {
		dst *[]string
		v   string
	}{
		{&n.Country, s.Country}, {&n.Organization, s.Organization}, {&n.OrganizationalUnit, s.OrganizationalUnit},
		{&n.Province, s.State}, {&n.Locality, s.Locality},
	} {
		if f.v != "" {
			*f.dst = []string{f.v}
		}
	}
	for _, e := range s.extra() {
		if e.v != "" {
			n.ExtraNames = append(n.ExtraNames, pkix.AttributeTypeAndValue{Type: e.oid, Value: e.v})
		}
	}
	for _, c := range s.CustomAttributes {
		oid, ok := parseOID(c.ObjectIdentifier)
		if !ok {
			return pkix.Name{}, invalidArgs("ca.subject.oid", "The custom attribute object identifier %q is not valid.", c.ObjectIdentifier)
		}
		n.ExtraNames = append(n.ExtraNames, pkix.AttributeTypeAndValue{Type: oid, Value: c.Value})
	}
	return n, nil
}

// IsZero reports whether s names nothing.
func (s Subject) IsZero() bool {
	if len(s.CustomAttributes) > 0 || s.CommonName != "" || s.SerialNumber != "" || s.Country != "" ||
		s.Organization != "" || s.OrganizationalUnit != "" || s.State != "" || s.Locality != "" {
		return false
	}
	for _, e := range s.extra() {
		if e.v != "" {
			return false
		}
	}
	return true
}

func parseOID(s string) (asn1.ObjectIdentifier, bool) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return nil, false
	}
	oid := make(asn1.ObjectIdentifier, len(parts))
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || (p != "0" && strings.HasPrefix(p, "0")) {
			return nil, false
		}
		oid[i] = v
	}
	if oid[0] > 2 || (oid[0] < 2 && oid[1] > 39) {
		return nil, false
	}
	return oid, true
}
