package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/jackc/pgx/v5"
)

// AlertsStore implements alerts.Store on PostgreSQL. Commit writes a batch
// with one statement per table over arrays (unnest); Claim uses FOR UPDATE
// SKIP LOCKED so dispatchers on several instances share the queue.
type AlertsStore struct{ db *DB }

var _ alerts.Store = (*AlertsStore)(nil)

// Alerts returns the alerts store of db.
func (db *DB) Alerts() *AlertsStore { return &AlertsStore{db: db} }

// Cursor implements alerts.Store.
func (s *AlertsStore) Cursor(ctx context.Context, name string) (ledger.EventSeq, error) {
	var seq int64
	err := s.db.pool.QueryRow(ctx, `SELECT seq FROM alert_cursors WHERE name = $1`, name).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return ledger.EventSeq(seq), mapErr("postgres.Alerts.Cursor", err, nil)
}

// Commit implements alerts.Store in one transaction, pipelined.
func (s *AlertsStore) Commit(ctx context.Context, name string, upto ledger.EventSeq, b alerts.Batch, now time.Time) error {
	const op = "postgres.Alerts.Commit"
	tx, err := s.db.pool.Begin(ctx)
	if err != nil {
		return mapErr(op, err, nil)
	}
	defer tx.Rollback(context.Background())
	batch := &pgx.Batch{}
	if n := len(b.Alerts); n > 0 {
		id, rule, cur, title, body := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		seq, cust, tid, acct, merch, amt, created := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		ask := make([]bool, n)
		for i, a := range b.Alerts {
			id[i], rule[i], cur[i], title[i], body[i] = string(a.ID), string(a.Rule), string(a.Currency), a.Title, a.Body
			seq[i], cust[i], tid[i], acct[i], merch[i], amt[i], created[i] = int64(a.Seq), int64(a.Customer), int64(a.Transfer), int64(a.Account), int64(a.Merchant), int64(a.Amount), micros(a.Created)
			ask[i] = a.Ask
		}
		batch.Queue(`INSERT INTO alerts (id, seq, customer_id, rule, transfer_id, account_id, merchant_id, amount, currency, title, body, ask, created_at)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::text[], $10::text[], $11::text[], $12::bool[], $13::bigint[])
ON CONFLICT (id) DO NOTHING`, id, seq, cust, rule, tid, acct, merch, amt, cur, title, body, ask, created)
	}
	if n := len(b.Deliveries); n > 0 {
		id, alert, ch, rule, title, body := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		cust, next, created := make([]int64, n), make([]int64, n), make([]int64, n)
		full, ask := make([]bool, n), make([]bool, n)
		for i, d := range b.Deliveries {
			id[i], alert[i], ch[i], rule[i], title[i], body[i] = d.ID, string(d.Alert), d.Channel, string(d.Rule), d.Title, d.Body
			cust[i], next[i], created[i], full[i], ask[i] = int64(d.Customer), micros(d.NextAt), micros(d.Created), d.Full, d.Ask
		}
		batch.Queue(`INSERT INTO alert_deliveries (id, alert_id, customer_id, channel, rule, full_text, title, body, ask, status, next_at, created_at)
SELECT v.id, v.alert_id, v.customer_id, v.channel, v.rule, v.full_text, v.title, v.body, v.ask, 'pending', v.next_at, v.created_at
FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bool[], $7::text[], $8::text[], $9::bool[], $10::bigint[], $11::bigint[])
  AS v(id, alert_id, customer_id, channel, rule, full_text, title, body, ask, next_at, created_at)
ON CONFLICT (id) DO NOTHING`, id, alert, cust, ch, rule, full, title, body, ask, next, created)
	}
	if len(b.Profiles) > 0 {
		var cust []int64
		var bodies []string
		for c, p := range b.Profiles {
			body, err := json.Marshal(p)
			if err != nil {
				return err
			}
			cust, bodies = append(cust, int64(c)), append(bodies, string(body))
		}
		batch.Queue(`INSERT INTO alert_profiles (customer_id, body, updated_at) SELECT c, b, $3 FROM unnest($1::bigint[], $2::text[]) AS v(c, b)
ON CONFLICT (customer_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`, cust, bodies, micros(now))
	}
	if upto > 0 {
		batch.Queue(`INSERT INTO alert_cursors (name, seq, updated_at) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET seq = greatest(alert_cursors.seq, excluded.seq), updated_at = excluded.updated_at`, name, int64(upto), micros(now))
	}
	if batch.Len() > 0 {
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return mapErr(op, err, nil)
		}
	}
	return mapErr(op, tx.Commit(ctx), nil)
}

