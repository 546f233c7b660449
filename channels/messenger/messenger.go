package messenger

import (
	"bytes"
	"cmp"
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
	// PathLink is the account_link button's url: the platform opens it
	// with its redirect_uri and account_linking_token.
	PathLink = "/channels/messenger/link"
	// PathLinkCallback is the bank's own OAuth redirect URI for the
	// platform's partner: the authorization server sends the customer back
	// here, and the adapter sends them on to the platform.
	PathLinkCallback = "/channels/messenger/link/callback"
)

// DefaultGraphURL is the Graph API's host, and DefaultGraphVersion the
// version the bank calls unless told otherwise: channels' (one place for
// Messenger and WhatsApp, with its expiry).
const (
	DefaultGraphURL     = channels.DefaultGraphURL
	DefaultGraphVersion = channels.DefaultGraphVersion
)

// DefaultLinkRedirect is where Meta's account-linking redirect_uri points:
// the bank sends a browser only to a redirect_uri under it (Config.LinkRedirect).
const DefaultLinkRedirect = "https://www.facebook.com/messenger_platform/account_linking/"

// Config configures the adapter. AppSecret, VerifyToken, PageToken and
// GraphURL are required.
type Config struct {
	// AppSecret signs webhooks (X-Hub-Signature-256).
	AppSecret string
	// VerifyToken answers the platform's subscription check (hub.verify_token).
	VerifyToken string
	// PageToken authenticates Send API calls.
	PageToken string
	// GraphURL is the Graph API's base without a version: DefaultGraphURL,
	// or platformsim's.
	GraphURL string
	// GraphVersion is the Graph API version called ("v25.0"); default
	// DefaultGraphVersion.
	GraphVersion string
	// BankURL is the bank's public base URL: the account-link button opens
	// BankURL + PathLink.
	BankURL string
	// AppID is the bank's app id, and LiveChatAppID the live-chat vendor's
	// (a secondary receiver under the handover protocol; "" for none):
	// handover.go.
	AppID         string
	LiveChatAppID string
	// PageID is the bank's page: events addressed to another page are
	// dropped. "" accepts any (a bank that has not set it).
	PageID string
	// LinkRedirect is the platform's account-linking redirect: the bank
	// sends the browser back only to a redirect_uri of the same scheme and
	// host whose path starts with this one's. Default DefaultLinkRedirect.
	LinkRedirect string

	// Send API behaviour: attempts per message (default 4), first backoff
	// (default 200 ms, doubling, ±20%, capped at 5 s), and the rate the bank
	// keeps to (default 200 calls/s, burst 50; a call waits at most
	// MaxWait, default 5 s, for its turn).
	Attempts int
	Backoff  time.Duration
	Rate     float64
	Burst    int
	MaxWait  time.Duration
	// Pacer keeps to the send budget. Default: NewFleetPacer over Turns
	// when Turns is set, so that the fleet keeps to one budget; otherwise
	// NewPacer(Rate, Burst, Now), in this instance's memory.
	Pacer Pacer
	Turns Turns
	// MaxBody bounds a webhook body; default 1 MiB.
	MaxBody int64
	HTTP    *http.Client
	Logger  *slog.Logger
	Now     func() time.Time
}

