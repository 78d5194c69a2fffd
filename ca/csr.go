package ca

// This file is iamra's own parser for the PKCS#10 requests clients send,
// which ParseCSR tries before x509.ParseCertificateRequest.
//
// crypto/x509 parses a CSR with encoding/asn1, whose reflection makes the
// parse cost several times what the same walk with cryptobyte does; at
// the rates issuance runs at, that is a visible share of a certificate.
// parseCSR reads the shapes real clients (Go, OpenSSL, the AWS tools)
// produce: version 0, a Name of string attributes, an RSA or named-curve
// EC key in the encoding crypto/x509 writes, at most one extensionRequest
// attribute, and a PKCS#1 v1.5 or ECDSA signature. It fills every field
// of x509.CertificateRequest that crypto/x509 fills, with the same
// values, and declines anything else, including everything crypto/x509
// would refuse: ParseCSR then asks crypto/x509, so that what is accepted,
// what is refused and the error texts stay crypto/x509's by construction.
// FuzzParseCSRMatchesStdlib holds it to that.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"net"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The lines around a PEM CSR as pem.Encode writes them.
const (
	csrPEMBegin = "-----BEGIN CERTIFICATE REQUEST-----\n"
	csrPEMEnd   = "\n-----END CERTIFICATE REQUEST-----"
)

// decodeCSRPEM decodes data if it is exactly one PEM CERTIFICATE REQUEST
// block without headers, as pem.Encode writes one (the final newline may
// be missing), to what pem.Decode would return as its Bytes. ok false
// leaves data to pem.Decode, which searches for the block among other
// text, allows headers, spaces and CRLF, and is slower for it.
func decodeCSRPEM(data []byte) (der []byte, ok bool) {
	body, begins := bytes.CutPrefix(data, []byte(csrPEMBegin))
	body, ends := bytes.CutSuffix(bytes.TrimSuffix(body, []byte("\n")), []byte(csrPEMEnd))
	if !begins || !ends || len(body) == 0 {
		return nil, false
	}
	// Base64 and newlines only: no dashes (another BEGIN or END line), no
	// colons (headers), nothing pem.Decode would treat other than as
	// base64.
	for _, c := range body {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=' || c == '\n') {
			return nil, false
		}
	}
	der = make([]byte, base64.StdEncoding.DecodedLen(len(body)))
	n, err := base64.StdEncoding.Decode(der, body)
	if err != nil {
		return nil, false
	}
	return der[:n], true
}

var oidExtensionRequest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 14}

// csrSigAlgs maps the DER AlgorithmIdentifiers of the signatures parseCSR
// reads to crypto/x509's names. crypto/x509 ignores the parameters of
// every algorithm but RSASSA-PSS, so RSA ones are listed with NULL (as
// written) and without; PSS is left to crypto/x509.
var csrSigAlgs = func() map[string]x509.SignatureAlgorithm {
	m := map[string]x509.SignatureAlgorithm{}
	for alg, a := range certSigAlgs {
		if a.pss {
			continue
		}
		m[string(a.id)] = alg
		if publicKeyAlgorithmOf(alg) == x509.RSA {
			s := cryptobyte.String(a.id)
			var inner cryptobyte.String
			var oid asn1.ObjectIdentifier
			s.ReadASN1(&inner, cbasn1.SEQUENCE)
			inner.ReadASN1ObjectIdentifier(&oid)
			m[string(algorithmID(oid, nil))] = alg
		}
	}
	return m
}()

