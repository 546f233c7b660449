package web

import (
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/identity"
)

// fraudRoles follow up fraud cases and requeue dead alert deliveries.
var fraudRoles = []identity.Role{identity.Administrator, identity.Support}

// consoleAlertsView is the console's fraud page: open cases and the alert
// deliveries that gave up.
type consoleAlertsView struct {
	Cases []alerts.Case
	Dead  []alerts.Delivery
	Error string
}

// consoleAlerts lists open fraud cases, newest first, and dead letters.
func (s *server) consoleAlerts(w http.ResponseWriter, r *http.Request, v *visit) {
	flash := ""
	switch r.URL.Query().Get("done") {
	case "closed":
		flash = "Case closed."
	case "requeued":
		flash = "Delivery queued again; it goes out in a moment."
	}
	s.renderConsoleAlerts(w, r, v, http.StatusOK, "", flash)
}

func (s *server) renderConsoleAlerts(w http.ResponseWriter, r *http.Request, v *visit, status int, msg, flash string) {
	if s.Alerts == nil {
		s.notFound(w, r, v)
		return
	}
	cs, err := s.Alerts.Cases(r.Context(), "open", 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	dead, err := s.Alerts.DeadLetters(r.Context(), 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := v.page("Fraud cases", "fraud")
	p.Flash, p.Data = flash, consoleAlertsView{Cases: cs, Dead: dead, Error: msg}
	s.render(w, r, status, "console_alerts", p)
}

// consoleCloseCase closes a case with the staff member's note.
func (s *server) consoleCloseCase(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Alerts == nil {
		s.notFound(w, r, v)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r, v)
		return
	}
	note := r.PostForm.Get("note")
	if !utf8.ValidString(note) {
		note = ""
	}
	err = s.Alerts.CloseCase(r.Context(), alerts.CaseID(id), v.sess.Staff, note)
	switch k := bankbridge.ErrorKind(err); {
	case err == nil:
		http.Redirect(w, r, "/console/alerts?done=closed", http.StatusSeeOther)
	case k == bankbridge.NotFound:
		s.notFound(w, r, v)
	case k == bankbridge.Invalid || k == bankbridge.Conflict:
		s.renderConsoleAlerts(w, r, v, http.StatusBadRequest, "Case "+strconv.FormatInt(id, 10)+" was not closed: "+bankbridge.ErrorMessage(err)+".", "")
	default:
		s.fail(w, r, err)
	}
}

// consoleRequeue sends a dead letter again.
func (s *server) consoleRequeue(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Alerts == nil {
		s.notFound(w, r, v)
		return
	}
	err := s.Alerts.Requeue(r.Context(), r.PathValue("id"))
	switch {
	case err == nil:
		http.Redirect(w, r, "/console/alerts?done=requeued", http.StatusSeeOther)
	case bankbridge.ErrorKind(err) == bankbridge.NotFound:
		s.notFound(w, r, v)
	default:
		s.fail(w, r, err)
	}
}
