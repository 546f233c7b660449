package messenger_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/alerts/alertstest"
	"github.com/bankbridge/bankbridge/ledger"
)

// chatInbox is an alerts.Channel that keeps what it is given.
type chatInbox struct {
	mu   sync.Mutex
	text []string
}

func (c *chatInbox) Deliver(_ context.Context, _ bankbridge.CustomerID, m alerts.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.text = append(c.text, m.Text)
	return nil
}

// linkedTo says every customer linked the chat, on full privacy.
type linkedTo string

func (l linkedTo) Links(context.Context, bankbridge.CustomerID) ([]alerts.Link, error) {
	return []alerts.Link{{Channel: string(l), Privacy: alerts.PrivacyFull}}, nil
}

// TestOneAmountReadsTheSameEverywhere: Ada's salary of 1,234.50 USD, her
// whole balance, reads alike on the bank's web page, in the assistant's
// chat reply, in the alert sent to a chat and in the alert's e-mail. Each
// channel once wrote money its own way ("$1234.50" in alerts).
func TestOneAmountReadsTheSameEverywhere(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	want := ledger.Amount(123450).Display("USD")
	if want != "1,234.50 USD" {
		t.Fatalf("Display = %q", want)
	}
	shown := map[string]string{}

	// The web page, signed in.
	jar, _ := cookiejar.New(nil)
	br := &http.Client{Jar: jar}
	res, err := br.Get(w.bank.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	login := read(t, res)
	if res, err = br.PostForm(w.bank.URL+"/login", url.Values{"csrf": {field(t, csrfRe, login)}, "email": {email}, "password": {password}}); err != nil {
		t.Fatal(err)
	}
	read(t, res)
	if res, err = br.Get(w.bank.URL + "/accounts"); err != nil {
		t.Fatal(err)
	}
	shown["web page"] = read(t, res)

	// The assistant, in the chat, once amounts may be shown there.
	w.link("alex")
	w.say("alex", "privacy full")
	shown["chat reply"] = joined(w.say("alex", "balance"))

	// The salary's alert, to a chat and by e-mail.
	sink := alertstest.NewSMTPSink(t)
	inbox := &chatInbox{}
	svc := alerts.New(w.db.Alerts(), w.db.Ledger(), alerts.Options{Channels: map[string]alerts.Channel{"chat": inbox},
		Links: linkedTo("chat"), Email: &alerts.Mailer{Addr: sink.Addr(), From: "alerts@bank.example"}})
	st := alerts.DefaultSettings(w.customer.ID)
	st.Privacy, st.Email = alerts.PrivacyFull, email
	if err := svc.SaveSettings(ctx, st); err != nil {
		t.Fatal(err)
	}
	evs, err := w.db.Ledger().Events(ctx, 0, 0)
	if err != nil || len(evs) == 0 {
		t.Fatalf("events: %d, %v", len(evs), err)
	}
	if err := svc.Process(ctx, evs, evs[len(evs)-1].Seq); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := svc.Dispatch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	inbox.mu.Lock()
	shown["alert message"] = strings.Join(inbox.text, "\n")
	inbox.mu.Unlock()
	shown["alert e-mail"] = strings.Join(sink.Mail(), "\n")

	for where, text := range shown {
		if !strings.Contains(text, want) {
			t.Errorf("the %s does not read %q:\n%s", where, want, text)
		}
		if strings.Contains(text, "$") && strings.Contains(text, "1234.50") {
			t.Errorf("the %s writes the amount another way:\n%s", where, text)
		}
	}
}
