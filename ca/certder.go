package ca

// This file is iamra's own DER encoder for X.509 certificates, which Issue
// uses instead of x509.CreateCertificate.
//
// It exists to sign once. CreateCertificate verifies every signature it
// makes, to catch a crypto.Signer that misbehaves; for a P-256 CA that
// check costs about twice the signature itself, on top of the CSR
// verification issuance needs anyway. createCertificate skips the check
// for Go's own key types and keeps it for every other signer (HSMs,
// remote signers): see signTBS.
//
// It writes exactly the TBSCertificate crypto/x509 would write for the
// templates certificateTemplate builds: same fields and extension order,
// same criticality, same integer, time and string encodings. That is not
// assumed but tested: certder_test.go compares the bytes with
// CreateCertificate for every template, key type and signing algorithm,
// and FuzzIssueMatchesStdlib does so for arbitrary CSRs.
//
// It writes with derWriter (der.go) rather than cryptobyte.Builder, and
// names with marshalName rather than asn1.Marshal, for their allocations
// and reflection: both cost as much as the rest of the encoding.

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

var (
	oidKeyUsage    = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}

	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidECPublicKey   = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidP256          = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidP384          = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	oidP521          = asn1.ObjectIdentifier{1, 3, 132, 0, 35}

	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidMGF1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidRSAPSS = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
)

// certSigAlg is how a signature algorithm is named in a certificate and
// computed.
type certSigAlg struct {
	id   []byte // DER AlgorithmIdentifier
	hash crypto.Hash
	pss  bool
}

// certSigAlgs covers every algorithm of signingAlgorithms (keys.go). RSA
// identifiers carry NULL parameters and PSS ones RFC 4055 parameters with
// a salt as long as the hash, as crypto/x509 writes them; ECDSA ones have
// none.
var certSigAlgs = map[x509.SignatureAlgorithm]certSigAlg{
	x509.ECDSAWithSHA256:  {algorithmID(asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}, nil), crypto.SHA256, false},
	x509.ECDSAWithSHA384:  {algorithmID(asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}, nil), crypto.SHA384, false},
	x509.ECDSAWithSHA512:  {algorithmID(asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}, nil), crypto.SHA512, false},
	x509.SHA256WithRSA:    {algorithmID(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, addNULL), crypto.SHA256, false},
	x509.SHA384WithRSA:    {algorithmID(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}, addNULL), crypto.SHA384, false},
	x509.SHA512WithRSA:    {algorithmID(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}, addNULL), crypto.SHA512, false},
	x509.SHA256WithRSAPSS: {algorithmID(oidRSAPSS, pssParams(oidSHA256, 32)), crypto.SHA256, true},
	x509.SHA384WithRSAPSS: {algorithmID(oidRSAPSS, pssParams(oidSHA384, 48)), crypto.SHA384, true},
	x509.SHA512WithRSAPSS: {algorithmID(oidRSAPSS, pssParams(oidSHA512, 64)), crypto.SHA512, true},
}

// Public key AlgorithmIdentifiers as crypto/x509 writes them, to recognise
// a CSR's SubjectPublicKeyInfo that can be copied as it is.
var (
	rsaKeyAlgID  = algorithmID(oidRSAEncryption, addNULL)
	p256KeyAlgID = algorithmID(oidECPublicKey, addOID(oidP256))
	p384KeyAlgID = algorithmID(oidECPublicKey, addOID(oidP384))
	p521KeyAlgID = algorithmID(oidECPublicKey, addOID(oidP521))
)

// extKeyUsageOIDs holds the extended key usages iamra's templates use; a
// template with another one fails to encode (and the equivalence tests,
// which cover every template, say so).
var extKeyUsageOIDs = map[x509.ExtKeyUsage]asn1.ObjectIdentifier{
	x509.ExtKeyUsageServerAuth:  {1, 3, 6, 1, 5, 5, 7, 3, 1},
	x509.ExtKeyUsageClientAuth:  {1, 3, 6, 1, 5, 5, 7, 3, 2},
	x509.ExtKeyUsageCodeSigning: {1, 3, 6, 1, 5, 5, 7, 3, 3},
	x509.ExtKeyUsageOCSPSigning: {1, 3, 6, 1, 5, 5, 7, 3, 9},
}

