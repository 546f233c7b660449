package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
)

// LimitsStore implements limits.Store: the payments recorded against the
// payment limits, from every channel and every instance.
type LimitsStore struct{ db *DB }

var _ limits.Store = (*LimitsStore)(nil)

// Limits returns the store of payments recorded against the limits.
func (s Stores) Limits() *LimitsStore { return &LimitsStore{db: s.db} }

// Record implements limits.Store. One customer's payments must take turns,
// so that the totals read cannot change before the use is inserted. On
// PostgreSQL (Dialect.rowLocks) the transaction locks the customer's row of
// limit_customers FOR UPDATE first: two instances recording payments of one
// customer take turns (READ COMMITTED then sees the other's committed use),
// while other customers' payments run in parallel; the row is made on first
// use, and ON CONFLICT makes that safe when two instances make it at once.
// On SQLite the transaction is on the one writer connection, serialised
// with every other Record (and the ledger's batches) already.
func (s *LimitsStore) Record(ctx context.Context, u limits.Use, since time.Time, decide func(limits.Usage) error) error {
	const op = "sqlstore.Limits.Record"
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	defer tx.Rollback()
	if s.db.d.rowLocks {
		if _, err := tx.Exec(ctx, `INSERT INTO limit_customers (customer) VALUES ($1) ON CONFLICT DO NOTHING`, int64(u.Customer)); err != nil {
			return s.db.Err(op, err, nil)
		}
		if _, err := tx.Exec(ctx, `SELECT 1 FROM limit_customers WHERE customer = $1 FOR UPDATE`, int64(u.Customer)); err != nil {
			return s.db.Err(op, err, nil)
		}
	}
	var one int
	err = tx.QueryRow(ctx, `SELECT 1 FROM limit_uses WHERE channel = $1 AND key = $2`, u.Channel, u.Key).Scan(&one)
	if err == nil {
		return nil // a retry: counted once already
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return s.db.Err(op, err, nil)
	}
	// SUM of bigint is numeric on PostgreSQL: the casts bring it back.
	var day, payee, first int64
	if err := tx.QueryRow(ctx, `SELECT
  CAST(COALESCE((SELECT SUM(amount) FROM limit_uses WHERE customer = $1 AND currency = $2 AND at >= $3), 0) AS BIGINT),
  CAST(COALESCE((SELECT SUM(amount) FROM limit_uses WHERE customer = $1 AND payee = $4 AND currency = $2 AND at >= $3), 0) AS BIGINT),
  CAST(COALESCE((SELECT MIN(at) FROM limit_uses WHERE customer = $1 AND payee = $4), 0) AS BIGINT)`,
		int64(u.Customer), string(u.Currency), micros(since), int64(u.Payee)).Scan(&day, &payee, &first); err != nil {
		return s.db.Err(op, err, nil)
	}
	if err := decide(limits.Usage{Day: ledger.Amount(day), Payee: ledger.Amount(payee), FirstPaid: fromMicros(first)}); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO limit_uses (channel, key, customer, payee, amount, currency, at) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		u.Channel, u.Key, int64(u.Customer), int64(u.Payee), int64(u.Amount), string(u.Currency), micros(u.At)); err != nil {
		return s.db.Err(op, err, nil)
	}
	return s.db.Err(op, tx.Commit(), nil)
}

// Release implements limits.Store.
func (s *LimitsStore) Release(ctx context.Context, channel, key string) error {
	_, err := s.db.W().Exec(ctx, `DELETE FROM limit_uses WHERE channel = $1 AND key = $2`, channel, key)
	return s.db.Err("sqlstore.Limits.Release", err, nil)
}
