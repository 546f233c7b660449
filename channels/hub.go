package channels

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/consent"
)

// Purpose says why a message goes out, which decides how a platform may
// deliver it (Messenger's 24-hour window and message tags).
type Purpose string

// The purposes of outbound messages.
const (
	// Response answers the person's message.
	Response Purpose = "response"
	// Staff is a person at the bank replying from the inbox (Messenger:
	// the HUMAN_AGENT tag outside 24 hours, up to 7 days).
	Staff Purpose = "staff"
	// Update is something the bank starts: a routine alert, a notice.
	// Messenger: only inside the 24-hour window (ErrWindowClosed outside,
	// and the caller uses another channel).
	Update Purpose = "update"
	// AccountChange is a non-recurring change to the customer's account
	// the bank must tell them of, such as a fraud alert (Messenger: the
	// ACCOUNT_UPDATE tag outside 24 hours, which Meta allows for these
	// only).
	AccountChange Purpose = "account_change"
)

// Outbound is one message to one person on a platform.
type Outbound struct {
	To      string // the platform's user id
	Reply   assistant.Reply
	Purpose Purpose
	// LastIn is when the person last wrote: platforms limit what may be
	// sent after a silence.
	LastIn time.Time
}

// Channel is a messaging platform adapter. Each adapter verifies its
// platform's webhooks and hands the messages to a Hub; the Hub sends the
// answers back through Send.
type Channel interface {
	// Platform names the platform: "messenger", "telegram". It is the
	// Platform of every assistant.Key the channel produces.
	Platform() string
	// Send delivers one message, with the platform's retries and limits.
	// ErrWindowClosed when the platform forbids it now.
	Send(ctx context.Context, o Outbound) error
	// Unlinked tells the platform that the bank ended the link of user
	// (Messenger: unlink_accounts); a platform without the notion does
	// nothing.
	Unlinked(ctx context.Context, user string) error
}

// Channel errors.
var (
	ErrWindowClosed = bankbridge.E(bankbridge.Conflict, "chat_window_closed", "the platform no longer allows messages to this person; they must write first")
	ErrNoChannel    = bankbridge.E(bankbridge.NotFound, "chat_channel_unknown", "no such messaging channel")
)

// Auditor is the disclosure log: *audit.Log.
type Auditor interface {
	Append(ctx context.Context, rec audit.Record) (audit.Record, error)
}

// Consents is what the Hub needs from consent: *consent.Service.
type Consents interface {
	Grant(ctx context.Context, id consent.GrantID) (consent.Grant, error)
	Revoke(ctx context.Context, id consent.GrantID, by, reason string) (consent.Grant, error)
}

// HubDeps is what a Hub needs; all are required but Logger and Now.
type HubDeps struct {
	Assistant *assistant.Assistant
	Store     assistant.Store
	Audit     Auditor
	Consents  Consents
	// Links keeps account linkings in progress for the platforms' own
	// linking protocol (BeginLink, FinishLink, RedeemLink); nil for none.
	Links LinkAttempts
	// Inbox, when set, makes Accept store inbound events durably and a
	// worker (RunInbox) process them; nil processes them inline.
	Inbox Inbox
	// InboxWorkers bounds the events this instance processes at once
	// (default InboxWorkers). SQLite's one writer gains nothing from many.
	InboxWorkers int
	// Engagement, optional, is told of every message a linked customer
	// wrote (insights).
	Engagement Engagement
	Logger     *slog.Logger
	Now        func() time.Time
}

// Hub joins channels to the assistant: it drops redelivered events, runs
// the assistant, records every reply carrying customer data in the audit
// log (durably, before sending) and sends through the channel. It also
// completes and ends account links, and backs the staff inbox.
type Hub struct {
	d        HubDeps
	mu       sync.RWMutex
	channels map[string]Channel
	clients  map[string]*Client
	wake     chan struct{} // Accept to RunInbox, on this instance
	queue    enqueuer      // Accept's group commit
}

// NewHub returns a Hub.
func NewHub(d HubDeps) *Hub {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Hub{d: d, channels: map[string]Channel{}, clients: map[string]*Client{}, wake: make(chan struct{}, 1)}
}

