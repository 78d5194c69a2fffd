// Package sqlite is iamra's embedded default storage back-end: the
// store.Store contract on one SQLite file, in pure Go (modernc.org/sqlite,
// no cgo).
//
// # Opening
//
// The package registers the URL scheme "sqlite" with the store package, so
// store.Open accepts:
//
//	sqlite:///var/lib/iamra/iamra.db        absolute path
//	sqlite://data/iamra.db                  path relative to the working directory
//	sqlite:data/iamra.db                    the same, opaque form
//	sqlite:///var/lib/iamra/iamra.db?busy_timeout=10s&max_readers=8&poll_interval=off
//
// Query parameters (all optional; unknown ones are rejected so a typo is
// not silently ignored): busy_timeout (a Go duration), max_readers (an
// integer), poll_interval (a Go duration, or "off"). A relative path is
// made absolute when the store opens. Characters a URL reserves ('?', '#',
// '%', spaces) must be percent-encoded in the path. Programs that already
// hold a path call Open directly.
//
// If the database file does not exist, its directory is created with mode
// 0700 and the file with mode 0600 (SQLite gives its -wal and -shm files
// the same mode), because the database holds encrypted secrets. The modes
// of existing files and directories are left as the operator set them.
//
// # Durability and concurrency
//
// The database runs in WAL journal mode with synchronous=FULL, so an
// Update that returned nil survives a process kill and a power loss the
// file system survives. Updates are serialized through one writer
// connection and run as BEGIN IMMEDIATE transactions; Views run on a pool
// of read-only connections, each a WAL snapshot, and never wait for the
// writer. Update calls fn once. Calling Update from inside an Update's fn
// deadlocks until ctx ends, because Updates run one at a time. The writer
// reaches the file through a VFS that hands a run of consecutive writes to
// the file system as one (see gather.go); the bytes, their order and the
// syncs are SQLite's own.
//
// Updates that queue up while a commit is in flight are committed
// together (group commit): each fn runs in a SAVEPOINT of one transaction,
// in arrival order, and one COMMIT (one fsync) makes them all durable, so
// concurrent writers are not limited to one fsync each. An fn that fails
// takes back only its own writes and its caller alone gets the error; a
// failed COMMIT fails every Update of the batch; no Update returns nil
// before its batch's COMMIT has. An fn sees the writes of the Updates
// before it in its batch, as it would had they committed on their own; an
// Update whose fn only read waits for the commit of what it read. Once fn
// has returned nil, Update waits for the commit whatever its ctx says, so
// that its answer says whether the write is durable; the commit comes once
// the Updates queued ahead of it have run their fns. So an fn must not wait
// for another goroutine's Update to return: that Update may be waiting for
// the commit of the batch this fn is part of.
//
// # Change notification
//
// Every Update that wrote something increments a revision kept in the
// database and records the kinds it touched in a change log, so other
// processes using the same file (an admin command next to the server) are
// seen too: the store polls the revision every Options.PollInterval and
// notifies the commits it did not make. A notification that a slow reader
// has not yet received is merged with the next one, keeping the newest
// revision and the union of the kinds, so no kind is lost.
//
// # Errors
//
// Errors from SQLite are wrapped so that errors.Is(err, ErrDatabase) holds;
// their text is for the operator and API layers turn them into
// InternalFailure. Contract errors (store.ErrNotFound, store.ErrExists,
// store.ErrConflict) are wrapped with the record's kind and ID.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/iamra/iamra/store"
)

// Scheme is the URL scheme this back-end registers with store.Register.
const Scheme = "sqlite"

// Defaults for the zero Options.
const (
	DefaultBusyTimeout  = 5 * time.Second
	DefaultPollInterval = time.Second
	// DefaultMaxReaders bounds the read pool; at least GOMAXPROCS is used.
	DefaultMaxReaders = 4
)

// changeLogKeep is how many revisions the change log keeps. Other processes
// are polled every second or so, far more often than this many commits.
const changeLogKeep = 10000

func init() {
	store.Register(Scheme, func(ctx context.Context, u *url.URL) (store.Store, error) {
		path, opts, err := ParseURL(u)
		if err != nil {
			return nil, err
		}
		return Open(ctx, path, opts)
	})
}

// Options tune a Store. The zero value is the recommended configuration.
type Options struct {
	// BusyTimeout is how long a statement waits for a lock held by another
	// process before failing (0 = DefaultBusyTimeout).
	BusyTimeout time.Duration
	// MaxReaders bounds the connections serving View (0 = the larger of
	// DefaultMaxReaders and GOMAXPROCS).
	MaxReaders int
	// PollInterval is how often the store looks for commits made by other
	// processes (0 = DefaultPollInterval, negative = never).
	PollInterval time.Duration
}

