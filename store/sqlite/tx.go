package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/iamra/iamra/store"
)

var (
	errTxDone   = errors.New("store/sqlite: transaction used after its function returned")
	errReadOnly = errors.New("store/sqlite: write in a View transaction")
)

// tx implements store.Tx on a database/sql transaction (View) or on the
// writer connection inside a batch's transaction (Update).
type tx struct {
	ctx   context.Context
	sqlTx *sql.Tx // nil on the writer (the only writable Tx), whose stmts need no binding
	stmts *stmts

	mu    sync.Mutex // fn may share the Tx between goroutines
	done  bool
	err   error               // first database error, fails the transaction
	kinds map[store.Kind]bool // kinds written
	// bound holds stmts bound to sqlTx, made on first use.
	bound [nStmts]*sql.Stmt
}

// newTx returns a Tx running st: on sqlTx, read-only, for a View; on the
// writer connection, writable, when sqlTx is nil.
func newTx(ctx context.Context, sqlTx *sql.Tx, st *stmts) *tx {
	return &tx{ctx: ctx, sqlTx: sqlTx, stmts: st}
}

func (t *tx) finish() {
	t.mu.Lock()
	t.done = true
	t.mu.Unlock()
}

// enter locks t for one call and reports whether the call may proceed.
func (t *tx) enter(write bool) error {
	t.mu.Lock()
	switch {
	case t.done:
		t.mu.Unlock()
		return errTxDone
	case write && t.sqlTx != nil:
		t.mu.Unlock()
		return errReadOnly
	case t.err != nil:
		// SQLite may have rolled the whole transaction back; a statement
		// now would run outside it and commit on its own.
		err := t.err
		t.mu.Unlock()
		return err
	}
	return nil
}

func (t *tx) stmt(id stmtID) *sql.Stmt {
	if t.sqlTx == nil {
		return t.stmts[id]
	}
	if t.bound[id] == nil {
		t.bound[id] = t.sqlTx.StmtContext(t.ctx, t.stmts[id])
	}
	return t.bound[id]
}

// fail records a database error; the transaction will not commit even if
// fn swallows the error.
func (t *tx) fail(op string, err error) error {
	if ctxErr := t.ctx.Err(); ctxErr != nil {
		err = ctxErr // the caller gave up; what the driver said is noise
	} else {
		err = dbErr(op, err)
	}
	if t.err == nil {
		t.err = err
	}
	return err
}

func (t *tx) wrote(kind store.Kind) {
	if t.kinds == nil {
		t.kinds = map[store.Kind]bool{}
	}
	t.kinds[kind] = true
}

