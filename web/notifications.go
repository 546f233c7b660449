package web

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/ledger"
)

// Alerts is what the notification centre and the console's fraud pages
// need: *alerts.Service implements it.
type Alerts interface {
	NotificationPage(ctx context.Context, q alerts.NotificationQuery) ([]alerts.Alert, *alerts.NotificationCursor, int, error)
	MarkRead(ctx context.Context, c bankbridge.CustomerID) error
	Answer(ctx context.Context, c bankbridge.CustomerID, id alerts.AlertID, a alerts.Answer) (alerts.Outcome, error)
	Settings(ctx context.Context, c bankbridge.CustomerID) (alerts.Settings, error)
	SaveSettings(ctx context.Context, st alerts.Settings) error
	Cases(ctx context.Context, status string, limit int) ([]alerts.Case, error)
	CloseCase(ctx context.Context, id alerts.CaseID, staff bankbridge.StaffID, note string) error
	DeadLetters(ctx context.Context, limit int) ([]alerts.Delivery, error)
	Requeue(ctx context.Context, id string) error

	// Casework: a customer's cards reported lost or stolen, disputes, and
	// the cases they open (see cards.go, cases.go, console_cases.go).
	ReportCard(ctx context.Context, c bankbridge.CustomerID, id ledger.CardID, kind alerts.CaseKind) (alerts.Case, error)
	ReportedCase(ctx context.Context, c bankbridge.CustomerID, card ledger.CardID) (*alerts.Case, error)
	Disputable(ctx context.Context, c bankbridge.CustomerID, tr ledger.Transfer) (ledger.Account, string, time.Time, error)
	OpenDispute(ctx context.Context, c bankbridge.CustomerID, tr ledger.Transfer, r alerts.DisputeReason, words string) (alerts.Case, error)
	CustomerCases(ctx context.Context, c bankbridge.CustomerID) ([]alerts.Case, error)
	CustomerCase(ctx context.Context, c bankbridge.CustomerID, id alerts.CaseID) (alerts.Case, []alerts.CaseNote, error)
	Case(ctx context.Context, id alerts.CaseID) (alerts.Case, []alerts.CaseNote, error)
	CaseQueue(ctx context.Context, q alerts.CaseQuery) ([]alerts.Case, error)
	AssignCase(ctx context.Context, id alerts.CaseID, staff bankbridge.StaffID) error
	AddCaseNote(ctx context.Context, n alerts.CaseNote) (alerts.CaseNote, error)
	// OpenSanctionsCase opens, once per payment, the case of a rails
	// payment held by the sanctions screen (console_sanctions.go).
	OpenSanctionsCase(ctx context.Context, c bankbridge.CustomerID, payment int64, hold ledger.TransferID, amount ledger.Amount, cur ledger.Currency, hit string) (alerts.Case, error)
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
	// The filter and the pager.
	Rule   alerts.Rule
	Rules  []alerts.Rule
	Only   bool   // unread only
	Older  string // URL of the next (older) page, "" on the last
	Newest string // URL of the first page, "" when on it
}

// alertsPage is how many alerts one page of the notification centre shows.
const alertsPage = 20

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
	qs := r.URL.Query()
	q := alerts.NotificationQuery{Customer: c, Rule: alerts.Rule(qs.Get("rule")), Unread: qs.Get("unread") == "1", Limit: alertsPage}
	if b := qs.Get("before"); b != "" {
		cur, ok := decodeAlertCursor(b)
		if !ok {
			// A mangled link: start again from the newest, saying so.
			nv.Error, status = "That page link is not valid. Here are your newest alerts.", http.StatusBadRequest
		} else {
			q.Before = &cur
		}
	}
	if q.Rule != "" && !slices.Contains(alerts.Rules(), q.Rule) {
		nv.Error, status, q.Rule = "There is no such kind of alert. Here are all of them.", http.StatusBadRequest, ""
	}
	as, next, unread, err := s.Alerts.NotificationPage(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Each alert in the language of the page, written from what it says
	// as data (alerts.Text); one made before that was kept reads as stored.
	if l := s.lang(r); l == assistant.Spanish {
		for i := range as {
			as[i].Title, as[i].Body, _ = alerts.Text(as[i], string(l))
		}
	}
	nv.Alerts, nv.Unread, nv.Currency = as, unread, alertsCurrency
	nv.Rule, nv.Rules, nv.Only = q.Rule, alerts.Rules(), q.Unread
	base := url.Values{}
	if q.Rule != "" {
		base.Set("rule", string(q.Rule))
	}
	if q.Unread {
		base.Set("unread", "1")
	}
	if next != nil {
		older := url.Values{"before": {encodeAlertCursor(*next)}}
		for k, vs := range base {
			older[k] = vs
		}
		nv.Older = "/notifications?" + older.Encode()
	}
	if q.Before != nil {
		nv.Newest = "/notifications"
		if len(base) > 0 {
			nv.Newest += "?" + base.Encode()
		}
	}
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

// encodeAlertCursor makes the pager's cursor opaque: the last alert's time
// (Unix microseconds) and event sequence, 8 bytes each, then its rule,
// base64url. It only ever pages the signed-in customer's own alerts.
func encodeAlertCursor(c alerts.NotificationCursor) string {
	b := make([]byte, 16, 16+len(c.Rule))
	binary.BigEndian.PutUint64(b[:8], uint64(c.Created.UnixMicro()))
	binary.BigEndian.PutUint64(b[8:], uint64(c.Seq))
	return base64.RawURLEncoding.EncodeToString(append(b, c.Rule...))
}

func decodeAlertCursor(s string) (alerts.NotificationCursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 16 || len(b) > 64 {
		return alerts.NotificationCursor{}, false
	}
	at, seq := int64(binary.BigEndian.Uint64(b[:8])), int64(binary.BigEndian.Uint64(b[8:16]))
	rule := alerts.Rule(b[16:])
	if at < 0 || seq < 0 || !slices.Contains(alerts.Rules(), rule) {
		return alerts.NotificationCursor{}, false
	}
	return alerts.NotificationCursor{Created: time.UnixMicro(at).UTC(), Seq: ledger.EventSeq(seq), Rule: rule}, true
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
