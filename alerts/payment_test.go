package alerts_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bankbridge/bankbridge/alerts"
)

// TestPaymentChangedAlerts: each change of a payment to another bank is
// one alert in the notification centre and one delivery per linked channel,
// minimised per privacy, in English or Spanish; told twice it is one alert;
// leaving and settling follow the payments setting, a return does not.
func TestPaymentChangedAlerts(t *testing.T) {
	t.Parallel()
	b := newBank(t, alerts.Options{BankName: "Test Bank"})
	ctx := context.Background()
	change := func(c alerts.PaymentChange) {
		t.Helper()
		if err := b.svc.PaymentChanged(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	full := alerts.DefaultSettings(1)
	full.Privacy = alerts.PrivacyFull
	if err := b.svc.SaveSettings(ctx, full); err != nil {
		t.Fatal(err)
	}
	base := alerts.PaymentChange{Payment: 7, Customer: 1, Account: b.alice.ID, Payee: "Sam Lee", Amount: 20_00, Currency: "USD"}
	for _, st := range []string{alerts.PaymentHeld, alerts.PaymentReleased, alerts.PaymentLeft, alerts.PaymentSettled} {
		c := base
		c.State = st
		change(c)
		change(c) // a retry, or a second instance
	}
	ret := base
	ret.State, ret.Reason = alerts.PaymentReturned, "the other account did not have enough money"
	change(ret)
	b.run()
	as, _, err := b.svc.Notifications(ctx, 1, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 5 {
		t.Fatalf("%d alerts, want 5 (held, released, sent, settled, returned)", len(as))
	}
	if a := as[0]; a.Rule != alerts.PaymentStatus || a.Title != "Payment returned" ||
		a.Body != "Your payment of 20.00 USD to Sam Lee came back: the other account did not have enough money. The money is back in your Everyday checking." {
		t.Errorf("the return's alert: %+v", a)
	}
	// Alice's chat is full privacy: the text itself went out, once each.
	msgs := b.fake.messages()
	if len(msgs) != 5 {
		t.Errorf("%d chat deliveries, want 5", len(msgs))
	}
	for _, m := range msgs {
		if !strings.Contains(m.Text, "Sam Lee") {
			t.Errorf("a full-privacy delivery without the payee: %q", m.Text)
		}
	}

	// Bob: minimal privacy, Spanish, payment alerts off.
	if err := b.svc.SaveSettings(ctx, alerts.Settings{Customer: 2, Privacy: alerts.PrivacyMinimal, Payments: false}); err != nil {
		t.Fatal(err)
	}
	bob := alerts.PaymentChange{Payment: 8, Customer: 2, Account: b.bob.ID, Payee: "Ann Short", Amount: 5_00, Currency: "USD", Spanish: true}
	bob.State = alerts.PaymentSettled
	change(bob)
	bob.State, bob.Reason = alerts.PaymentRefused, "detenido por la revisión de cumplimiento del banco"
	change(bob)
	b.run()
	as, _, _ = b.svc.Notifications(ctx, 2, 50)
	if len(as) != 1 || as[0].Title != "Pago no enviado" ||
		as[0].Body != "Tu pago de 5.00 USD a Ann Short no se envió: detenido por la revisión de cumplimiento del banco. No salió dinero de tu Everyday checking." {
		t.Fatalf("Bob's alerts: %+v; want only the refusal, in Spanish", as)
	}
	for _, m := range b.fake.messages() {
		if strings.Contains(m.Text, "Ann Short") {
			t.Errorf("a minimal-privacy delivery names the payee: %q", m.Text)
		}
	}
}
