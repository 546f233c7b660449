package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/bankbridge/bankbridge/alerts/alertstest"
	"github.com/bankbridge/bankbridge/alerts/stream"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/dataapi"
	"github.com/bankbridge/bankbridge/dataapi/dataapitest"
	"github.com/bankbridge/bankbridge/demo"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/oauth"
	"github.com/bankbridge/bankbridge/platformsim"
)

// Sizes of the fleet test: small enough for two shared cores.
const (
	fleetSize      = 3
	fleetCustomers = 50               // demo bank
	fleetLinked    = 6                // customers who bank on the web and in a chat
	fleetLoad      = 20 * time.Second // the load phase; one instance is killed a third in
	partnerRate    = 120              // the partner's budget, requests a minute
	natsDown       = 3 * time.Second  // how long NATS is down, two thirds into the load
)

// TestFleet is issue 15 item 6, with real processes: three `bankbridge
// serve` built from this package, on one PostgreSQL schema and one NATS
// server (private to the test, so that no other test's deployment shares
// its stream), behind a round-robin balancer, with the messaging platform
// emulator and an SMTP server outside them as real ones are. Customers
// bank on the web and pay and ask in a linked chat, staff read the
// console, a partner calls the data API over its budget; the instance that
// seals the disclosure log is killed with SIGKILL mid-load and restarted on
// its data folder, and later the NATS server is killed and restarted on its
// port and store (every instance must log losing and regaining it).
// Then: the sealer moved to a living instance; every alert reached the
// chat exactly once and the mail server (the platform's side and the
// database's); each chat payment was booked once; no chat or
// page showed another customer's accounts; the partner's limit held for
// the fleet; a second deployment on the same NATS saw none of the fleet's
// events and lost none of its own; `ledger verify` and `audit verify`
// pass from every instance's data folder. The whole logs and the chats
// are kept with `go test -artifacts`.
func TestFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four bankbridge processes and a NATS server: not in -short")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	began := time.Now()

	f := newFleet(t, ctx)
	f.startAll()
	t.Logf("fleet up in %s (build, NATS, %d instances, demo of %d customers)", time.Since(began).Round(time.Millisecond), fleetSize, fleetCustomers)

	f.findCustomers()
	f.setUp()
	t.Logf("set up (%d chat users linked, partner linked) at %s", len(f.linked), time.Since(began).Round(time.Millisecond))

	f.settle()
	f.load()
	t.Logf("load done at %s", time.Since(began).Round(time.Millisecond))

	t.Cleanup(f.saveChats)
	f.checkAlerts()
	f.checkChatPayments()
	f.checkChatsApart()
	t.Run("PartnerLimitHoldsForTheFleet", f.checkPartnerLimit)
	t.Run("SecondDeploymentStaysApart", f.checkSecondDeployment)

	f.stopAll()
	f.verifyAll()
	t.Logf("whole test %s; requests per instance %v, %d failed at the balancer", time.Since(began).Round(time.Millisecond), f.lb.counts(), f.lb.failed.Load())
}

// fleet is the test's world: the processes, the balancer, the platform.
type fleet struct {
	t    *testing.T
	ctx  context.Context
	bin  string
	db   string // the fleet's database URL
	nats *natsServer
	env  []string
	pool *pgxpool.Pool

	lb     *balancer
	front  *httptest.Server // the balancer: the bank's public URL
	sim    *platformsim.Sim
	simSrv *httptest.Server
	mail   *alertstest.SMTPSink
	inst   []*process

	linked  []*customer // web and chat
	payer   *customer   // the partner's customer
	partner *dataapitest.Partner
	token   string

	mu        sync.Mutex
	transfers []transfer // booked large debits, as the web answered
	failures  []string   // unexpected answers during the load
	calls     struct{ allowed, refused, other int }
	pages     int   // console pages staff read
	startSeq  int64 // the last ledger event before the load
	window    struct{ first, last time.Time }
}

type customer struct {
	id       int64
	email    string
	chat     string // the platform user's name; "" if not linked
	payee    string // the nickname of a payee of theirs inside the bank, "" if none
	accounts []account
	web      *browser
}

type account struct {
	id      int64
	number  string
	balance int64
}

// transfer is a large debit the web confirmed.
type transfer struct {
	customer *customer
	amount   ledger.Amount
	at       time.Time // when the receipt came back
}

const (
	simSecret = "fleet-app-secret"
	simVerify = "fleet-verify"
	simPage   = "fleet-page-token"
)

func newFleet(t *testing.T, ctx context.Context) *fleet {
	f := &fleet{t: t, ctx: ctx}
	f.bin = buildBinary(t)
	f.nats = startNATS(t)
	f.mail = alertstest.NewSMTPSink(t)
	f.db = testdb.PostgresURL(t)

	f.lb = &balancer{}
	f.front = httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", "fleet"
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
		},
		Transport: f.lb,
		// An instance killed with requests in flight: the balancer
		// answers 502, and the clients here retry as people would.
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			f.lb.failed.Add(1)
			w.WriteHeader(http.StatusBadGateway)
		},
	})
	t.Cleanup(f.front.Close)

	// The platform is one, outside the bank, as a real one is: its users'
	// ids are its own, whichever instance a webhook reaches.
	var simH http.Handler
	f.simSrv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { simH.ServeHTTP(w, r) }))
	t.Cleanup(f.simSrv.Close)
	f.sim = platformsim.New(platformsim.Options{Prefix: "/sim", BaseURL: f.simSrv.URL + "/sim", WebhookURL: f.front.URL + "/channels/messenger/webhook",
		AppSecret: simSecret, VerifyToken: simVerify, PageToken: simPage, RatePerSecond: 200, AllowLoopbackHTTP: true})
	simH = f.sim.Handler()

	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BANKBRIDGE_") {
			f.env = append(f.env, kv)
		}
	}
	f.env = append(f.env, "BANKBRIDGE_MESSENGER_GRAPH_URL="+f.sim.GraphURL(), "BANKBRIDGE_MESSENGER_REDIRECT_URI="+f.sim.RedirectURI(),
		"BANKBRIDGE_MESSENGER_APP_SECRET="+simSecret, "BANKBRIDGE_MESSENGER_VERIFY_TOKEN="+simVerify, "BANKBRIDGE_MESSENGER_PAGE_TOKEN="+simPage,
		// One key-encryption key for the fleet, as an operator hands every
		// machine: the first instance makes it and the keys it seals, and
		// every command (partner add, audit verify) reads the same.
		"BANKBRIDGE_KEY_FILE="+filepath.Join(t.TempDir(), "fleet.kek"))

	pool, err := pgxpool.New(ctx, f.db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	f.pool = pool
	return f
}