func (o Options) withDefaults() Options {
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	if o.MaxReaders <= 0 {
		o.MaxReaders = max(DefaultMaxReaders, runtime.GOMAXPROCS(0))
	}
	if o.PollInterval == 0 {
		o.PollInterval = DefaultPollInterval
	}
	return o
}

// ErrClosed is returned by operations on a closed Store.
var ErrClosed = errors.New("store/sqlite: store is closed")

// ErrDatabase marks errors that SQLite or the file system reported. Their
// text is meant for operators, never for clients.
var ErrDatabase = errors.New("store/sqlite: database error")

// dbError wraps a driver error so that it matches ErrDatabase and names the
// operation, without exposing it as a contract error.
type dbError struct {
	op  string
	err error
}

func (e *dbError) Error() string        { return "store/sqlite: " + e.op + ": " + e.err.Error() }
func (e *dbError) Unwrap() error        { return e.err }
func (e *dbError) Is(target error) bool { return target == ErrDatabase }

func dbErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var de *dbError
	if errors.As(err, &de) {
		return err
	}
	return &dbError{op: op, err: err}
}

// ParseURL extracts the database path and options from a "sqlite" URL (see
// the package documentation for the accepted forms).
func ParseURL(u *url.URL) (string, Options, error) {
	var opts Options
	if u.Scheme != Scheme {
		return "", opts, fmt.Errorf("store/sqlite: URL scheme is %q, want %q", u.Scheme, Scheme)
	}
	if u.User != nil {
		return "", opts, errors.New("store/sqlite: URL must not contain user information")
	}
	if u.Fragment != "" {
		return "", opts, errors.New("store/sqlite: URL must not contain a fragment")
	}
	if u.Port() != "" {
		return "", opts, fmt.Errorf("store/sqlite: URL host %q has a port; use sqlite:///absolute/path or sqlite://relative/path", u.Host)
	}
	path := u.Opaque
	if path == "" {
		path = u.Host + u.Path
	} else if unescaped, err := url.PathUnescape(path); err == nil {
		path = unescaped
	} else {
		return "", opts, fmt.Errorf("store/sqlite: bad path in URL: %w", err)
	}
	if path == "" {
		return "", opts, errors.New("store/sqlite: URL has no database path (want sqlite:///absolute/path or sqlite://relative/path)")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", opts, fmt.Errorf("store/sqlite: bad URL query: %w", err)
	}
	for key, vals := range q {
		if len(vals) != 1 {
			return "", opts, fmt.Errorf("store/sqlite: URL parameter %s given %d times", key, len(vals))
		}
		v := vals[0]
		switch key {
		case "busy_timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return "", opts, fmt.Errorf("store/sqlite: busy_timeout=%q: want a positive duration such as 5s", v)
			}
			opts.BusyTimeout = d
		case "max_readers":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 || n > 1024 {
				return "", opts, fmt.Errorf("store/sqlite: max_readers=%q: want an integer from 1 to 1024", v)
			}
			opts.MaxReaders = n
		case "poll_interval":
			if v == "off" {
				opts.PollInterval = -1
				break
			}
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return "", opts, fmt.Errorf("store/sqlite: poll_interval=%q: want a positive duration such as 1s, or off", v)
			}
			opts.PollInterval = d
		default:
			return "", opts, fmt.Errorf("store/sqlite: unknown URL parameter %q (known: busy_timeout, max_readers, poll_interval)", key)
		}
	}
	return path, opts, nil
}

