package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
)

// MirrorStore implements rails.MirrorStore: what mirror mode imported from
// the core. Every write is an insert that does nothing on a key seen before,
// so two importers, or one run again after a crash, agree.
type MirrorStore struct{ db *DB }

var _ rails.MirrorStore = (*MirrorStore)(nil)

// Mirror returns the mirror store.
func (s Stores) Mirror() *MirrorStore { return &MirrorStore{db: s.db} }

func scanMirrorAccount(sc Scanner) (rails.MirrorAccount, error) {
	var a rails.MirrorAccount
	var at int64
	err := sc.Scan(&a.Number, &a.Account, &a.Currency, &a.TakeOn, &at)
	a.At = fromMicros(at)
	return a, err
}

const mirrorAccountCols = `number, account_id, currency, take_on, at`

// TakeOn implements rails.MirrorStore.
func (s *MirrorStore) TakeOn(ctx context.Context, a rails.MirrorAccount) (rails.MirrorAccount, error) {
	const op = "sqlstore.Mirror.TakeOn"
	if _, err := s.db.W().Exec(ctx, `INSERT INTO mirror_accounts (`+mirrorAccountCols+`) VALUES ($1,$2,$3,$4,$5) ON CONFLICT (number) DO NOTHING`,
		string(a.Number), int64(a.Account), string(a.Currency), int64(a.TakeOn), micros(a.At)); err != nil {
		return rails.MirrorAccount{}, s.db.Err(op, err, nil)
	}
	got, err := scanMirrorAccount(s.db.W().QueryRow(ctx, `SELECT `+mirrorAccountCols+` FROM mirror_accounts WHERE number = $1`, string(a.Number)))
	return got, s.db.Err(op, err, nil)
}

// MirrorAccounts implements rails.MirrorStore.
func (s *MirrorStore) MirrorAccounts(ctx context.Context) ([]rails.MirrorAccount, error) {
	rows, err := s.db.R().Query(ctx, `SELECT `+mirrorAccountCols+` FROM mirror_accounts ORDER BY number`)
	if err != nil {
		return nil, s.db.Err("sqlstore.Mirror.MirrorAccounts", err, nil)
	}
	as, err := Collect(rows, scanMirrorAccount)
	return as, s.db.Err("sqlstore.Mirror.MirrorAccounts", err, nil)
}

const mirrorStatementCols = `number, seq, stmt_id, msg_id, hash, currency, closing, entries, at`

func scanStatement(sc Scanner) (rails.ImportedStatement, error) {
	var st rails.ImportedStatement
	var hash []byte
	var at int64
	err := sc.Scan(&st.Account, &st.Seq, &st.ID, &st.MsgID, &hash, &st.Currency, &st.Closing, &st.Entries, &at)
	copy(st.Hash[:], hash)
	st.At = fromMicros(at)
	return st, err
}

