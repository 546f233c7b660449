package demo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/ledger"
)

// The demo logins. Printed by `bankbridge serve`; for a demo only.
const (
	// CustomerEmail logs in to the customer app as the demo customer, Alex
	// Morgan, who holds checking, savings and a credit card and has payees
	// "Sam", "mom" and "landlord".
	CustomerEmail = "demo@bankbridge.example"
	// CustomerPassword is the password of every demo customer.
	CustomerPassword = "bankbridge-demo"
	// StaffPassword is the password of every demo member of staff (see Staff).
	StaffPassword = "bankbridge-staff"
)

// The demo staff logins, one per role (see Staff).
const (
	AdminEmail      = "admin@bankbridge.example"      // administrator
	AgentEmail      = "agent@bankbridge.example"      // support
	ComplianceEmail = "compliance@bankbridge.example" // compliance
	AnalystEmail    = "analyst@bankbridge.example"    // analyst
)

// The bank's identity in the demo.
const (
	// Routing is the demo bank's ABA routing number.
	Routing = "021000089"
	// Client is the ledger client the seed's transfers are booked under; their
	// idempotency keys are "seed-1", "seed-2"...
	Client = "seed"
	// Currency is the currency of every demo account.
	Currency ledger.Currency = "USD"
)

// The bank's own accounts (Kind Internal, Unbounded, customer 0), with fixed
// numbers so they are easy to recognise in the console.
const (
	// SettlementNumber is the bank's settlement account: salaries come from
	// it, bills, rent and cash withdrawals go to it.
	SettlementNumber ledger.AccountNumber = "900000000001"
	// CardClearingNumber receives card purchases (debit and credit).
	CardClearingNumber ledger.AccountNumber = "900000000002"
	// FeesNumber receives account fees.
	FeesNumber ledger.AccountNumber = "900000000003"
	// InterestNumber pays interest on savings.
	InterestNumber ledger.AccountNumber = "900000000004"
)

const (
	bankSettlement = iota
	bankCardClearing
	bankFees
	bankInterest
	nBank
)

var bankAccounts = [nBank]struct {
	name   string
	number ledger.AccountNumber
}{
	{"Settlement", SettlementNumber},
	{"Card clearing", CardClearingNumber},
	{"Fee income", FeesNumber},
	{"Interest expense", InterestNumber},
}

// Staff returns the demo's members of staff, one per role; each logs in to
// the console with StaffPassword.
func Staff() []identity.Staff {
	return []identity.Staff{
		{Email: AdminEmail, Name: "Ada Okafor", Role: identity.Administrator},
		{Email: AgentEmail, Name: "Luis Ramirez", Role: identity.Support},
		{Email: ComplianceEmail, Name: "Grace Lee", Role: identity.Compliance},
		{Email: AnalystEmail, Name: "Noah Patel", Role: identity.Analyst},
	}
}

// Options shape the demo bank. The zero value gives the defaults.
type Options struct {
	// Customers to create; default 1000, at most MaxCustomers.
	Customers int
	// Days of history before Now; default 90, at most 3650.
	Days int
	// Seed of the random generator; default 1. The same Options (and the
	// same binary) give the same bank.
	Seed uint64
	// Now is the end of the history; default today 00:00 UTC. Card holds
	// fall in the last two days before it.
	Now time.Time
	// Progress, when set, is told how far each stage is ("bank",
	// "customers"); done reaches total at the end of a stage.
	Progress func(stage string, done, total int)
}

// MaxCustomers bounds Options.Customers: account numbers carry nine digits
// of customer index.
const MaxCustomers = 100_000_000

// Deps are what Seed writes through.
type Deps struct {
	// Identity imports the customers and adds the staff.
	Identity *identity.Service
	// Ledger receives accounts, cards, payees, merchants and the transfers,
	// applied directly in batches of a few thousand (not through the
	// ledger.Service: the seed is the only writer and needs the speed).
	Ledger ledger.Store
	// Insights, when set, receives 180 days of engagement across channels.
	Insights insights.Ingester
}

// Result counts what Seed created. Accounts include the bank's own four.
type Result struct {
	Customers, Accounts, Cards, Payees, Merchants, Transfers int
	Elapsed                                                  time.Duration
}

// Errors of Seed.
var (
	// ErrSeeded answers Seed on a database that already has the demo bank.
	ErrSeeded = bankbridge.E(bankbridge.Conflict, "demo_seeded", "the database already holds a seeded bank; start from an empty database")
	// ErrOptions answers Seed with options out of range.
	ErrOptions = bankbridge.E(bankbridge.Invalid, "demo_options_invalid", "the demo options are out of range")
)

// chunkSize is how many customers are generated and written together. It
// bounds memory (a chunk's events are a few tens of MB) and fixes who can
// be whose payee (only customers of the same chunk), so it is part of what
// makes a seed reproducible: changing it changes the bank.
const chunkSize = 1000