// algorithmID encodes an AlgorithmIdentifier. It runs on constants at
// package initialisation only, where a failure is a programming error.
func algorithmID(oid asn1.ObjectIdentifier, params cryptobyte.BuilderContinuation) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if params != nil {
			params(b)
		}
	})
	return b.BytesOrPanic()
}

func addNULL(b *cryptobyte.Builder) { b.AddASN1NULL() }

func addOID(oid asn1.ObjectIdentifier) cryptobyte.BuilderContinuation {
	return func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) }
}

// pssParams writes RSASSA-PSS-params (RFC 4055 §3.1) with MGF1 over the
// same hash and the default trailer field, which DER leaves out.
func pssParams(hash asn1.ObjectIdentifier, saltLen int64) cryptobyte.BuilderContinuation {
	return func(b *cryptobyte.Builder) {
		hashID := algorithmID(hash, addNULL)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddBytes(hashID)
			})
			b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddBytes(algorithmID(oidMGF1, func(b *cryptobyte.Builder) { b.AddBytes(hashID) }))
			})
			b.AddASN1(cbasn1.Tag(2).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1Int64(saltLen)
			})
		})
	}
}

// subjectKey is the public key a certificate certifies, in the forms the
// encoder needs.
type subjectKey struct {
	pub crypto.PublicKey
	// spki is the DER SubjectPublicKeyInfo, as crypto/x509 encodes pub.
	spki []byte
	// id is the subject key identifier, RFC 5280 §4.2.1.2 method 1.
	id []byte
}

// newSubjectKey encodes pub. raw, when set, is the SubjectPublicKeyInfo
// pub was parsed from (a CSR's): when it already is what crypto/x509 would
// write for pub it is used as it is, which saves marshalling the key
// again. Parsers accept more than that (trailing data, unused bits,
// non-canonical parameters), so anything else is marshalled afresh.
func newSubjectKey(pub crypto.PublicKey, raw []byte) (subjectKey, error) {
	spki := raw
	keyBits, ok := canonicalSPKI(pub, raw)
	if !ok {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err == nil {
			spki = der
			_, keyBits, ok = splitSPKI(der)
		}
		if !ok {
			return subjectKey{}, invalidArgs("ca.key.marshal", "The public key cannot be encoded.")
		}
	}
	sum := sha1.Sum(keyBits)
	return subjectKey{pub: pub, spki: spki, id: sum[:]}, nil
}

// splitSPKI returns the AlgorithmIdentifier (as a whole element) and the
// subjectPublicKey bits of a DER SubjectPublicKeyInfo, if spki is exactly
// one and its key has no unused bits.
func splitSPKI(spki []byte) (alg, keyBits []byte, ok bool) {
	s := cryptobyte.String(spki)
	var inner, algID cryptobyte.String
	if !s.ReadASN1(&inner, cbasn1.SEQUENCE) || !s.Empty() ||
		!inner.ReadASN1Element(&algID, cbasn1.SEQUENCE) ||
		!inner.ReadASN1BitStringAsBytes(&keyBits) || !inner.Empty() {
		return nil, nil, false
	}
	return algID, keyBits, true
}

// canonicalSPKI reports whether raw is byte for byte the
// SubjectPublicKeyInfo crypto/x509 writes for pub, and returns its key
// bits.
func canonicalSPKI(pub crypto.PublicKey, raw []byte) ([]byte, bool) {
	if raw == nil {
		return nil, false
	}
	alg, keyBits, ok := splitSPKI(raw)
	if !ok {
		return nil, false
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return keyBits, bytes.Equal(alg, rsaKeyAlgID) && isRSAKey(keyBits, k)
	case *ecdsa.PublicKey:
		var want []byte
		switch k.Curve {
		case elliptic.P256():
			want = p256KeyAlgID
		case elliptic.P384():
			want = p384KeyAlgID
		case elliptic.P521():
			want = p521KeyAlgID
		}
		return keyBits, want != nil && bytes.Equal(alg, want) && isUncompressedPoint(keyBits, k)
	}
	return nil, false
}

