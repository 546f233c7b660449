package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	gocmp "github.com/google/go-cmp/cmp"
)

// BulkLedger is the bulk-insert capability a ledger store offers beside
// ledger.Store. It has the same methods as demo.BulkLedger, which the demo
// seed looks for; it is declared again here because stores and their tests
// do not import demo.
type BulkLedger interface {
	CreateAccounts(ctx context.Context, as []ledger.Account) ([]ledger.Account, error)
	CreateCards(ctx context.Context, cs []ledger.Card) ([]ledger.Card, error)
	CreatePayees(ctx context.Context, ps []ledger.Payee) ([]ledger.Payee, error)
}

// LedgerBulk runs the conformance suite of BulkLedger against the engine
// open returns. It fails when that store does not implement BulkLedger.
func LedgerBulk(t *testing.T, open LedgerOpener) {
	t.Run("AccountsGetIDsInOrderAndReadBack", func(t *testing.T) { t.Parallel(); testBulkAccounts(t, open) })
	t.Run("AccountsAllOrNothing", func(t *testing.T) { t.Parallel(); testBulkAccountsAtomic(t, open) })
	t.Run("CardsGetIDsInOrderAndReadBack", func(t *testing.T) { t.Parallel(); testBulkCards(t, open) })
	t.Run("CardsOnUnknownAccountWriteNothing", func(t *testing.T) { t.Parallel(); testBulkCardsAtomic(t, open) })
	t.Run("PayeesGetIDsInOrderAndReadBack", func(t *testing.T) { t.Parallel(); testBulkPayees(t, open) })
	t.Run("PayeesAllOrNothing", func(t *testing.T) { t.Parallel(); testBulkPayeesAtomic(t, open) })
	t.Run("EmptyWritesNothing", func(t *testing.T) { t.Parallel(); testBulkEmpty(t, open) })
}

// openBulk opens a store and its bulk face, with one account already
// created one row at a time so the bulk ids do not start at 1.
func openBulk(t *testing.T, open LedgerOpener) (ledger.Store, BulkLedger, ledger.Account) {
	t.Helper()
	st, _ := open(t)
	b, ok := st.(BulkLedger)
	if !ok {
		t.Fatalf("%T does not implement storetest.BulkLedger (CreateAccounts, CreateCards, CreatePayees)", st)
	}
	first, err := st.CreateAccount(context.Background(), ledger.Account{Kind: ledger.Internal, Name: "Settlement", Currency: "USD",
		Number: "B00000000000", Routing: "021000021", Unbounded: true, OpenedAt: t0})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	return st, b, first
}

// bulkAccounts returns n valid accounts of customer cust, numbered from the
// prefix, with varied kinds, limits and opening times.
func bulkAccounts(cust bankbridge.CustomerID, prefix string, n int) []ledger.Account {
	kinds := []ledger.AccountKind{ledger.Checking, ledger.Savings, ledger.CreditCard}
	as := make([]ledger.Account, n)
	for i := range as {
		as[i] = ledger.Account{Customer: cust, Kind: kinds[i%len(kinds)], Name: fmt.Sprintf("%s %d", prefix, i),
			Currency: "USD", Number: ledger.AccountNumber(fmt.Sprintf("%s%08d", prefix, i)), Routing: "021000021",
			Limit: ledger.Amount(i * 100), OpenedAt: t0.Add(-timeStep(i))}
	}
	return as
}

// timeStep spaces the times of generated rows: whole microseconds, which
// both engines keep exactly.
func timeStep(i int) time.Duration { return time.Duration(i) * (time.Minute + time.Microsecond) }

// accountIDs of a slice, for messages.
func accountIDs(as []ledger.Account) []ledger.AccountID {
	ids := make([]ledger.AccountID, len(as))
	for i, a := range as {
		ids[i] = a.ID
	}
	return ids
}

// increasing reports whether ids are strictly increasing and above floor.
func increasing[T cmp.Ordered](ids []T, floor T) bool {
	for _, id := range ids {
		if id <= floor {
			return false
		}
		floor = id
	}
	return true
}

