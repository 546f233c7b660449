package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/scheduled"
)

// scheduledRoutes adds the scheduled and recurring payments' pages.
func (s *server) scheduledRoutes(mux *http.ServeMux) {
	mux.Handle("GET /scheduled", s.customer(s.scheduledPage))
	mux.Handle("POST /scheduled", s.customer(s.scheduledCreate))
	mux.Handle("POST /scheduled/{id}/skip", s.customer(s.scheduledAction("skipped", (*scheduled.Service).Skip)))
	mux.Handle("POST /scheduled/{id}/cancel", s.customer(s.scheduledAction("cancelled", (*scheduled.Service).Cancel)))
	mux.Handle("GET /scheduled/{id}/edit", s.customer(s.scheduledEditPage))
	mux.Handle("POST /scheduled/{id}/edit", s.customer(s.scheduledEdit))
}

// scheduledInput is the form as typed.
type scheduledInput struct {
	From, To, Amount, Memo, Every, Start, Until, Count, Code string
}

// scheduledRow is one order with its latest runs, as listed.
type scheduledRow struct {
	scheduled.Order
	Runs []scheduled.Run
}

type scheduledView struct {
	Orders []scheduledRow
	From   []ledger.Account
	To     []destination
	In     scheduledInput
	Errors map[string]string
	Today  string
	Zone   string // the bank's time zone, as the customer reads it ("America/New_York")
	// TOTP says the customer has an authenticator app: the form offers to
	// authorise the payments with a code now, so none is stopped on its
	// date for the step-up nobody could give then.
	TOTP bool
}

// today is the current date in the bank's time zone.
func (s *server) today() time.Time { return scheduled.Day(s.Now().In(s.Location)) }

func (s *server) scheduledPage(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Scheduled == nil {
		s.notFound(w, r, v)
		return
	}
	in := scheduledInput{Every: "once", Start: s.today().AddDate(0, 0, 1).Format(time.DateOnly)}
	s.renderScheduled(w, r, v, http.StatusOK, in, nil, r.URL.Query().Get("done"))
}

// scheduledChoices are the accounts to pay from and everyone the customer
// may pay: their own accounts, payees at the bank, payees at other banks.
func (s *server) scheduledChoices(r *http.Request, v *visit) ([]ledger.Account, []destination, error) {
	from, to, _, _, err := s.choices(r.Context(), v)
	if err != nil {
		return nil, nil, err
	}
	if s.Rails != nil {
		ps, err := s.Rails.Store().Payees(r.Context(), v.sess.Customer)
		if err != nil {
			return nil, nil, err
		}
		for _, p := range ps {
			if p.Status != rails.PayeeFailed {
				to = append(to, destination{Value: "r:" + strconv.FormatInt(int64(p.ID), 10), Label: p.Nickname + " (" + p.Name + ", other bank)", Group: "Other banks"})
			}
		}
	}
	return from, to, nil
}

