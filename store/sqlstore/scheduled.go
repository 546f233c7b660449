package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/scheduled"
)

// ScheduledStore implements scheduled.Store.
type ScheduledStore struct{ db *DB }

var _ scheduled.Store = (*ScheduledStore)(nil)

// Scheduled returns the scheduled payments' store.
func (s Stores) Scheduled() *ScheduledStore { return &ScheduledStore{db: s.db} }

const orderCols = `id, customer_id, from_account, to_account, payee_id, rail, label, amount, currency, memo, every,
  start_on, until_on, max_runs, runs, next_on, status, created_at, version, anchor, stepup_amount, stepup_at`

func scanOrder(sc Scanner) (scheduled.Order, error) {
	var o scheduled.Order
	var rail int
	var every, status string
	var start, until, next, created, stepAt int64
	err := sc.Scan(&o.ID, &o.Customer, &o.From, &o.To, &o.Payee, &rail, &o.Label, &o.Amount, &o.Currency, &o.Memo, &every,
		&start, &until, &o.Count, &o.Runs, &next, &status, &created, &o.Version, &o.Anchor, &o.Authorized, &stepAt)
	if stepAt != 0 {
		o.AuthorizedAt = fromMicros(stepAt)
	}
	o.Rail, o.Every, o.Status = rail != 0, scheduled.Every(every), scheduled.Status(status)
	o.Start, o.Created = fromMicros(start), fromMicros(created)
	if until != 0 {
		o.Until = fromMicros(until)
	}
	if next != 0 {
		o.Next = fromMicros(next)
	}
	return o, err
}

func dayMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

// CreateOrder implements scheduled.Store.
func (s *ScheduledStore) CreateOrder(ctx context.Context, o scheduled.Order) (scheduled.Order, error) {
	rail := 0
	if o.Rail {
		rail = 1
	}
	err := s.db.W().QueryRow(ctx, `INSERT INTO scheduled_orders (customer_id, from_account, to_account, payee_id, rail, label, amount,
  currency, memo, every, start_on, until_on, max_runs, runs, next_on, status, created_at, updated_at, version, anchor, stepup_amount, stepup_at)
  VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,0,$14,$15,$16,$16,0,$17,$18,$19) RETURNING id`,
		int64(o.Customer), int64(o.From), int64(o.To), int64(o.Payee), rail, o.Label, int64(o.Amount), string(o.Currency), o.Memo,
		string(o.Every), dayMicros(o.Start), dayMicros(o.Until), o.Count, dayMicros(o.Next), string(o.Status), micros(o.Created),
		max(o.Anchor, 1), int64(o.Authorized), dayMicros(o.AuthorizedAt)).Scan(&o.ID)
	o.Version, o.Anchor = 0, max(o.Anchor, 1)
	return o, s.db.Err("sqlstore.Scheduled.CreateOrder", err, nil)
}

// Order implements scheduled.Store.
func (s *ScheduledStore) Order(ctx context.Context, c bankbridge.CustomerID, id scheduled.OrderID) (scheduled.Order, error) {
	o, err := scanOrder(s.db.W().QueryRow(ctx, `SELECT `+orderCols+` FROM scheduled_orders WHERE id = $1 AND customer_id = $2`, int64(id), int64(c)))
	if errors.Is(err, sql.ErrNoRows) {
		return scheduled.Order{}, scheduled.ErrNotFound
	}
	return o, s.db.Err("sqlstore.Scheduled.Order", err, nil)
}

// Orders implements scheduled.Store.
func (s *ScheduledStore) Orders(ctx context.Context, c bankbridge.CustomerID) ([]scheduled.Order, error) {
	rows, err := s.db.R().Query(ctx, `SELECT `+orderCols+` FROM scheduled_orders WHERE customer_id = $1
  ORDER BY CASE status WHEN 'active' THEN 0 ELSE 1 END, next_on, id`, int64(c))
	if err != nil {
		return nil, s.db.Err("sqlstore.Scheduled.Orders", err, nil)
	}
	os, err := Collect(rows, scanOrder)
	return os, s.db.Err("sqlstore.Scheduled.Orders", err, nil)
}

