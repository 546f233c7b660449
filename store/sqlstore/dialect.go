package sqlstore

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	sqlite3 "github.com/mattn/go-sqlite3"
)

// Dialect is everything the shared stores need to know about an engine, in
// one place so that the differences stay few and can be read side by side.
// Everything else is the same SQL: both engines take ON CONFLICT ... DO
// UPDATE with excluded, RETURNING, multi-row VALUES and CASE; times are Unix
// microseconds in integer columns on both, so no time encoding differs;
// booleans are bound and scanned as Go bools (SQLite keeps 0/1, which
// database/sql scans into bool).
type Dialect struct {
	// Name is the engine's name, as DB.Engine reports it.
	Name string
	// numbered says placeholders must be written ?NNN: queries are written
	// once with PostgreSQL's $N, and SQLite reads $1 as a parameter named "1"
	// numbered by first appearance, which would bind $2-before-$1 queries
	// wrongly; ?NNN is SQLite's own exactly numbered form.
	numbered bool
	// claim ends the sub-select that picks rows to claim: FOR UPDATE SKIP
	// LOCKED lets dispatchers on several PostgreSQL instances take disjoint
	// rows; SQLite's single writer already serialises claims and has no row locks.
	claim string
	// rowLocks says a transaction that must take turns with others on one
	// key locks a row of its own FOR UPDATE (PostgreSQL: instances write in
	// parallel); SQLite's single writer serialises every write transaction
	// already and has no row locks (LimitsStore.Record).
	rowLocks bool
	// turns is the statement that makes a write transaction wait its turn
	// behind the others holding the same key ($1) until it ends: a
	// transaction-level advisory lock on PostgreSQL, whose instances write
	// in parallel; none on SQLite, whose single writer serialises every
	// write transaction already (DB.takeTurn).
	turns string
	// arrays says bulk upserts bind one array per column and read them
	// with unnest (PostgreSQL: one statement whatever the rows, planned
	// once); without, multi-row VALUES in chunks (DB.Upsert).
	arrays bool
	// lock and unlock bracket the migrations: PostgreSQL instances starting
	// together take an advisory lock; SQLite's writer is one connection.
	lock, unlock string
	// sequences says ids come from the table's sequence (PostgreSQL:
	// instances insert concurrently); without, from the maximum plus one,
	// safe under SQLite's single writer (takeIDs).
	sequences bool
	// snapshot says a read that must see one snapshot across statements
	// takes a REPEATABLE READ read-only transaction (PostgreSQL); on SQLite
	// any read transaction sees one snapshot under WAL, and its driver
	// refuses an isolation level (DB.Snapshot).
	snapshot bool
	// fold is the SQL function that lower-cases text in every script, for
	// searches that ignore case (the other side bound through Fold):
	// PostgreSQL's lower (Unicode under a UTF-8 LC_CTYPE, as a bank's
	// database is); on SQLite, whose lower and LIKE change ASCII letters
	// only (so "NÓMINA" would miss "Nómina"), Fold itself, registered on
	// every connection as FoldFunc (store/sqlite).
	fold string
	// maxParams bounds the parameters of one statement (multi-row inserts
	// are chunked below it): SQLITE_MAX_VARIABLE_NUMBER is 32766, PostgreSQL's
	// wire protocol allows 65535.
	maxParams int
	// classify names a driver error by its code, never its text.
	classify func(error) class
	// types spell the migrations' column types and literals (migrate.go),
	// and true where a query must say it as a partial index does (dataapi.go).
	types map[string]string
}

