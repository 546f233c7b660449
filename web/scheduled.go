package web

import (
	"context"
	"errors"
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
}

// scheduledInput is the form as typed.
type scheduledInput struct {
	From, To, Amount, Memo, Every, Start, Until, Count string
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
}

func (s *server) scheduledPage(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Scheduled == nil {
		s.notFound(w, r, v)
		return
	}
	in := scheduledInput{Every: "once", Start: s.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)}
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
	}
	p.Data = scheduledView{Orders: rows, From: from, To: to, In: in, Errors: errs, Today: s.Now().UTC().Format(time.DateOnly)}
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
		Every: f.Get("every"), Start: f.Get("start"), Until: f.Get("until"), Count: strings.TrimSpace(f.Get("count"))}
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
		errs["start"] = "Enter the date of the first payment, for example " + s.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly) + "."
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
		if _, err := s.Scheduled.Create(ctx, o); err != nil {
			if !errors.Is(err, scheduled.ErrInvalid) {
				s.fail(w, r, err)
				return
			}
			errs[""] = capitalise(bankbridge.ErrorMessage(err)) + "."
		}
	}
	if len(errs) > 0 {
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
