package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/google/go-cmp/cmp"
)

// LedgerOpener opens a fresh, empty ledger store for one test, and an exec
// function that runs raw SQL against the same database (for tamper tests).
type LedgerOpener func(t testing.TB) (ledger.Store, func(sql string) error)

// Ledger runs the ledger conformance suite against the engine open returns.
func Ledger(t *testing.T, open LedgerOpener) {
	t.Run("AccountsCreateAndRead", func(t *testing.T) { t.Parallel(); testAccounts(t, open) })
	t.Run("TransferMovesMoneyAndBalances", func(t *testing.T) { t.Parallel(); testTransfer(t, open) })
	t.Run("BatchKeepsEachOutcome", func(t *testing.T) { t.Parallel(); testBatchOutcomes(t, open) })
	t.Run("IdempotentReplay", func(t *testing.T) { t.Parallel(); testReplay(t, open) })
	t.Run("RefusalsMoveNothing", func(t *testing.T) { t.Parallel(); testRefusals(t, open) })
	t.Run("HoldsPostAndVoid", func(t *testing.T) { t.Parallel(); testHolds(t, open) })
	t.Run("HistoryKeysetPages", func(t *testing.T) { t.Parallel(); testHistory(t, open) })
	t.Run("HistorySearchesTheWordsShown", func(t *testing.T) { t.Parallel(); testHistoryInSpanish(t, open) })
	t.Run("VerifyNamesTampering", func(t *testing.T) { t.Parallel(); testTamper(t, open) })
	t.Run("FailedBatchWritesNothing", func(t *testing.T) { t.Parallel(); testFailedBatch(t, open) })
	t.Run("ReferenceData", func(t *testing.T) { t.Parallel(); testReference(t, open) })
	t.Run("ConcurrentTransfersKeepInvariants", func(t *testing.T) { t.Parallel(); testConcurrent(t, open) })
	t.Run("OutboxEventsOnlyForCommittedBatchesInOrder", func(t *testing.T) { t.Parallel(); testEvents(t, open) })
	t.Run("PropertyRandomOpsMatchModel", func(t *testing.T) { t.Parallel(); testProperty(t, open) })
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type fixture struct {
	t      testing.TB
	store  ledger.Store
	svc    *ledger.Service
	exec   func(string) error
	bank   ledger.Account // unbounded settlement account
	seq    int
	clock  time.Time
	mu     sync.Mutex
	numSeq int
}

func newFixture(t testing.TB, open LedgerOpener) *fixture {
	st, exec := open(t)
	f := &fixture{t: t, store: st, exec: exec, clock: t0}
	f.svc = ledger.New(st, ledger.Options{Now: f.now, Batchers: 2})
	t.Cleanup(f.svc.Close)
	f.bank = f.account(0, ledger.Internal, "USD", 0, true)
	return f
}

func (f *fixture) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock = f.clock.Add(time.Second)
	return f.clock
}

func (f *fixture) account(cust bankbridge.CustomerID, kind ledger.AccountKind, cur ledger.Currency, limit ledger.Amount, unbounded bool) ledger.Account {
	f.t.Helper()
	f.mu.Lock()
	f.numSeq++
	n := f.numSeq
	f.mu.Unlock()
	a, err := f.store.CreateAccount(context.Background(), ledger.Account{Customer: cust, Kind: kind, Name: fmt.Sprintf("acct %d", n),
		Currency: cur, Number: ledger.AccountNumber(fmt.Sprintf("9%011d", n)), Routing: "021000021", Limit: limit, Unbounded: unbounded, OpenedAt: t0})
	if err != nil {
		f.t.Fatalf("CreateAccount: %v", err)
	}
	return a
}

func (f *fixture) key() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	return fmt.Sprintf("k-%d", f.seq)
}

// fund moves amt from the bank's settlement account into a.
func (f *fixture) fund(a ledger.Account, amt ledger.Amount) {
	f.t.Helper()
	if _, _, err := f.svc.Transfer(context.Background(), ledger.Move("test", f.key(), f.bank.ID, a.ID, amt, a.Currency, "funding")); err != nil {
		f.t.Fatalf("fund: %v", err)
	}
}

// wantBalance checks account id's balance, naming the check by note.
func (f *fixture) wantBalance(id ledger.AccountID, want ledger.Amount, note string) {
	f.t.Helper()
	if bal, _ := f.balance(id); bal != want {
		f.t.Errorf("account %d: balance %d, want %d %s", id, bal, want, note)
	}
}

func (f *fixture) balance(id ledger.AccountID) (ledger.Amount, ledger.Amount) {
	f.t.Helper()
	a, err := f.store.Account(context.Background(), id)
	if err != nil {
		f.t.Fatalf("Account(%d): %v", id, err)
	}
	return a.Balance, a.Held
}

func (f *fixture) verify() {
	f.t.Helper()
	r, err := f.store.Verify(context.Background())
	if err != nil {
		f.t.Fatalf("Verify: %v", err)
	}
	if !r.OK() {
		f.t.Fatalf("Verify found problems: %v", r.Problems)
	}
}

