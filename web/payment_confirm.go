package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/dataapi/records"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/rails"
)

// Payments backs the bank's own confirmation page for payments an app
// started through the data API above the customer's step-up limit
// (/payments/confirm/{id}, dataapi.ConfirmPath). *dataapi.Server implements
// it.
//
// Contract: each method sees only the given customer's payments; another
// customer's id is records.ErrPaymentNotFound, exactly like an unknown one.
// ConfirmPayment and DeclinePayment answer a Conflict error (with the
// payment as it now is) for a payment that no longer waits for the
// customer; a ledger refusal is a FAILED payment, not an error. steppedUp
// says the customer gave a code for it (now, or within stepUpWindow);
// without one, the confirmation answers limits.ErrStepUp, the payment
// still waiting, when the customer's payments need a code at the moment
// of booking (decided with the booking, on whichever instance).
type Payments interface {
	PaymentForCustomer(ctx context.Context, customer bankbridge.CustomerID, id string) (records.Payment, consent.Partner, error)
	ConfirmPayment(ctx context.Context, customer bankbridge.CustomerID, id string, steppedUp bool) (records.Payment, error)
	DeclinePayment(ctx context.Context, customer bankbridge.CustomerID, id string) (records.Payment, error)
	// ConfirmCollection books a collection (money in from the customer's
	// own account at another bank) with the authorisation the customer
	// agreed to here; ConfirmPayment refuses a collection.
	ConfirmCollection(ctx context.Context, customer bankbridge.CustomerID, id, authorization string, steppedUp bool) (records.Payment, error)
}

// paymentView is the confirmation page and, once the payment is settled,
// its receipt.
type paymentView struct {
	ID          string
	Partner     string // the app's legal name
	PartnerHost string // the app's homepage host, to recognise it
	FromLabel   string
	FromID      ledger.AccountID
	ToLabel     string
	Amount      ledger.Amount
	Currency    ledger.Currency
	Memo        string
	Created     time.Time
	ConfirmBy   time.Time
	Updated     time.Time
	Transfer    ledger.TransferID
	// Awaiting: the payment waits for the customer's answer (the form).
	Awaiting bool
	// NeedCode: confirming needs a fresh code from the authenticator app.
	NeedCode bool
	// NoTOTP: the customer has no authenticator app, so cannot confirm here.
	NoTOTP bool
	// Outcome is "posted", "declined", "expired" or "failed" once settled.
	Outcome string
	// Reason words why a failed payment failed.
	Reason string
	Error  string
	// Collection: money in from the customer's own account at another
	// bank (an ACH debit), From being the payee debited; Terms is the
	// authorisation the customer agrees to, in their language.
	Collection bool
	Terms      string
}

// paymentPath is the page of payment id.
func paymentPath(id string) string { return "/payments/confirm/" + url.PathEscape(id) }

// paymentConfirmPage shows a payment waiting for the customer (partner,
// from, to, amount, memo) with Confirm and Decline, or its outcome once
// settled. Without a session it sends the customer to log in and back.
func (s *server) paymentConfirmPage(w http.ResponseWriter, r *http.Request) {
	if s.Payments == nil {
		s.notFound(w, r, nil)
		return
	}
	v, err := s.session(w, r, identity.RealmCustomer)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	if v == nil {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(paymentPath(id)), http.StatusSeeOther)
		return
	}
	pv, ok := s.paymentView(w, r, v, id)
	if !ok {
		return
	}
	flash := ""
	switch r.URL.Query().Get("done") {
	case "confirmed":
		if pv.Outcome == "posted" {
			flash = "Payment confirmed and sent."
		}
	case "declined":
		if pv.Outcome == "declined" {
			flash = "Payment declined. No money moved."
		}
	}
	s.renderPayment(w, r, v, http.StatusOK, pv, flash)
}