// CancelOrder implements scheduled.Store.
func (s *ScheduledStore) CancelOrder(ctx context.Context, c bankbridge.CustomerID, id scheduled.OrderID, at time.Time) error {
	const op = "sqlstore.Scheduled.CancelOrder"
	res, err := s.db.W().Exec(ctx, `UPDATE scheduled_orders SET status = 'cancelled', next_on = 0, version = version + 1, updated_at = $1
  WHERE id = $2 AND customer_id = $3 AND status = 'active'`, micros(at), int64(id), int64(c))
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return s.db.Err(op, err, nil)
	}
	if _, err := s.Order(ctx, c, id); err != nil {
		return err
	}
	return scheduled.ErrEnded
}

// Due implements scheduled.Store.
func (s *ScheduledStore) Due(ctx context.Context, day time.Time, limit int) ([]scheduled.Order, error) {
	rows, err := s.db.W().Query(ctx, `SELECT `+orderCols+` FROM scheduled_orders WHERE status = 'active' AND next_on <= $1
  ORDER BY next_on, id LIMIT $2`, micros(day), limit)
	if err != nil {
		return nil, s.db.Err("sqlstore.Scheduled.Due", err, nil)
	}
	os, err := Collect(rows, scanOrder)
	return os, s.db.Err("sqlstore.Scheduled.Due", err, nil)
}

