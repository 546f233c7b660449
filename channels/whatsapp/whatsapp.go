package whatsapp

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/backoff"
	"github.com/bankbridge/bankbridge/channels"
)

// Platform is the name of this channel.
const Platform = "whatsapp"

// PathWebhook is where the platform posts notifications.
const PathWebhook = "/channels/whatsapp/webhook"

// Config configures the adapter. AccessToken, AppSecret, VerifyToken,
// PhoneNumberID and BankURL are required.
type Config struct {
	AccessToken   string // the system user's token: Authorization: Bearer
	AppSecret     string // signs webhooks (X-Hub-Signature-256)
	VerifyToken   string // answers the webhook verification request
	PhoneNumberID string // the business phone number's id: POST /{PhoneNumberID}/messages
	// DisplayPhone is the business number in international digits, for
	// click-to-chat links (wa.me/<DisplayPhone>).
	DisplayPhone string
	// GraphURL is the Graph API base without a version (default
	// channels.DefaultGraphURL, or the emulator's); GraphVersion the
	// version called (default channels.DefaultGraphVersion, one Meta
	// serves): POST GraphURL/GraphVersion/PhoneNumberID/messages.
	GraphURL, GraphVersion string
	// ClickToChatURL is WhatsApp's click-to-chat base; default
	// https://wa.me (the emulator has its own).
	ClickToChatURL string
	BankURL        string // the bank's public base URL
	// AlertTemplate and AlertLanguage name the approved utility template
	// that carries the bank's messages outside the customer service window:
	// one body parameter, the message. Default "account_alert", "en_US".
	AlertTemplate, AlertLanguage string
	// Turns, when set, keeps the number's throughput for the fleet
	// (store/postgres.Budgets); otherwise it is kept in this instance's
	// memory with x/time/rate.
	Turns    Turns
	Attempts int           // per message, default 4
	Backoff  time.Duration // first retry's wait, default 200 ms, doubling, at most 5 s
	MaxBody  int64
	HTTP     *http.Client
	Logger   *slog.Logger
	Now      func() time.Time
	Sleep    func(ctx context.Context, d time.Duration) error
}

// Throughput is the Cloud API's default send rate for a business phone
// number: 80 messages a second ("Throughput",
// https://developers.facebook.com/docs/whatsapp/cloud-api/overview#throughput).
const Throughput = 80

// Window is the customer service window: free-form messages may be sent
// for 24 hours after the person's last message; after it, only templates
// ("Customer service windows",
// https://developers.facebook.com/docs/whatsapp/pricing#customer-service-windows).
const Window = 24 * time.Hour

// Turns is a store of rate budgets shared by the fleet
// (store/postgres.Budgets).
type Turns interface {
	Take(ctx context.Context, key string, every time.Duration, burst int, maxWait time.Duration) (wait time.Duration, ok bool, err error)
	Give(ctx context.Context, key string, every time.Duration) error
}

// Errors of the channel.
var (
	// ErrSend: the Cloud API did not accept the message.
	ErrSend = bankbridge.E(bankbridge.Unavailable, "chat_send_failed", "the messaging platform did not accept the message")
	// ErrTemplateRejected: the platform refused the template (missing,
	// not approved, paused, wrong parameters): staff must fix it in
	// WhatsApp Manager; retrying does not help.
	ErrTemplateRejected = bankbridge.E(bankbridge.Invalid, "chat_template_rejected", "the messaging platform refused the bank's message template")
)

// Adapter is the WhatsApp channel.
type Adapter struct {
	c       Config
	hub     *channels.Hub
	tickets *channels.Tickets
	lim     *rate.Limiter
}

var (
	_ channels.Channel   = (*Adapter)(nil)
	_ channels.Processor = (*Adapter)(nil)
)