// startAll starts the first instance, which makes the fleet's keys and
// seeds the demo under its lease, then the others with the same key file.
func (f *fleet) startAll() {
	t := f.t
	root := t.TempDir()
	for i := range fleetSize {
		data := filepath.Join(root, fmt.Sprintf("data%d", i))
		f.inst = append(f.inst, newProcess(t, fmt.Sprintf("instance %d", i), f.bin, f.env, data,
			"--database", f.db, "--events", f.nats.URL(), "--public-url", f.front.URL, "--demo-customers", fmt.Sprint(fleetCustomers), "--smtp", f.mail.Addr()))
	}
	f.inst[0].start(t)
	var wg sync.WaitGroup
	for _, p := range f.inst[1:] {
		wg.Go(func() { p.start(t) })
	}
	wg.Wait()
	for _, p := range f.inst {
		f.lb.add(p.addr)
	}
	if strings.Count(f.inst[0].out.String()+f.inst[1].out.String()+f.inst[2].out.String(), "seeding the demo bank") != 1 {
		t.Errorf("the demo bank was not seeded exactly once")
	}
	for _, p := range f.inst {
		if strings.Contains(p.out.String(), "messenger channel off") {
			t.Fatalf("%s runs with the messenger channel off:\n%s", p.name, tail(p.out.String(), 2048))
		}
	}
	if err := f.sim.Subscribe(f.ctx); err != nil {
		t.Fatalf("webhook verification through the balancer: %v", err)
	}
}