// Store is a store.Store on one SQLite database file.
type Store struct {
	path string
	opts Options

	// writeSem is the writer token: its holder alone uses the writer
	// connection and open. It is a channel so that waiting for it honours
	// the caller's context.
	writeSem chan struct{}
	open     *batch       // the transaction Updates join; nil between commits
	commits  atomic.Int64 // COMMITs made, successful or not
	wdb      *sql.DB      // a pool of exactly one connection, writer
	// writer is wdb's connection, held for the store's life. Batches
	// begin and end their transaction with statements of their own
	// (sBegin, sCommit, sRollback) rather than through sql.Tx: a sql.Tx
	// starts a goroutine to watch its context, and so does every query
	// run in it, and waking those and parking them again cost more CPU
	// than the rest of a small transaction. The writer's statements run
	// without a cancellable context, so neither database/sql nor the
	// driver starts one.
	writer  *sql.Conn
	readers *sql.DB // read-only pool
	wstmts  stmts   // prepared on writer
	rstmts  stmts   // prepared on the readers

	notify notifier

	closeOnce sync.Once
	closeErr  error
	done      chan struct{} // closed by Close
	pollDone  chan struct{} // closed when the poller has stopped
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("store/sqlite: empty database path")
	}
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("store/sqlite: %q is not a file path; the store needs a database file", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: resolve %s: %w", path, err)
	}
	opts = opts.withDefaults()
	if err := createFile(abs); err != nil {
		return nil, err
	}

	s := &Store{
		path:     abs,
		opts:     opts,
		writeSem: make(chan struct{}, 1),
		done:     make(chan struct{}),
		pollDone: make(chan struct{}),
	}
	s.notify.init()
	ok := false
	defer func() {
		if !ok {
			s.closeDBs()
		}
	}()

	busy := strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10)
	// Pragmas go in the DSN, not in one-off Execs, so that they also apply
	// if database/sql ever has to reopen a connection.
	params := []string{
		"_pragma=busy_timeout(" + busy + ")",
		"_pragma=journal_mode(WAL)",
		// FULL syncs the WAL at every commit: an acknowledged Update
		// survives power loss, not only a crash of this process.
		"_pragma=synchronous(FULL)",
		// Only macOS honours it; there fsync alone does not reach the disk.
		"_pragma=fullfsync(1)",
		"_txlock=immediate",
	}
	if gatherVFS.registered {
		params = append(params, "vfs="+gatherVFSName) // see gather.go
	}
	s.wdb, err = sql.Open("sqlite", dsn(abs, params...))
	if err != nil {
		return nil, dbErr("open "+abs, err)
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	s.wdb.SetConnMaxIdleTime(0)
	if err := s.checkWriter(ctx); err != nil {
		return nil, err
	}
	if err := migrate(ctx, s.wdb); err != nil {
		return nil, err
	}
	if s.writer, err = s.wdb.Conn(ctx); err != nil {
		return nil, dbErr("open "+abs, err)
	}

	s.readers, err = sql.Open("sqlite", dsn(abs,
		"_pragma=busy_timeout("+busy+")",
		"_pragma=query_only(1)",
	))
	if err != nil {
		return nil, dbErr("open "+abs, err)
	}
	s.readers.SetMaxOpenConns(opts.MaxReaders)
	s.readers.SetMaxIdleConns(opts.MaxReaders)
	s.readers.SetConnMaxLifetime(0)
	s.readers.SetConnMaxIdleTime(0)

	if err := s.wstmts.prepare(ctx, s.writer, true); err != nil {
		return nil, err
	}
	if err := s.rstmts.prepare(ctx, s.readers, false); err != nil {
		return nil, err
	}
	rev, err := s.Revision(ctx)
	if err != nil {
		return nil, err
	}
	s.notify.published = rev
	if opts.PollInterval > 0 {
		go s.poll(opts.PollInterval)
	} else {
		close(s.pollDone)
	}
	ok = true
	return s, nil
}

// dsn builds a modernc.org/sqlite data source name. The file: URI form lets
// SQLite take the path verbatim once '%', '?' and '#' are escaped.
func dsn(path string, params ...string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + r.Replace(filepath.ToSlash(path)) + "?" + strings.Join(params, "&")
}

// createFile creates the database file, and its directory, with modes that
// keep other users out, before SQLite would create them with the umask's.
func createFile(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("store/sqlite: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("store/sqlite: create directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil // another process won the race; it set the mode
	}
	if err != nil {
		return fmt.Errorf("store/sqlite: create database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("store/sqlite: create database file: %w", err)
	}
	// The new directory entry must be durable too, or a power loss could
	// take the whole database with it after the first commit.
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store/sqlite: sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("store/sqlite: sync directory: %w", err)
	}
	return nil
}

// checkWriter verifies that the pragmas durability depends on took effect:
// some file systems cannot host a WAL, and SQLite then silently keeps the
// old journal mode.
func (s *Store) checkWriter(ctx context.Context) error {
	var mode string
	if err := s.wdb.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return dbErr("open "+s.path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("store/sqlite: %s: journal mode is %q, not WAL (is the file system local?)", s.path, mode)
	}
	var sync int
	if err := s.wdb.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		return dbErr("open "+s.path, err)
	}
	if sync < 2 {
		return fmt.Errorf("store/sqlite: %s: synchronous is %d, not FULL", s.path, sync)
	}
	return nil
}

