package trust

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iamra/iamra/awserr"
)

// CRL is an enabled CRL of a trust anchor, as ParseCRL returned it. ARN
// names it in operator details and staleness reports; it may be empty.
type CRL struct {
	ARN  string
	List *x509.RevocationList
}

// StaleCRL reports a CRL that was used for a decision after its
// nextUpdate had passed. Its revoked serials are still enforced (an old
// list of revocations is still true); the caller should warn and count.
type StaleCRL struct {
	ARN        string
	Issuer     string // the CRL issuer's DN
	NextUpdate time.Time
}

// RevocationIndex finds the CRLs that can speak for a certificate. It is
// built once per configuration snapshot and is safe for concurrent use;
// the only mutable state is each CRL's signature-verification cache.
type RevocationIndex struct {
	byIssuer map[string][]*indexedCRL // raw issuer DN → CRLs
	all      []*indexedCRL
}

type indexedCRL struct {
	CRL
	issuer  string // DN, for details
	revoked map[string]x509.RevocationListEntry

	// verdicts caches the signature check per issuing certificate
	// (sha256 of its DER → error or nil). Chains are verified first, so
	// the issuers reaching this cache chain to the anchor; the bound only
	// guards against a CA that mints many same-named intermediates.
	verdicts sync.Map
	cached   atomic.Int32
}

// maxVerdicts bounds each CRL's signature cache; past it, signatures are
// checked on every use.
const maxVerdicts = 64

// NewRevocationIndex indexes the enabled CRLs of one trust anchor by
// issuer DN. The CRLs' signatures are checked lazily, on first use against
// the issuing certificate of a verified chain, since an issuing
// intermediate may only ever arrive in a request.
func NewRevocationIndex(crls []CRL) *RevocationIndex {
	ix := &RevocationIndex{byIssuer: make(map[string][]*indexedCRL)}
	for _, c := range crls {
		if c.List == nil {
			continue
		}
		e := &indexedCRL{CRL: c, issuer: c.List.Issuer.String(), revoked: make(map[string]x509.RevocationListEntry, len(c.List.RevokedCertificateEntries))}
		for _, r := range c.List.RevokedCertificateEntries {
			if r.SerialNumber != nil {
				e.revoked[serialKey(r.SerialNumber)] = r
			}
		}
		ix.byIssuer[string(c.List.RawIssuer)] = append(ix.byIssuer[string(c.List.RawIssuer)], e)
		ix.all = append(ix.all, e)
	}
	return ix
}

// Stale lists the index's CRLs whose nextUpdate is before now, for a
// gauge independent of traffic.
func (ix *RevocationIndex) Stale(now time.Time) []StaleCRL {
	if ix == nil {
		return nil
	}
	var out []StaleCRL
	for _, e := range ix.all {
		if e.stale(now) {
			out = append(out, e.staleReport())
		}
	}
	return out
}

func serialKey(n *big.Int) string {
	if n.Sign() < 0 {
		return "-" + string(n.Bytes())
	}
	return string(n.Bytes())
}

func (e *indexedCRL) stale(now time.Time) bool {
	return !e.List.NextUpdate.IsZero() && now.After(e.List.NextUpdate)
}

func (e *indexedCRL) staleReport() StaleCRL {
	return StaleCRL{ARN: e.ARN, Issuer: e.issuer, NextUpdate: e.List.NextUpdate}
}

func (e *indexedCRL) name() string {
	if e.ARN != "" {
		return fmt.Sprintf("CRL %s (issuer %q)", e.ARN, e.issuer)
	}
	return fmt.Sprintf("CRL of issuer %q (number %v)", e.issuer, e.List.Number)
}

// covers reports whether this CRL may speak for c, issued by issuer: same
// issuer DN (the index key) and, where both sides carry one, the same key
// identifier, so that a CRL of a rotated-out CA key with the same name is
// not applied to certificates of the new key.
func (e *indexedCRL) covers(c, issuer *x509.Certificate) bool {
	crlKey := e.List.AuthorityKeyId
	if len(crlKey) == 0 {
		return true
	}
	certKey := c.AuthorityKeyId
	if len(certKey) == 0 {
		certKey = issuer.SubjectKeyId
	}
	return len(certKey) == 0 || bytes.Equal(crlKey, certKey)
}

// verifiedBy checks the CRL's signature with the issuing certificate,
// once per issuer.
func (e *indexedCRL) verifiedBy(issuer *x509.Certificate) error {
	key := sha256.Sum256(issuer.Raw)
	if v, ok := e.verdicts.Load(key); ok {
		if v == nil {
			return nil
		}
		return v.(error)
	}
	err := e.List.CheckSignatureFrom(issuer)
	if e.cached.Load() < maxVerdicts {
		if _, loaded := e.verdicts.LoadOrStore(key, err); !loaded {
			e.cached.Add(1)
		}
	}
	return err
}

// check applies revocation to every certificate of chain (leaf first,
// anchor certificate last) whose issuer has a matching CRL. The anchor
// certificate itself is not checked: its issuer is outside the chain, so
// no CRL for it could be verified.
func (ix *RevocationIndex) check(chain []*x509.Certificate, now time.Time, stale *[]StaleCRL) error {
	if ix == nil || len(ix.byIssuer) == 0 {
		return nil
	}
	for i := 0; i+1 < len(chain); i++ {
		c, issuer := chain[i], chain[i+1]
		for _, e := range ix.byIssuer[string(c.RawIssuer)] {
			if !e.covers(c, issuer) {
				continue
			}
			// A CRL that names this issuer and key but does not verify
			// is corrupt or forged. It can only ever deny, so fail closed
			// rather than let a broken import silently stop revocation.
			if err := e.verifiedBy(issuer); err != nil {
				return untrusted(ReasonCRLBadSignature, "%s matches %s %s but its signature does not verify with issuing certificate %s: %v",
					e.name(), role(i), Name(c), Name(issuer), err)
			}
			isStale := e.stale(now)
			if isStale {
				*stale = append(*stale, e.staleReport())
			}
			if r, ok := e.revoked[serialKey(c.SerialNumber)]; ok {
				d := fmt.Sprintf("%s %s is revoked by %s since %s%s", role(i), Name(c), e.name(), stamp(r.RevocationTime), revocationReason(r.ReasonCode))
				if isStale {
					d += fmt.Sprintf("; the CRL is stale (nextUpdate %s)", stamp(e.List.NextUpdate))
				}
				return untrusted(ReasonChainRevoked, "%s", d)
			}
		}
	}
	return nil
}

func role(i int) string {
	if i == 0 {
		return "certificate"
	}
	return "intermediate certificate"
}

// revocationReasons are RFC 5280 §5.3.1 CRLReason names.
var revocationReasons = [...]string{
	0: "unspecified", 1: "keyCompromise", 2: "cACompromise", 3: "affiliationChanged", 4: "superseded",
	5: "cessationOfOperation", 6: "certificateHold", 8: "removeFromCRL", 9: "privilegeWithdrawn", 10: "aACompromise",
}

func revocationReason(code int) string {
	if code <= 0 {
		return ""
	}
	if code < len(revocationReasons) && revocationReasons[code] != "" {
		return " (reason " + revocationReasons[code] + ")"
	}
	return fmt.Sprintf(" (reason code %d)", code)
}

// untrusted is the CreateSession rejection of a certificate or chain:
// AWS's message for the client, the exact cause for the operator.
func untrusted(reason, format string, args ...any) *awserr.Error {
	return awserr.AccessDenied(MsgUntrusted).Because(reason, format, args...)
}