func int64s(ids []bankbridge.CustomerID) []int64 {
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[i] = int64(id)
	}
	return out
}

// Profiles implements alerts.Store.
func (s *AlertsStore) Profiles(ctx context.Context, ids []bankbridge.CustomerID) (map[bankbridge.CustomerID]alerts.Profile, error) {
	const op = "postgres.Alerts.Profiles"
	rows, err := s.db.pool.Query(ctx, `SELECT customer_id, body FROM alert_profiles WHERE customer_id = ANY($1)`, int64s(ids))
	if err != nil {
		return nil, mapErr(op, err, nil)
	}
	defer rows.Close()
	out := map[bankbridge.CustomerID]alerts.Profile{}
	for rows.Next() {
		var c int64
		var body string
		var p alerts.Profile
		if err := rows.Scan(&c, &body); err != nil {
			return nil, mapErr(op, err, nil)
		}
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			return nil, err
		}
		out[bankbridge.CustomerID(c)] = p
	}
	return out, mapErr(op, rows.Err(), nil)
}

const settingsCols = `customer_id, privacy, large_debit, low_balance, card_purchases, deposits, payments, email, updated_at`

// Settings implements alerts.Store.
func (s *AlertsStore) Settings(ctx context.Context, ids []bankbridge.CustomerID) (map[bankbridge.CustomerID]alerts.Settings, error) {
	const op = "postgres.Alerts.Settings"
	rows, err := s.db.pool.Query(ctx, `SELECT `+settingsCols+` FROM alert_settings WHERE customer_id = ANY($1)`, int64s(ids))
	if err != nil {
		return nil, mapErr(op, err, nil)
	}
	defer rows.Close()
	out := map[bankbridge.CustomerID]alerts.Settings{}
	for rows.Next() {
		var st alerts.Settings
		var c, large, low, up int64
		var priv string
		if err := rows.Scan(&c, &priv, &large, &low, &st.CardPurchases, &st.Deposits, &st.Payments, &st.Email, &up); err != nil {
			return nil, mapErr(op, err, nil)
		}
		st.Customer, st.Privacy, st.LargeDebit, st.LowBalance, st.Updated = bankbridge.CustomerID(c), alerts.Privacy(priv), ledger.Amount(large), ledger.Amount(low), fromMicros(up)
		out[st.Customer] = st
	}
	return out, mapErr(op, rows.Err(), nil)
}

// SaveSettings implements alerts.Store.
func (s *AlertsStore) SaveSettings(ctx context.Context, st alerts.Settings) error {
	_, err := s.db.pool.Exec(ctx, `INSERT INTO alert_settings (`+settingsCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)
ON CONFLICT (customer_id) DO UPDATE SET privacy = excluded.privacy, large_debit = excluded.large_debit, low_balance = excluded.low_balance,
  card_purchases = excluded.card_purchases, deposits = excluded.deposits, payments = excluded.payments, email = excluded.email, updated_at = excluded.updated_at`,
		int64(st.Customer), string(st.Privacy), int64(st.LargeDebit), int64(st.LowBalance), st.CardPurchases, st.Deposits, st.Payments, st.Email, micros(st.Updated))
	return mapErr("postgres.Alerts.SaveSettings", err, nil)
}

// Trusted implements alerts.Store.
func (s *AlertsStore) Trusted(ctx context.Context, c bankbridge.CustomerID, m ledger.MerchantID) (bool, error) {
	var ok bool
	err := s.db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM alert_trusted WHERE customer_id = $1 AND merchant_id = $2)`, int64(c), int64(m)).Scan(&ok)
	return ok, mapErr("postgres.Alerts.Trusted", err, nil)
}

