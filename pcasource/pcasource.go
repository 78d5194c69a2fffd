// Package pcasource connects trust anchors of source AWS_ACM_PCA to
// iamra's own private CA.
//
// A Source implements snapshot.Sources: when the configuration snapshot
// is built, an anchor whose acmPcaArn names an iamra CA gets that CA's
// certificate and its current CRL, read from the store in the snapshot's
// own transaction. Revocation writes the CA record (its CRL number) and the
// CRL in one transaction, and the CA record's kind is one the snapshot
// rebuilds on, so a revoked certificate is refused by CreateSession as soon
// as the rebuild that follows the revocation's change notification is done,
// with no ImportCrl by hand.
//
// The anchor holds the CA's own certificate only, never the chain above
// it: every certificate of an anchor is a root of trust, so adding the
// parent would also trust whatever else the parent signed. A subordinate
// CA's clients send their intermediates as usual.
//
// ResolvePCA is the control plane's check at CreateTrustAnchor and
// UpdateTrustAnchor: the CA must exist and be ACTIVE, as AWS requires of a
// CA it copies into a trust anchor.
package pcasource

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"sync"

	"github.com/iamra/iamra/ca"
	"github.com/iamra/iamra/snapshot"
	"github.com/iamra/iamra/store"
)

// The snapshot reads anchors through this interface.
var _ snapshot.Sources = (*Source)(nil)

// Source reads iamra CAs for trust anchors. It is safe for concurrent use.
type Source struct {
	svc *ca.Service

	// Parsing is cached per CA: a snapshot rebuild (any configuration
	// write) would otherwise re-parse every CA's certificate and CRL.
	mu    sync.Mutex
	certs map[string]cachedCert
	crls  map[string]cachedCRL
}

type cachedCert struct {
	pem  string
	cert *x509.Certificate
}

type cachedCRL struct {
	sum [sha256.Size]byte
	rl  *x509.RevocationList
}

// New returns a Source over svc's CAs.
func New(svc *ca.Service) *Source {
	return &Source{svc: svc, certs: map[string]cachedCert{}, crls: map[string]cachedCRL{}}
}

// CACertificates returns the certificate of the CA caArn. A CA without a
// certificate (PENDING_CERTIFICATE, FAILED) or DELETED gives an error, and
// the snapshot leaves the anchor out: a deleted CA no longer signs CRLs,
// so its revocations could not reach the anchor any more. A DISABLED or
// expired CA still anchors the certificates it issued, as in AWS; chain
// verification refuses expired ones with a precise reason.
func (s *Source) CACertificates(tx store.Tx, caArn string) ([]*x509.Certificate, error) {
	a, err := s.svc.AuthorityIn(tx, caArn)
	if err != nil {
		return nil, err
	}
	if a.Status == ca.StatusDeleted {
		return nil, fmt.Errorf("certificate authority %s is DELETED", caArn)
	}
	if a.CertificatePEM == "" {
		return nil, fmt.Errorf("certificate authority %s has no certificate yet (status %s)", caArn, a.Status)
	}
	s.mu.Lock()
	c, ok := s.certs[caArn]
	s.mu.Unlock()
	if ok && c.pem == a.CertificatePEM {
		return []*x509.Certificate{c.cert}, nil
	}
	certs, err := snapshot.ParsePEMCertificates([]byte(a.CertificatePEM))
	if err != nil {
		return nil, fmt.Errorf("certificate of %s: %w", caArn, err)
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("certificate of %s: %d certificates stored, want 1", caArn, len(certs))
	}
	s.mu.Lock()
	s.certs[caArn] = cachedCert{pem: a.CertificatePEM, cert: certs[0]}
	s.mu.Unlock()
	return certs, nil
}

// CACRL returns the CA's current CRL, or nil if it has none yet.
func (s *Source) CACRL(tx store.Tx, caArn string) (*x509.RevocationList, error) {
	der, err := s.svc.CRLIn(tx, caArn)
	if err != nil || der == nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	s.mu.Lock()
	c, ok := s.crls[caArn]
	s.mu.Unlock()
	if ok && c.sum == sum {
		return c.rl, nil
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("CRL of %s: %w", caArn, err)
	}
	s.mu.Lock()
	s.crls[caArn] = cachedCRL{sum: sum, rl: rl}
	s.mu.Unlock()
	return rl, nil
}

// ResolvePCA returns the PEM certificate of the iamra CA caArn, for the
// control plane's Config.ResolvePCA. The CA must be ACTIVE. Errors are
// plain errors (not AWS-shaped) on purpose: the control plane words them
// as AWS does for a CA it may not read, and keeps this text for the
// operator.
func (s *Source) ResolvePCA(ctx context.Context, caArn string) (string, error) {
	a, err := s.svc.DescribeCertificateAuthority(ctx, caArn)
	if err != nil {
		return "", fmt.Errorf("certificate authority %s: %v", caArn, err)
	}
	if a.Status != ca.StatusActive {
		return "", fmt.Errorf("certificate authority %s is %s, not ACTIVE", caArn, a.Status)
	}
	cert, _, err := s.svc.GetCertificateAuthorityCertificate(ctx, caArn)
	if err != nil {
		return "", fmt.Errorf("certificate authority %s: %v", caArn, err)
	}
	return cert, nil
}
