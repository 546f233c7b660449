package web

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
)

// dashboardView is the console's landing page and lookup form.
type dashboardView struct {
	Staff     identity.Staff
	CanFreeze bool
	Email     string
	Error     string
}

func (s *server) consolePage(v *visit, title string) page {
	return v.page(title, "console")
}

func (s *server) renderDashboard(w http.ResponseWriter, r *http.Request, v *visit, status int, dv dashboardView) {
	st, err := s.Auth.Staff(r.Context(), v.sess.Staff)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	dv.Staff, dv.CanFreeze = st, slices.Contains(freezeRoles, v.sess.Role)
	p := s.consolePage(v, "Console")
	p.Data = dv
	s.render(w, r, status, "console", p)
}

func (s *server) dashboard(w http.ResponseWriter, r *http.Request, v *visit) {
	s.renderDashboard(w, r, v, http.StatusOK, dashboardView{})
}

// lookup finds a customer by email and shows their page.
func (s *server) lookup(w http.ResponseWriter, r *http.Request, v *visit) {
	email := strings.TrimSpace(r.URL.Query().Get("email"))
	dv := dashboardView{Email: email}
	if email == "" || len(email) > 254 {
		dv.Error = "Enter the customer's email address."
		s.renderDashboard(w, r, v, http.StatusBadRequest, dv)
		return
	}
	if s.Directory == nil {
		s.fail(w, r, errNoDirectory)
		return
	}
	c, err := s.Directory.CustomerByEmail(r.Context(), email)
	if err != nil {
		switch bankbridge.ErrorKind(err) {
		case bankbridge.NotFound, bankbridge.Unauthenticated, bankbridge.Invalid:
			dv.Error = "No customer has that email address."
			s.renderDashboard(w, r, v, http.StatusNotFound, dv)
		default:
			s.fail(w, r, err)
		}
		return
	}
	http.Redirect(w, r, "/console/customers/"+strconv.FormatInt(int64(c.ID), 10), http.StatusSeeOther)
}

// customerView is one customer as staff see them.
type customerView struct {
	Customer  identity.Customer
	Accounts  []ledger.Account
	CanFreeze bool
}

func (s *server) consoleCustomer(w http.ResponseWriter, r *http.Request, v *visit) {
	ctx := r.Context()
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || n <= 0 {
		s.notFound(w, r, v)
		return
	}
	c, err := s.Auth.Customer(ctx, bankbridge.CustomerID(n))
	if bankbridge.ErrorKind(err) == bankbridge.NotFound {
		s.notFound(w, r, v)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	accts, err := s.Ledger.Store().CustomerAccounts(ctx, c.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !s.auditStaffView(w, r, v, c.ID, accts) {
		return
	}
	p := s.consolePage(v, c.Name)
	switch r.URL.Query().Get("done") {
	case "frozen":
		p.Flash = "Account frozen: money can no longer leave it."
	case "open":
		p.Flash = "Account unfrozen."
	}
	p.Data = customerView{Customer: c, Accounts: accts, CanFreeze: slices.Contains(freezeRoles, v.sess.Role)}
	s.render(w, r, http.StatusOK, "customer", p)
}

// setStatus freezes or unfreezes a customer's account. Only administrators
// and support reach it (see routes); the change is logged with who made it.
func (s *server) setStatus(w http.ResponseWriter, r *http.Request, v *visit) {
	ctx := r.Context()
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || n <= 0 {
		s.notFound(w, r, v)
		return
	}
	to := ledger.AccountStatus(r.PostForm.Get("status"))
	if to != ledger.Frozen && to != ledger.Open {
		s.failPage(w, r, v, http.StatusBadRequest, "Bad request", "An account can only be frozen or unfrozen here.")
		return
	}
	a, err := s.Ledger.Store().Account(ctx, ledger.AccountID(n))
	if errors.Is(err, ledger.ErrAccountNotFound) || (err == nil && a.Customer == 0) {
		// The bank's own accounts are not managed from this page.
		s.notFound(w, r, v)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if a.Status == ledger.Closed {
		s.failPage(w, r, v, http.StatusConflict, "Account closed", "A closed account cannot be frozen or unfrozen.")
		return
	}
	if a.Status != to {
		if err := s.Ledger.Store().SetAccountStatus(ctx, a.ID, to); err != nil {
			s.fail(w, r, err)
			return
		}
		s.Logger.LogAttrs(ctx, slog.LevelInfo, "web: account status changed",
			slog.String("request_id", bankbridge.RequestID(ctx)), slog.Int64("staff", int64(v.sess.Staff)),
			slog.String("role", string(v.sess.Role)), slog.Int64("account", int64(a.ID)),
			slog.String("from", string(a.Status)), slog.String("to", string(to)))
	}
	http.Redirect(w, r, "/console/customers/"+strconv.FormatInt(int64(a.Customer), 10)+"?done="+string(to), http.StatusSeeOther)
}
