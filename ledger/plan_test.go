package ledger_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bankbridge/bankbridge/ledger"
)

// The tests in this file drive ledger.Decide, the ledger's rulebook, the way
// a store does: read a snapshot of what a batch touches, decide, write the
// plan back. The "store" is a few maps, so thousands of batches run in
// milliseconds and every invariant is checked after every batch.

// chooser makes the generator's choices: a seeded generator in the property
// test, the fuzzer's bytes in FuzzDecide.
type chooser interface {
	intn(n int) int
	more() bool
}

type seeded struct {
	r    *rand.Rand
	left int
}

func (c *seeded) intn(n int) int { return c.r.IntN(n) }
func (c *seeded) more() bool     { c.left--; return c.left >= 0 }

type fuzzed struct{ b []byte }

func (c *fuzzed) intn(n int) int {
	if len(c.b) == 0 {
		return 0
	}
	v := int(c.b[0])
	c.b = c.b[1:]
	return v % n
}
func (c *fuzzed) more() bool { return len(c.b) > 0 }

// unknown is an account id no snapshot ever holds.
const unknown ledger.AccountID = 99

// book is the stored state between batches: what a database would hold.
type book struct {
	accounts map[ledger.AccountID]ledger.Account
	byKey    map[ledger.Key]ledger.Stored
	byID     map[ledger.TransferID]ledger.Transfer
	lastID   ledger.TransferID
	pending  []ledger.TransferID // holds ever made, to post or void
	asked    []ledger.Request    // every request submitted, for replays and reuse
	keys     int
	outcomes map[string]int
}

func newBook() *book {
	b := &book{accounts: map[ledger.AccountID]ledger.Account{}, byKey: map[ledger.Key]ledger.Stored{},
		byID: map[ledger.TransferID]ledger.Transfer{}, outcomes: map[string]int{}}
	for _, a := range []ledger.Account{
		{ID: 1, Currency: "USD", Status: ledger.Open, Unbounded: true}, // settlement
		{ID: 2, Currency: "USD", Status: ledger.Open},
		{ID: 3, Currency: "USD", Status: ledger.Open, Limit: 5_000},    // overdraft
		{ID: 4, Currency: "USD", Status: ledger.Open, Limit: 100_000},  // credit card
		{ID: 5, Currency: "USD", Status: ledger.Frozen, Limit: 20_000}, // receives, never sends
		{ID: 6, Currency: "USD", Status: ledger.Closed},
		{ID: 7, Currency: "EUR", Status: ledger.Open, Unbounded: true},
		{ID: 8, Currency: "EUR", Status: ledger.Open},
	} {
		b.accounts[a.ID] = a
	}
	return b
}

var accountIDs = []ledger.AccountID{1, 2, 3, 4, 5, 6, 7, 8}

// amount is mostly small, sometimes larger than any limit, rarely close to
// the int64 bound so that overflow is reached.
func amount(c chooser) ledger.Amount {
	switch c.intn(16) {
	case 0:
		return ledger.Amount(math.MaxInt64 - c.intn(1000))
	case 1, 2:
		return ledger.Amount(50_000 + c.intn(200_000))
	default:
		return ledger.Amount(1 + c.intn(20_000))
	}
}

// request makes a fresh request, valid by Request.Validate, or reports false.
func (b *book) request(c chooser) (ledger.Request, bool) {
	cur := ledger.Currency("USD")
	if c.intn(5) == 0 {
		cur = "EUR"
	}
	pick := func() ledger.AccountID {
		switch c.intn(40) {
		case 0:
			return unknown
		case 1, 2: // any currency, so that mismatches are tried
			return accountIDs[c.intn(len(accountIDs))]
		}
		if cur == "EUR" {
			return accountIDs[6+c.intn(2)]
		}
		return accountIDs[c.intn(6)]
	}
	from, to := pick(), pick()
	amt := amount(c)
	if a, ok := b.accounts[from]; ok && !a.Unbounded && a.Spendable() > 0 && c.intn(6) == 0 {
		amt = a.Spendable() + ledger.Amount(c.intn(2)) // the limit exactly, or one past it
	}
	postings := []ledger.Posting{{Account: from, Amount: -amt}, {Account: to, Amount: amt}}
	if c.intn(4) == 0 { // three legs: one debit split between two credits
		third := pick()
		part := amt / 2
		postings = []ledger.Posting{{Account: from, Amount: -amt}, {Account: to, Amount: amt - part}, {Account: third, Amount: part}}
	}
	b.keys++
	r := ledger.Request{Client: []string{"web", "partner-1"}[c.intn(2)], Key: fmt.Sprint("k", b.keys),
		Currency: cur, Postings: postings, Description: "test", Pending: c.intn(3) == 0}
	return r, r.Validate() == nil
}