// isUncompressedPoint reports whether b is the uncompressed SEC 1 encoding
// of k's point, which is what k.Bytes() returns for a valid key. It does
// not check that the point is on the curve, as k.Bytes() does at several
// times the cost: certificateTemplate has verified the CSR's signature
// with k by then, which fails for a point off the curve.
func isUncompressedPoint(b []byte, k *ecdsa.PublicKey) bool {
	n := (k.Curve.Params().BitSize + 7) / 8
	if len(b) != 1+2*n || b[0] != 4 || k.X == nil || k.Y == nil ||
		k.X.Sign() < 0 || k.Y.Sign() < 0 || k.X.BitLen() > 8*n || k.Y.BitLen() > 8*n {
		return false
	}
	var coord [66]byte // P-521's
	return bytes.Equal(k.X.FillBytes(coord[:n]), b[1:1+n]) && bytes.Equal(k.Y.FillBytes(coord[:n]), b[1+n:])
}

// isRSAKey reports whether der is RSAPublicKey (RFC 8017 §A.1.1) for k in
// DER, nothing more.
func isRSAKey(der []byte, k *rsa.PublicKey) bool {
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	var n []byte
	var e int64
	// ReadASN1Integer insists on minimal, non-negative integers: DER.
	return s.ReadASN1(&seq, cbasn1.SEQUENCE) && s.Empty() &&
		seq.ReadASN1Integer(&n) && seq.ReadASN1Integer(&e) && seq.Empty() &&
		e == int64(k.E) && bytes.Equal(n, k.N.Bytes())
}