// Add registers a channel and the OAuth client that links its users
// (nil for a channel without account linking).
func (h *Hub) Add(ch Channel, c *Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.channels[ch.Platform()] = ch
	if c != nil {
		h.clients[ch.Platform()] = c
	}
}

func (h *Hub) channel(platform string) (Channel, *Client, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	ch, ok := h.channels[platform]
	if !ok {
		return nil, nil, ErrNoChannel
	}
	return ch, h.clients[platform], nil
}

// EventKeep is how long inbound event ids are remembered. An adapter
// refuses events older than its platform's redelivery window (see Fresh),
// and Fresh never accepts an age past EventKeep, so every event is refused
// either by its id (younger than EventKeep) or by its age (older than the
// window): a captured, correctly signed event cannot take effect twice.
const EventKeep = 7 * 24 * time.Hour

// MaxClockSkew is how far ahead of the bank's clock a platform's event
// time may be: clocks drift, and a platform never dates events ahead.
const MaxClockSkew = 5 * time.Minute

// Fresh reports whether an event the platform dated at, received now, is
// inside the platform's redelivery window: not older than window (capped
// at EventKeep) and not more than MaxClockSkew in the future. An adapter
// drops an event that is not fresh whatever its id, because a platform
// does not send it any more: only someone replaying a captured request
// does.
func Fresh(at, now time.Time, window time.Duration) bool {
	window = min(window, EventKeep)
	age := now.Sub(at)
	return age <= window && age >= -MaxClockSkew
}

// Deliver handles one inbound event once: a redelivery (same platform and
// event id) is dropped. The answers are audited and sent. It returns only
// once the replies are sent. An error (Unavailable) means the event was not
// recorded and the platform should redeliver it.
func (h *Hub) Deliver(ctx context.Context, platform, eventID string, in assistant.Inbound) error {
	ch, _, err := h.channel(platform)
	if err != nil {
		return err
	}
	first, err := h.d.Store.FirstDelivery(ctx, platform, eventID, h.d.Now().UTC(), EventKeep)
	if err != nil {
		// Nothing recorded: let the platform redeliver.
		return bankbridge.E(bankbridge.Unavailable, "chat_busy", "try again").WithOp("channels.Deliver", err)
	}
	if !first {
		return nil
	}
	in.Key.Platform = platform
	// From here the event is recorded as handled: a failure is answered
	// with an apology (no data) rather than a redelivery, which would be
	// dropped.
	res, err := h.d.Assistant.Handle(ctx, in)
	if err != nil {
		h.d.Logger.ErrorContext(ctx, "channels: handle message", "request_id", bankbridge.RequestID(ctx), "platform", platform, "err", err)
		return h.apologise(ctx, ch, in.Key)
	}
	h.engaged(platform, in, res)
	conv, _ := h.d.Store.Conversation(ctx, in.Key)
	if err := h.send(ctx, ch, in.Key, res.Replies, Response, conv.LastIn, "system"); err != nil {
		h.d.Logger.Error("channels: send reply", "platform", platform, "err", err)
		if bankbridge.ErrorKind(err) == bankbridge.Unavailable || bankbridge.ErrorKind(err) == bankbridge.Internal {
			return h.apologise(ctx, ch, in.Key)
		}
	}
	if ho, ok := ch.(HandOverer); ok && res.HandedOver {
		if err := ho.HandOver(ctx, in.Key.User); err != nil {
			h.d.Logger.Warn("channels: pass the conversation to the live-chat app", "platform", platform, "err", err)
		}
	}
	return nil
}

// HandOverer is a channel that passes a conversation on the platform when
// the assistant hands it to a person (Messenger: the handover protocol's
// pass_thread_control to a live-chat app).
type HandOverer interface {
	HandOver(ctx context.Context, user string) error
}