// Trust implements alerts.Store.
func (s *AlertsStore) Trust(ctx context.Context, c bankbridge.CustomerID, m ledger.MerchantID, at time.Time) error {
	_, err := s.db.pool.Exec(ctx, `INSERT INTO alert_trusted (customer_id, merchant_id, at) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING`, int64(c), int64(m), micros(at))
	return mapErr("postgres.Alerts.Trust", err, nil)
}

const deliveryCols = `id, alert_id, customer_id, channel, rule, full_text, title, body, ask, status, attempts, next_at, last_error, created_at, done_at`

func scanDelivery(r pgx.Row) (alerts.Delivery, error) {
	var d alerts.Delivery
	var alert, rule, status string
	var cust, attempts, next, created, done int64
	err := r.Scan(&d.ID, &alert, &cust, &d.Channel, &rule, &d.Full, &d.Title, &d.Body, &d.Ask, &status, &attempts, &next, &d.LastError, &created, &done)
	d.Alert, d.Customer, d.Rule, d.Status, d.Attempts = alerts.AlertID(alert), bankbridge.CustomerID(cust), alerts.Rule(rule), alerts.DeliveryStatus(status), int(attempts)
	d.NextAt, d.Created, d.Done = fromMicros(next), fromMicros(created), fromMicros(done)
	return d, err
}

func (s *AlertsStore) deliveries(ctx context.Context, op, q string, args ...any) ([]alerts.Delivery, error) {
	rows, err := s.db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, mapErr(op, err, nil)
	}
	ds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alerts.Delivery, error) { return scanDelivery(r) })
	return ds, mapErr(op, err, nil)
}

// Claim implements alerts.Store: SKIP LOCKED lets concurrent dispatchers
// take disjoint deliveries. The SQL is SQLite's, placeholders aside.
func (s *AlertsStore) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int, own []string, others time.Time) ([]alerts.Delivery, error) {
	// The channel list has one placeholder per name, after '' (no
	// delivery's channel) so that an instance with none still has a list.
	args := []any{micros(now.Add(lease)), micros(others), micros(now)}
	in := ""
	for _, c := range own {
		args = append(args, c)
		in += fmt.Sprintf(", $%d", len(args))
	}
	args = append(args, limit)
	return s.deliveries(ctx, "postgres.Alerts.Claim", `UPDATE alert_deliveries SET next_at = $1, attempts = attempts + 1
WHERE id IN (SELECT id FROM alert_deliveries WHERE status = 'pending' AND (next_at <= $2 OR (next_at <= $3 AND channel IN (''`+in+`)))
ORDER BY next_at LIMIT `+fmt.Sprintf("$%d", len(args))+` FOR UPDATE SKIP LOCKED)
RETURNING `+deliveryCols, args...)
}

// Delivered implements alerts.Store.
func (s *AlertsStore) Delivered(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.pool.Exec(ctx, `UPDATE alert_deliveries SET status = 'delivered', done_at = $1, last_error = '' WHERE id = $2`, micros(at), id)
	return mapErr("postgres.Alerts.Delivered", err, nil)
}

// Failed implements alerts.Store.
func (s *AlertsStore) Failed(ctx context.Context, id string, reason string, next time.Time, dead bool, at time.Time) error {
	status, done := "pending", int64(0)
	if dead {
		status, done = "dead", micros(at)
	}
	_, err := s.db.pool.Exec(ctx, `UPDATE alert_deliveries SET status = $1, next_at = $2, last_error = $3, done_at = $4 WHERE id = $5 AND status = 'pending'`,
		status, micros(next), reason, done, id)
	return mapErr("postgres.Alerts.Failed", err, nil)
}

// DeadLetters implements alerts.Store.
func (s *AlertsStore) DeadLetters(ctx context.Context, limit int) ([]alerts.Delivery, error) {
	return s.deliveries(ctx, "postgres.Alerts.DeadLetters", `SELECT `+deliveryCols+` FROM alert_deliveries WHERE status = 'dead' ORDER BY done_at DESC, id LIMIT $1`, limit)
}