// createCertificate does what x509.CreateCertificate(rand, tmpl, parent,
// pub, key) does for the templates certificateTemplate builds, with one
// signature. spki is the subject's DER SubjectPublicKeyInfo (subjectKey).
//
// The fields of tmpl it writes are SerialNumber, SignatureAlgorithm,
// Subject (or RawSubject), NotBefore, NotAfter, KeyUsage, ExtKeyUsage,
// BasicConstraintsValid, IsCA, MaxPathLen, MaxPathLenZero, SubjectKeyId,
// AuthorityKeyId, the SAN lists, CRLDistributionPoints and
// ExtraExtensions; of parent, RawSubject (or Subject), SubjectKeyId and
// PublicKey. Templates using fields it does not write are refused rather
// than encoded without them.
func createCertificate(rand io.Reader, tmpl, parent *x509.Certificate, spki []byte, key crypto.Signer) ([]byte, error) {
	if unsupportedFields(tmpl) {
		return nil, errors.New("the template uses fields the certificate encoder does not write")
	}
	alg, ok := certSigAlgs[tmpl.SignatureAlgorithm]
	if !ok || publicKeyAlgorithmOf(tmpl.SignatureAlgorithm) != publicKeyFamily(key.Public()) {
		return nil, fmt.Errorf("signature algorithm %v is not supported for a %T key", tmpl.SignatureAlgorithm, key.Public())
	}
	if tmpl.SerialNumber == nil || tmpl.SerialNumber.Sign() < 0 {
		return nil, errors.New("the serial number must be a non-negative integer")
	}
	if tmpl.BasicConstraintsValid && (tmpl.MaxPathLen < -1 ||
		!tmpl.IsCA && tmpl.MaxPathLen != -1 && (tmpl.MaxPathLen != 0 || tmpl.MaxPathLenZero)) {
		return nil, errors.New("only CA certificates have a path length constraint, of -1 or more")
	}
	// certificateTemplate checks this too, but signTBS trusts Go keys'
	// signatures on the strength of it, so it is checked where it is relied
	// on.
	issuerPub := parent.PublicKey
	if issuerPub == nil {
		issuerPub = key.Public()
	} else if !publicKeysEqual(issuerPub, key.Public()) {
		return nil, errors.New("the signing key does not match the issuer's public key")
	}
	issuerName, err := encodedName(parent)
	if err != nil {
		return nil, err
	}
	subjectName, err := encodedName(tmpl)
	if err != nil {
		return nil, err
	}
	// Like crypto/x509: a certificate whose subject is its issuer's name
	// gets no authority key identifier from the parent, even when it is
	// not self-signed.
	aki := tmpl.AuthorityKeyId
	if !bytes.Equal(issuerName, subjectName) && len(parent.SubjectKeyId) > 0 {
		aki = parent.SubjectKeyId
	}

	// One buffer for the whole certificate: the TBSCertificate is signed
	// where it lies, and the signature appended after it.
	w := derWriter{b: make([]byte, 0, 768+len(issuerName)+len(subjectName)+len(spki)+extraExtensionsLen(tmpl))}
	cert := w.begin(cbasn1.SEQUENCE)
	tbsStart := len(w.b)
	tbs := w.begin(cbasn1.SEQUENCE)
	version := w.begin(cbasn1.Tag(0).ContextSpecific().Constructed())
	w.int64(2) // v3
	w.end(version)
	w.bigInt(tmpl.SerialNumber)
	w.raw(alg.id)
	w.raw(issuerName)
	validity := w.begin(cbasn1.SEQUENCE)
	addTime(&w, tmpl.NotBefore)
	addTime(&w, tmpl.NotAfter)
	w.end(validity)
	w.raw(subjectName)
	w.raw(spki)
	extsStart := len(w.b)
	exts := w.begin(cbasn1.Tag(3).ContextSpecific().Constructed())
	list := w.begin(cbasn1.SEQUENCE)
	addExtensions(&w, tmpl, isEmptyName(subjectName), aki)
	if len(w.b) == list {
		w.b = w.b[:extsStart] // no extensions: no [3] either
	} else {
		w.end(list)
		w.end(exts)
	}
	w.end(tbs)
	if w.err != nil {
		return nil, w.err
	}
	sig, err := signTBS(rand, key, issuerPub, alg, w.b[tbsStart:])
	if err != nil {
		return nil, err
	}
	w.raw(alg.id)
	w.bitString(sig)
	w.end(cert)
	return w.b, w.err
}

// extraExtensionsLen is about what c's ExtraExtensions take in DER.
func extraExtensionsLen(c *x509.Certificate) int {
	n := 0
	for _, e := range c.ExtraExtensions {
		n += 32 + len(e.Value)
	}
	return n
}

func unsupportedFields(c *x509.Certificate) bool {
	return len(c.OCSPServer)+len(c.IssuingCertificateURL)+len(c.Policies)+len(c.PolicyIdentifiers)+
		len(c.UnknownExtKeyUsage)+len(c.PermittedDNSDomains)+len(c.ExcludedDNSDomains)+
		len(c.PermittedIPRanges)+len(c.ExcludedIPRanges)+len(c.PermittedEmailAddresses)+
		len(c.ExcludedEmailAddresses)+len(c.PermittedURIDomains)+len(c.ExcludedURIDomains) > 0
}

// encodedName is the DER Name crypto/x509 writes for c: the raw one of a
// parsed certificate, else its Subject re-encoded as asn1.Marshal does.
func encodedName(c *x509.Certificate) ([]byte, error) {
	if len(c.RawSubject) > 0 {
		return c.RawSubject, nil
	}
	rdns := c.Subject.ToRDNSequence()
	if der, ok := marshalName(rdns); ok {
		return der, nil
	}
	return asn1.Marshal(rdns)
}

