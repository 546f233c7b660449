package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
)

// RailsStore implements rails.Store. External payees are rows of the
// ledger's payees table (with a routing number), so the chat, the limits and
// the transfer form see one list; their rail details are in rail_payees.
type RailsStore struct{ db *DB }

var _ rails.Store = (*RailsStore)(nil)

// Rails returns the rails store.
func (s Stores) Rails() *RailsStore { return &RailsStore{db: s.db} }

const railPayeeCols = `p.id, p.customer_id, p.name, p.nickname, p.routing, p.number, p.created_at,
  COALESCE(r.account_type, 'checking'), COALESCE(r.status, 'unverified'), COALESCE(r.detail, '')`

func scanRailPayee(sc Scanner) (rails.Payee, error) {
	var p rails.Payee
	var created int64
	var typ, status string
	err := sc.Scan(&p.ID, &p.Customer, &p.Name, &p.Nickname, &p.Routing, &p.Number, &created, &typ, &status, &p.Detail)
	p.Created, p.Type, p.Status = fromMicros(created), rails.AccountType(typ), rails.PayeeStatus(status)
	return p, err
}

// AddPayee implements rails.Store.
func (s *RailsStore) AddPayee(ctx context.Context, p rails.Payee) (rails.Payee, error) {
	const op = "sqlstore.Rails.AddPayee"
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return rails.Payee{}, s.db.Err(op, err, nil)
	}
	defer tx.Rollback()
	if err := tx.QueryRow(ctx, `INSERT INTO payees (customer_id, name, nickname, account_id, routing, number, created_at)
		VALUES ($1,$2,$3,0,$4,$5,$6) RETURNING id`, int64(p.Customer), p.Name, p.Nickname, p.Routing, string(p.Number), micros(p.Created)).Scan(&p.ID); err != nil {
		return rails.Payee{}, s.db.Err(op, err, rails.ErrNicknameTaken)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO rail_payees (payee_id, account_type, status, detail, updated_at) VALUES ($1,$2,$3,$4,$5)`,
		int64(p.ID), string(p.Type), string(p.Status), p.Detail, micros(p.Created)); err != nil {
		return rails.Payee{}, s.db.Err(op, err, nil)
	}
	return p, s.db.Err(op, tx.Commit(), nil)
}

// Payee implements rails.Store.
func (s *RailsStore) Payee(ctx context.Context, c bankbridge.CustomerID, id ledger.PayeeID) (rails.Payee, error) {
	p, err := scanRailPayee(s.db.R().QueryRow(ctx, `SELECT `+railPayeeCols+` FROM payees p LEFT JOIN rail_payees r ON r.payee_id = p.id
		WHERE p.id = $1 AND p.customer_id = $2 AND p.routing <> ''`, int64(id), int64(c)))
	if errors.Is(err, sql.ErrNoRows) {
		return rails.Payee{}, rails.ErrPayeeNotFound
	}
	return p, s.db.Err("sqlstore.Rails.Payee", err, nil)
}

// Payees implements rails.Store.
func (s *RailsStore) Payees(ctx context.Context, c bankbridge.CustomerID) ([]rails.Payee, error) {
	rows, err := s.db.R().Query(ctx, `SELECT `+railPayeeCols+` FROM payees p LEFT JOIN rail_payees r ON r.payee_id = p.id
		WHERE p.customer_id = $1 AND p.routing <> '' ORDER BY p.nickname, p.id`, int64(c))
	if err != nil {
		return nil, s.db.Err("sqlstore.Rails.Payees", err, nil)
	}
	ps, err := Collect(rows, scanRailPayee)
	return ps, s.db.Err("sqlstore.Rails.Payees", err, nil)
}

// RenamePayee implements rails.Store.
func (s *RailsStore) RenamePayee(ctx context.Context, c bankbridge.CustomerID, id ledger.PayeeID, nickname string) error {
	const op = "sqlstore.Rails.RenamePayee"
	res, err := s.db.W().Exec(ctx, `UPDATE payees SET nickname = $1 WHERE id = $2 AND customer_id = $3 AND routing <> ''`, nickname, int64(id), int64(c))
	if err != nil {
		return s.db.Err(op, err, rails.ErrNicknameTaken)
	}
	return s.one(op, res, rails.ErrPayeeNotFound)
}

func (s *RailsStore) one(op string, res Result, notFound error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	if n == 0 {
		return notFound
	}
	return nil
}

// DeletePayee implements rails.Store.
func (s *RailsStore) DeletePayee(ctx context.Context, c bankbridge.CustomerID, id ledger.PayeeID) error {
	const op = "sqlstore.Rails.DeletePayee"
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	defer tx.Rollback()
	res, err := tx.Exec(ctx, `DELETE FROM payees WHERE id = $1 AND customer_id = $2 AND routing <> ''`, int64(id), int64(c))
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	if err := s.one(op, res, rails.ErrPayeeNotFound); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM rail_payees WHERE payee_id = $1`, int64(id)); err != nil {
		return s.db.Err(op, err, nil)
	}
	return s.db.Err(op, tx.Commit(), nil)
}

