package alerts_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/alerts/alertstest"
)

func TestMailerSendsOverSMTP(t *testing.T) {
	t.Parallel()
	sink := alertstest.NewSMTPSink(t)
	m := &alerts.Mailer{Addr: sink.Addr(), From: "alerts@bank.example"}
	ctx := context.Background()
	msg := alerts.Message{ID: "abc.email", Title: "Card purchase", Text: "4.50 USD at Blue Bottle.\n.hidden dot line", To: "ann@example.com", Link: "/notifications"}
	if err := m.Deliver(ctx, 1, msg); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(sink.Mail(), "")
	rcpt := strings.Join(sink.Rcpt(), ",")
	for _, want := range []string{"Subject: Card purchase", "Message-ID: <abc.email@bank.example>", "To: ann@example.com", "4.50 USD at Blue Bottle.", "..hidden dot line"} {
		if !strings.Contains(got, want) {
			t.Errorf("mail lacks %q:\n%s", want, got)
		}
	}
	if rcpt != "<ann@example.com>" {
		t.Errorf("rcpt = %s", rcpt)
	}
	// A refused address is permanent: the delivery becomes a dead letter.
	err := m.Deliver(ctx, 1, alerts.Message{ID: "x", Title: "t", Text: "b", To: "bad@example.com"})
	if bankbridge.ErrorKind(err) != bankbridge.NotFound {
		t.Errorf("refused address: %v, want NotFound", err)
	}
	// No server: retried (not a bankbridge error kind that is permanent).
	down := &alerts.Mailer{Addr: "127.0.0.1:1", From: "alerts@bank.example"}
	err = down.Deliver(ctx, 1, msg)
	var be *bankbridge.Error
	if err == nil || errors.As(err, &be) {
		t.Errorf("server down: %v, want a plain (transient) error", err)
	}
	// Header injection through the address is refused.
	if err := m.Deliver(ctx, 1, alerts.Message{ID: "y", To: "a@b.c\r\nBcc: x@y.z"}); bankbridge.ErrorKind(err) != bankbridge.Invalid {
		t.Errorf("address with CRLF: %v", err)
	}
}

