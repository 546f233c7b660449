package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/legible"
	"github.com/bankbridge/bankbridge/rails"
)

// Two console pages over the rails' exceptions (docs/rails.md, "Settling
// what waits in the exceptions account" and "Instant returns and
// recalls"; docs/staff.md):
//
//   - /console/rails/exceptions lists what waits in the ACH return
//     exceptions account and lets a compliance officer or an administrator
//     settle an item (credit the customer, charge the customer, write it
//     off), with a confirmation and a reason, audited with their name
//     before it is made. rails.Service.Resolve keeps it to one decision per
//     item on every instance.
//   - /console/rails/payments/{id}/recall asks a settled instant payment
//     back on a customer's behalf (support and administrators), through
//     the customers' own rails.Service.RequestReturn.

// recallRoles may ask an instant payment back for a customer: the staff
// who take the customer's call.
var recallRoles = []identity.Role{identity.Administrator, identity.Support}

// exceptionsRoutes adds the pages above (called by railsRoutes).
func (s *server) exceptionsRoutes(mux *http.ServeMux) {
	mux.Handle("GET /console/rails/exceptions", s.staff(railsRoles, s.consoleExceptions))
	mux.Handle("GET /console/rails/exceptions/{file}/{kind}/{trace}", s.staff(complianceRoles, s.consoleResolveForm))
	mux.Handle("POST /console/rails/exceptions/{file}/{kind}/{trace}", s.staff(complianceRoles, s.consoleResolve))
	mux.Handle("GET /console/rails/payments/{id}/recall", s.staff(recallRoles, s.consoleRecallForm))
	mux.Handle("POST /console/rails/payments/{id}/recall", s.staff(recallRoles, s.consoleRecall))
}

// exceptionRow is one item waiting, as the page shows it.
type exceptionRow struct {
	rails.Waiting
	Path    string // its confirmation page, without the action
	Words   string // its code in words
	Decider string // who decided, when a decision waits to be booked
}

// resolvedRow is one item settled.
type resolvedRow struct {
	rails.Resolution
	Staff   string
	Account ledger.Account
}

type exceptionsView struct {
	Waiting  []exceptionRow
	Resolved []resolvedRow
	Recon    rails.Reconciliation
	CanAct   bool
}

func exceptionPath(e rails.Entry) string {
	return "/console/rails/exceptions/" + strconv.FormatInt(int64(e.File), 10) + "/" + url.PathEscape(string(e.Kind)) + "/" + url.PathEscape(e.Trace)
}

func (s *server) exceptionRow(r *http.Request, w rails.Waiting) exceptionRow {
	row := exceptionRow{Waiting: w, Path: exceptionPath(w.Entry), Words: rails.DishonorWords(w.Entry.Code)}
	if w.Pending != nil {
		row.Decider = s.staffName(r, w.Pending.Staff)
	}
	return row
}

