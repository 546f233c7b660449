package web

import (
	"net/http"
	"strings"

	"github.com/bankbridge/bankbridge"
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
}

func (s *server) renderSecurity(w http.ResponseWriter, r *http.Request, v *visit, status int, sv securityView) {
	sv.Enrolled = v.sess.TOTPEnrolled
	cur := ledger.Currency("USD")
	if accts, err := s.Ledger.Store().CustomerAccounts(r.Context(), v.sess.Customer); err == nil && len(accts) > 0 {
		cur = accts[0].Currency
	}
	sv.Limit = s.StepUpLimit.Display(cur)
	sv.CanChange = s.Passwords != nil
	p := v.page("Security", "security")
	if r.Method == http.MethodGet && r.URL.Query().Get("done") == "totp" && sv.Enrolled {
		p.Flash = "Your authenticator app is set up."
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
