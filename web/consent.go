package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
)

// ConsentFlow is the authorization server's side of the consent screen:
// the pushed request a partner made, and the customer's decision, which
// answers where to send the browser back to. *oauth.Server implements it.
type ConsentFlow interface {
	PendingRequest(ctx context.Context, id string) (consent.Request, consent.Partner, error)
	Decide(ctx context.Context, d consent.Decision) (redirect string, err error)
}

// Consents is what the Connected apps page and the console need from the
// consent capability. *consent.Service implements it.
type Consents interface {
	CustomerGrants(ctx context.Context, c bankbridge.CustomerID) ([]consent.Grant, error)
	Partner(ctx context.Context, id consent.PartnerID) (consent.Partner, error)
	RevokeForCustomer(ctx context.Context, c bankbridge.CustomerID, id consent.GrantID) (consent.Grant, error)
	Reauthorise(ctx context.Context, c bankbridge.CustomerID, id consent.GrantID, days int) (consent.Grant, error)
	Revoke(ctx context.Context, id consent.GrantID, by, reason string) (consent.Grant, error)
}

// clusterView is one data cluster on the consent screen: what it is, an
// example of what it reveals, and why the partner says it needs it.
type clusterView struct {
	consent.ClusterInfo
	Purpose string
}

// consentView is the consent screen.
type consentView struct {
	Request      string
	Partner      consent.Partner
	Host         string // the partner's homepage host, to recognise it
	Clusters     []clusterView
	Accounts     []ledger.Account
	Chosen       map[ledger.AccountID]bool
	Days         int
	MaxDays      int
	Lookback     int
	ShowLookback bool
	NeedCode     bool
	Error        string
}

// consentCSP is the page's policy with the partner's origin allowed as a
// form target: a browser checks form-action on the redirect that follows
// the form too, and approving or declining ends in a redirect to the
// partner.
func consentCSP(origin string) string {
	return strings.Replace(contentSecurityPolicy, "form-action 'self'", "form-action 'self' "+origin, 1)
}

// consentPage shows a partner's pushed request in plain words. Without a
// session it sends the customer to log in and back here.
func (s *server) consentPage(w http.ResponseWriter, r *http.Request) {
	if s.ConsentFlow == nil {
		s.notFound(w, r, nil)
		return
	}
	v, err := s.session(w, r, identity.RealmCustomer)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.URL.Query().Get("request")
	if v == nil {
		http.Redirect(w, r, "/login?next="+url.QueryEscape("/consent?request="+url.QueryEscape(id)), http.StatusSeeOther)
		return
	}
	cv, status, ok := s.consentView(w, r, v, id)
	if !ok {
		return
	}
	s.renderConsent(w, r, v, status, cv)
}

// consentView loads what the screen shows; ok is false when it has already
// answered (an unknown or expired request).
func (s *server) consentView(w http.ResponseWriter, r *http.Request, v *visit, id string) (consentView, int, bool) {
	q, p, err := s.ConsentFlow.PendingRequest(r.Context(), id)
	switch {
	case errors.Is(err, consent.ErrRequestNotFound) || errors.Is(err, consent.ErrPartnerInactive):
		s.failPage(w, r, v, http.StatusBadRequest, "Request expired",
			"This request to connect an app has expired or was already answered. Go back to the app and start again.")
		return consentView{}, 0, false
	case err != nil:
		s.fail(w, r, err)
		return consentView{}, 0, false
	}
	accts, err := s.Ledger.Store().CustomerAccounts(r.Context(), v.sess.Customer)
	if err != nil {
		s.fail(w, r, err)
		return consentView{}, 0, false
	}
	accts = slices.DeleteFunc(accts, func(a ledger.Account) bool { return a.Status == ledger.Closed })
	cv := consentView{Request: q.ID, Partner: p, Accounts: accts, Chosen: map[ledger.AccountID]bool{},
		Days: q.DurationDays, MaxDays: consent.MaxDays, Lookback: q.LookbackDays,
		NeedCode: v.sess.TOTPEnrolled && !v.sess.SteppedUpWithin(stepUpWindow, s.Now())}
	if u, err := url.Parse(p.Homepage); err == nil {
		cv.Host = u.Host
	}
	for _, c := range q.Clusters {
		cv.Clusters = append(cv.Clusters, clusterView{ClusterInfo: c.Info(), Purpose: p.Purpose(c)})
		cv.ShowLookback = cv.ShowLookback || c == consent.Transactions
	}
	origin := ""
	if u, err := url.Parse(q.RedirectURI); err == nil {
		origin = u.Scheme + "://" + u.Host
	}
	w.Header().Set("Content-Security-Policy", consentCSP(origin))
	return cv, http.StatusOK, true
}