// batch makes up to eight ops (fewer when a choice has nothing to act on): fresh transfers and holds, posts and voids of
// stored transfers, retries of earlier requests and reuses of their keys with
// another body, inside the batch and across batches.
func (b *book) batch(c chooser) []ledger.Op {
	var ops []ledger.Op
	create := func(r ledger.Request) {
		ops = append(ops, ledger.Op{Kind: ledger.OpCreate, Request: r, Hash: r.Hash()})
	}
	for range 1 + c.intn(8) {
		switch k := c.intn(20); {
		case k < 10:
			if r, ok := b.request(c); ok {
				b.asked = append(b.asked, r)
				create(r)
			}
		case k < 13 && len(b.asked) > 0: // a retry: same key, same body
			create(b.asked[c.intn(len(b.asked))])
		case k < 15 && len(b.asked) > 0: // the same key for another request
			r := b.asked[c.intn(len(b.asked))]
			r.Description = "something else"
			create(r)
		case k < 20 && b.lastID > 0:
			kind := ledger.OpPost
			if c.intn(2) == 0 {
				kind = ledger.OpVoid
			}
			id := ledger.TransferID(1 + c.intn(int(b.lastID)+1)) // one past the last is unknown
			if len(b.pending) > 0 && c.intn(3) > 0 {
				id = b.pending[c.intn(len(b.pending))]
			}
			ops = append(ops, ledger.Op{Kind: kind, Transfer: id})
		}
	}
	return ops
}

// snapshot reads what the batch touches, as a store does under its locks.
func (b *book) snapshot(ops []ledger.Op) ledger.Snapshot {
	s := ledger.Snapshot{Accounts: map[ledger.AccountID]*ledger.Account{}, Existing: map[ledger.Key]ledger.Stored{},
		Targets: map[ledger.TransferID]*ledger.Transfer{}}
	for _, op := range ops {
		if op.Kind == ledger.OpCreate {
			k := ledger.Key{Client: op.Request.Client, Key: op.Request.Key}
			if st, ok := b.byKey[k]; ok {
				s.Existing[k] = st
			}
		} else if t, ok := b.byID[op.Transfer]; ok {
			s.Targets[op.Transfer] = &t
		}
	}
	for _, id := range ledger.Accounts(ops, s.Targets) {
		if a, ok := b.accounts[id]; ok {
			s.Accounts[id] = &a
		}
	}
	return s
}

// step decides one batch, checks each result against what the book says it
// must be, writes the plan back and checks the invariants.
func (b *book) step(t *testing.T, ops []ledger.Op, now time.Time) {
	s := b.snapshot(ops)
	p := ledger.Decide(ops, s, now)
	ids := make([]ledger.TransferID, len(p.New))
	for i := range ids {
		ids[i] = b.lastID + ledger.TransferID(i) + 1
	}
	p.SetIDs(ids)
	b.checkResults(t, ops, p)

	touched := map[ledger.AccountID]bool{}
	for _, id := range p.Touched {
		touched[id] = true
		b.accounts[id] = *s.Accounts[id]
	}
	for id, a := range s.Accounts {
		if !touched[id] && *a != b.accounts[id] {
			t.Fatalf("account %d changed but is not in Plan.Touched", id)
		}
	}
	for _, n := range p.New {
		tr := n.Transfer
		b.byKey[ledger.Key{Client: tr.Client, Key: tr.Key}] = ledger.Stored{Transfer: tr, Hash: n.Hash}
		b.byID[tr.ID] = tr
		b.lastID = tr.ID
		if tr.Status == ledger.Pending {
			b.pending = append(b.pending, tr.ID)
		}
	}
	for _, c := range p.Changes {
		tr := b.byID[c.ID]
		tr.Status = c.Status
		if c.Status == ledger.Posted {
			tr.Posted = c.At
		} else {
			tr.Voided = c.At
		}
		b.byID[c.ID] = tr
		k := ledger.Key{Client: tr.Client, Key: tr.Key}
		b.byKey[k] = ledger.Stored{Transfer: tr, Hash: b.byKey[k].Hash}
	}
	b.checkInvariants(t)
	b.checkRetry(t, ops, p, now.Add(time.Second))
}

