package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/insights"
)

// loginView is the login form of either realm.
type loginView struct {
	Action   string // /login or /console/login
	Console  bool
	Email    string
	ShowTOTP bool
	Error    string
	Next     string
}

// loginToken returns the pre-session CSRF token of realm from its cookie,
// minting and setting a new one when there is none (double submit: the form
// carries the same value as the cookie, which another site cannot read).
func (s *server) loginToken(w http.ResponseWriter, r *http.Request, rc realmCookie) string {
	if c, err := r.Cookie(rc.login); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	t := newToken()
	s.setCookie(w, rc, rc.login, t, 3600)
	return t
}

func loginAction(realm identity.Realm) (action, home string) {
	if realm == identity.RealmStaff {
		return "/console/login", "/console/"
	}
	return "/login", "/accounts"
}

// maxNext bounds a post-login destination; ours are well under 100 bytes.
const maxNext = 512

// safeNext returns next when it is a path on this site, and home otherwise.
// It is the only check between a link anyone can write
// (/login?next=...) and where a browser goes after logging in, so it
// accepts only what cannot be read as another origin.
func safeNext(next, home string) string {
	if !localPath(next) {
		return home
	}
	return next
}

// localPath reports whether next is an absolute path on this site, read as
// a browser reads it (WHATWG URL Standard, basic URL parser): a browser
// strips leading and trailing C0 controls and spaces and removes ASCII tab
// and newline anywhere, so "/\t/evil.example" is "//evil.example", a
// scheme-relative URL to another host; and it treats "\" as "/" in http(s)
// URLs, so "/\evil.example" is another host too.
func localPath(next string) bool {
	if next == "" || len(next) > maxNext || next[0] != '/' {
		return false
	}
	// Printable ASCII only, and no backslash. That refuses every control
	// character (what browsers strip or remove), DEL, spaces, and every
	// non-ASCII character: Unicode format characters (zero-width,
	// bidirectional), look-alike slashes (U+FF0F, U+2215) and spaces a
	// parser might trim. A path this app links to percent-encodes all of
	// them, so nothing legitimate is lost.
	for i := 0; i < len(next); i++ {
		if c := next[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return false
		}
	}
	if len(next) > 1 && next[1] == '/' {
		return false // "//host": scheme-relative
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return false
	}
	// The decoded path must pass too, so that nothing which decodes to a
	// host ("/%2F/evil", "/%5Cevil", "/%09/evil") is let through for a
	// later decoding (ours, a proxy's, a browser's) to reveal. An empty
	// segment ("//") is refused anywhere: http.Redirect cleans the path it
	// is given, and no page of ours needs one.
	if strings.Contains(u.Path, "//") || strings.IndexFunc(u.Path, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || r == '\\'
	}) >= 0 {
		return false
	}
	return true
}

func (s *server) loginForm(realm identity.Realm) http.HandlerFunc {
	action, home := loginAction(realm)
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := s.session(w, r, realm)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		next := safeNext(r.URL.Query().Get("next"), home)
		if v != nil {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
		s.renderLogin(w, r, realm, http.StatusOK, loginView{Action: action, Console: realm == identity.RealmStaff, Next: next})
	}
}

func (s *server) renderLogin(w http.ResponseWriter, r *http.Request, realm identity.Realm, status int, lv loginView) {
	title := "Log in"
	if lv.Console {
		title = "Staff console log in"
	}
	p := page{Title: title, Realm: string(realm), CSRF: s.loginToken(w, r, s.realm(realm)), Data: lv}
	if r.Method == http.MethodGet && r.URL.Query().Get("reset") == "done" {
		p.Flash = "Your new password is saved. Log in with it."
	}
	s.render(w, r, status, "login", p)
}