func testAccounts(t *testing.T, open LedgerOpener) {
	f := newFixture(t, open)
	ctx := context.Background()
	a := f.account(7, ledger.Checking, "USD", 5000, false)
	got, err := f.store.Account(ctx, a.ID)
	noErr(t, err)
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("Account mismatch (-created +read):\n%s", diff)
	}
	f.account(7, ledger.Savings, "USD", 0, false)
	f.account(8, ledger.Checking, "USD", 0, false)
	list, err := f.store.CustomerAccounts(ctx, 7)
	if err != nil || len(list) != 2 || list[0].ID != a.ID {
		t.Errorf("CustomerAccounts(7) = %d accounts, %v; want 2 starting with %d", len(list), err, a.ID)
	}
	if _, err := f.store.CreateAccount(ctx, ledger.Account{Kind: ledger.Checking, Currency: "USD", Number: a.Number, Routing: "x"}); !errors.Is(err, ledger.ErrDuplicate) {
		t.Errorf("duplicate number: err = %v, want ErrDuplicate", err)
	}
	if _, err := f.store.Account(ctx, 999999); !errors.Is(err, ledger.ErrAccountNotFound) {
		t.Errorf("unknown account: err = %v, want ErrAccountNotFound", err)
	}
	if err := f.store.SetAccountStatus(ctx, 999999, ledger.Frozen); !errors.Is(err, ledger.ErrAccountNotFound) {
		t.Errorf("SetAccountStatus unknown: err = %v", err)
	}
	noErr(t, f.store.SetAccountStatus(ctx, a.ID, ledger.Frozen))
	if got, _ := f.store.Account(ctx, a.ID); got.Status != ledger.Frozen {
		t.Errorf("status = %s, want frozen", got.Status)
	}
}

func testTransfer(t *testing.T, open LedgerOpener) {
	f := newFixture(t, open)
	ctx := context.Background()
	a := f.account(1, ledger.Checking, "USD", 0, false)
	b := f.account(2, ledger.Checking, "USD", 0, false)
	f.fund(a, 10_000)
	req := ledger.Move("web", "pay-1", a.ID, b.ID, 2_550, "USD", "rent share")
	req.Category = "transfer"
	tr, replayed, err := f.svc.Transfer(ctx, req)
	if err != nil || replayed {
		t.Fatalf("Transfer = %v, replayed %v", err, replayed)
	}
	if tr.ID == 0 || tr.Status != ledger.Posted || tr.Amount() != 2_550 {
		t.Errorf("transfer = %+v", tr)
	}
	f.wantBalance(a.ID, 7_450, "")
	f.wantBalance(b.ID, 2_550, "")
	got, err := f.store.Transfer(ctx, tr.ID)
	noErr(t, err)
	if diff := cmp.Diff(tr, got); diff != "" {
		t.Errorf("stored transfer differs (-returned +stored):\n%s", diff)
	}
	if _, err := f.store.Transfer(ctx, 424242); !errors.Is(err, ledger.ErrTransferNotFound) {
		t.Errorf("unknown transfer: %v", err)
	}
	// A three-legged transfer: a purchase with a fee.
	fee := f.account(0, ledger.Internal, "USD", 0, true)
	three := ledger.Request{Client: "web", Key: "fee-1", Currency: "USD", Description: "wire",
		Postings: []ledger.Posting{leg(a.ID, -1_100), leg(b.ID, 1_000), leg(fee.ID, 100)}}
	tr3, _, err := f.svc.Transfer(ctx, three)
	noErr(t, err)
	if got, err := f.store.Transfer(ctx, tr3.ID); err != nil || !cmp.Equal(tr3, got) {
		t.Errorf("three-legged transfer reads back differently (%v):\n%s", err, cmp.Diff(tr3, got))
	}
	f.wantBalance(a.ID, 6_350, "after the fee")
	f.verify()
}

func testBatchOutcomes(t *testing.T, open LedgerOpener) {
	f := newFixture(t, open)
	ctx := context.Background()
	a := f.account(1, ledger.Checking, "USD", 0, false)
	b := f.account(2, ledger.Checking, "USD", 0, false)
	f.fund(a, 1_000)
	mk := func(key string, amt ledger.Amount) ledger.Op {
		r := ledger.Move("batch", key, a.ID, b.ID, amt, "USD", "x")
		return ledger.Op{Kind: ledger.OpCreate, Request: r, Hash: r.Hash()}
	}
	// Straight to the store, so the batch is exactly these ops in one transaction.
	ops := []ledger.Op{mk("b1", 600), mk("b2", 600), mk("b3", 400), mk("b1", 600), {Kind: ledger.OpPost, Transfer: 987654}}
	res, err := f.store.Apply(ctx, ops, t0)
	noErr(t, err)
	want := []error{nil, ledger.ErrInsufficientFunds, nil, nil, ledger.ErrTransferNotFound}
	for i, w := range want {
		if !errors.Is(res[i].Err, w) || (w == nil && res[i].Err != nil) {
			t.Errorf("op %d: err = %v, want %v", i, res[i].Err, w)
		}
	}
	if !res[3].Replayed || res[3].Transfer.ID != res[0].Transfer.ID || res[0].Transfer.ID == 0 {
		t.Errorf("in-batch replay = %+v, first = %+v", res[3], res[0])
	}
	if res[2].Transfer.ID <= res[0].Transfer.ID {
		t.Errorf("ids not increasing: %d then %d", res[0].Transfer.ID, res[2].Transfer.ID)
	}
	f.wantBalance(a.ID, 0, "")
	f.wantBalance(b.ID, 1_000, "")
	f.verify()
}