// parseCSR parses der as x509.ParseCertificateRequest would, if der is of
// a shape it knows; ok is false when it declines (see the top of the
// file).
func parseCSR(der []byte) (csr *x509.CertificateRequest, ok bool) {
	s := cryptobyte.String(der)
	var outer, tbs, tbsBody, version, subject, spki, attrs, sigAlg cryptobyte.String
	var sig []byte
	if !s.ReadASN1(&outer, cbasn1.SEQUENCE) || !s.Empty() ||
		!outer.ReadASN1Element(&tbs, cbasn1.SEQUENCE) ||
		!outer.ReadASN1Element(&sigAlg, cbasn1.SEQUENCE) ||
		!outer.ReadASN1BitStringAsBytes(&sig) || !outer.Empty() {
		return nil, false
	}
	alg, known := csrSigAlgs[string(sigAlg)]
	if !known {
		return nil, false
	}
	body := tbs
	if !body.ReadASN1(&tbsBody, cbasn1.SEQUENCE) ||
		!tbsBody.ReadASN1Element(&version, cbasn1.INTEGER) || string(version) != "\x02\x01\x00" ||
		!tbsBody.ReadASN1Element(&subject, cbasn1.SEQUENCE) ||
		!tbsBody.ReadASN1Element(&spki, cbasn1.SEQUENCE) ||
		!tbsBody.ReadASN1(&attrs, cbasn1.Tag(0).ContextSpecific().Constructed()) || !tbsBody.Empty() {
		return nil, false
	}
	csr = &x509.CertificateRequest{
		Raw: der, RawTBSCertificateRequest: tbs, RawSubjectPublicKeyInfo: spki, RawSubject: subject,
		Signature: sig, SignatureAlgorithm: alg,
	}
	if csr.PublicKeyAlgorithm, csr.PublicKey, ok = parseCSRKey(spki); !ok {
		return nil, false
	}
	if csr.Subject, ok = parseCSRName(subject); !ok {
		return nil, false
	}
	if !attrs.Empty() {
		if csr.Extensions, csr.Attributes, ok = parseExtensionRequest(attrs); !ok {
			return nil, false
		}
	}
	for _, e := range csr.Extensions {
		if e.Id.Equal(oidSAN) && !parseCSRSANs(e.Value, csr) {
			return nil, false
		}
	}
	return csr, true
}

// parseCSRKey reads a SubjectPublicKeyInfo whose AlgorithmIdentifier is
// the one crypto/x509 writes for RSA or a NIST curve, as crypto/x509's
// parsePublicKey does.
func parseCSRKey(spki cryptobyte.String) (x509.PublicKeyAlgorithm, any, bool) {
	alg, keyBits, ok := splitSPKI(spki)
	if !ok {
		return 0, nil, false
	}
	var curve elliptic.Curve
	switch string(alg) {
	case string(rsaKeyAlgID):
		k := cryptobyte.String(keyBits)
		var seq cryptobyte.String
		n, e := new(big.Int), 0
		if !k.ReadASN1(&seq, cbasn1.SEQUENCE) || !k.Empty() ||
			!seq.ReadASN1Integer(n) || !seq.ReadASN1Integer(&e) || !seq.Empty() ||
			n.Sign() <= 0 || e <= 0 {
			return 0, nil, false
		}
		return x509.RSA, &rsa.PublicKey{N: n, E: e}, true
	case string(p256KeyAlgID):
		curve = elliptic.P256()
	case string(p384KeyAlgID):
		curve = elliptic.P384()
	case string(p521KeyAlgID):
		curve = elliptic.P521()
	default:
		return 0, nil, false
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, keyBits)
	if err != nil {
		return 0, nil, false
	}
	return x509.ECDSA, pub, true
}

// parseCSRName reads a Name as crypto/x509 reads a CSR's subject:
// encoding/asn1 into a pkix.RDNSequence, then FillFromRDNSequence. It
// takes attribute values of the string types encoding/asn1 turns into Go
// strings and that clients use (PrintableString, UTF8String, IA5String).
func parseCSRName(raw cryptobyte.String) (pkix.Name, bool) {
	var seq cryptobyte.String
	if !raw.ReadASN1(&seq, cbasn1.SEQUENCE) || !raw.Empty() {
		return pkix.Name{}, false
	}
	var rdns pkix.RDNSequence
	for !seq.Empty() {
		var set cryptobyte.String
		if !seq.ReadASN1(&set, cbasn1.SET) || set.Empty() {
			return pkix.Name{}, false
		}
		var rdn pkix.RelativeDistinguishedNameSET
		for !set.Empty() {
			var atv, value cryptobyte.String
			var tag cbasn1.Tag
			var oid asn1.ObjectIdentifier
			if !set.ReadASN1(&atv, cbasn1.SEQUENCE) || !atv.ReadASN1ObjectIdentifier(&oid) ||
				!atv.ReadAnyASN1(&value, &tag) || !atv.Empty() || !isASN1String(tag, value) {
				return pkix.Name{}, false
			}
			rdn = append(rdn, pkix.AttributeTypeAndValue{Type: oid, Value: string(value)})
		}
		rdns = append(rdns, rdn)
	}
	var n pkix.Name
	n.FillFromRDNSequence(&rdns)
	return n, true
}