// marshalName writes rdns as asn1.Marshal does when every value is a
// string that is valid UTF-8: a PrintableString where the string can be
// one, else a UTF8String, and the members of a multi-valued RDN in DER's
// SET OF order. ok false leaves the rest (other value types, invalid
// OIDs) to asn1.Marshal, whose reflection costs several times this for a
// subject.
func marshalName(rdns pkix.RDNSequence) (der []byte, ok bool) {
	w := derWriter{b: make([]byte, 0, 64)}
	seq := w.begin(cbasn1.SEQUENCE)
	for _, rdn := range rdns {
		set := w.begin(cbasn1.SET)
		if len(rdn) == 1 {
			addAttribute(&w, rdn[0])
			w.end(set)
			continue
		}
		members := make([][]byte, len(rdn))
		for i, atv := range rdn {
			m := derWriter{}
			addAttribute(&m, atv)
			members[i] = m.b
			w.fail(m.err)
		}
		slices.SortFunc(members, bytes.Compare)
		for _, m := range members {
			w.raw(m)
		}
		w.end(set)
	}
	w.end(seq)
	return w.b, w.err == nil
}

// addAttribute writes an AttributeTypeAndValue with a string value, or
// fails.
func addAttribute(w *derWriter, atv pkix.AttributeTypeAndValue) {
	v, ok := atv.Value.(string)
	if !ok || !utf8.ValidString(v) {
		w.fail(errors.New("not a UTF-8 string value"))
		return
	}
	tag := cbasn1.PrintableString
	for i := 0; i < len(v); i++ {
		if !isPrintableChar(v[i]) {
			tag = cbasn1.UTF8String
			break
		}
	}
	m := w.begin(cbasn1.SEQUENCE)
	w.oid(atv.Type)
	w.stringElement(tag, v)
	w.end(m)
}

// isEmptyName reports whether name is the empty SEQUENCE, a certificate
// that names its subject only in subjectAltName.
func isEmptyName(name []byte) bool {
	return len(name) == 2 && name[0] == 0x30 && name[1] == 0
}

// addTime writes a validity time as RFC 5280 §4.1.2.5 wants: UTCTime
// through 2049, GeneralizedTime from 2050 (and before 1950), in UTC and
// whole seconds.
func addTime(w *derWriter, t time.Time) {
	t = t.UTC()
	y := t.Year()
	w.time(t, y < 1950 || y >= 2050)
}

// addExtensions writes the extensions in crypto/x509's order: those the
// template's fields ask for, each left out if ExtraExtensions has its own
// value, then ExtraExtensions as given.
func addExtensions(w *derWriter, c *x509.Certificate, subjectEmpty bool, aki []byte) {
	own := func(id asn1.ObjectIdentifier) bool {
		for _, e := range c.ExtraExtensions {
			if e.Id.Equal(id) {
				return false
			}
		}
		return true
	}
	if c.KeyUsage != 0 && own(oidKeyUsage) {
		e := beginExtension(w, oidKeyUsage, true)
		addKeyUsage(w, c.KeyUsage)
		e.end(w)
	}
	if len(c.ExtKeyUsage) > 0 && own(oidExtKeyUsage) {
		e := beginExtension(w, oidExtKeyUsage, false)
		addExtKeyUsage(w, c.ExtKeyUsage)
		e.end(w)
	}
	if c.BasicConstraintsValid && own(oidBasicConstr) {
		e := beginExtension(w, oidBasicConstr, true)
		addBasicConstraints(w, c)
		e.end(w)
	}
	if len(c.SubjectKeyId) > 0 && own(oidSKI) {
		e := beginExtension(w, oidSKI, false)
		w.element(cbasn1.OCTET_STRING, c.SubjectKeyId)
		e.end(w)
	}
	if len(aki) > 0 && own(oidAKI) {
		e := beginExtension(w, oidAKI, false)
		m := w.begin(cbasn1.SEQUENCE)
		w.element(cbasn1.Tag(0).ContextSpecific(), aki)
		w.end(m)
		e.end(w)
	}
	if len(c.DNSNames)+len(c.EmailAddresses)+len(c.IPAddresses)+len(c.URIs) > 0 && own(oidSAN) {
		// RFC 5280 §4.2.1.6: with an empty subject, the SANs are the
		// certificate's only names and the extension is critical.
		e := beginExtension(w, oidSAN, subjectEmpty)
		addSANs(w, c)
		e.end(w)
	}
	if len(c.CRLDistributionPoints) > 0 && own(oidCDP) {
		e := beginExtension(w, oidCDP, false)
		addCRLDistributionPoints(w, c.CRLDistributionPoints)
		e.end(w)
	}
	for _, x := range c.ExtraExtensions {
		e := beginExtension(w, x.Id, x.Critical)
		w.raw(x.Value)
		e.end(w)
	}
}

