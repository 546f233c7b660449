package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is an engine's database/sql handles and its dialect: w takes every
// write and every read that must see the last write, r the other reads. On
// SQLite w is the single writer connection and r the read-only pool; on
// PostgreSQL both are the same pool.
type DB struct {
	Stores // the capability stores over this database
	w, r   *sql.DB
	// pool, on PostgreSQL, takes every statement of the stores through
	// pgx itself (pgx.go); w and r are then the same pool through pgx's
	// database/sql adapter, for the migrations.
	pool *pgxpool.Pool
	d    Dialect
	qs   sync.Map     // query as written -> as the engine reads it
	nqs  atomic.Int64 // entries in qs
}

// maxCached bounds the rewritten queries kept: queries with literal lists
// (insights' facet ids) vary without end, and past this are rewritten on
// each call, which costs a pass over the text.
const maxCached = 4096

// New returns the shared stores' view of an engine: w the writer, r the
// readers (the same as w where the engine has no single writer).
func New(w, r *sql.DB, d Dialect) *DB {
	db := &DB{w: w, r: r, d: d}
	db.Stores = Stores{db}
	return db
}

// Close closes the handles. SQLite's DB closes its own instead, with its
// audit files; PostgreSQL's calls this before closing the pool beneath.
func (db *DB) Close() error {
	if db.r != db.w {
		return errors.Join(db.r.Close(), db.w.Close())
	}
	return db.w.Close()
}

// Engine names the engine.
func (db *DB) Engine() string { return db.d.Name }

// q returns query as the engine reads it, rewritten once and then cached.
func (db *DB) q(query string) string {
	if !db.d.numbered {
		return query
	}
	if s, ok := db.qs.Load(query); ok {
		return s.(string)
	}
	s := rebind(query)
	if db.nqs.Load() < maxCached {
		if _, loaded := db.qs.LoadOrStore(query, s); !loaded {
			db.nqs.Add(1)
		}
	}
	return s
}

// rebind rewrites $N as ?N outside quoted strings and identifiers.
func rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query))
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '$' && i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9':
			c = '?'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Querier runs statements: the writer, the readers, or a transaction.
type Querier interface {
	Exec(ctx context.Context, query string, args ...any) (Result, error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Scanner
}

// Rows are a query's rows: *sql.Rows, or pgx's (pgx.go).
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Result is what a statement changed.
type Result interface{ RowsAffected() (int64, error) }

// handle runs statements through database/sql.
type handle struct {
	db *DB
	h  interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}
}

func (h handle) Exec(ctx context.Context, query string, args ...any) (Result, error) {
	return h.h.ExecContext(ctx, h.db.q(query), args...)
}

