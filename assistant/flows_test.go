package assistant_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/ledger"
)

// desk is a fraud desk that records reports and opens one case per
// transfer, as the alerts store does.
type desk struct {
	mu      sync.Mutex
	reports []assistant.FraudReport
	cases   map[ledger.TransferID]string
}

func (d *desk) Report(_ context.Context, r assistant.FraudReport) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reports = append(d.reports, r)
	if d.cases == nil {
		d.cases = map[ledger.TransferID]string{}
	}
	if _, ok := d.cases[r.Transfer]; !ok {
		d.cases[r.Transfer] = itoa(int64(len(d.cases) + 41))
	}
	return d.cases[r.Transfer], nil
}

func (b *bank) withDesk(d *desk) {
	b.a = assistant.New(assistant.Deps{Store: b.db.Messenger(), Ledger: b.led, Consents: b.cons, BankURL: "https://bank.example", Now: b.clk.Now,
		Limits: b.guard, Fraud: d})
}

func choice(t *testing.T, r assistant.Result, prefix string) assistant.Choice {
	t.Helper()
	for _, rep := range r.Replies {
		for _, c := range rep.Choices {
			if strings.HasPrefix(c.Payload, prefix) {
				return c
			}
		}
	}
	t.Fatalf("no choice %s… in %q", prefix, text(r))
	return assistant.Choice{}
}

func (b *bank) cardStatus() ledger.CardStatus {
	b.t.Helper()
	cs, err := b.db.Ledger().CustomerCards(context.Background(), b.customer)
	if err != nil {
		b.t.Fatal(err)
	}
	for _, c := range cs {
		if c.ID == b.card.ID {
			return c.Status
		}
	}
	b.t.Fatal("card gone")
	return ""
}

func TestAssistantPayAmountInWords(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	before := b.balance(b.sam.ID)
	r := b.say("pay sam twenty dollars")
	has(t, r, "Pay Sam 20.00 USD")
	has(t, b.sayAs(b.key, "Confirm", confirmPayload(t, r)), "booked")
	if got := b.balance(b.sam.ID) - before; got != 2000 {
		t.Fatalf("Sam received %d, want 2000", got)
	}
	has(t, b.say("send sam twenty-five fifty"), "25.50")
	has(t, b.say("pay sam five fifty"), "digits")
	has(t, b.say("pay sam half"), "Half of what")
	has(t, b.say("pay sam veinte mil millones"), "too large")
	has(t, b.say("pay sam 20,000.5.5"), "could not read")
	has(t, b.say("pay sam -5"), "more than zero")
	has(t, b.say("pay sam 1e9"), "could not read")
	if got := b.balance(b.sam.ID) - before; got != 2000 {
		t.Fatalf("bad amounts moved money: Sam has %d more, want 2000", got)
	}
}

func TestAssistantTransferOwnAccounts(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	checking, savings := b.balance(b.checking.ID), b.balance(b.savings.ID)
	r := b.say("transfer $50 from checking to savings")
	has(t, r, "Move 50.00 USD", "savings", "Nothing moves until you confirm")
	if b.balance(b.savings.ID) != savings {
		t.Fatal("money moved before the confirmation")
	}
	p := confirmPayload(t, r)
	has(t, b.sayAs(b.key, "Confirm transfer", p), "money moved between your accounts")
	has(t, b.sayAs(b.key, "Confirm transfer", p), "already done", "Nothing was paid twice")
	has(t, b.say("yes"), "already done")
	if got := b.balance(b.savings.ID) - savings; got != 5000 {
		t.Fatalf("savings got %d, want 5000", got)
	}
	if got := checking - b.balance(b.checking.ID); got != 5000 {
		t.Fatalf("checking gave %d, want 5000", got)
	}
	// By last four digits and by name; the source picked when only one fits.
	has(t, b.say("move 10 to the account ending 5555"), "Move 10.00 USD")
	has(t, b.say("move 10 to savings"), "Move 10.00 USD")
	// Own transfers above the step-up amount go to the bank's page.
	has(t, b.say("move 5000 to savings"), "security code")
	// By name, through a verb of paying.
	has(t, b.say("pay savings 10"), "Move 10.00 USD")
	has(t, b.say("move 12 to everyday"), "may not move money from that account") // savings may not pay
	// The same account twice, and an account the chat may not see.
	has(t, b.say("move 10 from savings to savings"), "Nothing was moved")
	has(t, b.say("move 10 to account 9999"), "I don't see that account")
}

