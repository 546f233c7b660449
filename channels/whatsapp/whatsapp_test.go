package whatsapp_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/channels/whatsapp"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/internal/teststore"
	"github.com/bankbridge/bankbridge/platformsim"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type bed struct {
	sim *platformsim.WhatsAppSim
	hub *channels.Hub
	ad  *whatsapp.Adapter
	clk *clock
}

// newBed joins the adapter (its webhook on loopback) and the strict
// emulator, on one clock, with the alert template named template.
func newBed(t *testing.T, engine, template string) *bed {
	t.Helper()
	b := &bed{clk: &clock{t: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)}}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	b.sim = platformsim.NewWhatsApp(platformsim.WhatsAppOptions{Prefix: "/sim/whatsapp", BaseURL: srv.URL + "/sim/whatsapp",
		WebhookURL: srv.URL + whatsapp.PathWebhook, AccessToken: "TOKEN", AppSecret: "app-secret", VerifyToken: "verify-me", Now: b.clk.now})
	st := teststore.Chat(t, engine)
	a := assistant.New(assistant.Deps{Store: st, BankURL: "https://bank.example", Now: b.clk.now})
	b.hub = channels.NewHub(channels.HubDeps{Assistant: a, Store: st, Now: b.clk.now})
	ad, err := whatsapp.New(whatsapp.Config{AccessToken: "TOKEN", AppSecret: "app-secret", VerifyToken: "verify-me",
		PhoneNumberID: b.sim.PhoneNumberID(), DisplayPhone: b.sim.DisplayPhone(), GraphURL: b.sim.GraphURL(), BankURL: "https://bank.example",
		AlertTemplate: template, Backoff: time.Millisecond, Now: b.clk.now, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}, b.hub)
	if err != nil {
		t.Fatal(err)
	}
	b.ad = ad
	b.hub.Add(ad, nil)
	mux.Handle("/sim/whatsapp/", b.sim.Handler())
	mux.Handle("/channels/whatsapp/", ad.Handler())
	return b
}

func bankLines(c platformsim.WhatsAppChat) []platformsim.WhatsAppLine {
	var out []platformsim.WhatsAppLine
	for _, l := range c.Lines {
		if l.FromBank {
			out = append(out, l)
		}
	}
	return out
}

func TestWhatsApp(t *testing.T) {
	t.Parallel()
	for _, engine := range testdb.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			b := newBed(t, engine, "")
			ctx := context.Background()
			if err := b.sim.Say(ctx, "ann", "hi"); err != nil {
				t.Fatal(err)
			}
			hello := bankLines(b.sim.Chat("ann"))
			if len(hello) == 0 || !strings.Contains(hello[0].Text, assistant.Automated) {
				t.Fatalf("no greeting: %+v", hello)
			}
			var link, buttons bool
			for _, l := range hello {
				link = link || (l.CTA != nil && strings.HasPrefix(l.CTA.URL, "https://bank.example"+whatsapp.PathLink+"?t="))
				buttons = buttons || len(l.Buttons) > 0
			}
			if !link || !buttons {
				t.Errorf("greeting %+v: want a CTA link button to the bank and reply buttons", hello)
			}
			// A reply button comes back as an interactive reply.
			var help platformsim.WhatsAppReply
			for _, l := range hello {
				for _, bt := range l.Buttons {
					if bt.ID == "INTENT:help" {
						help = bt
					}
				}
			}
			n := len(bankLines(b.sim.Chat("ann")))
			if err := b.sim.Reply(ctx, "ann", "button_reply", help.ID, help.Title); err != nil {
				t.Fatal(err)
			}
			if len(bankLines(b.sim.Chat("ann"))) == n {
				t.Errorf("no answer to the Help button")
			}
		})
	}
}