// paymentView loads what the page shows; ok is false when it has already
// answered (404 for a payment that is not the customer's).
func (s *server) paymentView(w http.ResponseWriter, r *http.Request, v *visit, id string) (paymentView, bool) {
	ctx := r.Context()
	p, partner, err := s.Payments.PaymentForCustomer(ctx, v.sess.Customer, id)
	if err != nil {
		if bankbridge.ErrorKind(err) == bankbridge.NotFound {
			s.notFound(w, r, v)
		} else {
			s.fail(w, r, err)
		}
		return paymentView{}, false
	}
	pv := paymentView{ID: p.ID, Partner: partner.LegalName, Amount: p.Amount, Currency: p.Currency, Memo: p.Memo,
		Created: p.Created, ConfirmBy: p.ConfirmBy, Updated: p.Updated, Transfer: p.Transfer, FromID: p.From, Collection: p.From < 0}
	if pv.Collection {
		pv.FromID = p.To // "See the account": the one the money comes into
	}
	if pv.Partner == "" {
		pv.Partner = p.Partner
	}
	if u, err := url.Parse(partner.Homepage); err == nil {
		pv.PartnerHost = u.Host
	}
	if pv.FromLabel, pv.ToLabel, err = s.paymentLabels(ctx, v.sess.Customer, p); err != nil {
		s.fail(w, r, err)
		return paymentView{}, false
	}
	switch {
	case p.Status == records.PaymentPending && p.NeedsConfirmation && s.Now().Before(p.ConfirmBy) && pv.Collection:
		// A collection waits for its authorisation whatever its amount: a
		// code only when the payment itself needs one, as on the web's own
		// collection page.
		pv.Awaiting = true
		if pv.NeedCode, err = s.collectionNeedsCode(ctx, v, p); err != nil {
			s.fail(w, r, err)
			return paymentView{}, false
		}
		pv.NoTOTP = pv.NeedCode && !v.sess.TOTPEnrolled
		if pv.Terms, err = s.partnerCollectionTerms(r, p, pv.ToLabel); err != nil {
			s.fail(w, r, err)
			return paymentView{}, false
		}
	case p.Status == records.PaymentPending && p.NeedsConfirmation && s.Now().Before(p.ConfirmBy):
		pv.Awaiting = true
		pv.NoTOTP = !v.sess.TOTPEnrolled
		// The same rule as a web transfer above the step-up limit: a code
		// unless the customer stepped up in the last few minutes.
		pv.NeedCode = s.needCode(v, transferPlan{Over: true})
	case p.Status == records.PaymentPending:
		// Past its confirmation window (the data API's sweep will fail it),
		// or being booked right now: either way not the customer's to answer.
		pv.Outcome, pv.Reason = "expired", paymentReason("confirmation_expired")
	case p.Status == records.PaymentPosted:
		pv.Outcome = "posted"
	case p.Reason == "declined_by_customer":
		pv.Outcome = "declined"
	case p.Reason == "confirmation_expired":
		pv.Outcome, pv.Reason = "expired", paymentReason(p.Reason)
	default:
		pv.Outcome, pv.Reason = "failed", paymentReason(p.Reason)
	}
	return pv, true
}

// paymentLabels names the accounts a payment moves money between, as the
// transfer pages do: the customer's own accounts and saved payees by name,
// anything else by its masked number only.
func (s *server) paymentLabels(ctx context.Context, c bankbridge.CustomerID, p records.Payment) (from, to string, err error) {
	st := s.Ledger.Store()
	accts, err := st.CustomerAccounts(ctx, c)
	if err != nil {
		return "", "", err
	}
	for _, a := range accts {
		if a.ID == p.From {
			from = accountLabel(a)
		}
		if a.ID == p.To {
			to = accountLabel(a)
		}
	}
	if p.From < 0 {
		// A collection: From is the payee at another bank it debits
		// (rails.Payee.LimitsPayee).
		payees, err := st.Payees(ctx, c)
		if err != nil {
			return "", "", err
		}
		for _, py := range payees {
			if py.Account == 0 && ledger.AccountID(-int64(py.ID)) == p.From {
				from = payeeLabel(py)
			}
		}
		if from == "" {
			from = "a payee you have since removed"
		}
	}
	if to == "" {
		payees, err := st.Payees(ctx, c)
		if err != nil {
			return "", "", err
		}
		for _, py := range payees {
			// A payee at another bank is paid under its id negated
			// (rails.Payee.LimitsPayee): it has no account here.
			if (py.Account == p.To || p.To < 0 && py.Account == 0 && ledger.AccountID(-int64(py.ID)) == p.To) && to == "" {
				to = payeeLabel(py)
			}
		}
	}
	if to == "" && p.To < 0 {
		to = "a payee you have since removed"
	}
	if to == "" {
		a, err := st.Account(ctx, p.To)
		switch {
		case errors.Is(err, ledger.ErrAccountNotFound):
			to = "an account that no longer exists"
		case err != nil:
			return "", "", err
		default:
			to = "Account " + a.Number.Masked()
		}
	}
	if from == "" { // cannot happen: the data API only pays from the customer's accounts
		from = "your account"
	}
	return from, to, nil
}

// paymentReason words a failed payment's stable code.
func paymentReason(code string) string {
	switch code {
	case "confirmation_expired":
		return "It was not confirmed in time, so it was cancelled."
	case ledger.ErrInsufficientFunds.Code:
		return "The account did not have enough money available."
	case ledger.ErrAccountFrozen.Code:
		return "Money cannot leave a frozen account. Please contact the bank."
	case ledger.ErrAccountClosed.Code:
		return "One of the accounts is closed."
	}
	return "The bank could not make it."
}

func (s *server) renderPayment(w http.ResponseWriter, r *http.Request, v *visit, status int, pv paymentView, flash string) {
	title := "Confirm a payment"
	switch pv.Outcome {
	case "posted":
		title = "Payment sent"
	case "declined":
		title = "Payment declined"
	case "expired", "failed":
		title = "Payment not made"
	}
	p := v.page(title, "transfer")
	p.Flash = flash
	p.Data = pv
	s.render(w, r, status, "payment_confirm", p)
}

