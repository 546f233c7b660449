package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bankbridge/bankbridge/ledger"
	sqlite3 "github.com/mattn/go-sqlite3"
)

// Bulk inserts: CreateAccounts, CreateCards and CreatePayees are the
// single-row Create methods for many rows at once, for the demo seed and
// imports. Each is one BEGIN IMMEDIATE transaction on the writer connection
// (one commit, one fsync, however many rows) with multi-row INSERTs of 100
// rows (insertRows): all rows are written or none.
//
// Ids are assigned here, not by SQLite: max(id)+1, +2... read inside the
// transaction, which already holds the database's write lock, so nobody can
// take those ids in between. That is what SQLite itself would pick for an
// INTEGER PRIMARY KEY without AUTOINCREMENT, and it gives ids in increasing
// order of position by construction. RETURNING would not: SQLite documents
// the order of the rows it returns as arbitrary, and the cards table has no
// unique column to match them back by.

// CreateAccounts is CreateAccount for many accounts in one transaction. It
// returns them in order with their ids, which increase with position. Every
// account is validated first (the first invalid one is returned, wrapped
// with its position); a number already taken, by the database or earlier in
// as, is ErrDuplicate. On any error nothing is written.
func (s *LedgerStore) CreateAccounts(ctx context.Context, as []ledger.Account) ([]ledger.Account, error) {
	const op = "sqlite.Ledger.CreateAccounts"
	out := make([]ledger.Account, len(as))
	now := time.Now().UTC()
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
	err := s.bulkInsert(ctx, "accounts",
		`INSERT INTO accounts (id, customer_id, kind, name, currency, status, number, routing, limit_minor, unbounded, opened_at) VALUES `,
		len(out), func(i int, id int64) []any {
			a := &out[i]
			a.ID = ledger.AccountID(id)
			return []any{id, a.Customer, a.Kind, a.Name, a.Currency, a.Status, string(a.Number), a.Routing, a.Limit, a.Unbounded, micros(a.OpenedAt)}
		})
	if err != nil {
		return nil, mapErr(op, err, ledger.ErrDuplicate)
	}
	return out, nil
}

// CreateCards is CreateCard for many cards in one transaction. It returns
// them in order with their ids, which increase with position. A zero Status
// is CardActive and a zero Created is now. A card on an account that does
// not exist is ErrAccountNotFound. On any error nothing is written.
func (s *LedgerStore) CreateCards(ctx context.Context, cs []ledger.Card) ([]ledger.Card, error) {
	const op = "sqlite.Ledger.CreateCards"
	out := make([]ledger.Card, len(cs))
	now := time.Now().UTC()
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
	err := s.bulkInsert(ctx, "cards",
		`INSERT INTO cards (id, account_id, customer_id, last4, network, status, created_at) VALUES `,
		len(out), func(i int, id int64) []any {
			c := &out[i]
			c.ID = ledger.CardID(id)
			return []any{id, c.Account, c.Customer, c.Last4, c.Network, c.Status, micros(c.Created)}
		})
	var se sqlite3.Error
	if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintForeignKey {
		return nil, ledger.ErrAccountNotFound.WithOp(op, err)
	}
	if err != nil {
		return nil, mapErr(op, err, nil)
	}
	return out, nil
}

// CreatePayees is CreatePayee for many payees in one transaction. It returns
// them in order with their ids, which increase with position. A zero
// Created is now. A nickname the customer already uses, in the database or
// earlier in ps, is ErrDuplicate. On any error nothing is written.
func (s *LedgerStore) CreatePayees(ctx context.Context, ps []ledger.Payee) ([]ledger.Payee, error) {
	const op = "sqlite.Ledger.CreatePayees"
	out := make([]ledger.Payee, len(ps))
	now := time.Now().UTC()
	for i, p := range ps {
		if p.Created.IsZero() {
			p.Created = now
		}
		p.Created = fromMicros(micros(p.Created))
		out[i] = p
	}
	err := s.bulkInsert(ctx, "payees",
		`INSERT INTO payees (id, customer_id, name, nickname, account_id, routing, number, created_at) VALUES `,
		len(out), func(i int, id int64) []any {
			p := &out[i]
			p.ID = ledger.PayeeID(id)
			return []any{id, p.Customer, p.Name, p.Nickname, p.Account, p.Routing, string(p.Number), micros(p.Created)}
		})
	if err != nil {
		return nil, mapErr(op, err, ledger.ErrDuplicate)
	}
	return out, nil
}

// bulkInsert writes n rows into table in one write transaction. row(i, id)
// gives the values of row i, whose id is the table's largest id plus i+1;
// insert is the INSERT ... VALUES prefix naming the columns in that order.
// The caller's copies get their ids through row even when the transaction
// then fails; callers discard them on error.
func (s *LedgerStore) bulkInsert(ctx context.Context, table, insert string, n int, row func(i int, id int64) []any) error {
	if n == 0 {
		return nil
	}
	// The DSN's _txlock=immediate makes this BEGIN IMMEDIATE: the write lock
	// is held from here, before max(id) is read.
	tx, err := s.db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var last int64
	// table is one of three constants of this file, never outside input.
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM `+table).Scan(&last); err != nil {
		return err
	}
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = row(i, last+int64(i)+1)
	}
	got, err := insertRows(ctx, tx, insert, "", rows)
	if err != nil {
		return err
	}
	if got != int64(n) {
		return fmt.Errorf("%d of %d rows inserted into %s", got, n, table)
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return nil
}
