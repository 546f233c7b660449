package web

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/legible"
	"github.com/bankbridge/bankbridge/rails"
)

// customerRoles may open one customer's page: their contact details,
// balances and history. The analyst is not among them: least privilege
// gives the analyst aggregates only (the engagement page).
var customerRoles = []identity.Role{identity.Administrator, identity.Support, identity.Compliance}

// errNoSearch says the directory cannot search (only find by exact e-mail).
var errNoSearch = errors.New("web: the customer directory cannot search")

// dashboardView is the console's landing page and lookup form.
type dashboardView struct {
	Staff       identity.Staff
	CanFreeze   bool
	CanCustomer bool // the role may look customers up
	Query       string
	Results     []identity.Customer
	Searched    bool
	Error       string
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
	dv.CanCustomer = slices.Contains(customerRoles, v.sess.Role)
	p := s.consolePage(v, "Console")
	p.Data = dv
	s.render(w, r, status, "console", p)
}

func (s *server) dashboard(w http.ResponseWriter, r *http.Request, v *visit) {
	s.renderDashboard(w, r, v, http.StatusOK, dashboardView{})
}

// lookup finds customers by part of their name, e-mail, phone or account
// number (q), or by exact e-mail (email, the older form): one match opens
// the customer's page, several are listed.
func (s *server) lookup(w http.ResponseWriter, r *http.Request, v *visit) {
	qs := r.URL.Query()
	text := strings.TrimSpace(qs.Get("q"))
	email := strings.TrimSpace(qs.Get("email"))
	if s.Directory == nil {
		s.fail(w, r, errNoDirectory)
		return
	}
	se, canSearch := s.Directory.(Searcher)
	if text == "" && email == "" {
		s.renderDashboard(w, r, v, http.StatusBadRequest, dashboardView{Error: "Enter part of a name, an e-mail address, a phone number or an account number."})
		return
	}
	if text != "" && canSearch {
		dv := dashboardView{Query: text, Searched: true}
		cs, err := se.SearchCustomers(r.Context(), text, 50)
		switch {
		case errors.Is(err, errNoSearch):
			email = text // an identity store that cannot search: exact e-mail below
		case bankbridge.ErrorKind(err) == bankbridge.Invalid:
			dv.Error = "Enter at least 2 characters."
			s.renderDashboard(w, r, v, http.StatusBadRequest, dv)
			return
		case err != nil:
			s.fail(w, r, err)
			return
		case len(cs) == 1:
			http.Redirect(w, r, "/console/customers/"+strconv.FormatInt(int64(cs[0].ID), 10), http.StatusSeeOther)
			return
		default:
			dv.Results = cs
			status := http.StatusOK
			if len(cs) == 0 {
				dv.Error, status = "No customer matches “"+text+"”.", http.StatusNotFound
			}
			s.renderDashboard(w, r, v, status, dv)
			return
		}
	}
	if email == "" {
		email = text
	}
	dv := dashboardView{Query: email}
	if len(email) > 254 {
		dv.Error = "Enter the customer's email address."
		s.renderDashboard(w, r, v, http.StatusBadRequest, dv)
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
	Recent    []recentEntry
	Cards     []ledger.Card
	Cases     []alerts.Case
	HasCases  bool             // the case queue is on
	Consents  bool             // the consents page is on
	Chats     bool             // the chat inbox is on and the role may read it
	Linked    []assistant.Link // the customer's linked chats, when Chats
	CanFreeze bool
	// Payments are the customer's payments to and from other banks (the
	// rails on); CanRecall: the role may ask an instant one back.
	Rails     bool
	Payments  []rails.Payment
	CanRecall bool
}

// recentEntry is one line of a customer's recent history across accounts.
type recentEntry struct {
	Account ledger.Account
	Entry   ledger.Entry
}

// recentPerAccount bounds the history read per account for the customer
// page; the page shows the newest recentShown of them all.
const (
	recentPerAccount = 10
	recentShown      = 15
)

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
	cv := customerView{Customer: c, Accounts: accts, CanFreeze: slices.Contains(freezeRoles, v.sess.Role),
		HasCases: s.Alerts != nil, Consents: s.Consents != nil, Chats: s.Inbox != nil && slices.Contains(inboxRoles, v.sess.Role)}
	for _, a := range accts {
		hp, err := s.Ledger.Store().History(ctx, ledger.HistoryQuery{Account: a.ID, Limit: recentPerAccount})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, e := range hp.Entries {
			cv.Recent = append(cv.Recent, recentEntry{Account: a, Entry: e})
		}
	}
	slices.SortStableFunc(cv.Recent, func(a, b recentEntry) int { return b.Entry.Transfer.Created.Compare(a.Entry.Transfer.Created) })
	cv.Recent = cv.Recent[:min(len(cv.Recent), recentShown)]
	if cv.Cards, err = s.Ledger.Store().CustomerCards(ctx, c.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	if cv.Chats {
		if cv.Linked, err = s.Inbox.CustomerChats(ctx, c.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	cv.Rails = s.Rails != nil
	if cv.Payments, cv.CanRecall, err = s.customerPayments(r, c.ID, v.sess.Role); err != nil {
		s.fail(w, r, err)
		return
	}
	if s.Alerts != nil {
		if cv.Cases, err = s.Alerts.CustomerCases(ctx, c.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	p := s.consolePage(v, c.Name)
	switch r.URL.Query().Get("done") {
	case "frozen":
		p.Flash = "Account frozen: money can no longer leave it. The reason is in the audit log."
	case "open":
		p.Flash = "Account unfrozen. The reason is in the audit log."
	case "recall":
		p.Flash = "We asked the other bank for the payment back. The customer's page shows the request; the reason is in the audit log."
	}
	p.Data = cv
	s.render(w, r, http.StatusOK, "customer", p)
}

// statusView is the confirmation page of a staff freeze or unfreeze.
type statusView struct {
	Account  ledger.Account
	Customer identity.Customer
	To       ledger.AccountStatus
	Reason   string
	Error    string
}

// statusAccount reads the account named in the path and the status asked
// for; false means it answered.
func (s *server) statusAccount(w http.ResponseWriter, r *http.Request, v *visit, to ledger.AccountStatus) (ledger.Account, bool) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || n <= 0 {
		s.notFound(w, r, v)
		return ledger.Account{}, false
	}
	if to != ledger.Frozen && to != ledger.Open {
		s.failPage(w, r, v, http.StatusBadRequest, "Bad request", "An account can only be frozen or unfrozen here.")
		return ledger.Account{}, false
	}
	a, err := s.Ledger.Store().Account(r.Context(), ledger.AccountID(n))
	if errors.Is(err, ledger.ErrAccountNotFound) || (err == nil && a.Customer == 0) {
		// The bank's own accounts are not managed from this page.
		s.notFound(w, r, v)
		return ledger.Account{}, false
	}
	if err != nil {
		s.fail(w, r, err)
		return ledger.Account{}, false
	}
	if a.Status == ledger.Closed {
		s.failPage(w, r, v, http.StatusConflict, "Account closed", "A closed account cannot be frozen or unfrozen.")
		return ledger.Account{}, false
	}
	return a, true
}

func (s *server) renderStatus(w http.ResponseWriter, r *http.Request, v *visit, status int, sv statusView) {
	c, err := s.Auth.Customer(r.Context(), sv.Account.Customer)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sv.Customer = c
	title := "Freeze this account?"
	if sv.To == ledger.Open {
		title = "Unfreeze this account?"
	}
	p := s.consolePage(v, title)
	p.Data = sv
	s.render(w, r, status, "console_status", p)
}

// statusConfirm asks staff to confirm a freeze or unfreeze and say why.
func (s *server) statusConfirm(w http.ResponseWriter, r *http.Request, v *visit) {
	to := ledger.AccountStatus(r.URL.Query().Get("to"))
	a, ok := s.statusAccount(w, r, v, to)
	if !ok {
		return
	}
	s.renderStatus(w, r, v, http.StatusOK, statusView{Account: a, To: to})
}

// setStatus freezes or unfreezes a customer's account. Only administrators
// and support reach it (see routes); it needs a reason, which goes to the
// audit log with the change and who made it before the change is made.
func (s *server) setStatus(w http.ResponseWriter, r *http.Request, v *visit) {
	ctx := r.Context()
	to := ledger.AccountStatus(r.PostForm.Get("status"))
	a, ok := s.statusAccount(w, r, v, to)
	if !ok {
		return
	}
	reason := strings.TrimSpace(r.PostForm.Get("reason"))
	if reason == "" || len(reason) > 500 || legible.Check(reason) != nil {
		s.renderStatus(w, r, v, http.StatusBadRequest, statusView{Account: a, To: to, Reason: reason,
			Error: "Write why, in 1 to 500 characters a reader can see: it goes to the audit log with your name."})
		return
	}
	if a.Status != to {
		if !s.auditStaffAction(w, r, v, a.Customer, "account "+a.Number.Masked()+" "+string(a.Status)+" -> "+string(to), reason) {
			return
		}
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
