package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/ledger"
)

// Alerts is what the notification centre and the console's fraud pages
// need: *alerts.Service implements it.
type Alerts interface {
	Notifications(ctx context.Context, c bankbridge.CustomerID, limit int) ([]alerts.Alert, int, error)
	MarkRead(ctx context.Context, c bankbridge.CustomerID) error
	Answer(ctx context.Context, c bankbridge.CustomerID, id alerts.AlertID, a alerts.Answer) (alerts.Outcome, error)
	Settings(ctx context.Context, c bankbridge.CustomerID) (alerts.Settings, error)
	SaveSettings(ctx context.Context, st alerts.Settings) error
	Cases(ctx context.Context, status string, limit int) ([]alerts.Case, error)
	CloseCase(ctx context.Context, id alerts.CaseID, staff bankbridge.StaffID, note string) error
	DeadLetters(ctx context.Context, limit int) ([]alerts.Delivery, error)
	Requeue(ctx context.Context, id string) error
}

// alertsCurrency is the currency alert thresholds are entered in.
const alertsCurrency ledger.Currency = "USD"

// notificationsView is the notification centre: the alerts, newest first,
// and the settings form.
type notificationsView struct {
	Alerts     []alerts.Alert
	Unread     int
	Settings   alerts.Settings
	LargeDebit string // the thresholds as typed ("500.00"; "" when off)
	LowBalance string
	Currency   ledger.Currency
	Outcome    *alerts.Outcome // just answered
	Error      string
}

// notifications lists the customer's alerts and their alert settings.
func (s *server) notifications(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Alerts == nil {
		s.notFound(w, r, v)
		return
	}
	flash := ""
	switch r.URL.Query().Get("done") {
	case "read":
		flash = "All alerts marked as read."
	case "saved":
		flash = "Alert settings saved."
	}
	s.renderNotifications(w, r, v, http.StatusOK, notificationsView{}, flash)
}

func (s *server) renderNotifications(w http.ResponseWriter, r *http.Request, v *visit, status int, nv notificationsView, flash string) {
	c := v.sess.Customer
	as, unread, err := s.Alerts.Notifications(r.Context(), c, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	nv.Alerts, nv.Unread, nv.Currency = as, unread, alertsCurrency
	if nv.Settings.Customer == 0 {
		if nv.Settings, err = s.Alerts.Settings(r.Context(), c); err != nil {
			s.fail(w, r, err)
			return
		}
		nv.LargeDebit, nv.LowBalance = threshold(nv.Settings.LargeDebit), threshold(nv.Settings.LowBalance)
	}
	p := v.page("Alerts", "alerts")
	p.Flash, p.Data = flash, nv
	s.render(w, r, status, "notifications", p)
}

func threshold(a ledger.Amount) string {
	if a == 0 {
		return ""
	}
	return a.Format(alertsCurrency)
}

// notificationsRead marks every alert read.
func (s *server) notificationsRead(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Alerts == nil {
		s.notFound(w, r, v)
		return
	}
	if err := s.Alerts.MarkRead(r.Context(), v.sess.Customer); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/notifications?done=read", http.StatusSeeOther)
}

// notificationAnswer answers "was this you?". An alert that is not the
// customer's is the 404 page, as if it did not exist. The page then says
// what happened and what happens next.
func (s *server) notificationAnswer(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Alerts == nil {
		s.notFound(w, r, v)
		return
	}
	ans := alerts.Answer(r.PostForm.Get("answer"))
	out, err := s.Alerts.Answer(r.Context(), v.sess.Customer, alerts.AlertID(r.PathValue("id")), ans)
	switch k := bankbridge.ErrorKind(err); {
	case err == nil:
	case k == bankbridge.NotFound:
		s.notFound(w, r, v)
		return
	case k == bankbridge.Conflict || k == bankbridge.Invalid:
		s.renderNotifications(w, r, v, http.StatusConflict, notificationsView{Error: bankbridge.ErrorMessage(err) + "."}, "")
		return
	default:
		s.fail(w, r, err)
		return
	}
	s.renderNotifications(w, r, v, http.StatusOK, notificationsView{Outcome: &out}, "")
}

// notificationSettings saves the thresholds, which alerts are on, the
// privacy of alerts sent outside the bank, and the e-mail address.
func (s *server) notificationSettings(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Alerts == nil {
		s.notFound(w, r, v)
		return
	}
	f := r.PostForm
	st := alerts.Settings{Customer: v.sess.Customer, Privacy: alerts.Privacy(f.Get("privacy")),
		CardPurchases: f.Get("card_purchases") == "on", Deposits: f.Get("deposits") == "on", Payments: f.Get("payments") == "on",
		Email: f.Get("email")}
	nv := notificationsView{Settings: st, LargeDebit: strings.TrimSpace(f.Get("large_debit")), LowBalance: strings.TrimSpace(f.Get("low_balance"))}
	var err error
	for _, t := range []struct {
		in  string
		out *ledger.Amount
	}{{nv.LargeDebit, &st.LargeDebit}, {nv.LowBalance, &st.LowBalance}} {
		if t.in == "" {
			continue // off
		}
		if *t.out, err = ledger.ParseAmount(t.in, alertsCurrency); err != nil {
			break
		}
	}
	if err == nil {
		err = s.Alerts.SaveSettings(r.Context(), st)
	}
	switch k := bankbridge.ErrorKind(err); {
	case err == nil:
		http.Redirect(w, r, "/notifications?done=saved", http.StatusSeeOther)
	case k == bankbridge.Invalid:
		nv.Error = "Those settings were not saved: " + bankbridge.ErrorMessage(err) + "."
		s.renderNotifications(w, r, v, http.StatusBadRequest, nv, "")
	default:
		s.fail(w, r, err)
	}
}
