package web_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/dataapi"
	"github.com/bankbridge/bankbridge/dataapi/dataapitest"
	"github.com/bankbridge/bankbridge/demo"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/internal/testbrowser"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/oauth"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/railsim"
	"github.com/bankbridge/bankbridge/scheduled"
	"github.com/bankbridge/bankbridge/web"
)

// TestBrowserAccessibility scans every page of the customer app and of the
// console, for the customer and for each staff role, with axe-core (WCAG
// 2.0-2.2 A and AA) at 1280 px, 390 px and 200% zoom (every page: the plan,
// newA11yScan's, is held to the app's GET routes by
// TestAccessibilityScanCoversEveryPage): no violation, no
// sideways scrolling on small screens, the skip link first in the tab
// order (web/e2e/a11y.mjs); the customer's disclosures page is scanned
// again once the staff have opened her accounts and it lists them; then,
// by keyboard alone, it logs in, freezes a card, disputes a payment, moves
// money through the confirmation and schedules a monthly payment.
// BANKBRIDGE_SCREENSHOTS=dir keeps screenshots of the main pages there
// (docs/screenshots is made this way).
func TestBrowserAccessibility(t *testing.T) {
	t.Parallel()
	sc := newA11yScan(t)
	ab, ctx, plan, shots := sc.ab, context.Background(), sc.plan, sc.shots
	rainy, monthly := sc.rainy, sc.monthly
	srv := httptest.NewServer(ab.handler)
	t.Cleanup(srv.Close)
	planJSON, _ := json.Marshal(plan)
	shotsJSON, _ := json.Marshal(shots)
	keys, _ := json.Marshal(sc.keys)
	dir := os.Getenv("BANKBRIDGE_SCREENSHOTS")
	if dir != "" {
		// Screenshots: the customer and the administrator only, so the
		// console's pages are shown as a role that may see them.
		planJSON, _ = json.Marshal(append(plan[:2:2], plan[4])) // visitor, customer, administrator
	}
	testbrowser.Run(t, "e2e", "a11y.mjs", "BANKBRIDGE_E2E_SCREENSHOT", 10*time.Minute,
		"BASE_URL="+srv.URL, "PASSWORD="+password, "PLAN="+string(planJSON), "SHOTS="+dir, "SHOT_PAGES="+string(shotsJSON),
		"KEYS="+string(keys))
	// The keyboard walk froze the card and opened a second dispute.
	if got := ab.cardStatus(ab.ada.ID); got != ledger.CardFrozen {
		t.Errorf("after the keyboard walk the card is %s, want frozen", got)
	}
	if ks, _ := ab.svc.CustomerCases(ctx, ab.ada.ID); len(ks) != 2 {
		t.Errorf("after the keyboard walk Ada has %d cases, want 2", len(ks))
	}
	// It moved 25.00 to savings (the monthly order's first 100.00 before).
	if got, want := ab.get(rainy.ID).Available(), ledger.Amount(1200000+10000+2500); got != want {
		t.Errorf("after the keyboard transfer savings hold %d, want %d", got, want)
	}
	if os, _ := ab.db.Scheduled().Orders(ctx, ab.ada.ID); len(os) != 3 {
		t.Errorf("after the keyboard walk Ada has %d scheduled payments, want 3", len(os))
	}
	// It changed the monthly payment to 120.00, with its history.
	if o, err := ab.db.Scheduled().Order(ctx, ab.ada.ID, monthly.ID); err != nil || o.Amount != 12000 {
		t.Errorf("after the keyboard walk the monthly payment is %+v, %v; want 120.00", o, err)
	}
	if hist, _ := ab.db.Scheduled().Changes(ctx, ab.ada.ID, monthly.ID, 5); len(hist) != 1 || !strings.Contains(hist[0].Detail, "120.00 USD") {
		t.Errorf("the change's history: %+v", hist)
	}
}

