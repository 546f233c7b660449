package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/storetest"
)

// openLedger opens a fresh migrated database and returns its ledger store and the DB.
func openLedger(t testing.TB) (*postgres.LedgerStore, *postgres.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, testdb.MigratedPostgresURL(t, postgres.Migrations(), postgres.Open))
	storetest.NoErr(t, err)
	t.Cleanup(func() { db.Close() })
	return db.Ledger(), db
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// openLedgerSuite opens what the ledger's conformance suites take: the
// store and a way to run raw SQL on its database.
func openLedgerSuite(t testing.TB) (ledger.Store, func(string) error) {
	s, db := openLedger(t)
	return s, func(q string) error { _, err := db.Pool().Exec(context.Background(), q); return err }
}

// TestLedger runs the conformance suite every engine passes.
func TestLedger(t *testing.T) { t.Parallel(); storetest.Ledger(t, openLedgerSuite) }

// TestLedgerBulk runs the conformance suite of the bulk inserts.
func TestLedgerBulk(t *testing.T) { t.Parallel(); storetest.LedgerBulk(t, openLedgerSuite) }

// newAccount opens an account; unbounded ones play the bank's settlement.
func newAccount(t testing.TB, s ledger.Store, n int, limit ledger.Amount, unbounded bool) ledger.AccountID {
	t.Helper()
	kind := ledger.Checking
	if unbounded {
		kind = ledger.Internal
	}
	a, err := s.CreateAccount(context.Background(), ledger.Account{Customer: bankbridge.CustomerID(n%7 + 1), Kind: kind,
		Name: fmt.Sprintf("acct %d", n), Currency: "USD", Number: ledger.AccountNumber(fmt.Sprintf("NUM%08d", n)),
		Routing: "021000021", Limit: limit, Unbounded: unbounded, OpenedAt: t0})
	storetest.NoErr(t, err)
	return a.ID
}

func create(client, key string, from, to ledger.AccountID, amt ledger.Amount, desc string) ledger.Op {
	r := ledger.Move(client, key, from, to, amt, "USD", desc)
	return ledger.Op{Kind: ledger.OpCreate, Request: r, Hash: r.Hash()}
}

func hold(key string, from, to ledger.AccountID, amt ledger.Amount) ledger.Op {
	r := ledger.Move("t", key, from, to, amt, "USD", "hold "+key)
	r.Pending = true
	return ledger.Op{Kind: ledger.OpCreate, Request: r, Hash: r.Hash()}
}

func balances(t testing.TB, s ledger.Store, ids ...ledger.AccountID) [][2]ledger.Amount {
	t.Helper()
	out := make([][2]ledger.Amount, len(ids))
	for i, id := range ids {
		a, err := s.Account(context.Background(), id)
		storetest.NoErr(t, err)
		out[i] = [2]ledger.Amount{a.Balance, a.Held}
	}
	return out
}

func verifyOK(t testing.TB, s ledger.Store) ledger.Report {
	t.Helper()
	r, err := s.Verify(context.Background())
	storetest.NoErr(t, err)
	if !r.OK() {
		t.Fatalf("Verify found problems: %q", r.Problems)
	}
	return r
}

