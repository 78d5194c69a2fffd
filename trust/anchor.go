package trust

import (
	"crypto/x509"
)

// Anchor is a trust anchor as CreateSession uses it: its parsed CA
// certificates and a root pool built once, so that verifying a chain
// allocates no pool for the anchor side.
//
// An Anchor is immutable after NewAnchor and safe for concurrent use.
type Anchor struct {
	ID      string
	ARN     string
	Enabled bool
	// Certificates are the bundle's CA certificates (1 or 2).
	Certificates []*x509.Certificate

	roots *x509.CertPool
}

// NewAnchor builds an Anchor from certificates, normally the result of
// ParseAnchorBundle. When loading a stored anchor, parse with a zero "now"
// so that an anchor that has expired since its import is still loaded and
// its chains are rejected with a precise chain.expired reason.
//
// Enabled is informational: VerifyChain does not check it, because AWS
// answers a disabled anchor with its "not found" message, which the caller
// owns.
func NewAnchor(id, arn string, certs []*x509.Certificate, enabled bool) *Anchor {
	a := &Anchor{ID: id, ARN: arn, Enabled: enabled, Certificates: certs, roots: x509.NewCertPool()}
	for _, c := range certs {
		a.roots.AddCert(c)
	}
	return a
}

// name identifies the anchor in operator details.
func (a *Anchor) name() string {
	if a.ARN != "" {
		return a.ARN
	}
	return a.ID
}

// holds reports whether c is one of the anchor's certificates.
func (a *Anchor) holds(c *x509.Certificate) bool {
	for _, ac := range a.Certificates {
		if ac == c || string(ac.Raw) == string(c.Raw) {
			return true
		}
	}
	return false
}
