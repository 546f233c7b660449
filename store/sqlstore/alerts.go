package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/ledger"
)

// AlertsStore implements alerts.Store: alerts, their deliveries (an outbox
// claimed by dispatchers), profiles, settings, trusted merchants and fraud
// cases. Commit writes a batch with multi-row inserts in one transaction.
type AlertsStore struct{ db *DB }

var _ alerts.Store = (*AlertsStore)(nil)

// Alerts returns the alerts store of db.
func (s Stores) Alerts() *AlertsStore { return &AlertsStore{db: s.db} }

// Cursor implements alerts.Store.
func (s *AlertsStore) Cursor(ctx context.Context, name string) (ledger.EventSeq, error) {
	var seq ledger.EventSeq
	err := s.db.W().QueryRow(ctx, `SELECT seq FROM alert_cursors WHERE name = $1`, name).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, s.db.Err("sqlstore.Alerts.Cursor", err, nil)
}

// Commit implements alerts.Store: multi-row inserts that skip existing ids,
// profile upserts and the cursor, in one transaction.
func (s *AlertsStore) Commit(ctx context.Context, name string, upto ledger.EventSeq, b alerts.Batch, now time.Time) error {
	const op = "sqlstore.Alerts.Commit"
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	defer tx.Rollback()
	if len(b.Alerts) > 0 {
		rows := make([][]any, len(b.Alerts))
		for i, a := range b.Alerts {
			rows[i] = []any{string(a.ID), a.Seq, a.Customer, string(a.Rule), a.Transfer, a.Account, a.Merchant, a.Amount, string(a.Currency),
				a.Title, a.Body, a.Ask, micros(a.Created), a.Facts.Encode()}
		}
		if _, err := s.db.InsertRows(ctx, tx, `INSERT INTO alerts (id, seq, customer_id, rule, transfer_id, account_id, merchant_id, amount, currency, title, body, ask, created_at, facts)`,
			` ON CONFLICT (id) DO NOTHING`, rows); err != nil {
			return s.db.Err(op, err, nil)
		}
	}
	if len(b.Deliveries) > 0 {
		rows := make([][]any, len(b.Deliveries))
		for i, d := range b.Deliveries {
			rows[i] = []any{d.ID, string(d.Alert), d.Customer, d.Channel, string(d.Rule), d.Full, d.Title, d.Body, d.Ask, "pending", micros(d.NextAt), micros(d.Created)}
		}
		if _, err := s.db.InsertRows(ctx, tx, `INSERT INTO alert_deliveries (id, alert_id, customer_id, channel, rule, full_text, title, body, ask, status, next_at, created_at)`,
			` ON CONFLICT (id) DO NOTHING`, rows); err != nil {
			return s.db.Err(op, err, nil)
		}
	}
	if len(b.Profiles) > 0 {
		// Upsert in customer order: instances committing batches that share
		// customers then lock their rows in one order and cannot deadlock
		// (a map's order, as before, did: 40P01 between the fleet's alert
		// consumers at start-up).
		customers := slices.Sorted(maps.Keys(b.Profiles))
		rows := make([][]any, 0, len(b.Profiles))
		for _, c := range customers {
			p := b.Profiles[c]
			body, err := json.Marshal(p)
			if err != nil {
				return err
			}
			rows = append(rows, []any{c, string(body), micros(now)})
		}
		if _, err := s.db.InsertRows(ctx, tx, `INSERT INTO alert_profiles (customer_id, body, updated_at)`,
			` ON CONFLICT (customer_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`, rows); err != nil {
			return s.db.Err(op, err, nil)
		}
	}
	if upto > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO alert_cursors (name, seq, updated_at) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET seq = CASE WHEN excluded.seq > alert_cursors.seq THEN excluded.seq ELSE alert_cursors.seq END, updated_at = excluded.updated_at`, name, upto, micros(now)); err != nil {
			return s.db.Err(op, err, nil)
		}
	}
	return s.db.Err(op, tx.Commit(), nil)
}

// Profiles implements alerts.Store.
func (s *AlertsStore) Profiles(ctx context.Context, ids []bankbridge.CustomerID) (map[bankbridge.CustomerID]alerts.Profile, error) {
	const op = "sqlstore.Alerts.Profiles"
	out := map[bankbridge.CustomerID]alerts.Profile{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		q, args := In(1, chunk)
		rows, err := s.db.R().Query(ctx, `SELECT customer_id, body FROM alert_profiles WHERE customer_id IN (`+q+`)`, args...)
		if err != nil {
			return nil, s.db.Err(op, err, nil)
		}
		for rows.Next() {
			var c bankbridge.CustomerID
			var body string
			var p alerts.Profile
			if err := rows.Scan(&c, &body); err != nil {
				rows.Close()
				return nil, s.db.Err(op, err, nil)
			}
			if err := json.Unmarshal([]byte(body), &p); err != nil {
				rows.Close()
				return nil, err
			}
			out[c] = p
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, s.db.Err(op, err, nil)
		}
	}
	return out, nil
}

const settingsCols = `customer_id, privacy, large_debit, low_balance, card_purchases, deposits, payments, email, updated_at`

// Settings implements alerts.Store.
func (s *AlertsStore) Settings(ctx context.Context, ids []bankbridge.CustomerID) (map[bankbridge.CustomerID]alerts.Settings, error) {
	const op = "sqlstore.Alerts.Settings"
	out := map[bankbridge.CustomerID]alerts.Settings{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		q, args := In(1, chunk)
		rows, err := s.db.R().Query(ctx, `SELECT `+settingsCols+` FROM alert_settings WHERE customer_id IN (`+q+`)`, args...)
		if err != nil {
			return nil, s.db.Err(op, err, nil)
		}
		for rows.Next() {
			var st alerts.Settings
			var up int64
			if err := rows.Scan(&st.Customer, &st.Privacy, &st.LargeDebit, &st.LowBalance, &st.CardPurchases, &st.Deposits, &st.Payments, &st.Email, &up); err != nil {
				rows.Close()
				return nil, s.db.Err(op, err, nil)
			}
			st.Updated = fromMicros(up)
			out[st.Customer] = st
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, s.db.Err(op, err, nil)
		}
	}
	return out, nil
}

// SaveSettings implements alerts.Store.
func (s *AlertsStore) SaveSettings(ctx context.Context, st alerts.Settings) error {
	_, err := s.db.W().Exec(ctx, `INSERT INTO alert_settings (`+settingsCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)
ON CONFLICT (customer_id) DO UPDATE SET privacy = excluded.privacy, large_debit = excluded.large_debit, low_balance = excluded.low_balance,
  card_purchases = excluded.card_purchases, deposits = excluded.deposits, payments = excluded.payments, email = excluded.email, updated_at = excluded.updated_at`,
		st.Customer, string(st.Privacy), st.LargeDebit, st.LowBalance, st.CardPurchases, st.Deposits, st.Payments, st.Email, micros(st.Updated))
	return s.db.Err("sqlstore.Alerts.SaveSettings", err, nil)
}