func TestLedgerApply(t *testing.T) {
	t.Parallel()

	t.Run("RefusedOpDoesNotFailItsNeighbours", func(t *testing.T) {
		t.Parallel()
		s, _ := openLedger(t)
		ctx := context.Background()
		bank := newAccount(t, s, 0, 0, true)
		a, b := newAccount(t, s, 1, 0, false), newAccount(t, s, 2, 0, false)
		ops := []ledger.Op{
			create("t", "fund", bank, a, 100, "fund"),
			create("t", "k1", a, b, 60, "first"),
			create("t", "k2", a, b, 60, "too much"),
			create("t", "k3", a, b, 40, "rest"),
			create("t", "k4", 999999, a, 1, "unknown account"),
		}
		res, err := s.Apply(ctx, ops, t0)
		storetest.NoErr(t, err)
		wantErr := []error{nil, nil, ledger.ErrInsufficientFunds, nil, ledger.ErrAccountNotFound}
		for i, r := range res {
			if !errors.Is(r.Err, wantErr[i]) || (wantErr[i] == nil) != (r.Err == nil) {
				t.Errorf("op %d: err %v, want %v", i, r.Err, wantErr[i])
			}
			if r.Err == nil && (r.Transfer.ID == 0 || r.Replayed) {
				t.Errorf("op %d: transfer %+v replayed %v", i, r.Transfer, r.Replayed)
			}
		}
		if got, want := balances(t, s, bank, a, b), [][2]ledger.Amount{{-100, 0}, {0, 0}, {100, 0}}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("balances %v, want %v", got, want)
		}
		got, err := s.Transfer(ctx, res[1].Transfer.ID)
		storetest.NoErr(t, err)
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", res[1].Transfer) {
			t.Errorf("stored transfer\n%+v\nApply returned\n%+v", got, res[1].Transfer)
		}
		r := verifyOK(t, s)
		if r.Accounts != 3 || r.Transfers != 3 || r.Postings != 6 {
			t.Errorf("report %+v", r)
		}
	})

	t.Run("ReplaysChangeNothing", func(t *testing.T) {
		t.Parallel()
		s, _ := openLedger(t)
		ctx := context.Background()
		bank := newAccount(t, s, 0, 0, true)
		a := newAccount(t, s, 1, 0, false)
		first, err := s.Apply(ctx, []ledger.Op{create("t", "k1", bank, a, 100, "x"), create("t", "k1", bank, a, 100, "x")}, t0)
		storetest.NoErr(t, err)
		if first[0].Replayed || !first[1].Replayed || first[0].Transfer.ID != first[1].Transfer.ID {
			t.Fatalf("in-batch duplicate: %+v", first)
		}
		again, err := s.Apply(ctx, []ledger.Op{
			create("t", "k1", bank, a, 100, "x"),
			create("t", "k1", bank, a, 101, "x"),
			create("other", "k1", bank, a, 5, "same key, other client"),
		}, t0.Add(time.Hour))
		storetest.NoErr(t, err)
		if !again[0].Replayed || again[0].Transfer.ID != first[0].Transfer.ID || !again[0].Transfer.Created.Equal(t0) {
			t.Errorf("replay: %+v", again[0])
		}
		if fmt.Sprintf("%+v", again[0].Transfer) != fmt.Sprintf("%+v", first[0].Transfer) {
			t.Errorf("replay returned\n%+v\nfirst was\n%+v", again[0].Transfer, first[0].Transfer)
		}
		if !errors.Is(again[1].Err, ledger.ErrKeyReused) {
			t.Errorf("other body: %v", again[1].Err)
		}
		if again[2].Err != nil || again[2].Replayed {
			t.Errorf("other client: %+v", again[2])
		}
		if got := balances(t, s, a); got[0][0] != 105 {
			t.Errorf("balance %v, want 105", got)
		}
		verifyOK(t, s)
	})

	t.Run("HoldsPostAndVoid", func(t *testing.T) {
		t.Parallel()
		s, _ := openLedger(t)
		ctx := context.Background()
		bank := newAccount(t, s, 0, 0, true)
		a, b := newAccount(t, s, 1, 50, false), newAccount(t, s, 2, 0, false)
		res, err := s.Apply(ctx, []ledger.Op{create("t", "fund", bank, a, 100, "fund"), hold("h1", a, b, 70), hold("h2", a, b, 70), hold("h3", a, b, 60)}, t0)
		storetest.NoErr(t, err)
		if res[1].Err != nil || res[2].Err != nil || !errors.Is(res[3].Err, ledger.ErrInsufficientFunds) {
			t.Fatalf("holds: %+v", res)
		}
		if got := balances(t, s, a, b); fmt.Sprint(got) != fmt.Sprint([][2]ledger.Amount{{100, 140}, {0, 0}}) {
			t.Errorf("after holds %v", got)
		}
		h1, h2 := res[1].Transfer.ID, res[2].Transfer.ID
		now := t0.Add(time.Minute)
		res, err = s.Apply(ctx, []ledger.Op{
			{Kind: ledger.OpPost, Transfer: h1},
			{Kind: ledger.OpVoid, Transfer: h2},
			{Kind: ledger.OpPost, Transfer: h1},
			{Kind: ledger.OpPost, Transfer: h2},
			{Kind: ledger.OpVoid, Transfer: 424242},
		}, now)
		storetest.NoErr(t, err)
		switch {
		case res[0].Err != nil || res[0].Transfer.Status != ledger.Posted || !res[0].Transfer.Posted.Equal(now):
			t.Errorf("post: %+v", res[0])
		case res[1].Err != nil || res[1].Transfer.Status != ledger.Voided:
			t.Errorf("void: %+v", res[1])
		case !res[2].Replayed:
			t.Errorf("post twice: %+v", res[2])
		case !errors.Is(res[3].Err, ledger.ErrNotPending):
			t.Errorf("post voided: %+v", res[3])
		case !errors.Is(res[4].Err, ledger.ErrTransferNotFound):
			t.Errorf("void unknown: %+v", res[4])
		}
		if got := balances(t, s, a, b); fmt.Sprint(got) != fmt.Sprint([][2]ledger.Amount{{30, 0}, {70, 0}}) {
			t.Errorf("after settle %v", got)
		}
		tr, err := s.Transfer(ctx, h2)
		if err != nil || tr.Status != ledger.Voided || !tr.Voided.Equal(now) || !tr.Posted.IsZero() {
			t.Errorf("voided hold reads %+v, %v", tr, err)
		}
		verifyOK(t, s)
	})

	t.Run("SubMicrosecondTimesReadBackEqual", func(t *testing.T) {
		t.Parallel()
		s, _ := openLedger(t)
		ctx := context.Background()
		bank, a := newAccount(t, s, 0, 0, true), newAccount(t, s, 1, 0, false)
		res, err := s.Apply(ctx, []ledger.Op{create("t", "k", bank, a, 1, "x")}, t0.Add(1234567*time.Nanosecond))
		if err != nil || res[0].Err != nil {
			t.Fatal(err, res)
		}
		got, err := s.Transfer(ctx, res[0].Transfer.ID)
		storetest.NoErr(t, err)
		if !got.Created.Equal(res[0].Transfer.Created) {
			t.Errorf("created %v read back as %v", res[0].Transfer.Created, got.Created)
		}
	})
}