// Resume gives a conversation back to the assistant when the platform
// says the person handling it is done (Messenger: the live-chat app passed
// the thread back), and the assistant says so. by names who gave it back.
func (h *Hub) Resume(ctx context.Context, platform, user, by string) error {
	ch, _, err := h.channel(platform)
	if err != nil {
		return err
	}
	k := assistant.Key{Platform: platform, User: user}
	conv, err := h.d.Store.Conversation(ctx, k)
	if err != nil || conv.Mode != assistant.ModeHuman {
		return nil // nothing handed over here: the bank's assistant has it already
	}
	r, err := h.d.Assistant.HandBack(ctx, k, by)
	if err != nil {
		return err
	}
	p := Response
	if h.d.Now().Sub(conv.LastIn) > 24*time.Hour {
		p = Staff
	}
	return h.send(ctx, ch, k, []assistant.Reply{r}, p, conv.LastIn, "system")
}

// Once runs fn for an inbound event that is not a message (an account
// linking, say) the first time its id is seen; a redelivery does nothing.
// An error means the event was not recorded.
func (h *Hub) Once(ctx context.Context, platform, eventID string, fn func(context.Context) error) error {
	first, err := h.d.Store.FirstDelivery(ctx, platform, eventID, h.d.Now().UTC(), EventKeep)
	if err != nil {
		return bankbridge.E(bankbridge.Unavailable, "chat_busy", "try again").WithOp("channels.Once", err)
	}
	if !first {
		return nil
	}
	if err := fn(ctx); err != nil {
		h.d.Logger.Error("channels: event", "platform", platform, "err", err)
	}
	return nil
}

// Noted keeps a message the bank does not answer in its conversation's
// transcript, once per event id (Messenger's standby: another app owns
// the thread), so that staff reading the inbox see the whole
// conversation, the part the live-chat vendor handled included.
func (h *Hub) Noted(ctx context.Context, platform, eventID string, m assistant.Message) error {
	m.Platform = platform
	return h.Once(ctx, platform, eventID, func(ctx context.Context) error { return h.d.Store.AppendMessage(ctx, m) })
}

// sendClaimLease is how long a claim on a bank-started message holds
// before another instance may take it over: past the longest send
// SendOnce allows (sendBound), so a live sender has finished or given up
// before its claim goes stale.
const (
	sendClaimLease = 20 * time.Second
	sendBound      = 15 * time.Second
)

// SendOnce runs send once per (platform, id) that succeeded, for
// bank-started messages (alerts) which the caller retries. The id is
// claimed before the send and marked sent after it: a concurrent or later
// duplicate is dropped once it is sent, and answered Unavailable (try
// later) while another instance is sending it. A failed send forgets the
// claim, so the retry sends. An instance killed between the claim and the
// send leaves a claim that goes stale after sendClaimLease, and the retry
// on another instance takes it over and sends: at least once, with a
// repeat only when the kill falls between the platform's answer and the
// record of it.
func (h *Hub) SendOnce(ctx context.Context, platform, id string, send func(context.Context) error) error {
	claim, err := h.d.Store.ClaimSend(ctx, platform, id, h.d.Now().UTC(), sendClaimLease)
	switch {
	case err != nil:
		return bankbridge.E(bankbridge.Unavailable, "chat_busy", "try again").WithOp("channels.SendOnce", err)
	case claim == assistant.SendDone:
		return nil
	case claim == assistant.SendInFlight:
		return bankbridge.E(bankbridge.Unavailable, "chat_send_in_flight", "another instance is sending this message; try again later")
	}
	sctx, cancel := context.WithTimeout(ctx, sendBound)
	err = send(sctx)
	cancel()
	bg := context.WithoutCancel(ctx)
	if err != nil {
		if ferr := h.d.Store.ForgetDelivery(bg, platform, id); ferr != nil {
			return errors.Join(err, ferr)
		}
		return err
	}
	if err := h.d.Store.SentDelivery(bg, platform, id); err != nil {
		// Sent: the caller records it delivered and does not retry; the
		// claim goes stale unused.
		h.d.Logger.Warn("channels: recording a sent message", "platform", platform, "id", id, "err", err)
	}
	return nil
}

// apologise tells the person something went wrong, without any data.
func (h *Hub) apologise(ctx context.Context, ch Channel, k assistant.Key) error {
	err := ch.Send(ctx, Outbound{To: k.User, Purpose: Response, LastIn: h.d.Now(),
		Reply: assistant.Reply{Text: "Sorry, something went wrong on our side and I could not answer. Nothing was paid or changed. Please try again in a moment."}})
	if err != nil {
		h.d.Logger.Warn("channels: apology not sent", "err", err)
	}
	return nil
}