// checkResults holds each result to what the stored keys and statuses say,
// following the batch in order as Decide must.
func (b *book) checkResults(t *testing.T, ops []ledger.Op, p *ledger.Plan) {
	keys := map[ledger.Key]ledger.Stored{}
	for k, st := range b.byKey {
		keys[k] = st
	}
	status := map[ledger.TransferID]ledger.TransferStatus{}
	for id, tr := range b.byID {
		status[id] = tr.Status
	}
	// avail follows each account's available balance through the batch, to
	// tell a true refusal for funds from a false one.
	avail := map[ledger.AccountID]ledger.Amount{}
	for id, a := range b.accounts {
		avail[id] = a.Available()
	}
	for i, op := range ops {
		r := p.Results[i]
		switch op.Kind {
		case ledger.OpCreate:
			k := ledger.Key{Client: op.Request.Client, Key: op.Request.Key}
			st, used := keys[k]
			switch {
			case used && st.Hash != op.Hash:
				if !errors.Is(r.Err, ledger.ErrKeyReused) {
					t.Fatalf("op %d reuses key %v with another body: got %+v, want ErrKeyReused", i, k, r)
				}
				b.outcomes["key reused"]++
			case used:
				if r.Err != nil || !r.Replayed || r.Transfer.ID != st.Transfer.ID {
					t.Fatalf("op %d retries key %v: got %+v, want a replay of transfer %d", i, k, r, st.Transfer.ID)
				}
				b.outcomes["replayed"]++
			case r.Err == nil:
				if r.Replayed || r.Transfer.ID == 0 || r.Transfer.Key != op.Request.Key {
					t.Fatalf("op %d creates: got %+v", i, r)
				}
				// Its id is new to this batch's settles too: a store reads
				// their targets before deciding, when it does not exist yet.
				keys[k] = ledger.Stored{Transfer: r.Transfer, Hash: op.Hash}
				b.outcomes["created "+string(r.Transfer.Status)]++
				for _, q := range op.Request.Postings {
					if q.Amount < 0 || !op.Request.Pending { // credits of a hold wait for its post
						avail[q.Account] += q.Amount
					}
				}
			case errors.Is(r.Err, ledger.ErrInsufficientFunds):
				short := false
				for _, q := range op.Request.Postings {
					a := b.accounts[q.Account]
					short = short || q.Amount < 0 && !a.Unbounded && avail[q.Account]+q.Amount < -a.Limit
				}
				if !short {
					t.Fatalf("op %d refused for funds, but every debit fits its limit: %+v", i, op.Request)
				}
				fallthrough
			default:
				b.outcomes["refused: "+r.Err.Error()]++
			}
		case ledger.OpPost, ledger.OpVoid:
			want := ledger.Posted
			if op.Kind == ledger.OpVoid {
				want = ledger.Voided
			}
			st, ok := status[op.Transfer]
			switch {
			case !ok:
				if !errors.Is(r.Err, ledger.ErrTransferNotFound) {
					t.Fatalf("op %d settles unknown transfer %d: got %+v", i, op.Transfer, r)
				}
			case st == want:
				if r.Err != nil || !r.Replayed || r.Transfer.ID != op.Transfer {
					t.Fatalf("op %d settles transfer %d again: got %+v, want a replay", i, op.Transfer, r)
				}
				b.outcomes["settle replayed"]++
			case st != ledger.Pending:
				if !errors.Is(r.Err, ledger.ErrNotPending) {
					t.Fatalf("op %d settles %s transfer %d as %s: got %+v, want ErrNotPending", i, st, op.Transfer, want, r)
				}
				b.outcomes["not pending"]++
			case r.Err == nil:
				if r.Transfer.Status != want || r.Replayed {
					t.Fatalf("op %d settles transfer %d: got %+v", i, op.Transfer, r)
				}
				status[op.Transfer] = want
				for _, q := range b.byID[op.Transfer].Postings {
					switch {
					case want == ledger.Voided && q.Amount < 0: // the hold is released
						avail[q.Account] -= q.Amount
					case want == ledger.Posted && q.Amount > 0: // the credits arrive
						avail[q.Account] += q.Amount
					}
				}
				b.outcomes[string(want)]++
			default:
				b.outcomes["settle refused: "+r.Err.Error()]++
			}
		}
	}
}