// Requeue implements alerts.Store.
func (s *AlertsStore) Requeue(ctx context.Context, id string, at time.Time) error {
	tag, err := s.db.pool.Exec(ctx, `UPDATE alert_deliveries SET status = 'pending', attempts = 0, next_at = $1, done_at = 0 WHERE id = $2 AND status = 'dead'`, micros(at), id)
	if err != nil {
		return mapErr("postgres.Alerts.Requeue", err, nil)
	}
	if tag.RowsAffected() == 0 {
		return alerts.ErrDeliveryGone
	}
	return nil
}

// Deliveries implements alerts.Store.
func (s *AlertsStore) Deliveries(ctx context.Context, a alerts.AlertID) ([]alerts.Delivery, error) {
	return s.deliveries(ctx, "postgres.Alerts.Deliveries", `SELECT `+deliveryCols+` FROM alert_deliveries WHERE alert_id = $1 ORDER BY channel`, string(a))
}

const alertCols = `id, seq, customer_id, rule, transfer_id, account_id, merchant_id, amount, currency, title, body, ask, answer, answered_at, read_at, created_at`

func scanAlert(r pgx.Row) (alerts.Alert, error) {
	var a alerts.Alert
	var id, rule, cur, ans string
	var seq, cust, tid, acct, merch, amt, answered, read, created int64
	err := r.Scan(&id, &seq, &cust, &rule, &tid, &acct, &merch, &amt, &cur, &a.Title, &a.Body, &a.Ask, &ans, &answered, &read, &created)
	a.ID, a.Seq, a.Customer, a.Rule, a.Transfer = alerts.AlertID(id), ledger.EventSeq(seq), bankbridge.CustomerID(cust), alerts.Rule(rule), ledger.TransferID(tid)
	a.Account, a.Merchant, a.Amount, a.Currency, a.Answer = ledger.AccountID(acct), ledger.MerchantID(merch), ledger.Amount(amt), ledger.Currency(cur), alerts.Answer(ans)
	a.Answered, a.Read, a.Created = fromMicros(answered), fromMicros(read), fromMicros(created)
	return a, err
}

// Notifications implements alerts.Store.
func (s *AlertsStore) Notifications(ctx context.Context, c bankbridge.CustomerID, limit int) ([]alerts.Alert, int, error) {
	const op = "postgres.Alerts.Notifications"
	rows, err := s.db.pool.Query(ctx, `SELECT `+alertCols+` FROM alerts WHERE customer_id = $1 ORDER BY created_at DESC, seq DESC, rule LIMIT $2`, int64(c), limit)
	if err != nil {
		return nil, 0, mapErr(op, err, nil)
	}
	as, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alerts.Alert, error) { return scanAlert(r) })
	if err != nil {
		return nil, 0, mapErr(op, err, nil)
	}
	var unread int
	err = s.db.pool.QueryRow(ctx, `SELECT count(*) FROM alerts WHERE customer_id = $1 AND read_at = 0`, int64(c)).Scan(&unread)
	return as, unread, mapErr(op, err, nil)
}

