package dataapi

import (
	"encoding/json"
	"time"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/ledger"
)

// Statement is FDX's Statement entity in a list.
type Statement struct {
	AccountID     string `json:"accountId"`
	StatementID   string `json:"statementId"`
	StatementDate string `json:"statementDate"`
	Description   string `json:"description"`
	Status        string `json:"status"`
	Links         []Link `json:"links"`
}

// Statements is the answer of GET /accounts/{accountId}/statements.
type Statements struct {
	Page       *PageMetadata `json:"page,omitempty"`
	Statements []Statement   `json:"statements"`
}

// StatementDocument is a statement's content as JSON (FDX leaves the
// document's format to the provider; this bank serves JSON, not PDF):
// balances at the start and end of the month and the month's totals, all
// from posted transactions by transaction time.
type StatementDocument struct {
	AccountID        string      `json:"accountId"`
	StatementID      string      `json:"statementId"`
	StartDate        string      `json:"startDate"`
	EndDate          string      `json:"endDate"`
	Currency         Currency    `json:"currency"`
	OpeningBalance   json.Number `json:"openingBalance"`
	ClosingBalance   json.Number `json:"closingBalance"`
	TotalCredits     json.Number `json:"totalCredits"`
	TotalDebits      json.Number `json:"totalDebits"`
	TransactionCount int         `json:"transactionCount"`
}

// maxStatements bounds the list: two years of months.
const maxStatements = 24

// months lists the complete months of a's life within the consent's
// look-back, newest first: the statements that exist.
func (c *call) months(a ledger.Account, now time.Time) []time.Time {
	first := now.Add(-time.Duration(c.acc.Grant.LookbackDays) * 24 * time.Hour)
	if a.OpenedAt.After(first) {
		first = a.OpenedAt
	}
	first = time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, time.UTC)
	m := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	var out []time.Time
	for !m.Before(first) && len(out) < maxStatements {
		out = append(out, m)
		m = m.AddDate(0, -1, 0)
	}
	return out
}

func (s *Server) statements(c *call) {
	id := c.r.PathValue("accountId")
	a, err := c.resolve(id, consent.Statements)
	if err != nil {
		c.fail(err)
		return
	}
	months, page, err := c.statementPage(c.months(a, s.d.Now().UTC()))
	if err != nil {
		c.fail(err)
		return
	}
	c.disclose([]ledger.AccountID{a.ID}, []consent.Cluster{consent.Statements}, []string{"statements.list"})
	out := Statements{Statements: []Statement{}, Page: page}
	for _, m := range months {
		sid := s.ids.Statement(c.partner, a.ID, m)
		out.Statements = append(out.Statements, Statement{AccountID: id, StatementID: sid,
			StatementDate: m.AddDate(0, 1, -1).Format(time.DateOnly), Description: "Statement for " + m.Format("January 2006"), Status: "AVAILABLE",
			Links: []Link{{Href: Prefix + "/accounts/" + id + "/statements/" + sid, Rel: "self", Types: []string{"application/json"}}}})
	}
	c.json(200, out)
}

func (s *Server) statement(c *call) {
	id := c.r.PathValue("accountId")
	a, err := c.resolve(id, consent.Statements)
	if err != nil {
		c.fail(err)
		return
	}
	sid := c.r.PathValue("statementId")
	var month time.Time
	for _, m := range c.months(a, s.d.Now().UTC()) {
		if validID(sid) && s.ids.Statement(c.partner, a.ID, m) == sid {
			month = m
		}
	}
	if month.IsZero() {
		c.fail(errNotFound)
		return
	}
	c.disclose([]ledger.AccountID{a.ID}, []consent.Cluster{consent.Statements}, []string{"statements.document"})
	end := month.AddDate(0, 1, 0)
	// Walk the history from now back to the month's start: what came after
	// the month turns the current balance into the closing one.
	var after, credits, debits ledger.Amount
	n := 0
	var cur *ledger.Cursor
	for {
		p, err := s.d.Ledger.Store().History(c.ctx, ledger.HistoryQuery{Account: a.ID, Limit: 500, After: cur, From: month, Status: ledger.Posted})
		if err != nil {
			c.fail(err)
			return
		}
		for _, e := range p.Entries {
			switch {
			case !e.Transfer.Created.Before(end):
				after += e.Amount
			case e.Amount < 0:
				debits -= e.Amount
				n++
			default:
				credits += e.Amount
				n++
			}
		}
		if p.Next == nil {
			break
		}
		cur = p.Next
	}
	closing := a.Balance - after
	c.json(200, StatementDocument{AccountID: id, StatementID: sid, StartDate: month.Format(time.DateOnly), EndDate: end.AddDate(0, 0, -1).Format(time.DateOnly),
		Currency: Currency{string(a.Currency)}, OpeningBalance: money(closing-credits+debits, a.Currency), ClosingBalance: money(closing, a.Currency),
		TotalCredits: money(credits, a.Currency), TotalDebits: money(debits, a.Currency), TransactionCount: n})
}
