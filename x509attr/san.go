package x509attr

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
)

var oidSAN = asn1.ObjectIdentifier{2, 5, 29, 17}

// GeneralName tags (RFC 5280 §4.2.1.6).
const (
	tagDNSName       = 2
	tagDirectoryName = 4
	tagURI           = 6
)

// sanValues are the SAN entries AWS maps: the first dNSName, the first URI
// and the attributes of the first directoryName, each exactly as encoded.
// crypto/x509 drops directoryNames and re-serialises URIs, so the
// extension is read directly.
type sanValues struct {
	dns, uri       string
	hasDNS, hasURI bool
	dirName        []pkix.AttributeTypeAndValue
	hasDirName     bool
}

func subjectAltNames(cert *x509.Certificate) sanValues {
	var s sanValues
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(oidSAN) {
			continue
		}
		var seq asn1.RawValue
		if rest, err := asn1.Unmarshal(ext.Value, &seq); err != nil || len(rest) != 0 || seq.Tag != asn1.TagSequence {
			return s
		}
		for rest := seq.Bytes; len(rest) > 0; {
			var gn asn1.RawValue
			var err error
			if rest, err = asn1.Unmarshal(rest, &gn); err != nil {
				return s
			}
			if gn.Class != asn1.ClassContextSpecific {
				continue
			}
			switch gn.Tag {
			case tagDNSName:
				if !s.hasDNS {
					s.dns, s.hasDNS = string(gn.Bytes), true
				}
			case tagURI:
				if !s.hasURI {
					s.uri, s.hasURI = string(gn.Bytes), true
				}
			case tagDirectoryName:
				if s.hasDirName {
					continue
				}
				var dn pkix.RDNSequence
				if r, err := asn1.Unmarshal(gn.Bytes, &dn); err == nil && len(r) == 0 {
					var n pkix.Name
					n.FillFromRDNSequence(&dn)
					s.dirName, s.hasDirName = n.Names, true
				}
			}
		}
		return s
	}
	return s
}
