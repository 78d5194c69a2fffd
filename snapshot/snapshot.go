// Package snapshot is iamra's configuration as an immutable in-memory
// value: trust anchors with parsed certificates and revocation indexes,
// profiles and roles.
//
// CreateSession reads only a Snapshot, so the hot path takes no lock and
// does no I/O. A Holder rebuilds the snapshot when the store reports a
// change to a configuration kind and swaps it in atomically; readers keep
// whatever snapshot they loaded for the rest of their request.
package snapshot

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/store"
	"github.com/iamra/iamra/sts"
	"github.com/iamra/iamra/trust"
)

// Anchor is a trust anchor ready for chain verification.
type Anchor struct {
	Detail      rolesanywhere.TrustAnchor
	Trust       *trust.Anchor
	Revocations *trust.RevocationIndex
}

// Snapshot is one consistent view of the configuration.
type Snapshot struct {
	Revision int64
	Built    time.Time
	anchors  map[string]*Anchor
	profiles map[string]*rolesanywhere.Profile
	roles    map[string]*sts.Role
	// Chains caches verified certificate chains for this snapshot's
	// anchors; a new snapshot starts with an empty one.
	Chains *trust.ChainCache
	// Problems lists records that could not be used (say, a CRL that no
	// longer parses); they are skipped, not fatal.
	Problems []string
}

// TrustAnchor looks an anchor up by ARN.
func (s *Snapshot) TrustAnchor(arn string) (*Anchor, bool) { a, ok := s.anchors[arn]; return a, ok }

// Profile looks a profile up by ARN.
func (s *Snapshot) Profile(arn string) (*rolesanywhere.Profile, bool) {
	p, ok := s.profiles[arn]
	return p, ok
}

// Role looks a role up by ARN.
func (s *Snapshot) Role(arn string) (*sts.Role, bool) { r, ok := s.roles[arn]; return r, ok }

// Anchors returns every trust anchor.
func (s *Snapshot) Anchors() []*Anchor {
	out := make([]*Anchor, 0, len(s.anchors))
	for _, a := range s.anchors {
		out = append(out, a)
	}
	return out
}

// Empty is a snapshot with nothing in it, for start-up before the first
// build.
func Empty() *Snapshot {
	return &Snapshot{anchors: map[string]*Anchor{}, profiles: map[string]*rolesanywhere.Profile{}, roles: map[string]*sts.Role{},
		Chains: trust.NewChainCache(0)}
}

// Sources lets other subsystems contribute to anchors: the private CA
// supplies certificates and CRLs of anchors whose source is AWS_ACM_PCA.
type Sources interface {
	// CACertificates returns the certificates of an iamra private CA.
	CACertificates(tx store.Tx, caArn string) ([]*x509.Certificate, error)
	// CACRL returns the CA's current CRL, or nil.
	CACRL(tx store.Tx, caArn string) (*x509.RevocationList, error)
}

// configKinds are the kinds a snapshot is built from; writes to other
// kinds never trigger a rebuild. Subjects and issued certificates are the
// frequent ones: every CreateSession may touch a subject, every
// IssueCertificate writes a certificate record, and neither changes what
// a snapshot holds. The private CA's current CRL is stored among its
// certificate records, but every CRL is written in the same transaction as
// the CA record (its CRL number), so a revocation still reaches
// AWS_ACM_PCA trust anchors through the KindCA change.
var configKinds = []store.Kind{store.KindTrustAnchor, store.KindProfile, store.KindCRL, store.KindRole, store.KindCA, store.KindPolicy}