// New returns the adapter; add it to hub with hub.Add.
func New(c Config, hub *channels.Hub) (*Adapter, error) {
	if c.AccessToken == "" || c.AppSecret == "" || c.VerifyToken == "" || c.PhoneNumberID == "" || c.BankURL == "" {
		return nil, fmt.Errorf("whatsapp: access token, app secret, verify token, phone number id and the bank's URL are required")
	}
	c.GraphURL = strings.TrimSuffix(cmp.Or(c.GraphURL, channels.DefaultGraphURL), "/")
	if err := channels.CheckGraph(c.GraphURL, c.GraphVersion, "BANKBRIDGE_WHATSAPP_GRAPH_URL", "BANKBRIDGE_WHATSAPP_GRAPH_VERSION"); err != nil {
		return nil, fmt.Errorf("whatsapp: %w", err)
	}
	c.GraphVersion = cmp.Or(c.GraphVersion, channels.DefaultGraphVersion)
	c.BankURL = strings.TrimSuffix(c.BankURL, "/")
	if c.ClickToChatURL == "" {
		c.ClickToChatURL = "https://wa.me"
	}
	c.ClickToChatURL = strings.TrimSuffix(c.ClickToChatURL, "/")
	if c.AlertTemplate == "" {
		c.AlertTemplate = "account_alert"
	}
	if c.AlertLanguage == "" {
		c.AlertLanguage = "en_US"
	}
	if c.Attempts <= 0 {
		c.Attempts = 4
	}
	if c.Backoff <= 0 {
		c.Backoff = 200 * time.Millisecond
	}
	if c.MaxBody <= 0 {
		c.MaxBody = 1 << 20
	}
	if c.HTTP == nil {
		c.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = backoff.Sleep
	}
	return &Adapter{c: c, hub: hub, tickets: channels.NewTickets(c.AppSecret, "whatsapp link", c.Now),
		lim: rate.NewLimiter(Throughput, Throughput)}, nil
}

// Platform implements channels.Channel.
func (a *Adapter) Platform() string { return Platform }

// Handler serves the webhook (GET verification, POST notifications) and
// linking (PathLink, PathLinked).
func (a *Adapter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathWebhook, a.verify)
	mux.HandleFunc("POST "+PathWebhook, a.webhook)
	mux.HandleFunc("GET "+PathLink, a.link)
	mux.HandleFunc("GET "+PathLinked, a.linked)
	return mux
}

// verify answers the verification request: "hub.mode" subscribe and
// "hub.verify_token" equal to the token configured with the webhook ->
// respond with "hub.challenge" ("Verification Requests",
// https://developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests).
func (a *Adapter) verify(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("hub.mode") != "subscribe" || subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), []byte(a.c.VerifyToken)) != 1 {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, q.Get("hub.challenge"))
}