func (s *server) loginSubmit(realm identity.Realm) http.HandlerFunc {
	action, home := loginAction(realm)
	rc := s.realm(realm)
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			s.failPage(w, r, nil, http.StatusBadRequest, "Bad request", "The form could not be read.")
			return
		}
		c, err := r.Cookie(rc.login)
		if err != nil || !sameToken(r.PostForm.Get("csrf"), c.Value) {
			s.forbidden(w, r, nil)
			return
		}
		lv := loginView{
			Action: action, Console: realm == identity.RealmStaff,
			Email: strings.TrimSpace(r.PostForm.Get("email")), Next: safeNext(r.PostForm.Get("next"), home),
		}
		code := strings.TrimSpace(r.PostForm.Get("code"))
		token, sess, err := s.login(w, r, realm, lv.Email, r.PostForm.Get("password"), code)
		switch {
		case err == nil:
		case bankbridge.ErrorCode(err) == "totp_required":
			lv.ShowTOTP = true
			lv.Error = "Enter your password again and the 6-digit code from your authenticator app."
			if code != "" {
				lv.Error = "That code did not match. Enter your password again and a fresh 6-digit code."
			}
			s.renderLogin(w, r, realm, http.StatusUnauthorized, lv)
			return
		case bankbridge.ErrorKind(err) == bankbridge.Unauthenticated || bankbridge.ErrorKind(err) == bankbridge.Invalid:
			lv.Error = "That email and password do not match our records."
			s.renderLogin(w, r, realm, http.StatusUnauthorized, lv)
			return
		case bankbridge.ErrorCode(err) == "login_throttled":
			lv.Error = "Too many failed logins came from your network. For everyone's safety, logging in from it is paused for a few minutes; try again later."
			s.renderLogin(w, r, realm, http.StatusTooManyRequests, lv)
			return
		case bankbridge.ErrorKind(err) == bankbridge.TooManyRequests:
			// Locked for browsers the account does not know: the owner
			// gets in from a device used before, or with the code of an
			// authenticator app (identity.LoginFrom).
			lv.ShowTOTP = true
			// Put together in the page's language: the catalogue has the
			// sentence, not this one with its time.
			l := s.lang(r)
			lv.Error = fmt.Sprintf(tr(l, "Too many failed attempts. For your safety, logging in from a new browser is paused %s. "+
				"Log in from a device you used before, enter your password with the code from your authenticator app, or try again then."),
				lockedFor(l, err, s.Now(), s.loc(r)))
			s.renderLogin(w, r, realm, http.StatusTooManyRequests, lv)
			return
		default:
			s.fail(w, r, err)
			return
		}
		// A new session: the login token has done its job.
		s.setCookie(w, rc, rc.login, "", -1)
		s.setCookie(w, rc, rc.name, token, 0)
		if realm == identity.RealmCustomer {
			s.record(sess.Customer, insights.Session, "", 0)
			s.languageAtLogin(w, r, sess.Customer)
		}
		http.Redirect(w, r, lv.Next, http.StatusSeeOther)
	}
}

// logout ends the session of either realm.
func (s *server) logout(w http.ResponseWriter, r *http.Request, v *visit) {
	if err := s.Auth.Logout(r.Context(), v.token); err != nil {
		// The cookie goes anyway; the session will expire by itself.
		s.Logger.LogAttrs(r.Context(), slog.LevelWarn, "web: logout", slog.String("request_id", bankbridge.RequestID(r.Context())), slog.Any("err", err))
	}
	rc := s.realm(v.sess.Realm)
	s.setCookie(w, rc, rc.name, "", -1)
	login, _ := loginAction(v.sess.Realm)
	http.Redirect(w, r, login, http.StatusSeeOther)
}

// lockedFor says until when a lock holds, in words of l, the time read in
// loc: "until 14:32 UTC (in about 3 minutes)"; "for a few minutes" when the
// error does not know.
func lockedFor(l assistant.Language, err error, now time.Time, loc *time.Location) string {
	until, ok := identity.LockedUntil(err)
	if !ok || !until.After(now) {
		return tr(l, "for a few minutes")
	}
	n := int((until.Sub(now) + time.Minute - 1) / time.Minute) // rounded up: never "in 0 minutes"
	format := "until %s (in about %d minutes)"
	if n == 1 {
		format = "until %s (in about %d minute)"
	}
	return fmt.Sprintf(tr(l, format), until.In(loc).Format("15:04 MST"), n)
}