func testReplay(t *testing.T, open LedgerOpener) {
	f := newFixture(t, open)
	ctx := context.Background()
	a := f.account(1, ledger.Checking, "USD", 0, false)
	b := f.account(2, ledger.Checking, "USD", 0, false)
	f.fund(a, 5_000)
	req := ledger.Move("partner-x", "same", a.ID, b.ID, 1_000, "USD", "dinner")
	first, _, err := f.svc.Transfer(ctx, req)
	noErr(t, err)
	again, replayed, err := f.svc.Transfer(ctx, req)
	if err != nil || !replayed {
		t.Fatalf("replay: err %v, replayed %v", err, replayed)
	}
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("replay returned another transfer:\n%s", diff)
	}
	other := req
	other.Postings = []ledger.Posting{leg(a.ID, -2_000), leg(b.ID, 2_000)}
	if _, _, err := f.svc.Transfer(ctx, other); !errors.Is(err, ledger.ErrKeyReused) {
		t.Errorf("same key, other body: err = %v, want ErrKeyReused", err)
	}
	// The same key from another client is another request.
	third := req
	third.Client = "partner-y"
	if _, replayed, err := f.svc.Transfer(ctx, third); err != nil || replayed {
		t.Errorf("other client: err %v replayed %v", err, replayed)
	}
	f.wantBalance(a.ID, 3_000, "two transfers of 1000")
	// A retry that the rules would now refuse (it would overdraw a) still
	// replays the transfer it booked.
	all := ledger.Move("partner-x", "all", a.ID, b.ID, 3_000, "USD", "everything")
	booked, _, err := f.svc.Transfer(ctx, all)
	noErr(t, err)
	if again, replayed, err := f.svc.Transfer(ctx, all); err != nil || !replayed || again.ID != booked.ID {
		t.Errorf("retry past the balance: %+v, replayed %v, err %v; want the booked transfer replayed", again, replayed, err)
	}
	f.wantBalance(a.ID, 0, "")
	f.verify()
}

