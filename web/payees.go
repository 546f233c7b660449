package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/rails"
)

// railsRoles may see the rails page; compliance officers (and
// administrators) release or reject payments held by the sanctions screen.
var (
	railsRoles      = []identity.Role{identity.Administrator, identity.Compliance, identity.Support}
	complianceRoles = []identity.Role{identity.Administrator, identity.Compliance}
)

// railsRoutes adds the payee, ACH payment and console rails pages.
func (s *server) railsRoutes(mux *http.ServeMux) {
	mux.Handle("GET /payees", s.customer(s.payees))
	mux.Handle("POST /payees", s.customer(s.payeeAdd))
	mux.Handle("POST /payees/{id}/nickname", s.customer(s.payeeRename))
	mux.Handle("POST /payees/{id}/verify", s.customer(s.payeeVerify))
	mux.Handle("POST /payees/{id}/delete", s.customer(s.payeeDelete))
	mux.Handle("GET /payees/{id}/pay", s.customer(s.achForm))
	mux.Handle("POST /payees/{id}/pay", s.customer(s.achReview))
	mux.Handle("POST /payees/{id}/pay/confirm", s.customer(s.achConfirm))
	// A collection (an ACH debit of the customer's own account at another
	// bank) is the same flow the other way: collect.go.
	mux.Handle("GET /payees/{id}/collect", s.customer(s.achForm))
	mux.Handle("POST /payees/{id}/collect", s.customer(s.achReview))
	mux.Handle("POST /payees/{id}/collect/confirm", s.customer(s.achConfirm))
	mux.Handle("GET /payments/ach/{id}/recall", s.customer(s.recallForm))
	mux.Handle("POST /payments/ach/{id}/recall", s.customer(s.recallAsk))
	mux.Handle("GET /payments/ach", s.customer(s.achList))
	mux.Handle("GET /payments/ach/{id}", s.customer(s.achStatus))
	mux.Handle("GET /console/rails", s.staff(railsRoles, s.consoleRails))
	mux.Handle("GET /console/mirror", s.staff(railsRoles, s.consoleMirror))
	mux.Handle("POST /console/rails/payments/{id}/release", s.staff(complianceRoles, s.consoleRailsDecide(true)))
	mux.Handle("POST /console/rails/payments/{id}/reject", s.staff(complianceRoles, s.consoleRailsDecide(false)))
	s.exceptionsRoutes(mux) // what waits in the exceptions account, and asking back for a customer: console_exceptions.go
}

// payeeForm is the add-a-payee form as typed.
type payeeForm struct {
	Name, Nickname, Routing, Number, Type string
}

type payeesView struct {
	Payees []rails.Payee
	In     payeeForm
	Errors map[string]string
}

func (s *server) payees(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Rails == nil {
		s.notFound(w, r, v)
		return
	}
	s.renderPayees(w, r, v, http.StatusOK, payeeForm{Type: "checking"}, nil, r.URL.Query().Get("done"))
}

func (s *server) renderPayees(w http.ResponseWriter, r *http.Request, v *visit, status int, in payeeForm, errs map[string]string, flash string) {
	ps, err := s.Rails.Store().Payees(r.Context(), v.sess.Customer)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := v.page("Payees at other banks", "payees")
	switch flash {
	case "added":
		p.Flash = "Payee saved. Verify it to check the account before you pay it."
	case "verify":
		p.Flash = "A zero-amount test payment (a prenote) is on its way to check the account."
	case "renamed":
		p.Flash = "Nickname changed."
	case "deleted":
		p.Flash = "Payee removed. Payments already made to it are kept."
	}
	p.Data = payeesView{Payees: ps, In: in, Errors: errs}
	s.render(w, r, status, "payees", p)
}

