package postgres

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/store/sqlstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Migrations returns the migration files that define the schema (the
// templates shared with SQLite, sqlstore.Migrations), which tests hash to
// name a database migrated once and copied for each test.
func Migrations() fs.FS { return sqlstore.Migrations }

// DB is an open PostgreSQL connection pool.
type DB struct {
	pool *pgxpool.Pool
	// sql is the shared stores' view of the same pool (store/sqlstore).
	sql *sqlstore.DB
	// Stores are the capability stores written once, in store/sqlstore:
	// db.Consent(), db.Identity(), ...
	sqlstore.Stores
}

// Open connects to the database named by url (postgres://...) and applies
// pending migrations. A search_path parameter in url selects the schema.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: bad database URL: %w", err)
	}
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: cannot reach %s: %w", cfg.ConnConfig.Host, err)
	}
	db := &DB{pool: pool, sql: sqlstore.NewPostgres(pool)}
	db.Stores = db.sql.Stores
	if err := db.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the pool.
func (db *DB) Close() error {
	err := db.sql.Close()
	db.pool.Close()
	return err
}

// Ping checks the database answers, for /readyz.
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

// Engine names the engine, for logs and benchmarks.
func (db *DB) Engine() string { return "postgres" }

// Pool exposes the pool to the store files of this package and to tests.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Settle brings the database to rest after a bulk load, as an operator
// would before serving: VACUUM (ANALYZE) of this schema's tables gives the
// planner statistics and sets the hint bits and visibility map that the
// first readers would otherwise write, and a CHECKPOINT writes the loaded
// pages now rather than in the middle of the load that follows.
func (db *DB) Settle(ctx context.Context) error {
	rows, err := db.pool.Query(ctx, `SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1`)
	if err != nil {
		return fmt.Errorf("postgres: settle: %w", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("postgres: settle: %w", err)
	}
	if len(tables) > 0 {
		if _, err := db.pool.Exec(ctx, "VACUUM (ANALYZE) "+strings.Join(tables, ", ")); err != nil {
			return fmt.Errorf("postgres: settle: vacuum: %w", err)
		}
	}
	if _, err := db.pool.Exec(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("postgres: settle: checkpoint: %w", err)
	}
	return nil
}

// Migrate applies the migrations not yet recorded (sqlstore.Migrations,
// shared with SQLite), each in its own transaction, under an advisory lock
// so that instances starting together do not race.
func (db *DB) Migrate(ctx context.Context) error {
	return db.sql.Migrate(ctx, sqlstore.Migrations, "migrations")
}

// Versions lists the migrations applied, in order.
func (db *DB) Versions(ctx context.Context) ([]string, error) { return db.sql.Versions(ctx) }

// mapErr, micros and fromMicros are sqlstore's, for this package's own
// stores (the ledger's, the audit appender's): errors mapped by code as
// sqlstore.Postgres.Err says, times as Unix microseconds.
func mapErr(op string, err error, dup *bankbridge.Error) error {
	return sqlstore.Postgres.Err(op, err, dup)
}
func micros(t time.Time) int64     { return sqlstore.Micros(t) }
func fromMicros(v int64) time.Time { return sqlstore.FromMicros(v) }
