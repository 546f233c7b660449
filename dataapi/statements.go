package dataapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/statement"
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

// StatementDocument is a statement's figures as JSON, for a request whose
// Accept prefers JSON: balances at the start and end of the month and the
// month's totals, all from posted transactions by transaction time. With
// Accept: application/pdf the same route answers the statement document
// itself (package statement), the one the customer downloads from the web
// app.
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
	pdf := wantsPDF(c.r.Header.Values("Accept"))
	c.w.Header().Add("Vary", "Accept")
	var holder identity.Customer
	if pdf {
		// The document is the customer's statement as the bank issues it,
		// addressed to the holder: the PDF carries their name and address.
		if holder, err = s.d.Customers.Customer(c.ctx, c.acc.Grant.Customer); err != nil {
			c.fail(err)
			return
		}
	}
	st, err := statement.Build(c.ctx, s.d.Ledger.Store(), statement.DemoBank.Named(s.d.BankName), holder, a, month)
	if err != nil {
		c.fail(err)
		return
	}
	if pdf {
		// The customer's statement in the customer's language, byte for
		// byte the one they download from the bank's app; Accept-Language
		// is not consulted (docs/dataapi.md, "Statements").
		if s.d.Language != nil {
			st.Lang = s.d.Language(c.ctx, c.acc.Grant.Customer)
		}
		c.disclose([]ledger.AccountID{a.ID}, []consent.Cluster{consent.Statements}, []string{"statements.document", "statements.document.transactions", "statements.document.holder"})
		var buf bytes.Buffer
		if err := st.PDF(&buf); err != nil {
			c.fail(err)
			return
		}
		if !c.waitAudit() {
			return
		}
		h := c.w.Header()
		h.Set("Content-Type", "application/pdf")
		h.Set("Content-Language", "en") // RFC 9110 section 8.5
		if st.Lang == statement.Spanish {
			h.Set("Content-Language", "es")
		}
		h.Set("Content-Disposition", `inline; filename="`+st.Name()+`.pdf"`)
		c.w.WriteHeader(http.StatusOK)
		_, _ = c.w.Write(buf.Bytes())
		return
	}
	c.disclose([]ledger.AccountID{a.ID}, []consent.Cluster{consent.Statements}, []string{"statements.document"})
	cur := a.Currency
	c.json(200, StatementDocument{AccountID: id, StatementID: sid, StartDate: month.Format(time.DateOnly), EndDate: st.LastDay().Format(time.DateOnly),
		Currency: Currency{string(cur)}, OpeningBalance: money(st.Opening, cur), ClosingBalance: money(st.Closing, cur),
		TotalCredits: money(st.Credits, cur), TotalDebits: money(st.Debits, cur), TransactionCount: len(st.Lines)})
}

// wantsPDF reports whether the request's Accept prefers the statement as
// PDF to JSON (RFC 9110 §12.5.1): the more specific media range sets each
// type's quality, and JSON wins ties. An Accept that names neither is
// disregarded, as §12.5.1 allows, and gets JSON, the default.
func wantsPDF(accept []string) bool {
	q := func(want string) float64 {
		best, spec := 0.0, -1
		for _, h := range accept {
			for _, r := range strings.Split(h, ",") {
				mt, params, _ := strings.Cut(strings.TrimSpace(r), ";")
				mt = strings.ToLower(strings.TrimSpace(mt))
				s := -1
				switch {
				case mt == want:
					s = 2
				case mt == want[:strings.IndexByte(want, '/')]+"/*":
					s = 1
				case mt == "*/*":
					s = 0
				}
				if s < spec || s < 0 {
					continue
				}
				v := 1.0
				for _, p := range strings.Split(params, ";") {
					if k, val, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
						if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil && f >= 0 && f <= 1 {
							v = f
						}
					}
				}
				best, spec = v, s
			}
		}
		return best
	}
	return q("application/pdf") > q("application/json")
}
