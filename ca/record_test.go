package ca

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/store"
)

// gateStore holds its first Update until release is closed, and counts
// the certificate records each Update writes.
type gateStore struct {
	store.Store
	release chan struct{}
	fail    error // when set, every Update after the gate fails with it

	mu      sync.Mutex
	gated   bool
	entered chan struct{} // closed when the gated Update arrives
	batches []int         // certificate records written per Update that wrote any
}

func newGateStore(st store.Store) *gateStore {
	return &gateStore{Store: st, release: make(chan struct{}), entered: make(chan struct{})}
}

func (g *gateStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	g.mu.Lock()
	first := !g.gated
	g.gated = true
	fail := g.fail
	g.mu.Unlock()
	if first {
		close(g.entered)
		<-g.release
	} else if fail != nil {
		return fail
	}
	n := 0
	err := g.Store.Update(ctx, func(tx store.Tx) error {
		n = 0
		return fn(countingTx{tx, &n})
	})
	if err == nil && n > 0 {
		g.mu.Lock()
		g.batches = append(g.batches, n)
		g.mu.Unlock()
	}
	return err
}

type countingTx struct {
	store.Tx
	n *int
}

func (t countingTx) Put(rec store.Record) (int64, error) {
	v, err := t.Tx.Put(rec)
	if err == nil && rec.Kind == store.KindCertificate && strings.Contains(rec.ID, "/c/") {
		*t.n++
	}
	return v, err
}

