// Package subject records which certificates authenticated, as IAM Roles
// Anywhere's Subject resources, without a database write per CreateSession.
//
// CreateSession calls Observe, which only updates an in-memory map keyed by
// subject; Run flushes the map to the store in one transaction per interval.
// Repeated sessions of one workload between two flushes cost one write
// together, which is what lets CreateSession scale with CPU instead of disk.
// The price is that a crash loses at most one interval of lastSeenAt
// updates, which are observability data, never authorization data.
//
// Subject ids are derived from the subject DN (a hash formatted as a UUID),
// so any replica computes the same id without reading the store.
package subject

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/store"
)

// ID returns the subject id for a subject DN string.
func ID(dn string) string {
	h := sha256.Sum256([]byte(dn))
	b := h[:16]
	b[6] = b[6]&0x0f | 0x80 // UUIDv8: custom, name-derived
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	x := hex.EncodeToString(b)
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// DN formats a certificate's subject the way iamra names subjects.
func DN(cert *x509.Certificate) string { return cert.Subject.String() }

// Observation is one CreateSession attempt that identified a certificate.
type Observation struct {
	Leaf               *x509.Certificate
	Failed             bool
	At                 time.Time
	InstanceProperties map[string]string
}

// Options tune a Recorder.
type Options struct {
	// Interval between flushes; default 1s.
	Interval time.Duration
	// MaxPending bounds memory: past it, new subjects are dropped (and
	// counted) until the next flush. Default 200,000.
	MaxPending int
	// KeepCredentials is how many recent certificates a subject keeps;
	// default 10.
	KeepCredentials int
	// Precision is how stale a stored lastSeenAt may be: a subject seen
	// again within it is written only when something else changed (a new
	// certificate, a failure, instance properties). Default one minute;
	// negative writes every sighting.
	Precision time.Duration
	// OnFlush reports each flush (subjects written, duration, error).
	OnFlush func(n int, d time.Duration, err error)
	// OnDrop reports observations dropped because MaxPending was reached.
	OnDrop func()
}

type seenCert struct {
	raw    []byte
	serial string
	issuer string
	at     time.Time
	failed bool
}

type pending struct {
	dn        string
	firstSeen time.Time
	lastSeen  time.Time
	certs     []seenCert
	props     []rolesanywhere.InstanceProperty
	anyFailed bool
}

// Recorder coalesces observations and writes them in batches.
type Recorder struct {
	st    store.Store
	scope arn.Scope
	opts  Options

	mu      sync.Mutex
	pending map[string]*pending
	kick    chan struct{}

	// flushMu serialises flushes; written is only touched under it.
	flushMu sync.Mutex
	// written remembers what recent flushes stored, per subject, so a
	// sighting that changes nothing but lastSeenAt can wait. Entries older
	// than Precision are dropped: a later sighting is due anyway.
	written map[string]writtenState
}

type writtenState struct {
	lastSeen time.Time
	certs    map[string]bool // serial|issuer → failed
}

// New returns a Recorder writing to st, minting ARNs in scope.
func New(st store.Store, scope arn.Scope, opts Options) *Recorder {
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.MaxPending <= 0 {
		opts.MaxPending = 200_000
	}
	if opts.KeepCredentials <= 0 {
		opts.KeepCredentials = 10
	}
	if opts.Precision == 0 {
		opts.Precision = time.Minute
	}
	return &Recorder{st: st, scope: scope, opts: opts, pending: map[string]*pending{}, kick: make(chan struct{}, 1),
		written: map[string]writtenState{}}
}

// ARN returns the subject ARN for a subject DN.
func (r *Recorder) ARN(dn string) string {
	return r.scope.New("rolesanywhere", "subject/"+ID(dn), true).String()
}

// Observe notes an attempt and returns the subject's ARN. It never blocks
// on I/O.
func (r *Recorder) Observe(o Observation) string {
	dn := DN(o.Leaf)
	id := ID(dn)
	sc := seenCert{raw: o.Leaf.Raw, serial: hex.EncodeToString(o.Leaf.SerialNumber.Bytes()), issuer: o.Leaf.Issuer.String(), at: o.At, failed: o.Failed}
	r.mu.Lock()
	p := r.pending[id]
	if p == nil {
		if len(r.pending) >= r.opts.MaxPending {
			r.mu.Unlock()
			r.signal()
			if r.opts.OnDrop != nil {
				r.opts.OnDrop()
			}
			return r.ARN(dn)
		}
		p = &pending{dn: dn, firstSeen: o.At}
		r.pending[id] = p
	}
	if o.At.Before(p.firstSeen) {
		p.firstSeen = o.At
	}
	if o.At.After(p.lastSeen) {
		p.lastSeen = o.At
	}
	p.certs = mergeCert(p.certs, sc, r.opts.KeepCredentials)
	if len(o.InstanceProperties) > 0 {
		p.props = append(p.props, rolesanywhere.InstanceProperty{SeenAt: rolesanywhere.NewTime(o.At), Properties: o.InstanceProperties, Failed: o.Failed})
		if len(p.props) > r.opts.KeepCredentials {
			p.props = p.props[len(p.props)-r.opts.KeepCredentials:]
		}
	}
	full := len(r.pending) >= r.opts.MaxPending
	r.mu.Unlock()
	if full {
		r.signal()
	}
	return r.ARN(dn)
}

func (r *Recorder) signal() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// mergeCert keeps one entry per certificate (serial+issuer), the latest
// sighting, at most keep entries, newest first.
func mergeCert(list []seenCert, c seenCert, keep int) []seenCert {
	for i := range list {
		if list[i].serial == c.serial && list[i].issuer == c.issuer {
			if !c.at.Before(list[i].at) {
				list[i] = c
			}
			sortCerts(list)
			return list
		}
	}
	list = append(list, c)
	sortCerts(list)
	if len(list) > keep {
		list = list[:keep]
	}
	return list
}

func sortCerts(list []seenCert) {
	sort.SliceStable(list, func(i, j int) bool { return list[i].at.After(list[j].at) })
}

// Run flushes every interval until ctx ends, then flushes once more.
func (r *Recorder) Run(ctx context.Context) {
	t := time.NewTicker(r.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			// The store may still be open: the caller closes it after Run returns.
			_ = r.Flush(context.WithoutCancel(ctx))
			return
		case <-t.C:
		case <-r.kick:
		}
		_ = r.Flush(ctx)
	}
}