// Path is the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Revision is the revision of the last committed write, by any process.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	if s.isClosed() {
		return 0, ErrClosed
	}
	var rev int64
	if err := s.rstmts[sRevision].QueryRowContext(ctx).Scan(&rev); err != nil {
		return 0, s.wrap("read revision", err)
	}
	return rev, nil
}

// View runs fn in a read-only snapshot.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	if s.isClosed() {
		return ErrClosed
	}
	sqlTx, err := s.readers.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return s.wrap("begin view", err)
	}
	// A read transaction has nothing to commit; rolling back ends the
	// snapshot, also when fn panics.
	defer func() { _ = sqlTx.Rollback() }()
	t := newTx(ctx, sqlTx, &s.rstmts)
	if err := runFn(t, fn); err != nil {
		return err
	}
	return t.err
}

// Update runs fn in a write transaction and commits it durably if fn
// returns nil. Updates that arrive while another commit is in flight share
// the next commit (see batch.go); each still succeeds or fails on its own.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.writeSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return ErrClosed
	}
	if s.isClosed() {
		<-s.writeSem
		return ErrClosed
	}
	b, err := s.joinBatch()
	if err != nil {
		<-s.writeSem
		return err
	}
	wait, err := s.runInBatch(ctx, b, fn) // gives the token back
	if err != nil || !wait {
		return err
	}
	return s.awaitCommit(b)
}

// recordChange advances the revision and logs the kinds t touched. The
// returned Change also carries the kinds of commits other processes made
// after revision last (the previous change of the batch, or the last
// notification), which the poller may not have seen yet.
func (s *Store) recordChange(t *tx, last int64) (store.Change, error) {
	kinds := t.kindList()
	if _, err := t.stmt(sBumpRevision).ExecContext(t.ctx); err != nil {
		return store.Change{}, dbErr("advance revision", err)
	}
	res, err := t.stmt(sLogChange).ExecContext(t.ctx, encodeKinds(kinds))
	if err != nil {
		return store.Change{}, dbErr("log change", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return store.Change{}, dbErr("log change", err)
	} else if n != 1 {
		return store.Change{}, dbErr("log change", errors.New("table meta has no revision"))
	}
	rev, err := res.LastInsertId()
	if err != nil {
		return store.Change{}, dbErr("log change", err)
	}
	if rev%100 == 0 {
		if _, err := t.stmt(sPruneChanges).ExecContext(t.ctx, rev-changeLogKeep); err != nil {
			return store.Change{}, dbErr("prune change log", err)
		}
	}
	ch := store.Change{Revision: rev, Kinds: kinds}
	if last < rev-1 {
		more, err := t.changedKinds(last)
		if err != nil {
			return store.Change{}, err
		}
		ch.Kinds = unionKinds(ch.Kinds, more)
	}
	return ch, nil
}

// Changes streams change notifications until ctx ends or the store closes;
// the channel is then closed.
func (s *Store) Changes(ctx context.Context) <-chan store.Change {
	return s.notify.subscribe(ctx)
}

// Close stops notifications, waits for a running Update and commits the
// batch it belongs to, and closes the database. Closing twice returns the
// first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.writeSem <- struct{}{} // wait for the Update in flight
		if b := s.open; b != nil {
			s.commit(b) // its members are waiting for it
		}
		close(s.done)
		<-s.pollDone
		s.notify.closeAll()
		s.closeErr = s.closeDBs()
		<-s.writeSem
	})
	return s.closeErr
}

func (s *Store) closeDBs() error {
	var errs []error
	for _, st := range append(s.wstmts.all(), s.rstmts.all()...) {
		errs = append(errs, st.Close())
	}
	if s.readers != nil {
		errs = append(errs, s.readers.Close())
	}
	if s.writer != nil {
		errs = append(errs, s.writer.Close())
	}
	if s.wdb != nil {
		errs = append(errs, s.wdb.Close())
	}
	return dbErr("close", errors.Join(errs...))
}

func (s *Store) isClosed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// wrap turns an error from a read into ErrClosed if the store closed under
// it, the context's error if the caller gave up, or a database error.
func (s *Store) wrap(op string, err error) error {
	if s.isClosed() {
		return ErrClosed
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return dbErr(op, err)
}

// runFn calls fn and marks the Tx finished however fn ends, so a Tx that
// escapes fn fails instead of touching another transaction.
func runFn(t *tx, fn func(store.Tx) error) error {
	defer t.finish()
	return fn(t)
}