func testRefusals(t *testing.T, open LedgerOpener) {
	f := newFixture(t, open)
	ctx := context.Background()
	a := f.account(1, ledger.Checking, "USD", 500, false) // overdraft 5.00
	b := f.account(2, ledger.Checking, "USD", 0, false)
	eur := f.account(3, ledger.Checking, "EUR", 0, false)
	frozen := f.account(4, ledger.Checking, "USD", 0, false)
	closed := f.account(5, ledger.Checking, "USD", 0, false)
	card := f.account(6, ledger.CreditCard, "USD", 100_000, false)
	big := f.account(7, ledger.Savings, "USD", 0, false)
	f.fund(a, 1_000)
	f.fund(frozen, 1_000)
	f.fund(big, 1<<62)
	noErr(t, f.store.SetAccountStatus(ctx, frozen.ID, ledger.Frozen))
	noErr(t, f.store.SetAccountStatus(ctx, closed.ID, ledger.Closed))
	cases := []struct {
		name string
		req  ledger.Request
		want error
	}{
		{"RejectsOverdraftPastLimit", ledger.Move("c", f.key(), a.ID, b.ID, 1_501, "USD", ""), ledger.ErrInsufficientFunds},
		{"RejectsZero", ledger.Move("c", f.key(), a.ID, b.ID, 0, "USD", ""), ledger.ErrAmountNegative},
		{"RejectsUnknownAccount", ledger.Move("c", f.key(), a.ID, 777777, 1, "USD", ""), ledger.ErrAccountNotFound},
		{"RejectsCurrencyMismatch", ledger.Move("c", f.key(), a.ID, eur.ID, 1, "USD", ""), ledger.ErrCurrencyMismatch},
		{"RejectsUnknownCurrency", ledger.Move("c", f.key(), a.ID, b.ID, 1, "XXX", ""), ledger.ErrCurrency},
		{"RejectsDebitFromFrozen", ledger.Move("c", f.key(), frozen.ID, b.ID, 1, "USD", ""), ledger.ErrAccountFrozen},
		{"RejectsClosed", ledger.Move("c", f.key(), a.ID, closed.ID, 1, "USD", ""), ledger.ErrAccountClosed},
		{"RejectsSameAccount", ledger.Move("c", f.key(), a.ID, a.ID, 1, "USD", ""), ledger.ErrSameAccount},
		{"RejectsMissingKey", ledger.Move("c", "", a.ID, b.ID, 1, "USD", ""), ledger.ErrInvalidRequest},
		{"RejectsUnbalanced", ledger.Request{Client: "c", Key: f.key(), Currency: "USD", Postings: []ledger.Posting{leg(a.ID, -2), leg(b.ID, 1)}}, ledger.ErrUnbalanced},
		{"RejectsOverflowingCredit", ledger.Move("c", f.key(), f.bank.ID, big.ID, 1<<62, "USD", ""), ledger.ErrOverflow},
		{"RejectsOverflowingRequest", ledger.Request{Client: "c", Key: f.key(), Currency: "USD", Postings: []ledger.Posting{leg(b.ID, 1<<62), leg(card.ID, 1<<62), leg(f.bank.ID, -(1 << 62)), leg(a.ID, -(1 << 62))}}, ledger.ErrOverflow},
		{"RejectsCardPastCreditLimit", ledger.Move("c", f.key(), card.ID, b.ID, 100_001, "USD", ""), ledger.ErrInsufficientFunds},
	}
	for _, c := range cases {
		if _, _, err := f.svc.Transfer(ctx, c.req); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	for id, want := range map[ledger.AccountID]ledger.Amount{a.ID: 1_000, b.ID: 0, frozen.ID: 1_000, card.ID: 0, big.ID: 1 << 62} {
		if bal, held := f.balance(id); bal != want || held != 0 {
			t.Errorf("account %d = %d held %d, want %d: a refusal moved money", id, bal, held, want)
		}
	}
	// Allowed edges: overdraft exactly to its limit, credit into a frozen account, card spending.
	if _, _, err := f.svc.Transfer(ctx, ledger.Move("c", f.key(), a.ID, b.ID, 1_500, "USD", "")); err != nil {
		t.Errorf("overdraft to the limit: %v", err)
	}
	if _, _, err := f.svc.Transfer(ctx, ledger.Move("c", f.key(), b.ID, frozen.ID, 100, "USD", "")); err != nil {
		t.Errorf("credit into frozen: %v", err)
	}
	if _, _, err := f.svc.Transfer(ctx, ledger.Move("c", f.key(), card.ID, b.ID, 100_000, "USD", "")); err != nil {
		t.Errorf("card to its limit: %v", err)
	}
	f.verify()
}

func testHolds(t *testing.T, open LedgerOpener) {
	f := newFixture(t, open)
	ctx := context.Background()
	a := f.account(1, ledger.Checking, "USD", 0, false)
	m := f.account(0, ledger.Internal, "USD", 0, true) // card clearing
	f.fund(a, 10_000)
	hold := ledger.Move("card", "auth-1", a.ID, m.ID, 6_000, "USD", "hotel")
	hold.Pending = true
	h, _, err := f.svc.Transfer(ctx, hold)
	if err != nil || h.Status != ledger.Pending {
		t.Fatalf("hold: %v %+v", err, h)
	}
	if bal, held := f.balance(a.ID); bal != 10_000 || held != 6_000 {
		t.Errorf("after hold: balance %d held %d, want 10000/6000", bal, held)
	}
	if _, _, err := f.svc.Transfer(ctx, ledger.Move("card", "big", a.ID, m.ID, 4_001, "USD", "")); !errors.Is(err, ledger.ErrInsufficientFunds) {
		t.Errorf("spend past available: %v", err)
	}
	f.verify()
	p, err := f.svc.Post(ctx, h.ID)
	if err != nil || p.Status != ledger.Posted || p.Posted.IsZero() {
		t.Fatalf("post: %v %+v", err, p)
	}
	if bal, held := f.balance(a.ID); bal != 4_000 || held != 0 {
		t.Errorf("after post: %d/%d, want 4000/0", bal, held)
	}
	if again, err := f.svc.Post(ctx, h.ID); err != nil || again.Status != ledger.Posted {
		t.Errorf("post twice: %v", err)
	}
	if _, err := f.svc.Void(ctx, h.ID); !errors.Is(err, ledger.ErrNotPending) {
		t.Errorf("void a posted transfer: %v, want ErrNotPending", err)
	}
	hold2 := ledger.Move("card", "auth-2", a.ID, m.ID, 1_000, "USD", "fuel")
	hold2.Pending = true
	h2, _, err := f.svc.Transfer(ctx, hold2)
	noErr(t, err)
	if v, err := f.svc.Void(ctx, h2.ID); err != nil || v.Status != ledger.Voided {
		t.Fatalf("void: %v", err)
	}
	if bal, held := f.balance(a.ID); bal != 4_000 || held != 0 {
		t.Errorf("after void: %d/%d, want 4000/0", bal, held)
	}
	if _, err := f.svc.Post(ctx, h2.ID); !errors.Is(err, ledger.ErrNotPending) {
		t.Errorf("post a voided transfer: %v", err)
	}
	if _, err := f.svc.Void(ctx, 999999); !errors.Is(err, ledger.ErrTransferNotFound) {
		t.Errorf("void unknown: %v", err)
	}
	f.verify()
}

// testHistoryInSpanish: a search in Spanish matches each description as
// ledger.DescriptionIn shows it in Spanish, exactly as Go would match the
// text on the page: every rule of the bank's wording, a search that spans
// the translated words and the name kept after them, a description a
// person wrote in Spanish, and none of the English the customer never sees.
func testHistoryInSpanish(t *testing.T, open LedgerOpener) {
	f := newFixture(t, open)
	ctx := context.Background()
	a := f.account(1, ledger.Checking, "USD", 0, false)
	b := f.account(2, ledger.Checking, "USD", 0, false)
	f.fund(a, 1_000_000)
	descs := []string{"funding", "Pago programado manual", "Harbor Coffee Co.", "Netflix - AutoPay", "Payroll - ACME Corp - AutoPay",
		"Scheduled payment to Sam's flat: rent", "O'Brien's Pub", "Transfer to a friend", "Transfer to savingsX", "ÓSCAR'S CAFÉ", "Ñandú Ltda"}
	w, _ := ledger.WordingIn("es")
	for _, p := range append(append(w.Whole, w.Suffixes...), w.Prefixes...) {
		descs = append(descs, p.From, "x"+p.From, p.From+"Ana López")
	}
	descs = append(descs, " - AutoPay")
	for i, d := range descs[1:] {
		noErr(t, first(f.svc.Transfer(ctx, ledger.Move("h", fmt.Sprintf("es%d", i), a.ID, b.ID, 1, "USD", d))))
	}
	queries := []string{"Pago programado", "pago PROGRAMADO a sam's", "programado a Sam's flat: re", "o'brien", "Pago automático", "netflix - pago",
		"ACME Corp - Pago", "Nómina - ACME", "Transferencia a", "a ahorros", "savingsX", "Scheduled", "AutoPay", "Transfer to", "Ana López",
		"ahorrosAna", "%", "_",
		// Capitals beyond ASCII fold as in Go, on both engines.
		"NÓMINA - ACME", "PAGO AUTOMÁTICO", "ANA LÓPEZ", "óscar's café", "Café", "ÑANDÚ", "ñandú"}
	for _, p := range append(append(w.Whole, w.Suffixes...), w.Prefixes...) {
		queries = append(queries, p.To, p.To+"Ana", strings.TrimSpace(p.To)[1:])
	}
	for _, lang := range []string{"es", ""} {
		for _, q := range queries {
			var want, got []string
			for _, d := range descs {
				if strings.Contains(strings.ToLower(ledger.DescriptionIn(lang, d)), strings.ToLower(q)) {
					want = append(want, d)
				}
			}
			page, err := f.store.History(ctx, ledger.HistoryQuery{Account: a.ID, Search: q, Lang: lang, Limit: 500})
			noErr(t, err)
			for _, e := range page.Entries {
				got = append(got, e.Transfer.Description)
			}
			slices.Sort(want)
			slices.Sort(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("search %q in %q (-as shown +found):\n%s", q, lang, diff)
			}
		}
	}
	// And the capitals do find something: not two engines agreeing on
	// nothing.
	for _, c := range []struct{ lang, q, want string }{
		{"es", "NÓMINA - ANA", "Payroll - Ana López"},
		{"", "ÑANDÚ", "Ñandú Ltda"},
		{"", "óscar's café", "ÓSCAR'S CAFÉ"},
	} {
		page, err := f.store.History(ctx, ledger.HistoryQuery{Account: a.ID, Search: c.q, Lang: c.lang, Limit: 500})
		noErr(t, err)
		if !slices.ContainsFunc(page.Entries, func(e ledger.Entry) bool { return e.Transfer.Description == c.want }) {
			t.Errorf("search %q in %q: %q not found", c.q, c.lang, c.want)
		}
	}
}

// first is the error of a call that returns two values and an error.
func first[A, B any](_ A, _ B, err error) error { return err }

func testHistory(t *testing.T, open LedgerOpener) {
	f := newFixture(t, open)
	ctx := context.Background()
	a := f.account(1, ledger.Checking, "USD", 0, false)
	b := f.account(2, ledger.Checking, "USD", 0, false)
	f.fund(a, 1_000_000)
	var want []ledger.TransferID
	for i := range 120 {
		desc := "coffee shop"
		if i%3 == 0 {
			desc = "GROCERY 100%_store"
		}
		r := ledger.Move("h", fmt.Sprintf("h%d", i), a.ID, b.ID, ledger.Amount(i+1), "USD", desc)
		r.At = t0.Add(time.Duration(i) * time.Hour)
		tr, _, err := f.svc.Transfer(ctx, r)
		noErr(t, err)
		want = append([]ledger.TransferID{tr.ID}, want...)
	}
	var got []ledger.TransferID
	var after *ledger.Cursor
	pages := 0
	for {
		page, err := f.store.History(ctx, ledger.HistoryQuery{Account: a.ID, Limit: 50, After: after})
		noErr(t, err)
		pages++
		for _, e := range page.Entries {
			if e.Transfer.Description == "funding" {
				continue
			}
			if e.Amount >= 0 {
				t.Errorf("debit entry %d has amount %d", e.Transfer.ID, e.Amount)
			}
			got = append(got, e.Transfer.ID)
		}
		if page.Next == nil {
			break
		}
		c, err := ledger.ParseCursor(page.Next.String())
		noErr(t, err)
		after = &c
	}
	if diff := cmp.Diff(want, got); diff != "" || pages != 3 {
		t.Errorf("pages = %d, ids differ:\n%s", pages, diff)
	}
	search, err := f.store.History(ctx, ledger.HistoryQuery{Account: a.ID, Search: "grocery 100%_", Limit: 500})
	if err != nil || len(search.Entries) != 40 {
		t.Errorf("search: %d entries, %v; want 40", len(search.Entries), err)
	}
	if s, _ := f.store.History(ctx, ledger.HistoryQuery{Account: a.ID, Search: "100%x"}); len(s.Entries) != 0 {
		t.Errorf("LIKE wildcards not escaped: %d entries", len(s.Entries))
	}
	rng, err := f.store.History(ctx, ledger.HistoryQuery{Account: a.ID, From: t0.Add(10 * time.Hour), To: t0.Add(20 * time.Hour)})
	if err != nil || len(rng.Entries) != 10 || !rng.Entries[0].Transfer.Created.Equal(t0.Add(19*time.Hour)) {
		t.Errorf("range: %d entries, %v", len(rng.Entries), err)
	}
	if _, err := f.store.History(ctx, ledger.HistoryQuery{Account: a.ID, Limit: 501}); !errors.Is(err, ledger.ErrLimit) {
		t.Errorf("limit 501: %v", err)
	}
	if empty, err := f.store.History(ctx, ledger.HistoryQuery{Account: 55555}); err != nil || len(empty.Entries) != 0 {
		t.Errorf("unknown account history: %v %d", err, len(empty.Entries))
	}
}

func testTamper(t *testing.T, open LedgerOpener) {
	cases := []struct{ name, sql, want string }{
		{"EditedBalance", `UPDATE accounts SET balance = balance + 1 WHERE id = %d`, "account %d: stored balance"},
		{"DeletedPosting", `DELETE FROM postings WHERE account_id = %d`, "account %d: stored balance"},
		{"EditedHeld", `UPDATE accounts SET held = 7 WHERE id = %d`, "account %d: stored holds 7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, open)
			a := f.account(1, ledger.Checking, "USD", 0, false)
			f.fund(a, 100)
			f.verify()
			noErr(t, f.exec(fmt.Sprintf(c.sql, a.ID)))
			r, err := f.store.Verify(context.Background())
			noErr(t, err)
			want := fmt.Sprintf(c.want, a.ID)
			found := false
			for _, p := range r.Problems {
				found = found || len(p) >= len(want) && p[:len(want)] == want
			}
			if !found {
				t.Errorf("Verify problems %q do not name %q", r.Problems, want)
			}
		})
	}
}

