package assistant_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/ledger/ledgertest"
)

// TestAssistantPayLedgerFailures checks that a chat payment the ledger
// cannot book says "busy" only when the failure is transient; any other
// failure is returned (the channel logs it and apologises) rather than
// dressed as busy. Either way the request stays pending and a later
// confirmation books it once.
func TestAssistantPayLedgerFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		err      error
		wantBusy bool
	}{
		{"TransientSaysBusy", bankbridge.E(bankbridge.Unavailable, "database_busy", "the database is busy; try again"), true},
		{"ConstraintIsReturned", bankbridge.E(bankbridge.Conflict, "duplicate", "that value is already in use").WithOp("sqlite.apply", errors.New("UNIQUE constraint failed")), false},
		{"UntypedIsReturned", errors.New("sqlite.apply: disk I/O error"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := newBank(t)
			bl := &ledgertest.Breakable{Store: b.db.Ledger()}
			led := ledger.New(bl, ledger.Options{Now: b.clk.Now})
			t.Cleanup(led.Close)
			b.a = assistant.New(assistant.Deps{Store: b.db.Messenger(), Ledger: led, Consents: b.cons, BankURL: "https://bank.example", Now: b.clk.Now, Limits: b.guard})
			before := b.balance(b.sam.ID)
			p := confirmPayload(t, b.say("pay Sam 20"))

			bl.Fail(c.err)
			r, err := b.a.Handle(context.Background(), assistant.Inbound{Key: b.key, Text: "Confirm payment", Payload: p})
			if c.wantBusy {
				if err != nil {
					t.Fatalf("transient failure returned %v, want a busy reply", err)
				}
				has(t, r, "busy")
			} else {
				if err == nil {
					t.Fatalf("internal failure answered %q, want an error", text(r))
				}
				if !errors.Is(err, c.err) || bankbridge.ErrorKind(err) != bankbridge.Internal {
					t.Errorf("err = %v (kind %v), want the internal cause %v", err, bankbridge.ErrorKind(err), c.err)
				}
			}
			bl.Fail(nil)
			b.clk.Add(time.Second)
			has(t, b.sayAs(b.key, "Confirm payment", p), "payment to Sam is booked")
			if got := b.balance(b.sam.ID) - before; got != 2000 {
				t.Fatalf("Sam received %d, want 2000", got)
			}
		})
	}
}