func (s *MirrorStore) statement(ctx context.Context, op, q string, args ...any) (rails.ImportedStatement, bool, error) {
	st, err := scanStatement(s.db.W().QueryRow(ctx, `SELECT `+mirrorStatementCols+` FROM mirror_statements `+q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return rails.ImportedStatement{}, false, nil
	}
	return st, err == nil, s.db.Err(op, err, nil)
}

// LastStatement implements rails.MirrorStore. It reads from the writer, so
// an import sees the statement it recorded a moment ago.
func (s *MirrorStore) LastStatement(ctx context.Context, acct ledger.AccountNumber) (rails.ImportedStatement, bool, error) {
	return s.statement(ctx, "sqlstore.Mirror.LastStatement", `WHERE number = $1 ORDER BY seq DESC LIMIT 1`, string(acct))
}

// ImportedStatement implements rails.MirrorStore.
func (s *MirrorStore) ImportedStatement(ctx context.Context, acct ledger.AccountNumber, seq int64) (rails.ImportedStatement, bool, error) {
	return s.statement(ctx, "sqlstore.Mirror.ImportedStatement", `WHERE number = $1 AND seq = $2`, string(acct), seq)
}

// RecordStatement implements rails.MirrorStore.
func (s *MirrorStore) RecordStatement(ctx context.Context, st rails.ImportedStatement) error {
	const op = "sqlstore.Mirror.RecordStatement"
	res, err := s.db.W().Exec(ctx, `INSERT INTO mirror_statements (`+mirrorStatementCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)
		ON CONFLICT (number, seq) DO NOTHING`, string(st.Account), st.Seq, st.ID, st.MsgID, st.Hash[:], string(st.Currency), int64(st.Closing), st.Entries, micros(st.At))
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return s.db.Err(op, err, nil)
	}
	prev, _, err := s.ImportedStatement(ctx, st.Account, st.Seq)
	if err != nil {
		return err
	}
	if prev.Hash != st.Hash {
		return rails.ErrStatementConflict
	}
	return nil
}

// AddException implements rails.MirrorStore.
func (s *MirrorStore) AddException(ctx context.Context, x rails.MirrorException) error {
	_, err := s.db.W().Exec(ctx, `INSERT INTO mirror_exceptions (number, ref, seq, amount, code, at) VALUES ($1,$2,$3,$4,$5,$6)
		ON CONFLICT (number, ref) DO NOTHING`, string(x.Account), x.Ref, x.Seq, int64(x.Amount), x.Code, micros(x.At))
	return s.db.Err("sqlstore.Mirror.AddException", err, nil)
}

// Exceptions implements rails.MirrorStore.
func (s *MirrorStore) Exceptions(ctx context.Context) ([]rails.MirrorException, error) {
	rows, err := s.db.R().Query(ctx, `SELECT number, ref, seq, amount, code, at FROM mirror_exceptions ORDER BY at, number, ref`)
	if err != nil {
		return nil, s.db.Err("sqlstore.Mirror.Exceptions", err, nil)
	}
	xs, err := Collect(rows, func(sc Scanner) (rails.MirrorException, error) {
		var x rails.MirrorException
		var at int64
		err := sc.Scan(&x.Account, &x.Ref, &x.Seq, &x.Amount, &x.Code, &at)
		x.At = fromMicros(at)
		return x, err
	})
	return xs, s.db.Err("sqlstore.Mirror.Exceptions", err, nil)
}

var _ rails.AccountListStore = (*MirrorStore)(nil)

// RecordOpened implements rails.AccountListStore.
func (s *MirrorStore) RecordOpened(ctx context.Context, o rails.OpenedAccount) (bool, error) {
	res, err := s.db.W().Exec(ctx, `INSERT INTO mirror_opened (number, account_id, customer_id, currency, file, status, detail, at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (number) DO UPDATE SET account_id = excluded.account_id, customer_id = excluded.customer_id,
		currency = excluded.currency, file = excluded.file, status = excluded.status, detail = excluded.detail, at = excluded.at
		WHERE mirror_opened.status <> 'opened'`,
		string(o.Number), int64(o.Account), int64(o.Customer), string(o.Currency), o.File, o.Status, o.Detail, micros(o.At))
	if err != nil {
		return false, s.db.Err("sqlstore.Mirror.RecordOpened", err, nil)
	}
	n, err := res.RowsAffected()
	return n == 1, s.db.Err("sqlstore.Mirror.RecordOpened", err, nil)
}

// OpenedAccounts implements rails.AccountListStore.
func (s *MirrorStore) OpenedAccounts(ctx context.Context) ([]rails.OpenedAccount, error) {
	rows, err := s.db.R().Query(ctx, `SELECT number, account_id, customer_id, currency, file, status, detail, at FROM mirror_opened ORDER BY number`)
	if err != nil {
		return nil, s.db.Err("sqlstore.Mirror.OpenedAccounts", err, nil)
	}
	os, err := Collect(rows, func(sc Scanner) (rails.OpenedAccount, error) {
		var o rails.OpenedAccount
		var at int64
		err := sc.Scan(&o.Number, &o.Account, &o.Customer, &o.Currency, &o.File, &o.Status, &o.Detail, &at)
		o.At = fromMicros(at)
		return o, err
	})
	return os, s.db.Err("sqlstore.Mirror.OpenedAccounts", err, nil)
}
