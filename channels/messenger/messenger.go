package messenger

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/backoff"
	"github.com/bankbridge/bankbridge/channels"
)

// Platform is the name of this channel.
const Platform = "messenger"

// Paths the adapter serves, on the bank's origin.
const (
	PathWebhook = "/channels/messenger/webhook"
	PathLink    = "/channels/messenger/link"
)

// Config configures the adapter. AppSecret, VerifyToken, PageToken and
// GraphURL are required.
type Config struct {
	// AppSecret signs webhooks (X-Hub-Signature-256).
	AppSecret string
	// VerifyToken answers the platform's subscription check (hub.verify_token).
	VerifyToken string
	// PageToken authenticates Send API calls.
	PageToken string
	// GraphURL is the Graph API base including its version, e.g.
	// "https://graph.facebook.com/v19.0", or platformsim's.
	GraphURL string
	// BankURL is the bank's public base URL: the account-link button opens
	// BankURL + PathLink.
	BankURL string
	// Send API behaviour: attempts per message (default 4), first backoff
	// (default 200 ms, doubling, ±20%, capped at 5 s), and the rate the bank
	// keeps to (default 200 calls/s, burst 50; a call waits at most
	// MaxWait, default 5 s, for its turn).
	Attempts int
	Backoff  time.Duration
	Rate     float64
	Burst    int
	MaxWait  time.Duration
	// Pacer keeps to the send budget. Default: NewPacer(Rate, Burst, Now),
	// in this instance's memory.
	Pacer Pacer
	// MaxBody bounds a webhook body; default 1 MiB.
	MaxBody int64
	HTTP    *http.Client
	Logger  *slog.Logger
	Now     func() time.Time
}

// Env reads the configuration from BANKBRIDGE_MESSENGER_APP_SECRET,
// _VERIFY_TOKEN, _PAGE_TOKEN and _GRAPH_URL through getenv.
func Env(getenv func(string) string) Config {
	return Config{
		AppSecret:   getenv("BANKBRIDGE_MESSENGER_APP_SECRET"),
		VerifyToken: getenv("BANKBRIDGE_MESSENGER_VERIFY_TOKEN"),
		PageToken:   getenv("BANKBRIDGE_MESSENGER_PAGE_TOKEN"),
		GraphURL:    getenv("BANKBRIDGE_MESSENGER_GRAPH_URL"),
	}
}

// Validate reports what is missing.
func (c Config) Validate() error {
	var missing []string
	for name, v := range map[string]string{"app secret": c.AppSecret, "verify token": c.VerifyToken, "page token": c.PageToken, "graph URL": c.GraphURL, "bank URL": c.BankURL} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("messenger: missing %s", strings.Join(missing, ", "))
	}
	if u, err := url.Parse(c.GraphURL); err != nil || u.Host == "" {
		return fmt.Errorf("messenger: graph URL %q is not an absolute URL", c.GraphURL)
	}
	return nil
}

// Adapter is the Messenger Platform channel: webhook, account-link entry
// and Send API client. It implements channels.Channel.
type Adapter struct {
	c   Config
	hub *channels.Hub
}

var _ channels.Channel = (*Adapter)(nil)

// New returns the adapter; add it to hub with hub.Add(adapter, client).
func New(c Config, hub *channels.Hub) (*Adapter, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c.GraphURL = strings.TrimSuffix(c.GraphURL, "/")
	c.BankURL = strings.TrimSuffix(c.BankURL, "/")
	if c.Attempts <= 0 {
		c.Attempts = 4
	}
	if c.Backoff <= 0 {
		c.Backoff = 200 * time.Millisecond
	}
	if c.Rate <= 0 {
		c.Rate = 200
	}
	if c.Burst <= 0 {
		c.Burst = 50
	}
	if c.MaxWait <= 0 {
		c.MaxWait = 5 * time.Second
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
	if c.Pacer == nil {
		c.Pacer = NewPacer(c.Rate, c.Burst, c.Now)
	}
	return &Adapter{c: c, hub: hub}, nil
}

// Platform implements channels.Channel.
func (a *Adapter) Platform() string { return Platform }

// LinkURL is where the account-link button points.
func (a *Adapter) LinkURL() string { return a.c.BankURL + PathLink }

// Handler serves PathWebhook (GET verification, POST events) and PathLink.
func (a *Adapter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathWebhook, a.verify)
	mux.HandleFunc("POST "+PathWebhook, a.webhook)
	mux.HandleFunc("GET "+PathLink, a.link)
	return mux
}