// checkInvariants checks the stored state: each currency sums to zero, no
// account is past its limit or holds a negative amount, and every balance
// and hold equals the fold of the stored transfers.
func (b *book) checkInvariants(t *testing.T) {
	balance := map[ledger.AccountID]ledger.Amount{}
	held := map[ledger.AccountID]ledger.Amount{}
	for _, tr := range b.byID {
		var sum ledger.Amount
		for _, q := range tr.Postings {
			sum += q.Amount
			switch {
			case tr.Status == ledger.Posted:
				balance[q.Account] += q.Amount
			case tr.Status == ledger.Pending && q.Amount < 0:
				held[q.Account] -= q.Amount
			}
		}
		if sum != 0 {
			t.Fatalf("transfer %d's postings sum to %d", tr.ID, sum)
		}
	}
	total := map[ledger.Currency]ledger.Amount{}
	for id, a := range b.accounts {
		total[a.Currency] += a.Balance
		if a.Balance != balance[id] || a.Held != held[id] {
			t.Fatalf("account %d: balance %d held %d, but its postings fold to balance %d held %d",
				id, a.Balance, a.Held, balance[id], held[id])
		}
		if a.Held < 0 {
			t.Fatalf("account %d holds %d", id, a.Held)
		}
		if avail, ok := a.Balance.Add(-a.Held); !a.Unbounded && (!ok || avail < -a.Limit) {
			t.Fatalf("account %d: available %d is past its limit %d", id, avail, a.Limit)
		}
	}
	for cur, sum := range total {
		if sum != 0 {
			t.Fatalf("%s balances sum to %d", cur, sum)
		}
	}
}

// checkRetry sends again every op of the batch that succeeded, as a client
// that lost the answers would: each must replay its first result and
// nothing may move.
func (b *book) checkRetry(t *testing.T, ops []ledger.Op, p *ledger.Plan, now time.Time) {
	var again []ledger.Op
	var first []ledger.Result
	for i, op := range ops {
		if p.Results[i].Err == nil {
			again = append(again, op)
			first = append(first, p.Results[i])
		}
	}
	s := b.snapshot(again)
	before := map[ledger.AccountID]ledger.Account{}
	for id, a := range s.Accounts {
		before[id] = *a
	}
	q := ledger.Decide(again, s, now)
	if len(q.New) > 0 || len(q.Changes) > 0 || len(q.Touched) > 0 {
		t.Fatalf("retrying %d ops wrote %d transfers, %d status changes, touched %v", len(again), len(q.New), len(q.Changes), q.Touched)
	}
	for id, a := range s.Accounts {
		if *a != before[id] {
			t.Fatalf("retrying changed account %d: %+v -> %+v", id, before[id], *a)
		}
	}
	for i, r := range q.Results {
		want := b.byID[first[i].Transfer.ID]
		if r.Err != nil || !r.Replayed {
			t.Fatalf("retry of %+v: got %+v, want a replay", again[i], r)
		}
		if diff := cmp.Diff(want, r.Transfer); diff != "" {
			t.Fatalf("retry of %+v replays another transfer (-stored +replayed):\n%s", again[i], diff)
		}
	}
}

func run(t *testing.T, c chooser) *book {
	b := newBook()
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	for c.more() {
		b.step(t, b.batch(c), now)
		now = now.Add(time.Minute)
	}
	return b
}

// TestDecideKeepsTheLedgerSound runs random batches of transfers, holds,
// posts, voids, retries and key reuses through Decide, checking every
// result and the ledger's invariants after each batch.
func TestDecideKeepsTheLedgerSound(t *testing.T) {
	t.Parallel()
	for seed := range uint64(20) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			b := run(t, &seeded{r: rand.New(rand.NewPCG(seed, 21)), left: 200})
			// A generator that never reaches a rule proves nothing about it.
			for _, o := range []string{"created posted", "created pending", "posted", "voided", "replayed",
				"settle replayed", "key reused", "not pending", "refused: " + ledger.ErrInsufficientFunds.Error()} {
				if b.outcomes[o] == 0 {
					t.Errorf("no op ended %q in 200 batches: %v", o, b.outcomes)
				}
			}
		})
	}
}

// FuzzDecide lets the fuzzer choose the batches.
func FuzzDecide(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte("a batch of transfers, holds, posts and voids, then retries"))
	f.Fuzz(func(t *testing.T, choices []byte) {
		if len(choices) > 4096 {
			t.Skip("long inputs add time, not cases")
		}
		run(t, &fuzzed{b: choices})
	})
}
