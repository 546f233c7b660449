package assistant_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
)

// TestAssistantPayFollowsTheBankLimits: chat payments count with the
// customer's payments on every channel (the web's, here, through the same
// guard): a payment that takes the day past the step-up amount goes to the
// bank's own page, also when the total crossed it between asking and
// confirming, and past the daily limit the chat refuses.
func TestAssistantPayFollowsTheBankLimits(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	g := limits.NewGuard(b.db.Limits(), limits.Policy{Daily: 150_00, PerPayee: 150_00, NewPayee: 150_00, StepUp: 100_00}, b.clk.Now)
	b.a = assistant.New(assistant.Deps{Store: b.db.Messenger(), Ledger: b.led, Consents: b.cons, BankURL: "https://bank.example", Now: b.clk.Now, Limits: g})
	ctx := context.Background()
	web := func(key string, amt int64) {
		t.Helper()
		if err := g.Reserve(ctx, limits.Payment{Customer: b.customer, Payee: b.sam.ID, Amount: ledger.Amount(amt), Currency: "USD", SteppedUp: true, Channel: "web", Key: key}); err != nil {
			t.Fatalf("web payment %s: %v", key, err)
		}
	}
	before := b.balance(b.sam.ID)
	has(t, b.sayAs(b.key, "Confirm payment", confirmPayload(t, b.say("pay sam 60"))), "payment to Sam is booked")

	r := b.say("pay sam 50")
	has(t, r, "security code")
	if confirmable(r) || !linksTo(r, "https://bank.example/transfer") {
		t.Errorf("60 + 50 in a day from chat: want the bank's page, got %q", text(r))
	}

	p := confirmPayload(t, b.say("pay sam 30"))
	web("w1", 20_00) // the day is now 80.00
	has(t, b.sayAs(b.key, "Confirm payment", p), "security code")

	web("w2", 70_00) // 150.00: the daily limit
	has(t, b.say("pay sam 1"), "daily limit of 150.00")

	if got := b.balance(b.sam.ID) - before; got != 60_00 {
		t.Errorf("sam got %d from chat, want 6000", got)
	}
}

func confirmable(r assistant.Result) bool {
	for _, rep := range r.Replies {
		for _, c := range rep.Choices {
			if strings.HasPrefix(c.Payload, "CONFIRM:") {
				return true
			}
		}
	}
	return false
}

func linksTo(r assistant.Result, url string) bool {
	for _, rep := range r.Replies {
		for _, bt := range rep.Buttons {
			if bt.Kind == assistant.ButtonURL && strings.HasPrefix(bt.URL, url) {
				return true
			}
		}
	}
	return false
}
