package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"time"

	"github.com/bankbridge/bankbridge/dataapi/records"
	"github.com/bankbridge/bankbridge/ledger"
)

// DataAPIStore implements records.Store: the data API's payments,
// notification subscriptions and outbox, and performance counters. Writes
// go through the writer; reads use the readers except
// where a write must be seen at once (payments by key).
type DataAPIStore struct{ db *DB }

var _ records.Store = (*DataAPIStore)(nil)

// DataAPI returns the data API's store of db.
func (s Stores) DataAPI() *DataAPIStore { return &DataAPIStore{db: s.db} }

const paymentCols = `id, partner, grant_id, customer, from_account, to_account, to_ref, amount, currency, memo, idem_key,
request_hash, status, needs_confirmation, reason, transfer_id, created, updated, confirm_by`

func scanPayment(r Scanner) (records.Payment, error) {
	var p records.Payment
	var hash []byte
	var created, updated, confirmBy int64
	err := r.Scan(&p.ID, &p.Partner, &p.Grant, &p.Customer, &p.From, &p.To, &p.ToRef, &p.Amount, &p.Currency, &p.Memo, &p.Key,
		&hash, &p.Status, &p.NeedsConfirmation, &p.Reason, &p.Transfer, &created, &updated, &confirmBy)
	if err != nil {
		return records.Payment{}, err
	}
	copy(p.Hash[:], hash)
	p.Created, p.Updated, p.ConfirmBy = fromMicros(created), fromMicros(updated), fromMicros(confirmBy)
	return p, nil
}

// CreatePayment implements records.Store.
func (s *DataAPIStore) CreatePayment(ctx context.Context, p records.Payment) (records.Payment, bool, error) {
	const op = "sqlstore.DataAPI.CreatePayment"
	res, err := s.db.W().Exec(ctx, `INSERT INTO dataapi_payments (`+paymentCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19)
ON CONFLICT (partner, idem_key) DO NOTHING`,
		p.ID, p.Partner, p.Grant, int64(p.Customer), int64(p.From), int64(p.To), p.ToRef, int64(p.Amount), string(p.Currency), p.Memo, p.Key,
		p.Hash[:], string(p.Status), p.NeedsConfirmation, p.Reason, int64(p.Transfer), micros(p.Created), micros(p.Updated), micros(p.ConfirmBy))
	if err != nil {
		return records.Payment{}, false, s.db.Err(op, err, nil)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return p, true, nil
	}
	got, err := scanPayment(s.db.W().QueryRow(ctx, `SELECT `+paymentCols+` FROM dataapi_payments WHERE partner = $1 AND idem_key = $2`, p.Partner, p.Key))
	if err != nil {
		return records.Payment{}, false, s.db.Err(op, err, nil)
	}
	return got, false, nil
}

// Payment implements records.Store.
func (s *DataAPIStore) Payment(ctx context.Context, id string) (records.Payment, error) {
	p, err := scanPayment(s.db.R().QueryRow(ctx, `SELECT `+paymentCols+` FROM dataapi_payments WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return records.Payment{}, records.ErrPaymentNotFound
	}
	return p, s.db.Err("sqlstore.DataAPI.Payment", err, nil)
}

// SetPaymentStatus implements records.Store.
func (s *DataAPIStore) SetPaymentStatus(ctx context.Context, id string, from, to records.PaymentStatus, transfer ledger.TransferID, reason string, at time.Time) (bool, error) {
	const op = "sqlstore.DataAPI.SetPaymentStatus"
	res, err := s.db.W().Exec(ctx, `UPDATE dataapi_payments SET status = $1, transfer_id = $2, reason = $3, updated = $4 WHERE id = $5 AND status = $6`,
		string(to), int64(transfer), reason, micros(at), id, string(from))
	if err != nil {
		return false, s.db.Err(op, err, nil)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	var one int
	if err := s.db.W().QueryRow(ctx, `SELECT 1 FROM dataapi_payments WHERE id = $1`, id).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return false, records.ErrPaymentNotFound
	} else if err != nil {
		return false, s.db.Err(op, err, nil)
	}
	return false, nil
}