func (t *tx) kindList() []store.Kind {
	out := make([]store.Kind, 0, len(t.kinds))
	for k := range t.kinds {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func checkKey(kind store.Kind, id string) error {
	if kind == "" {
		return errors.New("store/sqlite: empty kind")
	}
	if id == "" {
		return fmt.Errorf("store/sqlite: empty id for kind %s", kind)
	}
	return nil
}

func (t *tx) Get(kind store.Kind, id string) (store.Record, error) {
	if err := checkKey(kind, id); err != nil {
		return store.Record{}, err
	}
	if err := t.enter(false); err != nil {
		return store.Record{}, err
	}
	defer t.mu.Unlock()
	rec := store.Record{Kind: kind, ID: id}
	var data []byte
	err := t.stmt(sGet).QueryRowContext(t.ctx, string(kind), id).Scan(&rec.Version, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Record{}, fmt.Errorf("%w: %s/%s", store.ErrNotFound, kind, id)
	}
	if err != nil {
		return store.Record{}, t.fail("get "+string(kind), err)
	}
	rec.Data = data
	return rec, nil
}

func (t *tx) List(kind store.Kind, opts store.ListOptions) ([]store.Record, string, error) {
	if kind == "" {
		return nil, "", errors.New("store/sqlite: empty kind")
	}
	if opts.Limit < 0 {
		return nil, "", fmt.Errorf("store/sqlite: negative list limit %d", opts.Limit)
	}
	if err := t.enter(false); err != nil {
		return nil, "", err
	}
	defer t.mu.Unlock()
	limit := int64(-1) // SQLite: no limit
	if opts.Limit > 0 {
		limit = int64(opts.Limit) + 1 // one more tells whether a next page exists
	}
	rows, err := t.stmt(sList).QueryContext(t.ctx, string(kind), opts.After, limit)
	if err != nil {
		return nil, "", t.fail("list "+string(kind), err)
	}
	defer rows.Close()
	var recs []store.Record
	for rows.Next() {
		rec := store.Record{Kind: kind}
		var data []byte
		if err := rows.Scan(&rec.ID, &rec.Version, &data); err != nil {
			return nil, "", t.fail("list "+string(kind), err)
		}
		rec.Data = data
		recs = append(recs, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, "", t.fail("list "+string(kind), err)
	}
	next := ""
	if opts.Limit > 0 && len(recs) > opts.Limit {
		recs = recs[:opts.Limit]
		next = recs[len(recs)-1].ID
	}
	return recs, next, nil
}

// blob keeps a nil document from binding as NULL.
func blob(data json.RawMessage) []byte {
	if data == nil {
		return []byte{}
	}
	return data
}

func (t *tx) Put(rec store.Record) (int64, error) {
	if err := checkKey(rec.Kind, rec.ID); err != nil {
		return 0, err
	}
	if rec.Version < 0 {
		return 0, fmt.Errorf("store/sqlite: negative version %d for %s/%s", rec.Version, rec.Kind, rec.ID)
	}
	if err := t.enter(true); err != nil {
		return 0, err
	}
	defer t.mu.Unlock()
	if rec.Version == 0 {
		res, err := t.stmt(sCreate).ExecContext(t.ctx, string(rec.Kind), rec.ID, blob(rec.Data))
		if err != nil {
			return 0, t.fail("create "+string(rec.Kind), err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, t.fail("create "+string(rec.Kind), err)
		}
		if n == 0 {
			return 0, fmt.Errorf("%w: %s/%s", store.ErrExists, rec.Kind, rec.ID)
		}
		t.wrote(rec.Kind)
		return 1, nil
	}
	var v int64
	err := t.stmt(sCAS).QueryRowContext(t.ctx, blob(rec.Data), string(rec.Kind), rec.ID, rec.Version).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%w: %s/%s is not at version %d", store.ErrConflict, rec.Kind, rec.ID, rec.Version)
	}
	if err != nil {
		return 0, t.fail("update "+string(rec.Kind), err)
	}
	t.wrote(rec.Kind)
	return v, nil
}

func (t *tx) PutAny(rec store.Record) (int64, error) {
	if err := checkKey(rec.Kind, rec.ID); err != nil {
		return 0, err
	}
	if err := t.enter(true); err != nil {
		return 0, err
	}
	defer t.mu.Unlock()
	var v int64
	if err := t.stmt(sPutAny).QueryRowContext(t.ctx, string(rec.Kind), rec.ID, blob(rec.Data)).Scan(&v); err != nil {
		return 0, t.fail("put "+string(rec.Kind), err)
	}
	t.wrote(rec.Kind)
	return v, nil
}

func (t *tx) Delete(kind store.Kind, id string) error {
	if err := checkKey(kind, id); err != nil {
		return err
	}
	if err := t.enter(true); err != nil {
		return err
	}
	defer t.mu.Unlock()
	res, err := t.stmt(sDelete).ExecContext(t.ctx, string(kind), id)
	if err != nil {
		return t.fail("delete "+string(kind), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return t.fail("delete "+string(kind), err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s/%s", store.ErrNotFound, kind, id)
	}
	t.wrote(kind)
	return nil
}

// revision reads the store's revision in this transaction.
func (t *tx) revision() (int64, error) {
	var rev int64
	if err := t.stmt(sRevision).QueryRowContext(t.ctx).Scan(&rev); err != nil {
		return 0, t.fail("read revision", err)
	}
	return rev, nil
}

// changedKinds returns the kinds the revisions after `after` touched; the
// caller knows there are some. If the change log was pruned past them,
// every kind stored is reported, since which of them changed is no longer
// known.
func (t *tx) changedKinds(after int64) ([]store.Kind, error) {
	rows, err := t.stmt(sChangesSince).QueryContext(t.ctx, after)
	if err != nil {
		return nil, t.fail("read change log", err)
	}
	defer rows.Close()
	var kinds []store.Kind
	first := true
	gap := false
	for rows.Next() {
		var rev int64
		var enc string
		if err := rows.Scan(&rev, &enc); err != nil {
			return nil, t.fail("read change log", err)
		}
		if first && rev != after+1 {
			gap = true
		}
		first = false
		var ks []store.Kind
		if err := json.Unmarshal([]byte(enc), &ks); err != nil {
			return nil, t.fail("read change log", err)
		}
		kinds = unionKinds(kinds, ks)
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail("read change log", err)
	}
	if !first && !gap {
		return kinds, nil
	}
	// Revisions after `after` exist (the caller saw them) but their log
	// entries do not: report every kind stored.
	rows, err = t.stmt(sDistinctKinds).QueryContext(t.ctx)
	if err != nil {
		return nil, t.fail("read kinds", err)
	}
	defer rows.Close()
	var all []store.Kind
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, t.fail("read kinds", err)
		}
		all = append(all, store.Kind(k))
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail("read kinds", err)
	}
	return unionKinds(kinds, all), nil
}

func encodeKinds(kinds []store.Kind) string {
	b, _ := json.Marshal(kinds) // a []string always encodes
	return string(b)
}

// unionKinds returns the sorted union of a and b in a new slice.
func unionKinds(a, b []store.Kind) []store.Kind {
	out := make([]store.Kind, 0, len(a)+len(b))
	out = append(append(out, a...), b...)
	slices.Sort(out)
	return slices.Compact(out)
}
