package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/iamra/iamra/store"
)

// notifier fans change notifications out to subscribers. Each subscriber
// has a channel with room for one Change; a Change the subscriber has not
// taken yet is merged into the next one, so a slow reader ends up with the
// newest revision and every kind touched since it last read.
type notifier struct {
	mu        sync.Mutex
	published int64 // newest revision notified
	subs      map[*subscriber]struct{}
	closed    bool
}

type subscriber struct {
	ch   chan store.Change
	stop func() bool // unregisters the context callback
}

func (n *notifier) init() { n.subs = map[*subscriber]struct{}{} }

func (n *notifier) lastPublished() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.published
}

// publish notifies c unless a notification at least as new went out; that
// one already carried c's kinds (see Store.recordChange and Store.poll).
func (n *notifier) publish(c store.Change) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if c.Revision <= n.published {
		return
	}
	n.published = c.Revision
	for sub := range n.subs {
		// Only publish sends, under n.mu, so once the pending Change is
		// taken out the buffer has room and the send cannot block.
		kinds := c.Kinds
		select {
		case old := <-sub.ch:
			kinds = unionKinds(old.Kinds, kinds)
		default:
			kinds = unionKinds(nil, kinds) // each reader owns its slice
		}
		sub.ch <- store.Change{Revision: c.Revision, Kinds: kinds}
	}
}

func (n *notifier) subscribe(ctx context.Context) <-chan store.Change {
	sub := &subscriber{ch: make(chan store.Change, 1)}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		close(sub.ch)
		return sub.ch
	}
	n.subs[sub] = struct{}{}
	sub.stop = context.AfterFunc(ctx, func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		if _, ok := n.subs[sub]; ok {
			delete(n.subs, sub)
			close(sub.ch)
		}
	})
	return sub.ch
}

func (n *notifier) closeAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	for sub := range n.subs {
		sub.stop()
		delete(n.subs, sub)
		close(sub.ch)
	}
}

// poll looks for other processes' commits until the store closes.
func (s *Store) poll(every time.Duration) {
	defer close(s.pollDone)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-tick.C:
		}
		// An error here is transient or will surface in the next Update;
		// the next tick tries again.
		_ = s.Refresh(context.Background())
	}
}

// Refresh notifies subscribers, now, of commits other processes made since
// the last notification. The store does it by itself every
// Options.PollInterval; tests and programs that disabled polling call it.
func (s *Store) Refresh(ctx context.Context) error {
	if s.isClosed() {
		return ErrClosed
	}
	last := s.notify.lastPublished()
	sqlTx, err := s.readers.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return s.wrap("begin refresh", err)
	}
	defer func() { _ = sqlTx.Rollback() }()
	t := newTx(ctx, sqlTx, &s.rstmts)
	rev, err := t.revision()
	if err != nil || rev <= last {
		return err
	}
	kinds, err := t.changedKinds(last)
	if err != nil {
		return err
	}
	s.notify.publish(store.Change{Revision: rev, Kinds: kinds})
	return nil
}
