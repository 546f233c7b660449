package dataapi_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/dataapi"
	"github.com/bankbridge/bankbridge/dataapi/dataapitest"
	"github.com/bankbridge/bankbridge/dataapi/records"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/oauth"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/railsim"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/prometheus/client_golang/prometheus"
)

// clock is the real time plus an offset tests move, shared by the bank and
// its partners so that proofs and tokens agree.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.off) }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// person is a seeded customer with their accounts.
type person struct {
	id       identityID
	checking ledger.Account
	savings  ledger.Account
	card     ledger.Account
	payee    ledger.Payee // pays the other person
}

type identityID = identity.Customer

// bank is the whole API over loopback HTTP on one SQLite database: the
// authorization server, the data API, two customers (ada, bob), two
// partners, and a webhook receiver.
type bank struct {
	t        testing.TB
	langs    sync.Map // bankbridge.CustomerID -> the language the customer chose ("es")
	srv      *httptest.Server
	clock    *clock
	db       *sqlite.DB
	ledger   *ledger.Service
	consents *consent.Service
	as       *oauth.Server
	api      *dataapi.Server
	// api2 is a second instance on the same database, with its own
	// verifier and consent cache and no consent hook: another machine of
	// the fleet. Requests carrying "X-Instance: 2" go to it.
	api2     *dataapi.Server
	alog     *audit.Log
	ada, bob person
	budget   *dataapitest.Partner
	other    *dataapitest.Partner
	hooks    *receiver
	reg      *prometheus.Registry
	payments *limits.Guard
	// rails pays payees at other banks, through railsim over loopback
	// (railsTr: the worker's transport).
	rails   *rails.Service
	railsTr *railsim.Client
}

// receiver is a partner's webhook endpoint: it keeps what it got.
type receiver struct {
	mu     sync.Mutex
	got    []delivery
	status int
	srv    *httptest.Server
}

