package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations returns the embedded migration files, which tests hash to
// name a database migrated once and copied for each test.
func Migrations() fs.FS { return migrations }

// DB is an open PostgreSQL connection pool.
type DB struct {
	pool *pgxpool.Pool
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
	db := &DB{pool: pool}
	if err := db.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the pool.
func (db *DB) Close() error { db.pool.Close(); return nil }

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

// Migrate applies the embedded migrations not yet recorded, each in its own
// transaction, under an advisory lock so that instances starting together
// do not race.
func (db *DB) Migrate(ctx context.Context) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Release()
	const lockID = 0x62616e6b // "bank"
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockID); err != nil {
		return fmt.Errorf("postgres: migrate lock: %w", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, lockID)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at bigint NOT NULL)`); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(filepath.Base(name), ".sql")
		if err := migrateOne(ctx, conn.Conn(), name, version); err != nil {
			return fmt.Errorf("postgres: migration %s: %w", version, err)
		}
	}
	return nil
}

func migrateOne(ctx context.Context, conn *pgx.Conn, name, version string) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var one int
	switch err := tx.QueryRow(ctx, `SELECT 1 FROM schema_migrations WHERE version = $1`, version).Scan(&one); {
	case err == nil:
		return nil
	case !errors.Is(err, pgx.ErrNoRows):
		return err
	}
	body, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, version, time.Now().UnixMicro()); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Versions lists the migrations applied, in order.
func (db *DB) Versions(ctx context.Context) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// mapErr turns driver errors into domain errors by SQLSTATE: 23505 (unique)
// becomes dup or a generic Conflict; 40001/40P01 (serialization, deadlock)
// and 55P03 (lock not available) become Unavailable, which the ledger retries.
func mapErr(op string, err error, dup *bankbridge.Error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			if dup != nil {
				return dup.WithOp(op, err)
			}
			return bankbridge.E(bankbridge.Conflict, "duplicate", "that value is already in use").WithOp(op, err)
		case "40001", "40P01", "55P03":
			return bankbridge.E(bankbridge.Unavailable, "database_busy", "the database is busy; try again").WithOp(op, err)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}