// Trusted implements alerts.Store.
func (s *AlertsStore) Trusted(ctx context.Context, c bankbridge.CustomerID, m ledger.MerchantID) (bool, error) {
	var one int
	err := s.db.R().QueryRow(ctx, `SELECT 1 FROM alert_trusted WHERE customer_id = $1 AND merchant_id = $2`, c, m).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, s.db.Err("sqlstore.Alerts.Trusted", err, nil)
}

// Trust implements alerts.Store.
func (s *AlertsStore) Trust(ctx context.Context, c bankbridge.CustomerID, m ledger.MerchantID, at time.Time) error {
	_, err := s.db.W().Exec(ctx, `INSERT INTO alert_trusted (customer_id, merchant_id, at) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING`, c, m, micros(at))
	return s.db.Err("sqlstore.Alerts.Trust", err, nil)
}

const deliveryCols = `id, alert_id, customer_id, channel, rule, full_text, title, body, ask, status, attempts, next_at, last_error, created_at, done_at`

func scanDelivery(r Scanner) (alerts.Delivery, error) {
	var d alerts.Delivery
	var next, created, done int64
	err := r.Scan(&d.ID, &d.Alert, &d.Customer, &d.Channel, &d.Rule, &d.Full, &d.Title, &d.Body, &d.Ask, &d.Status, &d.Attempts, &next, &d.LastError, &created, &done)
	d.NextAt, d.Created, d.Done = fromMicros(next), fromMicros(created), fromMicros(done)
	return d, err
}

