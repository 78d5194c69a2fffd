package trust

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// MsgUntrusted is AWS's CreateSession message for every certificate or
// chain rejection (createsession.md §10).
const MsgUntrusted = "Untrusted signing certificate"

// MaxChainCertificates is the most certificates X-Amz-X509-Chain may hold.
const MaxChainCertificates = 5

// maxPathDepth bounds the diagnostic walk; a valid path is at most the
// leaf, MaxChainCertificates intermediates and an anchor certificate.
const maxPathDepth = MaxChainCertificates + 2

var leafReasons = map[fault]string{
	faultVersion:       ReasonCertVersion,
	faultIsCA:          ReasonCertIsCA,
	faultKeyUsage:      ReasonCertKeyUsage,
	faultWeakSignature: ReasonCertWeakSignature,
	faultExpired:       ReasonCertExpired,
	faultNotYetValid:   ReasonCertNotYetValid,
	faultEmptySubject:  ReasonCertEmptySubject,
}

var intermediateReasons = map[fault]string{
	faultVersion:       ReasonChainIntermediateVersion,
	faultNotCA:         ReasonChainIntermediateNotCA,
	faultKeyUsage:      ReasonChainIntermediateKeyUsage,
	faultWeakSignature: ReasonChainIntermediateWeakSig,
	faultKey:           ReasonChainIntermediateKey,
	faultExpired:       ReasonChainExpired,
	faultNotYetValid:   ReasonChainNotYetValid,
}

// CheckEndEntity applies AWS's documented end-entity rules to the signing
// certificate: X.509 v3; basicConstraints, if present, CA:FALSE; keyUsage,
// if present, with digitalSignature; a SHA-256 or stronger signature;
// valid at now; a non-empty subject. EKU is not required.
func CheckEndEntity(leaf *x509.Certificate, now time.Time) error {
	if f, d := endEntityFault(leaf, now); f != faultNone {
		return untrusted(leafReasons[f], "certificate %s %s", Name(leaf), d)
	}
	return nil
}

// Result is a verified chain.
type Result struct {
	// Chain runs from the leaf through the intermediates to the anchor
	// certificate that vouches for it.
	Chain []*x509.Certificate
	// StaleCRLs are CRLs consulted past their nextUpdate. Their entries
	// were enforced; the caller logs and counts them.
	StaleCRLs []StaleCRL
}

