package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
)

// caseRoles work the case queue: support (fraud, cards, disputes),
// compliance (disputes, sanctions) and administrators.
var caseRoles = []identity.Role{identity.Administrator, identity.Support, identity.Compliance}

// caseRow is one case in the queue with what staff sort by.
type caseRow struct {
	Case     alerts.Case
	Customer string
	Assignee string
	Age      string // "3 days"
	Overdue  bool   // a dispute past its filing deadline
}

// consoleCasesView is the queue with its filter.
type consoleCasesView struct {
	Rows     []caseRow
	Kinds    []alerts.CaseKind
	Kind     alerts.CaseKind
	Status   string
	Mine     bool
	Customer string
	Error    string
}

// consoleCaseView is one case for staff.
type consoleCaseView struct {
	Row      caseRow
	Notes    []caseNoteRow
	Transfer *ledger.Transfer
	Payment  *rails.Payment // a sanctions hold's payment
	CanAct   bool           // may release or reject it (compliance, administrators)
	Mine     bool
	Error    string
	Note     string
}

type caseNoteRow struct {
	Note alerts.CaseNote
	By   string
}

// age says how long ago t was, coarsely, as a queue reads it.
func age(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Hour:
		return strconv.Itoa(max(int(d/time.Minute), 0)) + " min"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " days"
}

// staffName names a member of staff for the queue; "" for nobody.
func (s *server) staffName(r *http.Request, id bankbridge.StaffID) string {
	if id == 0 {
		return ""
	}
	if st, err := s.Auth.Staff(r.Context(), id); err == nil {
		return st.Name
	}
	return "staff:" + strconv.FormatInt(int64(id), 10)
}

func (s *server) caseRow(r *http.Request, k alerts.Case, names map[bankbridge.CustomerID]string) caseRow {
	now := s.Now()
	row := caseRow{Case: k, Assignee: s.staffName(r, k.Assignee), Age: age(now, k.Opened),
		Overdue: k.Status == "open" && !k.Due.IsZero() && now.After(k.Due)}
	name, ok := names[k.Customer]
	if !ok {
		if c, err := s.Auth.Customer(r.Context(), k.Customer); err == nil {
			name = c.Name
		}
		names[k.Customer] = name
	}
	row.Customer = name
	return row
}

