package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/store/sqlstore"
	sqlite3 "github.com/mattn/go-sqlite3"
)

// migrations are the audit file's and its leaf index's; the main file's
// are shared with PostgreSQL (sqlstore.Migrations).
//
//go:embed auditmigrations/*.sql leafmigrations/*.sql
var migrations embed.FS

// writerDriver is mattn's driver with the writer's settings that the DSN
// cannot express, in the order SQLite needs them; auditDriver the same for
// the disclosure log's file (see auditfile.go), leavesDriver for its index
// by leaf hash; readerDriver is plain.
const (
	writerDriver = "sqlite3_bankbridge_writer"
	auditDriver  = "sqlite3_bankbridge_audit"
	leavesDriver = "sqlite3_bankbridge_leaves"
	readerDriver = "sqlite3_bankbridge_reader"
)

func init() {
	sql.Register(writerDriver, pragmaDriver(
		"PRAGMA journal_mode = WAL",
		// Checkpoint the WAL every ~20000 pages instead of 1000: hot pages
		// are rewritten by every batch, and a checkpoint copies each page
		// once however often it appears in the WAL.
		"PRAGMA wal_autocheckpoint = 20000",
	))
	sql.Register(auditDriver, pragmaDriver(
		// Before anything is written, so a new file gets small pages: an
		// append dirties a few pages (the table's tail, one page of each
		// index) and SQLite writes each whole to the WAL, then fsyncs.
		// A commit of two records wrote 30 KiB of WAL at 4 KiB pages, 11 at 1 KiB.
		"PRAGMA page_size = 1024",
		"PRAGMA journal_mode = WAL",
		// The checkpointer goroutine copies the WAL back (auditfile.go), off
		// the path a caller waits on; this is the backstop if it falls behind.
		"PRAGMA wal_autocheckpoint = 65536",
	))
	sql.Register(leavesDriver, pragmaDriver(
		// Small pages too: each indexed record lands on a random page.
		"PRAGMA page_size = 1024",
		"PRAGMA journal_mode = WAL",
		// The index is rebuilt from the audit file if lost, and a crash
		// rolls back its rows and its upto together, so its commits need
		// not wait for the disk (nobody waits for them either).
		"PRAGMA synchronous = NORMAL",
	))
	sql.Register(readerDriver, pragmaDriver())
}

// pragmaDriver is mattn's driver running pragmas, in order, on each new
// connection, which also knows the shared stores' Go functions
// (sqlstore.FoldFunc).
func pragmaDriver(pragmas ...string) *sqlite3.SQLiteDriver {
	return &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		// Pure: the same text always folds the same, so SQLite may use it
		// in indexes and constant-fold it.
		if err := c.RegisterFunc(sqlstore.FoldFunc, sqlstore.Fold, true); err != nil {
			return fmt.Errorf("register %s: %w", sqlstore.FoldFunc, err)
		}
		for _, p := range pragmas {
			if _, err := c.Exec(p, nil); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		return nil
	}}
}

// DB is an open SQLite database: one writer connection and a read pool,
// and the same for the disclosure log's own file (see auditfile.go).
type DB struct {
	w *sql.DB // exactly one connection: SQLite has one writer
	r *sql.DB // read-only pool (WAL lets readers run beside the writer)
	// sql is the shared stores' view of w and r (store/sqlstore), auditSQL
	// the same of the audit file's.
	sql, auditSQL *sqlstore.DB
	// Stores are the capability stores written once, in store/sqlstore,
	// over the main file: db.Consent(), db.Identity(), ...
	sqlstore.Stores
	Path string
	// audit is the disclosure log's file.
	audit *auditFile
	// accounts caches ledger accounts for the writer; see accountCache.
	accounts accountCache
	applyMu  sync.Mutex // held by LedgerStore.Apply for a whole batch
	lease    Lease      // see lease.go
}

// Open opens (creating if needed) the database file at path and the audit
// file beside it (AuditPath), in WAL mode with synchronous=FULL so a
// committed transaction survives power loss, and the audit file's index
// (LeavesPath, rebuilt if lost), and applies pending migrations.
func Open(ctx context.Context, path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlite: create data folder: %w", err)
		}
	}
	w, r, err := openPair(path, writerDriver, 65536)
	if err != nil {
		return nil, err
	}
	db := &DB{w: w, r: r, Path: path, sql: sqlstore.New(w, r, sqlstore.SQLite)}
	db.Stores = db.sql.Stores
	if db.audit, err = openAudit(AuditPath(path)); err != nil {
		db.Close()
		return nil, err
	}
	db.auditSQL = sqlstore.New(db.audit.w, db.audit.r, sqlstore.SQLite)
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.moveAudit(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// Only now: the migrations' first write made the audit file with its
	// page size, which a checkpoint connection opening it first would not.
	db.audit.startCheckpointer()
	return db, nil
}

