package web

import (
	"net/http"
	"strings"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/ledger"
)

// securityView is the security page: TOTP status, and during enrolment the
// secret to type or the otpauth URL to paste into an authenticator app.
type securityView struct {
	Enrolled bool
	Enroling bool
	Secret   string
	URL      string
	Error    string
	Limit    string
	// The password form: shown when Deps.Passwords is set.
	CanChange     bool
	PasswordError string
	// The time zone form: shown when Deps.TimeZones is set. Zone is the
	// customer's choice ("" for none), BankZone the bank's, ZoneInput what
	// the form shows, Zones the suggestions.
	CanZone              bool
	Zone, BankZone       string
	ZoneInput, ZoneError string
	Zones                []string
}

// zoneSuggestions are offered while typing a time zone: the bank's
// customers' likely ones (any IANA name is accepted).
var zoneSuggestions = []string{"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
	"America/Anchorage", "Pacific/Honolulu", "America/Puerto_Rico", "America/Mexico_City", "America/Tijuana", "America/Guatemala",
	"America/El_Salvador", "America/Tegucigalpa", "America/Santo_Domingo", "America/Havana", "America/Bogota", "America/Lima",
	"America/Caracas", "America/Santiago", "America/Argentina/Buenos_Aires", "Europe/Madrid", "UTC"}

func (s *server) renderSecurity(w http.ResponseWriter, r *http.Request, v *visit, status int, sv securityView) {
	sv.Enrolled = v.sess.TOTPEnrolled
	cur := ledger.Currency("USD")
	if accts, err := s.Ledger.Store().CustomerAccounts(r.Context(), v.sess.Customer); err == nil && len(accts) > 0 {
		cur = accts[0].Currency
	}
	sv.Limit = s.StepUpLimit.Display(cur)
	sv.CanChange = s.Passwords != nil
	if s.TimeZones != nil {
		sv.CanZone, sv.BankZone, sv.Zones = true, s.Location.String(), zoneSuggestions
		if z, err := s.TimeZones.TimeZone(r.Context(), v.sess.Customer); err == nil {
			sv.Zone = z
		}
		if sv.ZoneError == "" {
			sv.ZoneInput = sv.Zone
		}
	}
	p := v.page("Security", "security")
	if r.Method == http.MethodGet && r.URL.Query().Get("done") == "totp" && sv.Enrolled {
		p.Flash = "Your authenticator app is set up."
	}
	if r.Method == http.MethodGet && r.URL.Query().Get("done") == "zone" {
		p.Flash = "Your time zone is saved."
	}
	if r.Method == http.MethodGet && r.URL.Query().Get("done") == "password" {
		p.Flash = "Your password is changed. Everywhere else you were logged in, you are now logged out."
	}
	p.Data = sv
	s.render(w, r, status, "security", p)
}

func (s *server) security(w http.ResponseWriter, r *http.Request, v *visit) {
	s.renderSecurity(w, r, v, http.StatusOK, securityView{})
}

// totpBegin starts enrolment: a new secret, pending until confirmed.
func (s *server) totpBegin(w http.ResponseWriter, r *http.Request, v *visit) {
	secret, u, err := s.Auth.BeginTOTP(r.Context(), v.token)
	if err != nil {
		if k := bankbridge.ErrorKind(err); k == bankbridge.Conflict || k == bankbridge.Invalid {
			s.renderSecurity(w, r, v, http.StatusConflict, securityView{Error: bankbridge.ErrorMessage(err)})
			return
		}
		s.fail(w, r, err)
		return
	}
	s.renderSecurity(w, r, v, http.StatusOK, securityView{Enroling: true, Secret: secret, URL: u})
}

// totpConfirm finishes enrolment with a code from the app.
func (s *server) totpConfirm(w http.ResponseWriter, r *http.Request, v *visit) {
	code := strings.TrimSpace(r.PostForm.Get("code"))
	if err := s.Auth.ConfirmTOTP(r.Context(), v.token, code); err != nil {
		switch bankbridge.ErrorKind(err) {
		case bankbridge.Invalid:
			s.renderSecurity(w, r, v, http.StatusUnprocessableEntity, securityView{Enroling: true,
				Error: "That code did not match. Check the time on your phone, wait for a new code and enter it."})
		case bankbridge.Conflict, bankbridge.TooManyRequests:
			s.renderSecurity(w, r, v, http.StatusConflict, securityView{Error: bankbridge.ErrorMessage(err)})
		default:
			s.fail(w, r, err)
		}
		return
	}
	http.Redirect(w, r, "/security?done=totp", http.StatusSeeOther)
}

// setTimeZone is the security page's time zone form (POST
// /security/time-zone): an IANA name, checked (assistant.ParseTimeZone),
// kept for the customer; empty forgets it, and the bank's applies again.
func (s *server) setTimeZone(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.TimeZones == nil {
		s.notFound(w, r, v)
		return
	}
	z := strings.TrimSpace(r.PostForm.Get("zone"))
	if z != "" {
		if _, err := assistant.ParseTimeZone(z); err != nil {
			s.renderSecurity(w, r, v, http.StatusUnprocessableEntity, securityView{ZoneInput: z,
				ZoneError: "That is not a time zone we know. Use its name in the time zone database, like America/Mexico_City."})
			return
		}
	}
	if err := s.TimeZones.SetTimeZone(r.Context(), v.sess.Customer, z, s.Now()); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/security?done=zone", http.StatusSeeOther)
}