// takeIDs reserves n ids of table, in increasing order, inside tx.
func (db *DB) takeIDs(ctx context.Context, tx *Tx, table string, n int) ([]int64, error) {
	ids := make([]int64, n)
	if !db.d.sequences {
		var last int64
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM `+table).Scan(&last); err != nil {
			return nil, err
		}
		for i := range ids {
			ids[i] = last + 1 + int64(i)
		}
		return ids, nil
	}
	rows, err := tx.Query(ctx, `SELECT nextval('`+table+`_id_seq') FROM generate_series(1, $1)`, n)
	if err != nil {
		return nil, err
	}
	got, err := Collect(rows, func(s Scanner) (int64, error) {
		var v int64
		return v, s.Scan(&v)
	})
	if err != nil {
		return nil, err
	}
	// Sequence values increase but, with concurrent inserts, need not be
	// contiguous or come back in order; sorted, they follow cs.
	slices.Sort(got)
	return got, nil
}

// class is what a driver error means to a store.
type class int

const (
	other   class = iota
	unique        // a unique or primary key constraint refused a row
	busy          // transient: busy, locked, serialization failure, deadlock
	gone          // the server is unreachable: restarting, shutting down, refused
	foreign       // a foreign key refused a row: what it names does not exist
)

// SQLite is the embedded engine, through mattn/go-sqlite3.
var SQLite = Dialect{
	Name:      "sqlite",
	numbered:  true,
	fold:      FoldFunc,
	maxParams: 32766,
	classify: func(err error) class {
		var se sqlite3.Error
		if !errors.As(err, &se) {
			return other
		}
		switch {
		case se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey:
			return unique
		case se.ExtendedCode == sqlite3.ErrConstraintForeignKey:
			return foreign
		case se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked:
			return busy
		}
		return other
	},
	types: map[string]string{
		"serial": "INTEGER", "int64": "INTEGER", "int32": "INTEGER", "int16": "INTEGER",
		"bytes": "BLOB", "bool": "INTEGER", "false": "0", "true": "1",
		"without_rowid": " WITHOUT ROWID",
	},
}

// Postgres is the production engine, through pgx's database/sql adapter.
var Postgres = Dialect{
	Name:      "postgres",
	claim:     " FOR UPDATE SKIP LOCKED",
	rowLocks:  true,
	turns:     `SELECT pg_advisory_xact_lock($1)`,
	arrays:    true,
	sequences: true,
	snapshot:  true,
	fold:      "lower",
	lock:      `SELECT pg_advisory_lock(1650552427)`, // 0x62616e6b, "bank"
	unlock:    `SELECT pg_advisory_unlock(1650552427)`,
	maxParams: 65535,
	classify: func(err error) class {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			switch {
			case pe.Code == "23505": // unique_violation
				return unique
			case pe.Code == "23503": // foreign_key_violation
				return foreign
			case pe.Code == "40001", pe.Code == "40P01", pe.Code == "55P03": // serialization_failure, deadlock_detected, lock_not_available
				return busy
			// During a restart the server ends sessions (57P01
			// admin_shutdown, 57P02 crash_shutdown) and refuses new ones
			// (57P03 cannot_connect_now); class 08 is a connection exception.
			case pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", len(pe.Code) == 5 && pe.Code[:2] == "08":
				return gone
			}
			return other
		}
		// No server answered at all: refused, or the connection failed.
		if ce := (*pgconn.ConnectError)(nil); errors.As(err, &ce) {
			return gone
		}
		return other
	},
	types: map[string]string{
		"serial": "bigserial", "int64": "bigint", "int32": "integer", "int16": "smallint",
		"bytes": "bytea", "bool": "boolean", "false": "false", "true": "true",
		"without_rowid": "",
	},
}

// FoldFunc is the name SQLite connections know Fold by (Dialect.fold):
// store/sqlite registers it on each one it opens.
const FoldFunc = "bb_fold"

// Fold lower-cases s in every script, as a search matches text: the Go side
// of Dialect.fold, so a search binds Fold(text) and compares it with
// fold(column) in SQL. strings.ToLower is Unicode's simple lower-case
// mapping, the one PostgreSQL's lower applies under a UTF-8 LC_CTYPE.
func Fold(s string) string { return strings.ToLower(s) }
