package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/store/ledgersql"
)

// LedgerStore implements ledger.Store on SQLite.
type LedgerStore struct{ db *DB }

var _ ledger.Store = (*LedgerStore)(nil)

// Ledger returns the ledger store of db.
func (db *DB) Ledger() *LedgerStore { return &LedgerStore{db: db} }

const accountCols = `id, customer_id, kind, name, currency, status, number, routing, limit_minor, unbounded, balance, held, opened_at`

type scanner interface{ Scan(...any) error }

func scanAccount(r scanner) (ledger.Account, error) {
	var a ledger.Account
	var opened int64
	err := r.Scan(&a.ID, &a.Customer, &a.Kind, &a.Name, &a.Currency, &a.Status, &a.Number, &a.Routing,
		&a.Limit, &a.Unbounded, &a.Balance, &a.Held, &opened)
	a.OpenedAt = fromMicros(opened)
	return a, err
}

// Apply implements ledger.Store. SQLite has a single writer, so the batch is
// one BEGIN IMMEDIATE transaction on the writer connection; no other writer
// can change the rows between the reads and the writes.
//
// Most keys are new, so the first attempt does not look them up: it inserts
// with ON CONFLICT DO NOTHING and, if any key turns out to exist (a retry),
// rolls back and runs again with every key looked up. Accounts come from the
// cache when it is current (see accountCache).
func (s *LedgerStore) Apply(ctx context.Context, ops []ledger.Op, now time.Time) ([]ledger.Result, error) {
	// One batch at a time, from BEGIN until the cache holds its result: a
	// second batch must not read the cache between our COMMIT and our
	// cache update. SQLite would serialise the transactions anyway.
	s.db.applyMu.Lock()
	defer s.db.applyMu.Unlock()
	res, retry, err := s.apply(ctx, ops, now, false)
	if retry {
		res, _, err = s.apply(ctx, ops, now, true)
	}
	return res, err
}

