package trust

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/iamra/iamra/awserr"
)

// Import limits of AWS's rolesanywhere API (rolesanywhere-api.md §5, §11).
const (
	MaxBundleChars        = 16000
	MaxAnchorCertificates = 2
	MaxCRLBytes           = 300000
)

// anchorReasons words a CA rule fault for a trust anchor import.
var anchorReasons = map[fault]string{
	faultVersion:       ReasonAnchorVersion,
	faultNotCA:         ReasonAnchorNotCA,
	faultKeyUsage:      ReasonAnchorKeyUsage,
	faultWeakSignature: ReasonAnchorWeakSignature,
	faultKey:           ReasonAnchorKeyUnsupported,
	faultExpired:       ReasonAnchorExpired,
}

func invalidBundle(reason, format string, args ...any) *awserr.Error {
	detail := fmt.Sprintf(format, args...)
	return awserr.Validation("Invalid certificate bundle: "+detail).Because(reason, "%s", detail)
}

// ParseAnchorBundle validates a trust anchor's CERTIFICATE_BUNDLE PEM as
// AWS does at CreateTrustAnchor/UpdateTrustAnchor: 1..2 certificates, each
// X.509 v3 with basicConstraints CA:TRUE, keyUsage keyCertSign, a SHA-256
// or stronger signature, an RSA >= 2048 or ECDSA P-256/P-384/P-521 key,
// and not expired at now. Only PEM CERTIFICATE blocks separated by
// whitespace are accepted, at most MaxBundleChars characters.
//
// A CA that is not yet valid is accepted: operators stage the next CA
// beside the current one for rotation. Errors are ValidationExceptions.
func ParseAnchorBundle(pemData string, now time.Time) ([]*x509.Certificate, error) {
	if n := utf8.RuneCountInString(pemData); n > MaxBundleChars {
		return nil, invalidBundle(ReasonAnchorTooLarge, "the bundle is %d characters long; the maximum is %d", n, MaxBundleChars)
	}
	blocks, err := pemBlocks([]byte(pemData))
	if err != nil {
		return nil, invalidBundle(ReasonAnchorPEM, "%s", err)
	}
	if len(blocks) == 0 {
		return nil, invalidBundle(ReasonAnchorCount, "no PEM certificate found")
	}
	if len(blocks) > MaxAnchorCertificates {
		return nil, invalidBundle(ReasonAnchorCount, "%d certificates found; a trust anchor holds at most %d", len(blocks), MaxAnchorCertificates)
	}
	certs := make([]*x509.Certificate, 0, len(blocks))
	for i, b := range blocks {
		n := i + 1
		if b.Type != "CERTIFICATE" {
			// Only the type is echoed: the block may be a private key.
			return nil, invalidBundle(ReasonAnchorPEM, "PEM block %d is of type %q; only CERTIFICATE blocks are allowed", n, b.Type)
		}
		if len(b.Headers) != 0 {
			return nil, invalidBundle(ReasonAnchorPEM, "PEM block %d has headers; certificates must not have any", n)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, invalidBundle(ReasonAnchorParse, "certificate %d cannot be parsed: %s", n, err)
		}
		for j, prev := range certs {
			if bytes.Equal(prev.Raw, c.Raw) {
				return nil, invalidBundle(ReasonAnchorDuplicate, "certificate %d is the same as certificate %d", n, j+1)
			}
		}
		f, d := caFault(c)
		if f == faultNone && now.After(c.NotAfter) {
			f, d = faultExpired, fmt.Sprintf("expired at %s (now %s)", stamp(c.NotAfter), stamp(now))
		}
		if f != faultNone {
			return nil, invalidBundle(anchorReasons[f], "certificate %d %s %s", n, Name(c), d)
		}
		certs = append(certs, c)
	}
	return certs, nil
}

// ParseCRL parses an imported CRL (crlData of ImportCrl/UpdateCrl): a DER
// X.509 v2 CRL or exactly one PEM "X509 CRL" block, at most MaxCRLBytes.
// The signature is not checked here: the issuer may be an intermediate the
// server has not seen yet, so it is verified when a chain uses the CRL.
func ParseCRL(data []byte) (*x509.RevocationList, error) {
	invalid := func(reason, format string, args ...any) *awserr.Error {
		detail := fmt.Sprintf(format, args...)
		return awserr.Validation("Invalid CRL: "+detail).Because(reason, "%s", detail)
	}
	if len(data) == 0 || len(data) > MaxCRLBytes {
		return nil, invalid(ReasonCRLTooLarge, "the CRL is %d bytes long; it must be 1 to %d bytes", len(data), MaxCRLBytes)
	}
	der := data
	if trimmed := bytes.TrimLeft(data, pemSpace); bytes.HasPrefix(trimmed, pemBegin) {
		blocks, err := pemBlocks(data)
		if err != nil {
			return nil, invalid(ReasonCRLPEM, "%s", err)
		}
		if len(blocks) != 1 {
			return nil, invalid(ReasonCRLPEM, "%d PEM blocks found; exactly one X509 CRL block is allowed", len(blocks))
		}
		if blocks[0].Type != "X509 CRL" {
			return nil, invalid(ReasonCRLPEM, "the PEM block is of type %q; an X509 CRL block is required", blocks[0].Type)
		}
		der = blocks[0].Bytes
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, invalid(ReasonCRLParse, "not an X.509 v2 CRL: %s", err)
	}
	// crypto/x509 ignores bytes after the outer SEQUENCE.
	if len(crl.Raw) != len(der) {
		return nil, invalid(ReasonCRLParse, "%d bytes of trailing data after the CRL", len(der)-len(crl.Raw))
	}
	if !strongSignature[crl.SignatureAlgorithm] {
		return nil, invalid(ReasonCRLWeakSignature, "the CRL is signed with %s; SHA-256 or stronger is required (no MD5, no SHA-1)", sigAlgName(crl.SignatureAlgorithm))
	}
	return crl, nil
}

var (
	pemBegin = []byte("-----BEGIN ")
	pemEnd   = []byte("-----END ")
)

const pemSpace = " \t\r\n"

// pemBlocks decodes data that must consist only of PEM blocks and
// whitespace. encoding/pem alone would skip text before a block and
// resynchronise on a later BEGIN line after a broken block; both would
// let garbage through silently.
func pemBlocks(data []byte) ([]*pem.Block, error) {
	var blocks []*pem.Block
	rest := data
	for {
		rest = bytes.TrimLeft(rest, pemSpace)
		if len(rest) == 0 {
			return blocks, nil
		}
		n := len(blocks) + 1
		if !bytes.HasPrefix(rest, pemBegin) {
			if n == 1 {
				return nil, fmt.Errorf("the data does not start with a PEM BEGIN line")
			}
			return nil, fmt.Errorf("unexpected data after PEM block %d", n-1)
		}
		end := bytes.Index(rest, pemEnd)
		if end < 0 {
			return nil, fmt.Errorf("PEM block %d has no END line", n)
		}
		stop := len(rest)
		if nl := bytes.IndexByte(rest[end:], '\n'); nl >= 0 {
			stop = end + nl + 1
		}
		seg := rest[:stop]
		if bytes.Contains(seg[1:end], pemBegin) {
			return nil, fmt.Errorf("PEM block %d has no END line before the next BEGIN line", n)
		}
		block, tail := pem.Decode(seg)
		if block == nil || len(bytes.TrimLeft(tail, pemSpace)) != 0 {
			return nil, fmt.Errorf("PEM block %d is malformed", n)
		}
		blocks = append(blocks, block)
		rest = rest[stop:]
	}
}
