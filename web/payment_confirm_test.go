package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/dataapi"
	"github.com/bankbridge/bankbridge/dataapi/dataapitest"
	"github.com/bankbridge/bankbridge/dataapi/records"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/oauth"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/web"
)

// payRig is the web app with the real data API behind its payment page:
// the authorization server and the API on a loopback server, a partner
// that starts payments over HTTP with DPoP-bound tokens, and customers
// whose consents let it pay between their own accounts.
type payRig struct {
	*bank
	partner *dataapitest.Partner
	as      *oauth.Server
	server  *dataapi.Server
	n       int
}

// payer is a customer the partner may pay for.
type payer struct {
	c                 identity.Customer
	checking, savings ledger.Account
	token             string
	from, to          string // the partner's ids of checking and savings
}

// newPayRig builds the rig; wrap, when given, stands between the web app
// and the data API's payments (to make something happen meanwhile).
func newPayRig(t *testing.T, wrap ...func(web.Payments) web.Payments) *payRig {
	t.Helper()
	ctx := context.Background()
	b := newBank(t, bankOptions{})
	alog := audit.New(b.db.Audit(), audit.Options{Now: b.clock.Now})
	t.Cleanup(alog.Close)
	cons := consent.New(b.db.Consent(), consent.Options{Now: b.clock.Now, Accounts: b.db.Ledger()})
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	as, err := oauth.New(ctx, oauth.Deps{Consent: cons, Issuer: srv.URL, Now: b.clock.Now, NoNonce: true})
	if err != nil {
		t.Fatal(err)
	}
	api, err := dataapi.New(ctx, dataapi.Deps{Verifier: as.Verifier(oauth.VerifierOptions{}), Consents: cons, Ledger: b.ledger, Payments: b.limits,
		Customers: b.ids, Audit: alog, Store: b.db.DataAPI(), Now: b.clock.Now, BaseURL: srv.URL,
		Options: dataapi.Options{CustomerRate: 100_000}, Rails: b.rails})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/oauth/", as.Handler())
	mux.Handle(dataapi.Prefix+"/", api)
	h = mux
	var pays web.Payments = api
	for _, w := range wrap {
		pays = w(pays)
	}
	b.handler = web.New(web.Deps{Auth: b.ids, Ledger: b.ledger, Logger: slog.New(slog.DiscardHandler), Now: b.clock.Now,
		BankName: "Test Bank", Payments: pays, Rails: b.rails, Limits: b.limits})
	p, err := dataapitest.Register(ctx, cons, srv.URL, "chat-app", 100_000, b.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return &payRig{bank: b, partner: p, as: as, server: api}
}

// payer registers a customer with checking (50,000.00) and savings, and
// links the partner to both with TRANSFERS.
func (r *payRig) payer(name, email string) payer {
	r.t.Helper()
	c := r.customer(name, email)
	py := payer{c: c, checking: r.account(c.ID, "Checking", ledger.Checking, 50_000_00), savings: r.account(c.ID, "Savings", ledger.Savings, 0)}
	r.link(r.t, &py)
	res := r.api(r.t, py, "GET", "/accounts", nil, nil)
	var list dataapi.Accounts
	if err := json.Unmarshal(res.Body, &list); err != nil || res.Status != 200 {
		r.t.Fatalf("GET /accounts: %d %s", res.Status, res.Body)
	}
	for _, a := range list.Accounts {
		switch a.AccountType {
		case "CHECKING":
			py.from = a.AccountID
		case "SAVINGS":
			py.to = a.AccountID
		}
	}
	return py
}

// link gives the partner a consent (and a fresh token) over py's checking
// and savings with TRANSFERS.
func (r *payRig) link(t testing.TB, py *payer) {
	t.Helper()
	var err error
	py.token, _, err = r.partner.Link(context.Background(), r.as.Decide, py.c.ID, []ledger.AccountID{py.checking.ID, py.savings.ID},
		[]consent.Cluster{consent.AccountBasic, consent.Transfers})
	if err != nil {
		t.Fatal(err)
	}
}

func (r *payRig) api(t testing.TB, py payer, method, path string, body []byte, hdr map[string]string) dataapitest.Response {
	t.Helper()
	res, err := r.partner.Do(context.Background(), py.token, method, dataapi.Prefix+path, body, hdr)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// pay starts a payment from py's checking to their savings through the API
// and returns it (PENDING, waiting for the customer, when above 1,000.00).
func (r *payRig) pay(t testing.TB, py payer, amount, memo string) dataapi.Payment {
	t.Helper()
	r.n++
	body := fmt.Sprintf(`{"fromAccountId":%q,"toAccountId":%q,"amount":%s,"memo":%q}`, py.from, py.to, amount, memo)
	res := r.api(t, py, "POST", "/payments", []byte(body), map[string]string{"Idempotency-Key": fmt.Sprintf("k%d", r.n)})
	var p dataapi.Payment
	if err := json.Unmarshal(res.Body, &p); err != nil || res.Status != 201 {
		t.Fatalf("POST /payments: %d %s", res.Status, res.Body)
	}
	return p
}

// status is the payment's status as the partner sees it.
func (r *payRig) status(t testing.TB, py payer, id string) string {
	t.Helper()
	var p dataapi.Payment
	res := r.api(t, py, "GET", "/payments/"+id, nil, nil)
	if err := json.Unmarshal(res.Body, &p); err != nil || res.Status != 200 {
		t.Fatalf("GET /payments/%s: %d %s", id, res.Status, res.Body)
	}
	return p.Status + " " + p.FailureReason
}

// confirmPath is the page's path from the confirmation URL the API gave.
func confirmPath(t *testing.T, p dataapi.Payment) string {
	t.Helper()
	u, err := url.Parse(p.ConfirmationURL)
	if err != nil || p.Status != "PENDING" || !strings.HasPrefix(u.Path, dataapi.ConfirmPath) {
		t.Fatalf("payment %+v: not waiting for the customer", p)
	}
	return u.Path
}

func TestPaymentConfirm(t *testing.T) {
	t.Parallel()
	// One bank and clock for the whole flow: the subtests run in order.
	r := newPayRig(t)
	ada := r.payer("Ada Lovelace", "ada@example.com")
	bob := r.payer("Bob Builder", "bob@example.com")
	br := r.browser()
	br.login("", "ada@example.com")
	secret := enrol(t, r.bank, br)
	r.clock.Add(11 * time.Minute) // past the step-up enrolment gave
	r.link(t, &ada)               // and past the first tokens' lifetime
	r.link(t, &bob)

	t.Run("ShowsWhatTheAppAsksAndNeedsACode", func(t *testing.T) {
		p := r.pay(t, ada, "1500.00", "Rent share")
		page := br.get(confirmPath(t, p))
		if page.status != http.StatusOK {
			t.Fatalf("status %d:\n%s", page.status, page.body)
		}
		for _, want := range []string{"Partner chat-app Ltd", "1,500.00 USD", "Checking ••••", "Savings ••••", "Rent share", `name="code"`, `value="decline"`} {
			if !strings.Contains(page.body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
	})

	t.Run("ConfirmWithoutOrWithAWrongCodeMovesNothing", func(t *testing.T) {
		p := r.pay(t, ada, "1200.00", "")
		path := confirmPath(t, p)
		csrf := br.csrf(path)
		for _, code := range []string{"", wrongCode(secret, r.clock.Now())} {
			res := br.post(path, url.Values{"csrf": {csrf}, "decision": {"confirm"}, "code": {code}})
			if res.status != http.StatusUnauthorized || !strings.Contains(res.body, `role="alert"`) {
				t.Errorf("code %q: status %d, want 401 with an error", code, res.status)
			}
		}
		if got := r.get(ada.checking.ID).Balance; got != 50_000_00 {
			t.Errorf("balance %d, want unchanged", got)
		}
		if got := r.status(t, ada, p.PaymentID); got != "PENDING " {
			t.Errorf("status %q, want PENDING", got)
		}
	})

	t.Run("ConfirmWithCodeMovesMoneyOnceAndShowsAReceipt", func(t *testing.T) {
		p := r.pay(t, ada, "2000.00", "Savings top-up")
		path := confirmPath(t, p)
		before := r.get(ada.checking.ID).Balance
		r.clock.Add(time.Minute) // a fresh TOTP step
		res := br.post(path, url.Values{"csrf": {br.csrf(path)}, "decision": {"confirm"}, "code": {identity.TOTPCode(secret, r.clock.Now())}})
		if res.status != http.StatusSeeOther || res.loc != path+"?done=confirmed" {
			t.Fatalf("confirm: status %d, location %q\n%s", res.status, res.loc, res.body)
		}
		receipt := br.get(res.loc)
		for _, want := range []string{"Payment sent", "Payment confirmed and sent.", "2,000.00 USD", `data-field="reference"`} {
			if !strings.Contains(receipt.body, want) {
				t.Errorf("receipt lacks %q:\n%s", want, receipt.body)
			}
		}
		// Again (a double click, the back button): nothing more moves.
		again := br.post(path, url.Values{"csrf": {br.csrf(path)}, "decision": {"confirm"}, "code": {identity.TOTPCode(secret, r.clock.Now())}})
		if again.status != http.StatusSeeOther || again.loc != path {
			t.Errorf("second confirm: status %d, location %q", again.status, again.loc)
		}
		if got := r.get(ada.checking.ID).Balance; got != before-2000_00 {
			t.Errorf("balance %d, want %d", got, before-2000_00)
		}
		if got := r.status(t, ada, p.PaymentID); got != "POSTED " {
			t.Errorf("status %q, want POSTED", got)
		}
	})

	t.Run("DeclineMovesNothing", func(t *testing.T) {
		p := r.pay(t, ada, "1100.00", "")
		path := confirmPath(t, p)
		before := r.get(ada.checking.ID).Balance
		res := br.post(path, url.Values{"csrf": {br.csrf(path)}, "decision": {"decline"}})
		if res.status != http.StatusSeeOther || res.loc != path+"?done=declined" {
			t.Fatalf("decline: status %d, location %q", res.status, res.loc)
		}
		if page := br.get(res.loc); !strings.Contains(page.body, "You declined this payment") || strings.Contains(page.body, `value="confirm"`) {
			t.Errorf("after decline:\n%s", page.body)
		}
		if got := r.get(ada.checking.ID).Balance; got != before {
			t.Errorf("balance %d, want %d", got, before)
		}
		if got := r.status(t, ada, p.PaymentID); got != "FAILED declined_by_customer" {
			t.Errorf("status %q", got)
		}
	})

	t.Run("RefusesWhatIsNotTheCustomersOrNotAForm", func(t *testing.T) {
		p := r.pay(t, ada, "1300.00", "")
		path := confirmPath(t, p)
		other := r.browser()
		other.login("", "bob@example.com")
		anon := r.browser()
		tests := []struct {
			name string
			do   func() page
			want int
			loc  string
		}{
			{"AnotherCustomerGets404", func() page { return other.get(path) }, http.StatusNotFound, ""},
			{"AnotherCustomerCannotConfirm", func() page {
				return other.post(path, url.Values{"csrf": {other.csrf("/accounts")}, "decision": {"confirm"}})
			}, http.StatusNotFound, ""},
			{"AnotherCustomerCannotDecline", func() page {
				return other.post(path, url.Values{"csrf": {other.csrf("/accounts")}, "decision": {"decline"}})
			}, http.StatusNotFound, ""},
			{"GuessedIDGets404", func() page { return br.get(dataapi.ConfirmPath + "AAAAAAAAAAAAAAAAAAAAAA") }, http.StatusNotFound, ""},
			{"MalformedIDGets404", func() page { return br.get(dataapi.ConfirmPath + "%3Cscript%3E") }, http.StatusNotFound, ""},
			{"WithoutSessionGoesToLoginAndBack", func() page { return anon.get(path) }, http.StatusSeeOther, "/login?next=" + url.QueryEscape(path)},
			{"MissingCSRFIsRefused", func() page { return br.post(path, url.Values{"decision": {"decline"}}) }, http.StatusForbidden, ""},
			{"UnknownDecisionIsRefused", func() page {
				return br.post(path, url.Values{"csrf": {br.csrf(path)}, "decision": {"maybe"}})
			}, http.StatusBadRequest, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := tt.do()
				if res.status != tt.want || res.loc != tt.loc {
					t.Errorf("status %d location %q, want %d %q", res.status, res.loc, tt.want, tt.loc)
				}
				if strings.Contains(res.body, "1,300.00") {
					t.Errorf("the answer shows the payment:\n%s", res.body)
				}
			})
		}
		if got := r.status(t, ada, p.PaymentID); got != "PENDING " {
			t.Errorf("status %q, want still PENDING", got)
		}
	})

	t.Run("WithoutAuthenticatorCannotConfirmButCanDecline", func(t *testing.T) {
		p := r.pay(t, bob, "1400.00", "")
		path := confirmPath(t, p)
		bb := r.browser()
		bb.login("", "bob@example.com")
		page := bb.get(path)
		if strings.Contains(page.body, `name="code"`) || !strings.Contains(page.body, `href="/security"`) {
			t.Errorf("page offers a code field or no way to set one up:\n%s", page.body)
		}
		res := bb.post(path, url.Values{"csrf": {bb.csrf(path)}, "decision": {"confirm"}})
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("confirm: status %d, want 422", res.status)
		}
		if got := r.status(t, bob, p.PaymentID); got != "PENDING " {
			t.Errorf("status %q, want PENDING", got)
		}
		if res := bb.post(path, url.Values{"csrf": {bb.csrf(path)}, "decision": {"decline"}}); res.status != http.StatusSeeOther {
			t.Errorf("decline: status %d", res.status)
		}
		if got := r.status(t, bob, p.PaymentID); got != "FAILED declined_by_customer" {
			t.Errorf("status %q", got)
		}
	})

	t.Run("ExpiredPaymentCannotBeConfirmed", func(t *testing.T) {
		p := r.pay(t, ada, "1600.00", "")
		path := confirmPath(t, p)
		csrf := br.csrf(path)
		r.clock.Add(16 * time.Minute)
		if page := br.get(path); !strings.Contains(page.body, "not confirmed in time") || strings.Contains(page.body, `value="confirm"`) {
			t.Errorf("expired page:\n%s", page.body)
		}
		res := br.post(path, url.Values{"csrf": {csrf}, "decision": {"confirm"}, "code": {identity.TOTPCode(secret, r.clock.Now())}})
		if res.status != http.StatusSeeOther || res.loc != path {
			t.Errorf("confirm: status %d location %q", res.status, res.loc)
		}
		r.link(t, &ada) // the token outlived
		if got := r.status(t, ada, p.PaymentID); strings.HasPrefix(got, "POSTED") {
			t.Errorf("status %q: an expired payment was made", got)
		}
	})
}

// wrongCode is a six-digit code that is not the current one.
func wrongCode(secret string, now time.Time) string {
	if identity.TOTPCode(secret, now) == "000000" {
		return "111111"
	}
	return "000000"
}

// TestPartnerCollectionAuthorisedHere: a collection a partner starts (money
// in from the customer's own account at another bank) waits on the bank's
// page, which shows the authorisation in words; confirming without ticking
// it collects nothing; ticked, the debit is recorded with the words agreed
// to and the partner sees it POSTED.
func TestPartnerCollectionAuthorisedHere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newPayRig(t)
	ada := r.payer("Ada Lovelace", "ada@example.com")
	pe, err := r.rails.AddPayee(ctx, rails.Payee{Customer: ada.c.ID, Name: "Ada Lovelace", Nickname: "Ada elsewhere", Routing: "231380104", Number: "987654321"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.rails.Store().UpdatePayee(ctx, pe.ID, rails.PayeeVerified, "", "", "", ""); err != nil {
		t.Fatal(err)
	}
	var payees dataapi.Payees
	if res := r.api(t, ada, "GET", "/payees", nil, nil); json.Unmarshal(res.Body, &payees) != nil || res.Status != 200 {
		t.Fatalf("GET /payees: %d %s", res.Status, res.Body)
	}
	from := ""
	for _, p := range payees.Payees {
		if p.Destination == "EXTERNAL" {
			from = p.PayeeID
		}
	}
	body := fmt.Sprintf(`{"fromPayeeId":%q,"toAccountId":%q,"amount":30}`, from, ada.from)
	res := r.api(t, ada, "POST", "/payments", []byte(body), map[string]string{"Idempotency-Key": "collect-1"})
	var c dataapi.Payment
	if err := json.Unmarshal(res.Body, &c); err != nil || res.Status != 201 {
		t.Fatalf("POST /payments: %d %s", res.Status, res.Body)
	}
	path := confirmPath(t, c)
	br := r.browser()
	br.login("", "ada@example.com")
	page := br.get(path)
	if !strings.Contains(page.body, "asks to bring money in from your account at another bank") ||
		!strings.Contains(page.body, "I authorise Test Bank to debit 30.00 USD once from my account ••••4321") || strings.Contains(page.body, `name="code"`) {
		t.Fatalf("the page:\n%s", page.body)
	}
	csrf := br.csrf(path)
	if res := br.post(path, url.Values{"csrf": {csrf}, "decision": {"confirm"}}); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "Tick the box") {
		t.Fatalf("confirmed unticked: %d\n%s", res.status, res.body)
	}
	if got := r.status(t, ada, c.PaymentID); got != "PENDING " {
		t.Fatalf("after an unticked confirmation: %q", got)
	}
	if res := br.post(path, url.Values{"csrf": {csrf}, "decision": {"confirm"}, "authorize": {"yes"}}); res.status != http.StatusSeeOther {
		t.Fatalf("authorised: %d\n%s", res.status, res.body)
	}
	if got := r.status(t, ada, c.PaymentID); got != "POSTED " {
		t.Fatalf("after the authorisation: %q", got)
	}
	ps, err := r.rails.Store().Payments(ctx, rails.PaymentQuery{Customer: ada.c.ID, Kinds: []rails.Kind{rails.KindDebit}})
	if err != nil || len(ps) != 1 || !strings.Contains(ps[0].Authorization, "asked by") || !strings.Contains(ps[0].Authorization, "I authorise Test Bank to debit 30.00 USD") {
		t.Fatalf("the debit: %+v, %v", ps, err)
	}
	if p := br.get(path); !strings.Contains(p.body, "Authorised: we ask the other bank for the money") {
		t.Fatalf("after:\n%s", p.body)
	}
}

// meanwhile is the data API's payments with something done just before a
// collection is booked: another instance booking another payment of the
// customer between the page's checks and this booking.
type meanwhile struct {
	web.Payments
	before func()
}

func (m meanwhile) ConfirmCollection(ctx context.Context, c bankbridge.CustomerID, id, auth string, steppedUp bool) (records.Payment, error) {
	m.before()
	return m.Payments.ConfirmCollection(ctx, c, id, auth, steppedUp)
}

// TestPartnerCollectionAsksACodeWhenTheDayCrossesTheStepUp: two
// collections of 600.00 (from two payees, each within its new-payee
// limit) wait on the bank's pages, which ask no code for either: neither
// passes the step-up amount alone. The customer authorises the first
// without a code while, between the page's checks and its booking, the
// second is booked elsewhere (another tab on another instance): the day's
// payments now pass the step-up amount, so the first collects nothing and
// the page asks for a code; with the code it is collected.
func TestPartnerCollectionAsksACodeWhenTheDayCrossesTheStepUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var other func()
	r := newPayRig(t, func(p web.Payments) web.Payments {
		return meanwhile{Payments: p, before: func() {
			if other != nil {
				other()
				other = nil
			}
		}}
	})
	ada := r.payer("Ada Lovelace", "ada@example.com")
	br := r.browser()
	br.login("", "ada@example.com")
	secret := enrol(t, r.bank, br)
	r.clock.Add(11 * time.Minute) // past the step-up enrolment gave
	r.link(t, &ada)
	for i, number := range []string{"987654321", "987654322"} {
		pe, err := r.rails.AddPayee(ctx, rails.Payee{Customer: ada.c.ID, Name: "Ada Lovelace", Nickname: fmt.Sprint("Ada elsewhere ", i), Routing: "231380104", Number: ledger.AccountNumber(number)})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.rails.Store().UpdatePayee(ctx, pe.ID, rails.PayeeVerified, "", "", "", ""); err != nil {
			t.Fatal(err)
		}
	}
	var payees dataapi.Payees
	if res := r.api(t, ada, "GET", "/payees", nil, nil); json.Unmarshal(res.Body, &payees) != nil || res.Status != 200 {
		t.Fatalf("GET /payees: %d %s", res.Status, res.Body)
	}
	var paths []string
	var ids []string
	for _, p := range payees.Payees {
		if p.Destination != "EXTERNAL" {
			continue
		}
		body := fmt.Sprintf(`{"fromPayeeId":%q,"toAccountId":%q,"amount":600}`, p.PayeeID, ada.from)
		res := r.api(t, ada, "POST", "/payments", []byte(body), map[string]string{"Idempotency-Key": "collect-" + p.PayeeID[:8]})
		var c dataapi.Payment
		if err := json.Unmarshal(res.Body, &c); err != nil || res.Status != 201 {
			t.Fatalf("POST /payments: %d %s", res.Status, res.Body)
		}
		paths, ids = append(paths, confirmPath(t, c)), append(ids, c.PaymentID)
	}
	if len(paths) != 2 {
		t.Fatalf("collections: %v", paths)
	}
	for _, path := range paths {
		if page := br.get(path); strings.Contains(page.body, `name="code"`) {
			t.Fatalf("a code asked for 600.00 alone:\n%s", page.body)
		}
	}
	csrf := br.csrf(paths[0])
	other = func() {
		auth := rails.Authorized(rails.SECWEB, "web", r.clock.Now(), "en", "I authorise Test Bank to debit 600.00 USD")
		if p, err := r.server.ConfirmCollection(ctx, ada.c.ID, ids[1], auth, false); err != nil || p.Status != records.PaymentPosted {
			t.Errorf("the other collection: %s %v", p.Status, err)
		}
	}
	res := br.post(paths[0], url.Values{"csrf": {csrf}, "decision": {"confirm"}, "authorize": {"yes"}})
	if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "now need a code") || !strings.Contains(res.body, `name="code"`) {
		t.Fatalf("the second without a code: %d\n%s", res.status, res.body)
	}
	if got := r.status(t, ada, ids[0]); got != "PENDING " {
		t.Fatalf("after the second without a code: %q; want still PENDING", got)
	}
	r.clock.Add(time.Minute) // a fresh TOTP step
	res = br.post(paths[0], url.Values{"csrf": {csrf}, "decision": {"confirm"}, "authorize": {"yes"}, "code": {identity.TOTPCode(secret, r.clock.Now())}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("with the code: %d\n%s", res.status, res.body)
	}
	if got := r.status(t, ada, ids[0]); got != "POSTED " {
		t.Fatalf("after the code: %q", got)
	}
}
