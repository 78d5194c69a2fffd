// Package sigv4x509 builds and checks the signature of an IAM Roles
// Anywhere CreateSession request ("SigV4-X509"): SigV4's canonical request,
// signed not with a secret key but with the private key of an X.509
// certificate that travels in the X-Amz-X509 header.
//
// Sign is the client half (iamra's credential helper); Verify is the server
// half. Both share one canonicalisation, so what one produces the other
// accepts, and both reproduce the quirks of the official client
// (aws_signing_helper v1.8.0): the canonical URI is always "/sessions"
// whatever path was sent, the serial in Credential is decimal, and every
// header present is signed except Authorization, User-Agent and
// X-Amzn-Trace-Id.
//
// The package is pure: no I/O besides the request given, time comes from
// the caller, and nothing is cached between calls. Verify checks the
// signature only. Whether the leaf chains to a trust anchor, is within its
// validity, is revoked, or whether the scope region is the trust anchor's
// region are the caller's decisions (Verified exposes what it needs).
//
// # ML-DSA
//
// Go 1.26 has no public ML-DSA package (only crypto/internal/fips140/mldsa),
// and crypto/x509 neither creates nor understands ML-DSA certificates:
// x509.ParseCertificate accepts them but leaves PublicKey nil and
// PublicKeyAlgorithm Unknown. This package therefore parses the
// SubjectPublicKeyInfo of ML-DSA-44/65/87 (OIDs 2.16.840.1.101.3.4.3.17/18/19,
// parameters absent, RFC 9881) itself and verifies with
// github.com/cloudflare/circl, as the official client does. ParseCertificate
// and CertificatePublicKey expose that to other packages.
//
// # Errors
//
// Every Verify failure is an *awserr.Error carrying AWS's terse message for
// the client and a Reason code plus Detail for the operator:
//
//	403 AccessDeniedException "Invalid signature"
//	  sig.missing_authorization     no Authorization header
//	  sig.malformed_authorization   Authorization unparseable, repeated or too long
//	  sig.unknown_algorithm         algorithm is not one of the three SigV4-X509 labels
//	  sig.scope_service             credential scope service is not "rolesanywhere"
//	  sig.scope_terminal            credential scope does not end in "aws4_request"
//	  sig.missing_date              no X-Amz-Date header
//	  sig.malformed_date            X-Amz-Date unparseable or repeated
//	  sig.scope_date                credential scope date differs from X-Amz-Date's date
//	  sig.skew                      X-Amz-Date outside the allowed clock skew
//	  sig.serial_mismatch           Credential serial is not the leaf's serial
//	  sig.unsigned_required_header  host, x-amz-date, x-amz-x509 or a present x-amz-x509-chain not signed
//	  sig.signed_header_absent      a header named in SignedHeaders is not in the request
//	  sig.unsupported_key           the leaf's key is no RSA, ECDSA P-256/384/521 or ML-DSA key
//	  sig.algorithm_key_mismatch    algorithm label does not match the leaf's key type
//	  sig.bad_signature             the signature does not verify
//	403 AccessDeniedException "Untrusted signing certificate"
//	  cert.missing_x509_header      no X-Amz-X509 header
//	  cert.malformed_x509_header    X-Amz-X509 not base64 DER of one certificate, repeated or too long
//	400 ValidationException
//	  cert.chain_too_long           X-Amz-X509-Chain holds more certificates than allowed
//	  cert.malformed_chain_header   X-Amz-X509-Chain not comma-separated base64 DER certificates
//
// A malformed leaf header is a 403 "Untrusted signing certificate": the
// client presented no certificate iamra can trust, which is the nearest
// message AWS is known to send. A malformed or over-long chain header is a
// 400 ValidationException (createsession.md §11 item 2): the request itself
// is wrong, and retrying it will not help until the client fixes its bundle.
package sigv4x509

import (
	"time"
	"unicode/utf8"

	"github.com/iamra/iamra/awserr"
)

// The SigV4-X509 algorithm labels, the service name of the credential scope
// and the X-Amz-Date layout.
const (
	AlgorithmRSA   = "AWS4-X509-RSA-SHA256"
	AlgorithmECDSA = "AWS4-X509-ECDSA-SHA256"
	AlgorithmMLDSA = "AWS4-X509-MLDSA"
	Service        = "rolesanywhere"
	DateLayout     = "20060102T150405Z"
)

// Terminal is the last element of every SigV4 credential scope.
const Terminal = "aws4_request"

// Header names, canonical form.
const (
	HeaderAuthorization = "Authorization"
	HeaderDate          = "X-Amz-Date"
	HeaderX509          = "X-Amz-X509"
	HeaderX509Chain     = "X-Amz-X509-Chain"
)

// Defaults and limits. The limits are far above anything a real client
// sends (an ML-DSA-87 signature is 4,627 bytes, an ML-DSA-87 certificate
// signed by an ML-DSA-87 CA about 7.5 KB) and only keep hostile input from
// costing more than a normal request.
const (
	DefaultSkew           = 5 * time.Minute
	DefaultMaxChain       = 5
	MaxAuthorizationBytes = 16 << 10 // length of the Authorization header value
	MaxCertificateBytes   = 16 << 10 // DER length of one certificate
	MaxSignatureBytes     = 5 << 10  // decoded signature length (ML-DSA-87: 4,627; RSA-16384: 2,048)
	MaxSignedHeaders      = 128
	MaxSerialDigits       = 64 // RFC 5280 allows 20 octets, i.e. 49 decimal digits
)

// The client-facing messages. They are AWS's texts, so clients that match
// on them keep working.
const (
	MessageInvalidSignature     = "Invalid signature"
	MessageUntrustedCertificate = "Untrusted signing certificate"
)

func invalidSignature(reason, format string, args ...any) *awserr.Error {
	return awserr.AccessDenied(MessageInvalidSignature).Because(reason, format, args...)
}

func untrustedCertificate(reason, format string, args ...any) *awserr.Error {
	return awserr.AccessDenied(MessageUntrustedCertificate).Because(reason, format, args...)
}

func invalidChain(reason, message, format string, args ...any) *awserr.Error {
	return awserr.Validation(message).Because(reason, format, args...)
}

// clip shortens attacker-controlled text before it goes into a Detail, so
// one hostile request cannot write kilobytes into the operator's log.
func clip(s string) string { return clipTo(s, 64) }

// clipTo is clip for text that is legitimately longer, such as a list of
// signed headers.
func clipTo(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
