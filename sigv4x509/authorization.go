package sigv4x509

import (
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"time"

	"github.com/iamra/iamra/awserr"
)

// Authorization is a parsed SigV4-X509 Authorization header:
//
//	<Algorithm> Credential=<serial>/<YYYYMMDD>/<region>/<service>/<terminal>, SignedHeaders=<h1;h2;…>, Signature=<hex>
//
// Serial is the leaf certificate's serial number, written in decimal.
type Authorization struct {
	Algorithm     string
	Serial        *big.Int
	Date          string // YYYYMMDD
	Region        string
	Service       string
	Terminal      string
	SignedHeaders []string // lower case, in the order sent
	Signature     []byte
}

// Scope is the credential scope: Date/Region/Service/Terminal.
func (a Authorization) Scope() string {
	return scope(a.Date, a.Region, a.Service, a.Terminal)
}

// String formats the header exactly as the official client does: one
// space after the algorithm, ", " between the parts, decimal serial,
// lower-case hex signature.
func (a Authorization) String() string {
	serial := "<nil>"
	if a.Serial != nil {
		serial = a.Serial.String()
	}
	return a.Algorithm + " Credential=" + serial + "/" + a.Scope() +
		", SignedHeaders=" + strings.Join(a.SignedHeaders, ";") +
		", Signature=" + hex.EncodeToString(a.Signature)
}

// ParseAuthorization parses a SigV4-X509 Authorization header value. It
// checks syntax and bounds only (algorithm among the three labels, five
// Credential parts, decimal serial without leading zeros, a real calendar
// date, a lower-case region, lower-case header names without duplicates,
// non-empty hex signature); the service, terminal and everything involving
// the request are Verify's job.
//
// Errors are *awserr.Error: 403 AccessDeniedException "Invalid signature"
// with Reason sig.malformed_authorization, or sig.unknown_algorithm.
func ParseAuthorization(header string) (Authorization, error) {
	var a Authorization
	if len(header) > MaxAuthorizationBytes {
		return a, malformed("Authorization is %d bytes, more than the %d-byte limit", len(header), MaxAuthorizationBytes)
	}
	alg, rest, ok := strings.Cut(header, " ")
	if !ok {
		return a, malformed("Authorization %q has no space after the algorithm", clip(header))
	}
	switch alg {
	case AlgorithmRSA, AlgorithmECDSA, AlgorithmMLDSA:
		a.Algorithm = alg
	default:
		return a, invalidSignature("sig.unknown_algorithm",
			"Authorization algorithm %q is not one of %s, %s, %s", clip(alg), AlgorithmRSA, AlgorithmECDSA, AlgorithmMLDSA)
	}

	var credential, signedHeaders, signature string
	var seen [3]bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.Trim(part, " ")
		key, val, ok := strings.Cut(part, "=")
		if !ok {
			return a, malformed("Authorization part %q is not key=value", clip(part))
		}
		var i int
		switch key {
		case "Credential":
			i, credential = 0, val
		case "SignedHeaders":
			i, signedHeaders = 1, val
		case "Signature":
			i, signature = 2, val
		default:
			return a, malformed("Authorization has unknown part %q", clip(key))
		}
		if seen[i] {
			return a, malformed("Authorization repeats %s", key)
		}
		seen[i] = true
	}
	for i, name := range []string{"Credential", "SignedHeaders", "Signature"} {
		if !seen[i] {
			return a, malformed("Authorization has no %s", name)
		}
	}
	if err := a.parseCredential(credential); err != nil {
		return a, err
	}
	if err := a.parseSignedHeaders(signedHeaders); err != nil {
		return a, err
	}
	if signature == "" {
		return a, malformed("Authorization Signature is empty")
	}
	if len(signature) > 2*MaxSignatureBytes {
		return a, malformed("Signature is %d hex digits, more than the limit of %d", len(signature), 2*MaxSignatureBytes)
	}
	sig, err := hex.DecodeString(signature)
	if err != nil {
		return a, malformed("Signature %q is not hex: %v", clip(signature), err)
	}
	a.Signature = sig
	return a, nil
}

func malformed(format string, args ...any) *awserr.Error {
	return invalidSignature("sig.malformed_authorization", format, args...)
}

func (a *Authorization) parseCredential(cred string) error {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return malformed("Credential %q has %d /-separated parts, want 5 (serial/date/region/service/aws4_request)", clip(cred), len(parts))
	}
	serial, date, region := parts[0], parts[1], parts[2]
	if !decimal(serial) || len(serial) > MaxSerialDigits || (len(serial) > 1 && serial[0] == '0') {
		return malformed("Credential serial %q is not a decimal certificate serial number", clip(serial))
	}
	a.Serial, _ = new(big.Int).SetString(serial, 10)
	if len(date) != 8 || !decimal(date) {
		return malformed("Credential date %q is not YYYYMMDD", clip(date))
	}
	if _, err := time.Parse("20060102", date); err != nil {
		return malformed("Credential date %q is not a calendar date", date)
	}
	a.Date = date
	if err := checkRegion(region); err != nil {
		return malformed("Credential region %q: %s", clip(region), err)
	}
	a.Region = region
	if parts[3] == "" || parts[4] == "" {
		return malformed("Credential %q has an empty service or terminal", clip(cred))
	}
	a.Service, a.Terminal = parts[3], parts[4]
	return nil
}

func (a *Authorization) parseSignedHeaders(list string) error {
	if list == "" {
		return malformed("SignedHeaders is empty")
	}
	names := strings.Split(list, ";")
	if len(names) > MaxSignedHeaders {
		return malformed("SignedHeaders names %d headers, more than the limit of %d", len(names), MaxSignedHeaders)
	}
	for i, n := range names {
		if !headerName(n) {
			return malformed("SignedHeaders entry %q is not a lower-case header name", clip(n))
		}
		for _, prev := range names[:i] {
			if prev == n {
				return malformed("SignedHeaders names %q twice", n)
			}
		}
	}
	a.SignedHeaders = names
	return nil
}

// checkRegion accepts what can safely sit in a credential scope: 1..64
// lower-case letters, digits and hyphens. Region names are that shape
// (us-east-1, us-gov-west-1); anything else could not match a trust
// anchor's region anyway.
func checkRegion(region string) error {
	if region == "" || len(region) > 64 {
		return errors.New("region must be 1 to 64 characters")
	}
	for i := 0; i < len(region); i++ {
		c := region[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return errors.New("region may hold only a-z, 0-9 and -")
		}
	}
	return nil
}

func decimal(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// headerName accepts an RFC 9110 token without upper-case letters.
func headerName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
