package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// applicationID marks the file as an iamra database ("iamr"), so that
// pointing the server at some other SQLite file fails clearly instead of
// adding tables to it.
const applicationID = 0x69616d72

// migrations[i] brings the schema from user_version i to i+1. Entries are
// only ever appended: a released migration never changes.
var migrations = [][]string{
	// 1: documents addressed by (kind, id), the revision, the change log.
	// Rowid tables, because documents such as CRLs can be far larger than
	// a WITHOUT ROWID table stores efficiently.
	{
		`CREATE TABLE documents (
			kind    TEXT    NOT NULL,
			id      TEXT    NOT NULL,
			version INTEGER NOT NULL,
			data    BLOB    NOT NULL,
			PRIMARY KEY (kind, id)
		)`,
		`CREATE TABLE meta (
			key   TEXT    NOT NULL PRIMARY KEY,
			value INTEGER NOT NULL
		)`,
		`INSERT INTO meta (key, value) VALUES ('revision', 0)`,
		`CREATE TABLE changes (
			revision INTEGER NOT NULL PRIMARY KEY,
			kinds    TEXT    NOT NULL
		)`,
	},
}

// migrate creates or upgrades the schema inside one IMMEDIATE transaction,
// so two processes opening a new file at once cannot both create it.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return dbErr("migrate", err)
	}
	defer func() { _ = tx.Rollback() }()

	var appID, version, tables int
	if err := tx.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return dbErr("migrate", err)
	}
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return dbErr("migrate", err)
	}
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'").Scan(&tables); err != nil {
		return dbErr("migrate", err)
	}
	switch {
	case appID != 0 && appID != applicationID:
		return fmt.Errorf("store/sqlite: not an iamra database (application_id %#x)", appID)
	case version == 0 && tables > 0:
		return errors.New("store/sqlite: not an iamra database (it has tables but no iamra schema)")
	case version > len(migrations):
		return fmt.Errorf("store/sqlite: database schema version %d is newer than this iamra supports (%d); upgrade iamra", version, len(migrations))
	case version == len(migrations):
		return nil
	}
	for v := version; v < len(migrations); v++ {
		for _, stmt := range migrations[v] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return dbErr(fmt.Sprintf("migrate to schema %d", v+1), err)
			}
		}
	}
	// PRAGMA takes no bound parameters; both values are integers we own.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return dbErr("migrate", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
		return dbErr("migrate", err)
	}
	return dbErr("migrate", tx.Commit())
}

// stmtID names a prepared statement.
type stmtID int

const (
	sGet stmtID = iota
	sList
	sRevision
	sChangesSince
	sDistinctKinds
	sCreate // statements from here on write, so readers do not prepare them
	sCAS
	sPutAny
	sDelete
	sBumpRevision
	sLogChange
	sPruneChanges
	sSavepoint
	sRelease
	sRollbackTo
	sBegin
	sCommit
	sRollback
	nStmts

	nReadStmts = sCreate
)

var stmtText = [nStmts]string{
	sGet:           `SELECT version, data FROM documents WHERE kind = ? AND id = ?`,
	sList:          `SELECT id, version, data FROM documents WHERE kind = ? AND id > ? ORDER BY id LIMIT ?`,
	sRevision:      `SELECT value FROM meta WHERE key = 'revision'`,
	sChangesSince:  `SELECT revision, kinds FROM changes WHERE revision > ? ORDER BY revision`,
	sDistinctKinds: `SELECT DISTINCT kind FROM documents`,

	sCreate: `INSERT INTO documents (kind, id, version, data) VALUES (?, ?, 1, ?)
		ON CONFLICT (kind, id) DO NOTHING`,
	sCAS: `UPDATE documents SET version = version + 1, data = ?
		WHERE kind = ? AND id = ? AND version = ? RETURNING version`,
	sPutAny: `INSERT INTO documents (kind, id, version, data) VALUES (?, ?, 1, ?)
		ON CONFLICT (kind, id) DO UPDATE SET version = version + 1, data = excluded.data
		RETURNING version`,
	sDelete: `DELETE FROM documents WHERE kind = ? AND id = ?`,
	// No RETURNING: SQLite builds a temporary table for each statement
	// that has one. The log row's rowid is the new revision.
	sBumpRevision: `UPDATE meta SET value = value + 1 WHERE key = 'revision'`,
	sLogChange:    `INSERT INTO changes (revision, kinds) SELECT value, ? FROM meta WHERE key = 'revision'`,
	sPruneChanges: `DELETE FROM changes WHERE revision <= ?`,
	// One Update's part of a batch (see batch.go). Members run one after
	// another, so one name serves them all.
	sSavepoint:  `SAVEPOINT member`,
	sRelease:    `RELEASE member`,
	sRollbackTo: `ROLLBACK TO member`,
	// The batch's transaction (see Store.writer for why not database/sql's).
	sBegin:    `BEGIN IMMEDIATE`,
	sCommit:   `COMMIT`,
	sRollback: `ROLLBACK`,
}

// stmts are statements prepared once per pool, so that a batch of Puts
// does not parse the same SQL a hundred times.
type stmts [nStmts]*sql.Stmt

// preparer is a *sql.DB (the read pool) or a *sql.Conn (the writer).
type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

func (st *stmts) prepare(ctx context.Context, db preparer, write bool) error {
	n := nStmts
	if !write {
		n = nReadStmts
	}
	for i := stmtID(0); i < stmtID(n); i++ {
		p, err := db.PrepareContext(ctx, stmtText[i])
		if err != nil {
			return dbErr("prepare", err)
		}
		st[i] = p
	}
	return nil
}

func (st *stmts) all() []*sql.Stmt {
	var out []*sql.Stmt
	for _, p := range st {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}