func (s *server) renderScheduled(w http.ResponseWriter, r *http.Request, v *visit, status int, in scheduledInput, errs map[string]string, flash string) {
	ctx := r.Context()
	os, err := s.Scheduled.Store().Orders(ctx, v.sess.Customer)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := make([]scheduledRow, len(os))
	for i, o := range os {
		rs, err := s.Scheduled.Store().Runs(ctx, v.sess.Customer, o.ID, 3)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		rows[i] = scheduledRow{Order: o, Runs: rs}
	}
	from, to, err := s.scheduledChoices(r, v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := v.page("Scheduled payments", "transfer")
	switch flash {
	case "created":
		p.Flash = "Payment scheduled. We will tell you in Alerts if one cannot be made."
	case "skipped":
		p.Flash = "The next payment will be skipped."
	case "cancelled":
		p.Flash = "Scheduled payment cancelled. Nothing more will be paid."
	case "changed":
		p.Flash = "Scheduled payment changed."
	}
	p.Data = scheduledView{Orders: rows, From: from, To: to, In: in, Errors: errs, Today: s.today().Format(time.DateOnly),
		Zone: s.Location.String(), TOTP: v.sess.TOTPEnrolled}
	s.render(w, r, status, "scheduled", p)
}

func (s *server) scheduledCreate(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Scheduled == nil {
		s.notFound(w, r, v)
		return
	}
	ctx := r.Context()
	f := r.PostForm
	in := scheduledInput{From: f.Get("from"), To: f.Get("to"), Amount: strings.TrimSpace(f.Get("amount")), Memo: strings.TrimSpace(f.Get("memo")),
		Every: f.Get("every"), Start: f.Get("start"), Until: f.Get("until"), Count: strings.TrimSpace(f.Get("count")), Code: strings.TrimSpace(f.Get("code"))}
	from, to, err := s.scheduledChoices(r, v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	errs := map[string]string{}
	o := scheduled.Order{Customer: v.sess.Customer, Memo: in.Memo, Every: scheduled.Every(in.Every)}
	for _, a := range from {
		if strconv.FormatInt(int64(a.ID), 10) == in.From {
			o.From, o.Currency = a.ID, a.Currency
		}
	}
	if o.From == 0 {
		errs["from"] = "Choose one of your accounts to pay from."
	}
	var dest *destination
	for i := range to {
		if to[i].Value == in.To {
			dest = &to[i]
		}
	}
	if dest == nil {
		errs["to"] = "Choose who to pay."
	} else if err := s.scheduledDestination(r, v, dest, &o); err != nil {
		s.fail(w, r, err)
		return
	}
	if o.Rail && o.Currency != "" && o.Currency != "USD" {
		errs["from"] = "Payments to other banks leave US dollar accounts only."
	}
	if o.Currency != "" {
		amt, err := ledger.ParseAmount(in.Amount, o.Currency)
		if err != nil {
			errs["amount"] = amountMessage(err)
		}
		o.Amount = amt
	}
	if o.Start, err = time.Parse(time.DateOnly, in.Start); err != nil {
		errs["start"] = "Enter the date of the first payment, for example " + s.today().AddDate(0, 0, 1).Format(time.DateOnly) + "."
	}
	if in.Until != "" {
		if o.Until, err = time.Parse(time.DateOnly, in.Until); err != nil {
			errs["end"] = "Enter the end date as year-month-day, for example 2027-01-31."
		}
	}
	if in.Count != "" {
		if o.Count, err = strconv.Atoi(in.Count); err != nil || o.Count < 1 {
			errs["end"] = "Enter how many payments to make, as a number from 1."
			o.Count = 0
		}
	}
	if o.Every == scheduled.Once {
		o.Until, o.Count = time.Time{}, 0
	}
	if len(errs) == 0 {
		auth, ok := s.scheduledStepUp(w, r, v, o, in.Code, errs)
		if !ok {
			return
		}
		o.Authorized = auth
	}
	if len(errs) == 0 {
		if _, err := s.Scheduled.Create(ctx, o); err != nil {
			if !errors.Is(err, scheduled.ErrInvalid) {
				s.fail(w, r, err)
				return
			}
			errs[""] = capitalise(bankbridge.ErrorMessage(err)) + "."
		}
	}
	if len(errs) > 0 {
		in.Code = "" // a code is good once: never sent back in the page
		s.renderScheduled(w, r, v, http.StatusUnprocessableEntity, in, errs, "")
		return
	}
	http.Redirect(w, r, "/scheduled?done=created", http.StatusSeeOther)
}

// scheduledDestination fills o's payee from the chosen destination.
func (s *server) scheduledDestination(r *http.Request, v *visit, d *destination, o *scheduled.Order) error {
	kind, idText, _ := strings.Cut(d.Value, ":")
	id, _ := strconv.ParseInt(idText, 10, 64)
	o.Label = d.Label
	switch kind {
	case "a":
		o.To = ledger.AccountID(id)
		a, err := s.Ledger.Store().Account(r.Context(), o.To)
		if err != nil {
			return err
		}
		o.Label = a.Name
	case "p":
		ps, err := s.Ledger.Store().Payees(r.Context(), v.sess.Customer)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if int64(p.ID) == id {
				o.Payee, o.To, o.Label = p.ID, p.Account, p.Nickname
			}
		}
	case "r":
		p, err := s.Rails.Store().Payee(r.Context(), v.sess.Customer, ledger.PayeeID(id))
		if err != nil {
			return err
		}
		o.Payee, o.Rail, o.Label = p.ID, true, p.Nickname
	}
	return nil
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (s *server) scheduledAction(done string, do func(*scheduled.Service, context.Context, bankbridge.CustomerID, scheduled.OrderID) error) func(http.ResponseWriter, *http.Request, *visit) {
	return func(w http.ResponseWriter, r *http.Request, v *visit) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if s.Scheduled == nil || err != nil || id <= 0 {
			s.notFound(w, r, v)
			return
		}
		err = do(s.Scheduled, r.Context(), v.sess.Customer, scheduled.OrderID(id))
		switch {
		case errors.Is(err, scheduled.ErrNotFound):
			s.notFound(w, r, v)
		case errors.Is(err, scheduled.ErrEnded):
			s.renderScheduled(w, r, v, http.StatusConflict, scheduledInput{Every: "once"},
				map[string]string{"": capitalise(bankbridge.ErrorMessage(err)) + "."}, "")
		case err != nil:
			s.fail(w, r, err)
		default:
			http.Redirect(w, r, "/scheduled?done="+done, http.StatusSeeOther)
		}
	}
}

// scheduledStepUp asks for the authenticator's code when an order is set
// up or changed, rather than refusing its payment on the date, when nobody
// is there to give it. A payment to someone else above the step-up amount
// always needs the code on its date (limits.Decide counts it in the day's
// total), so the code is required for it now; any other payment to
// someone else may be authorised with a code too, so that payments made
// the same day cannot stop it. It returns the amount authorised (0: none),
// and false when it answered the request itself. A wrong code is a
// field error in errs; nothing is saved.
func (s *server) scheduledStepUp(w http.ResponseWriter, r *http.Request, v *visit, o scheduled.Order, code string, errs map[string]string) (ledger.Amount, bool) {
	if o.Payee == 0 {
		return 0, true // between the customer's own accounts: no limits apply
	}
	if o.Authorized >= o.Amount && code == "" {
		return o.Authorized, true // authorised before for at least this much
	}
	needed := o.Amount > s.StepUpLimit
	switch {
	case code == "" && !needed:
		return 0, true
	case !v.sess.TOTPEnrolled:
		if needed {
			errs["amount"] = s.noTOTPMessage(o.Currency)
		}
		return 0, true
	case code == "":
		errs["code"] = fmt.Sprintf("Payments above %s need a code from your authenticator app. Enter it now, so the payment is not stopped on its date.",
			s.StepUpLimit.Display(o.Currency))
		return 0, true
	}
	if err := s.Auth.StepUp(r.Context(), v.token, code); err != nil {
		switch bankbridge.ErrorKind(err) {
		case bankbridge.Invalid, bankbridge.Unauthenticated:
			errs["code"] = "That code did not match. Wait for a new code and enter it."
		case bankbridge.TooManyRequests:
			errs["code"] = "Too many wrong codes. Please try again later."
		default:
			s.fail(w, r, err)
			return 0, false
		}
		return 0, true
	}
	return o.Amount, true
}

// scheduledEditView is the edit page of one order.
type scheduledEditView struct {
	Order   scheduled.Order
	Changes []scheduled.Change
	In      scheduledInput
	Errors  map[string]string
	Today   string
	TOTP    bool
}

func (s *server) scheduledOrder(w http.ResponseWriter, r *http.Request, v *visit) (scheduled.Order, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if s.Scheduled == nil || err != nil || id <= 0 {
		s.notFound(w, r, v)
		return scheduled.Order{}, false
	}
	o, err := s.Scheduled.Store().Order(r.Context(), v.sess.Customer, scheduled.OrderID(id))
	switch {
	case errors.Is(err, scheduled.ErrNotFound):
		s.auditRefusal(r, v, "scheduled payment", "not the customer's order, or none")
		s.notFound(w, r, v)
		return o, false
	case err != nil:
		s.fail(w, r, err)
		return o, false
	}
	return o, true
}

// orderInput is an order's current values as the edit form shows them.
func orderInput(o scheduled.Order) scheduledInput {
	in := scheduledInput{Amount: o.Amount.Format(o.Currency), Start: o.Next.Format(time.DateOnly), Every: string(o.Every)}
	if !o.Until.IsZero() {
		in.Until = o.Until.Format(time.DateOnly)
	}
	if o.Count > 0 {
		in.Count = strconv.Itoa(o.Count)
	}
	return in
}

func (s *server) scheduledEditPage(w http.ResponseWriter, r *http.Request, v *visit) {
	o, ok := s.scheduledOrder(w, r, v)
	if !ok {
		return
	}
	s.renderScheduledEdit(w, r, v, http.StatusOK, o, orderInput(o), nil)
}

func (s *server) renderScheduledEdit(w http.ResponseWriter, r *http.Request, v *visit, status int, o scheduled.Order, in scheduledInput, errs map[string]string) {
	if o.Status != scheduled.Active {
		s.renderScheduled(w, r, v, http.StatusConflict, scheduledInput{Every: "once"},
			map[string]string{"": capitalise(bankbridge.ErrorMessage(scheduled.ErrEnded)) + "."}, "")
		return
	}
	hist, err := s.Scheduled.Store().Changes(r.Context(), v.sess.Customer, o.ID, 20)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The history keeps what changed in English; it reads in the page's
	// language (scheduled.DetailIn).
	for i := range hist {
		hist[i].Detail = scheduled.DetailIn(string(s.lang(r)), hist[i].Detail)
	}
	p := v.page("Change a scheduled payment", "transfer")
	p.Data = scheduledEditView{Order: o, Changes: hist, In: in, Errors: errs, Today: s.today().Format(time.DateOnly), TOTP: v.sess.TOTPEnrolled}
	s.render(w, r, status, "scheduled_edit", p)
}

// scheduledEdit changes an order's amount, next date and end, on the
// version the customer was shown: if the worker paid an occurrence or
// another edit landed meanwhile, nothing changes and the page shows the
// order as it is now.
func (s *server) scheduledEdit(w http.ResponseWriter, r *http.Request, v *visit) {
	o, ok := s.scheduledOrder(w, r, v)
	if !ok {
		return
	}
	f := r.PostForm
	in := scheduledInput{Amount: strings.TrimSpace(f.Get("amount")), Start: f.Get("next"), Until: f.Get("until"),
		Count: strings.TrimSpace(f.Get("count")), Code: strings.TrimSpace(f.Get("code")), Every: string(o.Every)}
	version, err := strconv.ParseInt(f.Get("version"), 10, 64)
	if err != nil {
		s.failPage(w, r, v, http.StatusBadRequest, "Bad request", "Open the payment again and make your change.")
		return
	}
	errs := map[string]string{}
	e := scheduled.Edit{Version: version, Actor: "customer:" + strconv.FormatInt(int64(v.sess.Customer), 10)}
	if e.Amount, err = ledger.ParseAmount(in.Amount, o.Currency); err != nil {
		errs["amount"] = amountMessage(err)
	}
	if e.Next, err = time.Parse(time.DateOnly, in.Start); err != nil {
		errs["next"] = "Enter the date of the next payment as year-month-day, for example " + s.today().AddDate(0, 0, 1).Format(time.DateOnly) + "."
	}
	if o.Every != scheduled.Once {
		if in.Until != "" {
			if e.Until, err = time.Parse(time.DateOnly, in.Until); err != nil {
				errs["end"] = "Enter the end date as year-month-day, for example 2027-01-31."
			}
		}
		if in.Count != "" {
			if e.Count, err = strconv.Atoi(in.Count); err != nil || e.Count < 1 {
				errs["end"] = "Enter how many payments to make, as a number from 1."
				e.Count = 0
			}
		}
	}
	if len(errs) == 0 {
		changed := o
		changed.Amount = e.Amount
		auth, ok := s.scheduledStepUp(w, r, v, changed, in.Code, errs)
		if !ok {
			return
		}
		if auth > o.Authorized || (auth > 0 && in.Code != "") {
			e.Authorized = auth
		}
	}
	if len(errs) == 0 {
		_, err := s.Scheduled.Edit(r.Context(), v.sess.Customer, o.ID, e)
		switch {
		case err == nil:
			http.Redirect(w, r, "/scheduled?done=changed", http.StatusSeeOther)
			return
		case errors.Is(err, scheduled.ErrChanged):
			// Shown as it is now, with a word on why.
			cur, ok := s.scheduledOrder(w, r, v)
			if !ok {
				return
			}
			s.renderScheduledEdit(w, r, v, http.StatusConflict, cur, orderInput(cur),
				map[string]string{"": "This payment changed while you were editing it (a payment was just made, or another change saved). Here it is as it is now: make your change again."})
			return
		case errors.Is(err, scheduled.ErrEnded):
			s.renderScheduled(w, r, v, http.StatusConflict, scheduledInput{Every: "once"}, map[string]string{"": capitalise(bankbridge.ErrorMessage(err)) + "."}, "")
			return
		case errors.Is(err, scheduled.ErrInvalid):
			errs[""] = capitalise(bankbridge.ErrorMessage(err)) + "."
		default:
			s.fail(w, r, err)
			return
		}
	}
	in.Code = ""
	s.renderScheduledEdit(w, r, v, http.StatusUnprocessableEntity, o, in, errs)
}