func testReference(t *testing.T, open LedgerOpener) {
	f := newFixture(t, open)
	ctx := context.Background()
	a := f.account(3, ledger.Checking, "USD", 0, false)
	m, err := f.store.CreateMerchant(ctx, ledger.Merchant{Name: "Corner Grocer", MCC: "5411", Category: "groceries", City: "Dayton", Country: "US"})
	if err != nil || m.ID == 0 {
		t.Fatalf("CreateMerchant: %v", err)
	}
	if got, err := f.store.Merchant(ctx, m.ID); err != nil || got != m {
		t.Errorf("Merchant = %+v, %v", got, err)
	}
	c, err := f.store.CreateCard(ctx, ledger.Card{Account: a.ID, Customer: 3, Last4: "4242", Network: "visa", Status: ledger.CardActive, Created: t0})
	noErr(t, err)
	if _, err := f.store.CreateCard(ctx, ledger.Card{Account: 987654, Customer: 3, Last4: "1111", Network: "visa", Status: ledger.CardActive, Created: t0}); !errors.Is(err, ledger.ErrAccountNotFound) {
		t.Errorf("card on an unknown account: %v, want ErrAccountNotFound", err)
	}
	if _, err := f.store.Merchant(ctx, 987654); !errors.Is(err, ledger.ErrMerchantNotFound) {
		t.Errorf("unknown merchant: %v", err)
	}
	if err := f.store.SetCardStatus(ctx, 987654, ledger.CardFrozen); !errors.Is(err, ledger.ErrCardNotFound) {
		t.Errorf("unknown card: %v", err)
	}
	noErr(t, f.store.SetCardStatus(ctx, c.ID, ledger.CardFrozen))
	cards, err := f.store.CustomerCards(ctx, 3)
	if err != nil || len(cards) != 1 || cards[0].Status != ledger.CardFrozen {
		t.Errorf("CustomerCards = %+v, %v", cards, err)
	}
	p, err := f.store.CreatePayee(ctx, ledger.Payee{Customer: 3, Name: "Sam Lee", Nickname: "sam", Account: a.ID, Created: t0})
	noErr(t, err)
	if _, err := f.store.CreatePayee(ctx, ledger.Payee{Customer: 3, Name: "Sam Other", Nickname: "sam", Created: t0}); !errors.Is(err, ledger.ErrDuplicate) {
		t.Errorf("duplicate nickname: %v", err)
	}
	ps, err := f.store.Payees(ctx, 3)
	if err != nil || len(ps) != 1 || ps[0] != p {
		t.Errorf("Payees = %+v, %v", ps, err)
	}
}

