package alerts_test

import (
	"context"
	"errors"
	"strings"
	"testing"

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
