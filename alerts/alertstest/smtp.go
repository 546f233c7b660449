// Package alertstest holds what tests of alert delivery share: an SMTP
// sink on loopback that keeps the mail alerts.Mailer sends, so a test can
// read an alert's e-mail as the customer would. It must never be used by
// production code.
package alertstest

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"
)

// SMTPSink is a tiny SMTP server on loopback (RFC 5321's minimum: EHLO,
// MAIL, RCPT, DATA, QUIT) that keeps what it receives.
type SMTPSink struct {
	ln   net.Listener
	mu   sync.Mutex
	mail []string // raw DATA of each message
	rcpt []string
}

func NewSMTPSink(t testing.TB) *SMTPSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SMTPSink{ln: ln}
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

// serve speaks to one client until QUIT.
func (s *SMTPSink) serve(c net.Conn) {
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

// Addr is the sink's host:port, for alerts.Mailer.Addr.
func (s *SMTPSink) Addr() string { return s.ln.Addr().String() }

// Mail returns the raw DATA of each message received so far.
func (s *SMTPSink) Mail() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.mail...)
}

// Rcpt returns every accepted RCPT TO argument so far, such as "<a@b.c>".
func (s *SMTPSink) Rcpt() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.rcpt...)
}