// Notification is the part of a webhook notification the bank reads
// ("Webhooks payload reference",
// https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components).
type Notification struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      string `json:"id"`
		Changes []struct {
			Field string `json:"field"`
			Value struct {
				MessagingProduct string `json:"messaging_product"`
				Metadata         struct {
					DisplayPhoneNumber string `json:"display_phone_number"`
					PhoneNumberID      string `json:"phone_number_id"`
				} `json:"metadata"`
				Messages []Incoming `json:"messages"`
			} `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

// Incoming is a message a person sent.
type Incoming struct {
	From        string                 `json:"from"` // the wa_id
	ID          string                 `json:"id"`   // the wamid
	Timestamp   string                 `json:"timestamp"`
	Type        string                 `json:"type"`
	Text        *struct{ Body string } `json:"text,omitempty"`
	Interactive *struct {
		Type        string                      `json:"type"`
		ButtonReply *struct{ ID, Title string } `json:"button_reply,omitempty"`
		ListReply   *struct{ ID, Title string } `json:"list_reply,omitempty"`
	} `json:"interactive,omitempty"`
	Button *struct{ Payload, Text string } `json:"button,omitempty"` // a template's quick reply
}

// Signature is the X-Hub-Signature-256 value of body under secret.
func Signature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// webhook reads a notification: signature first ("the payload is signed
// with a SHA256 signature ... in the X-Hub-Signature-256 header",
// https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads),
// then only messages to this bank's phone number id, stored in the hub's
// inbox (channels.Accept) before the 200: the reply comes from the inbox
// worker (Process), in order per person, on any instance. Meta asks for a
// 200 at once and resends what it does not get one for ("Webhooks",
// https://developers.facebook.com/docs/whatsapp/cloud-api/guides/set-up-webhooks:
// a notification not answered 200 is retried, for up to 7 days).
func (a *Adapter) webhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.c.MaxBody))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Hub-Signature-256")), []byte(Signature(a.c.AppSecret, body))) != 1 {
		a.c.Logger.Warn("whatsapp: webhook with a wrong or missing signature refused")
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var n Notification
	if err := json.Unmarshal(body, &n); err != nil || n.Object != "whatsapp_business_account" {
		http.Error(w, "not a WhatsApp notification", http.StatusBadRequest)
		return
	}
	var evs []channels.InboxEvent
	for _, e := range n.Entry {
		for _, ch := range e.Changes {
			if ch.Field != "messages" {
				continue
			}
			if ch.Value.Metadata.PhoneNumberID != a.c.PhoneNumberID {
				// Another number of the business account: not this bank's
				// conversation; nothing is read or answered.
				a.c.Logger.Warn("whatsapp: notification for another phone number id ignored", "phone_number_id", ch.Value.Metadata.PhoneNumberID)
				continue
			}
			for _, m := range ch.Value.Messages {
				if ev, ok := a.inboxEvent(m); ok {
					evs = append(evs, ev)
				}
			}
		}
	}
	if err := a.hub.Accept(r.Context(), Platform, evs); err != nil {
		// Not stored: Meta redelivers a notification not answered 200.
		a.c.Logger.Error("whatsapp: notification not stored", "err", err)
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// inboxEvent makes the inbox's record of one message: its conversation
// (the person's wa_id) and its id (the wamid, which the inbox keeps once:
// a redelivered notification is stored once). Messages without a sender,
// an id or a readable timestamp, and those outside the redelivery window
// (a replay), are dropped; the webhook still answers 200 for them.
func (a *Adapter) inboxEvent(m Incoming) (channels.InboxEvent, bool) {
	if m.From == "" || m.ID == "" || len(m.From) > 64 || len(m.ID) > 200 {
		return channels.InboxEvent{}, false
	}
	sec, err := strconv.ParseInt(m.Timestamp, 10, 64)
	if err != nil {
		return channels.InboxEvent{}, false
	}
	at := time.Unix(sec, 0).UTC()
	// Meta retries an unanswered notification for up to 7 days; one older
	// can only be a replay (channels.Fresh caps it at EventKeep).
	if !channels.Fresh(at, a.c.Now(), channels.EventKeep) {
		a.c.Logger.Warn("whatsapp: message outside the redelivery window dropped", "at", at)
		return channels.InboxEvent{}, false
	}
	body, _ := json.Marshal(m)
	return channels.InboxEvent{Conversation: m.From, EventID: "wamid:" + m.ID, Body: body, Received: a.c.Now().UTC()}, true
}

// Process implements channels.Processor: one stored message, handled as
// it came. An error (the hub could not record it) leaves it for a retry.
func (a *Adapter) Process(ctx context.Context, ev channels.InboxEvent) error {
	var m Incoming
	if err := json.Unmarshal(ev.Body, &m); err != nil {
		a.c.Logger.Error("whatsapp: stored message unreadable; dropped", "event", ev.EventID, "err", err)
		return nil
	}
	return a.incoming(ctx, m)
}

func (a *Adapter) incoming(ctx context.Context, m Incoming) error {
	sec, _ := strconv.ParseInt(m.Timestamp, 10, 64) // inboxEvent read it
	at := time.Unix(sec, 0).UTC()
	in := assistant.Inbound{Key: assistant.Key{Platform: Platform, User: m.From}, At: at}
	switch {
	case m.Text != nil:
		in.Text = m.Text.Body
		if code, ok := linkCode(in.Text); ok {
			return a.hub.Once(ctx, Platform, "wamid:"+m.ID, func(ctx context.Context) error { return a.completeLink(ctx, m.From, code) })
		}
	case m.Interactive != nil && m.Interactive.ButtonReply != nil:
		in.Text, in.Payload = m.Interactive.ButtonReply.Title, m.Interactive.ButtonReply.ID
	case m.Interactive != nil && m.Interactive.ListReply != nil:
		in.Text, in.Payload = m.Interactive.ListReply.Title, m.Interactive.ListReply.ID
	case m.Button != nil:
		in.Text, in.Payload = m.Button.Text, m.Button.Payload
	default:
		in.Text = "(an attachment)"
	}
	return a.hub.Deliver(ctx, Platform, "wamid:"+m.ID, in)
}