func testBulkAccounts(t *testing.T, open LedgerOpener) {
	st, b, first := openBulk(t, open)
	ctx := context.Background()
	// 250 rows: more than one multi-row statement on engines that chunk.
	in := bulkAccounts(41, "A", 250)
	in[1].Status = ledger.Frozen
	in[2].Status = ""                  // defaults to Open
	in[3].Balance, in[3].Held = 999, 5 // ignored: accounts open at zero
	got, err := b.CreateAccounts(ctx, in)
	if err != nil {
		t.Fatalf("CreateAccounts: %v", err)
	}
	if len(got) != len(in) {
		t.Fatalf("CreateAccounts returned %d accounts, want %d", len(got), len(in))
	}
	if ids := accountIDs(got); !increasing(ids, first.ID) {
		t.Fatalf("ids %v are not strictly increasing after %d", ids, first.ID)
	}
	want := slices.Clone(in)
	for i := range want {
		want[i].ID = got[i].ID
		if want[i].Status == "" {
			want[i].Status = ledger.Open
		}
		want[i].Balance, want[i].Held = 0, 0
	}
	if d := gocmp.Diff(want, got); d != "" {
		t.Errorf("CreateAccounts returned (-want +got):\n%s", d)
	}
	stored, err := st.CustomerAccounts(ctx, 41)
	if err != nil {
		t.Fatalf("CustomerAccounts: %v", err)
	}
	if d := gocmp.Diff(got, stored); d != "" {
		t.Errorf("read back (-returned +stored):\n%s", d)
	}
	one, err := st.Account(ctx, got[len(got)-1].ID)
	if err != nil || one.Number != in[len(in)-1].Number {
		t.Errorf("Account(last id) = %+v, %v; want number %s", one, err, in[len(in)-1].Number)
	}
	// A later single-row create still works and comes after the bulk ids.
	next, err := st.CreateAccount(ctx, bulkAccounts(41, "C", 1)[0])
	if err != nil || next.ID <= got[len(got)-1].ID {
		t.Errorf("CreateAccount after bulk = id %d, %v; want an id above %d", next.ID, err, got[len(got)-1].ID)
	}
}

func testBulkAccountsAtomic(t *testing.T, open LedgerOpener) {
	st, b, first := openBulk(t, open)
	ctx := context.Background()
	invalid := bulkAccounts(42, "I", 3)
	invalid[1].Kind = "piggybank"
	dupInBatch := bulkAccounts(42, "D", 3)
	dupInBatch[2].Number = dupInBatch[0].Number
	dupOfStored := bulkAccounts(42, "S", 150)
	dupOfStored[120].Number = first.Number // in the second chunk of 100
	for _, tc := range []struct {
		name string
		in   []ledger.Account
		want error
		kind bankbridge.Kind
	}{
		{"DuplicateOfStoredNumber", dupOfStored, ledger.ErrDuplicate, bankbridge.Conflict},
		{"DuplicateWithinBatch", dupInBatch, ledger.ErrDuplicate, bankbridge.Conflict},
		{"InvalidKind", invalid, nil, bankbridge.Invalid},
	} {
		got, err := b.CreateAccounts(ctx, tc.in)
		switch {
		case err == nil:
			t.Errorf("%s: CreateAccounts = %d accounts, nil error", tc.name, len(got))
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		case bankbridge.ErrorKind(err) != tc.kind:
			t.Errorf("%s: error kind %v, want %v (%v)", tc.name, bankbridge.ErrorKind(err), tc.kind, err)
		}
	}
	if as, err := st.CustomerAccounts(ctx, 42); err != nil || len(as) != 0 {
		t.Errorf("after failed bulk creates: CustomerAccounts = %d accounts (%v), want none", len(as), err)
	}
	// Nothing is left half-open: the same accounts, fixed, go in now.
	dupOfStored[120].Number = "S99999999"
	got, err := b.CreateAccounts(ctx, dupOfStored)
	if err != nil {
		t.Fatalf("CreateAccounts after failures: %v", err)
	}
	if !increasing(accountIDs(got), first.ID) {
		t.Errorf("ids %v are not strictly increasing after %d", accountIDs(got), first.ID)
	}
	if as, err := st.CustomerAccounts(ctx, 42); err != nil || len(as) != len(dupOfStored) {
		t.Errorf("CustomerAccounts = %d accounts (%v), want %d", len(as), err, len(dupOfStored))
	}
}