func TestWhatsAppWebhookRefusals(t *testing.T) {
	t.Parallel()
	b := newBed(t, "sqlite", "")
	ctx := context.Background()
	b.sim.Say(ctx, "ann", "hi") // verifies the webhook, opens the chat
	ann := b.sim.Chat("ann").WaID
	n := len(bankLines(b.sim.Chat("ann")))
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"` +
		b.sim.PhoneNumberID() + `"},"messages":[{"from":"` + ann + `","id":"wamid.X1","timestamp":"` + unix(b.clk.now()) + `","type":"text","text":{"body":"help"}}]}}]}]}`)
	if c, _ := b.sim.PostRaw(ctx, body, ""); c != http.StatusUnauthorized {
		t.Errorf("unsigned: %d, want 401", c)
	}
	if c, _ := b.sim.PostRaw(ctx, body, platformsim.WhatsAppSignature("another-secret", body)); c != http.StatusUnauthorized {
		t.Errorf("signed with another secret: %d, want 401", c)
	}
	if c, _ := b.sim.PostRaw(ctx, body, platformsim.WhatsAppSignature("app-secret", body)); c != http.StatusOK {
		t.Fatalf("signed: %d", c)
	}
	answered := len(bankLines(b.sim.Chat("ann")))
	if answered == n {
		t.Fatalf("no answer to a signed message")
	}
	if c, _ := b.sim.PostRaw(ctx, body, platformsim.WhatsAppSignature("app-secret", body)); c != http.StatusOK {
		t.Fatalf("signed, again: %d", c)
	}
	if len(bankLines(b.sim.Chat("ann"))) != answered {
		t.Errorf("a redelivered message was answered again")
	}
	other := []byte(strings.Replace(strings.Replace(string(body), b.sim.PhoneNumberID(), "999999", 1), "wamid.X1", "wamid.X2", 1))
	if c, _ := b.sim.PostRaw(ctx, other, platformsim.WhatsAppSignature("app-secret", other)); c != http.StatusOK {
		t.Errorf("another phone number id: %d, want 200 (acknowledged, ignored)", c)
	}
	if len(bankLines(b.sim.Chat("ann"))) != answered {
		t.Errorf("a message to another phone number id was answered")
	}
	// The verification request: the challenge only for the right token.
	for token, want := range map[string]int{"verify-me": 200, "guess": 403} {
		res, err := http.Get(strings.TrimSuffix(b.sim.GraphURL(), "/sim/whatsapp/graph") + whatsapp.PathWebhook +
			"?hub.mode=subscribe&hub.challenge=42&hub.verify_token=" + token)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("verification with %q: %d, want %d", token, res.StatusCode, want)
		}
	}
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// Outside the customer service window a bank-started message goes as the
// approved template, an answer is refused; a template the platform refuses
// is ErrTemplateRejected.
func TestWhatsAppWindowAndTemplates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newBed(t, "sqlite", "")
	b.sim.Say(ctx, "ann", "hi")
	ann := b.sim.Chat("ann").WaID
	last := b.clk.now()
	b.clk.add(25 * time.Hour)
	alert := assistant.Reply{Text: "Card purchase:\n12.00 USD at Corner Cafe"}
	if err := b.ad.Send(ctx, channels.Outbound{To: ann, Reply: alert, Purpose: channels.Update, LastIn: last}); err != nil {
		t.Fatalf("alert outside the window: %v", err)
	}
	lines := bankLines(b.sim.Chat("ann"))
	if l := lines[len(lines)-1]; l.Template != "account_alert" || l.Text != "Card purchase: 12.00 USD at Corner Cafe" {
		t.Errorf("alert outside the window went as %+v, want the account_alert template with the text flattened", l)
	}
	err := b.ad.Send(ctx, channels.Outbound{To: ann, Reply: assistant.Reply{Text: "an answer"}, Purpose: channels.Response, LastIn: last})
	if !errors.Is(err, channels.ErrWindowClosed) {
		t.Errorf("an answer outside the window: %v, want ErrWindowClosed", err)
	}
	if b.sim.Refused(131047) != 0 {
		t.Errorf("the adapter sent free form outside the window (131047 answered)")
	}

	bad := newBed(t, "sqlite", "unapproved_alert")
	bad.sim.Say(ctx, "bo", "hi")
	bo := bad.sim.Chat("bo").WaID
	last = bad.clk.now()
	bad.clk.add(25 * time.Hour)
	err = bad.ad.Send(ctx, channels.Outbound{To: bo, Reply: alert, Purpose: channels.Update, LastIn: last})
	if !errors.Is(err, whatsapp.ErrTemplateRejected) || bad.sim.Refused(132001) != 1 {
		t.Errorf("an unapproved template: %v (132001 answered %d times), want ErrTemplateRejected after one call", err, bad.sim.Refused(132001))
	}
}