// ExpiredPayments implements records.Store. true is spelled as each
// engine's partial index dataapi_payments_pending is, so that it applies.
func (s *DataAPIStore) ExpiredPayments(ctx context.Context, now time.Time, limit int) ([]records.Payment, error) {
	const op = "sqlstore.DataAPI.ExpiredPayments"
	rows, err := s.db.R().Query(ctx, `SELECT `+paymentCols+` FROM dataapi_payments
WHERE status = 'PENDING' AND needs_confirmation = `+s.db.d.types["true"]+` AND confirm_by <= $1 ORDER BY confirm_by LIMIT $2`, micros(now), limit)
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	defer rows.Close()
	var out []records.Payment
	for rows.Next() {
		p, err := scanPayment(rows)
		if err != nil {
			return nil, s.db.Err(op, err, nil)
		}
		out = append(out, p)
	}
	return out, s.db.Err(op, rows.Err(), nil)
}

// CreateSubscription implements records.Store.
func (s *DataAPIStore) CreateSubscription(ctx context.Context, sub records.Subscription) error {
	_, err := s.db.W().Exec(ctx, `INSERT INTO dataapi_subscriptions (id, partner, callback_url, secret, created) VALUES ($1,$2,$3,$4,$5)`,
		sub.ID, sub.Partner, sub.CallbackURL, sub.Secret, micros(sub.Created))
	return s.db.Err("sqlstore.DataAPI.CreateSubscription", err, nil)
}

func scanSubscription(r Scanner) (records.Subscription, error) {
	var sub records.Subscription
	var created int64
	if err := r.Scan(&sub.ID, &sub.Partner, &sub.CallbackURL, &sub.Secret, &created); err != nil {
		return records.Subscription{}, err
	}
	sub.Created = fromMicros(created)
	return sub, nil
}

// Subscriptions implements records.Store.
func (s *DataAPIStore) Subscriptions(ctx context.Context, partner string) ([]records.Subscription, error) {
	const op = "sqlstore.DataAPI.Subscriptions"
	rows, err := s.db.W().Query(ctx, `SELECT id, partner, callback_url, secret, created FROM dataapi_subscriptions WHERE partner = $1 ORDER BY created, id`, partner)
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	defer rows.Close()
	var out []records.Subscription
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			return nil, s.db.Err(op, err, nil)
		}
		out = append(out, sub)
	}
	return out, s.db.Err(op, rows.Err(), nil)
}

// Subscription implements records.Store.
func (s *DataAPIStore) Subscription(ctx context.Context, partner, id string) (records.Subscription, error) {
	sub, err := scanSubscription(s.db.W().QueryRow(ctx, `SELECT id, partner, callback_url, secret, created FROM dataapi_subscriptions WHERE partner = $1 AND id = $2`, partner, id))
	if errors.Is(err, sql.ErrNoRows) {
		return records.Subscription{}, records.ErrSubscriptionNotFound
	}
	return sub, s.db.Err("sqlstore.DataAPI.Subscription", err, nil)
}

// DeleteSubscription implements records.Store; the outbox rows go with it
// (ON DELETE CASCADE).
func (s *DataAPIStore) DeleteSubscription(ctx context.Context, partner, id string) error {
	res, err := s.db.W().Exec(ctx, `DELETE FROM dataapi_subscriptions WHERE partner = $1 AND id = $2`, partner, id)
	if err != nil {
		return s.db.Err("sqlstore.DataAPI.DeleteSubscription", err, nil)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return records.ErrSubscriptionNotFound
	}
	return nil
}

const notificationCols = `id, subscription, partner, type, body, status, attempts, next_at, last_error, created`

func scanNotification(r Scanner) (records.Notification, error) {
	var n records.Notification
	var next, created int64
	if err := r.Scan(&n.ID, &n.Subscription, &n.Partner, &n.Type, &n.Body, &n.Status, &n.Attempts, &next, &n.LastError, &created); err != nil {
		return records.Notification{}, err
	}
	n.Next, n.Created = fromMicros(next), fromMicros(created)
	return n, nil
}