func testBulkCards(t *testing.T, open LedgerOpener) {
	st, b, first := openBulk(t, open)
	ctx := context.Background()
	as, err := b.CreateAccounts(ctx, bulkAccounts(43, "K", 2))
	if err != nil {
		t.Fatalf("CreateAccounts: %v", err)
	}
	in := make([]ledger.Card, 130)
	for i := range in {
		in[i] = ledger.Card{Account: as[i%2].ID, Customer: 43, Last4: fmt.Sprintf("%04d", i), Network: "visa",
			Status: ledger.CardActive, Created: t0.Add(timeStep(i))}
	}
	in[0].Account = first.ID
	in[5].Status = ledger.CardFrozen
	got, err := b.CreateCards(ctx, in)
	if err != nil {
		t.Fatalf("CreateCards: %v", err)
	}
	ids := make([]ledger.CardID, len(got))
	for i, c := range got {
		ids[i] = c.ID
	}
	if len(got) != len(in) || !increasing(ids, 0) {
		t.Fatalf("CreateCards ids %v: want %d strictly increasing", ids, len(in))
	}
	want := slices.Clone(in)
	for i := range want {
		want[i].ID = got[i].ID
	}
	if d := gocmp.Diff(want, got); d != "" {
		t.Errorf("CreateCards returned (-want +got):\n%s", d)
	}
	stored, err := st.CustomerCards(ctx, 43)
	if err != nil {
		t.Fatalf("CustomerCards: %v", err)
	}
	if d := gocmp.Diff(got, stored); d != "" {
		t.Errorf("read back (-returned +stored):\n%s", d)
	}
	// A card given no status is active.
	more, err := b.CreateCards(ctx, []ledger.Card{{Account: as[0].ID, Customer: 44, Last4: "0001", Network: "mastercard", Created: t0}})
	if err != nil || len(more) != 1 || more[0].Status != ledger.CardActive || more[0].ID <= ids[len(ids)-1] {
		t.Errorf("CreateCards without status = %+v, %v; want one active card after id %d", more, err, ids[len(ids)-1])
	}
}

func testBulkCardsAtomic(t *testing.T, open LedgerOpener) {
	st, b, first := openBulk(t, open)
	ctx := context.Background()
	in := make([]ledger.Card, 5)
	for i := range in {
		in[i] = ledger.Card{Account: first.ID, Customer: 45, Last4: "4242", Network: "visa", Status: ledger.CardActive, Created: t0}
	}
	in[2].Account = 987654
	if got, err := b.CreateCards(ctx, in); !errors.Is(err, ledger.ErrAccountNotFound) {
		t.Errorf("CreateCards with an unknown account = %d cards, %v; want ErrAccountNotFound", len(got), err)
	}
	if cs, err := st.CustomerCards(ctx, 45); err != nil || len(cs) != 0 {
		t.Errorf("after a failed CreateCards: CustomerCards = %+v, %v; want none", cs, err)
	}
	in[2].Account = first.ID
	if got, err := b.CreateCards(ctx, in); err != nil || len(got) != len(in) {
		t.Errorf("CreateCards after the failure = %d cards, %v; want %d", len(got), err, len(in))
	}
}