// Claim implements alerts.Store: on PostgreSQL SKIP LOCKED lets
// dispatchers on several instances take disjoint deliveries; on SQLite the
// one writer serialises claims. Deliveries on a channel this instance can
// deliver (own) are taken once due (now); the others only if they were due
// before others, the cut-off past which the instances that can deliver
// them should have.
func (s *AlertsStore) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int, own []string, others time.Time) ([]alerts.Delivery, error) {
	// The channel list has one placeholder per name, after '' (no
	// delivery's channel) so that an instance with none still has a list.
	args := []any{micros(now.Add(lease)), micros(others), micros(now)}
	var in strings.Builder
	for _, c := range own {
		args = append(args, c)
		fmt.Fprintf(&in, ", $%d", len(args))
	}
	args = append(args, limit)
	rows, err := s.db.W().Query(ctx, `UPDATE alert_deliveries SET next_at = $1, attempts = attempts + 1
WHERE id IN (SELECT id FROM alert_deliveries WHERE status = 'pending' AND (next_at <= $2 OR (next_at <= $3 AND channel IN (''`+in.String()+`)))
ORDER BY next_at LIMIT `+fmt.Sprintf("$%d", len(args))+s.db.ClaimLock()+`)
RETURNING `+deliveryCols, args...)
	if err != nil {
		return nil, s.db.Err("sqlstore.Alerts.Claim", err, nil)
	}
	ds, err := Collect(rows, scanDelivery)
	return ds, s.db.Err("sqlstore.Alerts.Claim", err, nil)
}

// Delivered implements alerts.Store.
func (s *AlertsStore) Delivered(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.W().Exec(ctx, `UPDATE alert_deliveries SET status = 'delivered', done_at = $1, last_error = '' WHERE id = $2`, micros(at), id)
	return s.db.Err("sqlstore.Alerts.Delivered", err, nil)
}

// Failed implements alerts.Store. A delivery already delivered (another
// dispatcher finished it after our lease ran out) stays delivered.
func (s *AlertsStore) Failed(ctx context.Context, id string, reason string, next time.Time, dead bool, at time.Time) error {
	status, done := "pending", int64(0)
	if dead {
		status, done = "dead", micros(at)
	}
	_, err := s.db.W().Exec(ctx, `UPDATE alert_deliveries SET status = $1, next_at = $2, last_error = $3, done_at = $4 WHERE id = $5 AND status = 'pending'`,
		status, micros(next), reason, done, id)
	return s.db.Err("sqlstore.Alerts.Failed", err, nil)
}

// DeadLetters implements alerts.Store.
func (s *AlertsStore) DeadLetters(ctx context.Context, limit int) ([]alerts.Delivery, error) {
	rows, err := s.db.R().Query(ctx, `SELECT `+deliveryCols+` FROM alert_deliveries WHERE status = 'dead' ORDER BY done_at DESC, id LIMIT $1`, limit)
	if err != nil {
		return nil, s.db.Err("sqlstore.Alerts.DeadLetters", err, nil)
	}
	ds, err := Collect(rows, scanDelivery)
	return ds, s.db.Err("sqlstore.Alerts.DeadLetters", err, nil)
}

// Requeue implements alerts.Store.
func (s *AlertsStore) Requeue(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.W().Exec(ctx, `UPDATE alert_deliveries SET status = 'pending', attempts = 0, next_at = $1, done_at = 0 WHERE id = $2 AND status = 'dead'`, micros(at), id)
	if err != nil {
		return s.db.Err("sqlstore.Alerts.Requeue", err, nil)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return alerts.ErrDeliveryGone
	}
	return nil
}

// Deliveries implements alerts.Store.
func (s *AlertsStore) Deliveries(ctx context.Context, a alerts.AlertID) ([]alerts.Delivery, error) {
	rows, err := s.db.R().Query(ctx, `SELECT `+deliveryCols+` FROM alert_deliveries WHERE alert_id = $1 ORDER BY channel`, string(a))
	if err != nil {
		return nil, s.db.Err("sqlstore.Alerts.Deliveries", err, nil)
	}
	ds, err := Collect(rows, scanDelivery)
	return ds, s.db.Err("sqlstore.Alerts.Deliveries", err, nil)
}

