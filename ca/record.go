package ca

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/iamra/iamra/store"
)

// Issued certificates are recorded in shared store transactions. A
// durable commit costs more than signing a certificate (where iamra is
// measured, a commit of one record takes about 100 µs of CPU in
// store/sqlite's BenchmarkCertificateBatch, a P-256 signature 35-45 µs in
// BenchmarkSignCertificate), and the store's own group commit only
// shares a commit among the Updates that happen to queue up while the
// previous one is in flight: with issuances arriving a little apart,
// that is one or two a commit. The recorder knows more than the store
// does: how many issuances are still verifying CSRs and signing, and how
// many records the last batch had. The first record to be written waits
// for those issuances and for as many records as last time, up to
// maxRecordDelay, so that concurrent issuance shares one transaction (one
// revision, one change-log row, one commit) and a lone client waits for
// nothing.

// maxRecordDelay bounds how long a record waits for issuances still in
// progress before it is written. It is the latency a busy CA adds to each
// issuance at most; a CA with nothing else in progress adds none.
const maxRecordDelay = 2 * time.Millisecond

// maxRecordBatch bounds the records one transaction writes.
const maxRecordBatch = 256

// recorder groups issuance records into shared store transactions.
type recorder struct {
	// flush is held by the goroutine writing a batch (the leader), so
	// batches are written one at a time and in order.
	flush chan struct{}

	mu          sync.Mutex
	unsubmitted int            // issuances begun and not yet submitted or abandoned
	last        int            // records in the last batch taken
	queue       []*issueRecord // submitted, not yet taken by a leader
	wake        chan struct{}  // tells a waiting leader the counts changed
}

func newRecorder() *recorder {
	return &recorder{flush: make(chan struct{}, 1), wake: make(chan struct{}, 1)}
}

// issueRecord is one issued certificate on its way to the store, and the
// outcome of writing it.
type issueRecord struct {
	// What the certificate was signed from: the CA's record as stored and
	// its decode.
	caID  string
	rawCA []byte
	auth  Authority

	id   string // certID
	data []byte // the IssuedCertificate, encoded
	// tokenID, when set, is the idempotency token to check and claim.
	tokenID string
	token   idempotencyToken
	now     time.Time

	queued time.Time
	done   chan struct{}

	// Outcome, valid once done is closed.
	existing string           // the ARN a live idempotency token already names
	stored   *storedAuthority // the CA's stored record, when it differed from rawCA
	changed  bool             // stored differs in what issuance depends on: nothing written
	err      error
}

// ticket is one issuance's place in the recorder's count of issuances in
// progress.
type ticket struct {
	r    *recorder
	open bool
}

// begin counts an issuance as in progress until it submits its record or
// abandons; records written meanwhile wait for it (up to maxRecordDelay).
func (r *recorder) begin() *ticket {
	r.mu.Lock()
	r.unsubmitted++
	r.mu.Unlock()
	return &ticket{r: r, open: true}
}

// abandon ends an issuance that will write nothing. It is a no-op once the
// ticket submitted, so callers defer it.
func (t *ticket) abandon() {
	if !t.open {
		return
	}
	t.open = false
	t.r.mu.Lock()
	t.r.unsubmitted--
	t.r.mu.Unlock()
	t.r.signal()
}

func (r *recorder) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// submit queues rec, the ticket's record, and returns once it has been
// written durably or refused; rec then holds the outcome. Once queued, a
// record is written whatever ctx says, so that the answer tells whether
// the certificate exists.
func (r *recorder) submit(t *ticket, rec *issueRecord, write func([]*issueRecord) error) {
	rec.done = make(chan struct{})
	r.mu.Lock()
	if t.open {
		t.open = false
		r.unsubmitted--
	}
	rec.queued = time.Now()
	r.queue = append(r.queue, rec)
	r.mu.Unlock()
	r.signal()
	for {
		select {
		case <-rec.done:
			return
		case r.flush <- struct{}{}:
			func() {
				defer func() { <-r.flush }() // also if write panics
				r.lead(write)
			}()
		}
	}
}

