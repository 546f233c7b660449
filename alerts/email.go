package alerts

import (
	"cmp"
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
	// Language, when set, is the customer's chosen language ("es", "en" or
	// "" for none), read at each delivery from the setting the web app and
	// the chat share; "es" sends the alert in Spanish (SpanishEmail). Bank
	// names the bank in the Spanish texts.
	Language func(ctx context.Context, c bankbridge.CustomerID) string
	Bank     string
}

var _ Channel = (*Mailer)(nil)

// Deliver implements Channel. It needs m.To; a refused recipient (5xx) is
// permanent (NotFound), any other failure is retried.
func (ml *Mailer) Deliver(ctx context.Context, cu bankbridge.CustomerID, m Message) error {
	switch {
	case m.Language == "es":
		m.answerHere = "Contesta en la app del banco: " // written in Spanish by the service
	case ml.Language != nil && cu != 0 && ml.Language(ctx, cu) == "es":
		m = SpanishEmail(ml.Bank, m)
	}
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
		text += "\r\n\r\n" + cmp.Or(m.answerHere, "Answer in the bank's app: ") + m.Link
	}
	// net/smtp's DATA writer does the dot-stuffing (RFC 5321 4.5.2).
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		b.WriteString(line + "\r\n")
	}
	return []byte(b.String())
}

// spanishLabels are the rules' labels (Rule.label) in Spanish.
var spanishLabels = map[Rule]string{LargeDebit: "Pago grande", LowBalance: "Saldo bajo", CardPurchase: "Compra con tarjeta",
	Deposit: "Dinero recibido", PaymentSent: "Pago enviado", Suspicious: "¿Fuiste tú?", Scheduled: "Pago programado",
	PaymentStatus: "Novedad de un pago"}

// SpanishEmail is m for a customer who chose Spanish: the subject and the
// minimised texts in Spanish. A full text was written in English when the
// alert was made (it is stored so, for the notification centre), so it
// follows a Spanish first line under "Detalles" rather than being lost.
func SpanishEmail(bank string, m Message) Message {
	if es, ok := MinimalSpanish(bank, m.Rule, m.Text); ok {
		m.Text = es
		if m.Rule == Suspicious {
			m.Title = "Confirma un pago"
		} else {
			m.Title = "Alerta de " + bank
		}
	} else {
		label := cmp.Or(spanishLabels[m.Rule], "Alerta")
		m.Title = label
		// Only an alert made before its facts were kept, or a service
		// without Options.Language, gets here with an English text.
		m.Text = "Tienes una alerta nueva de " + bank + ": " + label + ".\n\nDetalles: " + m.Text
	}
	m.answerHere = "Contesta en la app del banco: "
	return m
}