// batchSize bounds one transaction so a flush of a huge backlog does not
// hold the writer for long.
const batchSize = 500

// due reports whether a pending subject must be written now: it is new to
// this process's recent writes, carries new facts, or its stored
// lastSeenAt has become older than Precision.
func (r *Recorder) due(id string, p *pending) bool {
	w, ok := r.written[id]
	if !ok || r.opts.Precision < 0 || len(p.props) > 0 || p.lastSeen.Sub(w.lastSeen) >= r.opts.Precision {
		return true
	}
	for _, c := range p.certs {
		if failed, seen := w.certs[c.serial+"|"+c.issuer]; !seen || failed != c.failed {
			return true
		}
	}
	return false
}

// remember records what a successful write stored.
func (r *Recorder) remember(id string, p *pending) {
	w := r.written[id]
	if w.certs == nil {
		w.certs = map[string]bool{}
	}
	w.lastSeen = p.lastSeen
	for _, c := range p.certs {
		w.certs[c.serial+"|"+c.issuer] = c.failed
	}
	r.written[id] = w
}

// Flush writes every pending subject that is due (see Options.Precision);
// the others stay pending, coalescing further sightings.
func (r *Recorder) Flush(ctx context.Context) error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.mu.Lock()
	work := r.pending
	r.pending = make(map[string]*pending, len(work))
	r.mu.Unlock()
	if len(work) == 0 {
		return nil
	}
	start := time.Now()
	// Observation times come from the caller's clock, so the newest one
	// (not the wall clock) says which remembered writes are old.
	var newest time.Time
	for _, p := range work {
		if p.lastSeen.After(newest) {
			newest = p.lastSeen
		}
	}
	for id, w := range r.written {
		if newest.Sub(w.lastSeen) > r.opts.Precision {
			delete(r.written, id)
		}
	}
	ids := make([]string, 0, len(work))
	var later []string
	for id, p := range work {
		if r.due(id, p) {
			ids = append(ids, id)
		} else {
			later = append(later, id)
		}
	}
	r.requeue(work, later)
	if len(ids) == 0 {
		return nil
	}
	sort.Strings(ids)
	written := len(ids)
	var errs []error
	for len(ids) > 0 {
		n := min(batchSize, len(ids))
		chunk := ids[:n]
		ids = ids[n:]
		err := r.st.Update(ctx, func(tx store.Tx) error {
			for _, id := range chunk {
				if err := r.apply(tx, id, work[id]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err)
			r.requeue(work, chunk)
			written -= len(chunk)
			continue
		}
		for _, id := range chunk {
			r.remember(id, work[id])
		}
	}
	err := errors.Join(errs...)
	if r.opts.OnFlush != nil {
		r.opts.OnFlush(written, time.Since(start), err)
	}
	return err
}

// requeue puts back what a failed transaction did not write, so a passing
// store outage loses nothing that fits in memory.
func (r *Recorder) requeue(work map[string]*pending, ids []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		old := work[id]
		cur := r.pending[id]
		if cur == nil {
			r.pending[id] = old
			continue
		}
		for _, c := range old.certs {
			cur.certs = mergeCert(cur.certs, c, r.opts.KeepCredentials)
		}
		cur.props = append(old.props, cur.props...)
		if old.lastSeen.After(cur.lastSeen) {
			cur.lastSeen = old.lastSeen
		}
		if old.firstSeen.Before(cur.firstSeen) {
			cur.firstSeen = old.firstSeen
		}
	}
}