// UpdatePayee implements rails.Store.
func (s *RailsStore) UpdatePayee(ctx context.Context, id ledger.PayeeID, st rails.PayeeStatus, detail, routing string, number ledger.AccountNumber, t rails.AccountType) error {
	const op = "sqlstore.Rails.UpdatePayee"
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	defer tx.Rollback()
	var one int
	if err := tx.QueryRow(ctx, `SELECT 1 FROM payees WHERE id = $1`, int64(id)).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return nil // deleted meanwhile
	} else if err != nil {
		return s.db.Err(op, err, nil)
	}
	if routing != "" || number != "" {
		if _, err := tx.Exec(ctx, `UPDATE payees SET routing = CASE WHEN $1 = '' THEN routing ELSE $1 END,
			number = CASE WHEN $2 = '' THEN number ELSE $2 END WHERE id = $3`, routing, string(number), int64(id)); err != nil {
			return s.db.Err(op, err, nil)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO rail_payees (payee_id, account_type, status, detail, updated_at) VALUES ($1,$2,$3,$4,$5)
		ON CONFLICT (payee_id) DO UPDATE SET status = excluded.status, detail = excluded.detail, updated_at = excluded.updated_at,
		account_type = CASE WHEN $6 = '' THEN rail_payees.account_type ELSE excluded.account_type END`,
		int64(id), orDefault(string(t), string(rails.Checking)), string(st), detail, micros(time.Now()), string(t)); err != nil {
		return s.db.Err(op, err, nil)
	}
	return s.db.Err(op, tx.Commit(), nil)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

const railPaymentCols = `id, customer_id, payee_id, kind, channel, idem_key, from_account, amount, currency, name, routing, number,
  account_type, memo, same_day, effective, status, hold_id, reversal_id, file_id, trace, return_code, reason, screen, created_at, updated_at,
  sec, auth_text, settled_at, owed, recovering, recall, recall_note`

func scanRailPayment(sc Scanner) (rails.Payment, error) {
	var p rails.Payment
	var kind, typ, status string
	var eff, created, updated, settled int64
	err := sc.Scan(&p.ID, &p.Customer, &p.Payee, &kind, &p.Channel, &p.Key, &p.From, &p.Amount, &p.Currency, &p.Name, &p.Routing, &p.Number,
		&typ, &p.Memo, &p.SameDay, &eff, &status, &p.Hold, &p.Reversal, &p.File, &p.Trace, &p.ReturnCode, &p.Reason, &p.Screen, &created, &updated,
		&p.SEC, &p.Authorization, &settled, &p.Owed, &p.Recovering, &p.Recall, &p.RecallNote)
	p.Kind, p.Type, p.Status = rails.Kind(kind), rails.AccountType(typ), rails.Status(status)
	p.Effective, p.Created, p.Updated = fromMicros(eff), fromMicros(created), fromMicros(updated)
	if settled != 0 {
		p.Settled = fromMicros(settled)
	}
	return p, err
}

// CreatePayment implements rails.Store.
func (s *RailsStore) CreatePayment(ctx context.Context, p rails.Payment) (rails.Payment, bool, error) {
	const op = "sqlstore.Rails.CreatePayment"
	err := s.db.W().QueryRow(ctx, `INSERT INTO rail_payments (customer_id, payee_id, kind, channel, idem_key, from_account, amount, currency,
		name, routing, number, account_type, memo, same_day, effective, status, screen, created_at, updated_at, sec, auth_text, return_code, reason)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23)
		ON CONFLICT (customer_id, channel, idem_key) DO NOTHING RETURNING id`,
		int64(p.Customer), int64(p.Payee), string(p.Kind), p.Channel, p.Key, int64(p.From), int64(p.Amount), string(p.Currency),
		p.Name, p.Routing, string(p.Number), string(p.Type), p.Memo, p.SameDay, micros(p.Effective), string(p.Status), p.Screen,
		micros(p.Created), micros(p.Updated), p.SEC, p.Authorization, p.ReturnCode, p.Reason).Scan(&p.ID)
	if errors.Is(err, sql.ErrNoRows) {
		got, err := scanRailPayment(s.db.W().QueryRow(ctx, `SELECT `+railPaymentCols+` FROM rail_payments WHERE customer_id = $1 AND channel = $2 AND idem_key = $3`,
			int64(p.Customer), p.Channel, p.Key))
		return got, true, s.db.Err(op, err, nil)
	}
	if err != nil {
		return rails.Payment{}, false, s.db.Err(op, err, nil)
	}
	return p, false, nil
}

// Payment implements rails.Store.
func (s *RailsStore) Payment(ctx context.Context, id rails.PaymentID) (rails.Payment, error) {
	p, err := scanRailPayment(s.db.W().QueryRow(ctx, `SELECT `+railPaymentCols+` FROM rail_payments WHERE id = $1`, int64(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return p, rails.ErrPaymentNotFound
	}
	return p, s.db.Err("sqlstore.Rails.Payment", err, nil)
}

// PaymentByKey implements rails.Store.
func (s *RailsStore) PaymentByKey(ctx context.Context, c bankbridge.CustomerID, channel, key string) (rails.Payment, error) {
	p, err := scanRailPayment(s.db.W().QueryRow(ctx, `SELECT `+railPaymentCols+` FROM rail_payments WHERE customer_id = $1 AND channel = $2 AND idem_key = $3`,
		int64(c), channel, key))
	if errors.Is(err, sql.ErrNoRows) {
		return p, rails.ErrPaymentNotFound
	}
	return p, s.db.Err("sqlstore.Rails.PaymentByKey", err, nil)
}

// PaymentByTrace implements rails.Store.
func (s *RailsStore) PaymentByTrace(ctx context.Context, trace string) (rails.Payment, error) {
	p, err := scanRailPayment(s.db.W().QueryRow(ctx, `SELECT `+railPaymentCols+` FROM rail_payments WHERE trace = $1 AND trace <> '' ORDER BY id DESC LIMIT 1`, trace))
	if errors.Is(err, sql.ErrNoRows) {
		return p, rails.ErrPaymentNotFound
	}
	return p, s.db.Err("sqlstore.Rails.PaymentByTrace", err, nil)
}

// Payments implements rails.Store. It reads from the writer: the worker
// reads what it just wrote.
func (s *RailsStore) Payments(ctx context.Context, q rails.PaymentQuery) ([]rails.Payment, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + itoa(len(args)) }
	if q.Customer != 0 {
		where = append(where, "customer_id = "+arg(int64(q.Customer)))
	}
	if q.File != 0 {
		where = append(where, "file_id = "+arg(int64(q.File)))
	}
	if len(q.Status) > 0 {
		where = append(where, inList("status", q.Status, arg))
	}
	if len(q.Kinds) > 0 {
		where = append(where, inList("kind", q.Kinds, arg))
	}
	if q.Owing {
		where = append(where, "owed > 0")
	}
	if q.Recall != "" {
		where = append(where, "recall = "+arg(q.Recall))
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	order := " ORDER BY id DESC"
	if len(q.Status) > 0 && q.Customer == 0 {
		order = " ORDER BY id" // the worker takes the oldest first
	}
	rows, err := s.db.W().Query(ctx, `SELECT `+railPaymentCols+` FROM rail_payments`+w+order+` LIMIT `+arg(q.Limit), args...)
	if err != nil {
		return nil, s.db.Err("sqlstore.Rails.Payments", err, nil)
	}
	ps, err := Collect(rows, scanRailPayment)
	return ps, s.db.Err("sqlstore.Rails.Payments", err, nil)
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// MovePayment implements rails.Store.
func (s *RailsStore) MovePayment(ctx context.Context, p rails.Payment, from ...rails.Status) (bool, error) {
	args := []any{string(p.Status), int64(p.Hold), int64(p.Reversal), p.ReturnCode, p.Reason, p.Screen, micros(p.Updated), int64(p.ID), int64(p.Owed)}
	var ins []string
	for _, f := range from {
		args = append(args, string(f))
		ins = append(ins, "$"+itoa(len(args)))
	}
	if len(ins) == 0 {
		return false, errors.New("sqlstore.Rails.MovePayment: no state to move from")
	}
	res, err := s.db.W().Exec(ctx, `UPDATE rail_payments SET status = $1,
		hold_id = CASE WHEN $2 = 0 THEN hold_id ELSE $2 END,
		reversal_id = CASE WHEN $3 = 0 THEN reversal_id ELSE $3 END,
		return_code = CASE WHEN $4 = '' THEN return_code ELSE $4 END,
		reason = CASE WHEN $5 = '' THEN reason ELSE $5 END,
		screen = CASE WHEN $6 = '' THEN screen ELSE $6 END,
		settled_at = CASE WHEN $1 = 'settled' THEN $7 ELSE settled_at END,
		owed = CASE WHEN $9 = 0 THEN owed ELSE $9 END,
		updated_at = $7, untold = 1
		WHERE id = $8 AND status IN (`+strings.Join(ins, ",")+`)`, args...)
	if err != nil {
		return false, s.db.Err("sqlstore.Rails.MovePayment", err, nil)
	}
	n, err := res.RowsAffected()
	return n == 1, s.db.Err("sqlstore.Rails.MovePayment", err, nil)
}

// Told implements rails.Store: only the status told is cleared, so a
// change stored meanwhile stays untold.
func (s *RailsStore) Told(ctx context.Context, id rails.PaymentID, st rails.Status) error {
	_, err := s.db.W().Exec(ctx, `UPDATE rail_payments SET untold = 0 WHERE id = $1 AND status = $2 AND untold = 1`, int64(id), string(st))
	return s.db.Err("sqlstore.Rails.Told", err, nil)
}

// Untold implements rails.Store, by the partial index on untold rows.
func (s *RailsStore) Untold(ctx context.Context, before time.Time, limit int) ([]rails.Payment, error) {
	rows, err := s.db.W().Query(ctx, `SELECT `+railPaymentCols+` FROM rail_payments WHERE untold = 1 AND updated_at < $1 ORDER BY id LIMIT $2`,
		micros(before), limit)
	if err != nil {
		return nil, s.db.Err("sqlstore.Rails.Untold", err, nil)
	}
	ps, err := Collect(rows, scanRailPayment)
	return ps, s.db.Err("sqlstore.Rails.Untold", err, nil)
}

// SetDebt implements rails.Store: a compare-and-set on what is owed and
// being taken, so two workers recovering the same debt take it once.
func (s *RailsStore) SetDebt(ctx context.Context, id rails.PaymentID, from, to rails.Debt) (bool, error) {
	res, err := s.db.W().Exec(ctx, `UPDATE rail_payments SET owed = $1, recovering = $2 WHERE id = $3 AND owed = $4 AND recovering = $5`,
		int64(to.Owed), int64(to.Recovering), int64(id), int64(from.Owed), int64(from.Recovering))
	if err != nil {
		return false, s.db.Err("sqlstore.Rails.SetDebt", err, nil)
	}
	n, err := res.RowsAffected()
	return n == 1, s.db.Err("sqlstore.Rails.SetDebt", err, nil)
}

// SetRecall implements rails.Store: a compare-and-set on the recall.
func (s *RailsStore) SetRecall(ctx context.Context, id rails.PaymentID, from, to, note string) (bool, error) {
	res, err := s.db.W().Exec(ctx, `UPDATE rail_payments SET recall = $1, recall_note = $2 WHERE id = $3 AND recall = $4`, to, note, int64(id), from)
	if err != nil {
		return false, s.db.Err("sqlstore.Rails.SetRecall", err, nil)
	}
	n, err := res.RowsAffected()
	return n == 1, s.db.Err("sqlstore.Rails.SetRecall", err, nil)
}

// MarkInstantSent implements rails.Store.
func (s *RailsStore) MarkInstantSent(ctx context.Context, id rails.PaymentID, trace string, at time.Time) (bool, error) {
	res, err := s.db.W().Exec(ctx, `UPDATE rail_payments SET status = $1, trace = $2, updated_at = $3 WHERE id = $4 AND status = $5 AND kind = $6`,
		string(rails.StatusSent), trace, micros(at), int64(id), string(rails.StatusAccepted), string(rails.KindInstant))
	if err != nil {
		return false, s.db.Err("sqlstore.Rails.MarkInstantSent", err, nil)
	}
	n, err := res.RowsAffected()
	return n == 1, s.db.Err("sqlstore.Rails.MarkInstantSent", err, nil)
}

// MarkSentToCore implements rails.Store.
func (s *RailsStore) MarkSentToCore(ctx context.Context, id rails.PaymentID, trace string, at time.Time) (bool, error) {
	res, err := s.db.W().Exec(ctx, `UPDATE rail_payments SET status = $1, trace = $2, updated_at = $3 WHERE id = $4 AND status = $5 AND kind = $6`,
		string(rails.StatusSent), trace, micros(at), int64(id), string(rails.StatusAccepted), string(rails.KindCredit))
	if err != nil {
		return false, s.db.Err("sqlstore.Rails.MarkSentToCore", err, nil)
	}
	n, err := res.RowsAffected()
	return n == 1, s.db.Err("sqlstore.Rails.MarkSentToCore", err, nil)
}

// CreateFile implements rails.Store. The payments are read in the
// transaction, still accepted, and taken with the file: on PostgreSQL
// FOR UPDATE keeps a second runner from batching them too (it waits, then
// finds them batched); SQLite's one writer serialises the whole of it.
func (s *RailsStore) CreateFile(ctx context.Context, ids []rails.PaymentID, at time.Time, build func(rails.FileID, []rails.Payment) (rails.File, error)) (rails.File, error) {
	const op = "sqlstore.Rails.CreateFile"
	if len(ids) == 0 {
		return rails.File{}, nil
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return rails.File{}, s.db.Err(op, err, nil)
	}
	defer tx.Rollback()
	raw := make([]int64, len(ids))
	for i, id := range ids {
		raw[i] = int64(id)
	}
	in, args := In(2, raw)
	lock := ""
	if s.db.d.rowLocks {
		lock = " FOR UPDATE"
	}
	rows, err := tx.Query(ctx, `SELECT `+railPaymentCols+` FROM rail_payments WHERE status = $1 AND id IN (`+in+`) ORDER BY id`+lock,
		append([]any{string(rails.StatusAccepted)}, args...)...)
	if err != nil {
		return rails.File{}, s.db.Err(op, err, nil)
	}
	ps, err := Collect(rows, scanRailPayment)
	if err != nil {
		return rails.File{}, s.db.Err(op, err, nil)
	}
	if len(ps) == 0 {
		return rails.File{}, nil
	}
	// The id first, so the file's name and modifier can carry it; the row
	// is completed below, in the same transaction.
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO rail_files (direction, name, body, hash, status, created_at) VALUES ($1, $2, $3, $3, $4, $5) RETURNING id`,
		string(rails.DirOut), "pending-"+rand.Text(), []byte{}, string(rails.FileBuilt), micros(at)).Scan(&id); err != nil {
		return rails.File{}, s.db.Err(op, err, nil)
	}
	f, err := build(rails.FileID(id), ps)
	if err != nil {
		return rails.File{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE rail_files SET name = $1, body = $2, hash = $3, entries = $4, total = $5 WHERE id = $6`,
		f.Name, f.Body, f.Hash[:], f.Entries, int64(f.Total), id); err != nil {
		return rails.File{}, s.db.Err(op, err, nil)
	}
	for _, p := range ps {
		if _, err := tx.Exec(ctx, `UPDATE rail_payments SET status = $1, file_id = $2, trace = $3, updated_at = $4 WHERE id = $5`,
			string(rails.StatusBatched), id, p.Trace, micros(at), int64(p.ID)); err != nil {
			return rails.File{}, s.db.Err(op, err, nil)
		}
	}
	return f, s.db.Err(op, tx.Commit(), nil)
}

const railFileCols = `id, direction, name, hash, status, entries, total, error, created_at, sent_at, confirmed_at`

func scanRailFile(sc Scanner) (rails.File, error) {
	var f rails.File
	var dir, status string
	var hash []byte
	var created, sent, confirmed int64
	err := sc.Scan(&f.ID, &dir, &f.Name, &hash, &status, &f.Entries, &f.Total, &f.Error, &created, &sent, &confirmed)
	f.Direction, f.Status = rails.Direction(dir), rails.FileStatus(status)
	copy(f.Hash[:], hash)
	f.Created, f.Sent, f.Confirmed = fromMicros(created), fromMicros(sent), fromMicros(confirmed)
	return f, err
}

// File implements rails.Store.
func (s *RailsStore) File(ctx context.Context, id rails.FileID) (rails.File, error) {
	var body []byte
	f, err := scanRailFile(scanWith(s.db.W().QueryRow(ctx, `SELECT `+railFileCols+`, body FROM rail_files WHERE id = $1`, int64(id)), &body))
	if errors.Is(err, sql.ErrNoRows) {
		return f, rails.ErrFileNotFound
	}
	f.Body = body
	return f, s.db.Err("sqlstore.Rails.File", err, nil)
}

// scanWith scans the columns a scan function knows and then extra ones.
type extraScanner struct {
	sc    Scanner
	extra []any
}

func (e extraScanner) Scan(dest ...any) error { return e.sc.Scan(append(dest, e.extra...)...) }

func scanWith(sc Scanner, extra ...any) Scanner { return extraScanner{sc, extra} }

// Files implements rails.Store.
func (s *RailsStore) Files(ctx context.Context, q rails.FileQuery) ([]rails.File, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + itoa(len(args)) }
	if q.Direction != "" {
		where = append(where, "direction = "+arg(string(q.Direction)))
	}
	if len(q.Status) > 0 {
		where = append(where, inList("status", q.Status, arg))
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	order := " ORDER BY id DESC"
	if len(q.Status) > 0 {
		order = " ORDER BY id"
	}
	rows, err := s.db.W().Query(ctx, `SELECT `+railFileCols+` FROM rail_files`+w+order+` LIMIT `+arg(q.Limit), args...)
	if err != nil {
		return nil, s.db.Err("sqlstore.Rails.Files", err, nil)
	}
	fs, err := Collect(rows, scanRailFile)
	return fs, s.db.Err("sqlstore.Rails.Files", err, nil)
}

// MoveFile implements rails.Store.
func (s *RailsStore) MoveFile(ctx context.Context, id rails.FileID, from, to rails.FileStatus, at time.Time) (bool, error) {
	col := "confirmed_at"
	if to == rails.FileSent {
		col = "sent_at"
	}
	res, err := s.db.W().Exec(ctx, `UPDATE rail_files SET status = $1, `+col+` = $2 WHERE id = $3 AND status = $4`,
		string(to), micros(at), int64(id), string(from))
	if err != nil {
		return false, s.db.Err("sqlstore.Rails.MoveFile", err, nil)
	}
	n, err := res.RowsAffected()
	return n == 1, s.db.Err("sqlstore.Rails.MoveFile", err, nil)
}

// ReceiveFile implements rails.Store.
func (s *RailsStore) ReceiveFile(ctx context.Context, f rails.File) (rails.File, bool, error) {
	const op = "sqlstore.Rails.ReceiveFile"
	confirmed := int64(0)
	if f.Status == rails.FileProcessed {
		confirmed = micros(f.Created)
	}
	err := s.db.W().QueryRow(ctx, `INSERT INTO rail_files (direction, name, body, hash, status, entries, total, error, created_at, confirmed_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (direction, name) DO NOTHING RETURNING id`,
		string(rails.DirIn), f.Name, f.Body, f.Hash[:], string(f.Status), f.Entries, int64(f.Total), f.Error, micros(f.Created), confirmed).Scan(&f.ID)
	if err == nil {
		f.Direction = rails.DirIn
		return f, false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return rails.File{}, false, s.db.Err(op, err, nil)
	}
	got, err := scanRailFile(s.db.W().QueryRow(ctx, `SELECT `+railFileCols+` FROM rail_files WHERE direction = $1 AND name = $2`, string(rails.DirIn), f.Name))
	if err != nil {
		return rails.File{}, false, s.db.Err(op, err, nil)
	}
	if got.Hash != f.Hash {
		return got, true, rails.ErrFileConflict
	}
	return got, true, nil
}

// AddEntry implements rails.Store.
func (s *RailsStore) AddEntry(ctx context.Context, e rails.Entry) (bool, error) {
	res, err := s.db.W().Exec(ctx, `INSERT INTO rail_entries (file_id, trace, kind, status, customer_id, account_id, payment_id, amount, code, name, transfer_id, detail, at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) ON CONFLICT (file_id, trace, kind) DO NOTHING`,
		int64(e.File), e.Trace, string(e.Kind), string(e.Status), int64(e.Customer), int64(e.Account), int64(e.Payment), int64(e.Amount),
		e.Code, e.Name, int64(e.Transfer), e.Detail, micros(e.At))
	if err != nil {
		return false, s.db.Err("sqlstore.Rails.AddEntry", err, nil)
	}
	n, err := res.RowsAffected()
	return n == 1, s.db.Err("sqlstore.Rails.AddEntry", err, nil)
}

const railEntryCols = `file_id, trace, kind, status, customer_id, account_id, payment_id, amount, code, name, transfer_id, detail, at`

func scanRailEntry(sc Scanner) (rails.Entry, error) {
	var e rails.Entry
	var kind, status string
	var at int64
	err := sc.Scan(&e.File, &e.Trace, &kind, &status, &e.Customer, &e.Account, &e.Payment, &e.Amount, &e.Code, &e.Name, &e.Transfer, &e.Detail, &at)
	e.Kind, e.Status, e.At = rails.EntryKind(kind), rails.EntryStatus(status), fromMicros(at)
	return e, err
}

// Entries implements rails.Store.
func (s *RailsStore) Entries(ctx context.Context, q rails.EntryQuery) ([]rails.Entry, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + itoa(len(args)) }
	if q.Customer != 0 {
		where = append(where, "customer_id = "+arg(int64(q.Customer)))
	}
	if len(q.Kinds) > 0 {
		where = append(where, inList("kind", q.Kinds, arg))
	}
	if len(q.Status) > 0 {
		where = append(where, inList("status", q.Status, arg))
	}
	query := `SELECT ` + railEntryCols + ` FROM rail_entries`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += ` ORDER BY at DESC, trace LIMIT ` + arg(q.Limit)
	rows, err := s.db.R().Query(ctx, query, args...)
	if err != nil {
		return nil, s.db.Err("sqlstore.Rails.Entries", err, nil)
	}
	es, err := Collect(rows, scanRailEntry)
	return es, s.db.Err("sqlstore.Rails.Entries", err, nil)
}

// Entry implements rails.Store.
func (s *RailsStore) Entry(ctx context.Context, f rails.FileID, trace string, k rails.EntryKind) (rails.Entry, error) {
	e, err := scanRailEntry(s.db.W().QueryRow(ctx, `SELECT `+railEntryCols+` FROM rail_entries WHERE file_id = $1 AND trace = $2 AND kind = $3`,
		int64(f), trace, string(k)))
	if errors.Is(err, sql.ErrNoRows) {
		return e, rails.ErrEntryNotFound
	}
	return e, s.db.Err("sqlstore.Rails.Entry", err, nil)
}

// EntriesOf implements rails.Store, by the index on payment_id.
func (s *RailsStore) EntriesOf(ctx context.Context, id rails.PaymentID) ([]rails.Entry, error) {
	rows, err := s.db.W().Query(ctx, `SELECT `+railEntryCols+` FROM rail_entries WHERE payment_id = $1 AND payment_id <> 0 ORDER BY at, file_id, kind`, int64(id))
	if err != nil {
		return nil, s.db.Err("sqlstore.Rails.EntriesOf", err, nil)
	}
	es, err := Collect(rows, scanRailEntry)
	return es, s.db.Err("sqlstore.Rails.EntriesOf", err, nil)
}

// MoveEntry implements rails.Store: a compare-and-set on the status.
func (s *RailsStore) MoveEntry(ctx context.Context, e rails.Entry, from rails.EntryStatus) (bool, error) {
	res, err := s.db.W().Exec(ctx, `UPDATE rail_entries SET status = $1, detail = $2, payment_id = CASE WHEN $3 = 0 THEN payment_id ELSE $3 END,
		code = CASE WHEN $4 = '' THEN code ELSE $4 END
		WHERE file_id = $5 AND trace = $6 AND kind = $7 AND status = $8`,
		string(e.Status), e.Detail, int64(e.Payment), e.Code, int64(e.File), e.Trace, string(e.Kind), string(from))
	if err != nil {
		return false, s.db.Err("sqlstore.Rails.MoveEntry", err, nil)
	}
	n, err := res.RowsAffected()
	return n == 1, s.db.Err("sqlstore.Rails.MoveEntry", err, nil)
}

// AccountByNumber implements rails.Store. It reads the ledger's accounts
// table, which is in this database: an inbound entry names an account by
// its number, which the ledger's Store does not look up.
func (s *RailsStore) AccountByNumber(ctx context.Context, n ledger.AccountNumber) (ledger.Account, error) {
	var a ledger.Account
	var opened int64
	err := s.db.W().QueryRow(ctx, `SELECT id, customer_id, kind, name, currency, status, number, routing, limit_minor, unbounded, balance, held, opened_at
		FROM accounts WHERE number = $1`, string(n)).Scan(&a.ID, &a.Customer, &a.Kind, &a.Name, &a.Currency, &a.Status, &a.Number, &a.Routing,
		&a.Limit, &a.Unbounded, &a.Balance, &a.Held, &opened)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ledger.ErrAccountNotFound
	}
	a.OpenedAt = fromMicros(opened)
	return a, s.db.Err("sqlstore.Rails.AccountByNumber", err, nil)
}

// Totals implements rails.Store.
func (s *RailsStore) Totals(ctx context.Context) ([]rails.Total, error) {
	const what = `CASE WHEN kind IN ('return', 'debit', 'debit_return', 'dishonor', 'contest') THEN kind WHEN trace LIKE 'BB-PAY-%' THEN 'core' ELSE 'payment' END`
	rows, err := s.db.R().Query(ctx, `SELECT `+what+`, status, COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT)
		FROM rail_payments WHERE kind <> 'prenote' GROUP BY `+what+`, status
		UNION ALL SELECT 'entry:' || kind, status, COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM rail_entries GROUP BY kind, status
		UNION ALL SELECT 'owed', '', COUNT(*), CAST(COALESCE(SUM(owed), 0) AS BIGINT) FROM rail_payments WHERE owed > 0
		UNION ALL SELECT 'owed', 'exceptions', COUNT(*), CAST(COALESCE(SUM(owed), 0) AS BIGINT) FROM rail_resolutions WHERE owed > 0 AND done_at > 0
		UNION ALL SELECT 'resolved', '', COUNT(*), CAST(COALESCE(SUM(held), 0) AS BIGINT) FROM rail_resolutions WHERE done_at > 0
		ORDER BY 1, 2`)
	if err != nil {
		return nil, s.db.Err("sqlstore.Rails.Totals", err, nil)
	}
	ts, err := Collect(rows, func(sc Scanner) (rails.Total, error) {
		var t rails.Total
		err := sc.Scan(&t.What, &t.Status, &t.Count, &t.Amount)
		return t, err
	})
	return ts, s.db.Err("sqlstore.Rails.Totals", err, nil)
}

// Operators' decisions on exceptions (rails/resolve.go; migration 0063).

const railResolutionCols = `file_id, trace, kind, action, held, customer_id, account_id, staff_id, reason, transfer_id, owed, recovering, decided_at, done_at`

func scanRailResolution(sc Scanner) (rails.Resolution, error) {
	var r rails.Resolution
	var kind string
	var decided, done int64
	err := sc.Scan(&r.File, &r.Trace, &kind, &r.Action, &r.Held, &r.Customer, &r.Account, &r.Staff, &r.Reason, &r.Transfer,
		&r.Owed, &r.Recovering, &decided, &done)
	r.Kind, r.Decided = rails.EntryKind(kind), fromMicros(decided)
	if done != 0 {
		r.Done = fromMicros(done)
	}
	return r, err
}

// Resolution implements rails.Store.
func (s *RailsStore) Resolution(ctx context.Context, f rails.FileID, trace string, k rails.EntryKind) (rails.Resolution, error) {
	r, err := scanRailResolution(s.db.W().QueryRow(ctx, `SELECT `+railResolutionCols+` FROM rail_resolutions WHERE file_id = $1 AND trace = $2 AND kind = $3`,
		int64(f), trace, string(k)))
	if errors.Is(err, sql.ErrNoRows) {
		return r, rails.ErrResolutionNotFound
	}
	return r, s.db.Err("sqlstore.Rails.Resolution", err, nil)
}

// DecideResolution implements rails.Store: the first insert wins, on any
// instance (the primary key is the entry's).
func (s *RailsStore) DecideResolution(ctx context.Context, r rails.Resolution) (rails.Resolution, bool, error) {
	res, err := s.db.W().Exec(ctx, `INSERT INTO rail_resolutions (file_id, trace, kind, action, held, customer_id, account_id, staff_id, reason, decided_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (file_id, trace, kind) DO NOTHING`,
		int64(r.File), r.Trace, string(r.Kind), r.Action, int64(r.Held), int64(r.Customer), int64(r.Account), int64(r.Staff), r.Reason, micros(r.Decided))
	if err != nil {
		return rails.Resolution{}, false, s.db.Err("sqlstore.Rails.DecideResolution", err, nil)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return rails.Resolution{}, false, s.db.Err("sqlstore.Rails.DecideResolution", err, nil)
	}
	got, err := s.Resolution(ctx, r.File, r.Trace, r.Kind)
	return got, n == 1, err
}

// FinishResolution implements rails.Store: the decision booked and its
// entry resolved, in one transaction.
func (s *RailsStore) FinishResolution(ctx context.Context, r rails.Resolution, note string) (bool, error) {
	const op = "sqlstore.Rails.FinishResolution"
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return false, s.db.Err(op, err, nil)
	}
	defer tx.Rollback()
	res, err := tx.Exec(ctx, `UPDATE rail_resolutions SET transfer_id = $1, owed = $2, done_at = $3
		WHERE file_id = $4 AND trace = $5 AND kind = $6 AND done_at = 0`,
		int64(r.Transfer), int64(r.Owed), micros(r.Done), int64(r.File), r.Trace, string(r.Kind))
	if err != nil {
		return false, s.db.Err(op, err, nil)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return false, s.db.Err(op, err, nil)
	}
	if _, err := tx.Exec(ctx, `UPDATE rail_entries SET status = $1, detail = detail || $2 WHERE file_id = $3 AND trace = $4 AND kind = $5 AND status = $6`,
		string(rails.EntryResolved), note, int64(r.File), r.Trace, string(r.Kind), string(rails.EntryUnmatched)); err != nil {
		return false, s.db.Err(op, err, nil)
	}
	return true, s.db.Err(op, tx.Commit(), nil)
}

// CancelResolution implements rails.Store.
func (s *RailsStore) CancelResolution(ctx context.Context, f rails.FileID, trace string, k rails.EntryKind) (bool, error) {
	res, err := s.db.W().Exec(ctx, `DELETE FROM rail_resolutions WHERE file_id = $1 AND trace = $2 AND kind = $3 AND done_at = 0`, int64(f), trace, string(k))
	if err != nil {
		return false, s.db.Err("sqlstore.Rails.CancelResolution", err, nil)
	}
	n, err := res.RowsAffected()
	return n == 1, s.db.Err("sqlstore.Rails.CancelResolution", err, nil)
}

// Resolutions implements rails.Store.
func (s *RailsStore) Resolutions(ctx context.Context, q rails.ResolutionQuery) ([]rails.Resolution, error) {
	var where []string
	if q.Pending {
		where = append(where, "done_at = 0")
	}
	if q.Owing {
		where = append(where, "owed > 0 AND done_at > 0")
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.W().Query(ctx, `SELECT `+railResolutionCols+` FROM rail_resolutions`+w+` ORDER BY decided_at DESC, trace LIMIT $1`, q.Limit)
	if err != nil {
		return nil, s.db.Err("sqlstore.Rails.Resolutions", err, nil)
	}
	rs, err := Collect(rows, scanRailResolution)
	return rs, s.db.Err("sqlstore.Rails.Resolutions", err, nil)
}

// SetResolutionDebt implements rails.Store: a compare-and-set, as SetDebt.
func (s *RailsStore) SetResolutionDebt(ctx context.Context, f rails.FileID, trace string, k rails.EntryKind, from, to rails.Debt) (bool, error) {
	res, err := s.db.W().Exec(ctx, `UPDATE rail_resolutions SET owed = $1, recovering = $2
		WHERE file_id = $3 AND trace = $4 AND kind = $5 AND owed = $6 AND recovering = $7 AND done_at > 0`,
		int64(to.Owed), int64(to.Recovering), int64(f), trace, string(k), int64(from.Owed), int64(from.Recovering))
	if err != nil {
		return false, s.db.Err("sqlstore.Rails.SetResolutionDebt", err, nil)
	}
	n, err := res.RowsAffected()
	return n == 1, s.db.Err("sqlstore.Rails.SetResolutionDebt", err, nil)
}

// inList is "col IN ($i, $j, ...)" for vs, each bound through arg (a
// query builder's placeholder counter).
func inList[T ~string](col string, vs []T, arg func(any) string) string {
	ps := make([]string, len(vs))
	for i, v := range vs {
		ps[i] = arg(string(v))
	}
	return col + " IN (" + strings.Join(ps, ",") + ")"
}
