package platformsim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options configure a Sim. WebhookURL, AppSecret, VerifyToken and
// PageToken are required; BaseURL is the sim's own public URL including
// Prefix ("http://localhost:8080/sim").
type Options struct {
	Prefix      string
	BaseURL     string
	WebhookURL  string
	AppSecret   string
	VerifyToken string
	PageToken   string
	PageID      string // default "1000000000000001"
	// AppID is the bank's app, the page's primary receiver under the
	// handover protocol (default "1000000000000002"); LiveChatAppID a
	// live-chat vendor's app, a secondary receiver the sim plays itself
	// (default "1000000000000003"). handover.go.
	AppID, LiveChatAppID string
	// RatePerSecond bounds Send API calls per second for the page, as the
	// platform does (error 613 beyond). Default 300, Meta's figure for text
	// messages (https://developers.facebook.com/docs/messenger-platform/send-messages,
	// "Send API rate limits": 300 calls per second per Page for text, links,
	// reactions and stickers).
	RatePerSecond int
	// AllowLoopbackHTTP lets account_link buttons point at http:// URLs on
	// a loopback host (localhost, 127.0.0.0/8, ::1), for the demo and the
	// tests on one machine. The platform itself takes only https
	// (https://developers.facebook.com/docs/messenger-platform/send-messages/buttons/login,
	// "url: must use HTTPS"), and so does the sim without it.
	AllowLoopbackHTTP bool
	HTTP              *http.Client
	Logger            *slog.Logger
	Now               func() time.Time
}

// Sim is the emulated platform: users with their chats, webhooks signed
// with the app secret, the Send API, and account linking. It keeps
// everything in memory. It is safe for concurrent use.
type Sim struct {
	o Options

	mu       sync.Mutex
	users    map[string]*User // by name
	byPSID   map[string]*User
	tokens   map[string]linkToken // account_linking_token -> user
	lastHook []byte
	window   []time.Time // Send API calls in the last second
	failNext int
	failCode int
}

// User is a simulated person with a page-scoped id and a chat with the page.
type User struct {
	Name   string
	PSID   string
	Linked bool
	Lines  []Line
	LastIn time.Time
	// Owner is the app that owns the thread under the handover protocol:
	// the bank's (or "" while idle, when the primary receiver gets the
	// events) or the live-chat app's.
	Owner string

	changed chan struct{} // closed and replaced when Lines grow (wait.go)
}

// Line is one message in a chat.
type Line struct {
	At            time.Time
	FromPage      bool
	Text          string
	MessagingType string
	Tag           string
	QuickReplies  []QuickReply
	Buttons       []Button
	Note          bool // a platform notice ("account linked"), not a message
}

// QuickReply is a quick reply the page offered.
type QuickReply struct{ Title, Payload string }

// Button is a template button.
type Button struct{ Type, Title, URL, Payload string }

type linkToken struct {
	user    string
	expires time.Time
}