func (s *server) consoleExceptions(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Rails == nil {
		s.notFound(w, r, v)
		return
	}
	ctx := r.Context()
	ws, err := s.Rails.Waiting(ctx, 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rs, err := s.Rails.Store().Resolutions(ctx, rails.ResolutionQuery{Limit: 30})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ev := exceptionsView{CanAct: slices.Contains(complianceRoles, v.sess.Role)}
	if ev.Recon, err = s.Rails.Reconcile(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	for _, x := range ws {
		ev.Waiting = append(ev.Waiting, s.exceptionRow(r, x))
	}
	for _, x := range rs {
		if x.Done.IsZero() {
			continue // listed above, as waiting with its decision
		}
		row := resolvedRow{Resolution: x, Staff: s.staffName(r, x.Staff)}
		if x.Account != 0 {
			if row.Account, err = s.Ledger.Store().Account(ctx, x.Account); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		ev.Resolved = append(ev.Resolved, row)
	}
	p := v.page("ACH return exceptions", "rails")
	// Words chosen here, never taken from the URL.
	p.Flash = map[string]string{
		rails.ResolveCredit:   "Settled: the money went to the customer's account. Your reason is in the audit log.",
		rails.ResolveCharge:   "Settled: the customer was charged; what their account could not pay is owed and taken from the next money in. Your reason is in the audit log.",
		rails.ResolveWriteOff: "Settled: written off to the bank's books. Your reason is in the audit log.",
	}[r.URL.Query().Get("done")]
	p.Data = ev
	s.render(w, r, http.StatusOK, "console_exceptions", p)
}

// resolveView is the confirmation of a settlement.
type resolveView struct {
	Item    exceptionRow
	Action  string
	Words   string // what will happen, in words
	Account string // a credit's account number, as typed
	Reason  string
	Error   string
	// Field is the field Error is about ("reason", "account"; "" the form).
	Field string
}

// exceptionItem reads the item the path names; false when it answered.
func (s *server) exceptionItem(w http.ResponseWriter, r *http.Request, v *visit) (rails.FileID, string, rails.EntryKind, bool) {
	n, err := strconv.ParseInt(r.PathValue("file"), 10, 64)
	kind, trace := rails.EntryKind(r.PathValue("kind")), r.PathValue("trace")
	if s.Rails == nil || err != nil || n <= 0 || trace == "" || kind != rails.EntryDishonor && kind != rails.EntryContest {
		s.notFound(w, r, v)
		return 0, "", "", false
	}
	return rails.FileID(n), trace, kind, true
}

// actionWords says what settling the item by action will do.
func actionWords(x rails.Waiting, action string) string {
	amt := x.Held
	if amt < 0 {
		amt = -amt
	}
	m := amt.Display("USD")
	switch action {
	case rails.ResolveCredit:
		return m + " goes from the ACH return exceptions account to the customer's account named below. The customer sees it in their history and is alerted."
	case rails.ResolveCharge:
		return "The ACH return receivable pays " + m + " into the exceptions account, and the customer owes it: the bank takes what " +
			x.Account.Name + " " + string(x.Account.Number.Masked()) + " can spend now, and the rest from the next money in (the overdraft-on-return rule). The account never goes past its limit."
	case rails.ResolveWriteOff:
		if x.Held > 0 {
			return "The bank keeps " + m + " on its own books: it goes to the ACH exceptions written-off account. No customer's account changes."
		}
		return "The bank bears the loss of " + m + ": the ACH exceptions written-off account pays it. No customer's account changes."
	}
	return ""
}

var actionTitles = map[string]string{
	rails.ResolveCredit:   "Credit the customer?",
	rails.ResolveCharge:   "Charge the customer?",
	rails.ResolveWriteOff: "Write it off to the bank?",
}

func (s *server) renderResolve(w http.ResponseWriter, r *http.Request, v *visit, status int, rv resolveView) {
	p := v.page(actionTitles[rv.Action], "rails")
	rv.Words = actionWords(rv.Item.Waiting, rv.Action)
	p.Data = rv
	s.render(w, r, status, "console_resolve", p)
}

// consoleResolveForm asks the officer to confirm a settlement and say why.
func (s *server) consoleResolveForm(w http.ResponseWriter, r *http.Request, v *visit) {
	f, trace, kind, ok := s.exceptionItem(w, r, v)
	if !ok {
		return
	}
	x, done := s.waitingOrSettled(w, r, v, f, trace, kind, "")
	if done {
		return
	}
	action := r.URL.Query().Get("action")
	if !slices.Contains(x.Actions, action) {
		s.failPage(w, r, v, http.StatusBadRequest, "Not a way to settle this item",
			"This item can be "+wordsOf(x.Actions)+". Go back to the list and choose one.")
		return
	}
	rv := resolveView{Item: s.exceptionRow(r, x), Action: action}
	if action == rails.ResolveCredit {
		rv.Account = string(x.Account.Number)
	}
	s.renderResolve(w, r, v, http.StatusOK, rv)
}

func wordsOf(actions []string) string {
	ws := make([]string, len(actions))
	for i, a := range actions {
		ws[i] = rails.ActionWords(a)
	}
	return strings.Join(ws, " or ")
}

// waitingOrSettled reads the item still waiting; when it is settled (or a
// decision is recorded) by someone else, or by this officer with another
// action, it answers 409 saying who did what; the same officer's same
// decision (a form sent twice) is finished and answered as done. true
// means it answered.
func (s *server) waitingOrSettled(w http.ResponseWriter, r *http.Request, v *visit, f rails.FileID, trace string, kind rails.EntryKind, action string) (rails.Waiting, bool) {
	ctx := r.Context()
	prev, err := s.Rails.Store().Resolution(ctx, f, trace, kind)
	switch {
	case err == nil && action != "" && prev.Staff == v.sess.Staff && prev.Action == action:
		// The same decision again: nothing new to audit; finish it if its
		// booking was interrupted, and answer as the first time.
		if _, err := s.Rails.Resolve(ctx, rails.ResolveRequest{File: f, Trace: trace, Kind: kind, Action: action, Staff: v.sess.Staff, Reason: prev.Reason}); err != nil {
			s.fail(w, r, err)
			return rails.Waiting{}, true
		}
		http.Redirect(w, r, "/console/rails/exceptions?done="+action, http.StatusSeeOther)
		return rails.Waiting{}, true
	case err == nil:
		s.settledPage(w, r, v, prev)
		return rails.Waiting{}, true
	case !errors.Is(err, rails.ErrResolutionNotFound):
		s.fail(w, r, err)
		return rails.Waiting{}, true
	}
	x, err := s.Rails.WaitingItem(ctx, f, trace, kind)
	if errors.Is(err, rails.ErrResolutionNotFound) {
		s.failPage(w, r, v, http.StatusNotFound, "Nothing waits there", "No item waits in the ACH return exceptions account under that entry.")
		return x, true
	}
	if err != nil {
		s.fail(w, r, err)
		return x, true
	}
	return x, false
}

func (s *server) settledPage(w http.ResponseWriter, r *http.Request, v *visit, prev rails.Resolution) {
	when := "is being booked"
	if !prev.Done.IsZero() {
		when = "on " + prev.Done.UTC().Format("2 January 2006 15:04 UTC")
	}
	s.failPage(w, r, v, http.StatusConflict, "Already settled",
		fmt.Sprintf("This item was %s by %s (%s). Nothing more was done.", rails.ActionWords(prev.Action), s.staffName(r, prev.Staff), when))
}

// consoleResolve settles an item: the reason checked, the decision audited
// with the officer's name before it is made (no record, no change), then
// rails.Service.Resolve, which keeps it to one decision on every instance.
func (s *server) consoleResolve(w http.ResponseWriter, r *http.Request, v *visit) {
	f, trace, kind, ok := s.exceptionItem(w, r, v)
	if !ok {
		return
	}
	ctx := r.Context()
	action := r.PostForm.Get("action")
	x, done := s.waitingOrSettled(w, r, v, f, trace, kind, action)
	if done {
		return
	}
	if !slices.Contains(x.Actions, action) {
		s.failPage(w, r, v, http.StatusBadRequest, "Not a way to settle this item",
			"This item can be "+wordsOf(x.Actions)+". Go back to the list and choose one.")
		return
	}
	rv := resolveView{Item: s.exceptionRow(r, x), Action: action, Reason: strings.TrimSpace(r.PostForm.Get("reason")),
		Account: strings.TrimSpace(r.PostForm.Get("account"))}
	if err := rails.CheckResolveReason(rv.Reason); err != nil {
		rv.Error, rv.Field = "Write why, in 1 to 500 characters a reader can see: it goes to the audit log with your name.", "reason"
		s.renderResolve(w, r, v, http.StatusBadRequest, rv)
		return
	}
	req := rails.ResolveRequest{File: f, Trace: trace, Kind: kind, Action: action, Staff: v.sess.Staff, Reason: rv.Reason}
	c := x.Entry.Customer
	target := ""
	switch action {
	case rails.ResolveCredit:
		a, err := s.Rails.Store().AccountByNumber(ctx, ledger.AccountNumber(rv.Account))
		if err != nil && !errors.Is(err, ledger.ErrAccountNotFound) {
			s.fail(w, r, err)
			return
		}
		if err != nil || a.Customer == 0 || a.Currency != "USD" || a.Status == ledger.Closed {
			rv.Error, rv.Field = "Enter the number of an open US dollar account of a customer.", "account"
			s.renderResolve(w, r, v, http.StatusUnprocessableEntity, rv)
			return
		}
		req.Account, c, target = a.Number, a.Customer, " to account "+string(a.Number.Masked())
	case rails.ResolveCharge:
		target = " from account " + string(x.Account.Number.Masked())
	}
	what := fmt.Sprintf("ACH return exception %s %s (file %d, trace %s, held %s): %s%s", kind, x.Entry.Code, f, trace,
		x.Held.Display("USD"), rails.ActionWords(action), target)
	if !s.auditStaffAction(w, r, v, c, what, rv.Reason) {
		return
	}
	_, err := s.Rails.Resolve(ctx, req)
	switch {
	case errors.Is(err, rails.ErrResolved):
		// Another officer, on this instance or another, decided first.
		prev, perr := s.Rails.Store().Resolution(ctx, f, trace, kind)
		if perr != nil {
			s.fail(w, r, perr)
			return
		}
		s.settledPage(w, r, v, prev)
		return
	case errors.Is(err, rails.ErrResolutionNotFound):
		s.failPage(w, r, v, http.StatusNotFound, "Nothing waits there", "No item waits in the ACH return exceptions account under that entry.")
		return
	case errors.Is(err, rails.ErrResolveAccount):
		rv.Error, rv.Field = "Enter the number of an open US dollar account of a customer.", "account"
		s.renderResolve(w, r, v, http.StatusUnprocessableEntity, rv)
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	s.Logger.Info("rails: exception settled", "file", f, "trace", trace, "kind", kind, "action", action, "staff", v.sess.Staff)
	http.Redirect(w, r, "/console/rails/exceptions?done="+action, http.StatusSeeOther)
}

// consoleRecallView is the page to ask an instant payment back for a
// customer.
type consoleRecallView struct {
	P        rails.Payment
	Reasons  []recallReason
	Reason   string
	Note     string
	Error    string
	Field    string
	Customer string
}

type recallReason struct{ Code, Words string }

// staffRecallReasons are the reasons staff may give, in the order shown:
// every reason the bank sends (rails.RecallReasons).
func staffRecallReasons() []recallReason {
	out := make([]recallReason, 0, len(rails.RecallReasons))
	for _, c := range []string{"FRAD", "DUPL", "CUST", "AC03", "AM09", "UPAY", "TECH"} {
		if w := rails.RecallReasons[c]; w != "" {
			out = append(out, recallReason{c, w})
		}
	}
	return out
}

// staffRecallable says why p cannot be asked back now, in the console's
// words; "" when it can.
func staffRecallable(p rails.Payment) string {
	switch {
	case p.Kind != rails.KindInstant:
		return "Only an instant payment can be asked back here; an ACH payment has its own return rules."
	case p.Recall != "":
		return "This payment was asked back already. The customer's payments list here shows the other bank's answer."
	case p.Status != rails.StatusSettled:
		return "Only an instant payment that reached the other bank can be asked back."
	}
	return ""
}

// staffPayment reads the payment of the path; false when it answered.
func (s *server) staffPayment(w http.ResponseWriter, r *http.Request, v *visit) (rails.Payment, bool) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if s.Rails == nil || err != nil || n <= 0 {
		s.notFound(w, r, v)
		return rails.Payment{}, false
	}
	p, err := s.Rails.Store().Payment(r.Context(), rails.PaymentID(n))
	if errors.Is(err, rails.ErrPaymentNotFound) || err == nil && p.Customer == 0 {
		s.notFound(w, r, v)
		return rails.Payment{}, false
	}
	if err != nil {
		s.fail(w, r, err)
		return rails.Payment{}, false
	}
	return p, true
}

func (s *server) renderConsoleRecall(w http.ResponseWriter, r *http.Request, v *visit, status int, rv consoleRecallView) {
	c, err := s.Auth.Customer(r.Context(), rv.P.Customer)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rv.Customer, rv.Reasons = c.Name, staffRecallReasons()
	p := v.page("Ask for this payment back?", "console")
	p.Data = rv
	s.render(w, r, status, "console_recall", p)
}

func (s *server) consoleRecallForm(w http.ResponseWriter, r *http.Request, v *visit) {
	p, ok := s.staffPayment(w, r, v)
	if !ok {
		return
	}
	if msg := staffRecallable(p); msg != "" {
		s.failPage(w, r, v, http.StatusConflict, "This payment cannot be asked back", msg)
		return
	}
	s.renderConsoleRecall(w, r, v, http.StatusOK, consoleRecallView{P: p})
}

// consoleRecall asks the other bank for the payment back on the
// customer's behalf: the reason and what the customer said are audited
// with the staff member's name first, then rails.Service.RequestReturn
// (customer 0: the bank's staff ask), the customers' own path.
func (s *server) consoleRecall(w http.ResponseWriter, r *http.Request, v *visit) {
	p, ok := s.staffPayment(w, r, v)
	if !ok {
		return
	}
	if msg := staffRecallable(p); msg != "" {
		s.failPage(w, r, v, http.StatusConflict, "This payment cannot be asked back", msg)
		return
	}
	rv := consoleRecallView{P: p, Reason: r.PostForm.Get("reason"), Note: strings.TrimSpace(r.PostForm.Get("note"))}
	if rails.RecallReasons[rv.Reason] == "" {
		rv.Error, rv.Field = "Choose the reason the other bank is given.", "reason"
		s.renderConsoleRecall(w, r, v, http.StatusUnprocessableEntity, rv)
		return
	}
	if rv.Note == "" || len(rv.Note) > 500 || legible.Check(rv.Note) != nil {
		rv.Error, rv.Field = "Write what the customer told you, in 1 to 500 characters a reader can see: it goes to the audit log with your name.", "note"
		s.renderConsoleRecall(w, r, v, http.StatusBadRequest, rv)
		return
	}
	what := fmt.Sprintf("instant payment ACH-%d to %s (%s): asked back for the customer, reason %s (%s)", p.ID, p.Name,
		p.Amount.Display(p.Currency), rv.Reason, rails.RecallReasons[rv.Reason])
	if !s.auditStaffAction(w, r, v, p.Customer, what, rv.Note) {
		return
	}
	// Asked a moment ago, by the customer or other staff, on any instance?
	if !s.askBack(w, r, v, 0, p.ID, rv.Reason, "This payment was asked back already. The customer's payments list here shows the other bank's answer.") {
		return
	}
	s.Logger.Info("rails: instant payment asked back by staff", "payment", p.ID, "reason", rv.Reason, "staff", v.sess.Staff)
	http.Redirect(w, r, "/console/customers/"+strconv.FormatInt(int64(p.Customer), 10)+"?done=recall#payments", http.StatusSeeOther)
}

// customerPayments are a customer's payments over the rails for their
// console page (prenotes left out), and whether staff of role may ask one
// back.
func (s *server) customerPayments(r *http.Request, c bankbridge.CustomerID, role identity.Role) ([]rails.Payment, bool, error) {
	if s.Rails == nil {
		return nil, false, nil
	}
	ps, err := s.Rails.Store().Payments(r.Context(), rails.PaymentQuery{Customer: c, Limit: 30})
	if err != nil {
		return nil, false, err
	}
	out := ps[:0]
	for _, p := range ps {
		if p.Kind != rails.KindPrenote {
			out = append(out, p)
		}
	}
	return out, slices.Contains(recallRoles, role), nil
}
