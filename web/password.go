package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/identity"
)

// Passwords is what the password pages need from identity:
// *identity.Service implements it. Optional (Deps.Passwords, or Auth when
// it implements it): without it the pages answer 404.
type Passwords interface {
	ChangePassword(ctx context.Context, token, current, password string) (string, identity.Session, error)
	RequestReset(ctx context.Context, realm identity.Realm, email string) (token, to string, err error)
	ResetPassword(ctx context.Context, token, password string) error
}

// Mailer sends the reset e-mail; *alerts.Mailer implements it. Without one
// the "forgot your password" page says to call the bank.
type Mailer interface {
	Deliver(ctx context.Context, c bankbridge.CustomerID, m alerts.Message) error
}

// passwordView is the forgotten-password and reset forms.
type passwordView struct {
	Email  string
	Token  string
	Sent   bool
	NoMail bool
	Error  string
}

// publicPage starts a page for someone not logged in, with the pre-session
// CSRF token login uses.
func (s *server) publicPage(w http.ResponseWriter, r *http.Request, title string, data any) page {
	return page{Title: title, Realm: string(identity.RealmCustomer), CSRF: s.loginToken(w, r, s.realm(identity.RealmCustomer)), Data: data}
}

// publicForm parses a pre-session form and checks its double-submit CSRF
// token; false means it answered.
func (s *server) publicForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		s.failPage(w, r, nil, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return false
	}
	c, err := r.Cookie(s.realm(identity.RealmCustomer).login)
	if err != nil || !sameToken(r.PostForm.Get("csrf"), c.Value) {
		s.forbidden(w, r, nil)
		return false
	}
	return true
}

func (s *server) forgotForm(w http.ResponseWriter, r *http.Request) {
	if s.Passwords == nil {
		s.notFound(w, r, nil)
		return
	}
	s.render(w, r, http.StatusOK, "password_forgot", s.publicPage(w, r, "Forgot your password?", passwordView{NoMail: s.Mail == nil}))
}

// forgotSubmit sends a reset link if the address has an account, and says
// the same thing whether or not it has, or the requests were too many
// (OWASP Forgot Password Cheat Sheet, "Forgot Password Request").
func (s *server) forgotSubmit(w http.ResponseWriter, r *http.Request) {
	if s.Passwords == nil || s.Mail == nil {
		s.notFound(w, r, nil)
		return
	}
	if !s.publicForm(w, r) {
		return
	}
	ctx := r.Context()
	email := strings.TrimSpace(r.PostForm.Get("email"))
	pv := passwordView{Email: email}
	if email == "" || len(email) > 254 {
		pv.Error = "Enter the e-mail address you log in with."
		s.render(w, r, http.StatusBadRequest, "password_forgot", s.publicPage(w, r, "Forgot your password?", pv))
		return
	}
	token, to, err := s.Passwords.RequestReset(ctx, identity.RealmCustomer, email)
	switch {
	case bankbridge.ErrorKind(err) == bankbridge.TooManyRequests:
		s.Logger.LogAttrs(ctx, slog.LevelWarn, "web: password reset throttled", slog.String("request_id", bankbridge.RequestID(ctx)))
	case err != nil:
		s.fail(w, r, err)
		return
	case token != "":
		link := strings.TrimRight(s.PublicURL, "/") + "/password/reset?" + url.Values{"token": {token}}.Encode()
		sum := sha256.Sum256([]byte(token)) // the Message-ID must not carry the token itself
		l := s.mailLanguage(r, email)
		msg := alerts.Message{ID: "reset-" + hex.EncodeToString(sum[:8]), Title: fmt.Sprintf(tr(l, resetSubject), s.BankName), To: to,
			Text: fmt.Sprintf(tr(l, resetBody), s.BankName, link)}
		if err := s.Mail.Deliver(ctx, 0, msg); err != nil {
			// Said as sent all the same: the answer must not tell who banks
			// here. The log (without the link) says what happened.
			s.Logger.LogAttrs(ctx, slog.LevelError, "web: password reset e-mail failed",
				slog.String("request_id", bankbridge.RequestID(ctx)), slog.String("error", err.Error()))
		}
	}
	pv.Sent = true
	s.render(w, r, http.StatusOK, "password_forgot", s.publicPage(w, r, "Check your e-mail", pv))
}

