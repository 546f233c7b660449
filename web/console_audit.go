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
	Export  string            // the query string of the export links
	Names   map[string]string // "staff:2" -> "Sam Agent (staff:2)"
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
		view.Names = s.staffNames(r, p.Records)
		view.Export = url.Values{"customer": {f.Customer}, "partner": {f.Partner}, "kind": {f.Kind}, "from": {f.From}, "to": {f.To}}.Encode()
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

// staffNames names the members of staff who acted in records, so the log
// reads "Sam Agent (staff:2)" rather than "staff:2". An actor that cannot be
// read keeps its id.
func (s *server) staffNames(r *http.Request, recs []audit.Record) map[string]string {
	names := map[string]string{}
	for _, rec := range recs {
		id, ok := strings.CutPrefix(rec.Actor, "staff:")
		if !ok {
			continue
		}
		if _, done := names[rec.Actor]; done {
			continue
		}
		names[rec.Actor] = rec.Actor
		if n, err := strconv.ParseInt(id, 10, 64); err == nil {
			if st, err := s.Auth.Staff(r.Context(), bankbridge.StaffID(n)); err == nil {
				names[rec.Actor] = st.Name + " (" + rec.Actor + ")"
			}
		}
	}
	return names
}

// consoleAuditExport downloads the records the filter matches, each with
// its inclusion proof and the signed tree head, as CSV or JSON: what an
// examiner takes away and checks with "bankbridge audit verify".
func (s *server) consoleAuditExport(format string) func(http.ResponseWriter, *http.Request, *visit) {
	return func(w http.ResponseWriter, r *http.Request, v *visit) {
		if s.Audit == nil {
			s.notFound(w, r, v)
			return
		}
		in := r.URL.Query()
		f := auditFilter{Customer: strings.TrimSpace(in.Get("customer")), Partner: strings.TrimSpace(in.Get("partner")),
			Kind: in.Get("kind"), From: in.Get("from"), To: in.Get("to")}
		q, problem := parseAuditFilter(f, "")
		if problem != "" {
			s.failPage(w, r, v, http.StatusBadRequest, "Bad request", problem)
			return
		}
		x, err := s.Audit.Export(r.Context(), q)
		if bankbridge.ErrorKind(err) == bankbridge.Invalid {
			s.failPage(w, r, v, http.StatusBadRequest, "Too many records", bankbridge.ErrorMessage(err)+".")
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		name := "audit-" + s.Now().UTC().Format("2006-01-02") + "." + format
		h := w.Header()
		h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
		if format == "csv" {
			h.Set("Content-Type", "text/csv; charset=utf-8")
			err = x.WriteCSV(w)
		} else {
			h.Set("Content-Type", "application/json")
			err = x.WriteJSON(w)
		}
		if err != nil {
			s.Logger.ErrorContext(r.Context(), "web: export audit", "request_id", bankbridge.RequestID(r.Context()), "err", err)
		}
	}
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
