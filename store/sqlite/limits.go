package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
)

// LimitsStore implements limits.Store on SQLite.
type LimitsStore struct{ db *DB }

var _ limits.Store = (*LimitsStore)(nil)

// Limits returns the store of payments recorded against the limits.
func (db *DB) Limits() *LimitsStore { return &LimitsStore{db: db} }

// Record implements limits.Store. The database has one writer connection,
// so a transaction on it is serialised with every other Record (and with the
// ledger's batches): the totals it reads cannot change before the use is
// inserted.
func (s *LimitsStore) Record(ctx context.Context, u limits.Use, since time.Time, decide func(limits.Usage) error) error {
	const op = "sqlite.Limits.Record"
	tx, err := s.db.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(op, err, nil)
	}
	defer tx.Rollback()
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM limit_uses WHERE channel = ? AND key = ?`, u.Channel, u.Key).Scan(&one)
	if err == nil {
		return nil // a retry: counted once already
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return mapErr(op, err, nil)
	}
	var us limits.Usage
	var day, payee, first int64
	if err := tx.QueryRowContext(ctx, `SELECT
  COALESCE((SELECT SUM(amount) FROM limit_uses WHERE customer = ? AND currency = ? AND at >= ?), 0),
  COALESCE((SELECT SUM(amount) FROM limit_uses WHERE customer = ? AND payee = ? AND currency = ? AND at >= ?), 0),
  COALESCE((SELECT MIN(at) FROM limit_uses WHERE customer = ? AND payee = ?), 0)`,
		int64(u.Customer), string(u.Currency), micros(since),
		int64(u.Customer), int64(u.Payee), string(u.Currency), micros(since),
		int64(u.Customer), int64(u.Payee)).Scan(&day, &payee, &first); err != nil {
		return mapErr(op, err, nil)
	}
	us.Day, us.Payee, us.FirstPaid = ledger.Amount(day), ledger.Amount(payee), fromMicros(first)
	if err := decide(us); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO limit_uses (channel, key, customer, payee, amount, currency, at) VALUES (?,?,?,?,?,?,?)`,
		u.Channel, u.Key, int64(u.Customer), int64(u.Payee), int64(u.Amount), string(u.Currency), micros(u.At)); err != nil {
		return mapErr(op, err, nil)
	}
	return mapErr(op, tx.Commit(), nil)
}

// Release implements limits.Store.
func (s *LimitsStore) Release(ctx context.Context, channel, key string) error {
	_, err := s.db.w.ExecContext(ctx, `DELETE FROM limit_uses WHERE channel = ? AND key = ?`, channel, key)
	return mapErr("sqlite.Limits.Release", err, nil)
}
