package web

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/bankbridge/bankbridge/identity"
)

// LoginGuard is the throttled login and its activity, which
// *identity.Service implements. When Auth implements it, logins carry the
// client's address and device cookie, and the console shows the failed
// logins (/console/logins); otherwise logins go through Auth.Login and the
// page answers 404.
type LoginGuard interface {
	LoginFrom(ctx context.Context, realm identity.Realm, email, password, totpCode string, at identity.Attempt) (string, identity.Session, string, error)
	LoginActivity(ctx context.Context) (identity.LoginActivity, error)
}

// deviceCookieAge is how long a browser keeps its device cookie: as long
// as identity keeps a device recognised by default (90 days).
const deviceCookieAge = 90 * 24 * 3600

// deviceCookie is the name of realm's device cookie: host-only and
// HttpOnly like the session's, but lasting across browser sessions.
func (s *server) deviceCookie(realm identity.Realm) string {
	name := "bb_device"
	if realm == identity.RealmStaff {
		name = "bb_console_device"
	}
	if !s.Secure {
		return name
	}
	if realm == identity.RealmStaff {
		return "__Secure-" + name
	}
	return "__Host-" + name
}

// clientAddr is the client's address as the throttle counts it: the
// connection's IP, an IPv6 one by its /64 (one subscriber's allocation,
// which a single machine can walk through). The bank runs its own TLS
// listener or a load balancer that keeps the client's address; behind a
// proxy that does not, every client would share one count (a known limit,
// see doc.go).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// login logs in through the guard when there is one, with the client's
// address and device cookie, and keeps the device token it returns.
func (s *server) login(w http.ResponseWriter, r *http.Request, realm identity.Realm, email, password, code string) (string, identity.Session, error) {
	g, ok := s.Auth.(LoginGuard)
	if !ok {
		return s.Auth.Login(r.Context(), realm, email, password, code)
	}
	at := identity.Attempt{Client: clientAddr(r)}
	name := s.deviceCookie(realm)
	if c, err := r.Cookie(name); err == nil {
		at.Device = c.Value
	}
	token, sess, device, err := g.LoginFrom(r.Context(), realm, email, password, code, at)
	if err == nil && device != "" {
		rc := s.realm(realm)
		http.SetCookie(w, &http.Cookie{Name: name, Value: device, Path: rc.path, MaxAge: deviceCookieAge,
			HttpOnly: true, Secure: s.Secure, SameSite: rc.sameSite})
	}
	return token, sess, err
}

// logins are who may watch the failed logins: those who follow fraud.
var loginRoles = []identity.Role{identity.Administrator, identity.Support, identity.Compliance}

// consoleLoginsView is the console's failed-logins page.
type consoleLoginsView struct {
	identity.LoginActivity
	Refresh int // seconds between reloads
}

// consoleLogins shows the failed logins of the last window, by client
// address, and the bank-wide count against its budget: a spraying attempt
// shows as one address climbing to its limit, or as the total passing the
// budget from many. The page reloads itself (a meta refresh: the app runs
// no script) so it follows an attack as it happens.
func (s *server) consoleLogins(w http.ResponseWriter, r *http.Request, v *visit) {
	g, ok := s.Auth.(LoginGuard)
	if !ok {
		s.notFound(w, r, v)
		return
	}
	a, err := g.LoginActivity(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := v.page("Failed logins", "logins")
	// Reloading on its own is opt-in ("Follow live"): a page that changes
	// under a reader who did not ask for it fails WCAG 2.2.1 Timing
	// Adjustable (https://www.w3.org/TR/WCAG22/#timing-adjustable).
	if r.URL.Query().Get("follow") == "1" {
		p.Refresh = 10
	}
	p.Data = consoleLoginsView{LoginActivity: a, Refresh: p.Refresh}
	s.render(w, r, http.StatusOK, "console_logins", p)
}

// minutes shows a window in whole minutes.
func minutes(d time.Duration) int { return int(d / time.Minute) }