func TestAssistantFraudPath(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	d := &desk{}
	b.withDesk(d)
	b.privacy(assistant.PrivacyFull)
	r := b.say("I didn't make this payment")
	has(t, r, "Which payment wasn't you?", "Harbor Coffee")
	if !disclosed(r) {
		t.Error("the list of payments carries data but no disclosure")
	}
	pick := choice(t, r, "REPORT:")
	r = b.sayAs(b.key, pick.Title, pick.Payload)
	has(t, r, "as not yours", "freeze the card")
	if b.cardStatus() != ledger.CardActive {
		t.Fatal("card frozen before \"not me\"")
	}
	p := confirmPayload(t, r)
	r = b.sayAs(b.key, "Not me: report it", p)
	has(t, r, "card is frozen", "case 41", "one business day")
	if b.cardStatus() != ledger.CardFrozen {
		t.Fatal("card not frozen after \"not me\"")
	}
	if len(d.reports) != 1 || d.reports[0].Card != b.card.ID || d.reports[0].Customer != b.customer || d.reports[0].Amount <= 0 {
		t.Fatalf("reports %+v", d.reports)
	}
	// The same tap again, and a late "yes": one case, said clearly.
	has(t, b.sayAs(b.key, "Not me: report it", p), "already reported", "case 41")
	has(t, b.say("yes"), "already reported")
	if len(d.reports) != 1 {
		t.Fatalf("reported %d times", len(d.reports))
	}
	// A forged payload naming another's transfer finds nothing.
	has(t, b.sayAs(b.key, "x", "REPORT:999999"), "can't find that payment")
}

func TestAssistantFraudRespectsPrivacy(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	b.withDesk(&desk{})
	for _, m := range []assistant.PrivacyMode{assistant.PrivacyMinimal, assistant.PrivacyOff} {
		b.privacy(m)
		r := b.say("someone used my card, it wasn't me")
		lacks(t, r, "Harbor", "USD", "4242")
		if disclosed(r) {
			t.Errorf("%s: a disclosure under privacy %s", text(r), m)
		}
		choice(t, r, "INTENT:freeze")
		// A payload kept from when privacy was full shows no details now.
		r = b.sayAs(b.key, "1", "REPORT:999999")
		lacks(t, r, "Harbor", "USD")
	}
}

func TestAssistantFraudWithoutDeskHandsOver(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	b.privacy(assistant.PrivacyFull)
	pick := choice(t, b.say("i dont recognize a charge"), "REPORT:")
	r := b.sayAs(b.key, pick.Payload, pick.Payload)
	r = b.sayAs(b.key, "Not me", confirmPayload(t, r))
	if !r.HandedOver || b.cardStatus() != ledger.CardFrozen {
		t.Fatalf("handed over %v, card %s: %q", r.HandedOver, b.cardStatus(), text(r))
	}
}

func TestAssistantLostCardAsksWhichAndConfirms(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	ctx := context.Background()
	second, err := b.db.Ledger().CreateCard(ctx, ledger.Card{Account: b.checking.ID, Customer: b.customer, Last4: "1881", Network: "mastercard", Status: ledger.CardActive})
	if err != nil {
		t.Fatal(err)
	}
	// Minimal privacy: the chat does not name the cards; it asks for the
	// last four digits or offers all.
	r := b.say("someone stole my card")
	has(t, r, "Which one?")
	lacks(t, r, "4242", "1881")
	b.privacy(assistant.PrivacyFull)
	r = b.say("I lost my card")
	has(t, r, "Which card?")
	pick := choice(t, r, "INTENT:freeze_lost_card_1881")
	r = b.sayAs(b.key, pick.Title, pick.Payload)
	has(t, r, "Freeze your card Mastercard ••1881?")
	if b.cardStatus() != ledger.CardActive {
		t.Fatal("frozen before the confirmation")
	}
	r = b.sayAs(b.key, "Freeze", confirmPayload(t, r))
	has(t, r, "frozen", "new one")
	cs, _ := b.db.Ledger().CustomerCards(ctx, b.customer)
	for _, c := range cs {
		if want := map[bool]ledger.CardStatus{true: ledger.CardFrozen, false: ledger.CardActive}[c.ID == second.ID]; c.Status != want {
			t.Errorf("card %s is %s, want %s", c.Last4, c.Status, want)
		}
	}
	// "freeze all cards" asks once for all.
	r = b.say("freeze all my cards")
	has(t, r, "Freeze your card Visa ••4242?") // the only active one left
}