// TestLedgerConcurrentApply runs batches from several goroutines over
// overlapping accounts, as several batchers or instances would, and checks
// that nothing deadlocks, money is conserved, each balance is the fold of
// the transfers that succeeded, and Verify holds.
func TestLedgerConcurrentApply(t *testing.T) {
	t.Parallel()
	s, _ := openLedger(t)
	ctx := context.Background()
	const accounts, workers, batches, size = 30, 6, 15, 40
	bank := newAccount(t, s, 0, 0, true)
	ids := make([]ledger.AccountID, accounts)
	var fund []ledger.Op
	for i := range ids {
		ids[i] = newAccount(t, s, i+1, 20, false)
		fund = append(fund, create("t", fmt.Sprintf("fund%d", i), bank, ids[i], 500, "fund"))
	}
	if _, err := s.Apply(ctx, fund, t0); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	want := map[ledger.AccountID]ledger.Amount{}
	for _, id := range ids {
		want[id] = 500
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for n := range batches {
				ops := make([]ledger.Op, size)
				for i := range ops {
					from := ids[rng.IntN(accounts)]
					to := ids[rng.IntN(accounts)]
					for to == from {
						to = ids[rng.IntN(accounts)]
					}
					ops[i] = create("t", fmt.Sprintf("w%d-b%d-%d", w, n, i), from, to, ledger.Amount(1+rng.IntN(150)), "x")
				}
				var res []ledger.Result
				var err error
				for range 5 { // what the Service does: bounded retries of Unavailable
					res, err = s.Apply(ctx, ops, t0.Add(time.Duration(n)*time.Second))
					if bankbridge.ErrorKind(err) != bankbridge.Unavailable {
						break
					}
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for i, r := range res {
					switch {
					case r.Err == nil:
						p := ops[i].Request.Postings
						want[p[0].Account] += p[0].Amount
						want[p[1].Account] += p[1].Amount
					case !errors.Is(r.Err, ledger.ErrInsufficientFunds):
						errs <- fmt.Errorf("op %d: %v", i, r.Err)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var sum ledger.Amount
	for _, id := range append(ids, bank) {
		a, err := s.Account(ctx, id)
		storetest.NoErr(t, err)
		sum += a.Balance
		if id != bank && a.Balance != want[id] {
			t.Errorf("account %d: balance %d, want %d", id, a.Balance, want[id])
		}
	}
	if sum != 0 {
		t.Errorf("balances sum to %d", sum)
	}
	verifyOK(t, s)
}

// TestLedgerKeyRace applies the same new keys from two transactions at once.
func TestLedgerKeyRace(t *testing.T) {
	t.Parallel()
	const rounds = 10
	apply2 := func(s ledger.Store, batches [2][]ledger.Op) (res [2][]ledger.Result, errs [2]error) {
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() { res[i], errs[i] = s.Apply(context.Background(), batches[i], t0) })
		}
		wg.Wait()
		return res, errs
	}

	// The same requests (a client's retry racing its original) lock the same
	// accounts, so the second batch reads the keys only once the first has
	// committed, and replays: no error, no second transfer.
	t.Run("SameRequestReplays", func(t *testing.T) {
		t.Parallel()
		s, _ := openLedger(t)
		bank, a := newAccount(t, s, 0, 0, true), newAccount(t, s, 1, 0, false)
		for round := range rounds {
			x := create("t", fmt.Sprintf("race%d-x", round), bank, a, 1, "race")
			y := create("t", fmt.Sprintf("race%d-y", round), bank, a, 1, "race")
			res, errs := apply2(s, [2][]ledger.Op{{x, y}, {y, x}})
			for i := range 2 {
				if errs[i] != nil {
					t.Fatalf("round %d: %v", round, errs[i])
				}
			}
			if res[0][0].Transfer.ID != res[1][1].Transfer.ID || res[0][1].Transfer.ID != res[1][0].Transfer.ID ||
				res[0][0].Replayed == res[1][1].Replayed || res[0][1].Replayed == res[1][0].Replayed {
				t.Fatalf("round %d: %+v", round, res)
			}
		}
		if got := balances(t, s, a); got[0][0] != 2*rounds {
			t.Errorf("balance %v, want %d", got, 2*rounds)
		}
		verifyOK(t, s)
	})

	// Keys reused with other bodies on disjoint accounts, in opposite
	// orders: neither batch waits for the other's accounts, so they meet on
	// the unique key. One books both; the other is Unavailable with nothing
	// written, and on retry learns both keys were reused.
	t.Run("ReusedKeyOnOtherAccounts", func(t *testing.T) {
		t.Parallel()
		s, _ := openLedger(t)
		bank := newAccount(t, s, 0, 0, true)
		a, c := newAccount(t, s, 1, 0, false), newAccount(t, s, 2, 0, false)
		for round := range rounds {
			kx, ky := fmt.Sprintf("race%d-x", round), fmt.Sprintf("race%d-y", round)
			res, errs := apply2(s, [2][]ledger.Op{
				{create("t", kx, bank, a, 1, "to a"), create("t", ky, bank, a, 1, "to a")},
				{create("t", ky, bank, c, 1, "to c"), create("t", kx, bank, c, 1, "to c")},
			})
			for i := range 2 {
				switch {
				case errs[i] == nil:
					for _, r := range res[i] {
						if r.Err != nil && !errors.Is(r.Err, ledger.ErrKeyReused) {
							t.Fatalf("round %d: %v", round, r.Err)
						}
					}
				case bankbridge.ErrorKind(errs[i]) != bankbridge.Unavailable:
					t.Fatalf("round %d: %v", round, errs[i])
				}
			}
		}
		got := balances(t, s, a, c)
		if got[0][0]+got[1][0] != 2*rounds {
			t.Errorf("balances %v: want %d booked in all", got, 2*rounds)
		}
		verifyOK(t, s)
	})
}

func TestLedgerHistory(t *testing.T) {
	t.Parallel()
	s, _ := openLedger(t)
	ctx := context.Background()
	bank, a := newAccount(t, s, 0, 0, true), newAccount(t, s, 1, 0, false)
	var ops []ledger.Op
	for i := range 25 {
		desc := fmt.Sprintf("coffee %d", i)
		if i%5 == 0 {
			desc = fmt.Sprintf("50%% off_%d", i)
		}
		op := create("t", fmt.Sprint(i), bank, a, ledger.Amount(i+1), desc)
		op.Request.At = t0.Add(time.Duration(i) * time.Minute)
		op.Hash = op.Request.Hash()
		ops = append(ops, op)
	}
	if _, err := s.Apply(ctx, ops, t0); err != nil {
		t.Fatal(err)
	}
	// Page through all 25 entries, 10 at a time.
	var got []ledger.Amount
	q := ledger.HistoryQuery{Account: a, Limit: 10}
	for pages := 0; ; pages++ {
		p, err := s.History(ctx, q)
		storetest.NoErr(t, err)
		for _, e := range p.Entries {
			got = append(got, e.Amount)
		}
		if p.Next == nil {
			if pages != 2 {
				t.Errorf("%d pages, want 3", pages+1)
			}
			break
		}
		q.After = p.Next
	}
	if len(got) != 25 || got[0] != 25 || got[24] != 1 {
		t.Errorf("history amounts %v", got)
	}
	for _, tc := range []struct {
		name string
		q    ledger.HistoryQuery
		want int
	}{
		{"SearchEscapesPercent", ledger.HistoryQuery{Account: a, Search: "%"}, 5},
		{"SearchEscapesUnderscore", ledger.HistoryQuery{Account: a, Search: "_"}, 5},
		{"SearchSubstring", ledger.HistoryQuery{Account: a, Search: "f_1"}, 2}, // off_10, off_15
		{"SearchIgnoresCase", ledger.HistoryQuery{Account: a, Search: "COFFEE"}, 20},
		{"FromTo", ledger.HistoryQuery{Account: a, From: t0.Add(3 * time.Minute), To: t0.Add(7 * time.Minute)}, 4},
		{"Status", ledger.HistoryQuery{Account: a, Status: ledger.Pending}, 0},
		{"DebitSide", ledger.HistoryQuery{Account: bank, Limit: 500}, 25},
	} {
		p, err := s.History(ctx, tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(p.Entries) != tc.want {
			t.Errorf("%s: %d entries, want %d", tc.name, len(p.Entries), tc.want)
		}
	}
	if _, err := s.History(ctx, ledger.HistoryQuery{Account: a, Limit: 501}); !errors.Is(err, ledger.ErrLimit) {
		t.Errorf("limit 501: %v", err)
	}
}

func TestLedgerVerifyNamesProblems(t *testing.T) {
	t.Parallel()
	s, db := openLedger(t)
	ctx := context.Background()
	bank, a := newAccount(t, s, 0, 0, true), newAccount(t, s, 1, 0, false)
	res, err := s.Apply(ctx, []ledger.Op{create("t", "k", bank, a, 100, "x")}, t0)
	storetest.NoErr(t, err)
	verifyOK(t, s)
	if _, err := db.Pool().Exec(ctx, `UPDATE accounts SET balance = balance + 1 WHERE id = $1`, int64(a)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE postings SET amount = -99 WHERE transfer_id = $1 AND amount < 0`, int64(res[0].Transfer.ID)); err != nil {
		t.Fatal(err)
	}
	r, err := s.Verify(ctx)
	storetest.NoErr(t, err)
	want := []string{
		fmt.Sprintf("account %d: stored balance -100, but its posted postings sum to -99", bank),
		fmt.Sprintf("account %d: stored balance 101, but its posted postings sum to 100", a),
		fmt.Sprintf("transfer %d: postings sum to 1 over 2 postings", res[0].Transfer.ID),
		"currency USD: balances sum to 1 over 2 accounts, not zero",
	}
	if fmt.Sprintf("%q", r.Problems) != fmt.Sprintf("%q", want) {
		t.Errorf("problems\n%q\nwant\n%q", r.Problems, want)
	}
}

func TestLedgerReferenceData(t *testing.T) {
	t.Parallel()
	s, _ := openLedger(t)
	ctx := context.Background()
	a := newAccount(t, s, 1, 0, false)

	_, err := s.CreateAccount(ctx, ledger.Account{Kind: ledger.Checking, Currency: "USD", Number: "NUM00000001", Name: "dup"})
	if !errors.Is(err, ledger.ErrDuplicate) {
		t.Errorf("duplicate number: %v", err)
	}
	if _, err := s.Account(ctx, 987654); !errors.Is(err, ledger.ErrAccountNotFound) {
		t.Errorf("unknown account: %v", err)
	}
	if err := s.SetAccountStatus(ctx, 987654, ledger.Frozen); !errors.Is(err, ledger.ErrAccountNotFound) {
		t.Errorf("freeze unknown: %v", err)
	}
	storetest.NoErr(t, s.SetAccountStatus(ctx, a, ledger.Frozen))
	accts, err := s.CustomerAccounts(ctx, 2)
	if err != nil || len(accts) != 1 || accts[0].ID != a || accts[0].Status != ledger.Frozen || !accts[0].OpenedAt.Equal(t0) {
		t.Errorf("customer accounts %+v, %v", accts, err)
	}
	if _, err := s.Transfer(ctx, 5); !errors.Is(err, ledger.ErrTransferNotFound) {
		t.Errorf("unknown transfer: %v", err)
	}

	m, err := s.CreateMerchant(ctx, ledger.Merchant{Name: "Corner Shop", MCC: "5411", Category: "groceries", City: "Austin", Country: "US"})
	storetest.NoErr(t, err)
	if got, err := s.Merchant(ctx, m.ID); err != nil || got != m {
		t.Errorf("merchant %+v, %v; want %+v", got, err, m)
	}
	if _, err := s.Merchant(ctx, m.ID+100); bankbridge.ErrorKind(err) != bankbridge.NotFound {
		t.Errorf("unknown merchant: %v", err)
	}

	c, err := s.CreateCard(ctx, ledger.Card{Account: a, Customer: 2, Last4: "4242", Network: "visa", Created: t0})
	storetest.NoErr(t, err)
	if _, err := s.CreateCard(ctx, ledger.Card{Account: 987654, Customer: 2, Last4: "1111", Network: "visa"}); !errors.Is(err, ledger.ErrAccountNotFound) {
		t.Errorf("card on unknown account: %v", err)
	}
	storetest.NoErr(t, s.SetCardStatus(ctx, c.ID, ledger.CardFrozen))
	if err := s.SetCardStatus(ctx, c.ID+100, ledger.CardFrozen); bankbridge.ErrorKind(err) != bankbridge.NotFound {
		t.Errorf("unknown card: %v", err)
	}
	cards, err := s.CustomerCards(ctx, 2)
	c.Status = ledger.CardFrozen
	if err != nil || len(cards) != 1 || cards[0] != c {
		t.Errorf("cards %+v, %v; want %+v", cards, err, c)
	}

	p, err := s.CreatePayee(ctx, ledger.Payee{Customer: 2, Name: "Sam Lee", Nickname: "Sam", Routing: "021000021", Number: "12345678", Created: t0})
	storetest.NoErr(t, err)
	if _, err := s.CreatePayee(ctx, ledger.Payee{Customer: 2, Name: "Sam Other", Nickname: "Sam"}); !errors.Is(err, ledger.ErrDuplicate) {
		t.Errorf("duplicate nickname: %v", err)
	}
	if _, err := s.CreatePayee(ctx, ledger.Payee{Customer: 3, Name: "Sam Lee", Nickname: "Sam"}); err != nil {
		t.Errorf("same nickname, other customer: %v", err)
	}
	payees, err := s.Payees(ctx, 2)
	if err != nil || len(payees) != 1 || payees[0] != p {
		t.Errorf("payees %+v, %v; want %+v", payees, err, p)
	}
}