// paymentDecide takes the customer's answer: decline at once, or confirm
// after a TOTP step-up (as a web transfer above the step-up limit), then
// shows the outcome (post, redirect, get: a reload asks nothing twice).
// Confirming twice books once: the data API keys the ledger transfer by
// the payment's id.
func (s *server) paymentDecide(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Payments == nil {
		s.notFound(w, r, v)
		return
	}
	ctx := r.Context()
	id := r.PathValue("id")
	decision := r.PostForm.Get("decision")
	if decision != "confirm" && decision != "decline" {
		s.failPage(w, r, v, http.StatusBadRequest, "Bad request", "Choose Confirm or Decline.")
		return
	}
	pv, ok := s.paymentView(w, r, v, id)
	if !ok {
		return
	}
	if !pv.Awaiting {
		// Answered already (another tab, a double click) or expired: show
		// what happened.
		http.Redirect(w, r, paymentPath(id), http.StatusSeeOther)
		return
	}
	if decision == "decline" {
		if _, err := s.Payments.DeclinePayment(ctx, v.sess.Customer, id); err != nil && bankbridge.ErrorKind(err) != bankbridge.Conflict {
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, paymentPath(id)+"?done=declined", http.StatusSeeOther)
		return
	}
	if pv.Collection && r.PostForm.Get("authorize") != "yes" {
		pv.Error = "Tick the box to give your authorisation, or decline. Nothing was collected."
		s.renderPayment(w, r, v, http.StatusUnprocessableEntity, pv, "")
		return
	}
	if pv.NoTOTP {
		pv.Error = "Payments of this size need a code from an authenticator app. Set one up on the Security page, then open this page again, or decline the payment."
		s.renderPayment(w, r, v, http.StatusUnprocessableEntity, pv, "")
		return
	}
	if pv.NeedCode {
		code := strings.TrimSpace(r.PostForm.Get("code"))
		if code == "" {
			pv.Error = "Enter the 6-digit code from your authenticator app to confirm this payment."
			s.renderPayment(w, r, v, http.StatusUnauthorized, pv, "")
			return
		}
		if err := s.Auth.StepUp(ctx, v.token, code); err != nil {
			switch bankbridge.ErrorKind(err) {
			case bankbridge.Invalid, bankbridge.Unauthenticated:
				pv.Error = "That code did not match. Wait for a new code and enter it."
				s.renderPayment(w, r, v, http.StatusUnauthorized, pv, "")
			case bankbridge.TooManyRequests:
				pv.Error = "Too many wrong codes. Please try again later."
				s.renderPayment(w, r, v, http.StatusTooManyRequests, pv, "")
			default:
				s.fail(w, r, err)
			}
			return
		}
	}
	var err error
	// A code just checked, or one given in the last stepUpWindow, as for a
	// web transfer; the booking decides again whether one is needed.
	steppedUp := pv.NeedCode || v.sess.SteppedUpWithin(stepUpWindow, s.Now())
	if pv.Collection {
		auth := rails.Authorized(rails.SECWEB, "web, asked by "+pv.Partner, s.Now(), string(s.lang(r)), pv.Terms)
		_, err = s.Payments.ConfirmCollection(ctx, v.sess.Customer, id, auth, steppedUp)
	} else {
		_, err = s.Payments.ConfirmPayment(ctx, v.sess.Customer, id, steppedUp)
	}
	switch {
	case errors.Is(err, limits.ErrStepUp):
		// Another payment made the day's total cross the threshold since
		// this page was shown: nothing was booked; ask for the code.
		if !v.sess.TOTPEnrolled {
			pv.NoTOTP = true
			pv.Error = "Payments of this size need a code from an authenticator app. Set one up on the Security page, then open this page again, or decline the payment."
			s.renderPayment(w, r, v, http.StatusUnprocessableEntity, pv, "")
			return
		}
		pv.NeedCode = true
		pv.Error = "Your payments of the last 24 hours now need a code from your authenticator app. Enter it to confirm this one."
		s.renderPayment(w, r, v, http.StatusUnauthorized, pv, "")
		return
	case err == nil, bankbridge.ErrorKind(err) == bankbridge.Conflict:
		// Booked, refused by the ledger (FAILED), or settled meanwhile:
		// the page says which.
	case bankbridge.ErrorKind(err) == bankbridge.Unavailable:
		pv.Error = "The bank is busy. Please confirm again: the payment will be made only once."
		pv.NeedCode = false // stepped up just now
		s.renderPayment(w, r, v, http.StatusServiceUnavailable, pv, "")
		return
	default:
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, paymentPath(id)+"?done=confirmed", http.StatusSeeOther)
}