func TestAssistantSpanish(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	ctx := context.Background()
	// Detected and offered.
	r := b.say("hola, cuál es mi saldo?")
	has(t, r, "Soy el asistente automático del banco.", "Tus saldos están listos", "¿Quieres que siempre te conteste en español?")
	es := choice(t, r, "LANG:es")
	if s, _ := b.db.Messenger().Settings(ctx, b.customer); s.Language != "" {
		t.Fatalf("language kept before the customer chose: %q", s.Language)
	}
	has(t, b.sayAs(b.key, es.Title, es.Payload), "Desde ahora te contesto en español")
	if s, _ := b.db.Messenger().Settings(ctx, b.customer); s.Language != assistant.Spanish {
		t.Fatalf("language %q, want es", s.Language)
	}
	// Remembered: English words get Spanish answers, buttons included.
	r = b.say("pay sam 20")
	has(t, r, "¿Le pago a Sam 20.00 USD desde tu cuenta de cheques?")
	c := choice(t, r, "CONFIRM:")
	if c.Title != "Confirmar pago" {
		t.Errorf("button %q, want Spanish", c.Title)
	}
	// The language changes while the payment waits; the confirmation
	// still books once, answered in the new language.
	has(t, b.say("english please"), "From now on I'll answer in English")
	before := b.balance(b.sam.ID)
	has(t, b.sayAs(b.key, c.Title, c.Payload), "payment to Sam is booked")
	has(t, b.sayAs(b.key, c.Title, c.Payload), "already done")
	has(t, b.say("español"), "Desde ahora")
	has(t, b.say("sí"), "Eso ya se hizo")
	if got := b.balance(b.sam.ID) - before; got != 2000 {
		t.Fatalf("Sam received %d, want 2000", got)
	}
	// Spanish all the way: amounts in words, transfers, spending, fraud.
	has(t, b.say("mándale veinte dólares con cincuenta a sam"), "20.50")
	has(t, b.say("pasa 50 de cheques a ahorros"), "¿Paso 50.00 USD de tu cuenta de cheques a tu cuenta de ahorros?")
	has(t, b.say("cuánto gasté en café este mes"), "Tus gastos en café este mes están listos")
	has(t, b.say("perdí mi tarjeta"), "¿Congelo tu tarjeta?")
	has(t, b.say("no"), "Cancelado")
}

func TestAssistantSpendingCategories(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	b.privacy(assistant.PrivacyFull)
	// The bank's two coffee payments (4.50 and 5.20) count as food and as
	// coffee, not as eating out or gas.
	has(t, b.say("how much did I spend on food this month"), "9.70 USD on food this month (2 payments)")
	has(t, b.say("coffee since monday"), "since Monday")
	has(t, b.say("how much did i spend eating out this week"), "nothing on eating out")
	has(t, b.say("gas last month"), "nothing on fuel last month")
}

// TestAssistantPayeeNamedLikeANumber: a payee called Seven is paid when the
// amount is in digits; with the amount in words too, it is asked back.
func TestAssistantPayeeNamedLikeANumber(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	if _, err := b.db.Ledger().CreatePayee(context.Background(), ledger.Payee{Customer: b.customer, Name: "Seven Lee", Nickname: "Seven", Account: b.sam.ID}); err != nil {
		t.Fatal(err)
	}
	has(t, b.say("pay seven 20"), "Pay Seven 20.00 USD")
	has(t, b.say("send 20 to seven"), "Pay Seven 20.00 USD")
	r := b.say("pay seven twenty")
	lacks(t, r, "Pay Seven")
	has(t, r, "Nothing was paid")
}

// TestAssistantDescriptionsInSpanish: the recent activity a Spanish
// customer reads in chat shows the bank's own descriptions in Spanish and
// what a merchant or a person wrote as written.
func TestAssistantDescriptionsInSpanish(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	ctx := context.Background()
	if err := b.db.Messenger().SaveSettings(ctx, assistant.Settings{Customer: b.customer, Privacy: assistant.PrivacyFull, Alerts: true,
		Language: assistant.Spanish, Updated: now}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.led.Transfer(ctx, ledger.Move("test", "sched", b.checking.ID, b.sam.ID, 1500, "USD", "Scheduled payment to Sam Smith: rent")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.led.Transfer(ctx, ledger.Move("test", "save", b.checking.ID, b.savings.ID, 1000, "USD", "Transfer to savings")); err != nil {
		t.Fatal(err)
	}
	r := b.sayAs(b.key, "Movimientos", "INTENT:recent_transactions")
	has(t, r, "Movimientos recientes:", "Pago programado a Sam Smith: rent", "Transferencia a ahorros", "Harbor Coffee Co.")
	if s := text(r); strings.Contains(s, "Scheduled payment") || strings.Contains(s, "Transfer to savings") {
		t.Errorf("English descriptions in a Spanish chat:\n%s", s)
	}
}
