package ca

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/url"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/iamra/iamra/awserr"
)

// Passthrough overrides what the CSR says, for the *APIPassthrough
// templates (PCA's ApiPassthrough). Nil or empty fields leave the CSR's
// values in place; non-empty SAN lists replace the CSR's SANs as a whole.
type Passthrough struct {
	Subject        *pkix.Name
	DNSNames       []string
	IPAddresses    []net.IP
	URIs           []*url.URL
	EmailAddresses []string
}

// IssueRequest is everything Issue needs besides the issuer.
type IssueRequest struct {
	// Template is a PCA template name or ARN; "" means EndEntityCertificate/V1.
	Template string
	// CSR, when set, supplies the public key, subject, SANs and (for
	// CSRPassthrough templates) extensions. Its signature is checked.
	CSR *x509.CertificateRequest
	// PublicKey, Subject and the SAN lists are used when CSR is nil
	// (certificates for keys iamra generated itself, e.g. dev mode).
	PublicKey      crypto.PublicKey
	Subject        pkix.Name
	DNSNames       []string
	IPAddresses    []net.IP
	URIs           []*url.URL
	EmailAddresses []string

	NotBefore, NotAfter time.Time
	// SerialNumber nil means a new one from NewSerial at NotBefore (which
	// issuance sets a fixed hour before the time of issue).
	SerialNumber *big.Int
	// SigningAlgorithm is a PCA name ("SHA256WITHECDSA"); "" picks the
	// default for the issuer's key.
	SigningAlgorithm string
	// CRLDistributionPoint, when set, is written as the certificate's CRL
	// distribution point (not for root certificates).
	CRLDistributionPoint string
	Passthrough          *Passthrough
}

var (
	oidSAN          = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidBasicConstr  = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidSKI          = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidAKI          = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidCDP          = asn1.ObjectIdentifier{2, 5, 29, 31}
	oidAIA          = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 1}
	oidOCSPNoCheck  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}
	asn1NullEncoded = []byte{0x05, 0x00}
)

// templateOwned are the extensions the template (or iamra) always writes
// itself, so a CSR cannot smuggle them in through a passthrough template.
var templateOwned = []asn1.ObjectIdentifier{oidSAN, oidBasicConstr, oidSKI, oidAKI, oidCDP, oidAIA}

// Issue signs a certificate with issuerKey following a PCA template. A nil
// issuer means a self-signed certificate, which only the RootCACertificate
// templates allow, and then only for issuerKey's own public key.
//
// Errors are *awserr.Error with PCA's codes: MalformedCSRException for a
// CSR whose signature does not verify or that names nobody,
// InvalidArgsException for keys, templates, validity or signing
// algorithms the issuer cannot honour.
func Issue(issuer *x509.Certificate, issuerKey crypto.Signer, req IssueRequest, rand io.Reader) (*x509.Certificate, error) {
	der, _, _, err := sign(issuer, issuerKey, req, rand)
	if err != nil {
		return nil, err
	}
	return parseIssued(der)
}

// sign is Issue up to the signed certificate, in DER, the x509 template it
// was signed from and the PCA template that made it.
func sign(issuer *x509.Certificate, issuerKey crypto.Signer, req IssueRequest, rand io.Reader) ([]byte, *x509.Certificate, *Template, error) {
	t, err := LookupTemplate(req.Template)
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl, key, err := certificateTemplate(t, issuer, issuerKey, req, rand)
	if err != nil {
		return nil, nil, nil, err
	}
	parent := issuer
	if parent == nil {
		parent = tmpl
	}
	der, err := createCertificate(rand, tmpl, parent, key.spki, issuerKey)
	if err != nil {
		// Everything the client controls was checked above, so what is left
		// (a failing HSM, a key that does not match) is ours.
		return nil, nil, nil, pcaError(CodeRequestFailed, "The certificate could not be signed.", "ca.issue.sign", "signing the certificate: %v", err)
	}
	return der, tmpl, t, nil
}

// parseIssued parses a certificate sign made. Parsing also checks the
// encoding: crypto/x509 rejects what it would not have written (and names
// it could not have parsed from a CSR).
func parseIssued(der []byte) (*x509.Certificate, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, pcaError(CodeRequestFailed, "The certificate could not be signed.", "ca.issue.parse", "parsing the signed certificate: %v", err)
	}
	return cert, nil
}

// signedCertificate is a certificate and what its record says of it.
type signedCertificate struct {
	der                 []byte
	serial              *big.Int
	subject             string // as pkix.Name.String of the parsed certificate
	notBefore, notAfter time.Time
}

