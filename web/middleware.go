package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/identity"
)

// contentSecurityPolicy forbids every script (the app has none), inline
// styles, framing, foreign form targets and <base>.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

const permissionsPolicy = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), " +
	"microphone=(), payment=(), usb=(), interest-cohort=()"

// maxForm bounds a posted form; the largest of ours is a few hundred bytes.
const maxForm = 64 << 10

// secure wraps every response with the security headers, a request id in the
// context and a recover that turns a panic into the 500 page.
func (s *server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Permissions-Policy", permissionsPolicy)
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		// Pages are personal or carry a CSRF token: never cached. The static
		// handler relaxes this for the style sheet.
		h.Set("Cache-Control", "no-store")
		if s.Secure {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		ctx := r.Context()
		if bankbridge.RequestID(ctx) == "" {
			var b [8]byte
			rand.Read(b[:])
			ctx = bankbridge.WithRequestID(ctx, hex.EncodeToString(b[:]))
			r = r.WithContext(ctx)
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.fail(w, r, fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// cookieNames are the cookie names of one deployment. Over TLS they take the
// __Host- prefix (Secure, Path=/, no Domain: the browser enforces host-only)
// or, for the console's /console path, __Secure-.
type cookieNames struct{ customer, customerLogin, staff, staffLogin string }

func newCookieNames(secure bool) cookieNames {
	if secure {
		return cookieNames{"__Host-bb_session", "__Host-bb_login", "__Secure-bb_console", "__Secure-bb_console_login"}
	}
	return cookieNames{"bb_session", "bb_login", "bb_console", "bb_console_login"}
}

// realmCookie describes the session cookie of one realm.
type realmCookie struct {
	name, login, path string
	sameSite          http.SameSite
}

func (s *server) realm(r identity.Realm) realmCookie {
	if r == identity.RealmStaff {
		return realmCookie{s.cookies.staff, s.cookies.staffLogin, "/console", http.SameSiteStrictMode}
	}
	return realmCookie{s.cookies.customer, s.cookies.customerLogin, "/", http.SameSiteLaxMode}
}

// setCookie writes a host-only, HttpOnly cookie of the realm; maxAge < 0
// deletes it. Without MaxAge it lasts the browser session: the server's
// session expiry is what counts.
func (s *server) setCookie(w http.ResponseWriter, rc realmCookie, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: rc.path, MaxAge: maxAge,
		HttpOnly: true, Secure: s.Secure, SameSite: rc.sameSite,
	})
}

// visit is an authenticated request: the session and its token.
type visit struct {
	token string
	sess  identity.Session
}

// page starts the view of a page for this visit.
func (v *visit) page(title, nav string) page {
	return page{Title: title, Nav: nav, CSRF: v.sess.CSRF, Realm: string(v.sess.Realm), Role: string(v.sess.Role), SignedIn: true}
}

// titled is page with a title built from a name: format is the catalogue's
// key ("Pay %s"), translated before the name is put in, so that a
// customer's payee or an app's name never decides which words are shown.
func (v *visit) titled(format, nav string, args ...any) page {
	p := v.page(format, nav)
	p.titleArgs = args
	return p
}

// session loads the session of realm from its cookie; nil when there is none
// or it is not valid any more.
func (s *server) session(w http.ResponseWriter, r *http.Request, realm identity.Realm) (*visit, error) {
	rc := s.realm(realm)
	c, err := r.Cookie(rc.name)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	sess, err := s.Auth.Session(r.Context(), c.Value)
	switch {
	case bankbridge.ErrorKind(err) == bankbridge.Unauthenticated || (err == nil && sess.Realm != realm):
		// Expired, logged out or from the other realm: forget the cookie.
		s.setCookie(w, rc, rc.name, "", -1)
		return nil, nil
	case err != nil:
		return nil, err
	}
	return &visit{token: c.Value, sess: sess}, nil
}

// customer makes a handler for a customer page: it requires a customer
// session (else redirects to /login) and, on POST, the session's CSRF token.
func (s *server) customer(fn func(http.ResponseWriter, *http.Request, *visit)) http.Handler {
	return s.authed(identity.RealmCustomer, "/login", nil, fn)
}

// staff makes a handler for a console page that the given roles may use;
// other staff get the 403 page.
func (s *server) staff(roles []identity.Role, fn func(http.ResponseWriter, *http.Request, *visit)) http.Handler {
	return s.authed(identity.RealmStaff, "/console/login", roles, fn)
}

func (s *server) authed(realm identity.Realm, login string, roles []identity.Role, fn func(http.ResponseWriter, *http.Request, *visit)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.session(w, r, realm)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if v == nil {
			http.Redirect(w, r, login, http.StatusSeeOther)
			return
		}
		if roles != nil && !slices.Contains(roles, v.sess.Role) {
			s.auditRefusal(r, v, "a page outside the role of "+string(v.sess.Role), "role")
			s.failPage(w, r, v, http.StatusForbidden, "Not allowed",
				fmt.Sprintf("Your role (%s) does not allow this. Ask an administrator if you need it.", roleName(v.sess.Role)))
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil {
				s.failPage(w, r, v, http.StatusBadRequest, "Bad request", "The form could not be read.")
				return
			}
			if !sameToken(r.PostForm.Get("csrf"), v.sess.CSRF) {
				s.forbidden(w, r, v)
				return
			}
		}
		if realm == identity.RealmCustomer {
			r = s.withCustomerLang(r, v.sess.Customer)
		}
		fn(w, r, v)
	})
}

// forbidden answers a request whose CSRF token or origin is wrong.
func (s *server) forbidden(w http.ResponseWriter, r *http.Request, v *visit) {
	s.Logger.LogAttrs(r.Context(), slog.LevelWarn, "web: forbidden request",
		slog.String("request_id", bankbridge.RequestID(r.Context())), slog.String("method", r.Method), slog.String("path", r.URL.Path))
	s.failPage(w, r, v, http.StatusForbidden, "Request refused",
		"This form had expired or did not come from this site. Go back, reload the page and try again.")
}

// sameToken compares a submitted token with the expected one in constant time.
func sameToken(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// newToken returns 32 random bytes, base64url: login CSRF tokens.
func newToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// newKey returns an idempotency key for a confirmation page: 16 random bytes.
func newKey() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validKey reports whether k looks like a key newKey minted.
func validKey(k string) bool {
	b, err := base64.RawURLEncoding.DecodeString(k)
	return err == nil && len(b) == 16
}

// crossOrigin is the second CSRF layer: the browser's Sec-Fetch-Site and
// Origin headers must say the POST came from this origin.
func (s *server) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.forbidden(w, r, nil)
	}))
	return cop.Handler(next)
}

// errNoDirectory is reported when the console has no customer directory.
var errNoDirectory = errors.New("web: no customer directory configured")