// Alert implements alerts.Store.
func (s *AlertsStore) Alert(ctx context.Context, id alerts.AlertID) (alerts.Alert, error) {
	a, err := scanAlert(s.db.pool.QueryRow(ctx, `SELECT `+alertCols+` FROM alerts WHERE id = $1`, string(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		return a, alerts.ErrAlertNotFound
	}
	return a, mapErr("postgres.Alerts.Alert", err, nil)
}

// MarkRead implements alerts.Store.
func (s *AlertsStore) MarkRead(ctx context.Context, c bankbridge.CustomerID, at time.Time) error {
	_, err := s.db.pool.Exec(ctx, `UPDATE alerts SET read_at = $1 WHERE customer_id = $2 AND read_at = 0 AND created_at <= $1`, micros(at), int64(c))
	return mapErr("postgres.Alerts.MarkRead", err, nil)
}

// SetAnswer implements alerts.Store with one conditional UPDATE.
func (s *AlertsStore) SetAnswer(ctx context.Context, c bankbridge.CustomerID, id alerts.AlertID, ans alerts.Answer, at time.Time) (alerts.Alert, bool, error) {
	const op = "postgres.Alerts.SetAnswer"
	tag, err := s.db.pool.Exec(ctx, `UPDATE alerts SET answer = $1, answered_at = $2, read_at = CASE WHEN read_at = 0 THEN $2 ELSE read_at END
WHERE id = $3 AND customer_id = $4 AND ask AND answer = ''`, string(ans), micros(at), string(id), int64(c))
	if err != nil {
		return alerts.Alert{}, false, mapErr(op, err, nil)
	}
	a, err := scanAlert(s.db.pool.QueryRow(ctx, `SELECT `+alertCols+` FROM alerts WHERE id = $1`, string(id)))
	switch {
	case errors.Is(err, pgx.ErrNoRows) || err == nil && a.Customer != c:
		return alerts.Alert{}, false, alerts.ErrAlertNotFound
	case err != nil:
		return a, false, mapErr(op, err, nil)
	case tag.RowsAffected() == 1:
		return a, true, nil
	case !a.Ask:
		return a, false, alerts.ErrNotAsking
	case a.Answer != ans:
		return a, false, alerts.ErrAnswered
	}
	return a, false, nil
}

const caseCols = `id, alert_id, customer_id, card_id, transfer_id, merchant_id, amount, currency, status, note, opened_at, closed_at, closed_by`

func scanCase(r pgx.Row) (alerts.Case, error) {
	var k alerts.Case
	var id, cust, card, tid, merch, amt, o, c, by int64
	var alert, cur string
	err := r.Scan(&id, &alert, &cust, &card, &tid, &merch, &amt, &cur, &k.Status, &k.Note, &o, &c, &by)
	k.ID, k.Alert, k.Customer, k.Card, k.Transfer = alerts.CaseID(id), alerts.AlertID(alert), bankbridge.CustomerID(cust), ledger.CardID(card), ledger.TransferID(tid)
	k.Merchant, k.Amount, k.Currency, k.ClosedBy = ledger.MerchantID(merch), ledger.Amount(amt), ledger.Currency(cur), bankbridge.StaffID(by)
	k.Opened, k.Closed = fromMicros(o), fromMicros(c)
	return k, err
}

// OpenCase implements alerts.Store.
func (s *AlertsStore) OpenCase(ctx context.Context, k alerts.Case) (alerts.Case, error) {
	const op = "postgres.Alerts.OpenCase"
	if _, err := s.db.pool.Exec(ctx, `INSERT INTO fraud_cases (alert_id, customer_id, card_id, transfer_id, merchant_id, amount, currency, status, opened_at)
VALUES ($1,$2,$3,$4,$5,$6,$7,'open',$8) ON CONFLICT (alert_id) DO NOTHING`, string(k.Alert), int64(k.Customer), int64(k.Card), int64(k.Transfer), int64(k.Merchant), int64(k.Amount), string(k.Currency), micros(k.Opened)); err != nil {
		return k, mapErr(op, err, nil)
	}
	got, err := scanCase(s.db.pool.QueryRow(ctx, `SELECT `+caseCols+` FROM fraud_cases WHERE alert_id = $1`, string(k.Alert)))
	return got, mapErr(op, err, nil)
}

// Cases implements alerts.Store.
func (s *AlertsStore) Cases(ctx context.Context, status string, limit int) ([]alerts.Case, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT `+caseCols+` FROM fraud_cases WHERE ($1 = '' OR status = $1) ORDER BY opened_at DESC, id DESC LIMIT $2`, status, limit)
	if err != nil {
		return nil, mapErr("postgres.Alerts.Cases", err, nil)
	}
	ks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alerts.Case, error) { return scanCase(r) })
	return ks, mapErr("postgres.Alerts.Cases", err, nil)
}

// CloseCase implements alerts.Store.
func (s *AlertsStore) CloseCase(ctx context.Context, id alerts.CaseID, staff bankbridge.StaffID, note string, at time.Time) error {
	tag, err := s.db.pool.Exec(ctx, `UPDATE fraud_cases SET status = 'closed', note = $1, closed_at = $2, closed_by = $3 WHERE id = $4 AND status = 'open'`, note, micros(at), int64(staff), int64(id))
	if err != nil {
		return mapErr("postgres.Alerts.CloseCase", err, nil)
	}
	if tag.RowsAffected() == 0 {
		return alerts.ErrCaseNotFound
	}
	return nil
}