// issueForRecord is Issue for a certificate that is recorded rather than
// handed out parsed: what the record needs is known from the template, so
// the certificate is parsed back only where it may hold what crypto/x509
// does not parse (mayNotParse). The encoder writes what
// x509.CreateCertificate would (certder.go), and a CSR's names and key
// arrive already parsed by crypto/x509's rules; what is written as given
// is what mayNotParse looks for.
func issueForRecord(issuer *x509.Certificate, issuerKey crypto.Signer, req IssueRequest, rand io.Reader) (signedCertificate, error) {
	der, tmpl, t, err := sign(issuer, issuerKey, req, rand)
	if err != nil {
		return signedCertificate{}, err
	}
	if !mayNotParse(tmpl, t, req) {
		if subject, ok := certificateSubject(der); ok {
			return signedCertificate{der: der, serial: tmpl.SerialNumber, subject: subject, notBefore: tmpl.NotBefore, notAfter: tmpl.NotAfter}, nil
		}
	}
	cert, err := parseIssued(der)
	if err != nil {
		return signedCertificate{}, err
	}
	return signedCertificate{der: der, serial: cert.SerialNumber, subject: cert.Subject.String(), notBefore: cert.NotBefore, notAfter: cert.NotAfter}, nil
}

// mayNotParse reports whether a certificate signed from tmpl may hold what
// crypto/x509's parser refuses although certificateTemplate let it
// through: URIs, extensions copied from the CSR, IP addresses of neither 4
// nor 16 octets (ApiPassthrough values are net.IPs of any length).
func mayNotParse(tmpl *x509.Certificate, t *Template, req IssueRequest) bool {
	if len(tmpl.URIs) > 0 || t.CSRPassthrough && req.CSR != nil && len(req.CSR.Extensions) > 0 {
		return true
	}
	for _, ip := range tmpl.IPAddresses {
		if len(ip) != net.IPv4len && len(ip) != net.IPv6len {
			return true
		}
	}
	return false
}

// certificateSubject reads the subject of a certificate createCertificate
// wrote and returns it as crypto/x509 would show the parsed certificate's
// (pkix.Name.String), if parseCSRName reads it; ok false leaves that to
// parsing the whole certificate.
func certificateSubject(der []byte) (string, bool) {
	s := cryptobyte.String(der)
	var cert, tbs cryptobyte.String
	var subject cryptobyte.String
	if !s.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!tbs.SkipASN1(cbasn1.Tag(0).ContextSpecific().Constructed()) || // version
		!tbs.SkipASN1(cbasn1.INTEGER) || // serialNumber
		!tbs.SkipASN1(cbasn1.SEQUENCE) || // signature
		!tbs.SkipASN1(cbasn1.SEQUENCE) || // issuer
		!tbs.SkipASN1(cbasn1.SEQUENCE) || // validity
		!tbs.ReadASN1Element(&subject, cbasn1.SEQUENCE) {
		return "", false
	}
	name, ok := parseCSRName(subject)
	if !ok {
		return "", false
	}
	return name.String(), true
}

// NewSelfSignedRoot creates a root CA certificate for key: X.509 v3,
// basicConstraints CA:TRUE (critical), keyUsage digitalSignature,
// keyCertSign and cRLSign (critical), a subject key identifier, and a
// SHA-256 or stronger signature — what Roles Anywhere requires of a trust
// anchor. It is RootCACertificate/V1 applied to the key's own public key.
func NewSelfSignedRoot(subject pkix.Name, key crypto.Signer, notBefore, notAfter time.Time, rand io.Reader) (*x509.Certificate, error) {
	return Issue(nil, key, IssueRequest{
		Template: TemplateRootCA, PublicKey: key.Public(), Subject: subject,
		NotBefore: notBefore, NotAfter: notAfter,
	}, rand)
}