// a11yWho is one person in the scan's plan (PLAN in web/e2e/a11y.mjs).
type a11yWho struct {
	Realm string   `json:"realm"`
	Name  string   `json:"name"`
	Email string   `json:"email"`
	Pages []string `json:"pages"`
	Lang  string   `json:"lang,omitempty"`
	// Wave orders the scans where pages depend on each other: the
	// script scans a wave's people side by side, and starts a wave
	// when the one before it has ended.
	Wave int `json:"wave,omitempty"`
}

// a11yScan is the bank the accessibility scan runs against, and its plan:
// built once for the browser test and for TestAccessibilityScanCoversEveryPage
// (a11y_routes_test.go), which holds the plan to every page of the app.
type a11yScan struct {
	ab      *alertsBank
	plan    []a11yWho
	shots   map[string]string // SHOT_PAGES
	keys    map[string]string // KEYS: the keyboard walk's
	rainy   ledger.Account
	monthly scheduled.Order
}

// newA11yScan builds the bank, with something on every page, and the plan.
func newA11yScan(t *testing.T) *a11yScan {
	t.Helper()
	// The rails emulator on the bank's clock, so that returns come late.
	ab := newAlertsBank(t, bankOptions{simClock: true})
	ctx := context.Background()
	// An ACH return exception waiting for a compliance officer (the
	// console's exceptions page and its confirmation): a credit to no
	// account here and a debit Bob's account cannot pay are returned
	// late, the emulator dishonours both returns, the bank accepts.
	if _, err := ab.sim.SendCredits("021000089", []railsim.Credit{{Account: "555000111", Name: "NOBODY", Amount: 25_00, Company: "ACME PAYROLL"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ab.sim.SendDebits("021000089", []railsim.Debit{{Account: string(ab.checking(ab.bob.ID).Number), Name: "BOB", Amount: 1_500_00, Company: "CITY POWER"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ab.rails.Receive(ctx, ab.railsTr); err != nil {
		t.Fatal(err)
	}
	ab.clock.Add(5 * 24 * time.Hour)
	for range 2 {
		if err := ab.rails.Cycle(ctx, ab.railsTr); err != nil {
			t.Fatal(err)
		}
	}
	if waiting, err := ab.rails.Waiting(ctx, 10); err != nil || len(waiting) == 0 {
		t.Fatalf("no ACH return exception waits: %v", err)
	}
	l := audit.New(ab.db.Audit(), audit.Options{Key: ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)), Now: ab.clock.Now, SealEvery: time.Hour})
	t.Cleanup(l.Close)
	sched := scheduled.New(ab.db.Scheduled(), ab.ledger, scheduled.Options{Teller: teller{ab.svc}, Limits: ab.limits, Now: ab.clock.Now})
	mirror, _ := mirrorFixture(t, ab) // the mirror page with a differing account and a refused entry
	// A savings account opened in January with a February (a statement
	// month), and a transfer to it from checking (its receipt).
	holiday, err := ab.ledger.Store().CreateAccount(ctx, ledger.Account{Customer: ab.ada.ID, Kind: ledger.Savings, Name: "Holiday fund",
		Currency: "USD", Number: "1000000777", Routing: "011000015", OpenedAt: time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	feb := ledger.Move("test", "a11y-feb", ab.funding, holiday.ID, 50000, "USD", "Holiday savings bonus")
	feb.At = time.Date(2026, 2, 3, 11, 0, 0, 0, time.UTC)
	if _, _, err := ab.ledger.Transfer(ctx, feb); err != nil {
		t.Fatal(err)
	}
	toHoliday, _, err := ab.ledger.Transfer(ctx, ledger.Move("web", "a11y-receipt", ab.checking(ab.ada.ID).ID, holiday.ID, 5000, "USD", "For the holidays"))
	if err != nil {
		t.Fatal(err)
	}
	// The partner pages, the consent screen, Connected apps and the payment
	// confirmation: a real consent service, authorization server and data
	// API, as payment_confirm_test.go's rig, with one partner that Ada
	// linked to checking and the holiday fund, a payment of 1,500.00 it
	// started that waits for her, and a second request to connect that
	// waits on the consent screen.
	x := a11yPartner(t, ab, l, ab.checking(ab.ada.ID), holiday)
	// The engagement page, over a small seeded population.
	engagement := insights.New(ab.db.Insights(), insights.Options{Now: ab.clock.Now})
	var pop []demo.EngagementCustomer
	for i := range 40 {
		pop = append(pop, demo.EngagementCustomer{ID: bankbridge.CustomerID(100000 + i), BirthYear: 2007 - i*53%60, Products: insights.Products(insights.Checking)})
	}
	if err := demo.SeedEngagement(ctx, engagement, pop, demo.EngagementOptions{Days: 60, Now: ab.clock.Now().UTC().Truncate(24 * time.Hour), Seed: 3}); err != nil {
		t.Fatal(err)
	}
	// The staff inbox: Ada's Messenger chat, handed to a person.
	chat := assistant.Key{Platform: "messenger", User: "psid-7"}
	inbox := channels.NewHub(channels.HubDeps{Store: ab.db.Messenger(), Now: ab.clock.Now})
	if err := ab.db.Messenger().SaveLink(ctx, assistant.Link{Key: chat, Customer: ab.ada.ID, Linked: ab.clock.Now().Add(-48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for i, m := range []assistant.Message{{Dir: assistant.In, Author: "Ada", Text: "Why was my card declined at the station?"},
		{Dir: assistant.Out, Author: "assistant", Text: "I am handing you to a person who can look into it."}} {
		m.Key, m.At = chat, ab.clock.Now().Add(time.Duration(i-10)*time.Minute)
		if err := ab.db.Messenger().AppendMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := ab.db.Messenger().SaveConversation(ctx, assistant.Conversation{Key: chat, Mode: assistant.ModeHuman, LastIn: ab.clock.Now().Add(-10 * time.Minute),
		LastOut: ab.clock.Now().Add(-9 * time.Minute), HandedAt: ab.clock.Now().Add(-9 * time.Minute), Updated: ab.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	ab.handler = web.New(web.Deps{Auth: ab.ids, Ledger: ab.ledger, Logger: slog.New(slog.DiscardHandler), Now: ab.clock.Now,
		BankName: "Test Bank", Alerts: ab.svc, Audit: l, Limits: ab.limits, Mail: &mailbox{}, PublicURL: "https://bank.test", Scheduled: sched, Rails: ab.rails,
		Mirror: mirror, TimeZones: ab.db.Messenger(),
		Consents: x.cons, ConsentFlow: x.as, Payments: x.api, Partners: x.cons, Performance: samplePerf, Insights: engagement, Events: &events{},
		Inbox: inbox})
	// Ada chose her time zone: her pages come from the templates parsed
	// for it (and the security page shows the choice).
	if err := ab.db.Messenger().SetTimeZone(ctx, ab.ada.ID, "America/Mexico_City", ab.clock.Now()); err != nil {
		t.Fatal(err)
	}
	checking := ab.checking(ab.ada.ID)
	rainy := ab.account(ab.ada.ID, "Rainy day savings", ledger.Savings, 1200000)
	// A monthly payment to savings, paid once, and one that was refused:
	// the scheduled payments' page with its runs.
	var monthly scheduled.Order
	for i, o := range []scheduled.Order{
		{Label: "Rainy day savings", Amount: 10000, Every: scheduled.Monthly, Count: 12, Memo: "Saving up"},
		{Label: "Rainy day savings", Amount: 9_000_000, Every: scheduled.Once},
	} {
		o.Customer, o.From, o.To, o.Currency, o.Start = ab.ada.ID, checking.ID, rainy.ID, "USD", ab.clock.Now()
		made, err := sched.Create(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			monthly = made
		}
	}
	editOrder := fmt.Sprintf("/scheduled/%d/edit", monthly.ID)
	if _, err := sched.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	ab.move(ab.funding, checking.ID, 420000, "Salary, Acme Corp")
	tr := ab.cardPayment(checking.ID, 4250, "Corner Grocery")
	tr2 := ab.cardPayment(checking.ID, 1899, "Streamflix")
	cards, _ := ab.db.Ledger().CustomerCards(ctx, ab.ada.ID)
	k, err := ab.svc.OpenDispute(ctx, ab.ada.ID, tr, alerts.DisputeNotAsDescribed, "The apples were rotten.")
	if err != nil {
		t.Fatal(err)
	}
	// A payment the sanctions screen holds, and its case in the queue.
	pe, err := ab.rails.AddPayee(ctx, rails.Payee{Customer: ab.ada.ID, Name: "Dmitri Kovalenko", Nickname: "Dmitri", Routing: "231380104", Number: "123456789", Type: rails.Checking})
	if err != nil {
		t.Fatal(err)
	}
	held, err := ab.rails.Pay(ctx, rails.PayRequest{Customer: ab.ada.ID, Payee: pe.ID, From: checking.ID, Amount: 1000, Channel: "web", Key: "a11y-held"})
	if err != nil || held.Status != rails.StatusHeld {
		t.Fatalf("a payment to a listed name: %+v, %v", held, err)
	}
	sk, err := ab.svc.OpenSanctionsCase(ctx, ab.ada.ID, int64(held.ID), held.Hold, held.Amount, held.Currency, held.Screen)
	if err != nil {
		t.Fatal(err)
	}
	// A verified payee holding Ada's own account at another bank (the
	// collection form) and a settled instant payment (its page offers to
	// ask it back; the form to do so; the console's form to recall it).
	// The list of payments is scanned as it first opens, without
	// ?follow=1: only a reader who asks for it has it reload itself (axe's
	// meta-refresh rule).
	own, err := ab.rails.AddPayee(ctx, rails.Payee{Customer: ab.ada.ID, Name: "Ada Lovelace", Nickname: "Ada savings", Routing: "231380104", Number: "987654321", Type: rails.Checking})
	if err != nil {
		t.Fatal(err)
	}
	if err := ab.rails.Store().UpdatePayee(ctx, own.ID, rails.PayeeVerified, "", "", "", ""); err != nil {
		t.Fatal(err)
	}
	sam, err := ab.rails.AddPayee(ctx, rails.Payee{Customer: ab.ada.ID, Name: "Sam Lee", Nickname: "Sam", Routing: "231380104", Number: "123456789", Type: rails.Checking})
	if err != nil {
		t.Fatal(err)
	}
	inst, err := ab.rails.PayInstant(ctx, rails.PayRequest{Customer: ab.ada.ID, Payee: sam.ID, From: checking.ID, Amount: 2000, Channel: "web", Key: "a11y-instant"})
	if err != nil || inst.Status != rails.StatusSettled {
		t.Fatalf("an instant payment: %+v, %v", inst, err)
	}
	railPages := []string{"/payees", fmt.Sprintf("/payees/%d/collect", own.ID), fmt.Sprintf("/payees/%d/pay", sam.ID), "/payments/ach",
		fmt.Sprintf("/payments/ach/%d", inst.ID), fmt.Sprintf("/payments/ach/%d/recall", inst.ID),
		fmt.Sprintf("/accounts/%d/statements", holiday.ID), fmt.Sprintf("/accounts/%d/transactions/%d", checking.ID, tr.ID),
		fmt.Sprintf("/transfer/receipt/%d", toHoliday.ID), "/connected", x.consentPage, "/payments/confirm/" + x.payment}
	roles := []identity.Role{identity.Administrator, identity.Support, identity.Compliance, identity.Analyst}
	for _, r := range roles {
		ab.staff(string(r)+"@bank.test", r)
	}
	// The confirmation of an exception's settlement, as the officer's
	// list links it.
	co := ab.browser()
	co.login("/console", "compliance@bank.test")
	m := resolveLinkRe.FindStringSubmatch(co.get("/console/rails/exceptions").body)
	if m == nil {
		t.Fatal("the exceptions page links no settlement")
	}
	resolvePage := m[1] + "?action=" + m[2]
	plan := []a11yWho{
		{Realm: "public", Name: "visitor", Pages: []string{"/login", "/password/forgot", "/password/reset?token=x", "/console/login"}},
		{Realm: "customer", Name: "customer", Email: "ada@example.com", Pages: []string{
			"/accounts", fmt.Sprintf("/accounts/%d", checking.ID), fmt.Sprintf("/accounts/%d?q=zzz&from=2026-01-01", checking.ID),
			"/transfer", "/cards", fmt.Sprintf("/cards/%d/freeze", cards[0].ID), fmt.Sprintf("/cards/%d/report", cards[0].ID),
			"/cases", fmt.Sprintf("/cases/%d", k.ID), fmt.Sprintf("/disputes/new?transfer=%d", tr.ID),
			"/notifications", "/privacy/disclosures", "/security", "/scheduled", editOrder, "/nowhere"}},
	}
	plan[1].Pages = append(plan[1].Pages, railPages...)
	// The customer's pages again in Spanish: the lang attribute and the
	// longer Spanish words must pass the same scan.
	plan = append(plan,
		a11yWho{Realm: "public", Name: "visitor-es", Lang: "es", Pages: []string{"/login", "/password/forgot", "/password/reset?token=x"}},
		a11yWho{Realm: "customer", Name: "customer-es", Email: "ada@example.com", Lang: "es", Pages: []string{
			"/accounts", fmt.Sprintf("/accounts/%d", checking.ID), "/transfer", "/cards", fmt.Sprintf("/cards/%d/report", cards[0].ID),
			"/cases", fmt.Sprintf("/cases/%d", k.ID), fmt.Sprintf("/disputes/new?transfer=%d", tr.ID),
			"/notifications", "/privacy/disclosures", "/security", "/scheduled", editOrder, "/nowhere"}})
	plan[3].Pages = append(plan[3].Pages, railPages...)
	for _, r := range roles {
		plan = append(plan, a11yWho{Realm: "staff", Name: string(r), Email: string(r) + "@bank.test", Wave: 1, Pages: []string{
			"/console/", "/console/customers?q=e", fmt.Sprintf("/console/customers/%d", ab.ada.ID),
			fmt.Sprintf("/console/accounts/%d/status?to=frozen", checking.ID), "/console/cases", fmt.Sprintf("/console/cases/%d", k.ID),
			fmt.Sprintf("/console/cases/%d", sk.ID), "/console/rails", "/console/mirror",
			"/console/audit", "/console/alerts", "/console/logins",
			fmt.Sprintf("/console/customers/%d/consents", ab.ada.ID), "/console/inbox", "/console/inbox/messenger/psid-7",
			"/console/insights", "/console/partners", "/console/partners/" + x.partner, "/console/performance",
			"/console/rails/exceptions", resolvePage, fmt.Sprintf("/console/rails/payments/%d/recall", inst.ID)}})
	}
	// The staff above opened Ada's accounts: her disclosures page now lists
	// them, in a table that is wider than a phone.
	plan = append(plan,
		a11yWho{Realm: "customer", Name: "customer-after-staff", Email: "ada@example.com", Wave: 2, Pages: []string{"/privacy/disclosures"}},
		a11yWho{Realm: "customer", Name: "customer-es-after-staff", Email: "ada@example.com", Lang: "es", Wave: 2, Pages: []string{"/privacy/disclosures"}})
	shots := map[string]string{"/login": "login", "/accounts": "accounts", fmt.Sprintf("/accounts/%d", checking.ID): "history",
		"/cards": "cards", fmt.Sprintf("/cases/%d", k.ID): "dispute-case", fmt.Sprintf("/disputes/new?transfer=%d", tr.ID): "dispute-form",
		"/notifications": "alerts", "/security": "security", "/password/forgot": "password-forgot", "/scheduled": "scheduled"}
	staffShots := map[string]string{"/console/customers?q=e": "console-search", fmt.Sprintf("/console/customers/%d", ab.ada.ID): "console-customer",
		"/console/cases": "console-cases", fmt.Sprintf("/console/cases/%d", k.ID): "console-case",
		fmt.Sprintf("/console/accounts/%d/status?to=frozen", checking.ID): "console-freeze", "/console/audit": "console-audit"}
	for p, n := range staffShots {
		shots[p] = n // taken as each role; the last one (the analyst's) would be a 403, so staff shots are the administrator's below
	}
	return &a11yScan{ab: ab, plan: plan, shots: shots, rainy: rainy, monthly: monthly,
		keys: map[string]string{"email": "ada@example.com", "dispute": fmt.Sprintf("/disputes/new?transfer=%d", tr2.ID), "to": "Rainy", "edit": editOrder}}
}

// a11yPartners is the open-finance side of the scan's bank.
type a11yPartners struct {
	cons        *consent.Service
	as          *oauth.Server
	api         *dataapi.Server
	partner     string // its id
	payment     string // a payment waiting for Ada's confirmation
	consentPage string // the consent screen of a request to connect
}

// a11yPartner registers a partner with the data API, links Ada's checking
// and savings to it with TRANSFERS, has it start a payment of 1,500.00
// between them (above the step-up limit: it waits for her) and start a
// second link that waits on the consent screen.
func a11yPartner(t *testing.T, ab *alertsBank, l *audit.Log, checking, savings ledger.Account) a11yPartners {
	t.Helper()
	ctx := context.Background()
	x := a11yPartners{cons: consent.New(ab.db.Consent(), consent.Options{Now: ab.clock.Now, Accounts: ab.db.Ledger()})}
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	var err error
	if x.as, err = oauth.New(ctx, oauth.Deps{Consent: x.cons, Issuer: srv.URL, Now: ab.clock.Now, NoNonce: true}); err != nil {
		t.Fatal(err)
	}
	if x.api, err = dataapi.New(ctx, dataapi.Deps{Verifier: x.as.Verifier(oauth.VerifierOptions{}), Consents: x.cons, Ledger: ab.ledger,
		Payments: ab.limits, Customers: ab.ids, Audit: l, Store: ab.db.DataAPI(), Now: ab.clock.Now, BaseURL: srv.URL,
		Options: dataapi.Options{CustomerRate: 100_000}, Rails: ab.rails}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/oauth/", x.as.Handler())
	mux.Handle(dataapi.Prefix+"/", x.api)
	h = mux
	p, err := dataapitest.Register(ctx, x.cons, srv.URL, "chat-app", 100_000, ab.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	x.partner = p.ID
	token, _, ids, err := p.LinkAccounts(ctx, x.as.Decide, ab.ada.ID, []ledger.AccountID{checking.ID, savings.ID},
		[]consent.Cluster{consent.AccountBasic, consent.Transfers})
	if err != nil || len(ids) != 2 {
		t.Fatalf("linking Ada: %v, %q", err, ids)
	}
	res, err := p.Do(ctx, token, "GET", dataapi.Prefix+"/accounts", nil, nil)
	var list dataapi.Accounts
	if err != nil || json.Unmarshal(res.Body, &list) != nil || len(list.Accounts) != 2 {
		t.Fatalf("GET /accounts: %v %s", err, res.Body)
	}
	var from, to string
	for _, a := range list.Accounts {
		if a.AccountType == "SAVINGS" {
			to = a.AccountID
		} else {
			from = a.AccountID
		}
	}
	body := fmt.Sprintf(`{"fromAccountId":%q,"toAccountId":%q,"amount":1500.00,"memo":"Top up the holiday fund"}`, from, to)
	res, err = p.Do(ctx, token, "POST", dataapi.Prefix+"/payments", []byte(body), map[string]string{"Idempotency-Key": "a11y-pay"})
	var pay dataapi.Payment
	if err != nil || json.Unmarshal(res.Body, &pay) != nil || res.Status != http.StatusCreated {
		t.Fatalf("POST /payments: %v %d %s", err, res.Status, res.Body)
	}
	x.payment = pay.PaymentID
	errPending := errors.New("left on the consent screen")
	var request string
	_, _, _, err = p.LinkAccounts(ctx, func(_ context.Context, d consent.Decision) (string, error) {
		request = d.Request
		return "", errPending
	}, ab.ada.ID, []ledger.AccountID{checking.ID}, []consent.Cluster{consent.AccountBasic, consent.Transactions})
	if !errors.Is(err, errPending) {
		t.Fatalf("a request to connect: %v", err)
	}
	x.consentPage = "/consent?request=" + url.QueryEscape(request)
	return x
}