// consoleCases is the case queue: open cases oldest first, by kind, mine
// or everyone's, or one customer's.
func (s *server) consoleCases(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Alerts == nil {
		s.notFound(w, r, v)
		return
	}
	in := r.URL.Query()
	cv := consoleCasesView{Kinds: alerts.CaseKinds(), Kind: alerts.CaseKind(in.Get("kind")), Status: in.Get("status"), Mine: in.Get("mine") == "1",
		Customer: strings.TrimSpace(in.Get("customer"))}
	if cv.Status == "" {
		cv.Status = "open"
	}
	q := alerts.CaseQuery{Kind: cv.Kind, Oldest: true, Limit: 200}
	status := http.StatusOK
	if cv.Status != "all" {
		q.Status = cv.Status
	}
	if cv.Status != "open" && cv.Status != "closed" && cv.Status != "all" {
		cv.Error, q.Status, cv.Status, status = "Choose open, closed or all.", "open", "open", http.StatusBadRequest
	}
	if cv.Kind != "" && !slices.Contains(alerts.CaseKinds(), cv.Kind) {
		cv.Error, q.Kind, cv.Kind, status = "Choose a kind of case from the list.", "", "", http.StatusBadRequest
	}
	if cv.Mine {
		q.Assignee = v.sess.Staff
	}
	if cv.Customer != "" {
		n, err := strconv.ParseInt(cv.Customer, 10, 64)
		if err != nil || n <= 0 {
			cv.Error, cv.Customer, status = "The customer number is a whole number.", "", http.StatusBadRequest
		} else {
			q.Customer = bankbridge.CustomerID(n)
		}
	}
	if err := s.syncSanctions(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	ks, err := s.Alerts.CaseQueue(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names := map[bankbridge.CustomerID]string{}
	for _, k := range ks {
		cv.Rows = append(cv.Rows, s.caseRow(r, k, names))
	}
	p := s.consolePage(v, "Cases")
	p.Nav = "cases"
	p.Data = cv
	s.render(w, r, status, "console_cases", p)
}

// consoleCase shows one case: what it is about, its history of notes, and
// what staff can do: take it, add a note, close it.
func (s *server) consoleCase(w http.ResponseWriter, r *http.Request, v *visit) {
	s.renderConsoleCase(w, r, v, http.StatusOK, consoleCaseView{})
}

func (s *server) consoleCaseID(w http.ResponseWriter, r *http.Request, v *visit) (alerts.CaseID, bool) {
	if s.Alerts == nil {
		s.notFound(w, r, v)
		return 0, false
	}
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || n <= 0 {
		s.notFound(w, r, v)
		return 0, false
	}
	return alerts.CaseID(n), true
}

func (s *server) renderConsoleCase(w http.ResponseWriter, r *http.Request, v *visit, status int, cv consoleCaseView) {
	id, ok := s.consoleCaseID(w, r, v)
	if !ok {
		return
	}
	k, notes, err := s.Alerts.Case(r.Context(), id)
	if bankbridge.ErrorKind(err) == bankbridge.NotFound {
		s.notFound(w, r, v)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cv.Row = s.caseRow(r, k, map[bankbridge.CustomerID]string{})
	cv.Mine = k.Assignee == v.sess.Staff
	for _, n := range notes {
		by := "Customer"
		if n.Staff != 0 {
			by = s.staffName(r, n.Staff)
		}
		cv.Notes = append(cv.Notes, caseNoteRow{Note: n, By: by})
	}
	if k.Transfer != 0 {
		if t, err := s.Ledger.Store().Transfer(r.Context(), k.Transfer); err == nil {
			cv.Transfer = &t
		}
	}
	if n, ok := alerts.SanctionsPayment(k); ok && s.Rails != nil {
		if p, err := s.Rails.Store().Payment(r.Context(), rails.PaymentID(n)); err == nil {
			cv.Payment = &p
			cv.CanAct = slices.Contains(complianceRoles, v.sess.Role)
		}
	}
	p := s.consolePage(v, k.Kind.Label()+" case "+strconv.FormatInt(int64(id), 10))
	p.Nav = "cases"
	switch r.URL.Query().Get("done") {
	case "assigned":
		p.Flash = "The case is yours."
	case "unassigned":
		p.Flash = "The case is back in the queue."
	case "noted":
		p.Flash = "Note added."
	case "closed":
		p.Flash = "Case closed."
	case "released":
		p.Flash = "Payment released: it leaves with the next file. Case closed."
	case "rejected":
		p.Flash = "Payment rejected: the funds are back with the customer. Case closed."
	}
	p.Data = cv
	s.render(w, r, status, "console_case", p)
}

// consoleCaseStep takes, releases, notes or closes a case. Every step is
// written to the audit log, with the staff member and their words, before
// it is made.
func (s *server) consoleCaseStep(w http.ResponseWriter, r *http.Request, v *visit) {
	id, ok := s.consoleCaseID(w, r, v)
	if !ok {
		return
	}
	ctx := r.Context()
	k, _, err := s.Alerts.Case(ctx, id)
	if bankbridge.ErrorKind(err) == bankbridge.NotFound {
		s.notFound(w, r, v)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	step := r.PathValue("step")
	note := strings.TrimSpace(r.PostForm.Get("note"))
	detail := "case " + strconv.FormatInt(int64(id), 10) + " (" + string(k.Kind) + "): " + step
	again := func(msg string) {
		s.renderConsoleCase(w, r, v, http.StatusBadRequest, consoleCaseView{Error: msg, Note: note})
	}
	if k.Status != "open" {
		s.renderConsoleCase(w, r, v, http.StatusConflict, consoleCaseView{Error: "This case is closed."})
		return
	}
	switch step {
	case "assign", "unassign":
		to := v.sess.Staff
		if step == "unassign" {
			to = 0
		}
		if !s.auditStaffAction(w, r, v, k.Customer, detail, "taken from the queue") {
			return
		}
		err = s.Alerts.AssignCase(ctx, id, to)
		step += "ed"
	case "note", "close":
		if note == "" || len(note) > 2000 {
			again("Write a note of 1 to 2,000 characters.")
			return
		}
		if !s.auditStaffAction(w, r, v, k.Customer, detail, note) {
			return
		}
		if step == "note" {
			_, err = s.Alerts.AddCaseNote(ctx, alerts.CaseNote{Case: id, Staff: v.sess.Staff, Body: note})
			step = "noted"
		} else {
			err = s.Alerts.CloseCase(ctx, id, v.sess.Staff, note)
			step = "closed"
		}
	default:
		s.notFound(w, r, v)
		return
	}
	switch k := bankbridge.ErrorKind(err); {
	case err == nil:
		http.Redirect(w, r, "/console/cases/"+strconv.FormatInt(int64(id), 10)+"?"+url.Values{"done": {step}}.Encode(), http.StatusSeeOther)
	case k == bankbridge.Invalid:
		again("Not done: " + bankbridge.ErrorMessage(err) + ".")
	case k == bankbridge.NotFound:
		s.renderConsoleCase(w, r, v, http.StatusConflict, consoleCaseView{Error: "This case was closed meanwhile."})
	default:
		s.fail(w, r, err)
	}
}