const alertCols = `id, seq, customer_id, rule, transfer_id, account_id, merchant_id, amount, currency, title, body, ask, answer, answered_at, read_at, created_at, facts`

func scanAlert(r Scanner) (alerts.Alert, error) {
	var a alerts.Alert
	var ans, read, created int64
	var facts string
	err := r.Scan(&a.ID, &a.Seq, &a.Customer, &a.Rule, &a.Transfer, &a.Account, &a.Merchant, &a.Amount, &a.Currency, &a.Title, &a.Body, &a.Ask, &a.Answer, &ans, &read, &created, &facts)
	a.Answered, a.Read, a.Created = fromMicros(ans), fromMicros(read), fromMicros(created)
	a.Facts = alerts.DecodeFacts(facts)
	return a, err
}

// Notifications implements alerts.Store.
func (s *AlertsStore) Notifications(ctx context.Context, c bankbridge.CustomerID, limit int) ([]alerts.Alert, int, error) {
	const op = "sqlstore.Alerts.Notifications"
	rows, err := s.db.R().Query(ctx, `SELECT `+alertCols+` FROM alerts WHERE customer_id = $1 ORDER BY created_at DESC, seq DESC, rule LIMIT $2`, c, limit)
	if err != nil {
		return nil, 0, s.db.Err(op, err, nil)
	}
	as, err := Collect(rows, scanAlert)
	if err != nil {
		return nil, 0, s.db.Err(op, err, nil)
	}
	var unread int
	err = s.db.R().QueryRow(ctx, `SELECT count(*) FROM alerts WHERE customer_id = $1 AND read_at = 0`, c).Scan(&unread)
	return as, unread, s.db.Err(op, err, nil)
}

// NotificationPage implements alerts.Store: keyset paging on (created_at,
// seq, rule), all descending, so a page stays put while new alerts arrive.
func (s *AlertsStore) NotificationPage(ctx context.Context, q alerts.NotificationQuery) ([]alerts.Alert, int, error) {
	const op = "sqlstore.Alerts.NotificationPage"
	args := []any{q.Customer}
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	where := `customer_id = $1`
	if q.Rule != "" {
		where += ` AND rule = ` + arg(string(q.Rule))
	}
	if q.Unread {
		where += ` AND read_at = 0`
	}
	if c := q.Before; c != nil {
		at, seq, rule := micros(c.Created), int64(c.Seq), string(c.Rule)
		where += ` AND (created_at < ` + arg(at) + ` OR (created_at = ` + arg(at) + ` AND (seq < ` + arg(seq) +
			` OR (seq = ` + arg(seq) + ` AND rule < ` + arg(rule) + `))))`
	}
	rows, err := s.db.R().Query(ctx, `SELECT `+alertCols+` FROM alerts WHERE `+where+
		` ORDER BY created_at DESC, seq DESC, rule DESC LIMIT `+arg(q.Limit), args...)
	if err != nil {
		return nil, 0, s.db.Err(op, err, nil)
	}
	as, err := Collect(rows, scanAlert)
	if err != nil {
		return nil, 0, s.db.Err(op, err, nil)
	}
	var unread int
	err = s.db.R().QueryRow(ctx, `SELECT count(*) FROM alerts WHERE customer_id = $1 AND read_at = 0`, q.Customer).Scan(&unread)
	return as, unread, s.db.Err(op, err, nil)
}