func (s *LedgerStore) apply(ctx context.Context, ops []ledger.Op, now time.Time, lookupKeys bool) (_ []ledger.Result, retry bool, _ error) {
	const op = "sqlite.Ledger.Apply"
	tx, err := s.db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, mapErr(op, err, nil)
	}
	defer tx.Rollback()
	cache := &s.db.accounts
	if err := cache.sync(ctx, tx); err != nil {
		return nil, false, mapErr(op, err, nil)
	}

	snap := ledger.Snapshot{Existing: map[ledger.Key]ledger.Stored{}, Targets: map[ledger.TransferID]*ledger.Transfer{}, Accounts: map[ledger.AccountID]*ledger.Account{}}
	var byKey *sql.Stmt
	if lookupKeys {
		if byKey, err = tx.PrepareContext(ctx, `SELECT id, request_hash FROM transfers WHERE client = ? AND idem_key = ?`); err != nil {
			return nil, false, mapErr(op, err, nil)
		}
		defer byKey.Close()
	}
	for _, o := range ops {
		switch {
		case o.Kind == ledger.OpCreate && lookupKeys:
			k := ledger.Key{Client: o.Request.Client, Key: o.Request.Key}
			if _, seen := snap.Existing[k]; seen {
				continue
			}
			var id ledger.TransferID
			var hash []byte
			switch err := byKey.QueryRowContext(ctx, k.Client, k.Key).Scan(&id, &hash); {
			case errors.Is(err, sql.ErrNoRows):
				continue
			case err != nil:
				return nil, false, mapErr(op, err, nil)
			}
			t, err := transfer(ctx, tx, id)
			if err != nil {
				return nil, false, mapErr(op, err, nil)
			}
			snap.Existing[k] = ledger.Stored{Transfer: t, Hash: [32]byte(hash)}
		case o.Kind != ledger.OpCreate:
			if _, seen := snap.Targets[o.Transfer]; seen {
				continue
			}
			t, err := transfer(ctx, tx, o.Transfer)
			if errors.Is(err, ledger.ErrTransferNotFound) {
				continue
			}
			if err != nil {
				return nil, false, mapErr(op, err, nil)
			}
			snap.Targets[o.Transfer] = &t
		}
	}
	if err := cache.load(ctx, tx, ledger.Accounts(ops, snap.Targets), snap.Accounts); err != nil {
		return nil, false, mapErr(op, err, nil)
	}

	plan := ledger.Decide(ops, snap, now)

	if !lookupKeys {
		// A refused op may be the retry of a transfer already booked, which
		// must replay rather than be refused again: look up refused keys.
		for i, o := range ops {
			if o.Kind != ledger.OpCreate || plan.Results[i].Err == nil {
				continue
			}
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM transfers WHERE client = ? AND idem_key = ?`, o.Request.Client, o.Request.Key).Scan(&one)
			if err == nil {
				return nil, true, nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return nil, false, mapErr(op, err, nil)
			}
		}
	}

	if len(plan.New) > 0 {
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM transfers`).Scan(&last); err != nil {
			return nil, false, mapErr(op, err, nil)
		}
		ids := make([]ledger.TransferID, len(plan.New))
		for i := range ids {
			ids[i] = ledger.TransferID(last + int64(i) + 1)
		}
		plan.SetIDs(ids)
		trows := make([][]any, 0, len(plan.New))
		var prows [][]any
		for _, n := range plan.New {
			t := n.Transfer
			trows = append(trows, []any{t.ID, t.Client, t.Key, n.Hash[:], t.Currency, t.Amount(), t.Description,
				t.Merchant, t.Category, t.Status, micros(t.Created), micros(t.Posted)})
			for _, p := range t.Postings {
				prows = append(prows, []any{p.Account, micros(t.Created), t.ID, p.Amount})
			}
		}
		n, err := insertRows(ctx, tx, `INSERT INTO transfers (id, client, idem_key, request_hash, currency, amount, description, merchant_id, category, status, created_at, posted_at) VALUES `,
			` ON CONFLICT (client, idem_key) DO NOTHING`, trows)
		if err != nil {
			return nil, false, mapErr(op, err, nil)
		}
		if n != int64(len(trows)) {
			if lookupKeys {
				return nil, false, fmt.Errorf("%s: %d keys conflict after lookup", op, int64(len(trows))-n)
			}
			return nil, true, nil // a retried key: run again with lookups
		}
		if _, err := insertRows(ctx, tx, `INSERT INTO postings (account_id, at, transfer_id, amount) VALUES `, "", prows); err != nil {
			return nil, false, mapErr(op, err, nil)
		}
	}
	for _, c := range plan.Changes {
		col := "posted_at"
		if c.Status == ledger.Voided {
			col = "voided_at"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE transfers SET status = ?, `+col+` = ? WHERE id = ?`, c.Status, micros(c.At), c.ID); err != nil {
			return nil, false, mapErr(op, err, nil)
		}
	}
	if len(plan.Touched) > 0 {
		rows := make([][]any, 0, len(plan.Touched))
		for _, id := range plan.Touched {
			a := snap.Accounts[id]
			rows = append(rows, []any{a.ID, a.Balance, a.Held})
		}
		// UPDATE ... FROM (VALUES ...) sets every touched balance in one statement per chunk.
		for chunk := range chunks(rows, 300) {
			q := `UPDATE accounts SET balance = v.column2, held = v.column3 FROM (VALUES ` + placeholders(len(chunk), 3) + `) AS v WHERE accounts.id = v.column1`
			if _, err := tx.ExecContext(ctx, q, flatten(chunk)...); err != nil {
				return nil, false, mapErr(op, err, nil)
			}
		}
	}
	// The outbox: the batch's events in its own transaction, multi-row
	// inserts (100 rows a statement). The single writer makes the sequence
	// (AUTOINCREMENT) grow in commit order.
	if evs := plan.Events(snap); len(evs) > 0 {
		rows := make([][]any, len(evs))
		for i, e := range evs {
			rows[i] = []any{e.Transfer, e.Status, e.Settles, e.Currency, ledger.EncodePostings(e.Postings), e.Merchant, e.Category, e.Description, micros(e.At)}
		}
		if _, err := insertRows(ctx, tx, `INSERT INTO ledger_events (transfer_id, status, settles, currency, postings, merchant_id, category, description, at) VALUES `, "", rows); err != nil {
			return nil, false, mapErr(op, err, nil)
		}
	}
	if err := tx.Commit(); err != nil {
		cache.reset()
		return nil, false, mapErr(op, err, nil)
	}
	cache.store(snap.Accounts, plan.Touched)
	return plan.Results, false, nil
}

// insertRows inserts rows with multi-row INSERT statements of at most 100 rows,
// which cuts the per-statement cost that dominates SQLite inserts, and
// returns how many rows were inserted.
func insertRows(ctx context.Context, tx *sql.Tx, prefix, suffix string, rows [][]any) (int64, error) {
	var total int64
	for chunk := range chunks(rows, 100) {
		res, err := tx.ExecContext(ctx, prefix+placeholders(len(chunk), len(chunk[0]))+suffix, flatten(chunk)...)
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

func chunks(rows [][]any, n int) func(func([][]any) bool) {
	return func(yield func([][]any) bool) {
		for len(rows) > 0 {
			k := min(n, len(rows))
			if !yield(rows[:k]) {
				return
			}
			rows = rows[k:]
		}
	}
}

func placeholders(rows, cols int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	return strings.TrimSuffix(strings.Repeat(one+",", rows), ",")
}

func flatten(rows [][]any) []any {
	out := make([]any, 0, len(rows)*len(rows[0]))
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

type querier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

const transferCols = `id, client, idem_key, currency, description, merchant_id, category, status, created_at, posted_at, voided_at`

func scanTransfer(r scanner) (ledger.Transfer, error) {
	var t ledger.Transfer
	var c, p, v int64
	err := r.Scan(&t.ID, &t.Client, &t.Key, &t.Currency, &t.Description, &t.Merchant, &t.Category, &t.Status, &c, &p, &v)
	t.Created, t.Posted, t.Voided = fromMicros(c), fromMicros(p), fromMicros(v)
	return t, err
}

func transfer(ctx context.Context, q querier, id ledger.TransferID) (ledger.Transfer, error) {
	t, err := scanTransfer(q.QueryRowContext(ctx, `SELECT `+transferCols+` FROM transfers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, ledger.ErrTransferNotFound
	}
	if err != nil {
		return t, err
	}
	rows, err := q.QueryContext(ctx, `SELECT account_id, amount FROM postings WHERE transfer_id = ? ORDER BY amount, account_id`, id)
	if err != nil {
		return t, err
	}
	defer rows.Close()
	for rows.Next() {
		var p ledger.Posting
		if err := rows.Scan(&p.Account, &p.Amount); err != nil {
			return t, err
		}
		t.Postings = append(t.Postings, p)
	}
	return t, rows.Err()
}