type delivery struct {
	header http.Header
	body   []byte
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.got = append(r.got, delivery{req.Header.Clone(), b})
	st := r.status
	r.mu.Unlock()
	if st == 0 {
		st = 200
	}
	w.WriteHeader(st)
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

type bankOptions struct {
	rate int // the budget partner's rate limit per minute
	opts dataapi.Options
	// ledger, when set, wraps the ledger store the API writes through, so
	// a test can make the ledger fail.
	ledger func(ledger.Store) ledger.Store
	log    *slog.Logger  // default: discard
	limits limits.Policy // the payment limits; zero for the defaults
	// postgres runs the bank on PostgreSQL (b.db is then nil: use the
	// services' stores).
	postgres bool
}

// stores are one engine's stores, as the bank uses them.
type stores struct {
	ledger  ledger.Store
	ident   identity.Store
	audit   audit.Store
	consent consent.Store
	limits  limits.Store
	dataapi records.Store
	rails   rails.Store
}

func (s stores) Ledger() ledger.Store     { return s.ledger }
func (s stores) Identity() identity.Store { return s.ident }
func (s stores) Audit() audit.Store       { return s.audit }
func (s stores) Consent() consent.Store   { return s.consent }
func (s stores) Limits() limits.Store     { return s.limits }
func (s stores) DataAPI() records.Store   { return s.dataapi }
func (s stores) Rails() rails.Store       { return s.rails }

// language is the customer's chosen language, as set by a test in b.langs.
func (b *bank) language(_ context.Context, c bankbridge.CustomerID) string {
	v, _ := b.langs.Load(c)
	l, _ := v.(string)
	return l
}

func newBank(t testing.TB, o bankOptions) *bank {
	t.Helper()
	ctx := context.Background()
	clk := &clock{}
	b := &bank{t: t, clock: clk}
	var db stores
	if o.postgres {
		pdb, err := postgres.Open(ctx, testdb.PostgresURL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pdb.Close() })
		db = stores{pdb.Ledger(), pdb.Identity(), pdb.Audit(), pdb.Consent(), pdb.Limits(), pdb.DataAPI(), pdb.Rails()}
	} else {
		sdb, err := sqlite.Open(ctx, testdb.SQLitePath(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sdb.Close() })
		b.db = sdb
		db = stores{sdb.Ledger(), sdb.Identity(), sdb.Audit(), sdb.Consent(), sdb.Limits(), sdb.DataAPI(), sdb.Rails()}
	}
	var err error
	var lst ledger.Store = db.Ledger()
	if o.ledger != nil {
		lst = o.ledger(lst)
	}
	b.ledger = ledger.New(lst, ledger.Options{Now: clk.Now})
	t.Cleanup(b.ledger.Close)
	ids := identity.New(db.Identity(), identity.Options{Now: clk.Now})
	b.alog = audit.New(db.Audit(), audit.Options{Now: clk.Now})
	t.Cleanup(b.alog.Close)
	var hook consent.HookFunc = func(ctx context.Context, e consent.Event) {
		if b.api != nil {
			b.api.ConsentEvent(ctx, e)
		}
	}
	b.consents = consent.New(db.Consent(), consent.Options{Now: clk.Now, Accounts: db.Ledger(), Hooks: []consent.Hook{hook}})
	var h http.Handler
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(b.srv.Close)
	b.as, err = oauth.New(ctx, oauth.Deps{Consent: b.consents, Issuer: b.srv.URL, Now: clk.Now, NoNonce: true})
	if err != nil {
		t.Fatal(err)
	}
	b.reg = prometheus.NewRegistry()
	opts := o.opts
	opts.AllowHTTPCallbacks = true
	if opts.CustomerRate == 0 {
		opts.CustomerRate = 1_000_000 // tests make many calls; TestRateLimits sets its own
	}
	if o.rate == 0 {
		o.rate = 1_000_000
	}
	b.payments = limits.NewGuard(db.Limits(), o.limits, clk.Now)
	sim := httptest.NewServer(railsim.New(railsim.Options{}).Handler())
	t.Cleanup(sim.Close)
	b.railsTr = &railsim.Client{Base: sim.URL, Routing: "021000089"}
	b.rails = rails.New(db.Rails(), b.ledger, rails.Options{Origin: rails.Origin{Routing: "021000089"}, Screener: rails.MustSample(), Instant: b.railsTr,
		Now: clk.Now, OnChange: func(p rails.Payment) {
			if b.api != nil {
				b.api.RailChanged(context.Background(), p)
			}
		}})
	b.api, err = dataapi.New(ctx, dataapi.Deps{Verifier: b.as.Verifier(oauth.VerifierOptions{}), Consents: b.consents, Ledger: b.ledger, Payments: b.payments,
		Customers: ids, Audit: b.alog, Store: db.DataAPI(), Registerer: b.reg, Now: clk.Now, BaseURL: b.srv.URL, BankName: "Test Bank",
		Logger: cmp.Or(o.log, slog.New(slog.DiscardHandler)), Options: opts, Rails: b.rails, Language: b.language})
	if err != nil {
		t.Fatal(err)
	}
	b.api2, err = dataapi.New(ctx, dataapi.Deps{Verifier: b.as.Verifier(oauth.VerifierOptions{}), Consents: consent.New(db.Consent(), consent.Options{Now: clk.Now, Accounts: db.Ledger()}),
		Ledger: b.ledger, Payments: b.payments, Customers: ids, Audit: b.alog, Store: db.DataAPI(), Now: clk.Now, BaseURL: b.srv.URL, BankName: "Test Bank",
		Logger: slog.New(slog.DiscardHandler), Options: opts, Rails: b.rails})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/oauth/", b.as.Handler())
	mux.Handle(dataapi.Prefix+"/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Instance") == "2" {
			b.api2.ServeHTTP(w, r)
			return
		}
		b.api.ServeHTTP(w, r)
	}))
	mux.Handle("/openapi.json", b.api)
	mux.Handle("/docs/api", b.api)
	h = mux

	fund, err := db.Ledger().CreateAccount(ctx, ledger.Account{Kind: ledger.Internal, Name: "Settlement", Currency: "USD", Number: "9000000001",
		Routing: "011000015", Unbounded: true})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name, email string, n int) person {
		c, err := ids.RegisterCustomer(ctx, identity.Customer{Name: name, Email: email, Phone: "+15550100" + fmt.Sprint(n), BirthYear: 1985,
			Address: identity.Address{Line1: "1 Main St", City: "Springfield", Region: "IL", PostalCode: "62701", Country: "US"}}, "correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
		p := person{id: c}
		for i, a := range []*ledger.Account{&p.checking, &p.savings, &p.card} {
			kind := []ledger.AccountKind{ledger.Checking, ledger.Savings, ledger.CreditCard}[i]
			*a, err = db.Ledger().CreateAccount(ctx, ledger.Account{Customer: c.ID, Kind: kind, Name: string(kind) + " of " + name, Currency: "USD",
				Number: ledger.AccountNumber(fmt.Sprintf("10000%d%04d", n, i)), Routing: "011000015", Limit: 50000})
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := b.ledger.Transfer(ctx, ledger.Move("seed", "fund-"+email, fund.ID, p.checking.ID, 500000, "USD", "Opening deposit")); err != nil {
			t.Fatal(err)
		}
		return p
	}
	b.ada, b.bob = mk("Ada Lovelace", "ada@example.com", 1), mk("Bob Builder", "bob@example.com", 2)
	for _, pair := range []struct {
		from *person
		to   person
		name string
	}{{&b.ada, b.bob, "Bob"}, {&b.bob, b.ada, "Ada"}} {
		pair.from.payee, err = db.Ledger().CreatePayee(ctx, ledger.Payee{Customer: pair.from.id.ID, Name: pair.name, Nickname: pair.name, Account: pair.to.checking.ID})
		if err != nil {
			t.Fatal(err)
		}
	}
	if b.budget, err = dataapitest.Register(ctx, b.consents, b.srv.URL, "budget-app", o.rate, clk.Now); err != nil {
		t.Fatal(err)
	}
	if b.other, err = dataapitest.Register(ctx, b.consents, b.srv.URL, "other-app", 0, clk.Now); err != nil {
		t.Fatal(err)
	}
	b.hooks = &receiver{}
	b.hooks.srv = httptest.NewServer(b.hooks)
	t.Cleanup(b.hooks.srv.Close)
	return b
}

// allClusters is every cluster a partner may ask for.
func allClusters() []consent.Cluster {
	var cs []consent.Cluster
	for _, c := range consent.Clusters {
		cs = append(cs, c.Cluster)
	}
	return cs
}

// link makes a consent and returns its token and id.
func (b *bank) link(p *dataapitest.Partner, who person, accounts []ledger.AccountID, clusters []consent.Cluster) (string, string) {
	b.t.Helper()
	tok, grant, err := p.Link(context.Background(), b.as.Decide, who.id.ID, accounts, clusters)
	if err != nil {
		b.t.Fatalf("link %s: %v", p.ID, err)
	}
	return tok, grant
}

// call makes one API call and validates the answer against the OpenAPI
// document and, where Plaid Core Exchange defines the operation, against
// FDX 6.4: every answer in these tests passes through here.
func (b *bank) call(p *dataapitest.Partner, token, method, path string, body any, header map[string]string) dataapitest.Response {
	b.t.Helper()
	var raw []byte
	switch v := body.(type) {
	case nil:
	case []byte:
		raw = v
	case string:
		raw = []byte(v)
	default:
		raw, _ = json.Marshal(v)
	}
	res, err := p.Do(context.Background(), token, method, path, raw, header)
	if err != nil {
		b.t.Fatal(err)
	}
	if err := validateResponse(method, path, res); err != nil {
		b.t.Errorf("%s %s: answer does not match the OpenAPI document: %v\nbody: %s", method, path, err, res.Body)
	}
	if err := validateFDX(method, path, res); err != nil {
		b.t.Errorf("%s %s: answer does not match FDX 6.4: %v\nbody: %.2000s", method, path, err, res.Body)
	}
	return res
}

func decode[T any](t testing.TB, res dataapitest.Response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(res.Body, &v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, res.Body)
	}
	return v
}