// Build reads the configuration from st in one transaction.
func Build(ctx context.Context, st store.Store, src Sources, now time.Time) (*Snapshot, error) {
	s := Empty()
	s.Built = now
	err := st.View(ctx, func(tx store.Tx) error {
		anchors, _, err := store.List[rolesanywhere.TrustAnchor](tx, store.KindTrustAnchor, store.ListOptions{})
		if err != nil {
			return err
		}
		crls, _, err := store.List[rolesanywhere.CRL](tx, store.KindCRL, store.ListOptions{})
		if err != nil {
			return err
		}
		byAnchor := map[string][]trust.CRL{}
		for _, c := range crls {
			if !c.Enabled {
				continue
			}
			rl, err := trust.ParseCRL(c.CrlData)
			if err != nil {
				s.Problems = append(s.Problems, fmt.Sprintf("crl %s: %v", c.CrlArn, err))
				continue
			}
			byAnchor[c.TrustAnchorArn] = append(byAnchor[c.TrustAnchorArn], trust.CRL{ARN: c.CrlArn, List: rl})
		}
		for _, ta := range anchors {
			certs, err := anchorCertificates(tx, ta, src)
			if err != nil {
				s.Problems = append(s.Problems, fmt.Sprintf("trust anchor %s: %v", ta.TrustAnchorArn, err))
				continue
			}
			rls := byAnchor[ta.TrustAnchorArn]
			if ta.Source.SourceType == rolesanywhere.SourceACMPCA && src != nil {
				rl, err := src.CACRL(tx, ta.Source.SourceData.AcmPcaArn)
				if err != nil {
					s.Problems = append(s.Problems, fmt.Sprintf("trust anchor %s: CRL of %s: %v", ta.TrustAnchorArn, ta.Source.SourceData.AcmPcaArn, err))
				} else if rl != nil {
					rls = append(slices.Clip(rls), trust.CRL{ARN: ta.Source.SourceData.AcmPcaArn, List: rl})
				}
			}
			s.anchors[ta.TrustAnchorArn] = &Anchor{
				Detail:      ta,
				Trust:       trust.NewAnchor(ta.TrustAnchorID, ta.TrustAnchorArn, certs, ta.Enabled),
				Revocations: trust.NewRevocationIndex(rls),
			}
		}
		profiles, _, err := store.List[rolesanywhere.Profile](tx, store.KindProfile, store.ListOptions{})
		if err != nil {
			return err
		}
		for i := range profiles {
			s.profiles[profiles[i].ProfileArn] = &profiles[i]
		}
		roles, _, err := store.List[sts.Role](tx, store.KindRole, store.ListOptions{})
		if err != nil {
			return err
		}
		for i := range roles {
			s.roles[roles[i].Arn] = &roles[i]
		}
		rev, err := st.Revision(ctx)
		s.Revision = rev
		return err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func anchorCertificates(tx store.Tx, ta rolesanywhere.TrustAnchor, src Sources) ([]*x509.Certificate, error) {
	// An iamra private CA is read live, so a renewed CA certificate is
	// trusted without UpdateTrustAnchor; otherwise the copy made when the
	// anchor was written is used, as AWS does.
	if ta.Source.SourceType == rolesanywhere.SourceACMPCA && src != nil {
		return src.CACertificates(tx, ta.Source.SourceData.AcmPcaArn)
	}
	return ParsePEMCertificates([]byte(ta.CertificatePEM()))
}

// ParsePEMCertificates parses every CERTIFICATE block. Validation happened
// when the anchor was written; here an anchor whose CA has since expired
// still loads, and chain verification refuses it with a precise reason.
func ParsePEMCertificates(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no certificates")
	}
	return out, nil
}

// Holder keeps the current snapshot.
type Holder struct {
	cur     atomic.Pointer[Snapshot]
	st      store.Store
	src     Sources
	now     func() time.Time
	log     *slog.Logger
	OnBuild func(s *Snapshot, d time.Duration, err error)
}

// NewHolder builds the first snapshot and returns a Holder serving it.
func NewHolder(ctx context.Context, st store.Store, src Sources, now func() time.Time, log *slog.Logger) (*Holder, error) {
	h := &Holder{st: st, src: src, now: now, log: log}
	if err := h.Rebuild(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// Load returns the current snapshot. It never blocks.
func (h *Holder) Load() *Snapshot { return h.cur.Load() }

// Rebuild reads the store now and swaps the result in.
func (h *Holder) Rebuild(ctx context.Context) error {
	start := time.Now()
	s, err := Build(ctx, h.st, h.src, h.now())
	if h.OnBuild != nil {
		h.OnBuild(s, time.Since(start), err)
	}
	if err != nil {
		return err
	}
	for _, p := range s.Problems {
		h.log.Warn("configuration record skipped", "problem", p)
	}
	h.cur.Store(s)
	return nil
}

// Watch rebuilds on every configuration change until ctx ends. A failed
// rebuild keeps the previous snapshot and is retried on the next change or
// after retry.
func (h *Holder) Watch(ctx context.Context, retry time.Duration) {
	changes := h.st.Changes(ctx)
	t := time.NewTicker(retry)
	defer t.Stop()
	stale := false
	for {
		select {
		case <-ctx.Done():
			return
		case c, ok := <-changes:
			if !ok {
				return
			}
			if !touchesConfig(c) {
				continue
			}
		case <-t.C:
			if !stale {
				continue
			}
		}
		if err := h.Rebuild(ctx); err != nil {
			stale = true
			h.log.Error("configuration snapshot rebuild failed; serving the previous one", "err", err)
			continue
		}
		stale = false
	}
}

func touchesConfig(c store.Change) bool {
	for _, k := range c.Kinds {
		if slices.Contains(configKinds, k) {
			return true
		}
	}
	return len(c.Kinds) == 0
}

// New builds a snapshot from values, for tests and tools that hold
// configuration without a store.
func New(anchors []*Anchor, profiles []rolesanywhere.Profile, roles []sts.Role) *Snapshot {
	s := Empty()
	for _, a := range anchors {
		s.anchors[a.Detail.TrustAnchorArn] = a
	}
	for i := range profiles {
		s.profiles[profiles[i].ProfileArn] = &profiles[i]
	}
	for i := range roles {
		s.roles[roles[i].Arn] = &roles[i]
	}
	return s
}
