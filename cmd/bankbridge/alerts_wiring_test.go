package main

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// chatDouble is a messaging platform that records what it is sent, and
// fails while fail is set.
type chatDouble struct {
	mu   sync.Mutex
	sent []channels.Outbound
	fail error
}

func (c *chatDouble) Platform() string                       { return "messenger" }
func (c *chatDouble) Unlinked(context.Context, string) error { return nil }
func (c *chatDouble) Send(_ context.Context, o channels.Outbound) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return c.fail
	}
	c.sent = append(c.sent, o)
	return nil
}

func (c *chatDouble) take() []channels.Outbound {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sent
	c.sent = nil
	return s
}

// auditDouble keeps the records the hub appends.
type auditDouble struct {
	mu   sync.Mutex
	recs []audit.Record
}

func (a *auditDouble) Append(_ context.Context, r audit.Record) (audit.Record, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.recs = append(a.recs, r)
	return r, nil
}

type alertsRig struct {
	db      *sqlite.DB
	chat    *chatDouble
	audit   *auditDouble
	wiring  *chatAlerts
	svc     *alerts.Service
	answers *alertAnswers
	linked  bankbridge.CustomerID // has a chat link
	alone   bankbridge.CustomerID // has none
	account ledger.Account        // linked's checking, with a card
	card    ledger.Card
}

func newAlertsRig(t *testing.T) *alertsRig {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, testdb.SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ids := identity.New(db.Identity(), identity.Options{})
	r := &alertsRig{db: db, chat: &chatDouble{}, audit: &auditDouble{}, answers: &alertAnswers{}}
	for i, email := range []string{"ada@example.com", "bob@example.com"} {
		c, err := ids.RegisterCustomer(ctx, identity.Customer{Name: "Customer", Email: email, BirthYear: 1985}, "correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			r.linked = c.ID
		} else {
			r.alone = c.ID
		}
	}
	if r.account, err = db.Ledger().CreateAccount(ctx, ledger.Account{Customer: r.linked, Kind: ledger.Checking, Name: "Checking",
		Currency: "USD", Number: "1000004821", Routing: "011000015"}); err != nil {
		t.Fatal(err)
	}
	if r.card, err = db.Ledger().CreateCard(ctx, ledger.Card{Account: r.account.ID, Customer: r.linked, Last4: "4242", Network: "visa", Status: ledger.CardActive}); err != nil {
		t.Fatal(err)
	}
	if err := db.Messenger().SaveLink(ctx, assistant.Link{Key: assistant.Key{Platform: "messenger", User: "psid-1"}, Customer: r.linked,
		Grant: "grant-1", Linked: time.Now()}); err != nil {
		t.Fatal(err)
	}
	hub := channels.NewHub(channels.HubDeps{Store: db.Messenger(), Audit: r.audit})
	hub.Add(r.chat, nil)
	r.svc = alertsWiring(alertsDeps{store: db.Alerts(), ledger: db.Ledger(), hub: hub, messenger: db.Messenger(), answers: r.answers, bankName: "Test Bank"})
	r.wiring = &chatAlerts{hub: hub, store: db.Messenger(), bank: "Test Bank"}
	r.answers.store = db.Messenger()
	return r
}