// isASN1String reports whether v is a valid string of one of the types
// parseCSRName takes, by encoding/asn1's rules for each.
func isASN1String(tag cbasn1.Tag, v []byte) bool {
	switch tag {
	case cbasn1.PrintableString:
		for _, c := range v {
			if !isPrintableChar(c) && c != '*' && c != '&' {
				return false
			}
		}
		return true
	case cbasn1.UTF8String:
		return utf8.Valid(v)
	case cbasn1.IA5String:
		return isASCII(v)
	}
	return false
}

// isPrintableChar reports whether c is in PrintableString's alphabet
// (X.680 §41.4), without the '*' and '&' that encoding/asn1 tolerates
// when parsing but never writes.
func isPrintableChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		'\'' <= c && c <= ')' || '+' <= c && c <= '/' || c == ' ' || c == ':' || c == '=' || c == '?'
}

func isASCII(v []byte) bool {
	for _, c := range v {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// parseExtensionRequest reads the contents of a CSR's attributes when they
// are a single extensionRequest with one non-empty list of extensions
// without repeats, each with its criticality given or not and its value.
// It returns the extensions and the attribute as crypto/x509 shows it in
// the deprecated Attributes field, where each extension is read as a
// pkix.AttributeTypeAndValue: its Value is the element after the OID, the
// criticality when present, else the extension's value.
func parseExtensionRequest(attrs cryptobyte.String) ([]pkix.Extension, []pkix.AttributeTypeAndValueSET, bool) {
	var attr, values, list cryptobyte.String
	var id asn1.ObjectIdentifier
	if !attrs.ReadASN1(&attr, cbasn1.SEQUENCE) || !attrs.Empty() ||
		!attr.ReadASN1ObjectIdentifier(&id) || !id.Equal(oidExtensionRequest) ||
		!attr.ReadASN1(&values, cbasn1.SET) || !attr.Empty() ||
		!values.ReadASN1(&list, cbasn1.SEQUENCE) || !values.Empty() || list.Empty() {
		return nil, nil, false
	}
	var exts []pkix.Extension
	var atvs []pkix.AttributeTypeAndValue
	for !list.Empty() {
		var ext cryptobyte.String
		var e pkix.Extension
		if !list.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&e.Id) {
			return nil, nil, false
		}
		atv := pkix.AttributeTypeAndValue{Type: append(asn1.ObjectIdentifier(nil), e.Id...)}
		if ext.PeekASN1Tag(cbasn1.BOOLEAN) {
			if !ext.ReadASN1Boolean(&e.Critical) {
				return nil, nil, false
			}
			atv.Value = e.Critical
		}
		if !ext.ReadASN1((*cryptobyte.String)(&e.Value), cbasn1.OCTET_STRING) || !ext.Empty() {
			return nil, nil, false
		}
		if atv.Value == nil {
			atv.Value = e.Value
		}
		for _, prev := range exts {
			if prev.Id.Equal(e.Id) {
				return nil, nil, false
			}
		}
		exts = append(exts, e)
		atvs = append(atvs, atv)
	}
	return exts, []pkix.AttributeTypeAndValueSET{{Type: id, Value: [][]pkix.AttributeTypeAndValue{atvs}}}, true
}

// parseCSRSANs reads a subjectAltName value into csr's SAN lists as
// crypto/x509 does, for DNS names, email addresses and IP addresses.
// URIs (which crypto/x509 checks against its own domain rules) and other
// name types are left to crypto/x509.
func parseCSRSANs(value []byte, csr *x509.CertificateRequest) bool {
	s := cryptobyte.String(value)
	var names cryptobyte.String
	if !s.ReadASN1(&names, cbasn1.SEQUENCE) || !s.Empty() {
		return false
	}
	for !names.Empty() {
		var name cryptobyte.String
		var tag cbasn1.Tag
		if !names.ReadAnyASN1(&name, &tag) {
			return false
		}
		switch tag {
		case cbasn1.Tag(generalNameDNS).ContextSpecific():
			if !isASCII(name) {
				return false
			}
			csr.DNSNames = append(csr.DNSNames, string(name))
		case cbasn1.Tag(generalNameEmail).ContextSpecific():
			if !isASCII(name) {
				return false
			}
			csr.EmailAddresses = append(csr.EmailAddresses, string(name))
		case cbasn1.Tag(generalNameIP).ContextSpecific():
			if len(name) != net.IPv4len && len(name) != net.IPv6len {
				return false
			}
			csr.IPAddresses = append(csr.IPAddresses, net.IP(name))
		default:
			return false
		}
	}
	return true
}