func (h handle) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	rows, err := h.h.QueryContext(ctx, h.db.q(query), args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (h handle) QueryRow(ctx context.Context, query string, args ...any) Scanner {
	return h.h.QueryRowContext(ctx, h.db.q(query), args...)
}

// W is the writer: writes, and reads that must see the last write.
func (db *DB) W() Querier {
	if db.pool != nil {
		return pgxHandle{db.pool}
	}
	return handle{db, db.w}
}

// R is the readers.
func (db *DB) R() Querier {
	if db.pool != nil {
		return pgxHandle{db.pool}
	}
	return handle{db, db.r}
}

// Tx is a transaction on the writer.
type Tx struct {
	Querier
	commit, rollback func() error
}

// Begin starts a transaction on the writer. On SQLite it is BEGIN
// IMMEDIATE (the writer's DSN), so it never fails to upgrade a read lock
// halfway; on PostgreSQL, READ COMMITTED.
func (db *DB) Begin(ctx context.Context) (*Tx, error) {
	if db.pool != nil {
		return beginPgx(ctx, db.pool, pgx.TxOptions{})
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &Tx{handle{db, tx}, tx.Commit, tx.Rollback}, nil
}

// Commit commits the transaction.
func (tx *Tx) Commit() error { return tx.commit() }

// Rollback rolls back the transaction unless it was committed.
func (tx *Tx) Rollback() error { return tx.rollback() }

// Snapshot returns readers that see one snapshot across statements, and a
// func that ends it (Dialect.snapshot).
func (db *DB) Snapshot(ctx context.Context) (Querier, func(), error) {
	if !db.d.snapshot {
		tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return nil, nil, err
		}
		return handle{db, tx}, func() { tx.Rollback() }, nil
	}
	tx, err := beginPgx(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, nil, err
	}
	return tx, func() { tx.Rollback() }, nil
}

// Err maps a driver error as the dialect does (Dialect.Err).
func (db *DB) Err(op string, err error, dup *bankbridge.Error) error { return db.d.Err(op, err, dup) }

// Unique reports whether err is a unique or primary key violation.
func (db *DB) Unique(err error) bool { return db.d.classify(err) == unique }

// Foreign reports whether err is a foreign key violation.
func (db *DB) Foreign(err error) bool { return db.d.classify(err) == foreign }

// ClaimLock ends a sub-select that picks rows for one worker to claim (see Dialect.claim).
func (db *DB) ClaimLock() string { return db.d.claim }

// Err turns a driver error into a domain error by its code: a unique
// violation becomes dup (or a generic Conflict), a transient failure
// (SQLite busy or locked; PostgreSQL serialization failure, deadlock, lock
// not available) or an unreachable server (PostgreSQL restarting, refusing
// connections) Unavailable, which callers may retry and clients see as 503,
// not 500. Anything else keeps its cause behind op.
func (d Dialect) Err(op string, err error, dup *bankbridge.Error) error {
	if err == nil {
		return nil
	}
	switch d.classify(err) {
	case unique:
		if dup != nil {
			return dup.WithOp(op, err)
		}
		return bankbridge.E(bankbridge.Conflict, "duplicate", "that value is already in use").WithOp(op, err)
	case busy:
		return bankbridge.E(bankbridge.Unavailable, "database_busy", "the database is busy; try again").WithOp(op, err)
	case gone:
		return bankbridge.E(bankbridge.Unavailable, "database_unavailable", "the database is not reachable; try again").WithOp(op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Micros is t as stored: Unix microseconds, 0 for the zero time.
func Micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// FromMicros is the time stored as v, UTC; 0 is the zero time.
func FromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// Scanner is a row, or rows at one row.
type Scanner interface{ Scan(...any) error }

// Collect scans every row of rows with scan and closes rows.
func Collect[T any](rows Rows, scan func(Scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// In returns "$from,$from+1,..." for the values and the values as []any,
// for an IN list; both engines take it, where = ANY($1) would be PostgreSQL's alone.
func In[T any](from int, vals []T) (string, []any) {
	var b strings.Builder
	args := make([]any, len(vals))
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(from + i))
		args[i] = v
	}
	return b.String(), args
}

// Values returns "($1,$2),($3,$4)..." for rows of cols values each,
// numbered from 1.
func Values(rows, cols int) string {
	var b strings.Builder
	n := 1
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			n++
		}
		b.WriteByte(')')
	}
	return b.String()
}

// InsertRows inserts rows (each of the same number of values) with
// multi-row statements prefix VALUES (...),(...) suffix, chunked below the
// engine's parameter limit, and returns the rows affected.
func (db *DB) InsertRows(ctx context.Context, q Querier, prefix, suffix string, rows [][]any) (int64, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	per := max(1, min(500, db.d.maxParams/len(rows[0])))
	var n int64
	for len(rows) > 0 {
		chunk := rows[:min(per, len(rows))]
		rows = rows[len(chunk):]
		args := make([]any, 0, len(chunk)*len(chunk[0]))
		for _, r := range chunk {
			args = append(args, r...)
		}
		res, err := q.Exec(ctx, prefix+" VALUES "+Values(len(chunk), len(chunk[0]))+suffix, args...)
		if err != nil {
			return n, err
		}
		k, _ := res.RowsAffected()
		n += k
	}
	return n, nil
}

func micros(t time.Time) int64     { return Micros(t) }
func fromMicros(v int64) time.Time { return FromMicros(v) }

// takeTurn waits, inside tx, until no other write transaction holding key
// is running (Dialect.turns); the turn lasts until tx ends.
func (db *DB) takeTurn(ctx context.Context, tx *Tx, key int64) error {
	if db.d.turns == "" {
		return nil
	}
	_, err := tx.Exec(ctx, db.d.turns, key)
	return err
}

// Upsert writes rows (each of the same number of values, in the order of
// insert's column list) with insert, "INSERT INTO t (c1, c2, ...)", and
// conflict, its ON CONFLICT clause. On PostgreSQL (Dialect.arrays) the
// rows go as one array per column read by unnest, one statement whatever
// their number; elsewhere as multi-row VALUES chunked below the parameter
// limit. Values are integers (of any named integer type), strings, []byte
// or bools; PostgreSQL casts the bigint arrays to narrower columns on
// insert.
func (db *DB) Upsert(ctx context.Context, q Querier, insert, conflict string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if !db.d.arrays {
		_, err := db.InsertRows(ctx, q, insert, " "+conflict, rows)
		return err
	}
	cols, casts, err := columns(rows)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(insert)
	b.WriteString("\nSELECT * FROM unnest(")
	for i, c := range casts {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d::%s", i+1, c)
	}
	b.WriteString(")\n")
	b.WriteString(conflict)
	_, err = q.Exec(ctx, b.String(), cols...)
	return err
}

// columns turns rows into one typed slice per column, and each column's
// PostgreSQL array type.
func columns(rows [][]any) (cols []any, casts []string, err error) {
	n := len(rows[0])
	cols, casts = make([]any, n), make([]string, n)
	for c := range n {
		switch v := reflect.ValueOf(rows[0][c]); {
		case v.CanInt() || v.CanUint():
			col := make([]int64, len(rows))
			for r, row := range rows {
				if v := reflect.ValueOf(row[c]); v.CanInt() {
					col[r] = v.Int()
				} else {
					col[r] = int64(v.Uint())
				}
			}
			cols[c], casts[c] = col, "bigint[]"
		case v.Kind() == reflect.String:
			col := make([]string, len(rows))
			for r, row := range rows {
				col[r] = reflect.ValueOf(row[c]).String()
			}
			cols[c], casts[c] = col, "text[]"
		case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
			col := make([][]byte, len(rows))
			for r, row := range rows {
				col[r] = reflect.ValueOf(row[c]).Bytes()
			}
			cols[c], casts[c] = col, "bytea[]"
		case v.Kind() == reflect.Bool:
			col := make([]bool, len(rows))
			for r, row := range rows {
				col[r] = reflect.ValueOf(row[c]).Bool()
			}
			cols[c], casts[c] = col, "boolean[]"
		default:
			return nil, nil, fmt.Errorf("sqlstore: upsert column %d: unsupported %T", c+1, rows[0][c])
		}
	}
	return cols, casts, nil
}
