package sqlite

import (
	"context"

	"github.com/iamra/iamra/store"
)

// maxBatch bounds the Updates one commit carries, so that the first of
// them does not wait behind an endless stream of later ones.
const maxBatch = 128

// A batch is one SQLite transaction shared by Updates that queued up for
// the writer while another commit was in flight (group commit). Each
// Update after the first runs its fn inside a SAVEPOINT of the batch, so
// an fn that fails takes back only its own writes; one COMMIT, one fsync,
// then makes every surviving Update durable at once. The fsync dominates an Update's cost,
// so a batch of n costs about what one Update did, not n times as much.
//
// Only the holder of the writer token (Store.writeSem) touches the open
// batch; Updates waiting for its commit wait for the token too, and the
// first of them to get it commits, so a batch never waits for a goroutine
// that has gone away.
type batch struct {
	members int            // fns run in the batch, failed ones included
	pending int            // members that wait for the commit
	changes []store.Change // one per member that wrote, in revision order
	lastRev int64          // the revision the next member's change follows

	finished bool
	done     chan struct{} // closed once committed or abandoned
	err      error         // the commit's outcome, for pending members
}

// joinBatch returns the batch the token holder's fn joins, beginning one
// if none is open or the open one is full.
func (s *Store) joinBatch() (*batch, error) {
	if b := s.open; b != nil {
		if b.members < maxBatch {
			return b, nil
		}
		s.commit(b)
	}
	// Not the caller's context: the transaction is shared, and a context
	// that can end would have the driver watch it from a goroutine.
	if _, err := s.wstmts[sBegin].ExecContext(context.Background()); err != nil {
		return nil, dbErr("begin update", err)
	}
	b := &batch{lastRev: s.notify.lastPublished(), done: make(chan struct{})}
	s.open = b
	return b, nil
}

// runInBatch runs fn as the next member of b and gives the writer token
// back however fn ends (a panic included). It reports whether the caller
// must wait for b's commit: it must if it wrote, and also if it only read
// while earlier members' writes were uncommitted, because what it read is
// not durable yet.
func (s *Store) runInBatch(ctx context.Context, b *batch, fn func(store.Tx) error) (wait bool, err error) {
	// Statements run without the caller's cancellation: once fn has
	// finished, its part must either be kept or rolled back, never cut off
	// half-way. ctx is checked after fn instead.
	t := newTx(context.WithoutCancel(ctx), nil, &s.wstmts)
	// A member after writes that must survive it runs in a savepoint. The
	// first one does not need to (saving two statements in the common
	// batch of one): if it fails, the whole transaction goes.
	savepoint := len(b.changes) > 0
	kept := false
	defer func() {
		if !kept {
			s.rollbackMember(t, b, savepoint)
		}
		if s.open == b && b.pending == 0 {
			// Nothing awaits a commit: end the transaction now rather than
			// hold SQLite's write lock until the next Update.
			s.abandon(b, nil)
		}
		<-s.writeSem
	}()
	if savepoint {
		if _, err := t.stmt(sSavepoint).ExecContext(t.ctx); err != nil {
			err = dbErr("begin update", err)
			s.abandon(b, err)
			return false, err
		}
	}
	b.members++
	if err := runFn(t, fn); err != nil {
		return false, err
	}
	if t.err != nil {
		return false, t.err // fn ignored a database error; its part is suspect
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	var ch store.Change
	if len(t.kinds) > 0 {
		if ch, err = s.recordChange(t, b.lastRev); err != nil {
			return false, err
		}
	}
	if savepoint {
		if _, err := t.stmt(sRelease).ExecContext(t.ctx); err != nil {
			err = dbErr("end update", err)
			s.abandon(b, err)
			return false, err
		}
	}
	kept = true
	if len(t.kinds) > 0 {
		b.changes = append(b.changes, ch)
		b.lastRev = ch.Revision
	}
	if len(b.changes) == 0 {
		return false, nil // nothing written in the batch so far
	}
	b.pending++
	return true, nil
}

// rollbackMember takes back what the member t did: its savepoint, or the
// whole transaction if it ran without one. If SQLite cannot roll back to
// the savepoint (it rolls a whole transaction back on some I/O errors),
// the batch is lost and its pending members learn why.
func (s *Store) rollbackMember(t *tx, b *batch, savepoint bool) {
	if b.finished {
		return
	}
	if !savepoint {
		s.abandon(b, nil) // b.pending is 0: it was the first member
		return
	}
	if _, err := t.stmt(sRollbackTo).ExecContext(t.ctx); err != nil {
		s.abandon(b, dbErr("roll back update", err))
		return
	}
	// ROLLBACK TO keeps the savepoint open; RELEASE pops it.
	if _, err := t.stmt(sRelease).ExecContext(t.ctx); err != nil {
		s.abandon(b, dbErr("roll back update", err))
	}
}

// awaitCommit waits until b is committed or abandoned and returns the
// outcome. While b is open it competes for the writer token: an Update
// that gets the token first joins b; once b's own member gets it, nobody
// else is queued ahead, and it commits b. It ignores the caller's context:
// the fn's writes are already in b, and the answer must say whether they
// are durable.
func (s *Store) awaitCommit(b *batch) error {
	for {
		select {
		case <-b.done:
			return b.err
		case s.writeSem <- struct{}{}:
			if s.open == b {
				s.commit(b)
			}
			<-s.writeSem
		}
	}
}

// commit ends b with one COMMIT and tells its pending members the
// outcome. The caller holds the writer token, so notifications leave in
// commit order.
func (s *Store) commit(b *batch) {
	s.open = nil
	b.finished = true
	s.commits.Add(1)
	if _, err := s.wstmts[sCommit].ExecContext(context.Background()); err != nil {
		b.err = dbErr("commit", err)
		// SQLite leaves the transaction open after some failed COMMITs
		// (a deferred constraint, SQLITE_BUSY); the next batch must start
		// clean (TestBatchCommitFails). After the others, ROLLBACK fails
		// for want of a transaction, which is the state wanted.
		_, _ = s.wstmts[sRollback].ExecContext(context.Background())
	} else {
		for _, ch := range b.changes {
			s.notify.publish(ch)
		}
	}
	close(b.done)
}

// abandon rolls b back and gives err to its pending members (nil when it
// has none).
func (s *Store) abandon(b *batch, err error) {
	if b.finished {
		return
	}
	if s.open == b {
		s.open = nil
	}
	b.finished = true
	_, _ = s.wstmts[sRollback].ExecContext(context.Background())
	b.err = err
	close(b.done)
}
