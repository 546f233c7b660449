package statement

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/legible"
)

// Bank is the issuer's details printed at the top of every page.
type Bank struct {
	Name    string
	Address []string // postal address, one line each
	Phone   string
	Website string
}

// DemoBank is the demo bank's details, used when a caller has none.
var DemoBank = Bank{
	Name:    "bankbridge",
	Address: []string{"bankbridge demo bank", "100 Example Street", "Springfield, IL 62701"},
	Phone:   "1-800-555-0100",
	Website: "bankbridge.example",
}

// Named returns b under another name, when name is not empty: the name an
// edge shows in its pages (web.Deps.BankName, dataapi.Deps.BankName), so
// the statement names the bank as the pages around it do.
func (b Bank) Named(name string) Bank {
	if name != "" {
		b.Name = name
	}
	return b
}

// Categories of transfer totalled apart on a statement (the ledger's
// Transfer.Category).
const (
	CategoryFees     = "fees"
	CategoryInterest = "interest"
)

// Line is one transaction on a statement.
type Line struct {
	Transfer    ledger.TransferID
	Date        time.Time // when the transaction was made (Transfer.Created), UTC
	Description string
	Category    string
	Amount      ledger.Amount // signed, as it moved this account
	Balance     ledger.Amount // the account's balance after this line
}

// Statement is one account's statement for one month.
type Statement struct {
	Bank     Bank
	Holder   string   // the customer's name
	Address  []string // the customer's postal address, one line each
	Account  ledger.Account
	Start    time.Time // first instant of the month, UTC
	End      time.Time // first instant of the next month, UTC (exclusive)
	Opening  ledger.Amount
	Closing  ledger.Amount
	Credits  ledger.Amount // money in, >= 0
	Debits   ledger.Amount // money out, >= 0
	Fees     ledger.Amount // net of fee transfers, signed (negative when charged)
	Interest ledger.Amount // net of interest transfers, signed (positive when paid)
	Lines    []Line        // oldest first
	// Lang is the language the document is written in: "" for English,
	// Spanish ("es") for a customer who chose it. Build leaves it English;
	// the caller sets it before rendering (see spanish.go).
	Lang string
}

// History is what Build reads: one page of an account's history, newest
// first. ledger.Store implements it.
type History interface {
	History(ctx context.Context, q ledger.HistoryQuery) (ledger.HistoryPage, error)
}

// ErrMonth is a month that is not the first instant of a month in UTC.
var ErrMonth = bankbridge.E(bankbridge.Invalid, "statement_netinvalid", "a statement month starts on its first day at 00:00 UTC")

// ErrOverflow is a statement whose sums do not fit the ledger's amounts.
var ErrOverflow = bankbridge.E(bankbridge.Internal, "statement_overflow", "the statement's totals overflow")

// pageSize is how many history entries Build asks for at a time: the
// ledger's largest page.
const pageSize = 500

// Build reads a's posted history from month's start to now and makes its
// statement for that month. The closing balance is a's current balance less
// what was posted after the month; the opening one is the closing less the
// month's lines. Build does not check that the caller may see a.
func Build(ctx context.Context, h History, bank Bank, holder identity.Customer, a ledger.Account, month time.Time) (*Statement, error) {
	if !month.Equal(Month(month)) || month.Location() != time.UTC {
		return nil, ErrMonth
	}
	st := &Statement{Bank: bank, Holder: legible.Clean(holder.Name), Address: address(holder.Address), Account: a,
		Start: month, End: month.AddDate(0, 1, 0)}
	var after ledger.Amount
	var lines []Line
	var cur *ledger.Cursor
	add := func(to *ledger.Amount, v ledger.Amount) (ok bool) { *to, ok = to.Add(v); return ok }
	for {
		p, err := h.History(ctx, ledger.HistoryQuery{Account: a.ID, Limit: pageSize, After: cur, From: month, Status: ledger.Posted})
		if err != nil {
			return nil, fmt.Errorf("statement: history of account %d: %w", a.ID, err)
		}
		for _, e := range p.Entries {
			t := e.Transfer
			if !t.Created.Before(st.End) {
				if !add(&after, e.Amount) {
					return nil, ErrOverflow
				}
				continue
			}
			lines = append(lines, Line{Transfer: t.ID, Date: t.Created.UTC(), Description: legible.Clean(t.Description), Category: t.Category, Amount: e.Amount})
		}
		if p.Next == nil {
			break
		}
		cur = p.Next
	}
	// Oldest first; the store's order is newest first by (time, id).
	slices.SortFunc(lines, func(x, y Line) int {
		if c := x.Date.Compare(y.Date); c != 0 {
			return c
		}
		return int(x.Transfer - y.Transfer)
	})
	neg, ok := after.Neg()
	if !ok || !add(&st.Closing, a.Balance) || !add(&st.Closing, neg) {
		return nil, ErrOverflow
	}
	var net ledger.Amount // the month's net movement
	for _, l := range lines {
		ok := add(&net, l.Amount)
		switch {
		case l.Amount < 0:
			ok = ok && add(&st.Debits, -l.Amount)
		default:
			ok = ok && add(&st.Credits, l.Amount)
		}
		switch l.Category {
		case CategoryFees:
			ok = ok && add(&st.Fees, l.Amount)
		case CategoryInterest:
			ok = ok && add(&st.Interest, l.Amount)
		}
		if !ok {
			return nil, ErrOverflow
		}
	}
	neg, ok = net.Neg()
	if !ok || !add(&st.Opening, st.Closing) || !add(&st.Opening, neg) {
		return nil, ErrOverflow
	}
	bal := st.Opening
	for i := range lines {
		if !add(&bal, lines[i].Amount) {
			return nil, ErrOverflow
		}
		lines[i].Balance = bal
	}
	st.Lines = lines
	return st, nil
}

// address is a postal address as the lines an envelope shows.
func address(a identity.Address) []string {
	var out []string
	for _, l := range []string{a.Line1, a.Line2, strings.TrimSpace(strings.Join(nonEmpty(strings.TrimSpace(a.City+", "+a.Region), a.PostalCode), " ")), a.Country} {
		if l = strings.Trim(legible.Clean(l), " ,"); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.Trim(s, " ,"); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Month returns the first instant, in UTC, of the month t falls in (UTC).
func Month(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// Months lists the complete months from the one holding from to the one
// before now, newest first, at most n: the statements that exist for an
// account opened at from.
func Months(from, now time.Time, n int) []time.Time {
	first := Month(from)
	var out []time.Time
	for m := Month(now).AddDate(0, -1, 0); !m.Before(first) && len(out) < n; m = m.AddDate(0, -1, 0) {
		out = append(out, m)
	}
	return out
}

// Period names the statement's month for people in its language: "March
// 2026", "marzo de 2026".
func (s *Statement) Period() string { return MonthName(s.Lang, s.Start) }

// LastDay is the statement's last day (its date).
func (s *Statement) LastDay() time.Time { return s.End.AddDate(0, 0, -1) }

// Name is a file name for the statement without extension:
// "statement-0012-2026-03".
func (s *Statement) Name() string {
	n := string(s.Account.Number)
	if len(n) > 4 {
		n = n[len(n)-4:]
	}
	return "statement-" + n + "-" + s.Start.Format("2006-01")
}