// certificateTemplate validates req against t and the issuer and builds
// the x509 template to sign, with the subject's public key.
func certificateTemplate(t *Template, issuer *x509.Certificate, issuerKey crypto.Signer, req IssueRequest, rand io.Reader) (*x509.Certificate, subjectKey, error) {
	c := &x509.Certificate{
		Subject: req.Subject, DNSNames: req.DNSNames, IPAddresses: req.IPAddresses,
		URIs: req.URIs, EmailAddresses: req.EmailAddresses,
	}
	pub := req.PublicKey
	var rawSPKI []byte
	if req.CSR != nil {
		if err := req.CSR.CheckSignature(); err != nil {
			return nil, subjectKey{}, malformedCSR("ca.csr.signature", "CSR signature does not verify: %v", err)
		}
		pub, rawSPKI = req.CSR.PublicKey, req.CSR.RawSubjectPublicKeyInfo
		c.Subject = req.CSR.Subject
		c.DNSNames, c.IPAddresses, c.URIs, c.EmailAddresses = req.CSR.DNSNames, req.CSR.IPAddresses, req.CSR.URIs, req.CSR.EmailAddresses
		if t.CSRPassthrough {
			for _, e := range req.CSR.Extensions {
				if !containsOID(templateOwned, e.Id) {
					c.ExtraExtensions = append(c.ExtraExtensions, e)
				}
			}
		}
	}
	if pub == nil {
		return nil, subjectKey{}, invalidArgs("ca.issue.no_key", "A CSR or a public key is required.")
	}
	if _, err := KeyAlgorithmOf(pub); err != nil {
		if req.CSR != nil {
			return nil, subjectKey{}, malformedCSR("ca.csr.key", "%s", errorMessage(err))
		}
		return nil, subjectKey{}, err
	}
	if p := req.Passthrough; p != nil && t.APIPassthrough {
		if p.Subject != nil {
			c.Subject = *p.Subject
		}
		if len(p.DNSNames)+len(p.IPAddresses)+len(p.URIs)+len(p.EmailAddresses) > 0 {
			c.DNSNames, c.IPAddresses, c.URIs, c.EmailAddresses = p.DNSNames, p.IPAddresses, p.URIs, p.EmailAddresses
		}
	}
	if len(c.Subject.ToRDNSequence()) == 0 && len(c.DNSNames)+len(c.IPAddresses)+len(c.URIs)+len(c.EmailAddresses) == 0 {
		if req.CSR != nil {
			return nil, subjectKey{}, malformedCSR("ca.csr.no_name", "the CSR has neither a subject nor a subject alternative name")
		}
		return nil, subjectKey{}, invalidArgs("ca.issue.no_name", "A certificate needs a subject or a subject alternative name.")
	}

	if t.Root {
		if issuer != nil || !publicKeysEqual(pub, issuerKey.Public()) {
			return nil, subjectKey{}, invalidArgs("ca.template.root_not_self",
				"The %s template can only be used by a root CA to issue its own certificate from its own CSR.", t.Name)
		}
	} else {
		if issuer == nil {
			return nil, subjectKey{}, invalidArgs("ca.template.not_root", "The %s template cannot be used for a self-signed certificate.", t.Name)
		}
		if !issuer.IsCA || issuer.KeyUsage&x509.KeyUsageCertSign == 0 {
			return nil, subjectKey{}, invalidArgs("ca.issuer.not_ca", "The issuing certificate is not a CA certificate allowed to sign certificates.")
		}
		if !publicKeysEqual(issuer.PublicKey, issuerKey.Public()) {
			return nil, subjectKey{}, pcaError(CodeInvalidState, "The CA's key does not match its certificate.", "ca.issuer.key_mismatch",
				"issuer key does not match certificate %s", issuer.Subject)
		}
		if t.CA && (issuer.MaxPathLen > 0 || issuer.MaxPathLenZero) && t.PathLen >= issuer.MaxPathLen {
			return nil, subjectKey{}, invalidArgs("ca.template.path_len",
				"The %s template needs a path length below the issuing CA's path length constraint of %d.", t.Name, issuer.MaxPathLen)
		}
	}

	if !req.NotAfter.After(req.NotBefore) {
		return nil, subjectKey{}, invalidArgs("ca.validity.order", "The certificate's validity must end after it begins.")
	}
	c.NotBefore, c.NotAfter = req.NotBefore.UTC().Truncate(time.Second), req.NotAfter.UTC().Truncate(time.Second)
	if issuer != nil {
		if c.NotAfter.After(issuer.NotAfter) {
			return nil, subjectKey{}, invalidArgs("ca.validity.beyond_ca",
				"The certificate validity specified exceeds the certificate authority validity (%s).", issuer.NotAfter.UTC().Format(time.RFC3339))
		}
		// Backdating (PCA backdates an hour) must not start before the CA.
		if c.NotBefore.Before(issuer.NotBefore) {
			c.NotBefore = issuer.NotBefore
		}
	}

	signer := issuerKey.Public()
	algName := req.SigningAlgorithm
	if algName == "" {
		algName = DefaultSigningAlgorithm(signer)
	}
	alg, err := SignatureAlgorithm(algName, signer)
	if err != nil {
		return nil, subjectKey{}, err
	}
	c.SignatureAlgorithm = alg

	c.SerialNumber = req.SerialNumber
	if c.SerialNumber == nil {
		if c.SerialNumber, err = NewSerial(req.NotBefore, rand); err != nil {
			return nil, subjectKey{}, err
		}
	}
	key, err := newSubjectKey(pub, rawSPKI)
	if err != nil {
		return nil, subjectKey{}, err
	}
	c.SubjectKeyId = key.id
	c.BasicConstraintsValid = true
	c.IsCA = t.CA
	if t.CA {
		c.MaxPathLen = t.PathLen
		c.MaxPathLenZero = t.PathLen == 0
	}
	c.KeyUsage = t.KeyUsage
	if _, isRSA := pub.(*rsa.PublicKey); isRSA && t.KeyEncipherment {
		c.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	c.ExtKeyUsage = t.ExtKeyUsage
	if t.OCSPNoCheck {
		c.ExtraExtensions = append(c.ExtraExtensions, pkix.Extension{Id: oidOCSPNoCheck, Value: asn1NullEncoded})
	}
	if req.CRLDistributionPoint != "" && !t.Root {
		c.CRLDistributionPoints = []string{req.CRLDistributionPoint}
	}
	return c, key, nil
}

// NewSerial returns a positive 128-bit serial: the time t in milliseconds
// since 1970 (48 bits, clamped at 0) followed by 80 random bits. The random
// part keeps serials unpredictable (the CA/B Forum asks for 64 bits from a
// CSPRNG); the time part makes serials, and so the store's record IDs,
// ascend as certificates are issued, so that each record lands beside the
// last one in the store's index instead of at a random page of it (a batch
// of records then rewrites a page or two, not a page each). It stays
// within RFC 5280's 20 octets.
func NewSerial(t time.Time, rand io.Reader) (*big.Int, error) {
	var b [16]byte
	ms := uint64(max(t.UnixMilli(), 0))
	for i := range 6 {
		b[i] = byte(ms >> (8 * (5 - i)))
	}
	b[0] &= 0x7f // positive whatever the year
	for {
		if _, err := io.ReadFull(rand, b[6:]); err != nil {
			return nil, pcaError(CodeRequestFailed, "The certificate could not be signed.", "ca.rand", "reading randomness: %v", err)
		}
		if n := new(big.Int).SetBytes(b[:]); n.Sign() > 0 {
			return n, nil
		}
	}
}

// SubjectKeyID computes RFC 5280 §4.2.1.2 method 1: SHA-1 of the
// subjectPublicKey bit string.
func SubjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	k, err := newSubjectKey(pub, nil)
	if err != nil {
		return nil, err
	}
	return k.id, nil
}

