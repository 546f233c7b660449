package web_test

import (
	"cmp"
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/railsim"
	"github.com/bankbridge/bankbridge/scheduled"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/bankbridge/bankbridge/web"
)

// password is every test user's password.
const password = "correct horse battery"

// clock is a settable clock shared by identity, ledger and web.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// bank is a web app over real SQLite stores, a real ledger and a real
// identity service, with a funding account.
type bank struct {
	t       testing.TB
	handler http.Handler
	db      *sqlite.DB
	ledger  *ledger.Service
	ids     *identity.Service
	clock   *clock
	funding ledger.AccountID
	limits  *limits.Guard
	rails   *rails.Service      // payees at other banks and ACH (payees_test.go)
	railsTr *railsim.Client     // the emulator the rails reach, its files and instant service
	sim     *railsim.Sim        // that emulator
	langs   assistant.Languages // the customers' languages, shared with the chat
	sched   *scheduled.Service  // scheduled payments (scheduled_test.go)
	nextNum int
}

type bankOptions struct {
	secure bool
	now    bool // use the real clock (the browser test)
	// ledger, when set, wraps the ledger store the app writes through, so
	// a test can make the ledger fail.
	ledger func(ledger.Store) ledger.Store
	log    *slog.Logger // default: discard
	// postgres runs the bank on a fresh PostgreSQL schema instead of
	// SQLite; b.db is then nil.
	postgres bool
	// limits is the payment limits' policy; zero for the defaults.
	limits limits.Policy
	// loc is the bank's time zone; nil for UTC.
	loc *time.Location
	// simClock runs the rails emulator on the bank's clock (else the
	// real one), for tests that move time across return windows.
	simClock bool
}

func newBank(t testing.TB, o bankOptions) *bank {
	t.Helper()
	ctx := context.Background()
	var db *sqlite.DB
	var lst ledger.Store
	var idst identity.Store
	var limst limits.Store
	var railst rails.Store
	var langs assistant.Languages
	var schedst scheduled.Store
	if o.postgres {
		pdb, err := postgres.Open(ctx, testdb.PostgresURL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pdb.Close() })
		lst, idst, limst, railst, schedst = pdb.Ledger(), pdb.Identity(), pdb.Limits(), pdb.Rails(), pdb.Scheduled()
		langs = pdb.Messenger()
	} else {
		var err error
		if db, err = sqlite.Open(ctx, testdb.SQLitePath(t)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		lst, idst, limst, railst, schedst = db.Ledger(), db.Identity(), db.Limits(), db.Rails(), db.Scheduled()
		langs = db.Messenger()
	}
	base := lst
	clk := &clock{t: time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)}
	now := clk.Now
	if o.now {
		now = time.Now
	}
	if o.ledger != nil {
		lst = o.ledger(lst)
	}
	led := ledger.New(lst, ledger.Options{Now: now})
	t.Cleanup(led.Close)
	ids := identity.New(idst, identity.Options{Now: now, Issuer: "Test Bank"})
	b := &bank{t: t, db: db, ledger: led, ids: ids, clock: clk, limits: limits.NewGuard(limst, o.limits, now), langs: langs}
	fund, err := base.CreateAccount(ctx, ledger.Account{Kind: ledger.Internal, Name: "Settlement", Currency: "USD",
		Number: "9000000001", Routing: "011000015", Unbounded: true})
	if err != nil {
		t.Fatal(err)
	}
	b.funding = fund.ID
	simOpts := railsim.Options{}
	if o.simClock {
		simOpts.Now = now
	}
	b.sim = railsim.New(simOpts)
	simSrv := httptest.NewServer(b.sim.Handler())
	t.Cleanup(simSrv.Close)
	b.railsTr = &railsim.Client{Base: simSrv.URL, Routing: "021000089"}
	b.rails = rails.New(railst, led, rails.Options{Origin: rails.Origin{Routing: "021000089"}, Screener: rails.MustSample(), Now: now, Instant: b.railsTr})
	b.sched = scheduled.New(schedst, led, scheduled.Options{Payer: b.rails, Limits: b.limits, Now: now, Location: o.loc})
	b.handler = web.New(web.Deps{Auth: ids, Ledger: led, Logger: cmp.Or(o.log, slog.New(slog.DiscardHandler)), Secure: o.secure,
		Now: now, BankName: "Test Bank", Limits: b.limits, Rails: b.rails, Languages: langs, TimeZones: langs.(assistant.TimeZones), Scheduled: b.sched, Location: o.loc})
	return b
}

// customer registers a customer.
func (b *bank) customer(name, email string) identity.Customer {
	b.t.Helper()
	c, err := b.ids.RegisterCustomer(context.Background(), identity.Customer{Name: name, Email: email, BirthYear: 1985}, password)
	if err != nil {
		b.t.Fatal(err)
	}
	return c
}

// staff adds a member of staff with a role.
func (b *bank) staff(email string, role identity.Role) identity.Staff {
	b.t.Helper()
	st, err := b.ids.AddStaff(context.Background(), identity.Staff{Name: "Staff " + string(role), Email: email, Role: role}, password)
	if err != nil {
		b.t.Fatal(err)
	}
	return st
}

