package trust

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/iamra/iamra/x509attr"
)

// fault is one failed certificate rule, before it is worded for a context
// (an anchor import is a ValidationException, a chain a 403).
type fault int

const (
	faultNone fault = iota
	faultVersion
	faultNotCA
	faultKeyUsage
	faultWeakSignature
	faultKey
	faultIsCA
	faultExpired
	faultNotYetValid
	faultEmptySubject
)

// strongSignature lists the certificate signature algorithms AWS's
// "SHA-256 or stronger" admits. crypto/x509 cannot verify ML-DSA, so an
// ML-DSA-signed certificate reports UnknownSignatureAlgorithm and is
// refused here rather than failing later with a vaguer error.
var strongSignature = map[x509.SignatureAlgorithm]bool{
	x509.SHA256WithRSA:    true,
	x509.SHA384WithRSA:    true,
	x509.SHA512WithRSA:    true,
	x509.SHA256WithRSAPSS: true,
	x509.SHA384WithRSAPSS: true,
	x509.SHA512WithRSAPSS: true,
	x509.ECDSAWithSHA256:  true,
	x509.ECDSAWithSHA384:  true,
	x509.ECDSAWithSHA512:  true,
	x509.PureEd25519:      true,
}

// Name identifies a certificate for operators: subject DN and serial in
// lower-case hex, e.g. `"CN=workload,O=Example" (serial 0123456789abcdef)`.
func Name(c *x509.Certificate) string {
	return fmt.Sprintf("%q (serial %s)", c.Subject.String(), x509attr.SerialHex(c.SerialNumber))
}

func signatureFault(c *x509.Certificate) (fault, string) {
	if strongSignature[c.SignatureAlgorithm] {
		return faultNone, ""
	}
	return faultWeakSignature, fmt.Sprintf("is signed with %s; SHA-256 or stronger is required (no MD5, no SHA-1)", sigAlgName(c.SignatureAlgorithm))
}

func sigAlgName(a x509.SignatureAlgorithm) string {
	if a == x509.UnknownSignatureAlgorithm {
		return "an unsupported signature algorithm"
	}
	return a.String()
}

// caFault applies the documented CA certificate rules (AWS "Signature
// validation": v3, basicConstraints CA:TRUE, keyUsage keyCertSign,
// SHA-256 or stronger) plus iamra's key policy. It is used for anchor
// certificates and for intermediates alike.
func caFault(c *x509.Certificate) (fault, string) {
	if c.Version != 3 {
		return faultVersion, fmt.Sprintf("is X.509 v%d; a CA certificate must be v3", c.Version)
	}
	if !c.BasicConstraintsValid {
		return faultNotCA, "has no basicConstraints extension; CA:TRUE is required"
	}
	if !c.IsCA {
		return faultNotCA, "has basicConstraints CA:FALSE; CA:TRUE is required"
	}
	if c.KeyUsage == 0 {
		return faultKeyUsage, "has no keyUsage extension; keyCertSign is required"
	}
	if c.KeyUsage&x509.KeyUsageCertSign == 0 {
		return faultKeyUsage, "has a keyUsage without keyCertSign"
	}
	if f, d := signatureFault(c); f != faultNone {
		return f, d
	}
	return keyFault(c)
}

func keyFault(c *x509.Certificate) (fault, string) {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < 2048 {
			return faultKey, fmt.Sprintf("has an RSA key of %d bits; at least 2048 bits are required", n)
		}
		return faultNone, ""
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return faultNone, ""
		}
		return faultKey, fmt.Sprintf("has an ECDSA key on curve %s; P-256, P-384 or P-521 is required", k.Curve.Params().Name)
	}
	return faultKey, fmt.Sprintf("has a %s key; RSA (2048 bits or more) or ECDSA (P-256, P-384, P-521) is required", c.PublicKeyAlgorithm)
}

// endEntityFault applies the documented end-entity rules (createsession.md
// §4 step 2). EKU is deliberately not checked: AWS does not require
// clientAuth and the conformance EC leaf has no EKU at all.
func endEntityFault(c *x509.Certificate, now time.Time) (fault, string) {
	if c.Version != 3 {
		return faultVersion, fmt.Sprintf("is X.509 v%d; v3 is required", c.Version)
	}
	if c.BasicConstraintsValid && c.IsCA {
		return faultIsCA, "has basicConstraints CA:TRUE; an end-entity certificate must have CA:FALSE"
	}
	if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return faultKeyUsage, "has a keyUsage without digitalSignature"
	}
	if f, d := signatureFault(c); f != faultNone {
		return f, d
	}
	if f, d := validityFault(c, now); f != faultNone {
		return f, d
	}
	if len(c.Subject.Names) == 0 {
		return faultEmptySubject, "has an empty subject; IAM Roles Anywhere keys subjects by their DN"
	}
	return faultNone, ""
}

func validityFault(c *x509.Certificate, now time.Time) (fault, string) {
	if now.Before(c.NotBefore) {
		return faultNotYetValid, fmt.Sprintf("is not valid before %s (now %s)", stamp(c.NotBefore), stamp(now))
	}
	if now.After(c.NotAfter) {
		return faultExpired, fmt.Sprintf("expired at %s (now %s)", stamp(c.NotAfter), stamp(now))
	}
	return faultNone, ""
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
