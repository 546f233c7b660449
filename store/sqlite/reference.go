package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	sqlite3 "github.com/mattn/go-sqlite3"
)

// CreateMerchant implements ledger.Store.
func (s *LedgerStore) CreateMerchant(ctx context.Context, m ledger.Merchant) (ledger.Merchant, error) {
	res, err := s.db.w.ExecContext(ctx, `INSERT INTO merchants (name, mcc, category, city, country) VALUES (?,?,?,?,?)`, m.Name, m.MCC, m.Category, m.City, m.Country)
	if err != nil {
		return m, mapErr("sqlite.Ledger.CreateMerchant", err, ledger.ErrDuplicate)
	}
	id, err := res.LastInsertId()
	m.ID = ledger.MerchantID(id)
	return m, err
}

// Merchant implements ledger.Store.
func (s *LedgerStore) Merchant(ctx context.Context, id ledger.MerchantID) (ledger.Merchant, error) {
	m := ledger.Merchant{ID: id}
	err := s.db.r.QueryRowContext(ctx, `SELECT name, mcc, category, city, country FROM merchants WHERE id = ?`, id).Scan(&m.Name, &m.MCC, &m.Category, &m.City, &m.Country)
	if errors.Is(err, sql.ErrNoRows) {
		return m, ledger.ErrMerchantNotFound
	}
	return m, mapErr("sqlite.Ledger.Merchant", err, nil)
}

// CreateCard implements ledger.Store.
func (s *LedgerStore) CreateCard(ctx context.Context, c ledger.Card) (ledger.Card, error) {
	if c.Created.IsZero() {
		c.Created = time.Now()
	}
	if c.Status == "" {
		c.Status = ledger.CardActive
	}
	res, err := s.db.w.ExecContext(ctx, `INSERT INTO cards (account_id, customer_id, last4, network, status, created_at) VALUES (?,?,?,?,?,?)`,
		c.Account, c.Customer, c.Last4, c.Network, c.Status, micros(c.Created))
	var se sqlite3.Error
	if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintForeignKey {
		return c, ledger.ErrAccountNotFound
	}
	if err != nil {
		return c, mapErr("sqlite.Ledger.CreateCard", err, ledger.ErrDuplicate)
	}
	id, err := res.LastInsertId()
	c.ID = ledger.CardID(id)
	c.Created = fromMicros(micros(c.Created))
	return c, err
}

// CustomerCards implements ledger.Store.
func (s *LedgerStore) CustomerCards(ctx context.Context, cust bankbridge.CustomerID) ([]ledger.Card, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT id, account_id, customer_id, last4, network, status, created_at FROM cards WHERE customer_id = ? ORDER BY id`, cust)
	if err != nil {
		return nil, mapErr("sqlite.Ledger.CustomerCards", err, nil)
	}
	return collect(rows, func(r scanner) (ledger.Card, error) {
		var c ledger.Card
		var created int64
		err := r.Scan(&c.ID, &c.Account, &c.Customer, &c.Last4, &c.Network, &c.Status, &created)
		c.Created = fromMicros(created)
		return c, err
	})
}

// SetCardStatus implements ledger.Store.
func (s *LedgerStore) SetCardStatus(ctx context.Context, id ledger.CardID, st ledger.CardStatus) error {
	if st != ledger.CardActive && st != ledger.CardFrozen {
		return bankbridge.E(bankbridge.Invalid, "card_status_invalid", "unknown card status")
	}
	res, err := s.db.w.ExecContext(ctx, `UPDATE cards SET status = ? WHERE id = ?`, st, id)
	if err != nil {
		return mapErr("sqlite.Ledger.SetCardStatus", err, nil)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ledger.ErrCardNotFound
	}
	return nil
}

// CreatePayee implements ledger.Store.
func (s *LedgerStore) CreatePayee(ctx context.Context, p ledger.Payee) (ledger.Payee, error) {
	if p.Created.IsZero() {
		p.Created = time.Now()
	}
	res, err := s.db.w.ExecContext(ctx, `INSERT INTO payees (customer_id, name, nickname, account_id, routing, number, created_at) VALUES (?,?,?,?,?,?,?)`,
		p.Customer, p.Name, p.Nickname, p.Account, p.Routing, string(p.Number), micros(p.Created))
	if err != nil {
		return p, mapErr("sqlite.Ledger.CreatePayee", err, ledger.ErrDuplicate)
	}
	id, err := res.LastInsertId()
	p.ID = ledger.PayeeID(id)
	p.Created = fromMicros(micros(p.Created))
	return p, err
}

// Payees implements ledger.Store.
func (s *LedgerStore) Payees(ctx context.Context, cust bankbridge.CustomerID) ([]ledger.Payee, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT id, customer_id, name, nickname, account_id, routing, number, created_at FROM payees WHERE customer_id = ? ORDER BY nickname`, cust)
	if err != nil {
		return nil, mapErr("sqlite.Ledger.Payees", err, nil)
	}
	return collect(rows, func(r scanner) (ledger.Payee, error) {
		var p ledger.Payee
		var created int64
		err := r.Scan(&p.ID, &p.Customer, &p.Name, &p.Nickname, &p.Account, &p.Routing, &p.Number, &created)
		p.Created = fromMicros(created)
		return p, err
	})
}
