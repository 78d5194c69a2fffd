package x509attr

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
)

// rdn is a recognised attribute type: OpenSSL's short name for an OID
// (rolesanywhere-api.md §9). AWS documents CN, OU, UID, C, O, ST and L; the
// rest of OpenSSL's common set is iamra's choice. Unknown OIDs never
// become tags.
type rdn struct {
	name string
	oid  asn1.ObjectIdentifier
}

var rdns = []rdn{
	{"C", asn1.ObjectIdentifier{2, 5, 4, 6}},
	{"ST", asn1.ObjectIdentifier{2, 5, 4, 8}},
	{"L", asn1.ObjectIdentifier{2, 5, 4, 7}},
	{"O", asn1.ObjectIdentifier{2, 5, 4, 10}},
	{"OU", asn1.ObjectIdentifier{2, 5, 4, 11}},
	{"CN", asn1.ObjectIdentifier{2, 5, 4, 3}},
	{"STREET", asn1.ObjectIdentifier{2, 5, 4, 9}},
	{"postalCode", asn1.ObjectIdentifier{2, 5, 4, 17}},
	{"SERIALNUMBER", asn1.ObjectIdentifier{2, 5, 4, 5}},
	{"DC", asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}},
	{"UID", asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}},
	{"emailAddress", asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}},
	{"title", asn1.ObjectIdentifier{2, 5, 4, 12}},
	{"GN", asn1.ObjectIdentifier{2, 5, 4, 42}},
	{"SN", asn1.ObjectIdentifier{2, 5, 4, 4}},
	{"initials", asn1.ObjectIdentifier{2, 5, 4, 43}},
	{"pseudonym", asn1.ObjectIdentifier{2, 5, 4, 65}},
	{"dnQualifier", asn1.ObjectIdentifier{2, 5, 4, 46}},
	{"generationQualifier", asn1.ObjectIdentifier{2, 5, 4, 44}},
}

// RDNNames are the recognised RDN short names, in the order above.
func RDNNames() []string {
	out := make([]string, len(rdns))
	for i, r := range rdns {
		out[i] = r.name
	}
	return out
}

func rdnName(oid asn1.ObjectIdentifier) (string, bool) {
	for _, r := range rdns {
		if r.oid.Equal(oid) {
			return r.name, true
		}
	}
	return "", false
}

// canonicalRDN maps a specifier to its short name, ignoring case so that
// "cn" and "CN" select the same attribute and name the same tag.
func canonicalRDN(s string) (string, bool) {
	for _, r := range rdns {
		if strings.EqualFold(r.name, s) {
			return r.name, true
		}
	}
	return "", false
}

// attribute is one recognised attribute of a DN with its values in
// certificate order.
type attribute struct {
	name   string
	values []string
}

// attributes groups the recognised, string-valued attributes of a DN by
// short name, in order of first appearance. Multi-valued RDNs are
// flattened, which is what certificate order means for them.
func attributes(names []pkix.AttributeTypeAndValue) []attribute {
	var out []attribute
next:
	for _, atv := range names {
		name, ok := rdnName(atv.Type)
		if !ok {
			continue
		}
		v, ok := atv.Value.(string)
		if !ok {
			continue
		}
		for i := range out {
			if out[i].name == name {
				out[i].values = append(out[i].values, v)
				continue next
			}
		}
		out = append(out, attribute{name: name, values: []string{v}})
	}
	return out
}

// firstValue is the first value of attribute name, in certificate order.
func firstValue(names []pkix.AttributeTypeAndValue, name string) (string, bool) {
	for _, a := range attributes(names) {
		if a.name == name {
			return a.values[0], true
		}
	}
	return "", false
}