func testBulkPayees(t *testing.T, open LedgerOpener) {
	st, b, first := openBulk(t, open)
	ctx := context.Background()
	in := make([]ledger.Payee, 120)
	for i := range in {
		in[i] = ledger.Payee{Customer: bankbridge.CustomerID(46 + i%2), Name: fmt.Sprintf("Payee %d", i), Nickname: fmt.Sprintf("p%03d", i),
			Created: t0.Add(timeStep(i))}
		if i%3 == 0 {
			in[i].Account = first.ID
		} else {
			in[i].Routing, in[i].Number = "021000021", ledger.AccountNumber(fmt.Sprintf("77%06d", i))
		}
	}
	// The same nickname for two customers is allowed.
	in[1].Nickname = in[0].Nickname
	got, err := b.CreatePayees(ctx, in)
	if err != nil {
		t.Fatalf("CreatePayees: %v", err)
	}
	ids := make([]ledger.PayeeID, len(got))
	for i, p := range got {
		ids[i] = p.ID
	}
	if len(got) != len(in) || !increasing(ids, 0) {
		t.Fatalf("CreatePayees ids %v: want %d strictly increasing", ids, len(in))
	}
	want := slices.Clone(in)
	for i := range want {
		want[i].ID = got[i].ID
	}
	if d := gocmp.Diff(want, got); d != "" {
		t.Errorf("CreatePayees returned (-want +got):\n%s", d)
	}
	var stored []ledger.Payee
	for _, c := range []bankbridge.CustomerID{46, 47} {
		ps, err := st.Payees(ctx, c)
		if err != nil {
			t.Fatalf("Payees(%d): %v", c, err)
		}
		stored = append(stored, ps...)
	}
	slices.SortFunc(stored, func(x, y ledger.Payee) int { return cmp.Compare(x.ID, y.ID) })
	if d := gocmp.Diff(got, stored); d != "" {
		t.Errorf("read back (-returned +stored):\n%s", d)
	}
}

func testBulkPayeesAtomic(t *testing.T, open LedgerOpener) {
	st, b, _ := openBulk(t, open)
	ctx := context.Background()
	if _, err := st.CreatePayee(ctx, ledger.Payee{Customer: 48, Name: "Mom", Nickname: "mom", Routing: "021000021", Number: "1234", Created: t0}); err != nil {
		t.Fatalf("CreatePayee: %v", err)
	}
	batch := func(nicks ...string) []ledger.Payee {
		ps := make([]ledger.Payee, len(nicks))
		for i, n := range nicks {
			ps[i] = ledger.Payee{Customer: 48, Name: "Name " + n, Nickname: n, Routing: "021000021", Number: "1234", Created: t0}
		}
		return ps
	}
	for _, tc := range []struct {
		name  string
		nicks []string
	}{
		{"DuplicateOfStoredNickname", []string{"a", "mom", "b"}},
		{"DuplicateWithinBatch", []string{"a", "b", "a"}},
	} {
		if got, err := b.CreatePayees(ctx, batch(tc.nicks...)); !errors.Is(err, ledger.ErrDuplicate) {
			t.Errorf("%s: CreatePayees = %d payees, %v; want ErrDuplicate", tc.name, len(got), err)
		}
	}
	if ps, err := st.Payees(ctx, 48); err != nil || len(ps) != 1 {
		t.Errorf("after failed CreatePayees: Payees = %+v, %v; want only mom", ps, err)
	}
	if got, err := b.CreatePayees(ctx, batch("a", "b")); err != nil || len(got) != 2 {
		t.Errorf("CreatePayees after the failures = %d payees, %v; want 2", len(got), err)
	}
}

func testBulkEmpty(t *testing.T, open LedgerOpener) {
	st, b, first := openBulk(t, open)
	ctx := context.Background()
	as, err := b.CreateAccounts(ctx, nil)
	if err != nil || len(as) != 0 {
		t.Errorf("CreateAccounts(nil) = %v, %v; want none, nil", as, err)
	}
	cs, err := b.CreateCards(ctx, []ledger.Card{})
	if err != nil || len(cs) != 0 {
		t.Errorf("CreateCards(empty) = %v, %v; want none, nil", cs, err)
	}
	ps, err := b.CreatePayees(ctx, nil)
	if err != nil || len(ps) != 0 {
		t.Errorf("CreatePayees(nil) = %v, %v; want none, nil", ps, err)
	}
	r, err := st.Verify(ctx)
	if err != nil || r.Accounts != 1 {
		t.Errorf("Verify = %+v, %v; want only the account %d", r, err, first.ID)
	}
}
