package alerts

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
)

// Mailer is the e-mail Channel: it sends each message over SMTP (net/smtp),
// with STARTTLS when the server offers it. The delivery id becomes the
// Message-ID, so a retried message is recognisable by mail clients.
type Mailer struct {
	Addr string    // host:port of the SMTP server
	From string    // envelope and header sender: alerts@bank.example
	Auth smtp.Auth // nil for none (a local relay)
	// Domain names the Message-ID's right-hand side; default the From domain.
	Domain string
}

var _ Channel = (*Mailer)(nil)

// Deliver implements Channel. It needs m.To; a refused recipient (5xx) is
// permanent (NotFound), any other failure is retried.
func (ml *Mailer) Deliver(ctx context.Context, _ bankbridge.CustomerID, m Message) error {
	if m.To == "" || strings.ContainsAny(m.To, "\r\n") || strings.ContainsAny(ml.From, "\r\n") {
		return bankbridge.E(bankbridge.Invalid, "alert_email_invalid", "no valid e-mail address")
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", ml.Addr)
	if err != nil {
		return fmt.Errorf("alerts: smtp dial: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	} else {
		conn.SetDeadline(time.Now().Add(30 * time.Second))
	}
	host, _, _ := net.SplitHostPort(ml.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("alerts: smtp greeting: %w", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(nil); err != nil {
			return fmt.Errorf("alerts: smtp starttls: %w", err)
		}
	}
	if ml.Auth != nil {
		if err := c.Auth(ml.Auth); err != nil {
			return fmt.Errorf("alerts: smtp auth: %w", err)
		}
	}
	if err := c.Mail(ml.From); err != nil {
		return fmt.Errorf("alerts: smtp MAIL: %w", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		var te *textproto.Error
		if errors.As(err, &te) && te.Code >= 500 { // a 5xx reply: refused for good (RFC 5321 4.2.1)
			return bankbridge.E(bankbridge.NotFound, "alert_email_refused", "the mail server refused the address").WithOp("alerts.Mailer", err)
		}
		return fmt.Errorf("alerts: smtp RCPT: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("alerts: smtp DATA: %w", err)
	}
	if _, err := w.Write(ml.body(m)); err != nil {
		return fmt.Errorf("alerts: smtp body: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("alerts: smtp end of data: %w", err)
	}
	return c.Quit()
}

func (ml *Mailer) body(m Message) []byte {
	domain := ml.Domain
	if domain == "" {
		_, domain, _ = strings.Cut(ml.From, "@")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@%s>\r\nDate: %s\r\n", ml.From, m.To,
		mime.QEncoding.Encode("utf-8", m.Title), m.ID, domain, time.Now().UTC().Format(time.RFC1123Z))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	text := m.Text
	if m.Ask {
		text += "\r\n\r\nAnswer in the bank's app: " + m.Link
	}
	// net/smtp's DATA writer does the dot-stuffing (RFC 5321 4.5.2).
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		b.WriteString(line + "\r\n")
	}
	return []byte(b.String())
}