// TestChatAlertsInSpanish: a customer who chose Spanish gets the minimised
// alert, its buttons and the answer's next steps in Spanish; a full text
// keeps its language.
func TestChatAlertsInSpanish(t *testing.T) {
	t.Parallel()
	r := newAlertsRig(t)
	ctx := context.Background()
	if err := r.db.Messenger().SaveSettings(ctx, assistant.Settings{Customer: r.linked, Privacy: assistant.PrivacyMinimal, Alerts: true,
		Language: assistant.Spanish, Updated: time.Now()}); err != nil {
		t.Fatal(err)
	}
	body := "We need you to confirm a recent card payment. Was this you? Answer Yes or No, or open Test Bank for the details."
	ask := alerts.Message{ID: "f6.messenger", Alert: "f6", Rule: alerts.Suspicious, Text: body, Ask: true}
	if err := r.wiring.Deliver(ctx, r.linked, ask); err != nil {
		t.Fatal(err)
	}
	got := r.chat.take()
	if len(got) != 1 || !strings.HasPrefix(got[0].Reply.Text, "Necesitamos que confirmes") || len(got[0].Reply.Choices) != 2 ||
		got[0].Reply.Choices[0].Title != "Sí, fui yo" || got[0].Reply.Choices[1].Title != "No, no fui yo" {
		t.Fatalf("sent %+v", got)
	}
	other := alerts.Message{ID: "g7.messenger", Alert: "g7", Rule: alerts.CardPurchase, Text: "$4.50 at Harbor Coffee"}
	if err := r.wiring.Deliver(ctx, r.linked, other); err != nil {
		t.Fatal(err)
	}
	if got := r.chat.take(); len(got) != 1 || got[0].Reply.Text != other.Text {
		t.Errorf("a text the alerts did not minimise changed: %+v", got)
	}
	id := alerts.NewAlertID(2, alerts.Suspicious, r.linked)
	now := time.Now()
	if err := r.db.Alerts().Commit(ctx, "test", 0, alerts.Batch{Alerts: []alerts.Alert{{ID: id, Seq: 2, Customer: r.linked, Rule: alerts.Suspicious,
		Account: r.account.ID, Amount: 9900, Currency: "USD", Title: "Was this you?", Body: "Was this you?", Ask: true, Created: now}}}, now); err != nil {
		t.Fatal(err)
	}
	text, ok, err := r.answers.Answer(ctx, r.linked, alerts.AnswerPayload(id, alerts.No))
	if !ok || err != nil || !strings.HasPrefix(text, "Congelamos tu tarjeta terminada en 4242") {
		t.Errorf("answer No in Spanish: %q, %v, %v", text, ok, err)
	}
}