// send audits each reply carrying data, then sends it. A reply whose send
// fails after its record was written gets a second record, Failed.
func (h *Hub) send(ctx context.Context, ch Channel, k assistant.Key, replies []assistant.Reply, p Purpose, lastIn time.Time, actor string) error {
	for _, r := range replies {
		var rec *audit.Record
		if r.Disclosure != nil {
			rr, err := h.record(ctx, k, *r.Disclosure, actor, audit.OK)
			if err != nil {
				return err // nothing is sent unlogged
			}
			rec = &rr
		}
		if err := ch.Send(ctx, Outbound{To: k.User, Reply: r, Purpose: p, LastIn: lastIn}); err != nil {
			if rec != nil {
				if _, aerr := h.record(ctx, k, *r.Disclosure, actor, audit.Failed); aerr != nil {
					h.d.Logger.Warn("channels: audit of a failed send", "err", aerr)
				}
			}
			return err
		}
	}
	return nil
}

func (h *Hub) record(ctx context.Context, k assistant.Key, d assistant.Disclosure, actor string, o audit.Outcome) (audit.Record, error) {
	rec := audit.Record{Kind: audit.PlatformMessage, Partner: k.Platform, Consent: string(d.Grant), Customer: d.Customer,
		Accounts: d.Accounts, Purpose: d.Purpose, Actor: actor, Outcome: o, Detail: k.Platform + ": " + d.What}
	if _, c, err := h.channel(k.Platform); err == nil && c != nil {
		rec.Partner = string(c.ID)
	}
	for _, c := range d.Clusters {
		rec.Clusters = append(rec.Clusters, string(c))
	}
	return h.d.Audit.Append(ctx, rec)
}

// StartLink begins linking platform user to a bank account: it pushes an
// authorization request for the platform's partner with state (the
// platform's own linking token, which its redirect recognises) and keeps
// the PKCE verifier for the code that will come back. It returns the URL of
// the bank's login and consent screen.
func (h *Hub) StartLink(ctx context.Context, platform, user, state string) (string, error) {
	_, c, err := h.channel(platform)
	if err != nil {
		return "", err
	}
	if c == nil {
		return "", ErrNoChannel.WithMessage("this channel cannot link accounts")
	}
	verifier, challenge := PKCE()
	if err := h.d.Store.SavePendingLink(ctx, assistant.PendingLink{Key: assistant.Key{Platform: platform, User: user},
		Verifier: verifier, Expires: h.d.Now().UTC().Add(10 * time.Minute)}); err != nil {
		return "", err
	}
	return c.Authorize(ctx, state, challenge)
}

// CompleteLink redeems the authorization code the platform passed back for
// user and links the user to the consent's customer, then says so in the
// chat. ErrNoPendingLink when no linking was started for the user (or it
// expired).
func (h *Hub) CompleteLink(ctx context.Context, platform, user, code string) error {
	ch, c, err := h.channel(platform)
	if err != nil {
		return err
	}
	if c == nil {
		return ErrNoChannel
	}
	k := assistant.Key{Platform: platform, User: user}
	p, err := h.d.Store.TakePendingLink(ctx, k, h.d.Now().UTC())
	if err != nil {
		return err
	}
	gid, err := c.Exchange(ctx, code, p.Verifier)
	if err != nil {
		return err
	}
	return h.link(ctx, ch, c, k, gid)
}

// Unlinked handles the platform's word that user unlinked there: the
// consent is revoked and the link removed, so nothing more is disclosed.
func (h *Hub) Unlinked(ctx context.Context, platform, user string) error {
	k := assistant.Key{Platform: platform, User: user}
	l, err := h.d.Store.Link(ctx, k)
	if errors.Is(err, assistant.ErrNotLinked) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := h.d.Store.DeleteLink(ctx, k); err != nil {
		return err
	}
	_, err = h.d.Consents.Revoke(ctx, l.Grant, "customer", "unlinked on the platform")
	if errors.Is(err, consent.ErrGrantNotFound) {
		err = nil
	}
	return err
}