// lead writes the next batch, if any is queued, while holding r.flush. It
// first waits for issuances still in progress, so that they share the
// transaction, but no longer than maxRecordDelay after the oldest queued
// record arrived.
func (r *recorder) lead(write func([]*issueRecord) error) {
	// Let requests that are ready to run go first: with few CPUs (one, in
	// a pod limited to a core), requests that arrived meanwhile have not
	// run yet, so neither they nor the last batch's size say they are
	// coming, and a record written alone would make the next batch expect
	// one record too: one commit per certificate from then on. Yielding
	// once costs nothing when no goroutine is waiting.
	runtime.Gosched()
	r.mu.Lock()
	if len(r.queue) == 0 {
		r.mu.Unlock()
		return
	}
	deadline := r.queue[0].queued.Add(maxRecordDelay)
	// Issuances not yet begun are invisible here: with few CPUs, a request
	// whose goroutine has not run yet has not counted itself. The size of
	// the last batch stands for them: clients that sent that many requests
	// at once are likely to do so again. When they do not, one batch waits
	// out the delay and the next expects only what it got.
	for (r.unsubmitted > 0 || len(r.queue) < r.last) && len(r.queue) < maxRecordBatch {
		wait := time.Until(deadline)
		if wait <= 0 {
			break
		}
		r.mu.Unlock()
		timer := time.NewTimer(wait)
		select {
		case <-r.wake:
		case <-timer.C:
		}
		timer.Stop()
		r.mu.Lock()
	}
	n := min(len(r.queue), maxRecordBatch)
	r.last = n
	batch := r.queue[:n:n]
	r.queue = append([]*issueRecord(nil), r.queue[n:]...)
	r.mu.Unlock()

	// Every member learns an outcome, also if write panics.
	var err error = errRecordAbandoned
	defer func() {
		for _, m := range batch {
			if err != nil {
				m.existing, m.stored, m.changed, m.err = "", nil, false, err
			}
			close(m.done)
		}
	}()
	err = write(batch)
}

var errRecordAbandoned = errors.New("ca: recording the certificate failed")

// writeRecords writes one batch in one transaction: each member's certificate
// is recorded if the CA, as stored, still issues it as signed, and its
// idempotency token (if any) is not already taken. A member refused for
// its own reasons does not fail the others; an error of the store fails
// them all.
func (s *Service) writeRecords(batch []*issueRecord) error {
	// Not any one member's context: the others' records are in this
	// transaction too.
	return s.cfg.Store.Update(context.Background(), func(tx store.Tx) error { return s.recordBatch(tx, batch) })
}

func (s *Service) recordBatch(tx store.Tx, batch []*issueRecord) error {
	type caState struct {
		raw    []byte
		err    error // store.ErrNotFound: the CA is gone
		stored *storedAuthority
		// issuing is what of stored goes into certificates, once needed.
		issuing *issuing
	}
	cas := map[string]*caState{}
	for _, m := range batch {
		// fn may run more than once (store contract): start clean.
		m.existing, m.stored, m.changed, m.err = "", nil, false, nil
		c := cas[m.caID]
		if c == nil {
			c = &caState{}
			cur, err := tx.Get(store.KindCA, m.caID)
			switch {
			case errors.Is(err, store.ErrNotFound):
				c.err = err
			case err != nil:
				return err
			default:
				c.raw = cur.Data
			}
			cas[m.caID] = c
		}
		if c.err != nil {
			m.err = c.err
			continue
		}
		// Re-check the CA: it may have been disabled, deleted, re-keyed or
		// renewed since it was read. Unchanged bytes, the common case,
		// need no decoding.
		if !bytes.Equal(c.raw, m.rawCA) {
			if c.stored == nil {
				st := &storedAuthority{raw: bytes.Clone(c.raw)}
				if err := json.Unmarshal(st.raw, &st.auth); err != nil {
					return fmt.Errorf("store: decode %s/%s: %w", store.KindCA, m.caID, err)
				}
				c.stored = st
			}
			m.stored = c.stored
			// Only a record that changed needs comparing, and the stored
			// side once per CA.
			if c.issuing == nil {
				is := s.issuing(c.stored.auth)
				c.issuing = &is
			}
			if *c.issuing != s.issuing(m.auth) {
				m.changed = true
				continue
			}
		}
		if m.tokenID != "" {
			tok, _, err := store.Get[idempotencyToken](tx, store.KindCertificate, m.tokenID)
			if err == nil && m.now.Before(tok.ExpiresAt) {
				m.existing = tok.Arn
				continue
			}
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if _, err := tx.Put(store.Record{Kind: store.KindCertificate, ID: m.id, Data: m.data}); err != nil {
			if errors.Is(err, store.ErrExists) {
				m.err = err
				continue
			}
			return err
		}
		if m.tokenID != "" {
			if err := putAny(tx, store.KindCertificate, m.tokenID, m.token); err != nil {
				return err
			}
		}
	}
	return nil
}