// testConcurrent runs many clients against few, thinly funded accounts so
// that most batches mix successes with refusals, then checks every invariant.
func testConcurrent(t *testing.T, open LedgerOpener) {
	f := newFixture(t, open)
	ctx := context.Background()
	const n, clients, each = 12, 16, 60
	accts := make([]ledger.Account, n)
	for i := range accts {
		accts[i] = f.account(bankbridge.CustomerID(i+1), ledger.Checking, "USD", ledger.Amount(i%3)*100, false)
		f.fund(accts[i], 1_000)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for c := range clients {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(c), 7))
			for i := range each {
				x, y := r.IntN(n), r.IntN(n-1)
				if y >= x {
					y++
				}
				key := fmt.Sprintf("c%d-%d", c, i)
				req := ledger.Move("conc", key, accts[x].ID, accts[y].ID, ledger.Amount(1+r.IntN(400)), "USD", "")
				_, _, err := f.svc.Transfer(ctx, req)
				switch {
				case err == nil:
					// A retry of a booked request must replay and move nothing.
					if _, replayed, err := f.svc.Transfer(ctx, req); err != nil || !replayed {
						t.Errorf("retry %s: %v replayed=%v", key, err, replayed)
					}
					mu.Lock()
					ok++
					mu.Unlock()
				case !errors.Is(err, ledger.ErrInsufficientFunds):
					t.Errorf("transfer %s: %v", key, err)
				}
			}
		})
	}
	wg.Wait()
	var sum ledger.Amount
	for _, a := range accts {
		bal, _ := f.balance(a.ID)
		if bal < -a.Limit {
			t.Errorf("account %d at %d, past limit %d", a.ID, bal, a.Limit)
		}
		sum += bal
	}
	if sum != n*1_000 {
		t.Errorf("customer balances sum to %d, want %d", sum, n*1_000)
	}
	r, err := f.store.Verify(ctx)
	if err != nil || !r.OK() {
		t.Fatalf("Verify: %v %v", err, r.Problems)
	}
	if want := ok + n + 0; r.Transfers != want {
		t.Errorf("transfers stored = %d, want %d (successes + fundings)", r.Transfers, want)
	}
	if ok == 0 || ok == clients*each {
		t.Errorf("successes = %d of %d: the test did not mix outcomes", ok, clients*each)
	}
}