// ConsentEvent implements consent.Hook: when a consent behind a link is
// revoked (Connected apps, staff, the chat) or expires, the link goes and
// the platform is told.
func (h *Hub) ConsentEvent(ctx context.Context, e consent.Event) {
	if e.Kind != consent.EventRevoked && e.Kind != consent.EventExpired {
		return
	}
	links, err := h.d.Store.LinksByGrant(ctx, e.Grant.ID)
	if err != nil {
		h.d.Logger.Error("channels: links of an ended consent", "consent", e.Grant.ID, "err", err)
		return
	}
	for _, l := range links {
		if ok, err := h.d.Store.DeleteLink(ctx, l.Key); err != nil || !ok {
			continue
		}
		if ch, _, err := h.channel(l.Platform); err == nil {
			if err := ch.Unlinked(ctx, l.User); err != nil {
				h.d.Logger.Warn("channels: tell the platform of an unlink", "platform", l.Platform, "err", err)
			}
		}
	}
}

// Alert sends an alert to every platform the customer linked, if their
// alerts are on: full when their privacy is full, minimal otherwise, none
// when it is off. The full reply must carry its Disclosure. It returns how
// many were sent.
func (h *Hub) Alert(ctx context.Context, c bankbridge.CustomerID, full, minimal assistant.Reply) (int, error) {
	s, err := h.d.Store.Settings(ctx, c)
	if err != nil || !s.Alerts || s.Privacy == assistant.PrivacyOff {
		return 0, err
	}
	r := minimal
	if s.Privacy == assistant.PrivacyFull {
		r = full
	}
	links, err := h.d.Store.LinksByCustomer(ctx, c)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, l := range links {
		ch, _, err := h.channel(l.Platform)
		if err != nil {
			continue
		}
		rr := r
		if rr.Disclosure != nil {
			d := *rr.Disclosure
			d.Customer, d.Grant = c, l.Grant
			rr.Disclosure = &d
		}
		conv, _ := h.d.Store.Conversation(ctx, l.Key)
		if err := h.send(ctx, ch, l.Key, []assistant.Reply{rr}, Update, conv.LastIn, "system"); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// Notify sends one message the bank starts (an alert) to a linked chat,
// with purpose p: Update for routine alerts (ErrWindowClosed outside the
// platform's window: the caller falls back to the app and e-mail),
// AccountChange for non-recurring account changes such as fraud alerts.
// ErrNoChannel when the platform is not registered; a Disclosure on r is
// audited before sending, as for every reply.
func (h *Hub) Notify(ctx context.Context, k assistant.Key, r assistant.Reply, p Purpose) error {
	ch, _, err := h.channel(k.Platform)
	if err != nil {
		return err
	}
	conv, _ := h.d.Store.Conversation(ctx, k)
	return h.send(ctx, ch, k, []assistant.Reply{r}, p, conv.LastIn, "system")
}

// Waiting lists conversations handed to a person, longest waiting first.
func (h *Hub) Waiting(ctx context.Context) ([]assistant.Conversation, error) {
	return h.d.Store.HandedOver(ctx, 200)
}

// CustomerChats returns the chats linked to customer c, on every platform.
func (h *Hub) CustomerChats(ctx context.Context, c bankbridge.CustomerID) ([]assistant.Link, error) {
	return h.d.Store.LinksByCustomer(ctx, c)
}

// Transcript returns a conversation, the customer it is linked to (0 if
// none) and its last 100 messages.
func (h *Hub) Transcript(ctx context.Context, k assistant.Key) (assistant.Conversation, bankbridge.CustomerID, []assistant.Message, error) {
	conv, err := h.d.Store.Conversation(ctx, k)
	if err != nil {
		return conv, 0, nil, err
	}
	var c bankbridge.CustomerID
	if l, err := h.d.Store.Link(ctx, k); err == nil {
		c = l.Customer
	}
	ms, err := h.d.Store.Messages(ctx, k, 100)
	return conv, c, ms, err
}

// StaffReply sends a staff member's message into a handed-over
// conversation (Messenger: the HUMAN_AGENT tag after 24 hours, up to 7
// days) and records it; it is audited as a disclosure to the platform when
// the chat is linked, since staff may quote account data.
func (h *Hub) StaffReply(ctx context.Context, k assistant.Key, staff bankbridge.StaffID, text string) error {
	ch, _, err := h.channel(k.Platform)
	if err != nil {
		return err
	}
	conv, err := h.d.Store.Conversation(ctx, k)
	if err != nil {
		return err
	}
	if conv.Mode != assistant.ModeHuman {
		return bankbridge.E(bankbridge.Conflict, "chat_not_handed_over", "this conversation is with the assistant; it was not handed over")
	}
	actor := "staff:" + strconv.FormatInt(int64(staff), 10)
	r := assistant.Reply{Text: text}
	if l, err := h.d.Store.Link(ctx, k); err == nil {
		r.Disclosure = &assistant.Disclosure{Customer: l.Customer, Grant: l.Grant, What: "staff reply"}
	}
	if err := h.send(ctx, ch, k, []assistant.Reply{r}, Staff, conv.LastIn, actor); err != nil {
		return err
	}
	return h.d.Assistant.StaffSaid(ctx, k, actor, text)
}

// ThreadTaker is a channel whose page other apps share, and which may take
// a conversation's thread from whichever owns it (Messenger's
// take_thread_control, the primary receiver's privilege).
type ThreadTaker interface {
	TakeThreadControl(ctx context.Context, user, metadata string) error
}

// ErrNoThreadControl reports a platform without thread control.
var ErrNoThreadControl = bankbridge.E(bankbridge.Conflict, "chat_no_thread_control", "this platform has no thread control to take")

// TakeThread takes a handed-over conversation's thread from the app that
// owns it (the live-chat vendor's) so that the bank's staff answer it from
// the inbox, and records it in the audit log with the staff member's id
// and name (the platform is told only that the bank took it). Errors:
// ErrNoThreadControl, a Conflict when the conversation is with the
// assistant, the platform's error.
func (h *Hub) TakeThread(ctx context.Context, k assistant.Key, staff bankbridge.StaffID, name string) error {
	ch, _, err := h.channel(k.Platform)
	if err != nil {
		return err
	}
	tt, ok := ch.(ThreadTaker)
	if !ok {
		return ErrNoThreadControl
	}
	conv, err := h.d.Store.Conversation(ctx, k)
	if err != nil {
		return err
	}
	if conv.Mode != assistant.ModeHuman {
		return bankbridge.E(bankbridge.Conflict, "chat_not_handed_over", "this conversation is with the assistant; it was not handed over")
	}
	err = tt.TakeThreadControl(ctx, k.User, "taken by the bank's staff")
	rec := audit.Record{Kind: audit.ChatControl, Actor: "staff:" + strconv.FormatInt(int64(staff), 10), Outcome: audit.OK,
		Purpose: "answer a chat handed over by the assistant", Detail: clip("take_thread_control on "+k.Platform+" by "+name, 500)}
	if l, lerr := h.d.Store.Link(ctx, k); lerr == nil {
		rec.Customer = l.Customer
	}
	if err != nil {
		rec.Outcome = audit.Failed
	}
	if _, aerr := h.d.Audit.Append(ctx, rec); aerr != nil && err == nil {
		return aerr
	}
	return err
}

// clip cuts s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// HandBack returns a conversation to the assistant, which says so.
func (h *Hub) HandBack(ctx context.Context, k assistant.Key, staff bankbridge.StaffID) error {
	ch, _, err := h.channel(k.Platform)
	if err != nil {
		return err
	}
	r, err := h.d.Assistant.HandBack(ctx, k, "staff:"+strconv.FormatInt(int64(staff), 10))
	if err != nil {
		return err
	}
	conv, _ := h.d.Store.Conversation(ctx, k)
	p := Response
	if h.d.Now().Sub(conv.LastIn) > 24*time.Hour {
		p = Staff // the person's hand-back is still the human agent's message
	}
	return h.send(ctx, ch, k, []assistant.Reply{r}, p, conv.LastIn, "system")
}