// extension is an Extension being written: its SEQUENCE and its extnValue
// OCTET STRING.
type extension struct{ seq, value int }

// beginExtension starts Extension ::= SEQUENCE { extnID, critical DEFAULT
// FALSE, extnValue OCTET STRING }, up to extnValue's contents; DER leaves
// out a false critical.
func beginExtension(w *derWriter, id asn1.ObjectIdentifier, critical bool) extension {
	seq := w.begin(cbasn1.SEQUENCE)
	w.oid(id)
	if critical {
		w.boolean()
	}
	return extension{seq: seq, value: w.begin(cbasn1.OCTET_STRING)}
}

func (e extension) end(w *derWriter) {
	w.end(e.value)
	w.end(e.seq)
}

// addKeyUsage writes the KeyUsage BIT STRING. x509.KeyUsage counts bits
// from the least significant one, ASN.1 from the most significant bit of
// the first octet; DER drops trailing zero octets and counts the unused
// bits of the last.
func addKeyUsage(w *derWriter, ku x509.KeyUsage) {
	octets := [2]byte{bits.Reverse8(uint8(ku)), bits.Reverse8(uint8(ku >> 8))}
	n := 1
	if octets[1] != 0 {
		n = 2
	}
	unused := uint8(bits.TrailingZeros8(octets[n-1]) % 8)
	m := w.begin(cbasn1.BIT_STRING)
	w.b = append(w.b, unused)
	w.raw(octets[:n])
	w.end(m)
}

func addExtKeyUsage(w *derWriter, usages []x509.ExtKeyUsage) {
	m := w.begin(cbasn1.SEQUENCE)
	for _, u := range usages {
		oid, ok := extKeyUsageOIDs[u]
		if !ok {
			w.fail(fmt.Errorf("unsupported extended key usage %d", u))
			return
		}
		w.oid(oid)
	}
	w.end(m)
}

// addBasicConstraints follows x509.Certificate's conventions: MaxPathLen
// -1, or 0 without MaxPathLenZero, means no constraint; cA and
// pathLenConstraint are left out at their defaults.
func addBasicConstraints(w *derWriter, c *x509.Certificate) {
	pathLen := c.MaxPathLen
	if pathLen == 0 && !c.MaxPathLenZero {
		pathLen = -1
	}
	m := w.begin(cbasn1.SEQUENCE)
	if c.IsCA {
		w.boolean()
	}
	if pathLen >= 0 {
		w.int64(int64(pathLen))
	}
	w.end(m)
}

// GeneralName tags (RFC 5280 §4.2.1.6), all IMPLICIT and primitive here.
const (
	generalNameEmail = 1
	generalNameDNS   = 2
	generalNameURI   = 6
	generalNameIP    = 7
)

// addSANs writes the names in crypto/x509's order: DNS names, email
// addresses, IP addresses (IPv4 in 4 octets), URIs. The string forms are
// IA5String, which holds ASCII only.
func addSANs(w *derWriter, c *x509.Certificate) {
	m := w.begin(cbasn1.SEQUENCE)
	for _, name := range c.DNSNames {
		addIA5GeneralName(w, generalNameDNS, name)
	}
	for _, email := range c.EmailAddresses {
		addIA5GeneralName(w, generalNameEmail, email)
	}
	for _, ip := range c.IPAddresses {
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		w.element(cbasn1.Tag(generalNameIP).ContextSpecific(), ip)
	}
	for _, u := range c.URIs {
		if u == nil {
			w.fail(errors.New("nil URI in subject alternative names"))
			return
		}
		addIA5GeneralName(w, generalNameURI, u.String())
	}
	w.end(m)
}