// testProperty drives random creates, holds, posts, voids and retries through
// the service and checks, after every step, that the store agrees with a
// model kept in Go: balances and holds per account, no limit passed, and a
// replayed key moves nothing.
func testProperty(t *testing.T, open LedgerOpener) {
	f := newFixture(t, open)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(42, uint64(time.Now().UnixNano())))
	const n = 6
	accts := make([]ledger.Account, n)
	type state struct{ bal, held ledger.Amount }
	model := map[ledger.AccountID]*state{}
	for i := range accts {
		accts[i] = f.account(bankbridge.CustomerID(i+1), ledger.Checking, "USD", ledger.Amount(r.IntN(3))*250, false)
		f.fund(accts[i], 2_000)
		model[accts[i].ID] = &state{bal: 2_000}
	}
	var pending []ledger.Transfer
	var done []ledger.Request
	for step := range 300 {
		x, y := r.IntN(n), r.IntN(n-1)
		if y >= x {
			y++
		}
		from, to := accts[x], accts[y]
		amt := ledger.Amount(1 + r.IntN(1_500))
		switch k := r.IntN(10); {
		case k < 5: // posted transfer
			req := ledger.Move("prop", fmt.Sprintf("p%d", step), from.ID, to.ID, amt, "USD", "")
			_, _, err := f.svc.Transfer(ctx, req)
			m := model[from.ID]
			canPay := m.bal-m.held-amt >= -from.Limit
			if canPay != (err == nil) || (err != nil && !errors.Is(err, ledger.ErrInsufficientFunds)) {
				t.Fatalf("step %d: transfer %d from %d (bal %d held %d limit %d): err %v", step, amt, from.ID, m.bal, m.held, from.Limit, err)
			}
			if err == nil {
				m.bal -= amt
				model[to.ID].bal += amt
				done = append(done, req)
			}
		case k < 7: // hold
			req := ledger.Move("prop", fmt.Sprintf("p%d", step), from.ID, to.ID, amt, "USD", "")
			req.Pending = true
			tr, _, err := f.svc.Transfer(ctx, req)
			m := model[from.ID]
			if canPay := m.bal-m.held-amt >= -from.Limit; canPay != (err == nil) {
				t.Fatalf("step %d: hold: err %v, model says %v", step, err, canPay)
			}
			if err == nil {
				m.held += amt
				pending = append(pending, tr)
			}
		case k < 9 && len(pending) > 0: // post or void a hold
			i := r.IntN(len(pending))
			h := pending[i]
			pending = append(pending[:i], pending[i+1:]...)
			debit, credit := h.Postings[0], h.Postings[1]
			if debit.Amount > 0 {
				debit, credit = credit, debit
			}
			model[debit.Account].held += debit.Amount
			if r.IntN(2) == 0 {
				if _, err := f.svc.Post(ctx, h.ID); err != nil {
					t.Fatalf("step %d: post: %v", step, err)
				}
				model[debit.Account].bal += debit.Amount
				model[credit.Account].bal += credit.Amount
			} else if _, err := f.svc.Void(ctx, h.ID); err != nil {
				t.Fatalf("step %d: void: %v", step, err)
			}
		default: // retry a booked request: nothing moves
			if len(done) == 0 {
				continue
			}
			req := done[r.IntN(len(done))]
			if _, replayed, err := f.svc.Transfer(ctx, req); err != nil || !replayed {
				t.Fatalf("step %d: retry: %v %v", step, err, replayed)
			}
		}
		for _, a := range accts {
			bal, held := f.balance(a.ID)
			m := model[a.ID]
			if bal != m.bal || held != m.held {
				t.Fatalf("step %d: account %d is %d/%d, model %d/%d", step, a.ID, bal, held, m.bal, m.held)
			}
			if bal-held < -a.Limit {
				t.Fatalf("step %d: account %d past its limit", step, a.ID)
			}
		}
	}
	f.verify()
}