// CreateAccount implements ledger.Store.
func (s *LedgerStore) CreateAccount(ctx context.Context, a ledger.Account) (ledger.Account, error) {
	if err := a.Validate(); err != nil {
		return a, err
	}
	if a.OpenedAt.IsZero() {
		a.OpenedAt = time.Now().UTC()
	}
	if a.Status == "" {
		a.Status = ledger.Open
	}
	a.Balance, a.Held = 0, 0
	res, err := s.db.w.ExecContext(ctx, `INSERT INTO accounts (customer_id, kind, name, currency, status, number, routing, limit_minor, unbounded, opened_at) VALUES (?,?,?,?,?,?,?,?,?,?)`,
		a.Customer, a.Kind, a.Name, a.Currency, a.Status, string(a.Number), a.Routing, a.Limit, a.Unbounded, micros(a.OpenedAt))
	if err != nil {
		return a, mapErr("sqlite.Ledger.CreateAccount", err, ledger.ErrDuplicate)
	}
	id, err := res.LastInsertId()
	a.ID = ledger.AccountID(id)
	a.OpenedAt = fromMicros(micros(a.OpenedAt))
	return a, err
}

// Account implements ledger.Store.
func (s *LedgerStore) Account(ctx context.Context, id ledger.AccountID) (ledger.Account, error) {
	a, err := scanAccount(s.db.r.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, ledger.ErrAccountNotFound
	}
	return a, mapErr("sqlite.Ledger.Account", err, nil)
}