// New returns a Sim.
func New(o Options) *Sim {
	o.Prefix = strings.TrimSuffix(o.Prefix, "/")
	o.BaseURL = strings.TrimSuffix(o.BaseURL, "/")
	if o.PageID == "" {
		o.PageID = "1000000000000001"
	}
	if o.RatePerSecond <= 0 {
		o.RatePerSecond = 300
	}
	if o.AppID == "" {
		o.AppID = "1000000000000002"
	}
	if o.LiveChatAppID == "" {
		o.LiveChatAppID = "1000000000000003"
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Sim{o: o, users: map[string]*User{}, byPSID: map[string]*User{}, tokens: map[string]linkToken{}}
}

// GraphURL is the Graph API base the bank's adapter should use, without a
// version: the bank adds one (LatestGraphVersion, or any not expired).
func (s *Sim) GraphURL() string { return s.o.BaseURL + "/graph" }

// RedirectURI is the platform's account-linking redirect: the bank sends
// the browser back only under it (its BANKBRIDGE_MESSENGER_REDIRECT_URI).
// The redirect_uri the sim hands the bank is this with the session's
// account_linking_token in its query.
func (s *Sim) RedirectURI() string { return s.o.BaseURL + "/account_linking/redirect" }

// PageID is the page's id: the recipient of every event.
func (s *Sim) PageID() string { return s.o.PageID }

// AppID is the bank's app id, LiveChatAppID the live-chat app's.
func (s *Sim) AppID() string         { return s.o.AppID }
func (s *Sim) LiveChatAppID() string { return s.o.LiveChatAppID }

// ChatURL is the chat page of a user.
func (s *Sim) ChatURL(name string) string { return s.o.BaseURL + "/chat/" + url.PathEscape(name) }

func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newPSID returns an unused page-scoped id: 16 decimal digits, random, as
// the real platform's look. Sequential ids made two emulators (one per
// instance of a fleet) give two people the same id, so one chat user was
// taken for another's linked account. 53 random bits: two emulators with a
// thousand users each collide with odds of about one in 10^10. s.mu held.
func (s *Sim) newPSID() string {
	const low, span = 1_000_000_000_000_000, 9_000_000_000_000_000
	for {
		n, err := rand.Int(rand.Reader, big.NewInt(span))
		if err != nil {
			panic("platformsim: crypto/rand failed: " + err.Error()) // never on a supported OS
		}
		if id := fmt.Sprint(low + n.Int64()); s.byPSID[id] == nil {
			return id
		}
	}
}

// user returns the user called name, creating it.
func (s *Sim) user(name string) *User {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[name]
	if !ok {
		u = &User{Name: name, PSID: s.newPSID(), changed: make(chan struct{})}
		s.users[name] = u
		s.byPSID[u.PSID] = u
	}
	return u
}

// Chat returns a copy of a user's chat.
func (s *Sim) Chat(name string) User {
	u := s.user(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *u
	c.Lines = slices.Clone(u.Lines)
	c.changed = nil
	return c
}

// Users lists the users by name.
func (s *Sim) Users() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n := range s.users {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// FailNext makes the next n Send API calls fail with the Graph error code
// (2 is a transient server error, 613 the rate limit), to exercise the
// bank's retries.
func (s *Sim) FailNext(n, code int) {
	s.mu.Lock()
	s.failNext, s.failCode = n, code
	s.mu.Unlock()
}

// Say is the user typing text: the page gets a message event.
func (s *Sim) Say(ctx context.Context, name, text string) error {
	u := s.user(name)
	s.note(u, Line{Text: text})
	return s.deliver(ctx, event{Sender: party{u.PSID}, Message: &inMessage{MID: "m_" + randomID(12), Text: text}})
}

// Tap is the user tapping a quick reply.
func (s *Sim) Tap(ctx context.Context, name, title, payload string) error {
	u := s.user(name)
	s.note(u, Line{Text: title})
	return s.deliver(ctx, event{Sender: party{u.PSID}, Message: &inMessage{MID: "m_" + randomID(12), Text: title, QuickReply: &quickReply{Payload: payload}}})
}

// Postback is the user tapping a postback button.
func (s *Sim) Postback(ctx context.Context, name, title, payload string) error {
	u := s.user(name)
	s.note(u, Line{Text: title})
	return s.deliver(ctx, event{Sender: party{u.PSID}, Postback: &postback{MID: "m_" + randomID(12), Title: title, Payload: payload}})
}

// Unlink is the user unlinking the account in the platform's settings.
func (s *Sim) Unlink(ctx context.Context, name string) error {
	u := s.user(name)
	s.mu.Lock()
	u.Linked = false
	s.mu.Unlock()
	s.appendLine(u, Line{At: s.o.Now(), Note: true, Text: "You unlinked your bank account."})
	return s.deliver(ctx, event{Sender: party{u.PSID}, AccountLinking: &accountLinking{Status: "unlinked"}})
}

// note records what the user did in the chat and opens the 24-hour window.
func (s *Sim) note(u *User, l Line) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l.At = s.o.Now()
	u.LastIn = l.At
	s.appendLocked(u, l)
}

// Redeliver sends the last webhook again, byte for byte, as the platform
// does when it is unsure the bank got it.
func (s *Sim) Redeliver(ctx context.Context) error {
	s.mu.Lock()
	body := s.lastHook
	s.mu.Unlock()
	if body == nil {
		return errors.New("platformsim: nothing delivered yet")
	}
	_, err := s.post(ctx, body, Signature(s.o.AppSecret, body))
	return err
}

// Signature is the X-Hub-Signature-256 of body.
func Signature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// PostRaw posts body to the bank's webhook with the given signature header
// ("" for none) and returns the status: for testing the bank's refusals.
func (s *Sim) PostRaw(ctx context.Context, body []byte, signature string) (int, error) {
	return s.post(ctx, body, signature)
}

// deliver wraps one event in a page notification, signs it and posts it,
// redelivering up to three times when the bank does not answer 200.
func (s *Sim) deliver(ctx context.Context, ev event) error {
	now := s.o.Now()
	ev.Recipient = party{s.o.PageID}
	ev.Timestamp = now.UnixMilli()
	e := entry{ID: s.o.PageID, Time: now.UnixMilli()}
	if s.standby(ev) {
		e.Standby = []event{ev}
	} else {
		e.Messaging = []event{ev}
	}
	body, _ := json.Marshal(notification{Object: "page", Entry: []entry{e}})
	s.mu.Lock()
	s.lastHook = body
	s.mu.Unlock()
	var last error
	for attempt := range 3 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
			}
		}
		status, err := s.post(ctx, body, Signature(s.o.AppSecret, body))
		if err == nil && status == http.StatusOK {
			return nil
		}
		last = fmt.Errorf("platformsim: webhook answered %d: %v", status, err)
	}
	return last
}

