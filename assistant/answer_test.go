package assistant_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
)

// TestAnswerHook: Deps.Answer sees payloads tapped in linked chats first,
// with the link's customer; what it handles is answered with its text, the
// rest goes on to the assistant; unlinked chats never reach it.
func TestAnswerHook(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	type call struct {
		C       bankbridge.CustomerID
		Payload string
	}
	var calls []call
	b.a = assistant.New(assistant.Deps{Store: b.db.Messenger(), Ledger: b.led, Consents: b.cons, BankURL: "https://bank.example", Now: b.clk.Now, Limits: b.guard,
		Answer: func(_ context.Context, c bankbridge.CustomerID, p string) (string, bool, error) {
			calls = append(calls, call{c, p})
			if strings.HasPrefix(p, "alert:") {
				return "answered " + p, true, nil
			}
			return "", false, nil
		}})

	r := b.sayAs(b.key, "No, it wasn't", "alert:ab12:no")
	if got, want := text(r), "answered alert:ab12:no"; got != want {
		t.Errorf("reply = %q, want %q", got, want)
	}
	r = b.sayAs(b.key, "Balance", "INTENT:balance")
	has(t, r, "balance") // passed on: the assistant answered it
	if strings.Contains(text(r), "answered") {
		t.Errorf("an unhandled payload was answered by the hook: %q", text(r))
	}
	b.sayAs(assistant.Key{Platform: "messenger", User: "stranger"}, "No", "alert:ab12:no")
	b.sayAs(b.key, "hello", "") // free text never reaches the hook

	want := []call{{b.customer, "alert:ab12:no"}, {b.customer, "INTENT:balance"}}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("hook calls (-want +got):\n%s", diff)
	}

	// A conversation handed to a person still gets its answer acted on.
	conv, err := b.db.Messenger().Conversation(context.Background(), b.key)
	if err != nil {
		t.Fatal(err)
	}
	conv.Mode = assistant.ModeHuman
	if err := b.db.Messenger().SaveConversation(context.Background(), conv); err != nil {
		t.Fatal(err)
	}
	if r := b.sayAs(b.key, "Yes", "alert:cd34:yes"); text(r) != "answered alert:cd34:yes" {
		t.Errorf("handed-over chat: reply %q", text(r))
	}
	ms, err := b.db.Messenger().Messages(context.Background(), b.key, 100)
	if err != nil {
		t.Fatal(err)
	}
	if last := ms[len(ms)-1]; last.Dir != assistant.Out || last.Text != "answered alert:cd34:yes" {
		t.Errorf("transcript's last message = %+v, want the answer", last)
	}
}