func (r *Recorder) apply(tx store.Tx, id string, p *pending) error {
	s, version, err := store.Get[rolesanywhere.Subject](tx, store.KindSubject, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s = rolesanywhere.Subject{SubjectID: id, SubjectArn: r.ARN(p.dn), Enabled: true, X509Subject: p.dn, CreatedAt: rolesanywhere.NewTime(p.firstSeen)}
		version = 0
	case err != nil:
		return err
	}
	if lt := rolesanywhere.NewTime(p.lastSeen); lt.After(s.LastSeenAt.Time) {
		s.LastSeenAt = lt
	}
	s.UpdatedAt = s.LastSeenAt
	for _, c := range p.certs {
		s.Credentials = upsertSummary(s.Credentials, c)
	}
	sort.SliceStable(s.Credentials, func(i, j int) bool { return s.Credentials[i].SeenAt.After(s.Credentials[j].SeenAt.Time) })
	if len(s.Credentials) > r.opts.KeepCredentials {
		s.Credentials = s.Credentials[:r.opts.KeepCredentials]
	}
	s.InstanceProperties = append(s.InstanceProperties, p.props...)
	if len(s.InstanceProperties) > r.opts.KeepCredentials {
		s.InstanceProperties = s.InstanceProperties[len(s.InstanceProperties)-r.opts.KeepCredentials:]
	}
	if _, err := store.Put(tx, store.KindSubject, id, version, s); err != nil {
		return fmt.Errorf("subject %s: %w", id, err)
	}
	return nil
}

func upsertSummary(list []rolesanywhere.CredentialSummary, c seenCert) []rolesanywhere.CredentialSummary {
	cs := rolesanywhere.CredentialSummary{
		SeenAt: rolesanywhere.NewTime(c.at), SerialNumber: c.serial, Issuer: c.issuer, Enabled: true, Failed: c.failed,
		X509CertificateData: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.raw})),
	}
	for i := range list {
		if list[i].SerialNumber == c.serial && list[i].Issuer == c.issuer {
			if !cs.SeenAt.Before(list[i].SeenAt.Time) {
				list[i] = cs
			}
			return list
		}
	}
	return append(list, cs)
}

// Pending reports how many subjects wait for the next flush.
func (r *Recorder) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pending)
}
