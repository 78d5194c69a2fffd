package ca

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"

	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/store"
)

// keyAlgorithms are the CA key algorithms iamra makes, with their family.
var keyAlgorithms = map[string]x509.PublicKeyAlgorithm{
	KeyRSA2048: x509.RSA, KeyRSA3072: x509.RSA, KeyRSA4096: x509.RSA,
	KeyECP256: x509.ECDSA, KeyECP384: x509.ECDSA, KeyECP521: x509.ECDSA,
}

const maxTags = 50

// enumViolation returns the Coral-style violation for a value outside
// allowed ("" in allowed means the member is optional).
func enumViolation(field, value string, allowed ...string) *awserr.Violation {
	var set []string
	for _, a := range allowed {
		if a == value {
			return nil
		}
		if a != "" {
			set = append(set, a)
		}
	}
	v := awserr.Violation{Value: value, Field: field, Constraint: "Member must satisfy enum value set: [" + strings.Join(set, ", ") + "]"}
	if value == "" {
		v.Null, v.Constraint = true, "Member must not be null"
	}
	return &v
}

// firstViolation builds one ValidationException from the non-nil violations.
func firstViolation(vs ...*awserr.Violation) error {
	var list []awserr.Violation
	for _, v := range vs {
		if v != nil {
			list = append(list, *v)
		}
	}
	if e := awserr.Violations(list...); e != nil {
		return e
	}
	return nil
}

func validateRevocation(rc RevocationConfiguration) error {
	if o := rc.OcspConfiguration; o != nil && o.Enabled {
		return invalidArgs("ca.revocation.ocsp", "OCSP is not supported by iamra; use CRLs.")
	}
	c := rc.CrlConfiguration
	if c == nil {
		return nil
	}
	if c.ExpirationInDays < 0 || c.ExpirationInDays > 5000 {
		return invalidArgs("ca.revocation.expiration", "ExpirationInDays must be between 1 and 5000.")
	}
	if c.CustomCname != "" {
		if len(c.CustomCname) > 253 || strings.Contains(c.CustomCname, "://") || strings.ContainsAny(c.CustomCname, "/ ?#@") {
			return invalidArgs("ca.revocation.cname", "The CustomCname %q must be a host name without a protocol or path.", c.CustomCname)
		}
	}
	if c.CustomPath != "" && (len(c.CustomPath) > 253 || strings.ContainsAny(c.CustomPath, " ?#") || strings.Contains(c.CustomPath, "..")) {
		return invalidArgs("ca.revocation.path", "The CustomPath %q is not valid.", c.CustomPath)
	}
	if c.CrlType != "" && c.CrlType != "COMPLETE" {
		return invalidArgs("ca.revocation.crl_type", "Only COMPLETE CRLs are supported.")
	}
	return nil
}

// crlDays is the CRL lifetime a configuration asks for.
func crlDays(rc RevocationConfiguration) int {
	if c := rc.CrlConfiguration; c != nil && c.ExpirationInDays > 0 {
		return c.ExpirationInDays
	}
	return DefaultCRLExpirationDays
}

func validateTags(tags []Tag) error {
	if len(tags) > maxTags {
		return pcaError(CodeTooManyTags, "You can associate up to 50 tags with a private CA.", "ca.tags.too_many", "%d tags given", len(tags))
	}
	for _, t := range tags {
		if len(t.Key) < 1 || len(t.Key) > 128 || len(t.Value) > 256 || strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return pcaError(CodeInvalidTag, fmt.Sprintf("The tag %q is not valid.", t.Key), "ca.tags.invalid",
				"tag keys are 1-128 characters not starting with aws:, values at most 256")
		}
	}
	return nil
}

func parseCertificatePEM(data []byte) (*x509.Certificate, error) {
	certs, err := parseCertificatesPEM(data)
	if err != nil {
		return nil, err
	}
	if len(certs) != 1 {
		return nil, pcaError(CodeMalformedCertificate, "One certificate is expected.", "ca.cert.count", "%d certificates given", len(certs))
	}
	return certs[0], nil
}

// parseCertificatesPEM reads PEM certificates; anything else is
// MalformedCertificateException.
func parseCertificatesPEM(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, pcaError(CodeMalformedCertificate, "The certificate is not valid PEM.", "ca.cert.pem_type", "PEM block %q", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, pcaError(CodeMalformedCertificate, "The certificate could not be parsed.", "ca.cert.parse", "%v", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 || strings.TrimSpace(string(rest)) != "" {
		return nil, pcaError(CodeMalformedCertificate, "The certificate is not valid PEM.", "ca.cert.pem", "no PEM certificate or trailing data")
	}
	return out, nil
}

func encodePEM(certs ...*x509.Certificate) string {
	var b strings.Builder
	for _, c := range certs {
		b.WriteString(certificatePEM(c.Raw))
	}
	return b.String()
}

// certificatePEM is der as one PEM CERTIFICATE block, byte for byte what
// pem.EncodeToMemory writes, built in one allocation: 64 characters of
// base64 (48 bytes of DER) a line.
func certificatePEM(der []byte) string {
	const begin, end = "-----BEGIN CERTIFICATE-----\n", "-----END CERTIFICATE-----\n"
	lines := (len(der) + 47) / 48
	var b strings.Builder
	b.Grow(len(begin) + base64.StdEncoding.EncodedLen(len(der)) + lines + len(end))
	b.WriteString(begin)
	var line [65]byte
	for len(der) > 0 {
		chunk := der[:min(48, len(der))]
		der = der[len(chunk):]
		n := base64.StdEncoding.EncodedLen(len(chunk))
		base64.StdEncoding.Encode(line[:n], chunk)
		line[n] = '\n'
		b.Write(line[:n+1])
	}
	b.WriteString(end)
	return b.String()
}

func encodeChain(chain []*x509.Certificate) string { return encodePEM(chain...) }

// serialHex is the canonical serial in ARNs and store IDs: lower-case hex,
// at least 32 digits, no colons.
func serialHex(n *big.Int) string {
	if n.Sign() >= 0 && n.BitLen() <= 128 {
		var b [16]byte
		return hex.EncodeToString(n.FillBytes(b[:]))
	}
	return fmt.Sprintf("%032x", n)
}

// serialColons is the serial as openssl and PCA print it: aa:bb:cc.
func serialColons(n *big.Int) string {
	b := n.Bytes()
	if len(b) == 0 {
		b = []byte{0}
	}
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02x", x)
	}
	return strings.Join(parts, ":")
}

// parseSerial accepts hex with or without colons, any case.
func parseSerial(s string) (*big.Int, bool) {
	h := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	if h == "" || len(h) > 40 {
		return nil, false
	}
	n, ok := new(big.Int).SetString(h, 16)
	if !ok || n.Sign() <= 0 {
		return nil, false
	}
	return n, true
}

// putAny writes v whatever is stored under (kind, id).
func putAny[T any](tx store.Tx, kind store.Kind, id string, v T) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("ca: encode %s/%s: %w", kind, id, err)
	}
	_, err = tx.PutAny(store.Record{Kind: kind, ID: id, Data: data})
	return err
}
