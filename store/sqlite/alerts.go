package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/ledger"
)

// AlertsStore implements alerts.Store on SQLite. Writes go through the one
// writer connection; reads through the pool.
type AlertsStore struct{ db *DB }

var _ alerts.Store = (*AlertsStore)(nil)

// Alerts returns the alerts store of db.
func (db *DB) Alerts() *AlertsStore { return &AlertsStore{db: db} }

// Cursor implements alerts.Store.
func (s *AlertsStore) Cursor(ctx context.Context, name string) (ledger.EventSeq, error) {
	var seq ledger.EventSeq
	err := s.db.w.QueryRowContext(ctx, `SELECT seq FROM alert_cursors WHERE name = ?`, name).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, mapErr("sqlite.Alerts.Cursor", err, nil)
}

// Commit implements alerts.Store: multi-row inserts that skip existing ids,
// profile upserts and the cursor, in one transaction.
func (s *AlertsStore) Commit(ctx context.Context, name string, upto ledger.EventSeq, b alerts.Batch, now time.Time) error {
	const op = "sqlite.Alerts.Commit"
	tx, err := s.db.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(op, err, nil)
	}
	defer tx.Rollback()
	if len(b.Alerts) > 0 {
		rows := make([][]any, len(b.Alerts))
		for i, a := range b.Alerts {
			rows[i] = []any{string(a.ID), a.Seq, a.Customer, string(a.Rule), a.Transfer, a.Account, a.Merchant, a.Amount, string(a.Currency),
				a.Title, a.Body, a.Ask, micros(a.Created)}
		}
		if _, err := insertRows(ctx, tx, `INSERT INTO alerts (id, seq, customer_id, rule, transfer_id, account_id, merchant_id, amount, currency, title, body, ask, created_at) VALUES `,
			` ON CONFLICT (id) DO NOTHING`, rows); err != nil {
			return mapErr(op, err, nil)
		}
	}
	if len(b.Deliveries) > 0 {
		rows := make([][]any, len(b.Deliveries))
		for i, d := range b.Deliveries {
			rows[i] = []any{d.ID, string(d.Alert), d.Customer, d.Channel, string(d.Rule), d.Full, d.Title, d.Body, d.Ask, "pending", micros(d.NextAt), micros(d.Created)}
		}
		if _, err := insertRows(ctx, tx, `INSERT INTO alert_deliveries (id, alert_id, customer_id, channel, rule, full_text, title, body, ask, status, next_at, created_at) VALUES `,
			` ON CONFLICT (id) DO NOTHING`, rows); err != nil {
			return mapErr(op, err, nil)
		}
	}
	if len(b.Profiles) > 0 {
		rows := make([][]any, 0, len(b.Profiles))
		for c, p := range b.Profiles {
			body, err := json.Marshal(p)
			if err != nil {
				return err
			}
			rows = append(rows, []any{c, string(body), micros(now)})
		}
		if _, err := insertRows(ctx, tx, `INSERT INTO alert_profiles (customer_id, body, updated_at) VALUES `,
			` ON CONFLICT (customer_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`, rows); err != nil {
			return mapErr(op, err, nil)
		}
	}
	if upto > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_cursors (name, seq, updated_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET seq = max(seq, excluded.seq), updated_at = excluded.updated_at`, name, upto, micros(now)); err != nil {
			return mapErr(op, err, nil)
		}
	}
	return mapErr(op, tx.Commit(), nil)
}

// in returns "?,?,?" for n values and the values as []any.
func in[T any](ids []T) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return strings.TrimSuffix(strings.Repeat("?,", len(ids)), ","), args
}

// Profiles implements alerts.Store.
func (s *AlertsStore) Profiles(ctx context.Context, ids []bankbridge.CustomerID) (map[bankbridge.CustomerID]alerts.Profile, error) {
	const op = "sqlite.Alerts.Profiles"
	out := map[bankbridge.CustomerID]alerts.Profile{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		q, args := in(chunk)
		rows, err := s.db.r.QueryContext(ctx, `SELECT customer_id, body FROM alert_profiles WHERE customer_id IN (`+q+`)`, args...)
		if err != nil {
			return nil, mapErr(op, err, nil)
		}
		for rows.Next() {
			var c bankbridge.CustomerID
			var body string
			var p alerts.Profile
			if err := rows.Scan(&c, &body); err != nil {
				rows.Close()
				return nil, mapErr(op, err, nil)
			}
			if err := json.Unmarshal([]byte(body), &p); err != nil {
				rows.Close()
				return nil, err
			}
			out[c] = p
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, mapErr(op, err, nil)
		}
	}
	return out, nil
}

const settingsCols = `customer_id, privacy, large_debit, low_balance, card_purchases, deposits, payments, email, updated_at`

// Settings implements alerts.Store.
func (s *AlertsStore) Settings(ctx context.Context, ids []bankbridge.CustomerID) (map[bankbridge.CustomerID]alerts.Settings, error) {
	const op = "sqlite.Alerts.Settings"
	out := map[bankbridge.CustomerID]alerts.Settings{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		q, args := in(chunk)
		rows, err := s.db.r.QueryContext(ctx, `SELECT `+settingsCols+` FROM alert_settings WHERE customer_id IN (`+q+`)`, args...)
		if err != nil {
			return nil, mapErr(op, err, nil)
		}
		for rows.Next() {
			var st alerts.Settings
			var up int64
			if err := rows.Scan(&st.Customer, &st.Privacy, &st.LargeDebit, &st.LowBalance, &st.CardPurchases, &st.Deposits, &st.Payments, &st.Email, &up); err != nil {
				rows.Close()
				return nil, mapErr(op, err, nil)
			}
			st.Updated = fromMicros(up)
			out[st.Customer] = st
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, mapErr(op, err, nil)
		}
	}
	return out, nil
}

// SaveSettings implements alerts.Store.
func (s *AlertsStore) SaveSettings(ctx context.Context, st alerts.Settings) error {
	_, err := s.db.w.ExecContext(ctx, `INSERT INTO alert_settings (`+settingsCols+`) VALUES (?,?,?,?,?,?,?,?,?)
ON CONFLICT (customer_id) DO UPDATE SET privacy = excluded.privacy, large_debit = excluded.large_debit, low_balance = excluded.low_balance,
  card_purchases = excluded.card_purchases, deposits = excluded.deposits, payments = excluded.payments, email = excluded.email, updated_at = excluded.updated_at`,
		st.Customer, string(st.Privacy), st.LargeDebit, st.LowBalance, st.CardPurchases, st.Deposits, st.Payments, st.Email, micros(st.Updated))
	return mapErr("sqlite.Alerts.SaveSettings", err, nil)
}

// Trusted implements alerts.Store.
func (s *AlertsStore) Trusted(ctx context.Context, c bankbridge.CustomerID, m ledger.MerchantID) (bool, error) {
	var one int
	err := s.db.r.QueryRowContext(ctx, `SELECT 1 FROM alert_trusted WHERE customer_id = ? AND merchant_id = ?`, c, m).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, mapErr("sqlite.Alerts.Trusted", err, nil)
}

// Trust implements alerts.Store.
func (s *AlertsStore) Trust(ctx context.Context, c bankbridge.CustomerID, m ledger.MerchantID, at time.Time) error {
	_, err := s.db.w.ExecContext(ctx, `INSERT INTO alert_trusted (customer_id, merchant_id, at) VALUES (?,?,?) ON CONFLICT DO NOTHING`, c, m, micros(at))
	return mapErr("sqlite.Alerts.Trust", err, nil)
}

const deliveryCols = `id, alert_id, customer_id, channel, rule, full_text, title, body, ask, status, attempts, next_at, last_error, created_at, done_at`

func scanDelivery(r scanner) (alerts.Delivery, error) {
	var d alerts.Delivery
	var next, created, done int64
	err := r.Scan(&d.ID, &d.Alert, &d.Customer, &d.Channel, &d.Rule, &d.Full, &d.Title, &d.Body, &d.Ask, &d.Status, &d.Attempts, &next, &d.LastError, &created, &done)
	d.NextAt, d.Created, d.Done = fromMicros(next), fromMicros(created), fromMicros(done)
	return d, err
}

// Claim implements alerts.Store. The one writer serialises claims. The
// SQL is PostgreSQL's, placeholders aside.
func (s *AlertsStore) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int, own []string, others time.Time) ([]alerts.Delivery, error) {
	// The channel list has one placeholder per name, after '' (no
	// delivery's channel) so that an instance with none still has a list.
	args := []any{micros(now.Add(lease)), micros(others), micros(now)}
	in := ""
	for _, c := range own {
		args = append(args, c)
		in += ", ?"
	}
	args = append(args, limit)
	rows, err := s.db.w.QueryContext(ctx, `UPDATE alert_deliveries SET next_at = ?, attempts = attempts + 1
WHERE id IN (SELECT id FROM alert_deliveries WHERE status = 'pending' AND (next_at <= ? OR (next_at <= ? AND channel IN (''`+in+`)))
ORDER BY next_at LIMIT ?)
RETURNING `+deliveryCols, args...)
	if err != nil {
		return nil, mapErr("sqlite.Alerts.Claim", err, nil)
	}
	ds, err := collect(rows, scanDelivery)
	return ds, mapErr("sqlite.Alerts.Claim", err, nil)
}

// Delivered implements alerts.Store.
func (s *AlertsStore) Delivered(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.w.ExecContext(ctx, `UPDATE alert_deliveries SET status = 'delivered', done_at = ?, last_error = '' WHERE id = ?`, micros(at), id)
	return mapErr("sqlite.Alerts.Delivered", err, nil)
}

// Failed implements alerts.Store. A delivery already delivered (another
// dispatcher finished it after our lease ran out) stays delivered.
func (s *AlertsStore) Failed(ctx context.Context, id string, reason string, next time.Time, dead bool, at time.Time) error {
	status, done := "pending", int64(0)
	if dead {
		status, done = "dead", micros(at)
	}
	_, err := s.db.w.ExecContext(ctx, `UPDATE alert_deliveries SET status = ?, next_at = ?, last_error = ?, done_at = ? WHERE id = ? AND status = 'pending'`,
		status, micros(next), reason, done, id)
	return mapErr("sqlite.Alerts.Failed", err, nil)
}

// DeadLetters implements alerts.Store.
func (s *AlertsStore) DeadLetters(ctx context.Context, limit int) ([]alerts.Delivery, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT `+deliveryCols+` FROM alert_deliveries WHERE status = 'dead' ORDER BY done_at DESC, id LIMIT ?`, limit)
	if err != nil {
		return nil, mapErr("sqlite.Alerts.DeadLetters", err, nil)
	}
	ds, err := collect(rows, scanDelivery)
	return ds, mapErr("sqlite.Alerts.DeadLetters", err, nil)
}

