// Package store is iamra's storage contract: a transactional store of JSON
// documents grouped by kind, with change notification.
//
// Everything iamra persists goes through this contract (trust anchors,
// profiles, CRLs, subjects, roles, policies, CAs, key rings), so a back-end
// implements one small interface and the domain packages never see SQL.
// Back-ends register themselves by URL scheme (see Open); the embedded
// default is "sqlite" (store/sqlite), pure Go, WAL journal.
//
// # Semantics every back-end must provide
//
// Documents. A Record is addressed by (Kind, ID). Data is an opaque JSON
// document; the store never interprets it. Version is assigned by the
// store: 1 on create, +1 on each Put, so callers can do compare-and-swap.
//
// Not found. Get and Delete of an absent record return an error for which
// errors.Is(err, ErrNotFound) holds. List of an empty kind returns no
// records and no error.
//
// Concurrency. View and Update run fn inside one transaction. Update
// transactions are serializable: a back-end may run them one at a time
// (SQLite does) or retry them on conflict, so fn must have no side effects
// beyond its Tx calls and may be called more than once. View sees a
// consistent snapshot and never blocks Update for long. A Tx must not be
// used after fn returns.
//
// Conditional writes. Put with rec.Version == 0 creates and fails with
// ErrExists if the record exists. Put with rec.Version > 0 replaces only if
// the stored version equals it, else ErrConflict. PutAny ignores versions.
//
// Durability. When Update returns nil the change is durable: it survives a
// process kill (SIGKILL) or power loss the file system survives. If fn
// returns an error, nothing fn did is applied and Update returns fn's error
// unchanged.
//
// Ordering and pages. List returns records of a kind ordered by ID,
// starting after ListOptions.After, at most Limit (0 = all) records, and
// the ID to resume after if more remain ("" when done).
//
// Change notification. Each committed Update that wrote something advances
// the store's revision by one. Changes delivers, for every revision, the
// kinds it touched; a slow reader may miss intermediate notifications but
// always receives one at least as new as the last commit (notifications
// coalesce, never get lost at the tail). Back-ends shared by several
// processes (PostgreSQL) also deliver other processes' commits.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"sync"
)

// Kind groups records of one resource type.
type Kind string

// The kinds iamra stores.
const (
	KindTrustAnchor Kind = "trust-anchor"
	KindProfile     Kind = "profile"
	KindCRL         Kind = "crl"
	KindSubject     Kind = "subject"
	KindRole        Kind = "role"
	KindPolicy      Kind = "policy"
	KindCA          Kind = "certificate-authority"
	KindCertificate Kind = "certificate"
	KindKeyRing     Kind = "key-ring"
	KindSetting     Kind = "setting"
)

// Errors with contract meaning. Back-ends wrap them; test with errors.Is.
var (
	ErrNotFound = errors.New("store: record not found")
	ErrExists   = errors.New("store: record already exists")
	ErrConflict = errors.New("store: version conflict")
)

// Record is one stored document.
type Record struct {
	Kind    Kind
	ID      string
	Version int64
	Data    json.RawMessage
}

// ListOptions selects a page of a kind.
type ListOptions struct {
	After string // resume after this ID ("" = from the start)
	Limit int    // at most this many (0 = no limit)
}

// Tx is a transaction's view of the store.
type Tx interface {
	Get(kind Kind, id string) (Record, error)
	List(kind Kind, opts ListOptions) (recs []Record, next string, err error)
	// Put creates (Version 0) or compare-and-swaps (Version > 0) and
	// returns the new version.
	Put(rec Record) (int64, error)
	// PutAny writes rec whatever is stored, and returns the new version.
	PutAny(rec Record) (int64, error)
	Delete(kind Kind, id string) error
}

// Change tells which kinds one revision touched.
type Change struct {
	Revision int64
	Kinds    []Kind
}

// Store is the contract back-ends implement.
type Store interface {
	View(ctx context.Context, fn func(Tx) error) error
	Update(ctx context.Context, fn func(Tx) error) error
	// Revision is the revision of the last committed write.
	Revision(ctx context.Context) (int64, error)
	// Changes streams notifications until ctx ends; the channel is then
	// closed.
	Changes(ctx context.Context) <-chan Change
	Close() error
}

// Opener opens a store from a URL such as "sqlite:///var/lib/iamra/iamra.db".
type Opener func(ctx context.Context, u *url.URL) (Store, error)

var (
	mu      sync.RWMutex
	openers = map[string]Opener{}
)

// Register makes a back-end available under a URL scheme. Back-ends call it
// from init; registering a scheme twice panics, as database/sql does.
func Register(scheme string, open Opener) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := openers[scheme]; dup {
		panic("store: Register called twice for " + scheme)
	}
	openers[scheme] = open
}

// Schemes lists the registered back-ends.
func Schemes() []string {
	mu.RLock()
	defer mu.RUnlock()
	s := make([]string, 0, len(openers))
	for k := range openers {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// Open opens the store named by rawURL with its registered back-end.
func Open(ctx context.Context, rawURL string) (Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("store: bad URL %q: %w", rawURL, err)
	}
	mu.RLock()
	open, ok := openers[u.Scheme]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("store: no back-end for scheme %q (have %v)", u.Scheme, Schemes())
	}
	return open(ctx, u)
}

// Get reads one record and decodes its document into a T.
func Get[T any](tx Tx, kind Kind, id string) (T, int64, error) {
	var v T
	rec, err := tx.Get(kind, id)
	if err != nil {
		return v, 0, err
	}
	if err := json.Unmarshal(rec.Data, &v); err != nil {
		return v, 0, fmt.Errorf("store: decode %s/%s: %w", kind, id, err)
	}
	return v, rec.Version, nil
}

// Put encodes v and writes it with Tx.Put's semantics.
func Put[T any](tx Tx, kind Kind, id string, version int64, v T) (int64, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("store: encode %s/%s: %w", kind, id, err)
	}
	return tx.Put(Record{Kind: kind, ID: id, Version: version, Data: data})
}

// List decodes a page of records of one kind.
func List[T any](tx Tx, kind Kind, opts ListOptions) ([]T, string, error) {
	recs, next, err := tx.List(kind, opts)
	if err != nil {
		return nil, "", err
	}
	out := make([]T, len(recs))
	for i, r := range recs {
		if err := json.Unmarshal(r.Data, &out[i]); err != nil {
			return nil, "", fmt.Errorf("store: decode %s/%s: %w", kind, r.ID, err)
		}
	}
	return out, next, nil
}
