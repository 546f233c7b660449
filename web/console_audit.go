package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
)

// auditRoles may read the audit log in the console.
var auditRoles = []identity.Role{identity.Compliance, identity.Administrator}

// consoleAuditPage bounds the records on one console page.
const consoleAuditPage = 100

// auditFilter is the console audit page's form, as typed.
type auditFilter struct {
	Customer, Partner, Kind, From, To string
}

type consoleAuditView struct {
	Filter  auditFilter
	Kinds   []audit.Kind
	Records []audit.Record
	Older   string
	Error   string
}

// consoleAudit lists audit records for compliance staff, newest first,
// filtered by customer, partner, kind and dates.
func (s *server) consoleAudit(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Audit == nil {
		s.notFound(w, r, v)
		return
	}
	in := r.URL.Query()
	f := auditFilter{Customer: strings.TrimSpace(in.Get("customer")), Partner: strings.TrimSpace(in.Get("partner")),
		Kind: in.Get("kind"), From: in.Get("from"), To: in.Get("to")}
	view := consoleAuditView{Filter: f, Kinds: audit.Kinds}
	q, problem := parseAuditFilter(f, in.Get("before"))
	status := http.StatusOK
	if problem != "" {
		view.Error, status = problem, http.StatusBadRequest
	} else {
		q.Limit = consoleAuditPage
		p, err := s.Audit.Records(r.Context(), q)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		view.Records = p.Records
		if p.Next != 0 {
			next := url.Values{"customer": {f.Customer}, "partner": {f.Partner}, "kind": {f.Kind}, "from": {f.From}, "to": {f.To},
				"before": {strconv.FormatUint(p.Next, 10)}}
			view.Older = "/console/audit?" + next.Encode()
		}
	}
	pg := s.consolePage(v, "Audit log")
	pg.Nav = "audit"
	pg.Data = view
	s.render(w, r, status, "console_audit", pg)
}

// parseAuditFilter turns the form into a query, or says what is wrong.
func parseAuditFilter(f auditFilter, before string) (audit.Query, string) {
	var q audit.Query
	if f.Customer != "" {
		n, err := strconv.ParseInt(f.Customer, 10, 64)
		if err != nil || n <= 0 {
			return q, "The customer number is a whole number."
		}
		q.Customer = bankbridge.CustomerID(n)
	}
	if len(f.Partner) > 64 {
		return q, "The partner id is at most 64 characters."
	}
	q.Partner = f.Partner
	if f.Kind != "" {
		if !audit.Kind(f.Kind).Valid() {
			return q, "Choose a kind of record from the list."
		}
		q.Kind = audit.Kind(f.Kind)
	}
	var err error
	if f.From != "" {
		if q.From, err = time.Parse(time.DateOnly, f.From); err != nil {
			return q, "Dates are written YYYY-MM-DD."
		}
	}
	if f.To != "" {
		if q.To, err = time.Parse(time.DateOnly, f.To); err != nil {
			return q, "Dates are written YYYY-MM-DD."
		}
		q.To = q.To.AddDate(0, 0, 1) // the To day is included
	}
	if before != "" {
		if q.Before, err = strconv.ParseUint(before, 10, 64); err != nil {
			return q, "That page of records does not exist."
		}
	}
	return q, ""
}

// auditStaffView records, durably, that the member of staff behind v is
// about to see customer c's details and accounts. It answers false (having
// answered the request) when the record could not be written: no record,
// no view.
func (s *server) auditStaffView(w http.ResponseWriter, r *http.Request, v *visit, c bankbridge.CustomerID, accts []ledger.Account) bool {
	if s.Audit == nil {
		return true
	}
	ids := make([]ledger.AccountID, len(accts))
	for i, a := range accts {
		ids[i] = a.ID
	}
	_, err := s.Audit.Append(r.Context(), audit.Record{
		Kind: audit.StaffView, Customer: c, Accounts: ids,
		// What the console's customer page shows: name, email, customer
		// since; each account's name, masked number, balances and status.
		Clusters: []string{"CUSTOMER_CONTACT", "ACCOUNT_BASIC", "ACCOUNT_DETAILED", "BALANCES"},
		Purpose:  "bank console (" + string(v.sess.Role) + ")",
		Actor:    audit.ActorString(bankbridge.Actor{Kind: bankbridge.ActorStaff, Staff: v.sess.Staff}),
		Detail:   "GET /console/customers/{id}",
	})
	if err != nil {
		s.fail(w, r, err)
		return false
	}
	return true
}
