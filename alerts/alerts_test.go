package alerts_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// fakeChannel records deliveries and, like a real platform with
// idempotency keys, shows each delivery id once.
type fakeChannel struct {
	mu       sync.Mutex
	shown    map[string]alerts.Message
	attempts int
	failNext int   // fail this many calls
	failWith error // with this error (default a transient one)
}

func newFake() *fakeChannel { return &fakeChannel{shown: map[string]alerts.Message{}} }

func (f *fakeChannel) Deliver(_ context.Context, _ bankbridge.CustomerID, m alerts.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts++
	if f.failNext > 0 {
		f.failNext--
		if f.failWith != nil {
			return f.failWith
		}
		return errors.New("platform timeout")
	}
	if _, dup := f.shown[m.ID]; !dup {
		f.shown[m.ID] = m
	}
	return nil
}

func (f *fakeChannel) messages() map[string]alerts.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]alerts.Message{}
	for k, v := range f.shown {
		out[k] = v
	}
	return out
}

type links map[bankbridge.CustomerID][]alerts.Link

func (l links) Links(_ context.Context, c bankbridge.CustomerID) ([]alerts.Link, error) {
	return l[c], nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type bank struct {
	t        *testing.T
	db       *sqlite.DB
	led      *ledger.Service
	svc      *alerts.Service
	fake     *fakeChannel
	clk      *clock
	settle   ledger.Account
	clearing ledger.Account
	alice    ledger.Account // customer 1, with a card ending 4242
	bob      ledger.Account // customer 2
	card     ledger.Card
	cursor   ledger.EventSeq
	n        int
}

func newBank(t *testing.T, o alerts.Options) *bank {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, testdb.SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b := &bank{t: t, db: db, fake: newFake(), clk: &clock{t: time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC)}}
	b.led = ledger.New(db.Ledger(), ledger.Options{Now: b.clk.now})
	t.Cleanup(b.led.Close)
	st := db.Ledger()
	open := func(c bankbridge.CustomerID, kind ledger.AccountKind, name string, unbounded bool) ledger.Account {
		b.n++
		a, err := st.CreateAccount(ctx, ledger.Account{Customer: c, Kind: kind, Name: name, Currency: "USD",
			Number: ledger.AccountNumber(fmt.Sprintf("7%011d", b.n)), Routing: "021000021", Unbounded: unbounded})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	b.settle = open(0, ledger.Internal, "Settlement", true)
	b.clearing = open(0, ledger.Internal, "Card clearing", true)
	b.alice = open(1, ledger.Checking, "Everyday checking", false)
	b.bob = open(2, ledger.Checking, "Everyday checking", false)
	if b.card, err = st.CreateCard(ctx, ledger.Card{Account: b.alice.ID, Customer: 1, Last4: "4242", Network: "visa", Status: ledger.CardActive}); err != nil {
		t.Fatal(err)
	}
	if o.Channels == nil {
		o.Channels = map[string]alerts.Channel{"fake": b.fake}
	}
	if o.Links == nil {
		o.Links = links{1: {{Channel: "fake", Privacy: alerts.PrivacyFull}}, 2: {{Channel: "fake"}}}
	}
	o.Now = b.clk.now
	if o.BackoffBase == 0 {
		o.BackoffBase = time.Second
	}
	b.svc = alerts.New(db.Alerts(), st, o)
	return b
}

func (b *bank) merchant(name, cat, country string) ledger.Merchant {
	b.t.Helper()
	m, err := b.db.Ledger().CreateMerchant(context.Background(), ledger.Merchant{Name: name, MCC: "5999", Category: cat, Country: country})
	if err != nil {
		b.t.Fatal(err)
	}
	return m
}

func (b *bank) move(from, to ledger.Account, amt ledger.Amount, desc string) ledger.Transfer {
	b.t.Helper()
	b.n++
	b.clk.add(time.Minute)
	tr, _, err := b.led.Transfer(context.Background(), ledger.Move("test", fmt.Sprint(b.n), from.ID, to.ID, amt, "USD", desc))
	if err != nil {
		b.t.Fatalf("move %d: %v", amt, err)
	}
	return tr
}

func (b *bank) buy(m ledger.Merchant, amt ledger.Amount, gap time.Duration) ledger.Transfer {
	b.t.Helper()
	b.n++
	b.clk.add(gap)
	r := ledger.Move("card", fmt.Sprint(b.n), b.alice.ID, b.clearing.ID, amt, "USD", m.Name)
	r.Merchant, r.Category, r.Pending = m.ID, m.Category, true
	tr, _, err := b.led.Transfer(context.Background(), r)
	if err != nil {
		b.t.Fatalf("buy %d: %v", amt, err)
	}
	return tr
}

// run processes the outbox and delivers, as the worker would.
func (b *bank) run() {
	b.t.Helper()
	ctx := context.Background()
	evs, err := b.db.Ledger().Events(ctx, b.cursor, 0)
	if err != nil {
		b.t.Fatal(err)
	}
	if len(evs) > 0 {
		if err := b.svc.Process(ctx, evs, evs[len(evs)-1].Seq); err != nil {
			b.t.Fatal(err)
		}
		b.cursor = evs[len(evs)-1].Seq
	}
	for {
		n, err := b.svc.Dispatch(ctx)
		if err != nil {
			b.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func (b *bank) rules(c bankbridge.CustomerID) []string {
	b.t.Helper()
	as, _, err := b.svc.Notifications(context.Background(), c, 200)
	if err != nil {
		b.t.Fatal(err)
	}
	var out []string
	for i := len(as) - 1; i >= 0; i-- {
		out = append(out, string(as[i].Rule))
	}
	return out
}

func TestRulesRaiseTheRightAlerts(t *testing.T) {
	t.Parallel()
	b := newBank(t, alerts.Options{})
	coffee := b.merchant("Blue Bottle", "coffee", "US")
	full := alerts.DefaultSettings(1)
	full.Privacy = alerts.PrivacyFull
	if err := b.svc.SaveSettings(context.Background(), full); err != nil {
		t.Fatal(err)
	}
	b.move(b.settle, b.alice, 100000, "salary") // 1,000.00 in
	b.run()
	b.buy(coffee, 450, time.Hour)
	b.run()
	b.move(b.alice, b.bob, 60000, "rent") // 600.00: payment, large debit; bob: deposit
	b.run()
	b.move(b.alice, b.bob, 35000, "loan") // leaves 45.50: low balance
	b.run()
	got1 := strings.Join(b.rules(1), ",")
	want1 := "deposit,card_purchase,payment_sent,large_debit,payment_sent,low_balance"
	if got1 != want1 {
		t.Errorf("alice's alerts = %s\nwant %s", got1, want1)
	}
	if got2 := strings.Join(b.rules(2), ","); got2 != "deposit,deposit" {
		t.Errorf("bob's alerts = %s", got2)
	}
	as, unread, _ := b.svc.Notifications(context.Background(), 1, 10)
	if unread != 6 {
		t.Errorf("unread = %d, want 6", unread)
	}
	var card alerts.Alert
	for _, a := range as {
		if a.Rule == alerts.CardPurchase {
			card = a
		}
	}
	if !strings.Contains(card.Body, "4.50 USD") || !strings.Contains(card.Body, "Blue Bottle") || !strings.Contains(card.Body, "4242") {
		t.Errorf("card purchase text %q lacks amount, merchant or card", card.Body)
	}
	// Alice is on full privacy on the fake channel, Bob on the default
	// (minimal): his messages say nothing about money.
	bobs := 0
	for _, m := range b.fake.messages() {
		money := strings.Contains(m.Text, " USD")
		if !money {
			bobs++
			if m.Rule != alerts.Deposit || !strings.Contains(m.Text, "new alert") {
				t.Errorf("unexpected message %+v", m)
			}
		}
	}
	if bobs != 2 {
		t.Errorf("%d minimal messages, want Bob's 2", bobs)
	}
	if n := len(b.fake.messages()); n != 8 {
		t.Errorf("%d messages delivered, want 8 (6 for Alice, 2 for Bob)", n)
	}
	if b.fake.attempts != 8 {
		t.Errorf("%d delivery attempts, want 8", b.fake.attempts)
	}
}

func TestPrivacyMinimisesWhatLeavesTheBank(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		privacy  alerts.Privacy
		messages int
		money    bool
	}{
		{alerts.PrivacyFull, 1, true},
		{alerts.PrivacyMinimal, 1, false},
		{alerts.PrivacyOff, 0, false},
	} {
		t.Run(string(tc.privacy), func(t *testing.T) {
			t.Parallel()
			b := newBank(t, alerts.Options{Links: links{1: {{Channel: "fake"}}}})
			st := alerts.DefaultSettings(1)
			st.Privacy = tc.privacy
			if err := b.svc.SaveSettings(context.Background(), st); err != nil {
				t.Fatal(err)
			}
			b.move(b.settle, b.alice, 2500, "refund")
			b.run()
			ms := b.fake.messages()
			if len(ms) != tc.messages {
				t.Fatalf("%d messages, want %d", len(ms), tc.messages)
			}
			for _, m := range ms {
				if has := strings.Contains(m.Text, "25.00 USD"); has != tc.money {
					t.Errorf("message %q shows the amount: %v, want %v", m.Text, has, tc.money)
				}
			}
			// The bank's own notification centre always has the full text.
			as, _, _ := b.svc.Notifications(context.Background(), 1, 10)
			if len(as) != 1 || !strings.Contains(as[0].Body, "25.00 USD") {
				t.Errorf("notification centre = %+v", as)
			}
		})
	}
}

func TestReprocessingAddsNothing(t *testing.T) {
	t.Parallel()
	b := newBank(t, alerts.Options{})
	b.move(b.settle, b.alice, 100000, "salary")
	b.move(b.alice, b.bob, 70000, "rent")
	b.run()
	before := b.rules(1)
	// A crash after commit but before the cursor is seen, or a redelivered
	// stream message: the same events again.
	evs, _ := b.db.Ledger().Events(context.Background(), 0, 0)
	for range 2 {
		if err := b.svc.Process(context.Background(), evs, 0); err != nil {
			t.Fatal(err)
		}
		b.run()
	}
	if after := b.rules(1); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("alerts after reprocessing %v, before %v", after, before)
	}
	if b.fake.attempts != len(b.fake.messages()) {
		t.Errorf("%d attempts for %d messages: a delivery was sent twice", b.fake.attempts, len(b.fake.messages()))
	}
}

func TestRetriesWithBackoffThenDeadLetter(t *testing.T) {
	t.Parallel()
	b := newBank(t, alerts.Options{MaxAttempts: 3, BackoffBase: time.Second, BackoffMax: time.Minute})
	b.fake.failNext = 100
	b.move(b.settle, b.bob, 1000, "gift")
	b.run()
	ctx := context.Background()
	if b.fake.attempts != 1 {
		t.Fatalf("%d attempts at once, want 1", b.fake.attempts)
	}
	b.clk.add(500 * time.Millisecond) // before the first backoff (1s ±20%)
	b.run()
	if b.fake.attempts != 1 {
		t.Errorf("retried before its backoff: %d attempts", b.fake.attempts)
	}
	b.clk.add(time.Second)
	b.run()
	b.clk.add(3 * time.Second)
	b.run()
	if b.fake.attempts != 3 {
		t.Errorf("%d attempts, want 3", b.fake.attempts)
	}
	dead, err := b.svc.DeadLetters(ctx, 10)
	if err != nil || len(dead) != 1 || dead[0].LastError == "" || dead[0].Attempts != 3 {
		t.Fatalf("dead letters = %+v, %v", dead, err)
	}
	b.clk.add(time.Hour)
	b.run()
	if b.fake.attempts != 3 {
		t.Errorf("a dead letter was retried: %d attempts", b.fake.attempts)
	}
	// Staff requeue it once the platform is back.
	b.fake.failNext = 0
	if err := b.svc.Requeue(ctx, dead[0].ID); err != nil {
		t.Fatal(err)
	}
	b.run()
	if len(b.fake.messages()) != 1 {
		t.Errorf("requeued letter not delivered")
	}
	// A permanent refusal is dead at once.
	b.fake.failNext, b.fake.failWith = 1, bankbridge.E(bankbridge.NotFound, "unlinked", "the customer unlinked")
	b.move(b.settle, b.bob, 1000, "gift 2")
	b.run()
	if dead, _ := b.svc.DeadLetters(ctx, 10); len(dead) != 1 || dead[0].Attempts != 1 {
		t.Errorf("permanent failure: dead letters %+v", dead)
	}
}

func TestWasThisYou(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	setup := func(t *testing.T) (*bank, alerts.Alert, ledger.Merchant) {
		b := newBank(t, alerts.Options{})
		coffee := b.merchant("Blue Bottle", "coffee", "US")
		tv := b.merchant("Mega TVs", "electronics", "US")
		b.move(b.settle, b.alice, 500000, "salary")
		for range 6 {
			b.buy(coffee, 500, 3*time.Hour)
		}
		b.buy(tv, 90000, 3*time.Hour) // first electronics, 180x typical
		b.run()
		as, _, _ := b.svc.Notifications(ctx, 1, 50)
		for _, a := range as {
			if a.Rule == alerts.Suspicious {
				if !strings.Contains(a.Body, "electronics") || !a.Ask {
					t.Errorf("suspicious alert %+v", a)
				}
				return b, a, tv
			}
		}
		t.Fatalf("no suspicious alert among %v", b.rules(1))
		return nil, alerts.Alert{}, tv
	}
	t.Run("NoFreezesTheCardAndOpensACase", func(t *testing.T) {
		t.Parallel()
		b, a, _ := setup(t)
		var asked alerts.Message
		for _, m := range b.fake.messages() {
			if m.Ask {
				asked = m
			}
		}
		id, ans, ok := alerts.ParseAnswerPayload(alerts.AnswerPayload(asked.Alert, alerts.No))
		if !ok || id != a.ID || ans != alerts.No {
			t.Fatalf("payload round trip: %v %v %v", id, ans, ok)
		}
		if _, err := b.svc.Answer(ctx, 2, a.ID, alerts.No); !errors.Is(err, alerts.ErrAlertNotFound) {
			t.Errorf("another customer answered: %v", err)
		}
		out, err := b.svc.Answer(ctx, 1, id, ans)
		if err != nil {
			t.Fatal(err)
		}
		cards, _ := b.db.Ledger().CustomerCards(ctx, 1)
		if len(cards) != 1 || cards[0].Status != ledger.CardFrozen {
			t.Errorf("card after No: %+v", cards)
		}
		if out.Case == nil || out.Case.Status != "open" || out.Case.Card != b.card.ID || !strings.Contains(out.Text, "4242") || !strings.Contains(out.Text, "case") {
			t.Errorf("outcome %+v", out)
		}
		cases, _ := b.svc.Cases(ctx, "open", 10)
		if len(cases) != 1 || cases[0].Alert != a.ID {
			t.Errorf("open cases %+v", cases)
		}
		again, err := b.svc.Answer(ctx, 1, id, alerts.No)
		if err != nil || again.Case.ID != out.Case.ID {
			t.Errorf("same answer again: %+v %v", again, err)
		}
		if _, err := b.svc.Answer(ctx, 1, id, alerts.Yes); !errors.Is(err, alerts.ErrAnswered) {
			t.Errorf("changed answer: %v", err)
		}
		// The frozen card cannot be used... for the ledger it is the card's
		// status the card network checks; the account itself stays open.
	})
	t.Run("YesTrustsTheMerchant", func(t *testing.T) {
		t.Parallel()
		b, a, tv := setup(t)
		if _, err := b.svc.Answer(ctx, 1, a.ID, alerts.Yes); err != nil {
			t.Fatal(err)
		}
		b.buy(tv, 200000, time.Hour) // larger still, at the trusted merchant
		b.run()
		n := 0
		for _, r := range b.rules(1) {
			if r == string(alerts.Suspicious) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d suspicious alerts after trusting the merchant, want the first only", n)
		}
		if cards, _ := b.db.Ledger().CustomerCards(ctx, 1); cards[0].Status != ledger.CardActive {
			t.Errorf("card %s after Yes", cards[0].Status)
		}
	})
}

func TestSuspiciousVelocityAndForeign(t *testing.T) {
	t.Parallel()
	b := newBank(t, alerts.Options{})
	shop := b.merchant("Corner shop", "groceries", "US")
	abroad := b.merchant("Café de Flore", "coffee", "FR")
	b.move(b.settle, b.alice, 500000, "salary")
	for range 5 {
		b.buy(shop, 1000, time.Minute) // 5 within 10 minutes
	}
	b.run()
	if got := strings.Count(strings.Join(b.rules(1), ","), "suspicious"); got != 1 {
		t.Errorf("velocity: %d suspicious alerts, want 1 (%v)", got, b.rules(1))
	}
	b.buy(abroad, 700, 5*time.Hour)
	b.run()
	as, _, _ := b.svc.Notifications(context.Background(), 1, 1)
	if len(as) == 0 {
		t.Fatal("no alerts")
	}
	as, _, _ = b.svc.Notifications(context.Background(), 1, 50)
	found := false
	for _, a := range as {
		if a.Rule == alerts.Suspicious && strings.Contains(a.Body, "FR") {
			found = true
		}
	}
	if !found {
		t.Errorf("no suspicious alert for a payment in FR: %v", b.rules(1))
	}
}

func TestPayloadParsing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"alert:0a1b:yes", true}, {"alert:0a1b:no", true}, {"alert:0a1b:maybe", false}, {"alert::yes", false},
		{"alert:ZZ:yes", false}, {"balance", false}, {"alert:0a1b", false},
	} {
		if _, _, ok := alerts.ParseAnswerPayload(tc.in); ok != tc.ok {
			t.Errorf("ParseAnswerPayload(%q) ok = %v, want %v", tc.in, ok, tc.ok)
		}
	}
}

func FuzzParseAnswerPayload(f *testing.F) {
	f.Add("alert:0a1b:yes")
	f.Add("alert:x:no")
	f.Fuzz(func(t *testing.T, s string) {
		id, a, ok := alerts.ParseAnswerPayload(s)
		if ok && alerts.AnswerPayload(id, a) != s {
			t.Errorf("round trip of %q gave %q", s, alerts.AnswerPayload(id, a))
		}
	})
}
