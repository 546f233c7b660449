package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/dataapi/records"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/rails"
)

// Money beyond the bank's walls, the two ways back in: a collection (the
// customer pulls money from their own account at another bank, an ACH
// debit they authorise here) and asking an instant payment back (a
// camt.056). A collection is the payment flow of payees.go the other way
// (achPlan, achReview, achConfirm with achInput.Collect): the same check
// and confirm, step-up and limits; only the words, the authorisation and
// the call to rails.Collect differ. Asking back is recallForm and
// recallAsk; rails.RequestReturn keeps it to once per payment on every
// instance (a compare-and-set on the payment's recall state).

// errCollectUnverified says why a payee not yet verified cannot be
// collected from (rails.ErrNotValidated, in words).
const errCollectUnverified = "Verify this account first: for a debit authorised online the rules ask the bank to check the account with a zero-amount test payment (a prenote) before the first collection."

// collecting says whether r is one of the collection pages
// (/payees/{id}/collect...).
func collecting(r *http.Request) bool {
	_, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/payees/"), "/")
	return rest == "collect" || rest == "collect/confirm"
}

// collectTerms is the authorisation of av, in the page's language: what
// the confirmation shows and, agreed to, what the payment records.
func (s *server) collectTerms(r *http.Request, av achView) string {
	if av.Account.ID == 0 || av.Amount <= 0 {
		return ""
	}
	eff, _ := rails.Schedule{}.Effective(s.Now(), av.In.SameDay)
	return fmt.Sprintf(tr(s.lang(r), rails.AuthorizationTerms), s.BankName, av.Amount.Display(av.Account.Currency),
		av.Payee.Number.Masked(), av.Payee.Routing, dayMonthYear(s.lang(r), eff), accountLabel(av.Account), s.BankName)
}

// achStatusView is a payment's status page.
type achStatusView struct {
	rails.Payment
	// Words is the status in plain words, for a collection as money coming in.
	Words string
	// CanRecall: a settled instant payment not asked back yet.
	CanRecall bool
	// RecallWords says where a request to have it back is.
	RecallWords string
	// Moving: the payment or its request back has not ended; Follow is
	// how often the page reloads, when the customer asked (following).
	Moving bool
	Follow int
}

// statusWords says p's status for its customer (rails.Payment.Words).
func statusWords(p rails.Payment) string { return p.Words() }

// railReason is why p was returned or refused, in l: the rails write it in
// English (the console and the partner API read it so), and the customer's
// pages say it as the chat and the alerts do (assistant.RailReason).
func railReason(l assistant.Language, p rails.Payment) string {
	return assistant.RailReason(l, p.Reason, p.ReturnCode, p.Status == rails.StatusReturned)
}

// recallWords says where a request to have p back is.
func recallWords(p rails.Payment) string {
	switch p.Recall {
	case rails.RecallRequested:
		return "You asked for it back. We are waiting for the other bank's answer."
	case rails.RecallAccepted:
		if p.Status == rails.StatusReturned {
			return "You asked for it back, and the other bank returned it."
		}
		return "You asked for it back: the other bank agreed to return it; the money follows."
	case rails.RecallRefused:
		return "You asked for it back. " + upperFirst(p.RecallNote) + "."
	}
	return ""
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// recallable says whether p is the customer's to ask back now; when not,
// why in words, and the status to answer with.
func recallable(p rails.Payment) (string, int) {
	switch {
	case p.Kind != rails.KindInstant:
		return "Only an instant payment can be asked back here. For an ACH payment, please contact the bank.", http.StatusConflict
	case p.Recall != "":
		return "You already asked for this payment back. Its page shows the other bank's answer.", http.StatusConflict
	case p.Status != rails.StatusSettled:
		return "Only an instant payment that reached the other bank can be asked back.", http.StatusConflict
	}
	return "", 0
}

// ownPayment loads the customer's payment of the path's id; false when it
// answered already (404 for anything not the customer's own).
func (s *server) ownPayment(w http.ResponseWriter, r *http.Request, v *visit) (rails.Payment, bool) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if s.Rails == nil || err != nil || n <= 0 {
		s.notFound(w, r, v)
		return rails.Payment{}, false
	}
	p, err := s.Rails.Store().Payment(r.Context(), rails.PaymentID(n))
	if errors.Is(err, rails.ErrPaymentNotFound) || err == nil && (p.Customer != v.sess.Customer || p.Kind == rails.KindPrenote) {
		s.notFound(w, r, v)
		return rails.Payment{}, false
	}
	if err != nil {
		s.fail(w, r, err)
		return rails.Payment{}, false
	}
	return p, true
}

// recallView is the page to ask a payment back.
type recallView struct {
	P      rails.Payment
	Reason string // the reason chosen, kept when the form comes back
	Error  string
}