func TestChatAlertsLinks(t *testing.T) {
	t.Parallel()
	r := newAlertsRig(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name     string
		settings *assistant.Settings
		c        bankbridge.CustomerID
		want     []alerts.Link
	}{
		{"DefaultsMinimal", nil, r.linked, []alerts.Link{{Channel: "messenger", Privacy: alerts.PrivacyMinimal}}},
		{"NoLink", nil, r.alone, nil},
		{"Full", &assistant.Settings{Privacy: assistant.PrivacyFull, Alerts: true}, r.linked, []alerts.Link{{Channel: "messenger", Privacy: alerts.PrivacyFull}}},
		{"Off", &assistant.Settings{Privacy: assistant.PrivacyOff, Alerts: true}, r.linked, []alerts.Link{{Channel: "messenger", Privacy: alerts.PrivacyOff}}},
		{"AlertsOff", &assistant.Settings{Privacy: assistant.PrivacyFull, Alerts: false}, r.linked, nil},
	} {
		// Sequential: the cases share the customer's settings.
		if tt.settings != nil {
			s := *tt.settings
			s.Customer, s.Updated = tt.c, time.Now()
			if err := r.db.Messenger().SaveSettings(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		got, err := r.wiring.Links(ctx, tt.c)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: links (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestChatAlertsDeliver(t *testing.T) {
	t.Parallel()
	r := newAlertsRig(t)
	ctx := context.Background()
	ask := alerts.Message{ID: "a1b2.messenger", Alert: "a1b2", Rule: alerts.Suspicious, Text: "Was this you?", Ask: true}

	if err := r.wiring.Deliver(ctx, r.linked, ask); err != nil {
		t.Fatal(err)
	}
	got := r.chat.take()
	// A suspected fraud is a non-recurring account change: the only alert
	// that may carry Messenger's ACCOUNT_UPDATE tag outside the window.
	want := []channels.Outbound{{To: "psid-1", Purpose: channels.AccountChange, Reply: assistant.Reply{Text: "Was this you?", Choices: []assistant.Choice{
		{Title: "Yes, it was me", Payload: "alert:a1b2:yes"}, {Title: "No, it wasn't", Payload: "alert:a1b2:no"}}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}

	// The dispatcher sends again (its lease ran out): the chat sees it once.
	if err := r.wiring.Deliver(ctx, r.linked, ask); err != nil {
		t.Fatal(err)
	}
	if got := r.chat.take(); len(got) != 0 {
		t.Errorf("a resend reached the chat: %+v", got)
	}

	// Unlinked: a permanent refusal, so a dead letter at once.
	err := r.wiring.Deliver(ctx, r.alone, alerts.Message{ID: "c3.messenger", Alert: "c3", Text: "x"})
	if !errors.Is(err, errChatUnlinked) || bankbridge.ErrorKind(err) != bankbridge.NotFound {
		t.Errorf("unlinked: err = %v (kind %s), want %v", err, bankbridge.ErrorKind(err), errChatUnlinked)
	}

	// A platform refusing now (even with a refusal kind) is transient: a
	// plain error, retried.
	r.chat.fail = bankbridge.E(bankbridge.NotFound, "graph_user_gone", "gone")
	err = r.wiring.Deliver(ctx, r.linked, alerts.Message{ID: "d4.messenger", Alert: "d4", Text: "x"})
	var be *bankbridge.Error
	if err == nil || errors.As(err, &be) {
		t.Errorf("platform failure: err = %#v, want a plain error", err)
	}
	r.chat.fail = nil
	// The dispatcher's retry of the failed send reaches the chat: a failed
	// send is not remembered as delivered.
	if err := r.wiring.Deliver(ctx, r.linked, alerts.Message{ID: "d4.messenger", Alert: "d4", Text: "x"}); err != nil {
		t.Fatalf("retry after a failed send: %v", err)
	}
	if got := r.chat.take(); len(got) != 1 {
		t.Errorf("retry after a failed send reached the chat %d times, want 1", len(got))
	}

	// A routine alert whose chat is outside its window is refused for
	// good (a dead letter that says why); the alert stays in the app.
	r.chat.fail = channels.ErrWindowClosed
	err = r.wiring.Deliver(ctx, r.linked, alerts.Message{ID: "w6.messenger", Alert: "w6", Rule: alerts.CardPurchase, Text: "x"})
	if !errors.Is(err, errChatWindowClosed) || bankbridge.ErrorKind(err) != bankbridge.Forbidden {
		t.Errorf("window closed: err = %v, want %v", err, errChatWindowClosed)
	}
	r.chat.fail = nil
	if got := r.chat.take(); len(got) != 0 {
		t.Errorf("routine alert outside the window reached the chat: %+v", got)
	}

	// Full text: audited per link with the link's consent before sending.
	full := alerts.Message{ID: "e5.messenger", Alert: "e5", Rule: alerts.CardPurchase, Text: "$4.50 at Harbor Coffee"}
	if err := r.wiring.disclose(ctx, r.linked, "messenger", full); err != nil {
		t.Fatal(err)
	}
	if err := r.wiring.Deliver(ctx, r.linked, full); err != nil {
		t.Fatal(err)
	}
	if sent := r.chat.take(); len(sent) != 1 || sent[0].Reply.Disclosure == nil || sent[0].Reply.Disclosure.Grant != "grant-1" {
		t.Errorf("full alert sent as %+v, want one with its disclosure under grant-1", sent)
	}
	if len(r.audit.recs) != 1 || r.audit.recs[0].Consent != "grant-1" || r.audit.recs[0].Customer != r.linked {
		t.Errorf("audit records = %+v, want one for grant-1", r.audit.recs)
	}
}

func TestAlertAnswersFromChat(t *testing.T) {
	t.Parallel()
	r := newAlertsRig(t)
	ctx := context.Background()
	now := time.Now()
	id := alerts.NewAlertID(1, alerts.Suspicious, r.linked)
	if err := r.db.Alerts().Commit(ctx, "test", 0, alerts.Batch{Alerts: []alerts.Alert{{ID: id, Seq: 1, Customer: r.linked, Rule: alerts.Suspicious,
		Account: r.account.ID, Amount: 9900, Currency: "USD", Title: "Was this you?", Body: "Was this you?", Ask: true, Created: now}}}, now); err != nil {
		t.Fatal(err)
	}

	if _, ok, err := r.answers.Answer(ctx, r.linked, "INTENT:balance"); ok || err != nil {
		t.Errorf("another payload: handled %v, err %v; want passed on", ok, err)
	}
	// Another customer's alert: refused in words, nothing frozen.
	text, ok, err := r.answers.Answer(ctx, r.alone, alerts.AnswerPayload(id, alerts.No))
	if !ok || err != nil || text != "no such alert." {
		t.Errorf("another customer: %q, %v, %v", text, ok, err)
	}
	text, ok, err = r.answers.Answer(ctx, r.linked, alerts.AnswerPayload(id, alerts.No))
	if !ok || err != nil {
		t.Fatalf("answer No: %v, %v", ok, err)
	}
	if want := "We froze your card ••••4242"; len(text) < len(want) || text[:len(want)] != want {
		t.Errorf("answer No said %q, want it to start %q", text, want)
	}
	cards, err := r.db.Ledger().CustomerCards(ctx, r.linked)
	if err != nil {
		t.Fatal(err)
	}
	if len(cards) != 1 || cards[0].Status != ledger.CardFrozen {
		t.Errorf("cards after No = %+v, want the one frozen", cards)
	}
	if text, _, _ := r.answers.Answer(ctx, r.linked, alerts.AnswerPayload(id, alerts.Yes)); text != "this alert was already answered." {
		t.Errorf("changing the answer said %q", text)
	}
}

// An instance whose messenger hub is off still makes the chat delivery of
// an alert (the links are in the shared database); it leaves it unclaimed
// (it claims only its own channels until a delivery is overdue), and an
// instance with the hub sends it.
func TestChatDeliveryMadeWhereTheHubIsOffSentWhereItIsOn(t *testing.T) {
	t.Parallel()
	r := newAlertsRig(t)
	ctx := context.Background()
	settle, err := r.db.Ledger().CreateAccount(ctx, ledger.Account{Kind: ledger.Internal, Name: "Settlement", Currency: "USD", Number: "9", Routing: "1", Unbounded: true})
	if err != nil {
		t.Fatal(err)
	}
	led := ledger.New(r.db.Ledger(), ledger.Options{})
	defer led.Close()
	if _, _, err := led.Transfer(ctx, ledger.Move("t", "1", settle.ID, r.account.ID, 5000, "USD", "salary")); err != nil {
		t.Fatal(err)
	}
	evs, err := r.db.Ledger().Events(ctx, 0, 10)
	if err != nil || len(evs) != 1 {
		t.Fatalf("events %v, %v", evs, err)
	}
	off := alertsWiring(alertsDeps{store: r.db.Alerts(), ledger: r.db.Ledger(), messenger: r.db.Messenger(), bankName: "Test Bank"})
	if err := off.Process(ctx, evs, 0); err != nil {
		t.Fatal(err)
	}
	if n, err := off.Dispatch(ctx); err != nil || n != 0 {
		t.Fatalf("the instance without the hub claimed %d, %v; want none", n, err)
	}
	if got := off.Stats().Released; got != 0 {
		t.Errorf("the instance without the hub handed back %d deliveries, want 0", got)
	}
	if n, err := r.svc.Dispatch(ctx); err != nil || n != 1 {
		t.Fatalf("the instance with the hub claimed %d, %v", n, err)
	}
	if sent := r.chat.take(); len(sent) != 1 {
		t.Errorf("%d chat messages sent, want 1", len(sent))
	}
}

// TestAlertOptionsEmailInAFleet: with --events (a fleet) e-mail deliveries
// are made whether or not this instance has SMTP, so an instance without
// it leaves them to one that has it; one process makes them only with SMTP.
func TestAlertOptionsEmailInAFleet(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, smtp, events string
		mailer, fleet      bool
	}{
		{"OneProcessWithoutSMTP", "", "", false, false},
		{"OneProcessWithSMTP", "127.0.0.1:25", "", true, false},
		{"FleetInstanceWithoutSMTP", "", "nats://127.0.0.1:4222", false, true},
		{"FleetInstanceWithSMTP", "127.0.0.1:25", "nats://127.0.0.1:4222", true, true},
	} {
		o := alertOptions(&app.Config{SMTP: c.smtp, Events: c.events}, nil)
		if (o.Email != nil) != c.mailer || o.FleetEmail != c.fleet {
			t.Errorf("%s: Email %v, FleetEmail %v; want mailer %v, fleet %v", c.name, o.Email, o.FleetEmail, c.mailer, c.fleet)
		}
	}
}