// findCustomers picks, from the seeded bank, customers with two USD
// accounts holding enough to move large sums back and forth.
func (f *fleet) findCustomers() {
	t := f.t
	rows, err := f.pool.Query(f.ctx, `SELECT c.id, c.email, a.id, a.number, a.balance FROM customers c JOIN accounts a ON a.customer_id = c.id
		WHERE a.currency = 'USD' AND a.status = 'open' AND a.kind IN ('checking', 'savings') ORDER BY c.id, a.id`)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]*customer{}
	var order []*customer
	for rows.Next() {
		var c customer
		var a account
		if err := rows.Scan(&c.id, &c.email, &a.id, &a.number, &a.balance); err != nil {
			t.Fatal(err)
		}
		if byID[c.id] == nil {
			byID[c.id] = &customer{id: c.id, email: c.email}
			order = append(order, byID[c.id])
		}
		byID[c.id].accounts = append(byID[c.id].accounts, a)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, c := range order {
		switch {
		case c.email == demo.CustomerEmail:
			f.payer = c
		// Each account holds at least the chat's payment with room: the
		// chat pays from one of them as the load starts, racing the first
		// large transfer, which fills the smaller account only once it lands
		// (a demo customer with 1.67 in checking failed that race).
		case len(f.linked) < fleetLinked && len(c.accounts) >= 2 && c.accounts[0].balance+c.accounts[1].balance >= 150000 &&
			min(c.accounts[0].balance, c.accounts[1].balance) >= 10*int64(chatPayment):
			c.accounts = c.accounts[:2]
			c.chat = fmt.Sprintf("person%d", len(f.linked))
			f.linked = append(f.linked, c)
		}
	}
	for _, c := range f.linked {
		err := f.pool.QueryRow(f.ctx, `SELECT coalesce((SELECT nickname FROM payees WHERE customer_id = $1 AND account_id > 0 AND nickname ~ '^[A-Za-z]+$' ORDER BY id LIMIT 1), '')`, c.id).Scan(&c.payee)
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(f.linked) < fleetLinked || f.payer == nil {
		t.Fatalf("the demo bank of %d customers has %d customers with two funded USD accounts (want %d) and payer %v", fleetCustomers, len(f.linked), fleetLinked, f.payer != nil)
	}
}

// setUp links every chat user through the bank's login and consent, sets
// their alerts to full text, and registers and links the partner.
func (f *fleet) setUp() {
	t := f.t
	var wg sync.WaitGroup
	errs := make(chan error, len(f.linked)+1)
	for _, c := range f.linked {
		wg.Go(func() {
			if err := f.setUpCustomer(c); err != nil {
				errs <- fmt.Errorf("%s: %w", c.email, err)
			}
		})
	}
	wg.Go(func() {
		if err := f.setUpPartner(); err != nil {
			errs <- fmt.Errorf("partner: %w", err)
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func (f *fleet) setUpCustomer(c *customer) error {
	ctx := f.ctx
	c.web = newBrowser(f.front.URL)
	if err := c.web.login(ctx, "/login", c.email, demo.CustomerPassword, "/accounts"); err != nil {
		return err
	}
	// Full text in alerts, on large debits only, so that each alert names
	// its amount and can be matched to its transfer; by e-mail too.
	res, _, err := c.web.post(ctx, "/notifications/settings", url.Values{"privacy": {"full"}, "large_debit": {"500.00"}, "low_balance": {""}, "email": {c.email}})
	if err != nil || res.Request.URL.Path != "/notifications" {
		return fmt.Errorf("alert settings: %v %v", err, status(res))
	}
	// Link the chat: the button, the bank's login and consent, back to the chat.
	if err := f.sim.SayAndWait(ctx, c.chat, "link my account"); err != nil {
		return err
	}
	var linkURL string
	for _, l := range f.sim.Chat(c.chat).Lines {
		for _, b := range l.Buttons {
			if b.Type == "account_link" {
				linkURL = b.URL
			}
		}
	}
	if linkURL == "" {
		return fmt.Errorf("no account-link button in the chat: %+v", f.sim.Chat(c.chat).Lines)
	}
	br := newBrowser(f.front.URL)
	res, page, err := br.get(ctx, f.sim.LinkURL(c.chat, linkURL))
	if err != nil || res.Request.URL.Path != "/login" {
		return fmt.Errorf("link button led to %v: %v", status(res), err)
	}
	res, page, err = br.post(ctx, "/login", url.Values{"csrf": {find(csrfRe, page)}, "email": {c.email}, "password": {demo.CustomerPassword}, "next": {find(nextRe, page)}})
	if err != nil || res.Request.URL.Path != "/consent" {
		return fmt.Errorf("after login: %v %v", status(res), err)
	}
	form := url.Values{"csrf": {find(csrfRe, page)}, "request": {find(requestRe, page)}, "decision": {"approve"}, "days": {"30"}}
	for _, a := range c.accounts {
		form.Add("account", fmt.Sprint(a.id))
	}
	if res, _, err = br.post(ctx, "/consent", form); err != nil || !strings.HasPrefix(res.Request.URL.String(), f.simSrv.URL+"/sim/chat/") {
		return fmt.Errorf("after consent: %v %v", status(res), err)
	}
	linked := slices.ContainsFunc(f.sim.Chat(c.chat).Lines, func(l platformsim.Line) bool {
		return l.FromPage && strings.HasPrefix(l.Text, "Your bank account is linked")
	})
	if !linked {
		return fmt.Errorf("the bank did not confirm the link in the chat: %+v", f.sim.Chat(c.chat).Lines)
	}
	return f.sim.SayAndWait(ctx, c.chat, "privacy full")
}

func (f *fleet) setUpPartner() error {
	ctx := f.ctx
	p, err := dataapitest.New(f.front.URL, "fleet-app", time.Now)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, f.bin, "partner", "add", "--id", p.ID, "--name", "Fleet App Ltd", "--lei", "5493001KJTIIGC8Y1R12",
		"--homepage", "https://fleet.example", "--security-contact", "security@fleet.example", "--redirect-uri", p.Redirect,
		"--jwks", string(p.JWKS()), "--purpose", "ACCOUNT_BASIC=show your accounts", "--purpose", "BALANCES=show your balances",
		"--attest", "--signatory", "Jo Doe, CEO", "--rate-limit", fmt.Sprint(partnerRate), "--database", f.db, "--data", f.inst[0].data)
	cmd.Env, cmd.Stdout, cmd.Stderr = f.env, &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("partner add: %v\n%s", err, out.String())
	}
	ids := []ledger.AccountID{ledger.AccountID(f.payer.accounts[0].id)}
	tok, _, err := p.Link(ctx, f.decide(p.ID, f.payer.email), 0, ids, []consent.Cluster{consent.AccountBasic, consent.Balances})
	if err != nil {
		return err
	}
	f.partner, f.token = p, tok
	return nil
}

// decide is the customer's side of the partner's authorization, over HTTP
// through the balancer: the authorization link, the bank's login, the
// consent screen; it returns where the bank sent the browser back.
func (f *fleet) decide(client, email string) func(context.Context, consent.Decision) (string, error) {
	return func(ctx context.Context, d consent.Decision) (string, error) {
		br := newBrowser(f.front.URL)
		res, page, err := br.get(ctx, oauth.PathAuthorize+"?client_id="+url.QueryEscape(client)+"&request_uri="+url.QueryEscape(oauth.RequestURIPrefix+d.Request))
		if err != nil || res.Request.URL.Path != "/login" {
			return "", fmt.Errorf("authorize led to %v: %v", status(res), err)
		}
		res, page, err = br.post(ctx, "/login", url.Values{"csrf": {find(csrfRe, page)}, "email": {email}, "password": {demo.CustomerPassword}, "next": {find(nextRe, page)}})
		if err != nil || res.Request.URL.Path != "/consent" {
			return "", fmt.Errorf("after login: %v %v", status(res), err)
		}
		form := url.Values{"csrf": {find(csrfRe, page)}, "request": {find(requestRe, page)}, "decision": {"approve"}, "days": {"90"}}
		for _, a := range d.Accounts {
			form.Add("account", fmt.Sprint(a))
		}
		res, _, err = br.post(ctx, "/consent", form)
		if err != nil {
			return "", err
		}
		loc := res.Header.Get("Location")
		if res.StatusCode/100 != 3 || !strings.HasPrefix(loc, "http://127.0.0.1:9/") {
			return "", fmt.Errorf("consent answered %v, location %q", status(res), loc)
		}
		return loc, nil
	}
}

// settle waits until the alerts of the demo's history, relayed through
// NATS at start, are evaluated and delivered, so that the load's alerts
// are measured alone; then it notes the last ledger event.
func (f *fleet) settle() {
	t := f.t
	t0 := time.Now()
	var why string
	for deadline := time.Now().Add(45 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		if why = f.busy(); why == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Logf("the fleet is still busy after 45 s (%s); loading anyway", why)
			break
		}
	}
	if err := f.pool.QueryRow(f.ctx, `SELECT coalesce(max(seq), 0) FROM ledger_events`).Scan(&f.startSeq); err != nil {
		t.Fatal(err)
	}
	t.Logf("start-up backlog (demo history through NATS) done in %s; load from event %d", time.Since(t0).Round(time.Millisecond), f.startSeq)
}

// busy says what alert work is still outstanding: events not relayed,
// messages not taken or not acknowledged on any consumer of the test's
// NATS server, deliveries pending. "" when none.
func (f *fleet) busy() string {
	// In the order work flows: events relayed, then NATS drained, then
	// deliveries made. The alerts consumer commits a batch's deliveries
	// before it acknowledges the batch on NATS, so deliveries read after
	// NATS is seen drained include every batch NATS let go of; read
	// before, they could miss one committed in between.
	var last, relayed, pending int64
	if err := f.pool.QueryRow(f.ctx, `SELECT coalesce((SELECT max(seq) FROM ledger_events), 0), coalesce((SELECT seq FROM alert_cursors WHERE name = $1), 0)`,
		stream.RelayName).Scan(&last, &relayed); err != nil {
		f.t.Fatal(err)
	}
	if relayed < last {
		return fmt.Sprintf("%d events not relayed", last-relayed)
	}
	nc, err := nats.Connect(f.nats.URL())
	if err != nil {
		f.t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		f.t.Fatal(err)
	}
	var waiting uint64
	names := js.StreamNames(f.ctx)
	for name := range names.Name() {
		st, err := js.Stream(f.ctx, name)
		if err != nil {
			f.t.Fatal(err)
		}
		cs := st.ListConsumers(f.ctx)
		for ci := range cs.Info() {
			waiting += ci.NumPending + uint64(ci.NumAckPending)
		}
		if err := cs.Err(); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := names.Err(); err != nil {
		f.t.Fatal(err)
	}
	if waiting > 0 {
		return fmt.Sprintf("%d messages waiting on NATS consumers", waiting)
	}
	if err := f.pool.QueryRow(f.ctx, `SELECT count(*) FROM alert_deliveries WHERE status = 'pending'`).Scan(&pending); err != nil {
		f.t.Fatal(err)
	}
	if pending > 0 {
		return fmt.Sprintf("%d deliveries pending", pending)
	}
	return ""
}

// load drives everyone for fleetLoad, kills one instance with SIGKILL a
// third in and starts it again on its data folder, then kills the NATS
// server two thirds in and starts it again natsDown later.
func (f *fleet) load() {
	t := f.t
	ctx, cancel := context.WithTimeout(f.ctx, fleetLoad)
	defer cancel()
	loadStart := time.Now()
	var wg sync.WaitGroup
	var cents atomic.Int64
	for _, c := range f.linked {
		wg.Go(func() { f.bank(ctx, c, &cents) })
		wg.Go(func() { f.chat(ctx, c) })
	}
	wg.Go(func() { f.callAPI(ctx) })
	wg.Go(func() { f.staff(ctx) })

	// kill -9 the instance that seals the disclosure log, mid-load.
	select {
	case <-ctx.Done():
	case <-time.After(fleetLoad / 3):
	}
	victim := 0
	for i, p := range f.inst {
		if strings.Contains(p.out.String(), "this instance seals the log") {
			victim = i
		}
	}
	marks := make([]int, len(f.inst))
	for i, p := range f.inst {
		marks[i] = len(p.out.String())
	}
	t0 := time.Now()
	f.inst[victim].kill()
	t.Logf("killed %s, which sealed the log (kill -9), %s into the load", f.inst[victim].name, fleetLoad/3)
	// The sealer moves to a living instance (issue 15 item 3) while the
	// killed one is down, as a machine takes a while to come back.
	sealer := ""
	for deadline := time.Now().Add(5 * time.Second); sealer == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for i, p := range f.inst {
			if i != victim && strings.Contains(p.out.String()[marks[i]:], "this instance seals the log") {
				sealer = p.name
			}
		}
	}
	if sealer == "" {
		t.Errorf("no living instance took the disclosure log's sealer within 5 s of the kill of %s", f.inst[victim].name)
	} else {
		t.Logf("%s took the sealer's lease %s after the kill", sealer, time.Since(t0).Round(time.Millisecond))
	}
	f.inst[victim].start(t)
	t.Logf("%s back after %s", f.inst[victim].name, time.Since(t0).Round(time.Millisecond))
	before := f.lb.counts()[victim]

	// NATS down and back, mid-load (issue 15, "Bad input and faults"):
	// killed without a goodbye, started again after a few seconds on its
	// port and store. The instances keep booking into the outbox; the relay
	// and the consumer must say they failed and recovered, and the checks
	// below find every alert delivered once all the same.
	select {
	case <-ctx.Done():
	case <-time.After(time.Until(loadStart.Add(fleetLoad * 2 / 3))):
	}
	for i, p := range f.inst {
		marks[i] = len(p.out.String())
	}
	f.nats.kill()
	t.Logf("killed the NATS server (kill -9) %s into the load", time.Since(loadStart).Round(time.Millisecond))
	sleep(f.ctx, natsDown)
	f.nats.start(t)
	t1 := time.Now()
	for deadline := t1.Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		back := 0
		for i, p := range f.inst {
			if strings.Contains(p.out.String()[marks[i]:], "stream: reconnected to NATS") {
				back++
			}
		}
		if back == len(f.inst) {
			break
		}
	}
	for i, p := range f.inst {
		log := p.out.String()[marks[i]:]
		down, back := strings.Contains(log, "stream: disconnected from NATS"), strings.Contains(log, "stream: reconnected to NATS")
		t.Logf("%s over the NATS outage: said disconnected %v, reconnected %v; relay failures logged %d, consumer failures logged %d",
			p.name, down, back, strings.Count(log, "stream: relaying the outbox failed"), strings.Count(log, "stream: taking events failed"))
		if !down || !back {
			t.Errorf("%s did not log losing and regaining NATS (down %v, back %v) within 10 s of its restart", p.name, down, back)
		}
	}
	t.Logf("NATS back after %s down; every instance reconnected within %s", natsDown, time.Since(t1).Round(time.Millisecond))
	wg.Wait()
	if f.lb.counts()[victim] == before {
		t.Errorf("%s served nothing after its restart", f.inst[victim].name)
	}
	if len(f.failures) > 0 {
		t.Errorf("%d unexpected answers during the load, the first: %s", len(f.failures), strings.Join(f.failures[:min(5, len(f.failures))], "; "))
	}
	t.Logf("load: %d large transfers booked, partner calls %d allowed / %d refused / %d other, %d console pages", len(f.transfers), f.calls.allowed, f.calls.refused, f.calls.other, f.pages)
	if f.pages == 0 {
		t.Error("staff read no console page")
	}
}

func (f *fleet) fail(format string, args ...any) {
	f.mu.Lock()
	f.failures = append(f.failures, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

// bank is one customer moving large sums between their two accounts, each
// amount unique in the test so that its alert can be found.
func (f *fleet) bank(ctx context.Context, c *customer, cents *atomic.Int64) {
	for ctx.Err() == nil {
		from, to := &c.accounts[0], &c.accounts[1]
		if to.balance > from.balance {
			from, to = to, from
		}
		amt := ledger.Amount(50000 + cents.Add(1)*7) // 500.07, 500.14, ...: above the alert's 500.00, below step-up
		err := c.web.transfer(ctx, from.id, to.id, amt)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			f.fail("%s transfer %s: %v", c.email, amt.Display("USD"), err)
		default:
			from.balance -= int64(amt)
			to.balance += int64(amt)
			f.mu.Lock()
			f.transfers = append(f.transfers, transfer{customer: c, amount: amt, at: time.Now()})
			f.mu.Unlock()
		}
		sleep(ctx, 700*time.Millisecond)
	}
}

// chat is the same customer paying a payee from the chat once (the
// question and the confirming tap reach the instances the balancer picks),
// then asking their balance now and then.
func (f *fleet) chat(ctx context.Context, c *customer) {
	if c.payee != "" {
		if err := f.payInChat(ctx, c); err != nil && ctx.Err() == nil {
			f.fail("%s pays %s in the chat: %v", c.chat, c.payee, err)
		}
	}
	for ctx.Err() == nil {
		if err := f.sim.Say(ctx, c.chat, "balance"); err != nil && ctx.Err() == nil {
			f.fail("%s says balance: %v", c.chat, err)
		}
		sleep(ctx, 2*time.Second)
	}
}

// chatPayment is what every chat payment moves: small, and distinct from
// the web's large debits.
const chatPayment = ledger.Amount(1234)

func (f *fleet) payInChat(ctx context.Context, c *customer) error {
	before := len(f.sim.Chat(c.chat).Lines)
	if err := f.sim.Say(ctx, c.chat, fmt.Sprintf("pay %s %d.%02d", c.payee, chatPayment/100, chatPayment%100)); err != nil {
		return err
	}
	// The bank answers after the webhook's 200, and an alert may come
	// first: wait for the confirmation itself.
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var confirm *platformsim.QuickReply
	for seen := before; confirm == nil; {
		lines := f.sim.Chat(c.chat).Lines
		for _, l := range lines[before:] {
			if l.FromPage && strings.HasPrefix(l.Text, "Pay ") && len(l.QuickReplies) == 2 {
				confirm = &l.QuickReplies[0]
			}
		}
		if confirm == nil {
			seen = len(lines)
			if !f.sim.WaitReply(wctx, c.chat, seen) {
				return fmt.Errorf("no confirmation asked: %+v", f.sim.Chat(c.chat).Lines[before:])
			}
		}
	}
	return f.sim.Tap(ctx, c.chat, confirm.Title, confirm.Payload)
}

// callAPI is the partner calling as fast as a busy app would, well over
// its budget, counting what the fleet allowed.
func (f *fleet) callAPI(ctx context.Context) {
	for ctx.Err() == nil {
		at := time.Now()
		res, err := f.partner.Do(ctx, f.token, http.MethodGet, dataapi.Prefix+"/accounts", nil, nil)
		if ctx.Err() != nil {
			return
		}
		f.mu.Lock()
		if f.window.first.IsZero() {
			f.window.first = at
		}
		f.window.last = at
		switch {
		case err != nil:
			f.calls.other++
		case res.Status == http.StatusOK:
			f.calls.allowed++
		case res.Status == http.StatusTooManyRequests:
			f.calls.refused++
		default:
			f.calls.other++
			if res.Status != http.StatusBadGateway {
				f.failures = append(f.failures, fmt.Sprintf("partner call: %d %s", res.Status, res.Body))
			}
		}
		f.mu.Unlock()
		sleep(ctx, 50*time.Millisecond)
	}
}

// staff is an administrator reading the console: alerts, customers, audit.
func (f *fleet) staff(ctx context.Context) {
	br := newBrowser(f.front.URL)
	if err := br.login(ctx, "/console/login", demo.AdminEmail, demo.StaffPassword, "/console/"); err != nil {
		f.fail("staff login: %v", err)
		return
	}
	for i := 0; ctx.Err() == nil; i++ {
		path := []string{"/console/alerts", fmt.Sprintf("/console/customers/%d", f.linked[i%len(f.linked)].id), "/console/audit"}[i%3]
		res, _, err := br.get(ctx, path)
		if ctx.Err() != nil {
			return
		}
		if err != nil || (res.StatusCode != http.StatusOK && res.StatusCode != http.StatusBadGateway) {
			f.fail("staff %s: %v %v", path, status(res), err)
		}
		f.mu.Lock()
		f.pages++
		f.mu.Unlock()
		sleep(ctx, time.Second)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// checkAlerts waits for the load's alerts to settle, then holds the
// database and the platform to each other: every large debit booked has
// one alert; every alert since the load began has one chat delivery,
// delivered; each delivered alert is in its chat exactly once, and the
// chat shows no alert the database does not have.
func (f *fleet) checkAlerts() {
	t := f.t
	type row struct {
		customer int64
		seq      int64
		rule     string
		amount   int64
		status   string // of the chat delivery; "" when there is none
		body     string
	}
	var rows []row
	ids := make([]int64, len(f.linked))
	for i, c := range f.linked {
		ids[i] = c.id
	}
	t0 := time.Now()
	// A message the killed instance had taken comes back after JetStream's
	// ack wait, 30 s (alerts/stream), so the wait is longer than that.
	// Requests cut off when the load ended may still be booking.
	time.Sleep(time.Second)
	// Settled is idle twice, a second apart: a transfer cut off when the
	// load ended may still commit after one idle reading.
	for deadline, idle := time.Now().Add(45*time.Second), 0; idle < 2 && time.Now().Before(deadline); {
		if f.busy() == "" {
			idle++
			time.Sleep(time.Second)
			continue
		}
		idle = 0
		time.Sleep(200 * time.Millisecond)
	}
	rs, err := f.pool.Query(f.ctx, `SELECT a.customer_id, a.seq, a.rule, a.amount, coalesce(d.status, ''), coalesce(d.body, '')
		FROM alerts a LEFT JOIN alert_deliveries d ON d.alert_id = a.id AND d.channel = 'messenger'
		WHERE a.customer_id = ANY($1)`, ids)
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.customer, &r.seq, &r.rule, &r.amount, &r.status, &r.body); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("alerts settled %s after the load", time.Since(t0).Round(time.Millisecond))

	// The database: one alert per large debit booked, and every alert of
	// the load delivered to the chat.
	type key struct{ customer, amount int64 }
	large := map[key]int{}
	var loadAlerts, dead int
	for _, r := range rows {
		if r.seq <= f.startSeq {
			continue
		}
		loadAlerts++
		if r.rule == "large_debit" {
			large[key{r.customer, r.amount}]++
		}
		if r.status != "delivered" {
			t.Errorf("customer %d: the %s alert of %s (event %d) has chat delivery %q, want delivered", r.customer, r.rule, ledger.Amount(r.amount).Display("USD"), r.seq, r.status)
		}
	}
	for _, tr := range f.transfers {
		if n := large[key{tr.customer.id, int64(tr.amount)}]; n != 1 {
			t.Errorf("customer %d: %d alerts for the transfer of %s, want 1", tr.customer.id, n, tr.amount.Display("USD"))
		}
	}
	if err := f.pool.QueryRow(f.ctx, `SELECT count(*) FROM alert_deliveries WHERE status = 'dead'`).Scan(&dead); err != nil {
		t.Fatal(err)
	}
	if dead > 0 {
		t.Errorf("%d dead letters", dead)
	}

	// E-mail: every alert of the load delivered, each at the mail server.
	// Delivery there is at least once by design (a retry after a crash
	// between the server's 250 and the delivery's commit sends it again,
	// with the same Message-ID, which mail clients fold): a repeat is
	// counted, not failed.
	var mails, repeats int
	ers, err := f.pool.Query(f.ctx, `SELECT d.id, d.status FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id
		WHERE d.channel = 'email' AND a.seq > $1 AND a.customer_id = ANY($2)`, f.startSeq, ids)
	if err != nil {
		t.Fatal(err)
	}
	got := f.mailed()
	for ers.Next() {
		var id, st string
		if err := ers.Scan(&id, &st); err != nil {
			t.Fatal(err)
		}
		mails++
		switch n := got[id]; {
		case st != "delivered":
			t.Errorf("e-mail delivery %s is %s, want delivered", id, st)
		case n == 0:
			t.Errorf("e-mail delivery %s is delivered but the mail server never got it", id)
		case n > 1:
			repeats += n - 1
		}
	}
	if err := ers.Err(); err != nil {
		t.Fatal(err)
	}
	if mails != loadAlerts {
		t.Errorf("%d e-mail deliveries for %d alerts of the load", mails, loadAlerts)
	}

	// The platform: what each chat received, against what the database
	// says it delivered there.
	var latencies []time.Duration
	var delivered, chatRepeats int
	for _, c := range f.linked {
		seen := 0
		var got []platformsim.Line
		for _, l := range f.sim.Chat(c.chat).Lines {
			if l.FromPage && l.MessagingType != "RESPONSE" { // replies are RESPONSE; alerts UPDATE or MESSAGE_TAG
				got = append(got, l)
			}
		}
		// Two alerts may read the same (two equal payments): compare counts
		// per text.
		want, texts := 0, map[string]int{}
		for _, r := range rows {
			if r.customer == c.id && r.status == "delivered" {
				want++
				texts[r.body]++
			}
		}
		for body, n := range texts {
			in := 0
			for _, l := range got {
				if strings.Contains(l.Text, body) {
					in++
				}
			}
			// At least once, as for e-mail: an instance killed between the
			// platform's answer and the record of it sends again on the
			// retry (Hub.SendOnce). A repeat is counted, a miss fails.
			if in < n {
				t.Errorf("%s: the alert %q is in the chat %d times, delivered %d times", c.chat, body, in, n)
			}
			chatRepeats += max(in-n, 0)
			seen += in
		}
		delivered += want
		if len(got) != seen {
			t.Errorf("%s: %d alert messages in the chat, %d of them for delivered alerts in the database", c.chat, len(got), seen)
		}
		for _, tr := range f.transfers {
			if tr.customer != c {
				continue
			}
			money := tr.amount.Display("USD")
			for _, l := range got {
				if strings.Contains(l.Text, money) {
					latencies = append(latencies, l.At.Sub(tr.at))
				}
			}
		}
	}
	if len(f.transfers) < 10 || len(latencies) < len(f.transfers)/2 {
		t.Errorf("%d large transfers booked, %d of their alerts timed: the load did not run", len(f.transfers), len(latencies))
	}
	slices.Sort(latencies)
	if len(latencies) > 0 {
		t.Logf("alerts: %d raised during the load (%d large debits booked), each delivered to its chat and by e-mail, across the kill -9 and the NATS outage "+
			"(%d chat messages in all; %d chat messages and %d e-mails repeated); receipt to chat through NATS, %d instances: p50 %s, p99 %s, max %s (n=%d)",
			loadAlerts, len(f.transfers), delivered, chatRepeats, repeats, fleetSize, pct(latencies, 50), pct(latencies, 99), latencies[len(latencies)-1].Round(time.Millisecond), len(latencies))
	}
}

func pct(d []time.Duration, p int) time.Duration {
	return d[min(len(d)-1, len(d)*p/100)].Round(time.Millisecond)
}

// saveChats writes every chat, as the platform shows it, for `go test -artifacts`.
func (f *fleet) saveChats() {
	var b strings.Builder
	for _, name := range f.sim.Users() {
		fmt.Fprintf(&b, "== %s\n", name)
		for _, l := range f.sim.Chat(name).Lines {
			who := "user"
			if l.FromPage {
				who = "page " + l.MessagingType
			}
			fmt.Fprintf(&b, "%s %s: %s %v\n", l.At.Format("15:04:05.000"), who, l.Text, l.QuickReplies)
		}
	}
	os.WriteFile(filepath.Join(f.t.ArtifactDir(), "chats.txt"), []byte(b.String()), 0o644)
}

// checkChatPayments: each chat payment moved money once, and its chat got
// one receipt.
func (f *fleet) checkChatPayments() {
	t := f.t
	paid := 0
	for _, c := range f.linked {
		if c.payee == "" {
			continue
		}
		var n int
		if err := f.pool.QueryRow(f.ctx, `SELECT count(*) FROM transfers t JOIN postings p ON p.transfer_id = t.id
			JOIN accounts a ON a.id = p.account_id WHERE t.client = 'chat:messenger' AND a.customer_id = $1 AND p.amount = $2`, c.id, -int64(chatPayment)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		receipts := 0
		var said []string // what the chat said from the payment on, for the failure
		for _, l := range f.sim.Chat(c.chat).Lines {
			if strings.HasPrefix(l.Text, "pay ") || len(said) > 0 && len(said) < 6 {
				said = append(said, fmt.Sprintf("%s %v: %s", l.At.Format("15:04:05.000"), l.FromPage, l.Text))
			}
			if l.FromPage && strings.HasPrefix(l.Text, "Paid "+chatPayment.Display("USD")) {
				receipts++
			}
		}
		if n != 1 || receipts != 1 {
			t.Errorf("%s paid %s %s from the chat: %d transfers, %d receipts, want one of each; the chat:\n%s",
				c.chat, c.payee, chatPayment.Display("USD"), n, receipts, strings.Join(said, "\n"))
		}
		paid++
	}
	if paid < 2 {
		t.Errorf("only %d of the chat users have a payee to pay: the check proves little", paid)
	}
	t.Logf("chat payments: %d tried", paid)
}

// maskRe finds the last four digits of an account as chats and pages show them.
var maskRe = regexp.MustCompile(`(?:••+|ending )(\d{4})`)

// webMaskRe finds them on the web app's pages (web/templates/layout.html).
var webMaskRe = regexp.MustCompile(`••••</span>(\d{4})`)

// checkChatsApart: every account a chat shows belongs to the customer who
// linked it, and each chat showed some (else the check proves nothing).
func (f *fleet) checkChatsApart() {
	t := f.t
	for _, c := range f.linked {
		own := map[string]bool{}
		for _, a := range c.accounts {
			own[a.number[len(a.number)-4:]] = true
		}
		// Also the customer's other accounts and cards.
		rows, err := f.pool.Query(f.ctx, `SELECT number FROM accounts WHERE customer_id = $1 UNION SELECT last4 FROM cards WHERE customer_id = $1`, c.id)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var n string
			rows.Scan(&n)
			own[n[len(n)-4:]] = true
		}
		rows.Close()
		seen := 0
		for _, l := range f.sim.Chat(c.chat).Lines {
			if !l.FromPage {
				continue
			}
			for _, m := range maskRe.FindAllStringSubmatch(l.Text, -1) {
				seen++
				if !own[m[1]] {
					t.Errorf("%s (customer %d) was shown account ••••%s, not theirs: %q", c.chat, c.id, m[1], l.Text)
				}
			}
		}
		if seen == 0 {
			t.Errorf("%s was shown no account at all: %+v", c.chat, f.sim.Chat(c.chat).Lines)
		}
		// The web app, whichever instance serves the session.
		for range fleetSize {
			res, page, err := c.web.get(f.ctx, "/accounts")
			if err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("%s /accounts: %v %v", c.email, status(res), err)
			}
			ms := webMaskRe.FindAllStringSubmatch(page, -1)
			if len(ms) == 0 {
				t.Errorf("%s: /accounts shows no account number", c.email)
			}
			for _, m := range ms {
				if !own[m[1]] {
					t.Errorf("%s (customer %d) was shown account ••••%s on /accounts, not theirs", c.email, c.id, m[1])
				}
			}
		}
	}
}

// checkPartnerLimit: the partner's allowed calls are its budget for the
// time it called, a burst plus the rate, within 10%, however many instances.
func (f *fleet) checkPartnerLimit(t *testing.T) {
	burst := max(10, partnerRate/10)
	span := f.window.last.Sub(f.window.first)
	want := float64(burst) + float64(partnerRate)*span.Minutes()
	got := f.calls.allowed
	t.Logf("partner limit %d/min over %s: %d allowed, budget %.0f (%.2fx), %d refused", partnerRate, span.Round(time.Millisecond), got, want, float64(got)/want, f.calls.refused)
	if f.calls.refused == 0 {
		t.Fatalf("the partner was never refused: the load did not reach its limit")
	}
	// The fleet holds one budget within 10% of the configured figure (issue
	// 15 item 5); the partner asks well over it, so it is spent.
	if float64(got) > want*1.1 || float64(got) < want*0.9 {
		t.Errorf("the partner made %d calls against a budget of %.0f in %s", got, want, span.Round(time.Millisecond))
	}
}

// checkSecondDeployment starts another bank on its own database and the
// same NATS, then books large debits in both: each bank alerts on its own
// transfers and on none of the other's.
func (f *fleet) checkSecondDeployment(t *testing.T) {
	db := testdb.PostgresURL(f.t)
	other := newProcess(f.t, "second deployment", f.bin, f.env, filepath.Join(f.t.TempDir(), "data"),
		"--database", db, "--events", f.nats.URL(), "--demo-customers", fmt.Sprint(fleetCustomers))
	other.start(t)
	defer other.stop(t)
	pool, err := pgxpool.New(f.ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	// Only this phase's transfers count: the demo's history (its alerts
	// arrive through NATS after the start) and the load may hold the
	// same amounts.
	since := func(p *pgxpool.Pool) int64 {
		var id int64
		if err := p.QueryRow(f.ctx, `SELECT coalesce(max(id), 0) FROM transfers`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	otherFrom, fleetFrom := since(pool), since(f.pool)

	// Its own large debit: the demo customer there, from checking to savings.
	var from, to int64
	if err := pool.QueryRow(f.ctx, `SELECT (SELECT a.id FROM accounts a JOIN customers c ON c.id = a.customer_id WHERE c.email = $1 AND a.kind = 'checking' ORDER BY a.id LIMIT 1),
		(SELECT a.id FROM accounts a JOIN customers c ON c.id = a.customer_id WHERE c.email = $1 AND a.kind = 'savings' ORDER BY a.id LIMIT 1)`, demo.CustomerEmail).Scan(&from, &to); err != nil {
		t.Fatal(err)
	}
	ownAmount := ledger.Amount(60003)
	br := newBrowser("http://" + other.addr)
	if err := br.login(f.ctx, "/login", demo.CustomerEmail, demo.CustomerPassword, "/accounts"); err != nil {
		t.Fatal(err)
	}
	if err := br.transfer(f.ctx, from, to, ownAmount); err != nil {
		t.Fatal(err)
	}
	// The fleet's large debits, one per linked customer.
	var fleetAmounts []int64
	for i, c := range f.linked {
		from, to := c.accounts[0], c.accounts[1]
		if to.balance > from.balance {
			from, to = to, from
		}
		amt := ledger.Amount(70001 + int64(i)*11)
		if err := c.web.transfer(f.ctx, from.id, to.id, amt); err != nil {
			t.Fatal(err)
		}
		fleetAmounts = append(fleetAmounts, int64(amt))
	}

	count := func(p *pgxpool.Pool, amounts []int64) int {
		from := fleetFrom
		if p == pool {
			from = otherFrom
		}
		var n int
		if err := p.QueryRow(f.ctx, `SELECT count(*) FROM alerts WHERE rule = 'large_debit' AND amount = ANY($1) AND transfer_id > $2`, amounts, from).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var problems []string
	// The alerts come through NATS just back from its outage: the loop ends
	// as soon as both counts are right, and the deadline only bounds a
	// reconnection slowed by a loaded machine (8 s was passed at load 20-40).
	deadline := time.Now().Add(30 * time.Second)
	for {
		problems = problems[:0]
		if n := count(pool, []int64{int64(ownAmount)}); n != 1 {
			problems = append(problems, fmt.Sprintf("the second deployment has %d alerts for its own large debit, want 1", n))
		}
		if n := count(f.pool, fleetAmounts); n != len(fleetAmounts) {
			problems = append(problems, fmt.Sprintf("the fleet has %d alerts for its %d large debits", n, len(fleetAmounts)))
		}
		if len(problems) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Nothing crossed over, after a moment for a stray event to land.
	time.Sleep(time.Second)
	if n := count(pool, fleetAmounts); n > 0 {
		problems = append(problems, fmt.Sprintf("the second deployment made %d alerts for the fleet's transfers", n))
	}
	if n := count(f.pool, []int64{int64(ownAmount)}); n > 0 {
		problems = append(problems, fmt.Sprintf("the fleet made %d alerts for the second deployment's transfer", n))
	}
	if len(problems) > 0 {
		t.Error(strings.Join(problems, "; "))
	}
}

// stopAll stops every instance with SIGTERM, as a rolling shutdown would.
func (f *fleet) stopAll() {
	var wg sync.WaitGroup
	for _, p := range f.inst {
		wg.Go(func() { p.stop(f.t) })
	}
	wg.Wait()
}

// verifyAll runs `ledger verify` and `audit verify` from every instance's
// data folder.
func (f *fleet) verifyAll() {
	t := f.t
	for _, p := range f.inst {
		for _, args := range [][]string{{"ledger", "verify"}, {"audit", "verify"}} {
			cmd := exec.CommandContext(f.ctx, f.bin, append(args, "--database", f.db, "--data", p.data)...)
			cmd.Env = f.env
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), args[0]+" OK") {
				t.Errorf("%s from %s's data folder: %v\n%s", strings.Join(args, " "), p.name, err, out)
			}
		}
	}
}

// messageIDRe reads the Message-ID alerts.Mailer gives an e-mail: the
// delivery's id.
var messageIDRe = regexp.MustCompile(`(?im)^Message-ID: <([^@>]+)@`)

// mailed counts the e-mails the sink received by Message-ID.
func (f *fleet) mailed() map[string]int {
	ids := map[string]int{}
	for _, m := range f.mail.Mail() {
		if id := messageIDRe.FindStringSubmatch(m); id != nil {
			ids[id[1]]++
		} else {
			f.t.Errorf("an e-mail without a Message-ID:\n%s", m)
		}
	}
	return ids
}
