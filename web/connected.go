package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
)

// revokeRoles may revoke a customer's consent from the console.
var revokeRoles = []identity.Role{identity.Administrator, identity.Compliance}

// grantView is one consent as the customer or staff see it.
type grantView struct {
	Grant    consent.Grant
	Partner  string // legal name, or the id if the partner is gone
	Clusters []clusterView
	Accounts []ledger.Account
	Active   bool
	Renew    bool // active and within reach of reauthorisation
	DaysLeft int
}

// connectedView is the Connected apps page.
type connectedView struct {
	Grants  []grantView
	MaxDays int
	Error   string
}

// grantViews describes consents for a page, with account names from the
// ledger and cluster descriptions.
func (s *server) grantViews(r *http.Request, c bankbridge.CustomerID, gs []consent.Grant) ([]grantView, error) {
	accts, err := s.Ledger.Store().CustomerAccounts(r.Context(), c)
	if err != nil {
		return nil, err
	}
	byID := map[ledger.AccountID]ledger.Account{}
	for _, a := range accts {
		byID[a.ID] = a
	}
	names := map[consent.PartnerID]string{}
	now := s.Now()
	out := make([]grantView, 0, len(gs))
	for _, g := range gs {
		name, ok := names[g.Partner]
		if !ok {
			name = string(g.Partner)
			if p, err := s.Consents.Partner(r.Context(), g.Partner); err == nil {
				name = p.LegalName
			}
			names[g.Partner] = name
		}
		gv := grantView{Grant: g, Partner: name, Active: g.Usable(now) == nil}
		for _, cl := range g.Clusters() {
			gv.Clusters = append(gv.Clusters, clusterView{ClusterInfo: cl.Info(), Purpose: g.Purposes[cl]})
		}
		for _, id := range g.Accounts() {
			if a, ok := byID[id]; ok {
				gv.Accounts = append(gv.Accounts, a)
			}
		}
		if gv.Active {
			gv.DaysLeft = int(g.Expires.Sub(now).Hours()/24) + 1
			gv.Renew = true
		}
		out = append(out, gv)
	}
	return out, nil
}

// connected lists every consent the customer gave, what it covers, when it
// was last used, with one-click revoke and reauthorisation.
func (s *server) connected(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Consents == nil {
		s.notFound(w, r, v)
		return
	}
	gs, err := s.Consents.CustomerGrants(r.Context(), v.sess.Customer)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	views, err := s.grantViews(r, v.sess.Customer, gs)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := v.page("Connected apps", "connected")
	switch r.URL.Query().Get("done") {
	case "revoked":
		p.Flash = "Access revoked. The app can no longer see or do anything with your accounts."
	case "renewed":
		p.Flash = "Access extended."
	}
	p.Data = connectedView{Grants: views, MaxDays: consent.MaxDays}
	s.render(w, r, http.StatusOK, "connected", p)
}

// connectedRevoke revokes one of the customer's consents, at once.
func (s *server) connectedRevoke(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Consents == nil {
		s.notFound(w, r, v)
		return
	}
	_, err := s.Consents.RevokeForCustomer(r.Context(), v.sess.Customer, consent.GrantID(r.PathValue("id")))
	if bankbridge.ErrorKind(err) == bankbridge.NotFound {
		s.notFound(w, r, v)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/connected?done=revoked", http.StatusSeeOther)
}

// connectedRenew extends a consent before it ends, without the app linking
// again.
func (s *server) connectedRenew(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Consents == nil {
		s.notFound(w, r, v)
		return
	}
	days, err := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("days")))
	if err != nil {
		days = -1
	}
	_, err = s.Consents.Reauthorise(r.Context(), v.sess.Customer, consent.GrantID(r.PathValue("id")), days)
	switch k := bankbridge.ErrorKind(err); {
	case err == nil:
	case k == bankbridge.NotFound:
		s.notFound(w, r, v)
		return
	case k == bankbridge.Internal || k == bankbridge.Unavailable:
		s.fail(w, r, err)
		return
	default:
		s.failPage(w, r, v, http.StatusConflict, "Cannot extend", bankbridge.ErrorMessage(err)+". Connect the app again from the app itself.")
		return
	}
	http.Redirect(w, r, "/connected?done=renewed", http.StatusSeeOther)
}

// consoleConsentsView is a customer's consents as staff see them.
type consoleConsentsView struct {
	Customer  identity.Customer
	Grants    []grantView
	CanRevoke bool
}

// consoleConsents lists a customer's consents for staff.
func (s *server) consoleConsents(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Consents == nil {
		s.notFound(w, r, v)
		return
	}
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || n <= 0 {
		s.notFound(w, r, v)
		return
	}
	c, err := s.Auth.Customer(r.Context(), bankbridge.CustomerID(n))
	if bankbridge.ErrorKind(err) == bankbridge.NotFound {
		s.notFound(w, r, v)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	gs, err := s.Consents.CustomerGrants(r.Context(), c.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	views, err := s.grantViews(r, c.ID, gs)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// A customer's consents are their data too: staff see them only once
	// the view is on the disclosure log.
	if !s.auditStaffView(w, r, v, c.ID, nil) {
		return
	}
	p := s.consolePage(v, "Consents of "+c.Name)
	if r.URL.Query().Get("done") == "revoked" {
		p.Flash = "Consent revoked."
	}
	canRevoke := false
	for _, role := range revokeRoles {
		canRevoke = canRevoke || v.sess.Role == role
	}
	p.Data = consoleConsentsView{Customer: c, Grants: views, CanRevoke: canRevoke}
	s.render(w, r, http.StatusOK, "console_consents", p)
}

// consoleRevoke revokes a consent for staff, with a reason that is kept.
func (s *server) consoleRevoke(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Consents == nil {
		s.notFound(w, r, v)
		return
	}
	reason := strings.TrimSpace(r.PostForm.Get("reason"))
	if len(reason) < 3 || len(reason) > 500 {
		s.failPage(w, r, v, http.StatusBadRequest, "Reason needed", "Give the reason for revoking, in a sentence. Go back and try again.")
		return
	}
	by := "staff:" + strconv.FormatInt(int64(v.sess.Staff), 10)
	g, err := s.Consents.Revoke(r.Context(), consent.GrantID(r.PathValue("id")), by, reason)
	if errors.Is(err, consent.ErrGrantNotFound) {
		s.notFound(w, r, v)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.Logger.LogAttrs(r.Context(), slog.LevelInfo, "web: consent revoked by staff",
		slog.String("request_id", bankbridge.RequestID(r.Context())), slog.Int64("staff", int64(v.sess.Staff)),
		slog.String("consent", string(g.ID)), slog.String("partner", string(g.Partner)))
	http.Redirect(w, r, "/console/customers/"+strconv.FormatInt(int64(g.Customer), 10)+"/consents?done=revoked", http.StatusSeeOther)
}
