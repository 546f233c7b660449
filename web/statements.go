package web

import (
	"bytes"
	"cmp"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/statement"
)

// statementMonths is how many monthly statements the app lists: two years,
// as the partner API does.
const statementMonths = 24

// statementsView is an account's list of monthly statements.
type statementsView struct {
	Account ledger.Account
	Months  []statementMonth
}

// statementMonth is one month a statement exists for.
type statementMonth struct {
	Label string // "March 2026"
	Key   string // "2026-03", the download's path segment
	Last  time.Time
}

// statements lists the account's complete months since it opened, newest
// first, each with its PDF and CSV.
func (s *server) statements(w http.ResponseWriter, r *http.Request, v *visit) {
	a, ok := s.ownAccountPage(w, r, v)
	if !ok {
		return
	}
	sv := statementsView{Account: a}
	l := string(s.lang(r))
	for _, m := range statement.Months(a.OpenedAt, s.Now(), statementMonths) {
		sv.Months = append(sv.Months, statementMonth{Label: statement.MonthName(l, m), Key: m.Format("2006-01"), Last: m.AddDate(0, 1, -1)})
	}
	s.record(v.sess.Customer, insights.Action, "statement", 0)
	p := v.titled("Statements for %s", "accounts", a.Name)
	p.Data = sv
	s.render(w, r, http.StatusOK, "statements", p)
}

// statementFile serves one month's statement as PDF or CSV: the same
// document the partner API serves (package statement builds both).
func (s *server) statementFile(w http.ResponseWriter, r *http.Request, v *visit) {
	a, ok := s.ownAccountPage(w, r, v)
	if !ok {
		return
	}
	key, format, _ := strings.Cut(r.PathValue("file"), ".")
	month, err := time.Parse("2006-01", key)
	if err != nil || (format != "pdf" && format != "csv") || !month.Equal(statement.Month(month)) {
		s.notFound(w, r, v)
		return
	}
	// Only the months the list offers: complete, since the account opened.
	listed := false
	for _, m := range statement.Months(a.OpenedAt, s.Now(), statementMonths) {
		listed = listed || m.Equal(month)
	}
	if !listed {
		s.notFound(w, r, v)
		return
	}
	c, err := s.Auth.Customer(r.Context(), v.sess.Customer)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := statement.Build(r.Context(), s.Ledger.Store(), statement.DemoBank.Named(s.BankName), c, a, month)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// In the customer's language, as the partner API serves it.
	st.Lang = string(s.lang(r))
	var buf bytes.Buffer
	ctype := "application/pdf"
	if format == "csv" {
		ctype = "text/csv; charset=utf-8"
		err = st.CSV(&buf)
	} else {
		err = st.PDF(&buf)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(v.sess.Customer, insights.Action, "statement", 0)
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Language", contentLanguage(st.Lang))
	h.Set("Content-Disposition", `attachment; filename="`+st.Name()+"."+format+`"`)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = w.Write(buf.Bytes())
}

// contentLanguage is a statement's Content-Language (RFC 9110 section 8.5).
func contentLanguage(lang string) string {
	if lang == statement.Spanish {
		return "es"
	}
	return "en"
}

// transactionView is one transaction as it touched one of the customer's
// accounts.
type transactionView struct {
	Account  ledger.Account
	Transfer ledger.Transfer
	Amount   ledger.Amount // signed, for Account
	Merchant *ledger.Merchant
	Card     *ledger.Card
	Back     string // the history page to return to
}

// transaction shows one transaction of one of the customer's accounts:
// what, where (merchant and its category), with which card, its status and
// dates. A transfer that does not touch the account is 404, as is an
// account that is not the customer's.
func (s *server) transaction(w http.ResponseWriter, r *http.Request, v *visit) {
	a, ok := s.ownAccountPage(w, r, v)
	if !ok {
		return
	}
	ctx := r.Context()
	n, err := strconv.ParseInt(r.PathValue("tx"), 10, 64)
	if err != nil || n <= 0 {
		s.notFound(w, r, v)
		return
	}
	t, err := s.Ledger.Store().Transfer(ctx, ledger.TransferID(n))
	if errors.Is(err, ledger.ErrTransferNotFound) {
		s.notFound(w, r, v)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	tv := transactionView{Account: a, Transfer: t, Back: "/accounts/" + strconv.FormatInt(int64(a.ID), 10)}
	touched := false
	for _, p := range t.Postings {
		if p.Account == a.ID {
			tv.Amount += p.Amount
			touched = true
		}
	}
	if !touched {
		s.notFound(w, r, v)
		return
	}
	if t.Merchant != 0 {
		m, err := s.Ledger.Store().Merchant(ctx, t.Merchant)
		if err != nil && !errors.Is(err, ledger.ErrMerchantNotFound) {
			s.fail(w, r, err)
			return
		}
		if err == nil {
			tv.Merchant = &m
		}
		// The ledger does not record which card paid; a purchase at a
		// merchant on an account with one card was that card.
		cards, err := s.Ledger.Store().CustomerCards(ctx, v.sess.Customer)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var on []ledger.Card
		for _, c := range cards {
			if c.Account == a.ID {
				on = append(on, c)
			}
		}
		if len(on) == 1 {
			tv.Card = &on[0]
		}
	}
	s.record(v.sess.Customer, insights.Action, "history", 0)
	p := v.page(cmp.Or(t.Description, "Transaction"), "accounts")
	p.Data = tv
	s.render(w, r, http.StatusOK, "transaction", p)
}

// ownAccountPage is ownAccount for a page: on any failure it has answered
// (404 for an account that is not the customer's) and reports false.
func (s *server) ownAccountPage(w http.ResponseWriter, r *http.Request, v *visit) (ledger.Account, bool) {
	a, err := s.ownAccount(r.Context(), v, r.PathValue("id"))
	if err != nil {
		if errors.Is(err, errNotYours) {
			s.notFound(w, r, v)
		} else {
			s.fail(w, r, err)
		}
		return ledger.Account{}, false
	}
	return a, true
}
