package sqlstore

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// NewPostgres returns the shared stores' view of a PostgreSQL pool. The
// stores' statements go through pgx itself, not database/sql: the adapter
// opened a driver connection per statement (it keeps no idle ones, so as
// not to starve the ledger's use of the pool) and converted every value
// twice, and a data API call, which runs several such statements, cost
// about a fifth more CPU (bench api, balances). Queries are the same text
// either way: PostgreSQL's $N. Migrations run through the adapter
// (database/sql's Conn), as on SQLite.
func NewPostgres(pool *pgxpool.Pool) *DB {
	std := stdlib.OpenDBFromPool(pool)
	db := New(std, std, Postgres)
	db.pool = pool
	return db
}

// pgxQuerier is a pool or a transaction.
type pgxQuerier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// pgxHandle runs statements through pgx.
type pgxHandle struct{ q pgxQuerier }

func (h pgxHandle) Exec(ctx context.Context, query string, args ...any) (Result, error) {
	tag, err := h.q.Exec(ctx, query, args...)
	return pgxResult(tag), err
}

func (h pgxHandle) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	rows, err := h.q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgxRows{rows}, nil
}

func (h pgxHandle) QueryRow(ctx context.Context, query string, args ...any) Scanner {
	return h.q.QueryRow(ctx, query, args...)
}

type pgxResult pgconn.CommandTag

func (r pgxResult) RowsAffected() (int64, error) { return pgconn.CommandTag(r).RowsAffected(), nil }

// pgxRows gives pgx's rows database/sql's Close, which reports the error.
type pgxRows struct{ pgx.Rows }

func (r pgxRows) Close() error {
	r.Rows.Close()
	return r.Rows.Err()
}

func beginPgx(ctx context.Context, pool *pgxpool.Pool, opts pgx.TxOptions) (*Tx, error) {
	tx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	// A rollback must run even when ctx has ended.
	return &Tx{pgxHandle{tx}, func() error { return tx.Commit(ctx) },
		func() error { return tx.Rollback(context.WithoutCancel(ctx)) }}, nil
}