// batchSize is how many transfers go to one Store.Apply call.
const batchSize = 2000

func (o Options) withDefaults() (Options, error) {
	if o.Customers == 0 {
		o.Customers = 1000
	}
	if o.Days == 0 {
		o.Days = 90
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Now.IsZero() {
		o.Now = time.Now().UTC().Truncate(24 * time.Hour)
	}
	o.Now = o.Now.UTC().Truncate(time.Microsecond)
	if o.Progress == nil {
		o.Progress = func(string, int, int) {}
	}
	switch {
	case o.Customers < 0 || o.Customers > MaxCustomers:
		return o, ErrOptions.WithMessage(fmt.Sprintf("customers must be between 1 and %d", MaxCustomers))
	case o.Days < 0 || o.Days > 3650:
		return o, ErrOptions.WithMessage("days must be between 1 and 3650")
	}
	return o, nil
}

// start is midnight UTC of the first day of the history.
func (o Options) start() time.Time { return o.Now.AddDate(0, 0, -o.Days).Truncate(24 * time.Hour) }

// Seeded reports whether the bank's settlement account exists, that is
// whether this database was seeded (serve seeds only an empty database).
func Seeded(ctx context.Context, st ledger.Store) (bool, error) {
	as, err := st.CustomerAccounts(ctx, 0)
	if err != nil {
		return false, fmt.Errorf("demo.Seeded: %w", err)
	}
	for _, a := range as {
		if a.Number == SettlementNumber {
			return true, nil
		}
	}
	return false, nil
}

// Seed creates the demo bank: the bank's own accounts, merchants, staff,
// o.Customers customers with their accounts, cards and payees, and o.Days of
// history. It refuses a database that is already seeded (ErrSeeded). It
// stops at the first failure and leaves what was written: seed an empty
// database again rather than resuming.
//
// Customers are written a chunk at a time (1,000 customers with all their
// history), so memory stays bounded whatever o.Customers is. Transfer ids
// grow with time within a chunk; a later chunk's history starts again at the
// beginning of the window with higher ids. The demo customer is in the first
// chunk, so the history it shows has ids in time order; History pages by
// (time, id) and is unaffected.
func Seed(ctx context.Context, d Deps, o Options) (Result, error) {
	began := time.Now()
	o, err := o.withDefaults()
	if err != nil {
		return Result{}, err
	}
	if d.Identity == nil || d.Ledger == nil {
		return Result{}, errors.New("demo.Seed: Identity and Ledger are required")
	}
	switch seeded, err := Seeded(ctx, d.Ledger); {
	case err != nil:
		return Result{}, err
	case seeded:
		return Result{}, ErrSeeded
	}
	g := &generator{o: o, d: d, pendingFrom: o.Now.Add(-48 * time.Hour)}
	o.Progress("bank", 0, 1)
	if err := g.openBank(ctx); err != nil {
		return g.res, err
	}
	hash, err := identity.HashPassword(CustomerPassword)
	if err != nil {
		return g.res, fmt.Errorf("demo: hash the demo password: %w", err)
	}
	g.hash = hash
	o.Progress("bank", 1, 1)
	o.Progress("customers", 0, o.Customers)
	for lo := 0; lo < o.Customers; lo += chunkSize {
		hi := min(lo+chunkSize, o.Customers)
		if err := g.seedChunk(ctx, lo, hi); err != nil {
			return g.res, err
		}
		o.Progress("customers", hi, o.Customers)
	}
	if d.Insights != nil {
		if err := SeedEngagement(ctx, d.Insights, g.engagement, EngagementOptions{Seed: o.Seed, Now: o.Now}); err != nil {
			return g.res, err
		}
	}
	g.res.Elapsed = time.Since(began)
	return g.res, nil
}

// generator holds the state of one Seed run.
type generator struct {
	o           Options
	d           Deps
	hash        string // the one password hash every demo customer shares
	pendingFrom time.Time
	bank        [nBank]balance
	merchants   []ledger.Merchant // parallel to merchantSeeds
	lo          int               // global index of chunk[0]
	chunk       []chunkCustomer
	keys        int // transfer keys issued
	res         Result
	engagement  []EngagementCustomer // filled only when Deps.Insights is set
}

// chunkCustomer is a customer of the chunk being written.
type chunkCustomer struct {
	p    *profile
	id   bankbridge.CustomerID
	acct [nSlots]balance
}

// customer returns the chunk's customer of global index idx, nil outside it.
func (g *generator) customer(idx int) *chunkCustomer {
	if idx < g.lo || idx >= g.lo+len(g.chunk) {
		return nil
	}
	return &g.chunk[idx-g.lo]
}

// openBank creates the bank's own accounts, the merchants and the staff.
func (g *generator) openBank(ctx context.Context) error {
	opened := g.o.Now.AddDate(-31, 0, 0).Truncate(24 * time.Hour)
	for i, b := range bankAccounts {
		a, err := g.d.Ledger.CreateAccount(ctx, ledger.Account{Kind: ledger.Internal, Name: b.name, Currency: Currency,
			Status: ledger.Open, Number: b.number, Routing: Routing, Unbounded: true, OpenedAt: opened})
		if err != nil {
			return fmt.Errorf("demo: open the bank's %s account: %w", b.name, err)
		}
		g.bank[i] = balance{id: a.ID, unbounded: true}
		g.res.Accounts++
	}
	for _, s := range merchantSeeds {
		m, err := g.d.Ledger.CreateMerchant(ctx, ledger.Merchant{Name: s.Name, MCC: s.MCC, Category: s.Category,
			City: places[s.Place].City, Country: "US"})
		if err != nil {
			return fmt.Errorf("demo: create merchant %s: %w", s.Name, err)
		}
		g.merchants = append(g.merchants, m)
		g.res.Merchants++
	}
	for _, st := range Staff() {
		_, err := g.d.Identity.AddStaff(ctx, st, StaffPassword)
		if err != nil && !errors.Is(err, identity.ErrEmailTaken) {
			return fmt.Errorf("demo: add staff %s: %w", st.Email, err)
		}
	}
	return nil
}

// accountNumber derives a 12-digit number from the product and the
// customer's index: two digits of product, nine of index, a Luhn check digit.
func accountNumber(slot, idx int) ledger.AccountNumber {
	s := fmt.Sprintf("%d0%09d", slot+1, idx+1)
	return ledger.AccountNumber(s + strconv.Itoa(luhn(s)))
}

// luhn returns the check digit that makes s+digit pass the Luhn test.
func luhn(s string) int {
	sum := 0
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if (len(s)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return (10 - sum%10) % 10
}

var slotKinds = [nSlots]ledger.AccountKind{ledger.Checking, ledger.Savings, ledger.CreditCard}

// seedChunk writes customers [lo, hi): identities, accounts, cards, payees,
// then their history in time order.
func (g *generator) seedChunk(ctx context.Context, lo, hi int) error {
	g.lo = lo
	g.chunk = make([]chunkCustomer, hi-lo)
	cs := make([]identity.Customer, hi-lo)
	for i := range g.chunk {
		p := newProfile(g.o, lo+i, lo, hi)
		g.chunk[i].p = p
		cs[i] = p.cust
	}
	out, err := g.d.Identity.ImportCustomers(ctx, cs, g.hash)
	if err != nil {
		return fmt.Errorf("demo: import customers %d to %d: %w", lo+1, hi, err)
	}
	g.res.Customers += len(out)

	// Accounts, then cards and payees, which name the accounts.
	type slotOf struct{ pos, slot int }
	var accts []ledger.Account
	var owners []slotOf
	for i := range g.chunk {
		c := &g.chunk[i]
		c.id = out[i].ID
		p := c.p
		if g.d.Insights != nil {
			g.engagement = append(g.engagement, engagementCustomer(c.id, c.p))
		}
		for s := range nSlots {
			if !p.has[s] {
				continue
			}
			name := map[int]string{slotChecking: "Everyday Checking", slotSavings: "High-Yield Savings"}[s]
			if s == slotCredit {
				name = map[string]string{"visa": "Cashback Visa", "mastercard": "Rewards Mastercard"}[p.network]
			}
			accts = append(accts, ledger.Account{Customer: c.id, Kind: slotKinds[s], Name: name,
				Currency: Currency, Status: ledger.Open, Number: accountNumber(s, p.idx), Routing: Routing,
				Limit: p.limit[s], OpenedAt: p.opened[s]})
			owners = append(owners, slotOf{i, s})
		}
	}
	accts, err = g.createAccounts(ctx, accts)
	if err != nil {
		return fmt.Errorf("demo: open accounts of customers %d to %d: %w", lo+1, hi, err)
	}
	for k, a := range accts {
		g.chunk[owners[k].pos].acct[owners[k].slot] = balance{id: a.ID, lm: a.Limit}
	}
	g.res.Accounts += len(accts)

	var cards []ledger.Card
	var payees []ledger.Payee
	for i := range g.chunk {
		c := &g.chunk[i]
		p := c.p
		cards = append(cards, ledger.Card{Account: c.acct[slotChecking].id, Customer: c.id, Last4: p.last4[slotChecking],
			Network: "visa", Status: ledger.CardActive, Created: p.opened[slotChecking]})
		if p.has[slotCredit] {
			cards = append(cards, ledger.Card{Account: c.acct[slotCredit].id, Customer: c.id, Last4: p.last4[slotCredit],
				Network: p.network, Status: ledger.CardActive, Created: p.opened[slotCredit]})
		}
		for _, ps := range p.payees {
			to := g.customer(ps.to)
			payees = append(payees, ledger.Payee{Customer: c.id, Name: to.p.cust.Name, Nickname: ps.nickname,
				Account: to.acct[slotChecking].id, Created: maxTime(p.cust.Since, to.p.cust.Since)})
		}
	}
	if err := g.createCards(ctx, cards); err != nil {
		return fmt.Errorf("demo: issue cards to customers %d to %d: %w", lo+1, hi, err)
	}
	g.res.Cards += len(cards)
	if err := g.createPayees(ctx, payees); err != nil {
		return fmt.Errorf("demo: add payees of customers %d to %d: %w", lo+1, hi, err)
	}
	g.res.Payees += len(payees)

	var evs []event
	for i := range g.chunk {
		evs = append(evs, events(g.o, g.chunk[i].p, int32(i))...)
	}
	sortEvents(evs)
	ops := make([]ledger.Op, 0, batchSize)
	for _, e := range evs {
		req, ok := g.request(e, &g.chunk[e.pos], "seed-"+strconv.Itoa(g.keys+1))
		if !ok {
			continue
		}
		g.keys++
		ops = append(ops, ledger.Op{Kind: ledger.OpCreate, Request: req, Hash: req.Hash()})
		if len(ops) == batchSize {
			if err := g.apply(ctx, ops); err != nil {
				return err
			}
			ops = ops[:0]
		}
	}
	if err := g.apply(ctx, ops); err != nil {
		return err
	}
	g.chunk = nil
	return nil
}

// BulkLedger is what a ledger store may also implement to insert many rows
// in one transaction. Seed uses it when Deps.Ledger has it, and otherwise
// inserts one row per call, which costs one commit (one fsync) per row and
// dominates a large seed. Each method inserts all rows or none and returns
// them with ids assigned in order.
type BulkLedger interface {
	// CreateAccounts is CreateAccount for many accounts in one transaction.
	CreateAccounts(ctx context.Context, as []ledger.Account) ([]ledger.Account, error)
	// CreateCards is CreateCard for many cards in one transaction.
	CreateCards(ctx context.Context, cs []ledger.Card) ([]ledger.Card, error)
	// CreatePayees is CreatePayee for many payees in one transaction.
	CreatePayees(ctx context.Context, ps []ledger.Payee) ([]ledger.Payee, error)
}

func (g *generator) createAccounts(ctx context.Context, as []ledger.Account) ([]ledger.Account, error) {
	if b, ok := g.d.Ledger.(BulkLedger); ok {
		return b.CreateAccounts(ctx, as)
	}
	out := make([]ledger.Account, len(as))
	for i, a := range as {
		var err error
		if out[i], err = g.d.Ledger.CreateAccount(ctx, a); err != nil {
			return nil, fmt.Errorf("account %s: %w", a.Number, err)
		}
	}
	return out, nil
}

func (g *generator) createCards(ctx context.Context, cs []ledger.Card) error {
	if b, ok := g.d.Ledger.(BulkLedger); ok {
		_, err := b.CreateCards(ctx, cs)
		return err
	}
	for _, c := range cs {
		if _, err := g.d.Ledger.CreateCard(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) createPayees(ctx context.Context, ps []ledger.Payee) error {
	if b, ok := g.d.Ledger.(BulkLedger); ok {
		_, err := b.CreatePayees(ctx, ps)
		return err
	}
	for _, p := range ps {
		if _, err := g.d.Ledger.CreatePayee(ctx, p); err != nil {
			return fmt.Errorf("payee %q of customer %d: %w", p.Nickname, p.Customer, err)
		}
	}
	return nil
}

// apply writes one batch and checks every outcome: the generator only emits
// requests it has checked against its own copy of the balances, so any
// refusal or replay is a bug (or a database that was not empty).
func (g *generator) apply(ctx context.Context, ops []ledger.Op) error {
	if len(ops) == 0 {
		return nil
	}
	res, err := g.d.Ledger.Apply(ctx, ops, g.o.Now)
	if err != nil {
		return fmt.Errorf("demo: apply %d transfers: %w", len(ops), err)
	}
	for i, r := range res {
		req := ops[i].Request
		switch {
		case r.Err != nil:
			return fmt.Errorf("demo: transfer %s (%q, %s) refused: %w", req.Key, req.Description, req.Postings[1].Amount.Format(Currency), r.Err)
		case r.Replayed:
			return fmt.Errorf("demo: transfer %s was already in the ledger: %w", req.Key, ErrSeeded)
		}
		g.res.Transfers++
	}
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