// queued waits until n records wait in the recorder. It polls: the test
// asserts what is written, not how fast.
func queued(t *testing.T, r *recorder, n int) {
	t.Helper()
	for range 20000 {
		r.mu.Lock()
		got := len(r.queue)
		r.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%d records never queued", n)
}

func issueReq(t *testing.T, caARN string) IssueCertificateRequest {
	return IssueCertificateRequest{CertificateAuthorityArn: caARN, SigningAlgorithm: SHA256WithECDSA,
		Csr:      csrPEM(t, mustKey(t, KeyECP256), &x509.CertificateRequest{Subject: pkix.Name{CommonName: "w"}}),
		Validity: Validity{Type: ValidityDays, Value: 1}}
}

type issued struct {
	arn string
	err error
}

// issueAll issues reqs concurrently; results arrive on the channel.
func issueAll(s *Service, reqs []IssueCertificateRequest) <-chan issued {
	out := make(chan issued, len(reqs))
	for _, req := range reqs {
		go func() {
			arn, err := s.IssueCertificate(context.Background(), req)
			out <- issued{arn, err}
		}()
	}
	return out
}

// Records that queue up while a batch is being written are written
// together, in one transaction, and each certificate is retrievable.
func TestRecordsShareATransaction(t *testing.T) {
	h := newHarness(t)
	caARN := h.activeRoot(t)
	g := newGateStore(h.store)
	h.svc.cfg.Store = g

	first := issueAll(h.svc, []IssueCertificateRequest{issueReq(t, caARN)})
	<-g.entered
	const n = 10
	reqs := make([]IssueCertificateRequest, n)
	for i := range reqs {
		reqs[i] = issueReq(t, caARN)
	}
	rest := issueAll(h.svc, reqs)
	queued(t, h.svc.records, n)
	close(g.release)

	arns := map[string]bool{}
	for range n + 1 {
		var r issued
		select {
		case r = <-first:
		case r = <-rest:
		}
		if r.err != nil {
			t.Fatal(r.err)
		}
		arns[r.arn] = true
	}
	if len(arns) != n+1 {
		t.Fatalf("%d distinct ARNs for %d certificates", len(arns), n+1)
	}
	if fmt.Sprint(g.batches) != "[1 10]" {
		t.Fatalf("certificates per transaction %v, want [1 10]", g.batches)
	}
	for a := range arns {
		if _, _, err := h.svc.GetCertificate(context.Background(), caARN, a); err != nil {
			t.Fatalf("GetCertificate %s: %v", a, err)
		}
	}
}

// In a shared transaction, records refused for their own reasons (their
// CA was disabled after they were signed, their idempotency token was
// taken by an earlier record of the same batch) do not fail the others.
func TestRecordRefusalsStayTheirOwn(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	active := h.activeRoot(t)
	disabled := h.activeRoot(t)
	beforeActive, beforeDisabled := h.count(t, active), h.count(t, disabled)
	g := newGateStore(h.store)
	h.svc.cfg.Store = g

	first := issueAll(h.svc, []IssueCertificateRequest{issueReq(t, active)})
	<-g.entered
	tokenReq := issueReq(t, active)
	tokenReq.IdempotencyToken = "same"
	reqs := []IssueCertificateRequest{issueReq(t, active), issueReq(t, disabled), issueReq(t, active), issueReq(t, disabled), tokenReq, tokenReq}
	rest := issueAll(h.svc, reqs)
	queued(t, h.svc.records, len(reqs))
	// Disable the CA while its certificates wait to be recorded (on the
	// store itself: the gate holds the recorder's first transaction only).
	cfg := h.svc.cfg
	cfg.Store = h.store
	other, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	status := StatusDisabled
	if err := other.UpdateCertificateAuthority(ctx, disabled, &status, nil); err != nil {
		t.Fatal(err)
	}
	close(g.release)

	if r := <-first; r.err != nil {
		t.Fatal(r.err)
	}
	var ok, refused int
	tokenARNs := map[string]bool{}
	for range reqs {
		r := <-rest
		switch {
		case r.err == nil:
			ok++
			if strings.HasPrefix(r.arn, active) {
				tokenARNs[r.arn] = true
			}
		default:
			var e *awserr.Error
			if !errors.As(r.err, &e) || e.Code != CodeInvalidState || !strings.Contains(e.Message, "DISABLED") {
				t.Fatalf("refusal %v, want InvalidStateException for the disabled CA", r.err)
			}
			refused++
		}
	}
	if ok != 4 || refused != 2 {
		t.Fatalf("%d issued, %d refused; want 4 and 2", ok, refused)
	}
	// Four successes for the active CA, but the two token requests name
	// one certificate: three certificates in all.
	if len(tokenARNs) != 3 {
		t.Fatalf("%d distinct certificates for the active CA, want 3 (one per idempotency token)", len(tokenARNs))
	}
	if got := h.count(t, disabled) - beforeDisabled; got != 0 {
		t.Fatalf("%d certificates recorded for the disabled CA", got)
	}
	if got := h.count(t, active) - beforeActive; got != 1+3 {
		t.Fatalf("%d certificates recorded for the active CA, want 4", got)
	}
}

// A transaction that fails fails every record in it, and records nothing.
func TestRecordBatchFailure(t *testing.T) {
	h := newHarness(t)
	caARN := h.activeRoot(t)
	g := newGateStore(h.store)
	g.fail = errors.New("disk on fire")
	h.svc.cfg.Store = g
	before := h.count(t, caARN)

	first := issueAll(h.svc, []IssueCertificateRequest{issueReq(t, caARN)})
	<-g.entered
	reqs := []IssueCertificateRequest{issueReq(t, caARN), issueReq(t, caARN), issueReq(t, caARN)}
	rest := issueAll(h.svc, reqs)
	queued(t, h.svc.records, len(reqs))
	close(g.release)
	if r := <-first; r.err != nil {
		t.Fatal(r.err)
	}
	for range reqs {
		r := <-rest
		var e *awserr.Error
		if !errors.As(r.err, &e) || e.Status != 500 || strings.Contains(e.Message, "fire") {
			t.Fatalf("got %v, want an internal failure that does not leak the store's words", r.err)
		}
	}
	if got := h.count(t, caARN) - before; got != 1 {
		t.Fatalf("%d certificates recorded, want only the first", got)
	}
}

// spin keeps its goroutine on the CPU for about d, as request work and a
// commit that blocks its thread in the kernel (an fsync) do.
func spin(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
	}
}

// With one CPU, requests that arrived have not run yet when a record is
// ready, so they have not counted themselves as in progress: the first
// record must still not be written alone, or every later one is too (the
// last batch had one), one commit each. That was the state a server pinned
// to one CPU fell into, at half its throughput.
func TestRecordsShareATransactionOnOneCPU(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	r := newRecorder()
	var txns, records atomic.Int64
	write := func(batch []*issueRecord) error {
		txns.Add(1)
		records.Add(int64(len(batch)))
		spin(300 * time.Microsecond)
		return nil
	}
	const clients, each = 16, 10
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for range each {
				spin(100 * time.Microsecond) // decoding, the CSR check
				tk := r.begin()
				spin(30 * time.Microsecond) // signing
				r.submit(tk, &issueRecord{}, write)
			}
		})
	}
	wg.Wait()
	if records.Load() != clients*each {
		t.Fatalf("%d records written, want %d", records.Load(), clients*each)
	}
	if per := float64(records.Load()) / float64(txns.Load()); per < 4 {
		t.Errorf("%.1f records a transaction (%d transactions), want most of the %d clients' records together", per, txns.Load(), clients)
	}
}
