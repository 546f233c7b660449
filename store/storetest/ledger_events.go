package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/bankbridge/bankbridge/ledger"
	"github.com/google/go-cmp/cmp"
)

// testEvents checks the outbox: Apply writes one event per transfer created
// and per hold posted or voided, in the batch's transaction; refused ops,
// replays and failed batches write none; sequences ascend in commit order,
// so a reader tailing the outbox while batches commit concurrently misses
// nothing.
func testEvents(t *testing.T, open LedgerOpener) {
	f := newFixture(t, open)
	ctx := context.Background()
	a := f.account(1, ledger.Checking, "USD", 0, false)
	b := f.account(2, ledger.Checking, "USD", 0, false)
	clearing := f.account(0, ledger.Internal, "USD", 0, true)
	merchant, err := f.store.CreateMerchant(ctx, ledger.Merchant{Name: "Blue Bottle", MCC: "5814", Category: "coffee", Country: "US"})
	noErr(t, err)
	all := func() []ledger.Event {
		t.Helper()
		evs, err := f.store.Events(ctx, 0, 10000)
		if err != nil {
			t.Fatalf("Events: %v", err)
		}
		return evs
	}
	if evs := all(); len(evs) != 0 {
		t.Fatalf("a fresh ledger has %d events", len(evs))
	}
	if _, err := f.store.Events(ctx, 0, -1); !errors.Is(err, ledger.ErrEventLimit) {
		t.Errorf("Events with limit -1: %v, want ErrEventLimit", err)
	}

	fund, _, err := f.svc.Transfer(ctx, ledger.Move("ev", "fund", f.bank.ID, a.ID, 10_000, "USD", "salary"))
	noErr(t, err)
	buy := ledger.Move("card", "auth-1", a.ID, clearing.ID, 450, "USD", "Blue Bottle")
	buy.Pending, buy.Merchant, buy.Category = true, merchant.ID, "coffee"
	hold, _, err := f.svc.Transfer(ctx, buy)
	noErr(t, err)
	posted, err := f.svc.Post(ctx, hold.ID)
	noErr(t, err)
	hold2 := buy
	hold2.Key = "auth-2"
	h2, _, err := f.svc.Transfer(ctx, hold2)
	noErr(t, err)
	voided, err := f.svc.Void(ctx, h2.ID)
	noErr(t, err)
	// None of these writes an event: a refusal, a replay, a repeated post.
	if _, _, err := f.svc.Transfer(ctx, ledger.Move("ev", "too-much", b.ID, a.ID, 1, "USD", "")); !errors.Is(err, ledger.ErrInsufficientFunds) {
		t.Fatalf("overdraft: %v", err)
	}
	if _, replayed, err := f.svc.Transfer(ctx, ledger.Move("ev", "fund", f.bank.ID, a.ID, 10_000, "USD", "salary")); err != nil || !replayed {
		t.Fatalf("replay: %v %v", replayed, err)
	}
	if _, err := f.svc.Post(ctx, hold.ID); err != nil {
		t.Fatalf("post twice: %v", err)
	}

	got := all()
	type ev struct {
		Transfer ledger.TransferID
		Status   ledger.TransferStatus
		Settles  bool
		Postings []ledger.Posting
		Merchant ledger.MerchantID
		Category string
		Desc     string
		At       bool
	}
	var short []ev
	for i, e := range got {
		if i > 0 && e.Seq <= got[i-1].Seq {
			t.Errorf("event %d has seq %d after %d", i, e.Seq, got[i-1].Seq)
		}
		if e.Currency != "USD" {
			t.Errorf("event %d currency %q", i, e.Currency)
		}
		short = append(short, ev{e.Transfer, e.Status, e.Settles, e.Postings, e.Merchant, e.Category, e.Description, !e.At.IsZero()})
	}
	buyPs := []ledger.Posting{{Account: a.ID, Amount: -450}, {Account: clearing.ID, Amount: 450}}
	want := []ev{
		{fund.ID, ledger.Posted, false, []ledger.Posting{{Account: f.bank.ID, Amount: -10_000}, {Account: a.ID, Amount: 10_000}}, 0, "", "salary", true},
		{hold.ID, ledger.Pending, false, buyPs, merchant.ID, "coffee", "Blue Bottle", true},
		{hold.ID, ledger.Posted, true, buyPs, merchant.ID, "coffee", "Blue Bottle", true},
		{h2.ID, ledger.Pending, false, buyPs, merchant.ID, "coffee", "Blue Bottle", true},
		{h2.ID, ledger.Voided, true, buyPs, merchant.ID, "coffee", "Blue Bottle", true},
	}
	if d := cmp.Diff(want, short); d != "" {
		t.Fatalf("events (-want +got):\n%s", d)
	}
	if !got[2].At.Equal(posted.Posted) || !got[4].At.Equal(voided.Voided) || !got[0].At.Equal(fund.Created) {
		t.Errorf("event times %v %v %v, want %v %v %v", got[0].At, got[2].At, got[4].At, fund.Created, posted.Posted, voided.Voided)
	}
	if amt := got[1].Amount(); amt != 450 {
		t.Errorf("event amount %d, want 450", amt)
	}
	// Paging: after and limit.
	if page, err := f.store.Events(ctx, got[1].Seq, 2); err != nil || len(page) != 2 || page[0].Seq != got[2].Seq || page[1].Seq != got[3].Seq {
		t.Errorf("Events(after %d, 2) = %v, %v", got[1].Seq, page, err)
	}

	// A batch failed at its last write leaves no event, and the next one's
	// events follow.
	var errs []error
	for _, q := range boomTrigger {
		if err := f.exec(q); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == len(boomTrigger) {
		t.Fatalf("no dialect accepted the trigger: %v", errs)
	}
	c := f.account(3, ledger.Checking, "USD", 0, false)
	f.fund(c, 4_000)
	before := all()
	mk := func(key string, from, to ledger.AccountID, amt ledger.Amount) ledger.Op {
		r := ledger.Move("fail", key, from, to, amt, "USD", "")
		return ledger.Op{Kind: ledger.OpCreate, Request: r, Hash: r.Hash()}
	}
	if _, err := f.store.Apply(ctx, []ledger.Op{mk("x-1", a.ID, b.ID, 10), mk("boom", f.bank.ID, c.ID, 242)}, f.now()); err == nil {
		t.Fatal("Apply succeeded although its balance update was refused")
	}
	if after := all(); len(after) != len(before) {
		t.Fatalf("a failed batch wrote %d events", len(after)-len(before))
	}
	if _, _, err := f.svc.Transfer(ctx, ledger.Move("fail", "x-1", a.ID, b.ID, 10, "USD", "")); err != nil {
		t.Fatal(err)
	}
	if after := all(); len(after) != len(before)+1 || after[len(after)-1].Seq <= before[len(before)-1].Seq {
		t.Fatalf("after a failed batch: %d events, want %d, ascending", len(after), len(before)+1)
	}

	// Concurrent batches: a reader tailing the outbox by its last sequence
	// sees every event exactly once.
	last := all()
	cursor := last[len(last)-1].Seq
	const writers, each = 8, 40
	accts := make([]ledger.Account, writers)
	for i := range accts {
		accts[i] = f.account(10, ledger.Checking, "USD", 0, false)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var tailed []ledger.Event
	tailDone := make(chan error, 1)
	go func() {
		cur := cursor
		for {
			select {
			case <-stop:
				// One last read after every writer finished.
				evs, err := f.store.Events(ctx, cur, 10000)
				tailed = append(tailed, evs...)
				tailDone <- err
				return
			default:
			}
			evs, err := f.store.Events(ctx, cur, 7)
			if err != nil {
				tailDone <- err
				return
			}
			if len(evs) > 0 {
				tailed = append(tailed, evs...)
				cur = evs[len(evs)-1].Seq
			}
		}
	}()
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if _, _, err := f.svc.Transfer(ctx, ledger.Move("tail", fmt.Sprintf("%d-%d", w, i), f.bank.ID, accts[w].ID, 1, "USD", "")); err != nil {
					t.Errorf("transfer: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	noErr(t, <-tailDone)
	full, err := f.store.Events(ctx, cursor, 10000)
	noErr(t, err)
	if len(full) != writers*each {
		t.Fatalf("%d events for %d transfers", len(full), writers*each)
	}
	seqs := func(evs []ledger.Event) []ledger.EventSeq {
		out := make([]ledger.EventSeq, len(evs))
		for i, e := range evs {
			out[i] = e.Seq
		}
		return out
	}
	if d := cmp.Diff(seqs(full), seqs(tailed)); d != "" {
		t.Errorf("the tailing reader saw another sequence (-all +tailed):\n%s", d)
	}
}