func leg(a ledger.AccountID, amt ledger.Amount) ledger.Posting {
	return ledger.Posting{Account: a, Amount: amt}
}

// boomTrigger makes any UPDATE that sets an account's balance to 4242 fail,
// in whichever dialect the engine speaks, so a batch can be failed at its
// last write.
var boomTrigger = []string{
	`CREATE TRIGGER boom BEFORE UPDATE ON accounts WHEN NEW.balance = 4242 BEGIN SELECT RAISE(ABORT, 'boom'); END`,
	`CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.balance = 4242 THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$;
	 CREATE TRIGGER boom BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION boom()`,
}

// testFailedBatch fails a batch at its final write and checks that nothing
// of it was written, for any op in it, and that the store carries on.
func testFailedBatch(t *testing.T, open LedgerOpener) {
	f := newFixture(t, open)
	ctx := context.Background()
	a := f.account(1, ledger.Checking, "USD", 0, false)
	b := f.account(2, ledger.Checking, "USD", 0, false)
	c := f.account(3, ledger.Checking, "USD", 0, false)
	f.fund(a, 5_000)
	f.fund(c, 5_000)
	var errs []error
	for _, q := range boomTrigger {
		if err := f.exec(q); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == len(boomTrigger) {
		t.Fatalf("no dialect accepted the trigger: %v", errs)
	}
	before, err := f.store.Verify(ctx)
	noErr(t, err)
	mk := func(key string, from, to ledger.AccountID, amt ledger.Amount) ledger.Op {
		r := ledger.Move("fail", key, from, to, amt, "USD", "")
		return ledger.Op{Kind: ledger.OpCreate, Request: r, Hash: r.Hash()}
	}
	ops := []ledger.Op{mk("ok-1", c.ID, b.ID, 100), mk("boom", a.ID, b.ID, 758), mk("ok-2", c.ID, b.ID, 1)}
	if _, err := f.store.Apply(ctx, ops, t0); err == nil {
		t.Fatal("Apply succeeded although its balance update was refused")
	}
	after, err := f.store.Verify(ctx)
	if err != nil || !after.OK() || after.Transfers != before.Transfers || after.Postings != before.Postings {
		t.Fatalf("failed batch left traces: before %+v after %+v, %v", before, after, err)
	}
	for id, want := range map[ledger.AccountID]ledger.Amount{a.ID: 5_000, b.ID: 0, c.ID: 5_000} {
		if bal, held := f.balance(id); bal != want || held != 0 {
			t.Errorf("account %d = %d/%d after a failed batch, want %d", id, bal, held, want)
		}
	}
	// The store carries on, from the true balances.
	if _, _, err := f.svc.Transfer(ctx, ledger.Move("fail", "ok-1", c.ID, b.ID, 100, "USD", "")); err != nil {
		t.Fatalf("transfer after a failed batch: %v", err)
	}
	f.wantBalance(c.ID, 4_900, "after one transfer of 100")
	f.verify()
}