// Claim implements scheduled.Store. The conditional UPDATE is the claim:
// on PostgreSQL (READ COMMITTED) a second transaction updating the same row
// waits for the first, then re-reads it, finds runs (or, after a
// customer's edit, the version) moved on and updates nothing; on SQLite the single writer serialises them. The run's primary
// key backs it: a second insert of (order, seq) would fail.
func (s *ScheduledStore) Claim(ctx context.Context, o scheduled.Order, r scheduled.Run, next time.Time) (bool, error) {
	const op = "sqlstore.Scheduled.Claim"
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return false, s.db.Err(op, err, nil)
	}
	defer tx.Rollback()
	status := string(scheduled.Active)
	if next.IsZero() {
		status = string(scheduled.Finished)
	}
	res, err := tx.Exec(ctx, `UPDATE scheduled_orders SET runs = runs + 1, next_on = $1, status = $2, updated_at = $3, version = version + 1
  WHERE id = $4 AND runs = $5 AND version = $6 AND status = 'active'`, dayMicros(next), status, micros(r.At), int64(o.ID), o.Runs, o.Version)
	if err != nil {
		return false, s.db.Err(op, err, nil)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return false, s.db.Err(op, err, nil)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO scheduled_runs (order_id, seq, customer_id, run_on, status, reason, ref, run_at)
  VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`, int64(r.Order), r.Seq, int64(o.Customer), dayMicros(r.Date), string(r.Status), r.Reason, r.Ref, micros(r.At)); err != nil {
		if s.db.Unique(err) {
			return false, nil
		}
		return false, s.db.Err(op, err, nil)
	}
	return true, s.db.Err(op, tx.Commit(), nil)
}

// Settle implements scheduled.Store.
func (s *ScheduledStore) Settle(ctx context.Context, r scheduled.Run) error {
	_, err := s.db.W().Exec(ctx, `UPDATE scheduled_runs SET status = $1, reason = $2, ref = $3, run_at = $4 WHERE order_id = $5 AND seq = $6`,
		string(r.Status), r.Reason, r.Ref, micros(r.At), int64(r.Order), r.Seq)
	return s.db.Err("sqlstore.Scheduled.Settle", err, nil)
}

const runCols = `order_id, seq, customer_id, run_on, status, reason, ref, run_at`

func scanRun(sc Scanner) (scheduled.Run, error) {
	var r scheduled.Run
	var on, at int64
	var status string
	err := sc.Scan(&r.Order, &r.Seq, &r.Customer, &on, &status, &r.Reason, &r.Ref, &at)
	r.Date, r.At, r.Status = fromMicros(on), fromMicros(at), scheduled.RunStatus(status)
	return r, err
}

// Unsettled implements scheduled.Store.
func (s *ScheduledStore) Unsettled(ctx context.Context, before time.Time, limit int) ([]scheduled.Run, error) {
	rows, err := s.db.W().Query(ctx, `SELECT `+runCols+` FROM scheduled_runs WHERE status = 'claimed' AND run_at < $1
  ORDER BY run_at LIMIT $2`, micros(before), limit)
	if err != nil {
		return nil, s.db.Err("sqlstore.Scheduled.Unsettled", err, nil)
	}
	rs, err := Collect(rows, scanRun)
	return rs, s.db.Err("sqlstore.Scheduled.Unsettled", err, nil)
}

// Runs implements scheduled.Store.
func (s *ScheduledStore) Runs(ctx context.Context, c bankbridge.CustomerID, id scheduled.OrderID, limit int) ([]scheduled.Run, error) {
	rows, err := s.db.R().Query(ctx, `SELECT `+runCols+` FROM scheduled_runs WHERE order_id = $1 AND customer_id = $2
  ORDER BY seq DESC LIMIT $3`, int64(id), int64(c), limit)
	if err != nil {
		return nil, s.db.Err("sqlstore.Scheduled.Runs", err, nil)
	}
	rs, err := Collect(rows, scanRun)
	return rs, s.db.Err("sqlstore.Scheduled.Runs", err, nil)
}

// UpdateOrder implements scheduled.Store: the UPDATE conditional on the
// version is the compare-and-set (a claim moves the version too), and the
// history entry is written in the same transaction, so no change is made
// without its record, nor recorded without being made.
func (s *ScheduledStore) UpdateOrder(ctx context.Context, o scheduled.Order, ch scheduled.Change) (scheduled.Order, error) {
	const op = "sqlstore.Scheduled.UpdateOrder"
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return scheduled.Order{}, s.db.Err(op, err, nil)
	}
	defer tx.Rollback()
	res, err := tx.Exec(ctx, `UPDATE scheduled_orders SET amount = $1, memo = $2, start_on = $3, anchor = $4, next_on = $5, until_on = $6,
  max_runs = $7, stepup_amount = $8, stepup_at = $9, version = version + 1, updated_at = $10
  WHERE id = $11 AND customer_id = $12 AND version = $13 AND status = 'active'`,
		int64(o.Amount), o.Memo, dayMicros(o.Start), max(o.Anchor, 1), dayMicros(o.Next), dayMicros(o.Until), o.Count,
		int64(o.Authorized), dayMicros(o.AuthorizedAt), micros(ch.At), int64(o.ID), int64(o.Customer), o.Version)
	if err != nil {
		return scheduled.Order{}, s.db.Err(op, err, nil)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return scheduled.Order{}, s.db.Err(op, err, nil)
	}
	if n != 1 {
		tx.Rollback()
		cur, err := s.Order(ctx, o.Customer, o.ID)
		switch {
		case err != nil:
			return scheduled.Order{}, err
		case cur.Status != scheduled.Active:
			return scheduled.Order{}, scheduled.ErrEnded
		}
		return scheduled.Order{}, scheduled.ErrChanged
	}
	if _, err := tx.Exec(ctx, `INSERT INTO scheduled_changes (order_id, version, customer_id, actor, detail, changed_at) VALUES ($1,$2,$3,$4,$5,$6)`,
		int64(o.ID), o.Version+1, int64(o.Customer), ch.Actor, ch.Detail, micros(ch.At)); err != nil {
		if s.db.Unique(err) {
			return scheduled.Order{}, scheduled.ErrChanged
		}
		return scheduled.Order{}, s.db.Err(op, err, nil)
	}
	if err := tx.Commit(); err != nil {
		return scheduled.Order{}, s.db.Err(op, err, nil)
	}
	o.Version++
	return o, nil
}

// Changes implements scheduled.Store.
func (s *ScheduledStore) Changes(ctx context.Context, c bankbridge.CustomerID, id scheduled.OrderID, limit int) ([]scheduled.Change, error) {
	rows, err := s.db.R().Query(ctx, `SELECT order_id, version, customer_id, actor, detail, changed_at FROM scheduled_changes
  WHERE order_id = $1 AND customer_id = $2 ORDER BY version DESC LIMIT $3`, int64(id), int64(c), limit)
	if err != nil {
		return nil, s.db.Err("sqlstore.Scheduled.Changes", err, nil)
	}
	cs, err := Collect(rows, func(sc Scanner) (scheduled.Change, error) {
		var ch scheduled.Change
		var at int64
		err := sc.Scan(&ch.Order, &ch.Version, &ch.Customer, &ch.Actor, &ch.Detail, &at)
		ch.At = fromMicros(at)
		return ch, err
	})
	return cs, s.db.Err("sqlstore.Scheduled.Changes", err, nil)
}