// account opens an account for c and funds it with amt (minor units) from
// the settlement account.
func (b *bank) account(c bankbridge.CustomerID, name string, kind ledger.AccountKind, amt ledger.Amount) ledger.Account {
	b.t.Helper()
	b.nextNum++
	a, err := b.ledger.Store().CreateAccount(context.Background(), ledger.Account{Customer: c, Kind: kind, Name: name,
		Currency: "USD", Number: ledger.AccountNumber(fmt.Sprintf("10000000%02d", b.nextNum)), Routing: "011000015"})
	if err != nil {
		b.t.Fatal(err)
	}
	if amt > 0 {
		b.move(b.funding, a.ID, amt, "Opening deposit")
	}
	return b.get(a.ID)
}

// move books a transfer directly in the ledger.
func (b *bank) move(from, to ledger.AccountID, amt ledger.Amount, desc string) ledger.Transfer {
	b.t.Helper()
	b.nextNum++
	tr, _, err := b.ledger.Transfer(context.Background(), ledger.Move("test", fmt.Sprintf("k%d", b.nextNum), from, to, amt, "USD", desc))
	if err != nil {
		b.t.Fatal(err)
	}
	return tr
}

// get reads an account.
func (b *bank) get(id ledger.AccountID) ledger.Account {
	b.t.Helper()
	a, err := b.ledger.Store().Account(context.Background(), id)
	if err != nil {
		b.t.Fatal(err)
	}
	return a
}

// history returns the descriptions on an account, newest first.
func (b *bank) history(id ledger.AccountID) []string {
	b.t.Helper()
	p, err := b.ledger.Store().History(context.Background(), ledger.HistoryQuery{Account: id, Limit: 500})
	if err != nil {
		b.t.Fatal(err)
	}
	var ds []string
	for _, e := range p.Entries {
		ds = append(ds, e.Transfer.Description)
	}
	return ds
}

// browser is a minimal user agent over the handler: a cookie jar and
// same-origin fetch metadata on every request, as a real browser sends.
type browser struct {
	b       *bank
	cookies map[string]*http.Cookie // by name+path
	site    string                  // Sec-Fetch-Site; "same-origin" by default
	remote  string                  // the client's address; httptest's 192.0.2.1:1234 by default
	lang    string                  // the Accept-Language header; none by default
}

func (b *bank) browser() *browser {
	return &browser{b: b, cookies: map[string]*http.Cookie{}, site: "same-origin"}
}

// page is a response with its body read.
type page struct {
	status int
	header http.Header
	body   string
	loc    string
}

func (br *browser) do(method, path string, form url.Values) page {
	br.b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, "http://bank.test"+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if br.site != "" {
		req.Header.Set("Sec-Fetch-Site", br.site)
	}
	if br.remote != "" {
		req.RemoteAddr = br.remote
	}
	if br.lang != "" {
		req.Header.Set("Accept-Language", br.lang)
	}
	for _, c := range br.cookies {
		if strings.HasPrefix(req.URL.Path, c.Path) {
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	rec := httptest.NewRecorder()
	br.b.handler.ServeHTTP(rec, req)
	res := rec.Result()
	for _, c := range res.Cookies() {
		k := c.Name + c.Path
		if c.MaxAge < 0 {
			delete(br.cookies, k)
		} else {
			br.cookies[k] = c
		}
	}
	return page{status: res.StatusCode, header: res.Header, body: rec.Body.String(), loc: res.Header.Get("Location")}
}

func (br *browser) get(path string) page { br.b.t.Helper(); return br.do("GET", path, nil) }

func (br *browser) post(path string, form url.Values) page {
	br.b.t.Helper()
	return br.do("POST", path, form)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// field returns the first match of re in p's body, unescaped.
func (p page) field(t testing.TB, re *regexp.Regexp) string {
	t.Helper()
	m := re.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no %s in page (status %d):\n%s", re, p.status, p.body)
	}
	return html.UnescapeString(m[1])
}

// login logs in through the form of realm ("" customer, "/console" staff)
// and fails the test unless it worked.
func (br *browser) login(prefix, email string) {
	br.b.t.Helper()
	p := br.get(prefix + "/login")
	res := br.post(prefix+"/login", url.Values{"csrf": {p.field(br.b.t, csrfRe)}, "email": {email}, "password": {password}})
	if res.status != http.StatusSeeOther {
		br.b.t.Fatalf("login %s: status %d\n%s", email, res.status, res.body)
	}
}

// csrf reads the session's CSRF token from a signed-in page.
func (br *browser) csrf(path string) string {
	br.b.t.Helper()
	return br.get(path).field(br.b.t, csrfRe)
}

// review posts the transfer form and returns the confirmation page.
func (br *browser) review(from, to ledger.AccountID, amount string) page {
	br.b.t.Helper()
	return br.post("/transfer", url.Values{"csrf": {br.csrf("/transfer")}, "from": {fmt.Sprint(from)},
		"to": {fmt.Sprintf("a:%d", to)}, "amount": {amount}})
}

// confirmForm is the form the confirmation page carries.
func (br *browser) confirmForm(confirm page) url.Values {
	br.b.t.Helper()
	f := url.Values{}
	re := regexp.MustCompile(`<input type="hidden" name="([a-z]+)" value="([^"]*)">`)
	for _, m := range re.FindAllStringSubmatch(confirm.body, -1) {
		f.Set(m[1], html.UnescapeString(m[2]))
	}
	if f.Get("key") == "" {
		br.b.t.Fatalf("not a confirmation page (status %d):\n%s", confirm.status, confirm.body)
	}
	return f
}