// openPair opens the writer (one connection, driver) and the read-only pool
// of the file at path, each connection with a page cache of cacheKiB.
//
// A page cache costs on every commit, not only in memory: SQLite's
// pager_end_transaction truncates the cache, and pcache1TruncateUnsafe then
// walks its whole hash table, sized to the pages cached. With 64 MiB that
// walk was 20% of the CPU of a commit of two audit records; with 1 MiB, 3%.
// A reader pays the same walk when it starts after another connection wrote.
func openPair(path, driver string, cacheKiB int) (w, r *sql.DB, err error) {
	q := url.Values{}
	q.Set("_synchronous", "FULL")
	q.Set("_busy_timeout", "10000")
	q.Set("_foreign_keys", "on")
	q.Set("_txlock", "immediate")
	q.Set("_cache_size", strconv.Itoa(-cacheKiB))
	// Keep prepared statements per connection: a ledger batch runs the same
	// few multi-row statements again and again, and preparing them was 12%
	// of the writer's CPU.
	q.Set("_stmt_cache_size", "128")
	if w, err = sql.Open(driver, "file:"+path+"?"+q.Encode()); err != nil {
		return nil, nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	q.Set("mode", "ro")
	q.Set("_query_only", "on")
	q.Del("_txlock")
	if r, err = sql.Open(readerDriver, "file:"+path+"?"+q.Encode()); err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return w, r, nil
}

// Close closes both files' pools.
func (db *DB) Close() error {
	err := errors.Join(db.r.Close(), db.w.Close())
	if db.audit != nil {
		err = errors.Join(err, db.audit.close())
	}
	return err
}

// Ping checks the database answers, for /readyz.
func (db *DB) Ping(ctx context.Context) error { return db.r.PingContext(ctx) }

// Engine names the engine, for logs and benchmarks.
func (db *DB) Engine() string { return "sqlite" }

// file is one of the database's SQLite files: its writer and readers, its
// migrations, and the prefix Versions gives them.
type file struct {
	w, r               *sql.DB
	fsys               fs.FS
	migrations, prefix string
}

// files are the main file, the disclosure log's and its leaf index's.
func (db *DB) files() []file {
	return []file{
		{db.w, db.r, sqlstore.Migrations, "migrations", ""},
		{db.audit.w, db.audit.r, migrations, "auditmigrations", "audit/"},
		{db.audit.lw, db.audit.lr, migrations, "leafmigrations", "leaves/"},
	}
}

// Migrate applies the migrations not yet recorded, each in its own
// transaction, in file-name order, to each file. It is safe to run on every start.
func (db *DB) Migrate(ctx context.Context) error {
	var err error
	for _, f := range db.files() {
		err = errors.Join(err, sqlstore.New(f.w, f.r, sqlstore.SQLite).Migrate(ctx, f.fsys, f.migrations))
	}
	return err
}

// Versions lists the migrations applied, in order: the main file's, then
// the audit file's as "audit/<version>", then its leaf index's as
// "leaves/<version>".
func (db *DB) Versions(ctx context.Context) ([]string, error) {
	var all []string
	for _, f := range db.files() {
		vs, err := sqlstore.New(f.w, f.r, sqlstore.SQLite).Versions(ctx)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			all = append(all, f.prefix+v)
		}
	}
	return all, nil
}

// mapErr, micros and fromMicros are sqlstore's, for this package's own
// stores (the ledger's, the audit appender's): errors mapped by code as
// sqlstore.SQLite.Err says, times as Unix microseconds.
func mapErr(op string, err error, dup *bankbridge.Error) error {
	return sqlstore.SQLite.Err(op, err, dup)
}
func micros(t time.Time) int64     { return sqlstore.Micros(t) }
func fromMicros(v int64) time.Time { return sqlstore.FromMicros(v) }

// Settle brings the database to rest after a bulk load: the WAL is copied
// into the database file and truncated, so the next writes do not share
// the disk with a checkpoint of everything loaded.
func (db *DB) Settle(ctx context.Context) error {
	db.applyMu.Lock()
	defer db.applyMu.Unlock()
	for _, f := range db.files() {
		if _, err := f.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return fmt.Errorf("sqlite: settle: %w", err)
		}
	}
	return nil
}

// Exec runs raw SQL on the writer. It exists for operators' repair scripts and
// for tests that tamper with rows to prove Verify notices.
func (db *DB) Exec(query string) error {
	db.applyMu.Lock()
	defer db.applyMu.Unlock()
	_, err := db.w.Exec(query)
	db.accounts.reset()
	return err
}

// ExecAudit runs raw SQL with arguments on the audit file's writer, as
// Exec does on the main file's: for repair scripts, and for tests that
// tamper with records to prove Verify notices.
func (db *DB) ExecAudit(query string, args ...any) error {
	_, err := db.audit.w.Exec(query, args...)
	return err
}