func (s *server) recallForm(w http.ResponseWriter, r *http.Request, v *visit) {
	p, ok := s.ownPayment(w, r, v)
	if !ok {
		return
	}
	if msg, status := recallable(p); msg != "" {
		s.failPage(w, r, v, status, "This payment cannot be asked back", msg)
		return
	}
	s.renderRecall(w, r, v, http.StatusOK, recallView{P: p})
}

// askBack asks the other bank for payment id back (rails.RequestReturn,
// for customer c, or 0 for staff acting for the customer) and reports
// whether the caller goes on to the payment's page: a request the service
// recorded but could not send yet is asked again by the rails worker under
// the same case id; one asked before answers already (409) in words.
func (s *server) askBack(w http.ResponseWriter, r *http.Request, v *visit, c bankbridge.CustomerID, id rails.PaymentID, reason, already string) bool {
	_, err := s.Rails.RequestReturn(r.Context(), c, id, reason)
	switch {
	case err == nil:
	case errors.Is(err, rails.ErrNotRecallable):
		s.failPage(w, r, v, http.StatusConflict, "This payment cannot be asked back", already)
		return false
	case errors.Is(err, rails.ErrPaymentNotFound):
		s.notFound(w, r, v)
		return false
	default:
		now, gerr := s.Rails.Store().Payment(r.Context(), id)
		if gerr != nil || now.Recall != rails.RecallRequested {
			s.fail(w, r, err)
			return false
		}
		s.Logger.Warn("web: request for return unanswered; the worker asks again", "payment", id, "err", err)
	}
	return true
}

func (s *server) renderRecall(w http.ResponseWriter, r *http.Request, v *visit, status int, rv recallView) {
	pg := v.page("Ask for a payment back", "payees")
	pg.Data = rv
	s.render(w, r, status, "recall", pg)
}

// recallAsk sends the request (rails.RequestReturn: a camt.056) and shows
// the payment's page with the other bank's answer. A payment that is not
// the customer's is not found; one that cannot be asked back (an ACH
// payment, one asked before, one not settled) is answered in words and
// nothing changes.
func (s *server) recallAsk(w http.ResponseWriter, r *http.Request, v *visit) {
	p, ok := s.ownPayment(w, r, v)
	if !ok {
		return
	}
	if msg, status := recallable(p); msg != "" {
		s.failPage(w, r, v, status, "This payment cannot be asked back", msg)
		return
	}
	reason := r.PostForm.Get("reason")
	if !slices.Contains(rails.CustomerRecallReasons, reason) {
		s.renderRecall(w, r, v, http.StatusUnprocessableEntity, recallView{P: p, Reason: reason, Error: "Choose why you want the payment back."})
		return
	}
	// Another tab, or another instance, may have asked first: the page
	// says what came of it.
	if !s.askBack(w, r, v, v.sess.Customer, p.ID, reason, "You already asked for this payment back. Its page shows the other bank's answer.") {
		return
	}
	http.Redirect(w, r, "/payments/ach/"+strconv.FormatInt(int64(p.ID), 10)+"?done=recall", http.StatusSeeOther)
}

// collectionNeedsCode says whether authorising a partner's collection needs
// a fresh code: above the step-up amount, or when the day's payments pass
// it (the limits' rule), unless the customer stepped up a moment ago.
func (s *server) collectionNeedsCode(ctx context.Context, v *visit, p records.Payment) (bool, error) {
	over := p.Amount > s.StepUpLimit
	if !over && s.Rails != nil {
		pe, err := s.Rails.Store().Payee(ctx, v.sess.Customer, ledger.PayeeID(-int64(p.From)))
		if err != nil && !errors.Is(err, rails.ErrPayeeNotFound) {
			return false, err
		}
		switch err := s.limitsCheck(ctx, achPayment(v, pe, p.Amount, "", false)); {
		case errors.Is(err, limits.ErrStepUp):
			over = true
		case err != nil && bankbridge.ErrorKind(err) == bankbridge.Unavailable:
			return false, err
		}
		// A limit the collection would break is the API's to say when it is
		// booked (FAILED with its reason).
	}
	return over && !v.sess.SteppedUpWithin(stepUpWindow, s.Now()), nil
}

// partnerCollectionTerms is the authorisation of a collection a partner
// started, in the page's language.
func (s *server) partnerCollectionTerms(r *http.Request, p records.Payment, into string) (string, error) {
	if s.Rails == nil {
		return "", nil
	}
	pe, err := s.Rails.Store().Payee(r.Context(), p.Customer, ledger.PayeeID(-int64(p.From)))
	if errors.Is(err, rails.ErrPayeeNotFound) {
		return "", nil // removed since: Collect refuses it, and the page says so
	}
	if err != nil {
		return "", err
	}
	eff, _ := rails.Schedule{}.Effective(s.Now(), strings.HasPrefix(p.ToRef, "collect_same_day:"))
	l := s.lang(r)
	return fmt.Sprintf(tr(l, rails.AuthorizationTerms), s.BankName, p.Amount.Display(p.Currency), pe.Number.Masked(), pe.Routing,
		dayMonthYear(l, eff), into, s.BankName), nil
}