// Enqueue implements records.Store.
func (s *DataAPIStore) Enqueue(ctx context.Context, ns []records.Notification) error {
	const op = "sqlstore.DataAPI.Enqueue"
	if len(ns) == 0 {
		return nil
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	defer tx.Rollback()
	for _, n := range ns {
		// An id already queued is the same event told again: kept once.
		if _, err := tx.Exec(ctx, `INSERT INTO dataapi_outbox (`+notificationCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (id) DO NOTHING`,
			n.ID, n.Subscription, n.Partner, n.Type, n.Body, string(n.Status), n.Attempts, micros(n.Next), n.LastError, micros(n.Created)); err != nil {
			return s.db.Err(op, err, nil)
		}
	}
	return s.db.Err(op, tx.Commit(), nil)
}

func (s *DataAPIStore) notifications(ctx context.Context, op, query string, args ...any) ([]records.Notification, error) {
	rows, err := s.db.W().Query(ctx, query, args...)
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	defer rows.Close()
	var out []records.Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, s.db.Err(op, err, nil)
		}
		out = append(out, n)
	}
	return out, s.db.Err(op, rows.Err(), nil)
}

// DueNotifications implements records.Store.
func (s *DataAPIStore) DueNotifications(ctx context.Context, now time.Time, limit int) ([]records.Notification, error) {
	return s.notifications(ctx, "sqlstore.DataAPI.DueNotifications", `SELECT `+notificationCols+` FROM dataapi_outbox
WHERE status = 'pending' AND next_at <= $1 ORDER BY next_at, created, id LIMIT $2`, micros(now), limit)
}

// Notifications implements records.Store.
func (s *DataAPIStore) Notifications(ctx context.Context, subscription string, limit int) ([]records.Notification, error) {
	return s.notifications(ctx, "sqlstore.DataAPI.Notifications", `SELECT `+notificationCols+` FROM dataapi_outbox
WHERE subscription = $1 ORDER BY created, id LIMIT $2`, subscription, limit)
}

// UpdateNotification implements records.Store.
func (s *DataAPIStore) UpdateNotification(ctx context.Context, n records.Notification) error {
	_, err := s.db.W().Exec(ctx, `UPDATE dataapi_outbox SET status = $1, attempts = $2, next_at = $3, last_error = $4 WHERE id = $5`,
		string(n.Status), n.Attempts, micros(n.Next), n.LastError, n.ID)
	return s.db.Err("sqlstore.DataAPI.UpdateNotification", err, nil)
}

// AddPerformance implements records.Store.
func (s *DataAPIStore) AddPerformance(ctx context.Context, ps []records.Performance) error {
	const op = "sqlstore.DataAPI.AddPerformance"
	if len(ps) == 0 {
		return nil
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	defer tx.Rollback()
	for _, p := range ps {
		if _, err := tx.Exec(ctx, `INSERT INTO dataapi_performance (month, partner, bucket, responses, proper) VALUES ($1,$2,$3,$4,$5)
ON CONFLICT (month, partner, bucket) DO UPDATE SET responses = dataapi_performance.responses + excluded.responses, proper = dataapi_performance.proper + excluded.proper`,
			p.Month, p.Partner, p.Bucket, p.Responses, p.Proper); err != nil {
			return s.db.Err(op, err, nil)
		}
	}
	return s.db.Err(op, tx.Commit(), nil)
}

// Performance implements records.Store.
func (s *DataAPIStore) Performance(ctx context.Context, since string) ([]records.Performance, error) {
	const op = "sqlstore.DataAPI.Performance"
	rows, err := s.db.R().Query(ctx, `SELECT month, partner, bucket, responses, proper FROM dataapi_performance
WHERE month >= $1 ORDER BY month, partner, bucket`, since)
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	defer rows.Close()
	var out []records.Performance
	for rows.Next() {
		var p records.Performance
		if err := rows.Scan(&p.Month, &p.Partner, &p.Bucket, &p.Responses, &p.Proper); err != nil {
			return nil, s.db.Err(op, err, nil)
		}
		out = append(out, p)
	}
	return out, s.db.Err(op, rows.Err(), nil)
}

// PrunePerformance implements records.Store.
func (s *DataAPIStore) PrunePerformance(ctx context.Context, before string) error {
	_, err := s.db.W().Exec(ctx, `DELETE FROM dataapi_performance WHERE month < $1`, before)
	return s.db.Err("sqlstore.DataAPI.PrunePerformance", err, nil)
}