func TestEmailDeliveryThroughTheService(t *testing.T) {
	t.Parallel()
	sink := alertstest.NewSMTPSink(t)
	b := newBank(t, alerts.Options{Email: &alerts.Mailer{Addr: sink.Addr(), From: "alerts@bank.example"}})
	st := alerts.DefaultSettings(2)
	st.Email = "bob@example.com"
	if err := b.svc.SaveSettings(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	b.move(b.settle, b.bob, 1000, "gift")
	b.run()
	if mail := sink.Mail(); len(mail) != 1 || !strings.Contains(mail[0], "You have a new alert") || strings.Contains(mail[0], "10.00 USD") {
		t.Errorf("mail = %q (minimal privacy: no amount)", mail)
	}
}

// TestEmailFollowsTheHandBackRule: in a fleet where only some instances
// have SMTP, an instance without it still stores the e-mail delivery
// (FleetEmail), does not claim it, and an instance with SMTP sends it;
// when none has SMTP it ends as a dead letter saying so, never dropped.
func TestEmailFollowsTheHandBackRule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// alertForBob sets an e-mail address for customer 2, posts an alert to
	// them and returns its deliveries after one pass of the dispatcher.
	alertForBob := func(t *testing.T, o alerts.Options) (*bank, []alerts.Delivery) {
		b := newBank(t, o)
		st := alerts.DefaultSettings(2)
		st.Email = "bob@example.com"
		if err := b.svc.SaveSettings(ctx, st); err != nil {
			t.Fatal(err)
		}
		b.move(b.settle, b.bob, 1000, "gift")
		b.run()
		as, _, err := b.svc.Notifications(ctx, 2, 10)
		if err != nil || len(as) != 1 {
			t.Fatalf("alerts of customer 2: %+v, %v", as, err)
		}
		ds, err := b.svc.Deliveries(ctx, as[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		return b, ds
	}
	setup := func(t *testing.T) (*bank, alerts.Delivery) {
		b, ds := alertForBob(t, alerts.Options{FleetEmail: true, MaxAttempts: 1})
		if len(ds) != 2 || ds[0].Channel != alerts.Email || ds[1].Channel != "fake" {
			t.Fatalf("deliveries %+v: want e-mail and fake", ds)
		}
		if ds[0].Status != alerts.Pending || ds[0].Attempts != 0 || ds[1].Status != alerts.Delivered {
			t.Fatalf("e-mail %+v claimed by the instance without SMTP, or fake %+v not delivered", ds[0], ds[1])
		}
		return b, ds[0]
	}
	t.Run("SentByAnInstanceWithSMTP", func(t *testing.T) {
		t.Parallel()
		b, d := setup(t)
		sink := alertstest.NewSMTPSink(t)
		withSMTP := alerts.New(b.db.Alerts(), b.db.Ledger(), alerts.Options{Email: &alerts.Mailer{Addr: sink.Addr(), From: "alerts@bank.example"}, Now: b.clk.now})
		if n, err := withSMTP.Dispatch(ctx); err != nil || n != 1 || len(sink.Mail()) != 1 {
			t.Fatalf("the instance with SMTP claimed %d, %v, sent %d", n, err, len(sink.Mail()))
		}
		if ds, _ := b.svc.Deliveries(ctx, d.Alert); ds[0].Status != alerts.Delivered {
			t.Errorf("e-mail delivery %+v", ds[0])
		}
		if st := b.svc.Stats(); st.Released != 0 {
			t.Errorf("the instance without SMTP handed back %d", st.Released)
		}
	})
	t.Run("DeadLetterWhenNoInstanceHasSMTP", func(t *testing.T) {
		t.Parallel()
		b, _ := setup(t)
		for range 3 {
			b.clk.add(time.Minute) // overdue: no instance with SMTP took it
			b.run()
		}
		dead, err := b.svc.DeadLetters(ctx, 10)
		if err != nil || len(dead) != 1 || dead[0].Channel != alerts.Email || !strings.Contains(dead[0].LastError, "no instance could deliver on the email channel") {
			t.Fatalf("dead letters %+v, %v", dead, err)
		}
	})
	t.Run("NoDeliveryInOneProcessWithoutSMTP", func(t *testing.T) {
		t.Parallel()
		if _, ds := alertForBob(t, alerts.Options{}); len(ds) != 1 || ds[0].Channel != "fake" {
			t.Errorf("deliveries %+v: want fake only", ds)
		}
	})
}

// TestMailerSpeaksTheCustomersLanguage: a customer who chose Spanish gets
// the subject, the minimised text and the "answer here" line in Spanish;
// one who did not gets English; the language is read at each delivery.
func TestMailerSpeaksTheCustomersLanguage(t *testing.T) {
	t.Parallel()
	sink := alertstest.NewSMTPSink(t)
	langs := map[bankbridge.CustomerID]string{1: "es", 2: ""}
	m := &alerts.Mailer{Addr: sink.Addr(), From: "alerts@bank.example", Bank: "Test Bank",
		Language: func(_ context.Context, c bankbridge.CustomerID) string { return langs[c] }}
	ctx := context.Background()
	ask := alerts.Message{ID: "s1", Rule: alerts.Suspicious, Title: "Please confirm a payment", Ask: true, Link: "/notifications", To: "ana@example.com",
		Text: "We need you to confirm a recent card payment. Was this you? Answer Yes or No, or open Test Bank for the details."}
	if err := m.Deliver(ctx, 1, ask); err != nil {
		t.Fatal(err)
	}
	es := strings.Join(sink.Mail(), "")
	for _, want := range []string{"Subject: Confirma un pago", "Necesitamos que confirmes un pago reciente", "Contesta en la app del banco: /notifications"} {
		if !strings.Contains(es, want) {
			t.Errorf("Spanish mail lacks %q:\n%s", want, es)
		}
	}
	full := alerts.Message{ID: "c1", Rule: alerts.CardPurchase, Title: "Card purchase", Text: "4.50 USD at Blue Bottle on your card ••••2516.", To: "ana@example.com"}
	if err := m.Deliver(ctx, 1, full); err != nil {
		t.Fatal(err)
	}
	es = strings.Join(sink.Mail(), "")
	for _, want := range []string{"Subject: =?utf-8?q?Compra_con_tarjeta?=", "Tienes una alerta nueva de Test Bank: Compra con tarjeta.", "Detalles: 4.50 USD at Blue Bottle"} {
		if !strings.Contains(es, want) && !strings.Contains(es, strings.ReplaceAll(want, "=?utf-8?q?Compra_con_tarjeta?=", "Compra con tarjeta")) {
			t.Errorf("Spanish mail lacks %q:\n%s", want, es)
		}
	}
	langs[1] = "en" // changed in chat or on the web: the next mail follows
	if err := m.Deliver(ctx, 1, ask); err != nil {
		t.Fatal(err)
	}
	if err := m.Deliver(ctx, 2, ask); err != nil {
		t.Fatal(err)
	}
	mails := sink.Mail()
	for _, got := range mails[len(mails)-2:] {
		if !strings.Contains(got, "Subject: Please confirm a payment") || !strings.Contains(got, "Answer in the bank's app: /notifications") {
			t.Errorf("English mail expected:\n%s", got)
		}
	}
}

// TestEmailWrittenInSpanishFromTheFacts: with full privacy, a customer who
// reads Spanish gets the whole alert in Spanish, written at the time it is
// sent from what the alert says as data (not the stored English under a
// Spanish first line); one who switches back to English gets English. A
// scheduled payment's "not made" notice goes by e-mail too.
func TestEmailWrittenInSpanishFromTheFacts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sink := alertstest.NewSMTPSink(t)
	lang := "es"
	b := newBank(t, alerts.Options{Email: &alerts.Mailer{Addr: sink.Addr(), From: "alerts@bank.example", Bank: "Test Bank"},
		Language: func(context.Context, bankbridge.CustomerID) string { return lang }})
	st := alerts.DefaultSettings(1)
	st.Email, st.Privacy = "ana@example.com", alerts.PrivacyFull
	if err := b.svc.SaveSettings(ctx, st); err != nil {
		t.Fatal(err)
	}
	b.move(b.settle, b.alice, 100_00, "gift")
	b.run()
	cafe := b.merchant("Café Sol", "coffee", "US")
	b.buy(cafe, 4_50, time.Minute)
	b.run()
	mail := strings.Join(sink.Mail(), "\n----\n")
	for _, want := range []string{"Llegaron 100.00 USD a tu Everyday checking (gift).", "4.50 USD en Café Sol con tu tarjeta ••••4242.",
		"Subject: Compra con tarjeta", "Tu Everyday checking tiene 95.50 USD disponibles."} {
		if !strings.Contains(mail, want) {
			t.Errorf("Spanish mail lacks %q:\n%s", want, mail)
		}
	}
	for _, not := range []string{"Detalles:", "arrived in your", " at Café Sol"} {
		if strings.Contains(mail, not) {
			t.Errorf("Spanish mail carries the English text %q:\n%s", not, mail)
		}
	}
	// The chat deliveries share the path: the linked chat got Spanish too.
	var chat []string
	b.fake.mu.Lock()
	for _, m := range b.fake.shown {
		chat = append(chat, m.Text)
	}
	b.fake.mu.Unlock()
	if got := strings.Join(chat, "\n"); !strings.Contains(got, "4.50 USD en Café Sol con tu tarjeta ••••4242.") || strings.Contains(got, " at Café Sol") {
		t.Errorf("the chat got:\n%s", got)
	}
	// A notice told by the scheduled payments' worker: in the notification
	// centre and by e-mail, once however often it is told.
	n := alerts.Notice{Title: "Scheduled payment not made", Body: "Your scheduled payment of 50.00 USD to Sam was not made.",
		TitleES: "Pago programado no realizado", BodyES: "Tu pago programado de 50.00 USD a Sam no se realizó."}
	for range 2 {
		if err := b.svc.Tell(ctx, 1, "sched:1:1", n); err != nil {
			t.Fatal(err)
		}
	}
	before := len(sink.Mail())
	b.run()
	mails := sink.Mail()
	if len(mails) != before+1 || !strings.Contains(mails[len(mails)-1], "Tu pago programado de 50.00 USD a Sam no se realizó.") {
		t.Fatalf("the notice by e-mail: %d new mails\n%s", len(mails)-before, strings.Join(mails[before:], "\n----\n"))
	}
	lang = "en"
	if err := b.svc.Tell(ctx, 1, "sched:1:2", n); err != nil {
		t.Fatal(err)
	}
	b.run()
	mails = sink.Mail()
	if got := mails[len(mails)-1]; !strings.Contains(got, "Your scheduled payment of 50.00 USD to Sam was not made.") {
		t.Fatalf("English notice:\n%s", got)
	}
}