func addIA5GeneralName(w *derWriter, tag uint8, s string) {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			w.fail(fmt.Errorf("%q cannot be encoded as an IA5String", s))
			return
		}
	}
	w.stringElement(cbasn1.Tag(tag).ContextSpecific(), s)
}

// addCRLDistributionPoints writes one DistributionPoint per URL, each
// with just a fullName of one URI.
func addCRLDistributionPoints(w *derWriter, urls []string) {
	m := w.begin(cbasn1.SEQUENCE)
	for _, u := range urls {
		point := w.begin(cbasn1.SEQUENCE)
		name := w.begin(cbasn1.Tag(0).ContextSpecific().Constructed())     // distributionPoint
		fullName := w.begin(cbasn1.Tag(0).ContextSpecific().Constructed()) // fullName
		w.stringElement(cbasn1.Tag(generalNameURI).ContextSpecific(), u)
		w.end(fullName)
		w.end(name)
		w.end(point)
	}
	w.end(m)
}

// signTBS signs the TBSCertificate with key and returns the signature.
//
// x509.CreateCertificate verifies every signature it makes, because a
// crypto.Signer can return garbage: an HSM or remote signer with a fault,
// the wrong key, a PKCS#11 module encoding ECDSA signatures as r||s. That
// check stays for every signer but Go's own key types. Those sign with
// Go's crypto, whose RSA already checks each signature against the public
// key (its defence against CRT faults), and whose ECDSA keys in iamra come
// from GenerateKey or PKCS#8 parsing, which derive the public point from
// the private scalar; createCertificate has checked that point (or
// modulus) against the issuer's certificate. Verifying again would cost
// more than signing. (What it would still catch, an *ecdsa.PrivateKey put
// together by hand with a scalar that is not its point's, iamra never
// makes.)
func signTBS(rand io.Reader, key crypto.Signer, issuerPub crypto.PublicKey, alg certSigAlg, tbs []byte) ([]byte, error) {
	digest, err := hashOf(alg.hash, tbs)
	if err != nil {
		return nil, err
	}
	var opts crypto.SignerOpts = alg.hash
	if alg.pss {
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: alg.hash}
	}
	sig, err := key.Sign(rand, digest, opts)
	if err != nil {
		return nil, err
	}
	switch key.(type) {
	case *ecdsa.PrivateKey, *rsa.PrivateKey:
		return sig, nil
	}
	if err := verifyDigest(issuerPub, alg, digest, sig); err != nil {
		return nil, fmt.Errorf("signature returned by signer is invalid: %w", err)
	}
	return sig, nil
}

// hashOf hashes with one of the hashes of certSigAlgs.
func hashOf(h crypto.Hash, msg []byte) ([]byte, error) {
	switch h {
	case crypto.SHA256:
		sum := sha256.Sum256(msg)
		return sum[:], nil
	case crypto.SHA384:
		sum := sha512.Sum384(msg)
		return sum[:], nil
	case crypto.SHA512:
		sum := sha512.Sum512(msg)
		return sum[:], nil
	}
	return nil, fmt.Errorf("unsupported hash %v", h)
}

func verifyDigest(pub crypto.PublicKey, alg certSigAlg, digest, sig []byte) error {
	switch pub := pub.(type) {
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, digest, sig) {
			return errors.New("ECDSA verification failure")
		}
		return nil
	case *rsa.PublicKey:
		if alg.pss {
			return rsa.VerifyPSS(pub, alg.hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		return rsa.VerifyPKCS1v15(pub, alg.hash, digest, sig)
	}
	return fmt.Errorf("cannot verify a signature with a %T key", pub)
}