// VerifyChain builds and verifies the path leaf → intermediates (from
// presented, the X-Amz-X509-Chain certificates) → a certificate of anchor,
// with RFC 5280 path validation at now, then applies the CA rules to each
// intermediate and checks the leaf and intermediates against revocations
// (which may be nil).
//
// presented may repeat certificates and may contain the leaf and the
// anchor's own certificates (the official client sends the root); at most
// MaxChainCertificates are accepted. The end-entity rules are CheckEndEntity's
// and are not repeated here. Every rejection is AccessDeniedException
// "Untrusted signing certificate" with a Reason naming the rule.
func VerifyChain(leaf *x509.Certificate, presented []*x509.Certificate, anchor *Anchor, revocations *RevocationIndex, now time.Time) (Result, error) {
	if anchor == nil || len(anchor.Certificates) == 0 {
		return Result{}, untrusted(ReasonChainUntrusted, "the trust anchor has no certificates")
	}
	if len(presented) > MaxChainCertificates {
		return Result{}, untrusted(ReasonChainTooLong, "the chain holds %d certificates; at most %d are allowed", len(presented), MaxChainCertificates)
	}
	intermediates := intermediatesOf(leaf, presented, anchor)
	opts := x509.VerifyOptions{
		Roots:       anchor.roots,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}
	if len(intermediates) > 0 {
		opts.Intermediates = x509.NewCertPool()
		for _, c := range intermediates {
			opts.Intermediates.AddCert(c)
		}
	}
	chains, err := leaf.Verify(opts)
	if err != nil {
		return Result{}, explain(leaf, intermediates, anchor, now, err)
	}
	var firstErr error
	for _, chain := range chains {
		res := Result{Chain: chain}
		err := checkIntermediates(chain)
		if err == nil {
			err = revocations.check(chain, now, &res.StaleCRLs)
		}
		if err == nil {
			return res, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return Result{}, firstErr
}

// intermediatesOf drops from presented what cannot be an intermediate:
// the leaf, the anchor's own certificates and repeats.
func intermediatesOf(leaf *x509.Certificate, presented []*x509.Certificate, anchor *Anchor) []*x509.Certificate {
	var out []*x509.Certificate
next:
	for _, c := range presented {
		if c == nil || bytes.Equal(c.Raw, leaf.Raw) || anchor.holds(c) {
			continue
		}
		for _, o := range out {
			if bytes.Equal(o.Raw, c.Raw) {
				continue next
			}
		}
		out = append(out, c)
	}
	return out
}

// checkIntermediates applies AWS's CA rules, stricter than RFC 5280 as
// crypto/x509 implements it (which admits v1 CAs and keyUsage-less CAs),
// to every certificate between the leaf and the anchor certificate.
func checkIntermediates(chain []*x509.Certificate) error {
	for _, c := range chain[1 : len(chain)-1] {
		if f, d := caFault(c); f != faultNone {
			return untrusted(intermediateReasons[f], "intermediate certificate %s %s", Name(c), d)
		}
	}
	return nil
}

// explain turns a crypto/x509 verification failure, which mostly reports
// only "unknown authority", into the rule that failed: it walks from the
// leaf through the candidates by issuer name and reports the first link
// that breaks.
func explain(leaf *x509.Certificate, intermediates []*x509.Certificate, anchor *Anchor, now time.Time, verr error) error {
	var inv x509.CertificateInvalidError
	if errors.As(verr, &inv) && inv.Cert == leaf && inv.Reason == x509.Expired {
		f, d := validityFault(leaf, now)
		if f != faultNone {
			return untrusted(leafReasons[f], "certificate %s %s", Name(leaf), d)
		}
	}
	if errors.As(verr, new(x509.UnhandledCriticalExtension)) {
		return untrusted(ReasonChainInvalid, "certificate %s has an unhandled critical extension", Name(leaf))
	}
	cur := leaf
	path := []*x509.Certificate{leaf}
walk:
	for depth := 0; depth < maxPathDepth; depth++ {
		var candidates int
		for _, a := range anchor.Certificates {
			if !bytes.Equal(a.RawSubject, cur.RawIssuer) {
				continue
			}
			candidates++
			if a.CheckSignature(cur.SignatureAlgorithm, cur.RawTBSCertificate, cur.Signature) != nil {
				continue
			}
			if f, d := validityFault(a, now); f != faultNone {
				return untrusted(intermediateReasons[f], "trust anchor certificate %s %s", Name(a), d)
			}
			// The path exists and every certificate is in its validity
			// period: what failed is an RFC 5280 constraint.
			return untrusted(ReasonChainInvalid, "path %s to trust anchor %s fails validation: %v", pathNames(append(path, a)), anchor.name(), verr)
		}
		for _, c := range intermediates {
			if !bytes.Equal(c.RawSubject, cur.RawIssuer) || inPath(path, c) {
				continue
			}
			candidates++
			if c.CheckSignature(cur.SignatureAlgorithm, cur.RawTBSCertificate, cur.Signature) != nil {
				continue
			}
			if f, d := caFault(c); f != faultNone {
				return untrusted(intermediateReasons[f], "intermediate certificate %s %s", Name(c), d)
			}
			if f, d := validityFault(c, now); f != faultNone {
				return untrusted(intermediateReasons[f], "intermediate certificate %s %s", Name(c), d)
			}
			path = append(path, c)
			cur = c
			continue walk
		}
		if candidates == 0 {
			return untrusted(ReasonChainUntrusted, "%s %s is issued by %q, which is neither a certificate of trust anchor %s nor in the presented chain",
				role(len(path)-1), Name(cur), cur.Issuer.String(), anchor.name())
		}
		return untrusted(ReasonChainUntrusted, "the signature of %s %s does not verify with any certificate named %q in trust anchor %s or the presented chain",
			role(len(path)-1), Name(cur), cur.Issuer.String(), anchor.name())
	}
	return untrusted(ReasonChainUntrusted, "no path from certificate %s to trust anchor %s: %v", Name(leaf), anchor.name(), verr)
}

func inPath(path []*x509.Certificate, c *x509.Certificate) bool {
	for _, p := range path {
		if bytes.Equal(p.Raw, c.Raw) {
			return true
		}
	}
	return false
}

func pathNames(path []*x509.Certificate) string {
	var b bytes.Buffer
	for i, c := range path {
		if i > 0 {
			b.WriteString(" → ")
		}
		b.WriteString(Name(c))
	}
	return b.String()
}

// String of a StaleCRL, for logs.
func (s StaleCRL) String() string {
	return fmt.Sprintf("CRL %s of %q is stale since %s", s.ARN, s.Issuer, stamp(s.NextUpdate))
}