// payeeErrors words a payee's validation error by field.
func payeeErrors(err error) (map[string]string, bool) {
	switch {
	case errors.Is(err, rails.ErrRouting):
		return map[string]string{"routing": "Check the routing number: " + bankbridge.ErrorMessage(err) + "."}, true
	case errors.Is(err, rails.ErrAccountNumber):
		return map[string]string{"number": "Enter the account number: 4 to 17 letters or digits."}, true
	case errors.Is(err, rails.ErrPayeeName):
		return map[string]string{"name": "Enter the name on the account: up to 22 letters, digits, spaces or . , - ' &."}, true
	case errors.Is(err, rails.ErrNickname):
		return map[string]string{"nickname": "Enter a nickname of 1 to 30 characters."}, true
	case errors.Is(err, rails.ErrNicknameTaken), errors.Is(err, ledger.ErrDuplicate):
		return map[string]string{"nickname": "You already have a payee with that nickname."}, true
	case bankbridge.ErrorCode(err) == "account_type_invalid":
		return map[string]string{"type": "Choose checking or savings."}, true
	}
	return nil, false
}

func (s *server) payeeAdd(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Rails == nil {
		s.notFound(w, r, v)
		return
	}
	f := r.PostForm
	in := payeeForm{Name: strings.TrimSpace(f.Get("name")), Nickname: strings.TrimSpace(f.Get("nickname")),
		Routing: strings.TrimSpace(f.Get("routing")), Number: strings.TrimSpace(f.Get("number")), Type: f.Get("type")}
	if in.Nickname == "" {
		in.Nickname = in.Name
	}
	_, err := s.Rails.AddPayee(r.Context(), rails.Payee{Customer: v.sess.Customer, Name: in.Name, Nickname: in.Nickname,
		Routing: in.Routing, Number: ledger.AccountNumber(in.Number), Type: rails.AccountType(in.Type)})
	if err != nil {
		if errs, ok := payeeErrors(err); ok {
			s.renderPayees(w, r, v, http.StatusUnprocessableEntity, in, errs, "")
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/payees?done=added", http.StatusSeeOther)
}

func payeeID(r *http.Request) (ledger.PayeeID, bool) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return ledger.PayeeID(n), err == nil && n > 0
}

func (s *server) payeeAction(w http.ResponseWriter, r *http.Request, v *visit, done string, do func(ctx context.Context, id ledger.PayeeID) error) {
	id, ok := payeeID(r)
	if s.Rails == nil || !ok {
		s.notFound(w, r, v)
		return
	}
	err := do(r.Context(), id)
	switch {
	case errors.Is(err, rails.ErrPayeeNotFound):
		s.notFound(w, r, v)
	case err != nil:
		if errs, ok := payeeErrors(err); ok {
			s.renderPayees(w, r, v, http.StatusUnprocessableEntity, payeeForm{Type: "checking"}, errs, "")
			return
		}
		if bankbridge.ErrorKind(err) == bankbridge.Conflict {
			s.renderPayees(w, r, v, http.StatusConflict, payeeForm{Type: "checking"}, map[string]string{"": bankbridge.ErrorMessage(err) + "."}, "")
			return
		}
		s.fail(w, r, err)
	default:
		http.Redirect(w, r, "/payees?done="+done, http.StatusSeeOther)
	}
}

func (s *server) payeeRename(w http.ResponseWriter, r *http.Request, v *visit) {
	s.payeeAction(w, r, v, "renamed", func(ctx context.Context, id ledger.PayeeID) error {
		nick := strings.TrimSpace(r.PostForm.Get("nickname"))
		if err := rails.CheckNickname(nick); err != nil {
			return err
		}
		return s.Rails.Store().RenamePayee(ctx, v.sess.Customer, id, nick)
	})
}

func (s *server) payeeVerify(w http.ResponseWriter, r *http.Request, v *visit) {
	s.payeeAction(w, r, v, "verify", func(ctx context.Context, id ledger.PayeeID) error {
		_, err := s.Rails.Verify(ctx, v.sess.Customer, id)
		return err
	})
}

func (s *server) payeeDelete(w http.ResponseWriter, r *http.Request, v *visit) {
	s.payeeAction(w, r, v, "deleted", func(ctx context.Context, id ledger.PayeeID) error {
		return s.Rails.Store().DeletePayee(ctx, v.sess.Customer, id)
	})
}

// achInput is the payment form as typed, carried through confirmation.
type achInput struct {
	From, Amount, Memo string
	Speed              string // "standard", "same_day" or "instant"
	SameDay            bool
	// Collect: money comes in from the payee's account (an ACH debit the
	// customer authorises), From is then the account credited here.
	Collect bool
	// Authorize: the customer ticked the authorisation (Collect only).
	Authorize bool
}

type achView struct {
	Payee    rails.Payee
	In       achInput
	From     []ledger.Account
	Errors   map[string]string
	Amount   ledger.Amount
	Account  ledger.Account
	Key      string
	NeedCode bool
	Error    string
	Over     bool
	Settles  string
	// Terms is the authorisation the customer agrees to, in their
	// language (Collect only).
	Terms string
}

// achPlan resolves the form against the customer's accounts, the payee and
// the limits; errs says per field what is wrong.
func (s *server) achPlan(ctx context.Context, v *visit, id ledger.PayeeID, in achInput, key string) (achView, map[string]string, error) {
	pe, err := s.Rails.Store().Payee(ctx, v.sess.Customer, id)
	if err != nil {
		return achView{}, nil, err
	}
	from, _, _, _, err := s.choices(ctx, v)
	if err != nil {
		return achView{}, nil, err
	}
	av := achView{Payee: pe, In: in, From: from}
	errs := map[string]string{}
	switch {
	case pe.Status == rails.PayeeFailed:
		errs[""] = "This payee's account could not be verified. Check its details, or add it again."
	case in.Collect && pe.Status != rails.PayeeVerified:
		// rails.Collect refuses it too (ErrNotValidated); said here first,
		// in words, before anything is typed.
		errs[""] = errCollectUnverified
	}
	for _, a := range from {
		if strconv.FormatInt(int64(a.ID), 10) == in.From {
			av.Account = a
		}
	}
	switch {
	case av.Account.ID == 0 && in.Collect:
		errs["from"] = "Choose one of your accounts for the money to arrive in."
	case av.Account.ID == 0:
		errs["from"] = "Choose one of your accounts to send from."
	case av.Account.Currency != "USD" && in.Collect:
		errs["from"] = "Money from other banks arrives in US dollar accounts only."
	case av.Account.Currency != "USD":
		errs["from"] = "Payments to other banks leave US dollar accounts only."
	default:
		amt, err := ledger.ParseAmount(in.Amount, av.Account.Currency)
		switch {
		case err != nil:
			errs["amount"] = amountMessage(err)
		case in.SameDay && amt > rails.SameDayLimit:
			errs["amount"] = "A same-day payment can be at most " + rails.SameDayLimit.Display(av.Account.Currency) + "."
		case in.Speed == "instant" && amt > rails.InstantLimit:
			errs["amount"] = "An instant payment can be at most " + rails.InstantLimit.Display(av.Account.Currency) + ". Choose a standard payment."
		default:
			av.Amount = amt
			av.Over = amt > s.StepUpLimit
			switch err := s.limitsCheck(ctx, achPayment(v, pe, amt, key, false)); {
			case errors.Is(err, limits.ErrStepUp):
				av.Over = true
			case err == nil:
			default:
				msg, ok := s.limitMessage(err, transferPlan{Currency: av.Account.Currency})
				if !ok {
					return av, nil, err
				}
				errs["amount"] = msg
			}
			if av.Over && !v.sess.TOTPEnrolled && errs["amount"] == "" {
				errs["amount"] = s.noTOTPMessage(av.Account.Currency)
			}
			if errs["amount"] == "" && !in.Collect && amt > av.Account.Available()+av.Account.Limit {
				errs["amount"] = insufficient(av.Account)
			}
		}
	}
	if len([]rune(in.Memo)) > 50 {
		errs["memo"] = "Keep the note to 50 characters or fewer."
	}
	eff, sd := rails.Schedule{}.Effective(s.Now(), in.SameDay)
	av.Settles = eff.Format("Monday, January 2")
	switch {
	case in.Speed == "instant" && !in.Collect:
		av.Settles = "Within seconds (instant payment)"
	case in.SameDay && !sd:
		av.Settles += " (too late for same day today)"
	}
	if len(errs) > 0 {
		return av, errs, nil
	}
	return av, nil, nil
}

// achPayment is a payment as the limits count it: the payee's limits id,
// its cooling-off from when it was saved.
func achPayment(v *visit, pe rails.Payee, amt ledger.Amount, key string, steppedUp bool) limits.Payment {
	return limits.Payment{Customer: v.sess.Customer, Payee: pe.LimitsPayee(), Amount: amt, Currency: "USD",
		Saved: pe.Created, SteppedUp: steppedUp, Channel: "web", Key: key}
}

func readACHInput(r *http.Request) achInput {
	f := r.PostForm
	in := achInput{From: strings.TrimSpace(f.Get("from")), Amount: strings.TrimSpace(f.Get("amount")),
		Memo: strings.TrimSpace(f.Get("memo")), Speed: f.Get("speed")}
	switch in.Speed {
	case "same_day":
		in.SameDay = true
	case "instant":
	default:
		in.Speed = "standard"
	}
	if collecting(r) {
		// A debit leaves in an ACH file: standard or same day, never instant.
		in.Collect, in.Authorize = true, f.Get("authorize") == "yes"
		if in.Speed == "instant" {
			in.Speed = "standard"
		}
	}
	return in
}

func (s *server) achForm(w http.ResponseWriter, r *http.Request, v *visit) {
	id, ok := payeeID(r)
	if s.Rails == nil || !ok {
		s.notFound(w, r, v)
		return
	}
	av, errs, err := s.achPlan(r.Context(), v, id, achInput{Speed: "standard", Collect: collecting(r)}, "")
	if errors.Is(err, rails.ErrPayeeNotFound) {
		s.notFound(w, r, v)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if msg := errs[""]; msg != "" {
		// What is wrong with the payee itself, before anything is typed.
		av.Errors = map[string]string{"": msg}
	}
	s.renderACH(w, r, v, http.StatusOK, "ach_pay", av)
}

func (s *server) renderACH(w http.ResponseWriter, r *http.Request, v *visit, status int, name string, av achView) {
	title := "Pay %s"
	if av.In.Collect {
		title = "Collect from %s"
		av.Terms = s.collectTerms(r, av)
	}
	p := v.titled(title, "payees", av.Payee.Nickname)
	p.Data = av
	s.render(w, r, status, name, p)
}

func (s *server) achReview(w http.ResponseWriter, r *http.Request, v *visit) {
	id, ok := payeeID(r)
	if s.Rails == nil || !ok {
		s.notFound(w, r, v)
		return
	}
	in := readACHInput(r)
	av, errs, err := s.achPlan(r.Context(), v, id, in, "")
	if errors.Is(err, rails.ErrPayeeNotFound) {
		s.notFound(w, r, v)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if errs != nil {
		av.Errors = errs
		s.renderACH(w, r, v, http.StatusUnprocessableEntity, "ach_pay", av)
		return
	}
	av.Key, av.NeedCode = newKey(), av.Over && !v.sess.SteppedUpWithin(stepUpWindow, s.Now())
	s.renderACH(w, r, v, http.StatusOK, "ach_confirm", av)
}

// achConfirm makes the payment under the key minted for the confirmation
// page, after the step-up and the limits, as transferConfirm does.
func (s *server) achConfirm(w http.ResponseWriter, r *http.Request, v *visit) {
	ctx := r.Context()
	id, ok := payeeID(r)
	if s.Rails == nil || !ok {
		s.notFound(w, r, v)
		return
	}
	in := readACHInput(r)
	key := r.PostForm.Get("key")
	av, errs, err := s.achPlan(ctx, v, id, in, "")
	if errors.Is(err, rails.ErrPayeeNotFound) {
		s.notFound(w, r, v)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !validKey(key) {
		errs = map[string]string{"": "This confirmation could not be read. Please check the details and continue again."}
	}
	av.Key = key
	if errs == nil && in.Collect && !in.Authorize {
		// NACHA's authorisation is the customer's own act: nothing is
		// collected without the box ticked, whatever else the form says.
		av.NeedCode = av.Over && !v.sess.SteppedUpWithin(stepUpWindow, s.Now())
		av.Error = "Tick the box to give your authorisation, or cancel. Nothing was collected."
		s.renderACH(w, r, v, http.StatusUnprocessableEntity, "ach_confirm", av)
		return
	}
	if errs != nil {
		av.Errors = errs
		s.renderACH(w, r, v, http.StatusUnprocessableEntity, "ach_pay", av)
		return
	}
	ledgerKey := fmt.Sprintf("c%d:ach:%s", v.sess.Customer, key)
	if in.Collect {
		ledgerKey = fmt.Sprintf("c%d:collect:%s", v.sess.Customer, key)
	}
	av.Key, av.NeedCode = key, av.Over && !v.sess.SteppedUpWithin(stepUpWindow, s.Now())
	if av.NeedCode {
		code := strings.TrimSpace(r.PostForm.Get("code"))
		if code == "" {
			av.Error = "Enter the 6-digit code from your authenticator app to send this payment."
			s.renderACH(w, r, v, http.StatusUnauthorized, "ach_confirm", av)
			return
		}
		if err := s.Auth.StepUp(ctx, v.token, code); err != nil {
			switch bankbridge.ErrorKind(err) {
			case bankbridge.Invalid, bankbridge.Unauthenticated:
				av.Error = "That code did not match. Wait for a new code and enter it."
				s.renderACH(w, r, v, http.StatusUnauthorized, "ach_confirm", av)
			case bankbridge.TooManyRequests:
				av.Error = "Too many wrong codes. Please try again later."
				s.renderACH(w, r, v, http.StatusTooManyRequests, "ach_confirm", av)
			default:
				s.fail(w, r, err)
			}
			return
		}
	}
	pay := achPayment(v, av.Payee, av.Amount, ledgerKey, av.NeedCode || v.sess.SteppedUpWithin(stepUpWindow, s.Now()))
	if err := s.limitsReserve(ctx, pay); err != nil {
		msg, ok := s.limitMessage(err, transferPlan{Currency: "USD"})
		if errors.Is(err, limits.ErrStepUp) {
			msg, ok = "Your payments of the last 24 hours now need a code from your authenticator app. Continue again to enter it.", true
		}
		if !ok {
			s.fail(w, r, err)
			return
		}
		av.Errors = map[string]string{"amount": msg}
		s.renderACH(w, r, v, http.StatusUnprocessableEntity, "ach_pay", av)
		return
	}
	req := rails.PayRequest{Customer: v.sess.Customer, Payee: av.Payee.ID, From: av.Account.ID, Amount: av.Amount,
		Memo: in.Memo, SameDay: in.SameDay, Channel: "web", Key: key}
	var p rails.Payment
	switch {
	case in.Collect:
		p, err = s.Rails.Collect(ctx, rails.DebitRequest{Customer: v.sess.Customer, Payee: av.Payee.ID, To: av.Account.ID, Amount: av.Amount,
			SEC: rails.SECWEB, Authorization: rails.Authorized(rails.SECWEB, "web", s.Now(), string(s.lang(r)), s.collectTerms(r, av)),
			Memo: in.Memo, SameDay: in.SameDay, Channel: "web", Key: key})
	case in.Speed == "instant":
		// Settled or refused before this returns; if the instant service
		// does not answer, the payment stays sent, its funds held, and the
		// worker asks again: the status page follows it.
		p, err = s.Rails.PayInstant(ctx, req)
		if err != nil && p.ID != 0 && p.Status == rails.StatusSent {
			s.Logger.Warn("web: instant payment unanswered; the worker sends it again", "payment", p.ID, "err", err)
			err = nil
		}
	default:
		p, err = s.Rails.Pay(ctx, req)
	}
	if err == nil && p.Status == rails.StatusRefused {
		// Refused by the other bank: nothing left, so it stops counting.
		if rerr := s.Limits.Release(ctx, pay); rerr != nil {
			s.Logger.Warn("web: releasing a refused payment's limits", "err", rerr)
		}
	}
	if err != nil {
		if bankbridge.ErrorKind(err) != bankbridge.Unavailable && !errors.Is(err, rails.ErrKeyReused) {
			if rerr := s.Limits.Release(ctx, pay); rerr != nil {
				s.Logger.Warn("web: releasing a refused payment's limits", "err", rerr)
			}
		}
		if msg, ok := transferMessage(err, av.Account); ok {
			av.Errors = map[string]string{"": msg}
			s.renderACH(w, r, v, http.StatusUnprocessableEntity, "ach_pay", av)
			return
		}
		if bankbridge.ErrorKind(err) == bankbridge.Unavailable {
			av.Error = "The bank is busy. Please confirm again: the payment will be made only once."
			s.renderACH(w, r, v, http.StatusServiceUnavailable, "ach_confirm", av)
			return
		}
		s.fail(w, r, err)
		return
	}
	s.record(v.sess.Customer, insights.Payment, "payment", av.Amount)
	http.Redirect(w, r, "/payments/ach/"+strconv.FormatInt(int64(p.ID), 10), http.StatusSeeOther)
}

type achListView struct {
	Payments []rails.Payment
	Credits  []rails.Entry
	Follow   int // seconds between reloads, when the customer asked to follow (following)
}

// following is how often a page that follows a payment reloads itself:
// every seconds when the customer asked for it (?follow=1), else never. A
// page that changes under a reader who did not ask for it fails WCAG 2.2.1
// Timing Adjustable (https://www.w3.org/TR/WCAG22/#timing-adjustable, axe's
// meta-refresh rule), as the console's failed-logins page says too.
func following(r *http.Request, seconds int) int {
	if r.URL.Query().Get("follow") == "1" {
		return seconds
	}
	return 0
}

func (s *server) achList(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Rails == nil {
		s.notFound(w, r, v)
		return
	}
	ps, err := s.Rails.Store().Payments(r.Context(), rails.PaymentQuery{Customer: v.sess.Customer, Limit: 50})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	es, err := s.Rails.Store().Entries(r.Context(), rails.EntryQuery{Customer: v.sess.Customer, Limit: 50})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var credits []rails.Entry
	for _, e := range es {
		if e.Kind == rails.EntryCredit {
			credits = append(credits, e)
		}
	}
	p := v.page("Payments to other banks", "payees")
	p.Data = achListView{Payments: ps, Credits: credits, Follow: following(r, 10)}
	p.Refresh = p.Data.(achListView).Follow
	s.render(w, r, http.StatusOK, "ach_list", p)
}

func (s *server) achStatus(w http.ResponseWriter, r *http.Request, v *visit) {
	p, ok := s.ownPayment(w, r, v)
	if !ok {
		return
	}
	title := "Payment to %s"
	if p.Kind == rails.KindDebit {
		title = "Collection from %s"
	}
	pg := v.titled(title, "payees", p.Name)
	if r.URL.Query().Get("done") == "recall" {
		pg.Flash = "We asked the other bank for the money back."
	}
	_, why := recallable(p)
	view := achStatusView{Payment: p, Words: statusWords(p), CanRecall: why == 0, RecallWords: recallWords(p)}
	// A payment (or its request back) still moving can be followed until it ends.
	view.Moving = p.Status != rails.StatusSettled && p.Status != rails.StatusReturned && p.Status != rails.StatusRefused || p.Recall == rails.RecallRequested || p.Recall == rails.RecallAccepted && p.Status == rails.StatusSettled
	if view.Moving {
		view.Follow = following(r, 5)
	}
	pg.Data, pg.Refresh = view, view.Follow
	s.render(w, r, http.StatusOK, "ach_status", pg)
}

type consoleRailsView struct {
	Recon   rails.Reconciliation
	Held    []rails.Payment
	Files   []rails.File
	Entries []rails.Entry
	Recent  []rails.Payment
	CanAct  bool
}

func (s *server) consoleRails(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Rails == nil {
		s.notFound(w, r, v)
		return
	}
	ctx := r.Context()
	st := s.Rails.Store()
	var cv consoleRailsView
	var err error
	if cv.Recon, err = s.Rails.Reconcile(ctx); err == nil {
		if cv.Held, err = st.Payments(ctx, rails.PaymentQuery{Status: []rails.Status{rails.StatusHeld}, Limit: 100}); err == nil {
			if cv.Files, err = st.Files(ctx, rails.FileQuery{Limit: 20}); err == nil {
				if cv.Entries, err = st.Entries(ctx, rails.EntryQuery{Limit: 30}); err == nil {
					cv.Recent, err = st.Payments(ctx, rails.PaymentQuery{Limit: 30})
				}
			}
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cv.CanAct = v.sess.Role == identity.Compliance || v.sess.Role == identity.Administrator
	p := v.page("Payment rails", "rails")
	// Words chosen here, never taken from the URL.
	p.Flash = map[string]string{"released": "Payment released: it leaves with the next file.",
		"rejected": "Payment rejected: the hold is released and no money left.",
		"gone":     "That payment is no longer on hold."}[r.URL.Query().Get("done")]
	p.Data = cv
	s.render(w, r, http.StatusOK, "console_rails", p)
}

func (s *server) consoleRailsDecide(release bool) func(http.ResponseWriter, *http.Request, *visit) {
	return func(w http.ResponseWriter, r *http.Request, v *visit) {
		n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if s.Rails == nil || err != nil || n <= 0 {
			s.notFound(w, r, v)
			return
		}
		ctx := r.Context()
		held, err := s.Rails.Store().Payment(ctx, rails.PaymentID(n))
		if errors.Is(err, rails.ErrPaymentNotFound) {
			s.notFound(w, r, v)
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		reason := strings.TrimSpace(r.PostForm.Get("reason"))
		done, note := "released", "Released: the screen's hit is not the payee"
		if !release {
			done, note = "rejected", "Rejected"
		}
		if reason != "" {
			note += ": " + reason
		}
		// The decision is audited with the officer's name before it is
		// made, as every staff step on a case is.
		if !s.auditStaffAction(w, r, v, held.Customer, "rails payment "+strconv.FormatInt(n, 10)+": "+done, note) {
			return
		}
		if release {
			_, err = s.Rails.Release(ctx, rails.PaymentID(n))
		} else {
			_, err = s.Rails.Reject(ctx, rails.PaymentID(n), reason)
		}
		switch {
		case errors.Is(err, rails.ErrPaymentNotFound):
			s.notFound(w, r, v)
			return
		case errors.Is(err, rails.ErrNotHeld):
			done = "gone"
		case err != nil:
			s.fail(w, r, err)
			return
		}
		s.Logger.Info("rails: compliance decision", "payment", n, "release", release, "staff", v.sess.Staff)
		// The hold's case in the queue closes with the decision.
		if s.Alerts != nil && done != "gone" {
			k, err := s.Alerts.OpenSanctionsCase(ctx, held.Customer, n, held.Hold, held.Amount, held.Currency, held.Screen)
			if err == nil && k.Status == "open" {
				err = s.Alerts.CloseCase(ctx, k.ID, v.sess.Staff, note)
			}
			if err != nil {
				s.fail(w, r, err)
				return
			}
			if r.PostForm.Get("from") == "case" {
				http.Redirect(w, r, "/console/cases/"+strconv.FormatInt(int64(k.ID), 10)+"?done="+done, http.StatusSeeOther)
				return
			}
		}
		http.Redirect(w, r, "/console/rails?done="+done, http.StatusSeeOther)
	}
}
