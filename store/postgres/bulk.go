package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/bankbridge/bankbridge/ledger"
	"github.com/jackc/pgx/v5"
)

// Bulk inserts: CreateAccounts, CreateCards and CreatePayees are the
// single-row Create methods for many rows at once, for the demo seed and
// imports. Each is one transaction of three round trips whatever the number
// of rows: BEGIN, the ids, one INSERT ... SELECT FROM unnest of arrays, and
// COMMIT; all rows are written or none.
//
// The ids come from the table's own sequence (bigserial: accounts_id_seq,
// cards_id_seq, payees_id_seq), n values in one statement, sorted, and the
// i-th goes to the i-th row, so ids increase with position even when other
// sessions draw from the sequence at the same time (their values only leave
// gaps). Ids drawn by a transaction that then fails are not reused, as with
// any sequence.

// CreateAccounts is CreateAccount for many accounts in one transaction. It
// returns them in order with their ids, which increase with position. Every
// account is validated first (the first invalid one is returned, wrapped
// with its position); a number already taken, by the database or earlier in
// as, is ErrDuplicate. On any error nothing is written.
func (s *LedgerStore) CreateAccounts(ctx context.Context, as []ledger.Account) ([]ledger.Account, error) {
	const op = "postgres.Ledger.CreateAccounts"
	n := len(as)
	out := make([]ledger.Account, n)
	var (
		cust, limit, opened          = make([]int64, n), make([]int64, n), make([]int64, n)
		kind, name, cur, st, num, rt = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		unb                          = make([]bool, n)
	)
	now := time.Now()
	for i, a := range as {
		if err := a.Validate(); err != nil {
			return nil, fmt.Errorf("account %d of %d: %w", i+1, n, err)
		}
		if a.OpenedAt.IsZero() {
			a.OpenedAt = now
		}
		a.OpenedAt = a.OpenedAt.UTC().Truncate(time.Microsecond)
		if a.Status == "" {
			a.Status = ledger.Open
		}
		a.Balance, a.Held = 0, 0
		out[i] = a
		cust[i], kind[i], name[i], cur[i], st[i] = int64(a.Customer), string(a.Kind), a.Name, string(a.Currency), string(a.Status)
		num[i], rt[i], limit[i], unb[i], opened[i] = string(a.Number), a.Routing, int64(a.Limit), a.Unbounded, micros(a.OpenedAt)
	}
	err := s.bulkInsert(ctx, "accounts_id_seq", n, func(ids []int64) (string, []any) {
		for i := range out {
			out[i].ID = ledger.AccountID(ids[i])
		}
		return `INSERT INTO accounts (id, customer_id, kind, name, currency, status, number, routing, limit_minor, unbounded, opened_at)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::boolean[], $11::bigint[])`,
			[]any{ids, cust, kind, name, cur, st, num, rt, limit, unb, opened}
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
	const op = "postgres.Ledger.CreateCards"
	n := len(cs)
	out := make([]ledger.Card, n)
	acct, cust, created := make([]int64, n), make([]int64, n), make([]int64, n)
	last4, network, st := make([]string, n), make([]string, n), make([]string, n)
	now := time.Now()
	for i, c := range cs {
		if c.Created.IsZero() {
			c.Created = now
		}
		c.Created = c.Created.UTC().Truncate(time.Microsecond)
		if c.Status == "" {
			c.Status = ledger.CardActive
		}
		out[i] = c
		acct[i], cust[i], last4[i], network[i], st[i], created[i] = int64(c.Account), int64(c.Customer), c.Last4, c.Network, string(c.Status), micros(c.Created)
	}
	err := s.bulkInsert(ctx, "cards_id_seq", n, func(ids []int64) (string, []any) {
		for i := range out {
			out[i].ID = ledger.CardID(ids[i])
		}
		return `INSERT INTO cards (id, account_id, customer_id, last4, network, status, created_at)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[])`,
			[]any{ids, acct, cust, last4, network, st, created}
	})
	if isCode(err, "23503") { // foreign key: no such account
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
	const op = "postgres.Ledger.CreatePayees"
	n := len(ps)
	out := make([]ledger.Payee, n)
	cust, acct, created := make([]int64, n), make([]int64, n), make([]int64, n)
	name, nick, rt, num := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	now := time.Now()
	for i, p := range ps {
		if p.Created.IsZero() {
			p.Created = now
		}
		p.Created = p.Created.UTC().Truncate(time.Microsecond)
		out[i] = p
		cust[i], name[i], nick[i], acct[i], rt[i], num[i], created[i] = int64(p.Customer), p.Name, p.Nickname, int64(p.Account), p.Routing, string(p.Number), micros(p.Created)
	}
	err := s.bulkInsert(ctx, "payees_id_seq", n, func(ids []int64) (string, []any) {
		for i := range out {
			out[i].ID = ledger.PayeeID(ids[i])
		}
		return `INSERT INTO payees (id, customer_id, name, nickname, account_id, routing, number, created_at)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::bigint[])`,
			[]any{ids, cust, name, nick, acct, rt, num, created}
	})
	if err != nil {
		return nil, mapErr(op, err, ledger.ErrDuplicate)
	}
	return out, nil
}

// bulkInsert draws n ids from seq and runs the INSERT that insert builds
// from them, in one transaction. The ids passed to insert are in increasing
// order. Callers discard the ids insert recorded when it fails.
func (s *LedgerStore) bulkInsert(ctx context.Context, seq string, n int, insert func(ids []int64) (string, []any)) error {
	if n == 0 {
		return nil
	}
	tx, err := s.db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	// seq is one of three constants of this file, never outside input.
	rows, err := tx.Query(ctx, `SELECT nextval('`+seq+`') FROM generate_series(1, $1)`, n)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	if len(ids) != n {
		return fmt.Errorf("asked %s for %d ids, got %d", seq, n, len(ids))
	}
	slices.Sort(ids)
	q, args := insert(ids)
	tag, err := tx.Exec(ctx, q, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() != int64(n) {
		return fmt.Errorf("%d of %d rows inserted", tag.RowsAffected(), n)
	}
	return tx.Commit(ctx)
}