func (s *Sim) post(ctx context.Context, body []byte, sig string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.o.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	res, err := s.o.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	return res.StatusCode, nil
}

// Subscribe performs the webhook verification handshake, as the platform
// does when the page subscribes: the bank must echo the challenge.
func (s *Sim) Subscribe(ctx context.Context) error {
	ch := randomID(8)
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {s.o.VerifyToken}, "hub.challenge": {ch}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.o.WebhookURL+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	res, err := s.o.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
	if res.StatusCode != http.StatusOK || string(b) != ch {
		return fmt.Errorf("platformsim: webhook verification failed: %s %q", res.Status, b)
	}
	return nil
}

// The platform's JSON (see channels/messenger for the bank's side; the sim
// keeps its own copy, as a separate platform would).
type notification struct {
	Object string  `json:"object"`
	Entry  []entry `json:"entry"`
}

type entry struct {
	ID        string  `json:"id"`
	Time      int64   `json:"time"`
	Messaging []event `json:"messaging,omitempty"`
	Standby   []event `json:"standby,omitempty"`
}

type event struct {
	Sender               party           `json:"sender"`
	Recipient            party           `json:"recipient"`
	Timestamp            int64           `json:"timestamp"`
	Message              *inMessage      `json:"message,omitempty"`
	Postback             *postback       `json:"postback,omitempty"`
	AccountLinking       *accountLinking `json:"account_linking,omitempty"`
	PassThreadControl    *handover       `json:"pass_thread_control,omitempty"`
	TakeThreadControl    *handover       `json:"take_thread_control,omitempty"`
	RequestThreadControl *handover       `json:"request_thread_control,omitempty"`
}

type handover struct {
	NewOwnerAppID       string `json:"new_owner_app_id,omitempty"`
	PreviousOwnerAppID  string `json:"previous_owner_app_id,omitempty"`
	RequestedOwnerAppID string `json:"requested_owner_app_id,omitempty"`
	Metadata            string `json:"metadata,omitempty"`
}

type party struct {
	ID string `json:"id"`
}

type inMessage struct {
	MID        string      `json:"mid"`
	Text       string      `json:"text,omitempty"`
	QuickReply *quickReply `json:"quick_reply,omitempty"`
}

type quickReply struct {
	ContentType string `json:"content_type,omitempty"`
	Title       string `json:"title,omitempty"`
	Payload     string `json:"payload"`
}

type postback struct {
	MID     string `json:"mid,omitempty"`
	Title   string `json:"title"`
	Payload string `json:"payload"`
}

type accountLinking struct {
	Status            string `json:"status"`
	AuthorizationCode string `json:"authorization_code,omitempty"`
}