func (s *server) renderConsent(w http.ResponseWriter, r *http.Request, v *visit, status int, cv consentView) {
	p := v.titled("Connect %s", "connected", cv.Partner.LegalName)
	p.Data = cv
	s.render(w, r, status, "consent", p)
}

// consentDecide records the customer's approval (with the accounts and the
// duration chosen, after a TOTP step-up when the customer has an
// authenticator) or refusal, and sends the browser back to the partner.
func (s *server) consentDecide(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.ConsentFlow == nil {
		s.notFound(w, r, v)
		return
	}
	ctx := r.Context()
	f := r.PostForm
	d := consent.Decision{Request: f.Get("request"), Customer: v.sess.Customer, Approve: f.Get("decision") == "approve"}
	rerender := func(status int, msg string) {
		cv, _, ok := s.consentView(w, r, v, d.Request)
		if !ok {
			return
		}
		cv.Error = msg
		for _, a := range d.Accounts {
			cv.Chosen[a] = true
		}
		if d.DurationDays > 0 {
			cv.Days = d.DurationDays
		}
		s.renderConsent(w, r, v, status, cv)
	}
	if d.Approve {
		for _, raw := range f["account"] {
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil || n <= 0 {
				rerender(http.StatusBadRequest, "Choose accounts from the list.")
				return
			}
			d.Accounts = append(d.Accounts, ledger.AccountID(n))
		}
		days, err := strconv.Atoi(strings.TrimSpace(f.Get("days")))
		if err != nil || days < 1 || days > consent.MaxDays {
			rerender(http.StatusUnprocessableEntity, "Choose how long to share, from 1 to 365 days.")
			return
		}
		d.DurationDays = days
		if len(d.Accounts) == 0 {
			rerender(http.StatusUnprocessableEntity, "Choose at least one account to share, or decline.")
			return
		}
		if v.sess.TOTPEnrolled && !v.sess.SteppedUpWithin(stepUpWindow, s.Now()) {
			code := strings.TrimSpace(f.Get("code"))
			if err := s.Auth.StepUp(ctx, v.token, code); err != nil {
				if bankbridge.ErrorKind(err) == bankbridge.Internal || bankbridge.ErrorKind(err) == bankbridge.Unavailable {
					s.fail(w, r, err)
					return
				}
				rerender(http.StatusUnprocessableEntity, "Enter the 6-digit code from your authenticator app to connect this app.")
				return
			}
		}
	}
	to, err := s.ConsentFlow.Decide(ctx, d)
	switch {
	case errors.Is(err, consent.ErrRequestNotFound):
		s.failPage(w, r, v, http.StatusBadRequest, "Request expired",
			"This request to connect an app has expired or was already answered. Go back to the app and start again.")
		return
	case bankbridge.ErrorKind(err) == bankbridge.Invalid:
		rerender(http.StatusUnprocessableEntity, bankbridge.ErrorMessage(err))
		return
	case bankbridge.ErrorKind(err) == bankbridge.Forbidden:
		s.failPage(w, r, v, http.StatusForbidden, "Not available", "This app cannot be connected at the moment.")
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