// Alert implements alerts.Store.
func (s *AlertsStore) Alert(ctx context.Context, id alerts.AlertID) (alerts.Alert, error) {
	a, err := scanAlert(s.db.R().QueryRow(ctx, `SELECT `+alertCols+` FROM alerts WHERE id = $1`, string(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return a, alerts.ErrAlertNotFound
	}
	return a, s.db.Err("sqlstore.Alerts.Alert", err, nil)
}

// MarkRead implements alerts.Store.
func (s *AlertsStore) MarkRead(ctx context.Context, c bankbridge.CustomerID, at time.Time) error {
	_, err := s.db.W().Exec(ctx, `UPDATE alerts SET read_at = $1 WHERE customer_id = $2 AND read_at = 0 AND created_at <= $3`, micros(at), c, micros(at))
	return s.db.Err("sqlstore.Alerts.MarkRead", err, nil)
}

// SetAnswer implements alerts.Store with one conditional UPDATE: only an
// unanswered asking alert of the customer changes.
func (s *AlertsStore) SetAnswer(ctx context.Context, c bankbridge.CustomerID, id alerts.AlertID, ans alerts.Answer, at time.Time) (alerts.Alert, bool, error) {
	const op = "sqlstore.Alerts.SetAnswer"
	res, err := s.db.W().Exec(ctx, `UPDATE alerts SET answer = $1, answered_at = $2, read_at = CASE WHEN read_at = 0 THEN $3 ELSE read_at END
WHERE id = $4 AND customer_id = $5 AND ask AND answer = ''`, string(ans), micros(at), micros(at), string(id), c)
	if err != nil {
		return alerts.Alert{}, false, s.db.Err(op, err, nil)
	}
	n, _ := res.RowsAffected()
	a, err := scanAlert(s.db.W().QueryRow(ctx, `SELECT `+alertCols+` FROM alerts WHERE id = $1`, string(id)))
	switch {
	case errors.Is(err, sql.ErrNoRows) || err == nil && a.Customer != c:
		return alerts.Alert{}, false, alerts.ErrAlertNotFound
	case err != nil:
		return a, false, s.db.Err(op, err, nil)
	case n == 1:
		return a, true, nil
	case !a.Ask:
		return a, false, alerts.ErrNotAsking
	case a.Answer != ans:
		return a, false, alerts.ErrAnswered
	}
	return a, false, nil
}

const caseCols = `id, kind, alert_id, customer_id, card_id, transfer_id, merchant_id, amount, currency, status, note, opened_at, closed_at, closed_by, assignee, reason, due_at`

func scanCase(r Scanner) (alerts.Case, error) {
	var k alerts.Case
	var o, c, due int64
	err := r.Scan(&k.ID, &k.Kind, &k.Alert, &k.Customer, &k.Card, &k.Transfer, &k.Merchant, &k.Amount, &k.Currency, &k.Status, &k.Note, &o, &c, &k.ClosedBy, &k.Assignee, &k.Reason, &due)
	k.Opened, k.Closed, k.Due = fromMicros(o), fromMicros(c), fromMicros(due)
	return k, err
}

// OpenCase implements alerts.Store.
func (s *AlertsStore) OpenCase(ctx context.Context, k alerts.Case) (alerts.Case, error) {
	const op = "sqlstore.Alerts.OpenCase"
	if k.Kind == "" {
		k.Kind = alerts.CaseFraud
	}
	if _, err := s.db.W().Exec(ctx, `INSERT INTO fraud_cases (alert_id, customer_id, card_id, transfer_id, merchant_id, amount, currency, status, opened_at, kind, reason, due_at)
VALUES ($1,$2,$3,$4,$5,$6,$7,'open',$8,$9,$10,$11) ON CONFLICT (alert_id) DO NOTHING`, string(k.Alert), k.Customer, k.Card, k.Transfer, k.Merchant, k.Amount, string(k.Currency), micros(k.Opened),
		string(k.Kind), k.Reason, micros(k.Due)); err != nil {
		return k, s.db.Err(op, err, nil)
	}
	got, err := scanCase(s.db.W().QueryRow(ctx, `SELECT `+caseCols+` FROM fraud_cases WHERE alert_id = $1`, string(k.Alert)))
	return got, s.db.Err(op, err, nil)
}

// Cases implements alerts.Store.
func (s *AlertsStore) Cases(ctx context.Context, status string, limit int) ([]alerts.Case, error) {
	rows, err := s.db.R().Query(ctx, `SELECT `+caseCols+` FROM fraud_cases WHERE ($1 = '' OR status = $2) ORDER BY opened_at DESC, id DESC LIMIT $3`, status, status, limit)
	if err != nil {
		return nil, s.db.Err("sqlstore.Alerts.Cases", err, nil)
	}
	ks, err := Collect(rows, scanCase)
	return ks, s.db.Err("sqlstore.Alerts.Cases", err, nil)
}

// CloseCase implements alerts.Store.
func (s *AlertsStore) CloseCase(ctx context.Context, id alerts.CaseID, staff bankbridge.StaffID, note string, at time.Time) error {
	res, err := s.db.W().Exec(ctx, `UPDATE fraud_cases SET status = 'closed', note = $1, closed_at = $2, closed_by = $3 WHERE id = $4 AND status = 'open'`, note, micros(at), staff, id)
	if err != nil {
		return s.db.Err("sqlstore.Alerts.CloseCase", err, nil)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return alerts.ErrCaseNotFound
	}
	return nil
}

// Case implements alerts.Store.
func (s *AlertsStore) Case(ctx context.Context, id alerts.CaseID) (alerts.Case, error) {
	k, err := scanCase(s.db.R().QueryRow(ctx, `SELECT `+caseCols+` FROM fraud_cases WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return k, alerts.ErrCaseNotFound
	}
	return k, s.db.Err("sqlstore.Alerts.Case", err, nil)
}

// CaseList implements alerts.Store.
func (s *AlertsStore) CaseList(ctx context.Context, q alerts.CaseQuery) ([]alerts.Case, error) {
	const op = "sqlstore.Alerts.CaseList"
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	where := []string{"1 = 1"}
	if q.Status != "" {
		where = append(where, "status = "+arg(q.Status))
	}
	if q.Kind != "" {
		where = append(where, "kind = "+arg(string(q.Kind)))
	}
	if q.Customer != 0 {
		where = append(where, "customer_id = "+arg(q.Customer))
	}
	if q.Card != 0 {
		where = append(where, "card_id = "+arg(q.Card))
	}
	if q.Assignee != 0 {
		where = append(where, "assignee = "+arg(q.Assignee))
	}
	order := "opened_at DESC, id DESC"
	if q.Oldest {
		order = "opened_at, id"
	}
	rows, err := s.db.R().Query(ctx, `SELECT `+caseCols+` FROM fraud_cases WHERE `+strings.Join(where, " AND ")+` ORDER BY `+order+` LIMIT `+arg(q.Limit), args...)
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	ks, err := Collect(rows, scanCase)
	return ks, s.db.Err(op, err, nil)
}

// AssignCase implements alerts.Store.
func (s *AlertsStore) AssignCase(ctx context.Context, id alerts.CaseID, staff bankbridge.StaffID) error {
	res, err := s.db.W().Exec(ctx, `UPDATE fraud_cases SET assignee = $1 WHERE id = $2 AND status = 'open'`, staff, id)
	if err != nil {
		return s.db.Err("sqlstore.Alerts.AssignCase", err, nil)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return alerts.ErrCaseNotFound
	}
	return nil
}

// AddCaseNote implements alerts.Store.
func (s *AlertsStore) AddCaseNote(ctx context.Context, n alerts.CaseNote) (alerts.CaseNote, error) {
	const op = "sqlstore.Alerts.AddCaseNote"
	if _, err := s.Case(ctx, n.Case); err != nil {
		return n, err
	}
	err := s.db.W().QueryRow(ctx, `INSERT INTO case_notes (case_id, staff_id, customer_id, body, created_at) VALUES ($1,$2,$3,$4,$5) RETURNING id`,
		n.Case, n.Staff, n.Customer, n.Body, micros(n.Created)).Scan(&n.ID)
	return n, s.db.Err(op, err, nil)
}

// CaseNotes implements alerts.Store.
func (s *AlertsStore) CaseNotes(ctx context.Context, id alerts.CaseID) ([]alerts.CaseNote, error) {
	const op = "sqlstore.Alerts.CaseNotes"
	rows, err := s.db.R().Query(ctx, `SELECT id, case_id, staff_id, customer_id, body, created_at FROM case_notes WHERE case_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	ns, err := Collect(rows, func(r Scanner) (alerts.CaseNote, error) {
		var n alerts.CaseNote
		var at int64
		err := r.Scan(&n.ID, &n.Case, &n.Staff, &n.Customer, &n.Body, &at)
		n.Created = fromMicros(at)
		return n, err
	})
	return ns, s.db.Err(op, err, nil)
}