// verify answers the subscription handshake: hub.mode=subscribe and the
// configured verify token echo hub.challenge; anything else is 403.
func (a *Adapter) verify(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("hub.mode") != "subscribe" || !hmac.Equal([]byte(q.Get("hub.verify_token")), []byte(a.c.VerifyToken)) {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	ch := q.Get("hub.challenge")
	if ch == "" || len(ch) > 256 {
		http.Error(w, "bad challenge", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, ch)
}

// Signature returns the X-Hub-Signature-256 value of body under secret:
// "sha256=" and the hex HMAC-SHA256.
func Signature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// CheckSignature reports whether header is the signature of body under
// secret, comparing in constant time.
func CheckSignature(secret string, body []byte, header string) bool {
	got, ok := strings.CutPrefix(header, "sha256=")
	if !ok || len(got) != 64 {
		return false
	}
	mac, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(mac, m.Sum(nil))
}

// webhook checks the signature of the raw body before anything else, then
// parses the events and hands each to the hub. A bad or missing signature,
// or a body over the limit, is refused without parsing.
func (a *Adapter) webhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.c.MaxBody))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	if !CheckSignature(a.c.AppSecret, body, r.Header.Get("X-Hub-Signature-256")) {
		a.c.Logger.Warn("messenger: webhook with a bad or missing signature refused", "request_id", bankbridge.RequestID(r.Context()))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var n Notification
	if err := json.Unmarshal(body, &n); err != nil || n.Object != "page" {
		http.Error(w, "not a page notification", http.StatusBadRequest)
		return
	}
	for _, e := range n.Entry {
		for _, ev := range e.Messaging {
			if err := a.event(r.Context(), ev); err != nil {
				// Not recorded: ask for a redelivery.
				a.c.Logger.Error("messenger: event", "err", err)
				http.Error(w, "try again", http.StatusServiceUnavailable)
				return
			}
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "EVENT_RECEIVED")
}

// RedeliveryWindow is how long Meta keeps resending a webhook event the
// bank did not acknowledge with a 200. Meta's Webhooks guide
// (https://developers.facebook.com/docs/graph-api/webhooks/getting-started,
// "Event Notifications"), which the Messenger Platform's webhooks follow,
// says a failed notification is sent again immediately, "then a few more
// times with decreasing frequency over the next 36 hours"; the Messenger
// Platform's page (https://developers.facebook.com/docs/messenger-platform/webhooks,
// "Required 200 OK Response") asks for the 200 that stops it. An event
// whose timestamp is older than that can only be a replay (issue 23).
// (WhatsApp's Cloud API retries for up to 7 days; an adapter for it would
// take that window, which channels.EventKeep still covers.)
const RedeliveryWindow = 36 * time.Hour

// event dispatches one messaging event.
func (a *Adapter) event(ctx context.Context, ev Event) error {
	user := ev.Sender.ID
	if user == "" || len(user) > 64 {
		return nil // not a person we can answer
	}
	at := time.UnixMilli(ev.Timestamp).UTC()
	if !channels.Fresh(at, a.c.Now(), RedeliveryWindow) {
		// Answered 200 (EVENT_RECEIVED) all the same: the platform has no
		// reason to resend it, and a replayer learns nothing.
		a.c.Logger.Warn("messenger: event outside the redelivery window dropped", "at", at, "sender", user)
		return nil
	}
	k := assistant.Key{Platform: Platform, User: user}
	switch {
	case ev.Message != nil:
		m := ev.Message
		if m.IsEcho || m.MID == "" {
			return nil // our own messages echoed back
		}
		in := assistant.Inbound{Key: k, Text: m.Text, At: at}
		if m.QuickReply != nil {
			in.Payload = m.QuickReply.Payload
		}
		if in.Text == "" && in.Payload == "" {
			in.Text = "(an attachment)"
		}
		return a.hub.Deliver(ctx, Platform, "mid:"+m.MID, in)
	case ev.Postback != nil:
		id := ev.Postback.MID
		if id == "" {
			id = user + ":" + strconv.FormatInt(ev.Timestamp, 10)
		}
		return a.hub.Deliver(ctx, Platform, "postback:"+id, assistant.Inbound{Key: k, Text: ev.Postback.Title, Payload: ev.Postback.Payload, At: at})
	case ev.AccountLinking != nil:
		return a.linking(ctx, user, ev)
	}
	return nil
}

// linking handles account_linking: "linked" carries the authorization code
// the bank's authorization server gave the platform's redirect, "unlinked"
// says the person unlinked on the platform.
func (a *Adapter) linking(ctx context.Context, user string, ev Event) error {
	al := ev.AccountLinking
	id := "linking:" + user + ":" + strconv.FormatInt(ev.Timestamp, 10) + ":" + al.Status
	return a.hub.Once(ctx, Platform, id, func(ctx context.Context) error {
		switch al.Status {
		case "linked":
			if al.AuthorizationCode == "" {
				return nil
			}
			err := a.hub.CompleteLink(ctx, Platform, user, al.AuthorizationCode)
			if err != nil {
				a.c.Logger.Warn("messenger: account linking failed", "err", err)
				a.Send(ctx, channels.Outbound{To: user, Purpose: channels.Response, LastIn: a.c.Now(),
					Reply: assistant.Reply{Text: "Linking your account did not work: " + bankbridge.ErrorMessage(err) + ". Try again with the button.",
						Buttons: []assistant.Button{{Kind: assistant.ButtonLinkAccount, Title: "Link your account"}}}})
			}
		case "unlinked":
			return a.hub.Unlinked(ctx, Platform, user)
		}
		return nil
	})
}

// link is where the account-link button leads. The platform adds
// account_linking_token and redirect_uri; the token names the person
// (asked of the Graph API), and travels through the bank's authorization
// server as the OAuth state so that the platform's redirect recognises it.
func (a *Adapter) link(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("account_linking_token")
	if token == "" || len(token) > 512 {
		a.linkFailed(w, http.StatusBadRequest, "This link must be opened from the chat's \"Link your account\" button.")
		return
	}
	psid, err := a.psid(r.Context(), token)
	if err != nil {
		a.c.Logger.Warn("messenger: account linking token", "err", err)
		a.linkFailed(w, http.StatusBadRequest, "This linking request has expired. Go back to the chat and tap the button again.")
		return
	}
	to, err := a.hub.StartLink(r.Context(), Platform, psid, token)
	if err != nil {
		a.c.Logger.Error("messenger: start linking", "err", err)
		a.linkFailed(w, http.StatusServiceUnavailable, "Linking is not available right now. Please try again in a moment.")
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (a *Adapter) linkFailed(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><meta charset=utf-8><title>Linking</title><p>%s</p>", html.EscapeString(msg))
}

// psid asks the Graph API which person an account-linking token belongs to.
func (a *Adapter) psid(ctx context.Context, token string) (string, error) {
	q := url.Values{"access_token": {a.c.PageToken}, "fields": {"recipient"}, "account_linking_token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.c.GraphURL+"/me?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	res, err := a.c.HTTP.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct {
		Recipient string      `json:"recipient"`
		Error     *GraphError `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(&out); err != nil {
		return "", err
	}
	if out.Error != nil || out.Recipient == "" {
		return "", fmt.Errorf("graph /me: %s %v", res.Status, out.Error)
	}
	return out.Recipient, nil
}

// Send implements channels.Channel: it renders the reply in Messenger's
// format, picks messaging_type and tag from the purpose and the 24-hour
// window, and posts it, keeping to the rate limit and retrying transient
// failures with exponential backoff, a bounded number of times.
func (a *Adapter) Send(ctx context.Context, o channels.Outbound) error {
	req, err := a.render(o)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(req)
	return a.call(ctx, "/me/messages", body)
}

// Window is the standard messaging window, and HumanAgentWindow the one of
// the HUMAN_AGENT tag.
const (
	Window           = 24 * time.Hour
	HumanAgentWindow = 7 * 24 * time.Hour
)

// render builds the Send API request for o.
func (a *Adapter) render(o channels.Outbound) (SendRequest, error) {
	since := a.c.Now().Sub(o.LastIn)
	req := SendRequest{Recipient: Recipient{ID: o.To}}
	switch o.Purpose {
	case channels.Response:
		if o.LastIn.IsZero() || since >= Window {
			return req, channels.ErrWindowClosed
		}
		req.MessagingType = "RESPONSE"
	case channels.Staff:
		switch {
		case !o.LastIn.IsZero() && since < Window:
			req.MessagingType = "RESPONSE"
		case !o.LastIn.IsZero() && since < HumanAgentWindow:
			req.MessagingType, req.Tag = "MESSAGE_TAG", "HUMAN_AGENT"
		default:
			return req, channels.ErrWindowClosed.WithMessage("the 7-day window for a person's reply has closed; the customer must write first")
		}
	default:
		if !o.LastIn.IsZero() && since < Window {
			req.MessagingType = "UPDATE"
		} else {
			req.MessagingType, req.Tag = "MESSAGE_TAG", "ACCOUNT_UPDATE"
		}
	}
	r := o.Reply
	m := &Message{}
	if len(r.Buttons) > 0 {
		tp := &TemplatePayload{TemplateType: "button", Text: clip(r.Text, 640)}
		for _, b := range r.Buttons[:min(len(r.Buttons), 3)] {
			switch b.Kind {
			case assistant.ButtonLinkAccount:
				tp.Buttons = append(tp.Buttons, Button{Type: "account_link", URL: a.LinkURL()})
			case assistant.ButtonURL:
				tp.Buttons = append(tp.Buttons, Button{Type: "web_url", URL: b.URL, Title: clip(b.Title, 20)})
			default:
				tp.Buttons = append(tp.Buttons, Button{Type: "postback", Title: clip(b.Title, 20), Payload: clip(b.Payload, 1000)})
			}
		}
		m.Attachment = &Attachment{Type: "template", Payload: tp}
	} else {
		m.Text = clip(r.Text, 2000)
	}
	for _, c := range r.Choices[:min(len(r.Choices), 13)] {
		m.QuickReplies = append(m.QuickReplies, QuickReply{ContentType: "text", Title: clip(c.Title, 20), Payload: clip(c.Payload, 1000)})
	}
	req.Message = m
	return req, nil
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Unlinked implements channels.Channel: the bank ended the link, so the
// platform is told through the unlink_accounts API.
func (a *Adapter) Unlinked(ctx context.Context, user string) error {
	body, _ := json.Marshal(map[string]string{"psid": user})
	return a.call(ctx, "/me/unlink_accounts", body)
}

// ErrSend reports a message the platform refused for good.
var ErrSend = bankbridge.E(bankbridge.Unavailable, "chat_send_failed", "the messaging platform did not accept the message")

// call posts body to a Graph API path with the page token, keeping to the
// rate limit, retrying network errors, 5xx, 429 and the Graph API's
// transient and throttling codes with exponential backoff.
func (a *Adapter) call(ctx context.Context, path string, body []byte) error {
	u := a.c.GraphURL + path + "?" + url.Values{"access_token": {a.c.PageToken}}.Encode()
	var last error
	for attempt := 0; attempt < a.c.Attempts; attempt++ {
		if attempt > 0 {
			if err := backoff.Sleep(ctx, backoff.Policy{Base: a.c.Backoff, Max: 5 * time.Second}.Delay(attempt)); err != nil {
				return err
			}
		}
		if err := a.c.Pacer.Wait(ctx, a.c.MaxWait); err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := a.c.HTTP.Do(req)
		if err != nil {
			last = err
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		rb, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			return nil
		}
		var ge struct {
			Error GraphError `json:"error"`
		}
		json.Unmarshal(rb, &ge)
		last = fmt.Errorf("graph %s: %s: %s (code %d)", path, res.Status, ge.Error.Message, ge.Error.Code)
		if !retryable(res.StatusCode, ge.Error.Code) {
			if ge.Error.Code == 10 && ge.Error.Subcode == 2018278 {
				return channels.ErrWindowClosed.WithOp("messenger.Send", last)
			}
			return ErrSend.WithOp("messenger.Send", last)
		}
	}
	return ErrSend.WithMessage("the messaging platform is busy; the message was not sent").WithOp("messenger.Send", last)
}

// retryable reports whether a Graph API failure is worth retrying: server
// errors, 429, and the codes Meta documents as transient (1, 2) or
// throttling (4, 17, 32, 613).
func retryable(status, code int) bool {
	if status >= 500 || status == http.StatusTooManyRequests {
		return true
	}
	switch code {
	case 1, 2, 4, 17, 32, 613:
		return true
	}
	return false
}

// ErrThrottled reports that the bank's own send budget is spent for longer
// than a caller may wait.
var ErrThrottled = bankbridge.E(bankbridge.TooManyRequests, "chat_throttled", "too many messages are going out; try again in a moment")