// CreateCSR makes a PKCS#10 request for key, signed with a PCA signing
// algorithm ("" = the key's default); it returns PEM, as PCA's
// GetCertificateAuthorityCsr does.
func CreateCSR(key crypto.Signer, subject pkix.Name, signingAlgorithm string, rand io.Reader) ([]byte, error) {
	if signingAlgorithm == "" {
		signingAlgorithm = DefaultSigningAlgorithm(key.Public())
	}
	alg, err := SignatureAlgorithm(signingAlgorithm, key.Public())
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificateRequest(rand, &x509.CertificateRequest{Subject: subject, SignatureAlgorithm: alg}, key)
	if err != nil {
		return nil, pcaError(CodeRequestFailed, "The CSR could not be signed.", "ca.csr.sign", "x509.CreateCertificateRequest: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// ParseCSR reads a CSR in PEM (PCA's format) or DER, without checking its
// signature (Issue does). Failures are MalformedCSRException.
func ParseCSR(data []byte) (*x509.CertificateRequest, error) {
	der, ok := decodeCSRPEM(data)
	if !ok {
		der = data
		if b, _ := pem.Decode(data); b != nil {
			if b.Type != "CERTIFICATE REQUEST" && b.Type != "NEW CERTIFICATE REQUEST" {
				return nil, malformedCSR("ca.csr.pem_type", "PEM block type %q is not CERTIFICATE REQUEST", b.Type)
			}
			der = b.Bytes
		}
	}
	if csr, ok := parseCSR(der); ok {
		return csr, nil
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, malformedCSR("ca.csr.parse", "cannot parse CSR: %v", err)
	}
	return csr, nil
}

func containsOID(list []asn1.ObjectIdentifier, id asn1.ObjectIdentifier) bool {
	for _, o := range list {
		if o.Equal(id) {
			return true
		}
	}
	return false
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// errorMessage is the client message of an *awserr.Error, or err's text.
func errorMessage(err error) string {
	var e *awserr.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}