// Requeue implements alerts.Store.
func (s *AlertsStore) Requeue(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.w.ExecContext(ctx, `UPDATE alert_deliveries SET status = 'pending', attempts = 0, next_at = ?, done_at = 0 WHERE id = ? AND status = 'dead'`, micros(at), id)
	if err != nil {
		return mapErr("sqlite.Alerts.Requeue", err, nil)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return alerts.ErrDeliveryGone
	}
	return nil
}

// Deliveries implements alerts.Store.
func (s *AlertsStore) Deliveries(ctx context.Context, a alerts.AlertID) ([]alerts.Delivery, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT `+deliveryCols+` FROM alert_deliveries WHERE alert_id = ? ORDER BY channel`, string(a))
	if err != nil {
		return nil, mapErr("sqlite.Alerts.Deliveries", err, nil)
	}
	ds, err := collect(rows, scanDelivery)
	return ds, mapErr("sqlite.Alerts.Deliveries", err, nil)
}

const alertCols = `id, seq, customer_id, rule, transfer_id, account_id, merchant_id, amount, currency, title, body, ask, answer, answered_at, read_at, created_at`

func scanAlert(r scanner) (alerts.Alert, error) {
	var a alerts.Alert
	var ans, read, created int64
	err := r.Scan(&a.ID, &a.Seq, &a.Customer, &a.Rule, &a.Transfer, &a.Account, &a.Merchant, &a.Amount, &a.Currency, &a.Title, &a.Body, &a.Ask, &a.Answer, &ans, &read, &created)
	a.Answered, a.Read, a.Created = fromMicros(ans), fromMicros(read), fromMicros(created)
	return a, err
}

// Notifications implements alerts.Store.
func (s *AlertsStore) Notifications(ctx context.Context, c bankbridge.CustomerID, limit int) ([]alerts.Alert, int, error) {
	const op = "sqlite.Alerts.Notifications"
	rows, err := s.db.r.QueryContext(ctx, `SELECT `+alertCols+` FROM alerts WHERE customer_id = ? ORDER BY created_at DESC, seq DESC, rule LIMIT ?`, c, limit)
	if err != nil {
		return nil, 0, mapErr(op, err, nil)
	}
	as, err := collect(rows, scanAlert)
	if err != nil {
		return nil, 0, mapErr(op, err, nil)
	}
	var unread int
	err = s.db.r.QueryRowContext(ctx, `SELECT count(*) FROM alerts WHERE customer_id = ? AND read_at = 0`, c).Scan(&unread)
	return as, unread, mapErr(op, err, nil)
}

// Alert implements alerts.Store.
func (s *AlertsStore) Alert(ctx context.Context, id alerts.AlertID) (alerts.Alert, error) {
	a, err := scanAlert(s.db.r.QueryRowContext(ctx, `SELECT `+alertCols+` FROM alerts WHERE id = ?`, string(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return a, alerts.ErrAlertNotFound
	}
	return a, mapErr("sqlite.Alerts.Alert", err, nil)
}

// MarkRead implements alerts.Store.
func (s *AlertsStore) MarkRead(ctx context.Context, c bankbridge.CustomerID, at time.Time) error {
	_, err := s.db.w.ExecContext(ctx, `UPDATE alerts SET read_at = ? WHERE customer_id = ? AND read_at = 0 AND created_at <= ?`, micros(at), c, micros(at))
	return mapErr("sqlite.Alerts.MarkRead", err, nil)
}

// SetAnswer implements alerts.Store with one conditional UPDATE: only an
// unanswered asking alert of the customer changes.
func (s *AlertsStore) SetAnswer(ctx context.Context, c bankbridge.CustomerID, id alerts.AlertID, ans alerts.Answer, at time.Time) (alerts.Alert, bool, error) {
	const op = "sqlite.Alerts.SetAnswer"
	res, err := s.db.w.ExecContext(ctx, `UPDATE alerts SET answer = ?, answered_at = ?, read_at = CASE WHEN read_at = 0 THEN ? ELSE read_at END
WHERE id = ? AND customer_id = ? AND ask AND answer = ''`, string(ans), micros(at), micros(at), string(id), c)
	if err != nil {
		return alerts.Alert{}, false, mapErr(op, err, nil)
	}
	n, _ := res.RowsAffected()
	a, err := scanAlert(s.db.w.QueryRowContext(ctx, `SELECT `+alertCols+` FROM alerts WHERE id = ?`, string(id)))
	switch {
	case errors.Is(err, sql.ErrNoRows) || err == nil && a.Customer != c:
		return alerts.Alert{}, false, alerts.ErrAlertNotFound
	case err != nil:
		return a, false, mapErr(op, err, nil)
	case n == 1:
		return a, true, nil
	case !a.Ask:
		return a, false, alerts.ErrNotAsking
	case a.Answer != ans:
		return a, false, alerts.ErrAnswered
	}
	return a, false, nil
}

const caseCols = `id, alert_id, customer_id, card_id, transfer_id, merchant_id, amount, currency, status, note, opened_at, closed_at, closed_by`

func scanCase(r scanner) (alerts.Case, error) {
	var k alerts.Case
	var o, c int64
	err := r.Scan(&k.ID, &k.Alert, &k.Customer, &k.Card, &k.Transfer, &k.Merchant, &k.Amount, &k.Currency, &k.Status, &k.Note, &o, &c, &k.ClosedBy)
	k.Opened, k.Closed = fromMicros(o), fromMicros(c)
	return k, err
}

// OpenCase implements alerts.Store.
func (s *AlertsStore) OpenCase(ctx context.Context, k alerts.Case) (alerts.Case, error) {
	const op = "sqlite.Alerts.OpenCase"
	if _, err := s.db.w.ExecContext(ctx, `INSERT INTO fraud_cases (alert_id, customer_id, card_id, transfer_id, merchant_id, amount, currency, status, opened_at)
VALUES (?,?,?,?,?,?,?,'open',?) ON CONFLICT (alert_id) DO NOTHING`, string(k.Alert), k.Customer, k.Card, k.Transfer, k.Merchant, k.Amount, string(k.Currency), micros(k.Opened)); err != nil {
		return k, mapErr(op, err, nil)
	}
	got, err := scanCase(s.db.w.QueryRowContext(ctx, `SELECT `+caseCols+` FROM fraud_cases WHERE alert_id = ?`, string(k.Alert)))
	return got, mapErr(op, err, nil)
}

// Cases implements alerts.Store.
func (s *AlertsStore) Cases(ctx context.Context, status string, limit int) ([]alerts.Case, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT `+caseCols+` FROM fraud_cases WHERE (? = '' OR status = ?) ORDER BY opened_at DESC, id DESC LIMIT ?`, status, status, limit)
	if err != nil {
		return nil, mapErr("sqlite.Alerts.Cases", err, nil)
	}
	ks, err := collect(rows, scanCase)
	return ks, mapErr("sqlite.Alerts.Cases", err, nil)
}

// CloseCase implements alerts.Store.
func (s *AlertsStore) CloseCase(ctx context.Context, id alerts.CaseID, staff bankbridge.StaffID, note string, at time.Time) error {
	res, err := s.db.w.ExecContext(ctx, `UPDATE fraud_cases SET status = 'closed', note = ?, closed_at = ?, closed_by = ? WHERE id = ? AND status = 'open'`, note, micros(at), staff, id)
	if err != nil {
		return mapErr("sqlite.Alerts.CloseCase", err, nil)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return alerts.ErrCaseNotFound
	}
	return nil
}