// Env reads the configuration from BANKBRIDGE_MESSENGER_APP_SECRET,
// _VERIFY_TOKEN, _PAGE_TOKEN, _GRAPH_URL, _GRAPH_VERSION and _REDIRECT_URI
// (the platform's account-linking redirect) through getenv.
func Env(getenv func(string) string) Config {
	return Config{
		AppSecret:     getenv("BANKBRIDGE_MESSENGER_APP_SECRET"),
		VerifyToken:   getenv("BANKBRIDGE_MESSENGER_VERIFY_TOKEN"),
		PageToken:     getenv("BANKBRIDGE_MESSENGER_PAGE_TOKEN"),
		GraphURL:      getenv("BANKBRIDGE_MESSENGER_GRAPH_URL"),
		GraphVersion:  getenv("BANKBRIDGE_MESSENGER_GRAPH_VERSION"),
		LinkRedirect:  getenv("BANKBRIDGE_MESSENGER_REDIRECT_URI"),
		AppID:         getenv("BANKBRIDGE_MESSENGER_APP_ID"),
		LiveChatAppID: getenv("BANKBRIDGE_MESSENGER_LIVECHAT_APP_ID"),
		PageID:        getenv("BANKBRIDGE_MESSENGER_PAGE_ID"),
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
	if err := channels.CheckGraph(c.GraphURL, c.GraphVersion, "BANKBRIDGE_MESSENGER_GRAPH_URL", "BANKBRIDGE_MESSENGER_GRAPH_VERSION"); err != nil {
		return fmt.Errorf("messenger: %w", err)
	}
	if c.LinkRedirect != "" {
		if u, err := url.Parse(c.LinkRedirect); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return fmt.Errorf("messenger: account-linking redirect %q is not an http(s) URL", c.LinkRedirect)
		}
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
	if c.GraphVersion == "" {
		c.GraphVersion = DefaultGraphVersion
	}
	if c.LinkRedirect == "" {
		c.LinkRedirect = DefaultLinkRedirect
	}
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
	switch {
	case c.Pacer != nil:
	case c.Turns != nil:
		c.Pacer = NewFleetPacer(c.Turns, "send:"+Platform, c.Rate, c.Burst, c.Logger, c.Now)
	default:
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
	mux.HandleFunc("GET "+PathLinkCallback, a.callback)
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
// parses the events and stores them in the hub's inbox (channels.Accept),
// and only then answers 200: the reply comes later, from the inbox worker
// (Process). A bad or missing signature, or a body over the limit, is
// refused without parsing; a body that cannot be stored is answered 503,
// so that the platform redelivers it.
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
	var evs []channels.InboxEvent
	for _, e := range n.Entry {
		// Events of the thread's owner come in messaging; those another app
		// (the live-chat vendor) owns come in standby, for the record only
		// (https://developers.facebook.com/docs/messenger-platform/handover-protocol,
		// "Standby Channel").
		for _, set := range []struct {
			evs     []Event
			standby bool
		}{{e.Messaging, false}, {e.Standby, true}} {
			for _, ev := range set.evs {
				if ie, ok := a.inboxEvent(ev, set.standby); ok {
					evs = append(evs, ie)
				}
			}
		}
	}
	if err := a.hub.Accept(r.Context(), Platform, evs); err != nil {
		// Not stored: ask for a redelivery.
		a.c.Logger.Error("messenger: webhook not stored", "err", err)
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
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

// stored is an event as the inbox keeps it.
type stored struct {
	Standby bool  `json:"standby,omitempty"`
	Event   Event `json:"event"`
}

// inboxEvent makes the inbox's record of one event: its conversation (the
// person) and its id, the platform's where it has one (a message's mid).
// Events of no one we can answer, echoes of our own messages, and events
// outside the redelivery window (a replay) are dropped; the webhook still
// answers 200 for them, so the platform has no reason to resend them and
// a replayer learns nothing.
func (a *Adapter) inboxEvent(ev Event, standby bool) (channels.InboxEvent, bool) {
	user := ev.Sender.ID
	if user == "" || len(user) > 64 {
		return channels.InboxEvent{}, false
	}
	if a.c.PageID != "" && ev.Recipient.ID != a.c.PageID {
		// Signed with the app's secret but for another page of the app:
		// not this bank's conversation.
		a.c.Logger.Warn("messenger: event for another page dropped", "page", ev.Recipient.ID)
		return channels.InboxEvent{}, false
	}
	at := time.UnixMilli(ev.Timestamp).UTC()
	if !channels.Fresh(at, a.c.Now(), RedeliveryWindow) {
		a.c.Logger.Warn("messenger: event outside the redelivery window dropped", "at", at, "sender", user)
		return channels.InboxEvent{}, false
	}
	ts := strconv.FormatInt(ev.Timestamp, 10)
	var id string
	switch {
	case ev.Message != nil:
		if ev.Message.IsEcho || ev.Message.MID == "" || len(ev.Message.MID) > 200 {
			return channels.InboxEvent{}, false // our own messages echoed back
		}
		id = "mid:" + ev.Message.MID
	case ev.Postback != nil:
		id = "postback:" + cmp.Or(ev.Postback.MID, user+":"+ts)
	case ev.AccountLinking != nil:
		id = "linking:" + user + ":" + ts + ":" + ev.AccountLinking.Status
	case ev.PassThreadControl != nil:
		id = "handover:pass:" + user + ":" + ts
	case ev.TakeThreadControl != nil:
		id = "handover:take:" + user + ":" + ts
	case ev.RequestThreadControl != nil:
		id = "handover:request:" + user + ":" + ts
	default:
		return channels.InboxEvent{}, false
	}
	if standby {
		id = "standby:" + id
	}
	body, _ := json.Marshal(stored{Standby: standby, Event: ev})
	return channels.InboxEvent{Conversation: user, EventID: id, Body: body, Received: a.c.Now().UTC()}, true
}

// Process implements channels.Processor: one stored event, handled as it
// came. An error (the hub could not record it) leaves it for a retry.
func (a *Adapter) Process(ctx context.Context, ie channels.InboxEvent) error {
	var s stored
	if err := json.Unmarshal(ie.Body, &s); err != nil {
		a.c.Logger.Error("messenger: stored event unreadable; dropped", "event", ie.EventID, "err", err)
		return nil
	}
	if s.Standby {
		return a.standby(ctx, ie.EventID, s.Event)
	}
	return a.event(ctx, ie.EventID, s.Event)
}

// event dispatches one messaging event; id is its inbox id.
func (a *Adapter) event(ctx context.Context, id string, ev Event) error {
	user := ev.Sender.ID
	at := time.UnixMilli(ev.Timestamp).UTC()
	k := assistant.Key{Platform: Platform, User: user}
	switch {
	case ev.Message != nil:
		m := ev.Message
		in := assistant.Inbound{Key: k, Text: m.Text, At: at}
		if m.QuickReply != nil {
			in.Payload = m.QuickReply.Payload
		}
		if in.Text == "" && in.Payload == "" {
			in.Text = "(an attachment)"
		}
		return a.hub.Deliver(ctx, Platform, id, in)
	case ev.Postback != nil:
		return a.hub.Deliver(ctx, Platform, id, assistant.Inbound{Key: k, Text: ev.Postback.Title, Payload: ev.Postback.Payload, At: at})
	case ev.AccountLinking != nil:
		return a.linking(ctx, id, user, ev)
	case ev.PassThreadControl != nil, ev.TakeThreadControl != nil, ev.RequestThreadControl != nil:
		return a.handover(ctx, id, user, ev)
	}
	return nil
}

// linking handles account_linking
// (https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messaging_account_linking):
// "linked" carries the authorization_code the bank appended to the
// platform's redirect_uri, which the hub redeems for this person only;
// "unlinked" says the person unlinked on the platform.
func (a *Adapter) linking(ctx context.Context, id, user string, ev Event) error {
	al := ev.AccountLinking
	return a.hub.Once(ctx, Platform, id, func(ctx context.Context) error {
		switch al.Status {
		case "linked":
			err := a.hub.RedeemLink(ctx, Platform, user, al.AuthorizationCode)
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

// link is the account_link button's url
// (https://developers.facebook.com/docs/messenger-platform/identity/account-linking,
// "Linking Process", step 2): the platform opens it with its redirect_uri
// and account_linking_token. The token names the person (asked of the
// Graph API: GET /me?fields=recipient); the redirect_uri must be the
// platform's (Config.LinkRedirect), or the bank would hand a linking code
// to whoever crafted the link. The person then logs in and consents at
// the bank's authorization server, which sends them to PathLinkCallback.
func (a *Adapter) link(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	token, redirect := q.Get("account_linking_token"), q.Get("redirect_uri")
	if token == "" || len(token) > 512 || redirect == "" {
		a.linkFailed(w, http.StatusBadRequest, "This link must be opened from the chat's \"Link your account\" button.")
		return
	}
	if !a.platformRedirect(redirect) {
		a.c.Logger.Warn("messenger: account linking with a redirect_uri that is not the platform's refused", "redirect_uri", redirect)
		a.linkFailed(w, http.StatusBadRequest, "This link must be opened from the chat's \"Link your account\" button.")
		return
	}
	psid, err := a.psid(r.Context(), token)
	if err != nil {
		a.c.Logger.Warn("messenger: account linking token", "err", err)
		a.linkFailed(w, http.StatusBadRequest, "This linking request has expired. Go back to the chat and tap the button again.")
		return
	}
	to, err := a.hub.BeginLink(r.Context(), Platform, psid, redirect)
	if err != nil {
		a.c.Logger.Error("messenger: start linking", "err", err)
		a.linkFailed(w, http.StatusServiceUnavailable, "Linking is not available right now. Please try again in a moment.")
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// PlatformRedirect reports whether u is under the platform's
// account-linking redirect (Config.LinkRedirect): same scheme and host,
// path under its path.
func (a *Adapter) PlatformRedirect(u string) bool { return a.platformRedirect(u) }

func (a *Adapter) platformRedirect(u string) bool {
	got, err := url.Parse(u)
	if err != nil || len(u) > 2048 || got.User != nil || got.Fragment != "" {
		return false
	}
	want, err := url.Parse(a.c.LinkRedirect)
	if err != nil {
		return false
	}
	return got.Scheme == want.Scheme && strings.EqualFold(got.Host, want.Host) &&
		(got.Path == want.Path || strings.HasPrefix(got.Path, strings.TrimSuffix(want.Path, "/")+"/"))
}

// callback is the bank's OAuth redirect for the platform's partner: the
// hub redeems the code and sends the browser to the platform's
// redirect_uri with an authorization_code appended, or without one when the
// customer declined or the exchange failed ("Linking Process", step 3).
func (a *Adapter) callback(w http.ResponseWriter, r *http.Request) {
	to, err := a.hub.FinishLink(r.Context(), Platform, r.URL.Query())
	if err != nil {
		a.c.Logger.Warn("messenger: account-linking callback", "err", err)
		a.linkFailed(w, http.StatusBadRequest, "This linking request has expired or was already used. Go back to the chat and tap the button again.")
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

// graph is the URL of a Graph API path at the configured version.
func (a *Adapter) graph(p string) string { return a.c.GraphURL + "/" + a.c.GraphVersion + p }

// psid asks the Graph API which person an account-linking token belongs to.
func (a *Adapter) psid(ctx context.Context, token string) (string, error) {
	q := url.Values{"access_token": {a.c.PageToken}, "fields": {"recipient"}, "account_linking_token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.graph("/me")+"?"+q.Encode(), nil)
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
	case channels.AccountChange:
		// The ACCOUNT_UPDATE tag is for "a non-recurring change to [the
		// person's] application or account", such as a fraud alert; never
		// for recurring content (statements, routine transaction notices)
		// or promotions (https://developers.facebook.com/docs/messenger-platform/send-messages/message-tags,
		// "Supported Tags": ACCOUNT_UPDATE; "Message Tags Policy").
		if !o.LastIn.IsZero() && since < Window {
			req.MessagingType = "UPDATE"
		} else {
			req.MessagingType, req.Tag = "MESSAGE_TAG", "ACCOUNT_UPDATE"
		}
	default:
		// Anything else the bank starts goes only inside the standard
		// messaging window (https://developers.facebook.com/docs/messenger-platform/policy/policy-overview,
		// "24 hour standard messaging window"); outside it the caller uses
		// another channel the customer has.
		if o.LastIn.IsZero() || since >= Window {
			return req, channels.ErrWindowClosed
		}
		req.MessagingType = "UPDATE"
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
	u := a.graph(path) + "?" + url.Values{"access_token": {a.c.PageToken}}.Encode()
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