func (s *server) resetForm(w http.ResponseWriter, r *http.Request) {
	if s.Passwords == nil {
		s.notFound(w, r, nil)
		return
	}
	pv := passwordView{Token: r.URL.Query().Get("token")}
	s.render(w, r, http.StatusOK, "password_reset", s.publicPage(w, r, "Choose a new password", pv))
}

func (s *server) resetSubmit(w http.ResponseWriter, r *http.Request) {
	if s.Passwords == nil {
		s.notFound(w, r, nil)
		return
	}
	if !s.publicForm(w, r) {
		return
	}
	pv := passwordView{Token: r.PostForm.Get("token")}
	pw, again := r.PostForm.Get("password"), r.PostForm.Get("again")
	var err error
	if pw != again {
		pv.Error = "The two passwords are not the same. Type the new password twice."
	} else if err = s.Passwords.ResetPassword(r.Context(), pv.Token, pw); err != nil {
		switch bankbridge.ErrorCode(err) {
		case "password_invalid":
			pv.Error = passwordRefused(s.lang(r), err)
		case "reset_link_invalid":
			pv.Error = "This link does not work any more: it was used, is older than 30 minutes, or is not ours. Ask for a new one."
			pv.Token = ""
		default:
			s.fail(w, r, err)
			return
		}
	}
	if pv.Error != "" {
		s.render(w, r, http.StatusBadRequest, "password_reset", s.publicPage(w, r, "Choose a new password", pv))
		return
	}
	http.Redirect(w, r, "/login?reset=done", http.StatusSeeOther)
}

// passwordChange changes the signed-in customer's password and keeps this
// browser logged in with a new session; every other session ends.
func (s *server) passwordChange(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Passwords == nil {
		s.notFound(w, r, v)
		return
	}
	f := r.PostForm
	sv := securityView{}
	if f.Get("password") != f.Get("again") {
		sv.PasswordError = "The two new passwords are not the same. Type the new password twice."
		s.renderSecurity(w, r, v, http.StatusBadRequest, sv)
		return
	}
	token, _, err := s.Passwords.ChangePassword(r.Context(), v.token, f.Get("current"), f.Get("password"))
	switch {
	case err == nil:
		s.setCookie(w, s.realm(identity.RealmCustomer), s.realm(identity.RealmCustomer).name, token, 0)
		http.Redirect(w, r, "/security?done=password", http.StatusSeeOther)
		return
	case bankbridge.ErrorCode(err) == "password_invalid":
		sv.PasswordError = passwordRefused(s.lang(r), err)
	case bankbridge.ErrorKind(err) == bankbridge.Unauthenticated:
		sv.PasswordError = "Your current password is not right."
	case bankbridge.ErrorKind(err) == bankbridge.TooManyRequests:
		l := s.lang(r)
		sv.PasswordError = fmt.Sprintf(tr(l, "Too many wrong passwords: changing it is paused %s."), lockedFor(l, err, s.Now(), s.loc(r)))
	default:
		s.fail(w, r, err)
		return
	}
	s.renderSecurity(w, r, v, http.StatusBadRequest, sv)
}

// passwordRefused says in l why a new password was refused: the details
// of the validation error's fields, each in the catalogue.
func passwordRefused(l assistant.Language, err error) string {
	var parts []string
	var e *bankbridge.Error
	if errors.As(err, &e) {
		for _, f := range e.Fields {
			parts = append(parts, tr(l, f.Detail))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, tr(l, bankbridge.ErrorMessage(err)))
	}
	return tr(l, "Choose another password:") + " " + strings.Join(parts, "; ") + "."
}

// The reset e-mail, in the catalogue like every customer text.
const (
	resetSubject = "%s: reset your password"
	resetBody    = "Someone, we hope you, asked to reset the password of your %s account.\n\n" +
		"Open this link within 30 minutes to choose a new password. It works once:\n%s\n\n" +
		"If it was not you, ignore this e-mail: your password stays as it is. We will never ask you for your password."
)

// mailLanguage is the language of a reset e-mail to email's owner: the one
// they chose when they did (the chat's and web's setting), else the page's.
func (s *server) mailLanguage(r *http.Request, email string) assistant.Language {
	if s.Languages != nil && s.Directory != nil {
		if c, err := s.Directory.CustomerByEmail(r.Context(), email); err == nil {
			if l, err := s.Languages.Language(r.Context(), c.ID); err == nil && l != "" {
				return l
			}
		}
	}
	return s.lang(r)
}