// CustomerAccounts implements ledger.Store.
func (s *LedgerStore) CustomerAccounts(ctx context.Context, c bankbridge.CustomerID) ([]ledger.Account, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE customer_id = ? ORDER BY id`, c)
	if err != nil {
		return nil, mapErr("sqlite.Ledger.CustomerAccounts", err, nil)
	}
	return collect(rows, scanAccount)
}

func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// SetAccountStatus implements ledger.Store. It goes through the writer so it
// serialises with transfer batches.
func (s *LedgerStore) SetAccountStatus(ctx context.Context, id ledger.AccountID, st ledger.AccountStatus) error {
	switch st {
	case ledger.Open, ledger.Frozen, ledger.Closed:
	default:
		return bankbridge.E(bankbridge.Invalid, "account_status_invalid", "unknown account status")
	}
	// Under applyMu, so a batch finishing now cannot put the old status
	// back into the cache after we forget it.
	s.db.applyMu.Lock()
	defer s.db.applyMu.Unlock()
	res, err := s.db.w.ExecContext(ctx, `UPDATE accounts SET status = ? WHERE id = ?`, st, id)
	if err != nil {
		return mapErr("sqlite.Ledger.SetAccountStatus", err, nil)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ledger.ErrAccountNotFound
	}
	s.db.accounts.forget(id)
	return nil
}

// Transfer implements ledger.Store.
func (s *LedgerStore) Transfer(ctx context.Context, id ledger.TransferID) (ledger.Transfer, error) {
	t, err := transfer(ctx, s.db.r, id)
	if errors.Is(err, ledger.ErrTransferNotFound) {
		return t, err
	}
	return t, mapErr("sqlite.Ledger.Transfer", err, nil)
}

// History implements ledger.Store: a range scan of the postings primary key
// (account_id, at, transfer_id), newest first, from the cursor on.
func (s *LedgerStore) History(ctx context.Context, q ledger.HistoryQuery) (ledger.HistoryPage, error) {
	limit, err := ledger.HistoryLimit(q.Limit)
	if err != nil {
		return ledger.HistoryPage{}, err
	}
	var where []string
	args := []any{q.Account}
	where = append(where, "p.account_id = ?")
	if q.After != nil {
		where = append(where, "(p.at, p.transfer_id) < (?, ?)")
		args = append(args, micros(q.After.At), q.After.ID)
	}
	if !q.From.IsZero() {
		where = append(where, "p.at >= ?")
		args = append(args, micros(q.From))
	}
	if !q.To.IsZero() {
		where = append(where, "p.at < ?")
		args = append(args, micros(q.To))
	}
	if q.Status != "" {
		where = append(where, "t.status = ?")
		args = append(args, q.Status)
	}
	if q.Search != "" {
		where = append(where, `t.description LIKE ? ESCAPE '\'`)
		args = append(args, "%"+ledger.EscapeLike(q.Search)+"%")
	}
	args = append(args, limit+1)
	rows, err := s.db.r.QueryContext(ctx, `SELECT t.id, t.client, t.idem_key, t.currency, t.description, t.merchant_id, t.category, t.status, t.created_at, t.posted_at, t.voided_at, p.amount
FROM postings p JOIN transfers t ON t.id = p.transfer_id
WHERE `+strings.Join(where, " AND ")+`
ORDER BY p.at DESC, p.transfer_id DESC LIMIT ?`, args...)
	if err != nil {
		return ledger.HistoryPage{}, mapErr("sqlite.Ledger.History", err, nil)
	}
	defer rows.Close()
	var page ledger.HistoryPage
	for rows.Next() {
		var e ledger.Entry
		var c, p, v int64
		t := &e.Transfer
		if err := rows.Scan(&t.ID, &t.Client, &t.Key, &t.Currency, &t.Description, &t.Merchant, &t.Category, &t.Status, &c, &p, &v, &e.Amount); err != nil {
			return page, mapErr("sqlite.Ledger.History", err, nil)
		}
		t.Created, t.Posted, t.Voided = fromMicros(c), fromMicros(p), fromMicros(v)
		page.Entries = append(page.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return page, mapErr("sqlite.Ledger.History", err, nil)
	}
	page.Trim(limit)
	return page, nil
}

// Verify implements ledger.Store. It reads inside one transaction so that it
// sees a single snapshot even while transfers are being written.
func (s *LedgerStore) Verify(ctx context.Context) (ledger.Report, error) {
	const op = "sqlite.Ledger.Verify"
	tx, err := s.db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return ledger.Report{}, mapErr(op, err, nil)
	}
	defer tx.Rollback()
	var r ledger.Report
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM transfers), (SELECT count(*) FROM postings)`).Scan(&r.Accounts, &r.Transfers, &r.Postings); err != nil {
		return r, mapErr(op, err, nil)
	}
	for _, c := range ledgersql.Checks {
		rows, err := tx.QueryContext(ctx, c.SQL)
		if err != nil {
			return r, mapErr(op, err, nil)
		}
		for rows.Next() {
			var id string
			var a, b int64
			if err := rows.Scan(&id, &a, &b); err != nil {
				rows.Close()
				return r, mapErr(op, err, nil)
			}
			r.Problems = append(r.Problems, fmt.Sprintf(c.Format, id, a, b))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return r, mapErr(op, err, nil)
		}
	}
	return r, nil
}

// Events implements ledger.Store: a range scan of the events' primary key.
func (s *LedgerStore) Events(ctx context.Context, after ledger.EventSeq, limit int) ([]ledger.Event, error) {
	const op = "sqlite.Ledger.Events"
	limit, err := ledger.EventLimit(limit)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.r.QueryContext(ctx, `SELECT seq, transfer_id, status, settles, currency, postings, merchant_id, category, description, at
FROM ledger_events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, mapErr(op, err, nil)
	}
	defer rows.Close()
	var out []ledger.Event
	for rows.Next() {
		var e ledger.Event
		var ps string
		var at int64
		if err := rows.Scan(&e.Seq, &e.Transfer, &e.Status, &e.Settles, &e.Currency, &ps, &e.Merchant, &e.Category, &e.Description, &at); err != nil {
			return nil, mapErr(op, err, nil)
		}
		if e.Postings, err = ledger.DecodePostings(ps); err != nil {
			return nil, err
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	return out, mapErr(op, rows.Err(), nil)
}
