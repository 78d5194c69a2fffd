package sigv4x509

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/iamra/iamra/awserr"
)

// VerifyOptions are the server's settings for Verify.
type VerifyOptions struct {
	Now  time.Time     // required: the server's clock, injected
	Skew time.Duration // allowed |Now − X-Amz-Date|; zero or negative means DefaultSkew (5 minutes)
	// MaxChain is the most certificates X-Amz-X509-Chain may hold; zero
	// means DefaultMaxChain (5, AWS's quota), negative means none.
	MaxChain int
}

// Verified is what a verified request proves: the holder of Leaf's
// private key signed this request at Time for Region.
type Verified struct {
	Leaf *x509.Certificate // PublicKey holds a circl key for ML-DSA leaves (crypto/x509 leaves it nil)
	// Chain is the parsed X-Amz-X509-Chain, as sent: it may repeat the
	// leaf, contain the trust anchor or duplicates; chain building decides.
	Chain         []*x509.Certificate
	Algorithm     string
	Region        string    // from the credential scope; the caller checks it against the trust anchor
	Time          time.Time // X-Amz-Date
	SignedHeaders []string
	// Signature is the request signature, e.g. as a replay-cache key
	// within the skew window (retries are re-signed, so they differ).
	Signature []byte
}

// Verify checks the SigV4-X509 signature of a CreateSession request whose
// body the caller has already read (bounded). It follows
// createsession.md §3 in order: Authorization syntax and scope, X-Amz-Date
// (scope date, skew), the leaf from X-Amz-X509 and its serial, the signed
// header set, the algorithm against the leaf's key, the signature, and
// last the chain header, whose certificates are only parsed once the
// signature proves the client sent them.
//
// The canonical request uses r's method, the canonical URI "/sessions"
// whatever r's path (prefix mounts and path-rewriting proxies work), the
// re-encoded query, host from r.Host, and the headers named in
// SignedHeaders, in that order.
//
// Every error is an *awserr.Error; the package documentation lists the
// Reason codes. A malformed X-Amz-X509 is 403 "Untrusted signing
// certificate"; a malformed or over-long X-Amz-X509-Chain is a 400
// ValidationException (createsession.md §11 item 2).
func Verify(r *http.Request, body []byte, opts VerifyOptions) (*Verified, error) {
	if r == nil {
		return nil, awserr.Internal("sigv4x509.Verify: nil request")
	}
	if opts.Now.IsZero() {
		return nil, awserr.Internal("sigv4x509.Verify: VerifyOptions.Now is zero; the caller must inject its clock")
	}
	skew := opts.Skew
	if skew <= 0 {
		skew = DefaultSkew
	}
	maxChain := opts.MaxChain
	if maxChain == 0 {
		maxChain = DefaultMaxChain
	} else if maxChain < 0 {
		maxChain = 0
	}

	// 1. Authorization.
	authz := headerValues(r.Header, "authorization")
	switch len(authz) {
	case 0:
		return nil, invalidSignature("sig.missing_authorization", "the request has no Authorization header")
	case 1:
	default:
		return nil, malformed("Authorization header appears %d times", len(authz))
	}
	auth, err := ParseAuthorization(authz[0])
	if err != nil {
		return nil, err
	}
	if auth.Service != Service {
		return nil, invalidSignature("sig.scope_service", "credential scope service is %q, want %q", clip(auth.Service), Service)
	}
	if auth.Terminal != Terminal {
		return nil, invalidSignature("sig.scope_terminal", "credential scope ends in %q, want %q", clip(auth.Terminal), Terminal)
	}

	// 2. X-Amz-Date: parseable, the scope's date, within the skew window.
	dates := headerValues(r.Header, "x-amz-date")
	if len(dates) == 0 {
		return nil, invalidSignature("sig.missing_date", "the request has no X-Amz-Date header")
	}
	if len(dates) > 1 {
		return nil, invalidSignature("sig.malformed_date", "X-Amz-Date header appears %d times", len(dates))
	}
	date := dates[0]
	t, err := time.Parse(DateLayout, date)
	if err != nil || len(date) != len(DateLayout) {
		return nil, invalidSignature("sig.malformed_date", "X-Amz-Date %q is not in the form YYYYMMDDTHHMMSSZ", clip(date))
	}
	if date[:8] != auth.Date {
		return nil, invalidSignature("sig.scope_date", "credential scope date %s is not the date of X-Amz-Date %s", auth.Date, date)
	}
	if d := opts.Now.Sub(t); d > skew || d < -skew {
		dir := "behind"
		if d < 0 {
			dir, d = "ahead of", -d
		}
		return nil, invalidSignature("sig.skew", "X-Amz-Date %s is %s %s server time %s (allowed ±%s)",
			date, d, dir, opts.Now.UTC().Format(time.RFC3339), skew)
	}

	// 3. The leaf certificate, and the serial in Credential.
	x509s := headerValues(r.Header, "x-amz-x509")
	if len(x509s) == 0 {
		return nil, untrustedCertificate("cert.missing_x509_header", "the request has no X-Amz-X509 header")
	}
	if len(x509s) > 1 {
		return nil, untrustedCertificate("cert.malformed_x509_header", "X-Amz-X509 header appears %d times", len(x509s))
	}
	leaf, err := decodeCertificate(x509s[0])
	if err != nil {
		return nil, untrustedCertificate("cert.malformed_x509_header", "X-Amz-X509 %v", err)
	}
	if auth.Serial.Cmp(leaf.SerialNumber) != 0 {
		return nil, invalidSignature("sig.serial_mismatch", "Credential serial %s is not the serial %s of the X-Amz-X509 certificate (%s)",
			auth.Serial, leaf.SerialNumber, clipTo(leaf.Subject.String(), 128))
	}

	// 4. The signed header set.
	chainVals := headerValues(r.Header, "x-amz-x509-chain")
	required := []string{"host", "x-amz-date", "x-amz-x509"}
	if chainVals != nil {
		required = append(required, "x-amz-x509-chain")
	}
	for _, name := range required {
		if !slices.Contains(auth.SignedHeaders, name) {
			return nil, invalidSignature("sig.unsigned_required_header", "SignedHeaders %q does not include %s",
				clipTo(strings.Join(auth.SignedHeaders, ";"), 256), name)
		}
	}
	for _, name := range auth.SignedHeaders {
		if _, ok := signedValue(r, name); !ok {
			return nil, invalidSignature("sig.signed_header_absent", "signed header %s is not in the request", name)
		}
	}
	chainParts, err := splitChain(chainVals, maxChain)
	if err != nil {
		return nil, err
	}

	// 5. The algorithm must be the one of the leaf's key.
	keyAlg, err := AlgorithmFor(leaf.PublicKey)
	if err != nil {
		return nil, invalidSignature("sig.unsupported_key", "leaf certificate (serial %s) has a %s key: %v",
			leaf.SerialNumber, keyType(leaf.PublicKey), err)
	}
	if keyAlg != auth.Algorithm {
		return nil, invalidSignature("sig.algorithm_key_mismatch", "algorithm %s does not match the leaf's %s key (serial %s), which signs as %s",
			auth.Algorithm, keyType(leaf.PublicKey), leaf.SerialNumber, keyAlg)
	}

	// 6. The signature.
	credScope := auth.Scope()
	sts := stringToSign(r, auth.Algorithm, date, credScope, auth.SignedHeaders, body)
	if err := checkSignature(leaf.PublicKey, sts, auth.Signature); err != nil {
		crHash := sts[bytes.LastIndexByte(sts, '\n')+1:]
		return nil, invalidSignature("sig.bad_signature",
			"%v: leaf serial %s (%s key), scope %s, SignedHeaders %s, canonical request SHA-256 %s, payload SHA-256 %s",
			err, leaf.SerialNumber, keyType(leaf.PublicKey), credScope, clipTo(strings.Join(auth.SignedHeaders, ";"), 256),
			crHash, hexSHA256(body))
	}

	// 7. The chain, now that the client has proved it sent it.
	var chain []*x509.Certificate
	for i, part := range chainParts {
		c, err := decodeCertificate(part)
		if err != nil {
			return nil, invalidChain("cert.malformed_chain_header", msgMalformedChain,
				"X-Amz-X509-Chain certificate %d of %d: %v", i+1, len(chainParts), err)
		}
		chain = append(chain, c)
	}

	return &Verified{
		Leaf:          leaf,
		Chain:         chain,
		Algorithm:     auth.Algorithm,
		Region:        auth.Region,
		Time:          t,
		SignedHeaders: auth.SignedHeaders,
		Signature:     auth.Signature,
	}, nil
}

