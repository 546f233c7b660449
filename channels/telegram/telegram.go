package telegram

import (
	"bytes"
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/backoff"
	"github.com/bankbridge/bankbridge/channels"
)

// Platform is the name of this channel.
const Platform = "telegram"

// PathWebhook is where Telegram posts updates.
const PathWebhook = "/channels/telegram/webhook"

// Config configures the adapter; BotToken, SecretToken and BankURL are
// required.
type Config struct {
	BotToken    string
	SecretToken string // the secret_token given to setWebhook: 1-256 of A-Z a-z 0-9 _ -
	// BankURL is the bank's public base URL: the webhook is BankURL +
	// PathWebhook, the link button opens BankURL + PathLink.
	BankURL string
	// BotUsername names the bot in deep links (t.me/<bot>?start=...);
	// empty: asked of getMe by Start.
	BotUsername string
	APIURL      string // default https://api.telegram.org
	// DeepLinkURL is where t.me links point; default https://t.me (the
	// emulator has its own).
	DeepLinkURL string
	Attempts    int           // per message, default 4
	Backoff     time.Duration // first retry's wait after a server error, default 200 ms, doubling ±20% up to 5 s
	// MaxWait is the longest a message waits for its turn within the send
	// limits, or for a 429's retry_after to pass; longer and it is refused
	// with ErrThrottled (the caller, the alerts worker, retries later).
	// Default 10 s.
	MaxWait time.Duration
	// Turns, when set, keeps the send limits for the fleet
	// (store/postgres.Budgets).
	Turns   Turns
	MaxBody int64
	HTTP    *http.Client
	Logger  *slog.Logger
	Now     func() time.Time // the clock; time.Now by default
	// Sleep waits d or until ctx ends; backoff.Sleep by default (tests
	// record the waits instead).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Env reads the configuration from BANKBRIDGE_TELEGRAM_BOT_TOKEN,
// _SECRET_TOKEN, _BOT_USERNAME and _API_URL through getenv; the channel is
// configured when the bot token is set.
func Env(getenv func(string) string) Config {
	return Config{
		BotToken:    getenv("BANKBRIDGE_TELEGRAM_BOT_TOKEN"),
		SecretToken: getenv("BANKBRIDGE_TELEGRAM_SECRET_TOKEN"),
		BotUsername: getenv("BANKBRIDGE_TELEGRAM_BOT_USERNAME"),
		APIURL:      getenv("BANKBRIDGE_TELEGRAM_API_URL"),
	}
}

// RedeliveryWindow is how long Telegram holds an update it could not
// deliver: "they will not be kept longer than 24 hours" (Bot API,
// https://core.telegram.org/bots/api#getting-updates). A message dated
// earlier can only be a replay.
const RedeliveryWindow = 24 * time.Hour

// Adapter is the Telegram channel.
type Adapter struct {
	c    Config
	hub  *channels.Hub
	pace *pacer
	key  []byte // signs link tickets and states (linkKey)

	mu  sync.Mutex
	bot string // the bot's username, from Config or getMe
}

var (
	_ channels.Channel   = (*Adapter)(nil)
	_ channels.Processor = (*Adapter)(nil)
)

// New returns the adapter; add it to hub with hub.Add(adapter, nil).
func New(c Config, hub *channels.Hub) (*Adapter, error) {
	if c.BotToken == "" || c.SecretToken == "" || c.BankURL == "" {
		return nil, fmt.Errorf("telegram: bot token, secret token and the bank's URL are required")
	}
	// setWebhook: secret_token is "1-256 characters. Only characters A-Z,
	// a-z, 0-9, _ and - are allowed"
	// (https://core.telegram.org/bots/api#setwebhook).
	if !validSecret(c.SecretToken) {
		return nil, fmt.Errorf("telegram: the secret token must be 1-256 of A-Z a-z 0-9 _ -")
	}
	c.BankURL = strings.TrimSuffix(c.BankURL, "/")
	if c.DeepLinkURL == "" {
		c.DeepLinkURL = "https://t.me"
	}
	c.DeepLinkURL = strings.TrimSuffix(c.DeepLinkURL, "/")
	if c.MaxWait <= 0 {
		c.MaxWait = 10 * time.Second
	}
	if c.Sleep == nil {
		c.Sleep = backoff.Sleep
	}
	if c.APIURL == "" {
		c.APIURL = "https://api.telegram.org"
	}
	c.APIURL = strings.TrimSuffix(c.APIURL, "/")
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
	return &Adapter{c: c, hub: hub, pace: newPacer(c.Turns, c.Now), key: linkKey(c.SecretToken, c.BotToken), bot: c.BotUsername}, nil
}

func validSecret(s string) bool {
	if len(s) < 1 || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Platform implements channels.Channel.
func (a *Adapter) Platform() string { return Platform }

// Handler serves the webhook (PathWebhook) and account linking (PathLink,
// PathLinked).
func (a *Adapter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathWebhook, a.webhook)
	mux.HandleFunc("GET "+PathLink, a.link)
	mux.HandleFunc("GET "+PathLinked, a.linked)
	return mux
}

// Update is the part of a Bot API Update the bank reads.
type Update struct {
	UpdateID      int64          `json:"update_id"`
	Message       *Message       `json:"message,omitempty"`
	CallbackQuery *CallbackQuery `json:"callback_query,omitempty"`
}

// Message is a Bot API message.
type Message struct {
	MessageID int64  `json:"message_id"`
	From      *User  `json:"from,omitempty"`
	Chat      Chat   `json:"chat"`
	Date      int64  `json:"date"`
	Text      string `json:"text,omitempty"`
}

// User is a Telegram user.
type User struct {
	ID    int64 `json:"id"`
	IsBot bool  `json:"is_bot"`
}

// Chat is a Telegram chat.
type Chat struct {
	ID   int64  `json:"id"`
	Type string `json:"type"`
}

// CallbackQuery is a tap on an inline keyboard button.
type CallbackQuery struct {
	ID      string   `json:"id"`
	From    User     `json:"from"`
	Message *Message `json:"message,omitempty"`
	Data    string   `json:"data"`
}

// webhook checks the secret token, reads the update and stores it in the
// hub's inbox (channels.Accept), keyed by its update_id, and only then
// answers 200: the reply comes from the inbox worker (Process), in order
// per chat, on any instance. Telegram resends an update it got no 2xx for
// ("In case of an unsuccessful request, we will give up after a
// reasonable amount of attempts", https://core.telegram.org/bots/api#setwebhook),
// so an update that could not be stored is answered 503; a redelivered
// one is stored once (the inbox keeps one event per update_id).
func (a *Adapter) webhook(w http.ResponseWriter, r *http.Request) {
	got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
	if subtle.ConstantTimeCompare([]byte(got), []byte(a.c.SecretToken)) != 1 {
		a.c.Logger.Warn("telegram: webhook without the secret token refused")
		http.Error(w, "forbidden", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.c.MaxBody))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	var u Update
	if err := json.Unmarshal(body, &u); err != nil || u.UpdateID == 0 {
		http.Error(w, "not an update", http.StatusBadRequest)
		return
	}
	if ev, ok := a.inboxEvent(u); ok {
		if err := a.hub.Accept(r.Context(), Platform, []channels.InboxEvent{ev}); err != nil {
			a.c.Logger.Error("telegram: update not stored", "err", err)
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// inboxEvent makes the inbox's record of an update: its conversation (the
// chat) and its id (the update_id). Updates the bank does not answer
// (groups, bots, other kinds) and messages outside the redelivery window
// (a replay) are dropped; the webhook still answers 200 for them.
func (a *Adapter) inboxEvent(u Update) (channels.InboxEvent, bool) {
	var chat int64
	switch {
	case u.Message != nil && u.Message.Chat.Type == "private" && (u.Message.From == nil || !u.Message.From.IsBot):
		at := time.Unix(u.Message.Date, 0).UTC()
		if !channels.Fresh(at, a.c.Now(), RedeliveryWindow) {
			a.c.Logger.Warn("telegram: message outside the redelivery window dropped", "at", at)
			return channels.InboxEvent{}, false
		}
		chat = u.Message.Chat.ID
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil:
		// A callback query carries no date of its own (its message's date
		// is when the button was sent, which may be days before the tap):
		// only its update id guards it.
		chat = u.CallbackQuery.Message.Chat.ID
	default:
		return channels.InboxEvent{}, false
	}
	// Only what Process reads is kept: the update as the bank parsed it.
	body, _ := json.Marshal(u)
	return channels.InboxEvent{Conversation: strconv.FormatInt(chat, 10), EventID: "update:" + strconv.FormatInt(u.UpdateID, 10),
		Body: body, Received: a.c.Now().UTC()}, true
}

// Process implements channels.Processor: one stored update, handled as it
// came. An error (the hub could not record it) leaves it for a retry.
func (a *Adapter) Process(ctx context.Context, ev channels.InboxEvent) error {
	var u Update
	if err := json.Unmarshal(ev.Body, &u); err != nil {
		a.c.Logger.Error("telegram: stored update unreadable; dropped", "event", ev.EventID, "err", err)
		return nil
	}
	id := ev.EventID
	switch {
	case u.Message != nil:
		at := time.Unix(u.Message.Date, 0).UTC()
		k := assistant.Key{Platform: Platform, User: strconv.FormatInt(u.Message.Chat.ID, 10)}
		text := u.Message.Text
		if code, ok := startPayload(text); ok && len(code) == codeLen {
			return a.hub.Once(ctx, Platform, id, func(ctx context.Context) error { return a.completeLink(ctx, u.Message.Chat.ID, code) })
		} else if ok || text == "/start" {
			text = "hello" // the chat opened without a link code (the bot's own page, another deep link)
		}
		if text == "" {
			text = "(an attachment)"
		}
		return a.hub.Deliver(ctx, Platform, id, assistant.Inbound{Key: k, Text: text, At: at})
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil:
		q := u.CallbackQuery
		k := assistant.Key{Platform: Platform, User: strconv.FormatInt(q.Message.Chat.ID, 10)}
		a.answerCallback(ctx, q.ID)
		return a.hub.Deliver(ctx, Platform, id, assistant.Inbound{Key: k, Text: "(tapped a button)", Payload: q.Data})
	}
	return nil
}

// InlineButton is an inline keyboard button.
type InlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

// SendMessage is the sendMessage request.
type SendMessage struct {
	ChatID      int64  `json:"chat_id"`
	Text        string `json:"text"`
	ReplyMarkup *struct {
		InlineKeyboard [][]InlineButton `json:"inline_keyboard"`
	} `json:"reply_markup,omitempty"`
}

// Send implements channels.Channel with sendMessage and an inline keyboard.
func (a *Adapter) Send(ctx context.Context, o channels.Outbound) error {
	chat, err := strconv.ParseInt(o.To, 10, 64)
	if err != nil {
		return channels.ErrNoChannel.WithMessage("not a Telegram chat id")
	}
	m := SendMessage{ChatID: chat, Text: o.Reply.Text}
	var rows [][]InlineButton
	for _, b := range o.Reply.Buttons {
		switch b.Kind {
		case assistant.ButtonURL:
			rows = append(rows, []InlineButton{{Text: b.Title, URL: b.URL}})
		case assistant.ButtonPostback:
			if len(b.Payload) <= 64 {
				rows = append(rows, []InlineButton{{Text: b.Title, CallbackData: b.Payload}})
			}
		case assistant.ButtonLinkAccount:
			rows = append(rows, []InlineButton{{Text: cmp.Or(b.Title, "Link your account"), URL: a.LinkURL(chat)}})
		}
	}
	var row []InlineButton
	for _, c := range o.Reply.Choices {
		if len(c.Payload) > 64 { // the Bot API's limit on callback_data
			continue
		}
		row = append(row, InlineButton{Text: c.Title, CallbackData: c.Payload})
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	if len(rows) > 0 {
		m.ReplyMarkup = &struct {
			InlineKeyboard [][]InlineButton `json:"inline_keyboard"`
		}{rows}
	}
	if r := []rune(m.Text); len(r) > 4096 {
		m.Text = string(r[:4095]) + "…"
	}
	body, _ := json.Marshal(m)
	return a.call(ctx, "sendMessage", body, chat)
}

// Unlinked implements channels.Channel: Telegram has nothing to tell.
func (a *Adapter) Unlinked(ctx context.Context, user string) error { return nil }

func (a *Adapter) answerCallback(ctx context.Context, id string) {
	body, _ := json.Marshal(map[string]string{"callback_query_id": id})
	if err := a.call(ctx, "answerCallbackQuery", body, 0); err != nil {
		a.c.Logger.Warn("telegram: answerCallbackQuery", "err", err)
	}
}

// ErrSend reports a message the Bot API refused.
var ErrSend = bankbridge.E(bankbridge.Unavailable, "chat_send_failed", "the messaging platform did not accept the message")

// call posts to a Bot API method. A message (chat not 0) first waits for
// its turn within the send limits (pace.go). A 429 is retried after
// exactly its parameters.retry_after, never earlier, and only when that
// is within MaxWait; otherwise ErrThrottled, and the chat stays paused
// until then for every later call. Server errors and network failures are
// retried with exponential backoff; everything is bounded by Attempts.
func (a *Adapter) call(ctx context.Context, method string, body []byte, chat int64) error {
	_, err := a.callResult(ctx, method, body, chat)
	return err
}

func (a *Adapter) callResult(ctx context.Context, method string, body []byte, chat int64) (json.RawMessage, error) {
	u := a.c.APIURL + "/bot" + a.c.BotToken + "/" + method
	var last error
	for attempt := 0; attempt < a.c.Attempts; attempt++ {
		wait := time.Duration(0)
		var give func()
		if chat != 0 {
			w, g, err := a.pace.turn(ctx, chat, a.c.MaxWait)
			if err != nil {
				return nil, err
			}
			wait, give = w, g
		} else {
			wait = a.pace.flood(0)
			if wait > a.c.MaxWait {
				return nil, ErrThrottled
			}
		}
		if attempt > 0 && last != nil && wait == 0 && !errors.Is(last, errFlood) {
			wait = backoff.Policy{Base: a.c.Backoff, Max: 5 * time.Second}.Delay(attempt)
		}
		if err := a.c.Sleep(ctx, wait); err != nil {
			if give != nil {
				give()
			}
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := a.c.HTTP.Do(req)
		if err != nil {
			last = fmt.Errorf("telegram %s: %w", method, errorsWithoutToken(err, a.c.BotToken))
			continue
		}
		var out struct {
			OK          bool            `json:"ok"`
			Result      json.RawMessage `json:"result"`
			Description string          `json:"description"`
			Parameters  struct {
				RetryAfter int `json:"retry_after"`
			} `json:"parameters"`
		}
		json.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(&out)
		res.Body.Close()
		if res.StatusCode == http.StatusOK && out.OK {
			return out.Result, nil
		}
		last = fmt.Errorf("telegram %s: %d %s", method, res.StatusCode, out.Description)
		switch {
		case res.StatusCode == http.StatusTooManyRequests:
			// "retry_after: In case of exceeding flood control, the number
			// of seconds left to wait before the request can be repeated"
			// (https://core.telegram.org/bots/api#responseparameters): the
			// next attempt waits exactly that (pace.turn reads it back);
			// none is made early.
			ra := time.Duration(max(out.Parameters.RetryAfter, 1)) * time.Second
			a.pace.flooded(chat, ra)
			if ra > a.c.MaxWait {
				return nil, ErrThrottled.WithOp("telegram."+method, last)
			}
			last = fmt.Errorf("%w: %w", errFlood, last)
		case res.StatusCode >= 500:
		default:
			return nil, ErrSend.WithOp("telegram."+method, last)
		}
	}
	return nil, ErrSend.WithOp("telegram."+method, last)
}

// errFlood marks a 429 among the attempts' errors: its retry waits
// retry_after, not the backoff.
var errFlood = errors.New("flood control")

// errorsWithoutToken keeps the bot token, which is in the URL, out of
// errors and logs.
func errorsWithoutToken(err error, token string) error {
	return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), token, "[token]"))
}

func outbound(user string, r assistant.Reply) channels.Outbound {
	return channels.Outbound{To: user, Reply: r, Purpose: channels.Response}
}
