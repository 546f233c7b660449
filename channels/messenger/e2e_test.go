package messenger_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/channels/messenger"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/oauth"
	"github.com/bankbridge/bankbridge/platformsim"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/bankbridge/bankbridge/web"
)

const (
	email    = "ada@example.com"
	password = "correct horse battery"
	secret   = "app-secret-for-tests"
)

// world is the bank and the platform, each on its own loopback server.
type world struct {
	t        testing.TB
	bank     *httptest.Server
	simSrv   *httptest.Server
	sim      *platformsim.Sim
	db       *sqlite.DB
	led      *ledger.Service
	cons     *consent.Service
	alog     *audit.Log
	ids      *identity.Service
	customer identity.Customer
	checking ledger.Account
	sam      ledger.Account
	hub      *channels.Hub
}

func newWorld(t testing.TB) *world { t.Helper(); return newWorldWith(t, false, false) }

// newWorldWith is newWorld, with the hub's durable inbox when inbox is
// set (as serve has it: the webhook answers once the event is stored, and
// a worker, which the test starts, answers it), and the sim's live-chat
// app as the page's secondary receiver when liveChat is.
func newWorldWith(t testing.TB, inbox, liveChat bool) *world {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, testdb.SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w := &world{t: t, db: db}
	log := slog.New(slog.DiscardHandler)
	w.led = ledger.New(db.Ledger(), ledger.Options{})
	t.Cleanup(w.led.Close)
	ids := identity.New(db.Identity(), identity.Options{})
	w.ids = ids
	w.alog = audit.New(db.Audit(), audit.Options{})
	t.Cleanup(w.alog.Close)
	hook := &consent.LateHook{}
	w.cons = consent.New(db.Consent(), consent.Options{Accounts: db.Ledger(), Hooks: []consent.Hook{hook}})

	var bankH, simH http.Handler
	w.bank = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { bankH.ServeHTTP(rw, r) }))
	t.Cleanup(w.bank.Close)
	w.simSrv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { simH.ServeHTTP(rw, r) }))
	t.Cleanup(w.simSrv.Close)

	w.sim = platformsim.New(platformsim.Options{Prefix: "/sim", BaseURL: w.simSrv.URL + "/sim", WebhookURL: w.bank.URL + messenger.PathWebhook,
		AppSecret: secret, VerifyToken: "verify-me", PageToken: "page-token", AllowLoopbackHTTP: true})
	simH = w.sim.Handler()

	as, err := oauth.New(ctx, oauth.Deps{Consent: w.cons, Issuer: w.bank.URL, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	a := assistant.New(assistant.Deps{Store: db.Messenger(), Ledger: w.led, Consents: w.cons, BankURL: w.bank.URL, Limits: limits.NewGuard(db.Limits(), limits.Policy{}, nil)})
	deps := channels.HubDeps{Assistant: a, Store: db.Messenger(), Audit: w.alog, Consents: w.cons, Logger: log, Links: db.Messenger()}
	if inbox {
		deps.Inbox = db.Messenger()
	}
	hub := channels.NewHub(deps)
	w.hub = hub
	hook.Set(hub)
	key, err := channels.LoadOrCreateKey(t.TempDir() + "/messenger-partner.pem")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := channels.RegisterPartner(ctx, w.cons, channels.Registration{ID: "messenger", LegalName: "Messenger Platform Inc",
		LEI: "5493001KJTIIGC8Y1R12", Homepage: "https://messenger.example", SecurityContact: "security@messenger.example",
		RedirectURI: w.bank.URL + messenger.PathLinkCallback, Key: &key.PublicKey, Signatory: "Platform counsel",
		Purposes: map[consent.Cluster]string{consent.AccountBasic: "name your accounts in the chat", consent.Balances: "answer balance questions in the chat",
			consent.Transactions: "answer questions about your spending in the chat", consent.Transfers: "pay people you saved, after you confirm"}}); err != nil {
		t.Fatal(err)
	}
	client := &channels.Client{ID: "messenger", Issuer: w.bank.URL, RedirectURI: w.bank.URL + messenger.PathLinkCallback, Key: key,
		Clusters: []consent.Cluster{consent.AccountBasic, consent.Balances, consent.Transactions, consent.Transfers}, DurationDays: 90}
	cfg := messenger.Config{AppSecret: secret, VerifyToken: "verify-me", PageToken: "page-token",
		GraphURL: w.sim.GraphURL(), BankURL: w.bank.URL, LinkRedirect: w.sim.RedirectURI(), AppID: w.sim.AppID(),
		PageID: w.sim.PageID(), Backoff: 1, Logger: log}
	if liveChat {
		cfg.LiveChatAppID = w.sim.LiveChatAppID()
	}
	ad, err := messenger.New(cfg, hub)
	if err != nil {
		t.Fatal(err)
	}
	hub.Add(ad, client)

	mux := http.NewServeMux()
	mux.Handle("/oauth/", as.Handler())
	mux.Handle("/.well-known/", as.Handler())
	mux.Handle("/channels/messenger/", ad.Handler())
	mux.Handle("/", web.New(web.Deps{Auth: ids, Ledger: w.led, Logger: log, ConsentFlow: as, Consents: w.cons, Audit: w.alog, Inbox: hub}))
	bankH = mux

	w.customer, err = ids.RegisterCustomer(ctx, identity.Customer{Name: "Ada Lovelace", Email: email, BirthYear: 1985}, password)
	if err != nil {
		t.Fatal(err)
	}
	samC, err := ids.RegisterCustomer(ctx, identity.Customer{Name: "Sam Smith", Email: "sam@example.com", BirthYear: 1990}, password)
	if err != nil {
		t.Fatal(err)
	}
	settle, err := db.Ledger().CreateAccount(ctx, ledger.Account{Kind: ledger.Internal, Name: "Settlement", Currency: "USD", Number: "9000000001", Unbounded: true})
	if err != nil {
		t.Fatal(err)
	}
	w.checking, err = db.Ledger().CreateAccount(ctx, ledger.Account{Customer: w.customer.ID, Kind: ledger.Checking, Name: "Everyday checking", Currency: "USD", Number: "1000004821", Routing: "011000015"})
	if err != nil {
		t.Fatal(err)
	}
	w.sam, err = db.Ledger().CreateAccount(ctx, ledger.Account{Customer: samC.ID, Kind: ledger.Checking, Name: "Sam's checking", Currency: "USD", Number: "1000007777", Routing: "011000015"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.led.Transfer(ctx, ledger.Move("seed", "s1", settle.ID, w.checking.ID, 123450, "USD", "Salary")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Ledger().CreatePayee(ctx, ledger.Payee{Customer: w.customer.ID, Name: "Sam Smith", Nickname: "Sam", Account: w.sam.ID}); err != nil {
		t.Fatal(err)
	}
	if err := w.sim.Subscribe(ctx); err != nil {
		t.Fatalf("webhook verification: %v", err)
	}
	return w
}

// say makes name write text and returns what the page answered to it.
func (w *world) say(name, text string) []platformsim.Line {
	w.t.Helper()
	before := len(w.sim.Chat(name).Lines)
	if err := w.sim.Say(context.Background(), name, text); err != nil {
		w.t.Fatalf("say %q: %v", text, err)
	}
	return pageLines(w.sim.Chat(name).Lines[before+1:])
}

func pageLines(ls []platformsim.Line) []platformsim.Line {
	var out []platformsim.Line
	for _, l := range ls {
		if l.FromPage {
			out = append(out, l)
		}
	}
	return out
}

func joined(ls []platformsim.Line) string {
	var s []string
	for _, l := range ls {
		s = append(s, l.Text)
	}
	return strings.Join(s, "\n")
}

var (
	csrfRe    = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	nextRe    = regexp.MustCompile(`name="next" value="([^"]+)"`)
	requestRe = regexp.MustCompile(`name="request" value="([^"]+)"`)
)

func field(t testing.TB, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in page:\n%s", re, body)
	}
	return html.UnescapeString(m[1])
}

func read(t testing.TB, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// link taps the account-link button in name's chat and goes through the
// bank's login and consent screen in a browser (a cookie jar), approving
// the checking account.
func (w *world) link(name string) {
	w.t.Helper()
	var linkURL string
	for _, l := range w.say(name, "link my account") {
		for _, b := range l.Buttons {
			if b.Type == "account_link" {
				linkURL = b.URL
			}
		}
	}
	if linkURL != w.bank.URL+messenger.PathLink {
		w.t.Fatalf("account_link button url %q", linkURL)
	}
	jar, _ := cookiejar.New(nil)
	br := &http.Client{Jar: jar}
	res, err := br.Get(w.sim.LinkURL(name, linkURL))
	if err != nil {
		w.t.Fatal(err)
	}
	login := read(w.t, res)
	if res.Request.URL.Path != "/login" {
		w.t.Fatalf("the link button led to %s, want the bank's login\n%s", res.Request.URL, login)
	}
	res, err = br.PostForm(w.bank.URL+"/login", url.Values{"csrf": {field(w.t, csrfRe, login)}, "email": {email},
		"password": {password}, "next": {field(w.t, nextRe, login)}})
	if err != nil {
		w.t.Fatal(err)
	}
	page := read(w.t, res)
	if res.Request.URL.Path != "/consent" || !strings.Contains(page, "Messenger Platform Inc") {
		w.t.Fatalf("after login: %d at %s\n%s", res.StatusCode, res.Request.URL, page)
	}
	res, err = br.PostForm(w.bank.URL+"/consent", url.Values{"csrf": {field(w.t, csrfRe, page)}, "request": {field(w.t, requestRe, page)},
		"decision": {"approve"}, "account": {fmt.Sprint(w.checking.ID)}, "days": {"30"}})
	if err != nil {
		w.t.Fatal(err)
	}
	chat := read(w.t, res)
	if !strings.HasPrefix(res.Request.URL.String(), w.simSrv.URL+"/sim/chat/") {
		w.t.Fatalf("after consent the browser is at %s, want back in the chat\n%s", res.Request.URL, chat)
	}
	if c := w.sim.Chat(name); !c.Linked || !strings.Contains(joined(pageLines(c.Lines)), "Your bank account is linked") {
		w.t.Fatalf("not linked: %+v", c.Lines)
	}
}

func (w *world) balance(id ledger.AccountID) ledger.Amount {
	w.t.Helper()
	a, err := w.db.Ledger().Account(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return a.Balance
}

func (w *world) disclosures() []audit.Record {
	w.t.Helper()
	p, err := w.alog.Records(context.Background(), audit.Query{Customer: w.customer.ID, Kind: audit.PlatformMessage, Limit: 1000})
	if err != nil {
		w.t.Fatal(err)
	}
	return p.Records
}

// TestEndToEnd is the whole flow over loopback HTTP: hello, link through
// the bank's login and consent, a minimal balance by default, amounts once
// privacy is full (each audited before it was sent), a confirmed payment
// booked once though the webhook is redelivered, and an unlink after which
// nothing is disclosed.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()

	hi := w.say("alex", "hi")
	if len(hi) != 1 || !strings.Contains(hi[0].Text, assistant.Automated) || hi[0].MessagingType != "RESPONSE" {
		t.Fatalf("hello answered %+v", hi)
	}
	if len(hi[0].Buttons) != 1 || hi[0].Buttons[0].Type != "account_link" {
		t.Fatalf("hello has no account-link button: %+v", hi[0])
	}
	if out := joined(w.say("alex", "balance")); !strings.Contains(out, "link") || strings.Contains(out, "USD") {
		t.Fatalf("unlinked balance answered %q", out)
	}

	w.link("alex")

	minimal := w.say("alex", "balance")
	if out := joined(minimal); !strings.Contains(out, "ready") || strings.Contains(out, "1,234.50") || strings.Contains(out, "4821") {
		t.Fatalf("default (minimal) balance answered %q", out)
	}
	if b := minimal[0].Buttons; len(b) != 1 || b[0].Type != "web_url" || b[0].URL != w.bank.URL+"/accounts" {
		t.Errorf("minimal balance button %+v, want a link to the bank's page", b)
	}
	if n := len(w.disclosures()); n != 0 {
		t.Errorf("%d disclosures before privacy full; minimal replies carry no data", n)
	}

	w.say("alex", "privacy full")
	full := joined(w.say("alex", "balance"))
	if !strings.Contains(full, "Everyday checking ••4821: 1,234.50 USD") {
		t.Fatalf("full balance answered %q", full)
	}
	recs := w.disclosures()
	if len(recs) != 1 || recs[0].Partner != "messenger" || recs[0].Detail != "messenger: balance" || recs[0].Outcome != audit.OK ||
		len(recs[0].Accounts) != 1 || recs[0].Accounts[0] != w.checking.ID || recs[0].Consent == "" {
		t.Fatalf("disclosure records %+v", recs)
	}

	// Pay: a confirmation, then exactly one transfer, however often the
	// confirmation is delivered.
	samBefore := w.balance(w.sam.ID)
	ask := w.say("alex", "pay Sam 20")
	if len(ask) != 1 || !strings.Contains(ask[0].Text, "Pay Sam 20.00 USD") || len(ask[0].QuickReplies) != 2 {
		t.Fatalf("pay answered %+v", ask)
	}
	if w.balance(w.sam.ID) != samBefore {
		t.Fatal("money moved before the confirmation")
	}
	confirm := ask[0].QuickReplies[0]
	if err := w.sim.Tap(ctx, "alex", confirm.Title, confirm.Payload); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := w.sim.Redeliver(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := w.balance(w.sam.ID) - samBefore; got != 2000 {
		t.Fatalf("Sam received %d, want 2000 exactly once", got)
	}
	if receipts := strings.Count(joined(pageLines(w.sim.Chat("alex").Lines)), "Paid 20.00 USD to Sam"); receipts != 1 {
		t.Errorf("%d receipts in the chat, want 1", receipts)
	}

	// Forged, replayed-with-another-body and unsigned webhooks are refused
	// before parsing and change nothing.
	body := []byte(`{"object":"page","entry":[{"id":"1","time":1,"messaging":[{"sender":{"id":"x"},"recipient":{"id":"1"},"timestamp":1,"message":{"mid":"m_forged","text":"pay sam 20"}}]}]}`)
	for name, sig := range map[string]string{
		"missing":    "",
		"wrong key":  platformsim.Signature("not-the-secret", body),
		"truncated":  platformsim.Signature(secret, body[:len(body)-2]),
		"not hex":    "sha256=zz",
		"other algo": strings.Replace(platformsim.Signature(secret, body), "sha256=", "sha1=", 1),
	} {
		status, err := w.sim.PostRaw(ctx, body, sig)
		if err != nil || status != http.StatusUnauthorized {
			t.Errorf("%s signature: %d %v, want 401", name, status, err)
		}
	}
	if status, _ := w.sim.PostRaw(ctx, body, platformsim.Signature(secret, body)); status != http.StatusOK {
		t.Errorf("a well-signed webhook for an unknown user answered %d", status)
	}

	// The Send API failing twice is retried.
	w.sim.FailNext(2, 2)
	if out := joined(w.say("alex", "help")); !strings.Contains(out, "I can show") {
		t.Errorf("after two transient Send API failures the reply was %q", out)
	}

	// Unlink on the platform: consent revoked, no more data.
	if err := w.sim.Unlink(ctx, "alex"); err != nil {
		t.Fatal(err)
	}
	gs, _ := w.cons.CustomerGrants(ctx, w.customer.ID)
	if len(gs) != 1 || gs[0].Status != consent.Revoked {
		t.Fatalf("consents after the platform unlink: %+v", gs)
	}
	if out := joined(w.say("alex", "balance")); strings.Contains(out, "USD") || !strings.Contains(out, "link") {
		t.Fatalf("after unlink balance answered %q", out)
	}
	n := len(w.disclosures())
	w.say("alex", "recent transactions")
	if len(w.disclosures()) != n {
		t.Error("a disclosure was recorded after the unlink")
	}
}

// TestRevokedOnConnectedAppsUnlinks revokes the consent from the bank's
// side: the link goes at once (consent hook) and the platform is told.
func TestRevokedOnConnectedAppsUnlinks(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.link("bo")
	w.say("bo", "privacy full")
	gs, _ := w.cons.CustomerGrants(ctx, w.customer.ID)
	if _, err := w.cons.RevokeForCustomer(ctx, w.customer.ID, gs[0].ID); err != nil {
		t.Fatal(err)
	}
	c := w.sim.Chat("bo")
	if c.Linked || !strings.Contains(c.Lines[len(c.Lines)-1].Text, "The bank unlinked your account") {
		t.Fatalf("the platform was not told: linked=%v %+v", c.Linked, c.Lines[len(c.Lines)-1])
	}
	if out := joined(w.say("bo", "balance")); strings.Contains(out, "USD") {
		t.Fatalf("after revoke balance answered %q", out)
	}
	// Unlink from the chat, after linking again.
	w.link("bo")
	if out := joined(w.say("bo", "unlink")); !strings.Contains(out, "Unlinked") {
		t.Fatalf("unlink answered %q", out)
	}
	if c := w.sim.Chat("bo"); c.Linked {
		t.Error("the platform still shows the account linked after unlinking in the chat")
	}
}

// TestStaffInbox hands a conversation to a person, who answers from the
// console and hands it back; the assistant then says it is automated.
func TestStaffInbox(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.ids.AddStaff(ctx, identity.Staff{Email: "jo@bank.example", Name: "Jo", Role: identity.Support}, password); err != nil {
		t.Fatal(err)
	}
	w.link("cy")
	if out := joined(w.say("cy", "talk to a person")); !strings.Contains(out, "person at the bank") {
		t.Fatalf("hand-over answered %q", out)
	}
	if got := w.say("cy", "my card was charged twice"); len(got) != 0 {
		t.Fatalf("the assistant answered during the hand-over: %+v", got)
	}
	jar, _ := cookiejar.New(nil)
	br := &http.Client{Jar: jar}
	res, err := br.Get(w.bank.URL + "/console/login")
	if err != nil {
		t.Fatal(err)
	}
	login := read(t, res)
	res, err = br.PostForm(w.bank.URL+"/console/login", url.Values{"csrf": {field(t, csrfRe, login)}, "email": {"jo@bank.example"},
		"password": {password}, "next": {"/console/inbox"}})
	if err != nil {
		t.Fatal(err)
	}
	inbox := read(t, res)
	psid := w.sim.Chat("cy").PSID
	chatPath := "/console/inbox/messenger/" + psid
	if !strings.Contains(inbox, chatPath) {
		t.Fatalf("inbox lacks the conversation:\n%s", inbox)
	}
	res, err = br.Get(w.bank.URL + chatPath)
	if err != nil {
		t.Fatal(err)
	}
	chat := read(t, res)
	if !strings.Contains(chat, "my card was charged twice") || !strings.Contains(chat, "Ada Lovelace") {
		t.Fatalf("chat page lacks the transcript or the customer:\n%s", chat)
	}
	csrf := field(t, csrfRe, chat)
	// A reply that would read as something else is refused, not sent.
	sentBefore := len(w.sim.Chat("cy").Lines)
	res, err = br.PostForm(w.bank.URL+chatPath+"/reply", url.Values{"csrf": {csrf}, "text": {"Refund of \u202E00.001\u202C approved"}})
	if err != nil {
		t.Fatal(err)
	}
	if body := read(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "direction-changing") {
		t.Fatalf("reply with a right-to-left override: %d\n%s", res.StatusCode, body)
	}
	if n := len(w.sim.Chat("cy").Lines); n != sentBefore {
		t.Fatalf("the refused reply reached the platform (%d lines, were %d)", n, sentBefore)
	}
	res, err = br.PostForm(w.bank.URL+chatPath+"/reply", url.Values{"csrf": {csrf}, "text": {"Hello, this is Jo. I'll look into it."}})
	if err != nil {
		t.Fatal(err)
	}
	if body := read(t, res); res.StatusCode != http.StatusOK || !strings.Contains(body, "Hello, this is Jo") {
		t.Fatalf("reply: %d\n%s", res.StatusCode, body)
	}
	lines := pageLines(w.sim.Chat("cy").Lines)
	if last := lines[len(lines)-1]; last.Text != "Hello, this is Jo. I'll look into it." || last.MessagingType != "RESPONSE" {
		t.Fatalf("the platform got %+v", last)
	}
	res, err = br.PostForm(w.bank.URL+chatPath+"/handback", url.Values{"csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	read(t, res)
	lines = pageLines(w.sim.Chat("cy").Lines)
	if last := lines[len(lines)-1]; !strings.Contains(last.Text, "automated assistant") {
		t.Fatalf("hand-back notice %+v", last)
	}
	if out := joined(w.say("cy", "help")); !strings.Contains(out, "I can show") {
		t.Fatalf("after hand-back the assistant answered %q", out)
	}
	// Staff cannot post into a conversation the assistant has.
	res, _ = br.PostForm(w.bank.URL+chatPath+"/reply", url.Values{"csrf": {csrf}, "text": {"hi"}})
	if read(t, res); res.StatusCode != http.StatusConflict {
		t.Errorf("reply to a bot conversation: %d, want 409", res.StatusCode)
	}
}

// BenchmarkWebhookToReply measures one message from the platform's webhook
// to the bank's reply accepted by the platform's Send API, over loopback
// HTTP on SQLite: signature check, dedupe, assistant (a full balance
// answer), durable audit record, Send API call. It reports p50 and p99.
func BenchmarkWebhookToReply(b *testing.B) {
	w := newWorld(b)
	w.link("bench")
	w.say("bench", "privacy full")
	ctx := context.Background()
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := w.sim.Say(ctx, "bench", "balance"); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