const msgMalformedChain = "X-Amz-X509-Chain must be a comma-separated list of base64-encoded DER certificates."

// splitChain checks the chain header's shape cheaply (one header, not
// more certificates than allowed, no empty entries) without decoding it.
func splitChain(vals []string, maxChain int) ([]string, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	if len(vals) > 1 {
		return nil, invalidChain("cert.malformed_chain_header", msgMalformedChain, "X-Amz-X509-Chain header appears %d times", len(vals))
	}
	v := strings.TrimSpace(vals[0])
	if v == "" {
		return nil, nil
	}
	if n := strings.Count(v, ",") + 1; n > maxChain {
		return nil, invalidChain("cert.chain_too_long",
			fmt.Sprintf("X-Amz-X509-Chain must not hold more than %d certificates.", maxChain),
			"X-Amz-X509-Chain holds %d certificates; at most %d are allowed", n, maxChain)
	}
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
		if parts[i] == "" {
			return nil, invalidChain("cert.malformed_chain_header", msgMalformedChain,
				"X-Amz-X509-Chain entry %d of %d is empty", i+1, len(parts))
		}
	}
	return parts, nil
}

// decodeCertificate decodes one header certificate: standard base64 with
// padding of exactly one DER certificate. Its errors complete a sentence
// that starts with the header's name.
func decodeCertificate(s string) (*x509.Certificate, error) {
	if s == "" {
		return nil, fmt.Errorf("is empty")
	}
	if limit := base64.StdEncoding.EncodedLen(MaxCertificateBytes); len(s) > limit {
		return nil, fmt.Errorf("is %d characters, more than the %d-character limit", len(s), limit)
	}
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("is not standard base64 (%v)", err)
	}
	cert, err := ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("is not a DER X.509 certificate (%v; DER starts %s)", err, hex.EncodeToString(der[:min(len(der), 8)]))
	}
	return cert, nil
}
