package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/ledger"
)

// casesView lists the customer's cases (lost and stolen cards, disputes,
// fraud reports) for them to follow.
type casesView struct {
	Cases []alerts.Case
}

// caseView is one case as its customer sees it.
type caseView struct {
	Case     alerts.Case
	Notes    []alerts.CaseNote
	Transfer *ledger.Transfer
	Error    string
	Note     string
}

func (s *server) customerCases(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Alerts == nil {
		s.notFound(w, r, v)
		return
	}
	ks, err := s.Alerts.CustomerCases(r.Context(), v.sess.Customer)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := v.page("Your cases", "cases")
	p.Data = casesView{Cases: ks}
	s.render(w, r, http.StatusOK, "cases", p)
}

func (s *server) customerCase(w http.ResponseWriter, r *http.Request, v *visit) {
	s.renderCase(w, r, v, http.StatusOK, caseView{})
}

func (s *server) renderCase(w http.ResponseWriter, r *http.Request, v *visit, status int, cv caseView) {
	if s.Alerts == nil {
		s.notFound(w, r, v)
		return
	}
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || n <= 0 {
		s.notFound(w, r, v)
		return
	}
	ctx := r.Context()
	cv.Case, cv.Notes, err = s.Alerts.CustomerCase(ctx, v.sess.Customer, alerts.CaseID(n))
	if bankbridge.ErrorKind(err) == bankbridge.NotFound {
		s.notFound(w, r, v)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if cv.Case.Transfer != 0 {
		if t, err := s.Ledger.Store().Transfer(ctx, cv.Case.Transfer); err == nil {
			cv.Transfer = &t
		}
	}
	p := v.titled(caseTitle(cv.Case.Kind), "cases", n)
	switch r.URL.Query().Get("done") {
	case "reported":
		p.Flash = "We froze the card. Our team will send you a new one; follow it here."
	case "disputed":
		p.Flash = "Your dispute is with our team. We will write here, and you can add to it."
	case "noted":
		p.Flash = "Added to your case."
	}
	p.Data = cv
	s.render(w, r, status, "case", p)
}

// customerCaseNote lets the customer add to an open case of theirs.
func (s *server) customerCaseNote(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Alerts == nil {
		s.notFound(w, r, v)
		return
	}
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || n <= 0 {
		s.notFound(w, r, v)
		return
	}
	ctx := r.Context()
	k, _, err := s.Alerts.CustomerCase(ctx, v.sess.Customer, alerts.CaseID(n))
	if bankbridge.ErrorKind(err) == bankbridge.NotFound {
		s.notFound(w, r, v)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body := r.PostForm.Get("note")
	if k.Status != "open" {
		s.renderCase(w, r, v, http.StatusConflict, caseView{Error: "This case is closed. Call us if something is still wrong.", Note: body})
		return
	}
	_, err = s.Alerts.AddCaseNote(ctx, alerts.CaseNote{Case: k.ID, Customer: v.sess.Customer, Body: body})
	switch {
	case bankbridge.ErrorKind(err) == bankbridge.Invalid:
		s.renderCase(w, r, v, http.StatusBadRequest, caseView{Error: "Not added: " + bankbridge.ErrorMessage(err) + ".", Note: body})
	case err != nil:
		s.fail(w, r, err)
	default:
		http.Redirect(w, r, "/cases/"+strconv.FormatInt(n, 10)+"?done=noted", http.StatusSeeOther)
	}
}

// disputeView is the form that disputes one card payment.
type disputeView struct {
	Transfer ledger.Transfer
	Account  ledger.Account
	Amount   ledger.Amount
	Network  string
	Reasons  []alerts.DisputeReason
	Reason   alerts.DisputeReason
	Words    string
	Error    string
	Refused  string // the payment cannot be disputed, in plain words
}

// disputeTransfer reads the transfer named by id; a malformed or unknown
// id is ErrDisputeNotYours, like another customer's.
func (s *server) disputeTransfer(r *http.Request, id string) (ledger.Transfer, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return ledger.Transfer{}, alerts.ErrDisputeNotYours
	}
	t, err := s.Ledger.Store().Transfer(r.Context(), ledger.TransferID(n))
	if errors.Is(err, ledger.ErrTransferNotFound) {
		return t, alerts.ErrDisputeNotYours
	}
	return t, err
}

// disputeForm asks why the customer disputes a payment. A payment that is
// not theirs is the 404 page, recorded in the audit log as an attempt on
// another person's data; one that cannot be disputed says why.
func (s *server) disputeForm(w http.ResponseWriter, r *http.Request, v *visit) {
	s.renderDispute(w, r, v, http.StatusOK, r.URL.Query().Get("transfer"), disputeView{})
}

func (s *server) renderDispute(w http.ResponseWriter, r *http.Request, v *visit, status int, id string, dv disputeView) {
	if s.Alerts == nil {
		s.notFound(w, r, v)
		return
	}
	ctx := r.Context()
	t, err := s.disputeTransfer(r, id)
	if err == nil {
		dv.Account, dv.Network, _, err = s.Alerts.Disputable(ctx, v.sess.Customer, t)
	}
	dv.Transfer, dv.Reasons = t, alerts.DisputeReasons()
	dv.Amount = t.Amount()
	switch {
	case errors.Is(err, alerts.ErrDisputeNotYours):
		s.auditRefusal(r, v, "dispute a transaction that is not the customer's", "transfer "+id)
		s.notFound(w, r, v)
		return
	case bankbridge.ErrorKind(err) == bankbridge.Invalid:
		dv.Refused = bankbridge.ErrorMessage(err)
		if status == http.StatusOK {
			status = http.StatusConflict
		}
	case err != nil:
		s.fail(w, r, err)
		return
	}
	p := v.page("Dispute a payment", "cases")
	p.Data = dv
	s.render(w, r, status, "dispute", p)
}

// disputeOpen opens the dispute and sends the customer to follow it.
func (s *server) disputeOpen(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Alerts == nil {
		s.notFound(w, r, v)
		return
	}
	id := r.PostForm.Get("transfer")
	t, err := s.disputeTransfer(r, id)
	reason, words := alerts.DisputeReason(r.PostForm.Get("reason")), r.PostForm.Get("words")
	var k alerts.Case
	if err == nil {
		k, err = s.Alerts.OpenDispute(r.Context(), v.sess.Customer, t, reason, words)
	}
	switch {
	case err == nil:
		http.Redirect(w, r, "/cases/"+strconv.FormatInt(int64(k.ID), 10)+"?done=disputed", http.StatusSeeOther)
	case errors.Is(err, alerts.ErrDisputeReason) || errors.Is(err, alerts.ErrCaseNote):
		s.renderDispute(w, r, v, http.StatusBadRequest, id, disputeView{Reason: reason, Words: words, Error: bankbridge.ErrorMessage(err) + "."})
	default:
		// renderDispute says why (or answers 404 and audits the attempt).
		s.renderDispute(w, r, v, http.StatusConflict, id, disputeView{Reason: reason, Words: words})
	}
}

// caseTitle is the title of a case's page, a format of its number, one per
// kind so that each reads whole in the catalogue's languages.
func caseTitle(k alerts.CaseKind) string {
	switch k {
	case alerts.CaseFraud:
		return "Fraud case %d"
	case alerts.CaseLost:
		return "Lost card case %d"
	case alerts.CaseStolen:
		return "Stolen card case %d"
	case alerts.CaseDispute:
		return "Dispute case %d"
	case alerts.CaseSanctions:
		return "Sanctions hold case %d"
	}
	return "Case %d"
}
