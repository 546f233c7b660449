package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/bankbridge/bankbridge/ledger"
)

// Bulk inserts: CreateAccounts, CreateCards and CreatePayees are the
// single-row Create methods for many rows at once, for the demo seed and
// imports. Each is one write transaction whatever the number of rows (one
// commit): the ids (takeIDs), then the rows through Upsert, one statement
// over arrays on PostgreSQL, multi-row VALUES on SQLite; all rows are
// written or none.
//
// Ids come from takeIDs, sorted, and the i-th goes to the i-th row, so ids
// increase with position: on SQLite max(id)+1, +2... read inside the
// transaction, which holds the write lock from BEGIN IMMEDIATE (what SQLite
// would pick itself, where RETURNING would give the rows in no documented
// order); on PostgreSQL the table's own sequence, whose values drawn by
// other sessions meanwhile only leave gaps.

// CreateAccounts is CreateAccount for many accounts in one transaction. It
// returns them in order with their ids, which increase with position. Every
// account is validated first (the first invalid one is returned, wrapped
// with its position); a number already taken, by the database or earlier in
// as, is ErrDuplicate. On any error nothing is written.
func (s *LedgerShared) CreateAccounts(ctx context.Context, as []ledger.Account) ([]ledger.Account, error) {
	out := make([]ledger.Account, len(as))
	now := time.Now()
	for i, a := range as {
		if err := a.Validate(); err != nil {
			return nil, fmt.Errorf("account %d of %d: %w", i+1, len(as), err)
		}
		if a.OpenedAt.IsZero() {
			a.OpenedAt = now
		}
		if a.Status == "" {
			a.Status = ledger.Open
		}
		a.Balance, a.Held = 0, 0
		a.OpenedAt = fromMicros(micros(a.OpenedAt))
		out[i] = a
	}
	err := s.bulk(ctx, "accounts", `INSERT INTO accounts (id, customer_id, kind, name, currency, status, number, routing, limit_minor, unbounded, opened_at)`,
		len(out), func(i int, id int64) []any {
			a := &out[i]
			a.ID = ledger.AccountID(id)
			return []any{id, int64(a.Customer), string(a.Kind), a.Name, string(a.Currency), string(a.Status), string(a.Number), a.Routing,
				int64(a.Limit), a.Unbounded, micros(a.OpenedAt)}
		})
	if err != nil {
		return nil, s.db.Err("sqlstore.Ledger.CreateAccounts", err, ledger.ErrDuplicate)
	}
	return out, nil
}

// CreateCards is CreateCard for many cards in one transaction. It returns
// them in order with their ids, which increase with position. A zero Status
// is CardActive and a zero Created is now. A card on an account that does
// not exist is ErrAccountNotFound. On any error nothing is written.
func (s *LedgerShared) CreateCards(ctx context.Context, cs []ledger.Card) ([]ledger.Card, error) {
	const op = "sqlstore.Ledger.CreateCards"
	out := make([]ledger.Card, len(cs))
	now := time.Now()
	for i, c := range cs {
		if c.Created.IsZero() {
			c.Created = now
		}
		if c.Status == "" {
			c.Status = ledger.CardActive
		}
		c.Created = fromMicros(micros(c.Created))
		out[i] = c
	}
	err := s.bulk(ctx, "cards", `INSERT INTO cards (id, account_id, customer_id, last4, network, status, created_at)`,
		len(out), func(i int, id int64) []any {
			c := &out[i]
			c.ID = ledger.CardID(id)
			return []any{id, int64(c.Account), int64(c.Customer), c.Last4, c.Network, string(c.Status), micros(c.Created)}
		})
	if s.db.Foreign(err) {
		return nil, ledger.ErrAccountNotFound.WithOp(op, err)
	}
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	return out, nil
}

// CreatePayees is CreatePayee for many payees in one transaction. It returns
// them in order with their ids, which increase with position. A zero
// Created is now. A nickname the customer already uses, in the database or
// earlier in ps, is ErrDuplicate. On any error nothing is written.
func (s *LedgerShared) CreatePayees(ctx context.Context, ps []ledger.Payee) ([]ledger.Payee, error) {
	out := make([]ledger.Payee, len(ps))
	now := time.Now()
	for i, p := range ps {
		if p.Created.IsZero() {
			p.Created = now
		}
		p.Created = fromMicros(micros(p.Created))
		out[i] = p
	}
	err := s.bulk(ctx, "payees", `INSERT INTO payees (id, customer_id, name, nickname, account_id, routing, number, created_at)`,
		len(out), func(i int, id int64) []any {
			p := &out[i]
			p.ID = ledger.PayeeID(id)
			return []any{id, int64(p.Customer), p.Name, p.Nickname, int64(p.Account), p.Routing, string(p.Number), micros(p.Created)}
		})
	if err != nil {
		return nil, s.db.Err("sqlstore.Ledger.CreatePayees", err, ledger.ErrDuplicate)
	}
	return out, nil
}

// bulk writes n rows into table in one write transaction. row(i, id) gives
// the values of row i, in the order of insert's column list, with its id;
// table is one of this file's three constants, never outside input. The
// caller's copies get their ids through row even when the transaction then
// fails; callers discard them on error.
func (s *LedgerShared) bulk(ctx context.Context, table, insert string, n int, row func(i int, id int64) []any) error {
	if n == 0 {
		return nil
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ids, err := s.db.takeIDs(ctx, tx, table, n)
	if err != nil {
		return err
	}
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = row(i, ids[i])
	}
	if err := s.db.Upsert(ctx, tx, insert, "", rows); err != nil {
		return err
	}
	return tx.Commit()
}
