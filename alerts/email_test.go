package alerts_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
)

// smtpSink is a tiny SMTP server on loopback (RFC 5321's minimum: EHLO,
// MAIL, RCPT, DATA, QUIT) that keeps what it receives.
type smtpSink struct {
	ln   net.Listener
	mu   sync.Mutex
	mail []string // raw DATA of each message
	rcpt []string
}

func newSMTPSink(t *testing.T) *smtpSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpSink{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpSink) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(line string) { c.Write([]byte(line + "\r\n")) }
	say("220 sink ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-sink")
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			if strings.Contains(cmd, "<BAD") {
				say("550 no such user")
				continue
			}
			s.mu.Lock()
			s.rcpt = append(s.rcpt, strings.TrimSpace(line[len("RCPT TO:"):]))
			s.mu.Unlock()
			say("250 ok")
		case cmd == "DATA":
			say("354 go ahead")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			s.mu.Lock()
			s.mail = append(s.mail, b.String())
			s.mu.Unlock()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("502 not implemented")
		}
	}
}

func TestMailerSendsOverSMTP(t *testing.T) {
	t.Parallel()
	sink := newSMTPSink(t)
	m := &alerts.Mailer{Addr: sink.ln.Addr().String(), From: "alerts@bank.example"}
	ctx := context.Background()
	msg := alerts.Message{ID: "abc.email", Title: "Card purchase", Text: "$4.50 at Blue Bottle.\n.hidden dot line", To: "ann@example.com", Link: "/notifications"}
	if err := m.Deliver(ctx, 1, msg); err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	got := strings.Join(sink.mail, "")
	rcpt := strings.Join(sink.rcpt, ",")
	sink.mu.Unlock()
	for _, want := range []string{"Subject: Card purchase", "Message-ID: <abc.email@bank.example>", "To: ann@example.com", "$4.50 at Blue Bottle.", "..hidden dot line"} {
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
	sink := newSMTPSink(t)
	b := newBank(t, alerts.Options{Email: &alerts.Mailer{Addr: sink.ln.Addr().String(), From: "alerts@bank.example"}})
	st := alerts.DefaultSettings(2)
	st.Email = "bob@example.com"
	if err := b.svc.SaveSettings(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	b.move(b.settle, b.bob, 1000, "gift")
	b.run()
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.mail) != 1 || !strings.Contains(sink.mail[0], "You have a new alert") || strings.Contains(sink.mail[0], "$10.00") {
		t.Errorf("mail = %q (minimal privacy: no amount)", sink.mail)
	}
}
