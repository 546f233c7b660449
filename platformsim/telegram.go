package platformsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"
)

// TelegramOptions configure a TelegramSim. BotToken is required; BaseURL
// is the sim's public URL including Prefix ("http://localhost:8080/sim/telegram").
type TelegramOptions struct {
	Prefix      string
	BaseURL     string
	BotToken    string
	BotUsername string // default "bankbridge_demo_bot"
	HTTP        *http.Client
	Logger      *slog.Logger
	Now         func() time.Time
}

// TelegramSim emulates the Telegram Bot API for one bot, as strictly as
// the platform: the bot token in the path, setWebhook's rules, updates
// posted to the webhook with the secret token, sendMessage's limits and
// flood control answered with 429 and retry_after, answerCallbackQuery,
// and t.me deep links that start the bot with a payload. A chat page per
// simulated person (no script) stands in for the Telegram app.
type TelegramSim struct {
	o TelegramOptions

	mu       sync.Mutex
	webhook  string
	secret   string
	allowed  []string
	nextID   int64 // update ids, and chat ids from 1e9
	nextMsg  int64
	chats    map[string]*TelegramChat // by name
	byID     map[int64]*TelegramChat
	queries  map[string]bool // callback query id -> answered
	global   *rate.Limiter
	perChat  map[int64]*rate.Limiter
	flood    map[int64]time.Time // chat -> no call before (after a 429)
	early    int                 // calls made before their retry_after passed
	limited  int                 // 429s answered
	failNext int
	grown    grown // the bot wrote (WaitReply)
}

// TelegramChat is a simulated person's private chat with the bot.
type TelegramChat struct {
	Name    string
	ID      int64
	Started bool // the person pressed Start: the bot may write to them
	Lines   []TelegramLine
}

// TelegramLine is one message in a chat.
type TelegramLine struct {
	At      time.Time
	FromBot bool
	ID      int64
	Text    string
	Buttons [][]TelegramButton
	Note    bool
}

// TelegramButton is an inline keyboard button.
type TelegramButton struct {
	Text         string `json:"text"`
	URL          string `json:"url,omitempty"`
	CallbackData string `json:"callback_data,omitempty"`
}

// The emulated limits (Bot FAQ, "My bot is hitting limits",
// https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
// about one message a second in a chat, with short bursts allowed, and
// about 30 a second for the bot.
const (
	telegramChatRate  = 1
	telegramChatBurst = 3
	telegramBotRate   = 30
)

// NewTelegram returns a TelegramSim.
func NewTelegram(o TelegramOptions) *TelegramSim {
	o.Prefix = strings.TrimSuffix(o.Prefix, "/")
	o.BaseURL = strings.TrimSuffix(o.BaseURL, "/")
	if o.BotUsername == "" {
		o.BotUsername = "bankbridge_demo_bot"
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
	return &TelegramSim{o: o, nextID: 100, nextMsg: 1, chats: map[string]*TelegramChat{}, byID: map[int64]*TelegramChat{},
		queries: map[string]bool{}, global: rate.NewLimiter(telegramBotRate, telegramBotRate),
		perChat: map[int64]*rate.Limiter{}, flood: map[int64]time.Time{}}
}

// APIURL is the Bot API base the bank's adapter should use (its
// BANKBRIDGE_TELEGRAM_API_URL).
func (s *TelegramSim) APIURL() string { return s.o.BaseURL }

// DeepLinkURL is the sim's t.me.
func (s *TelegramSim) DeepLinkURL() string { return s.o.BaseURL + "/t.me" }

// ChatURL is the chat page of a person.
func (s *TelegramSim) ChatURL(name string) string {
	return s.o.BaseURL + "/chat/" + url.PathEscape(name)
}

// Webhook returns the webhook URL and secret token the bot set.
func (s *TelegramSim) Webhook() (string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook, s.secret
}

// Stats returns how many 429s the sim answered and how many calls came
// before the retry_after of an earlier 429 had passed.
func (s *TelegramSim) Stats() (limited, early int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limited, s.early
}

// FailNext makes the next n Bot API calls answer 500.
func (s *TelegramSim) FailNext(n int) {
	s.mu.Lock()
	s.failNext = n
	s.mu.Unlock()
}

// Chat returns a copy of a person's chat.
func (s *TelegramSim) Chat(name string) TelegramChat {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *s.chat(name)
	c.Lines = slices.Clone(c.Lines)
	return c
}

// chat returns the chat of name, creating it. s.mu held.
func (s *TelegramSim) chat(name string) *TelegramChat {
	c, ok := s.chats[name]
	if !ok {
		s.nextID++
		c = &TelegramChat{Name: name, ID: 1_000_000_000 + s.nextID}
		s.chats[name] = c
		s.byID[c.ID] = c
	}
	return c
}

// Handler serves the Bot API (/bot<token>/<method>), t.me deep links and
// the chat pages under Prefix.
func (s *TelegramSim) Handler() http.Handler {
	p := s.o.Prefix
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+p+"/chat/{name}", s.chatPage)
	mux.HandleFunc("POST "+p+"/chat/{name}/say", s.form(func(ctx context.Context, name string, f url.Values) error { return s.Say(ctx, name, f.Get("text")) }))
	mux.HandleFunc("POST "+p+"/chat/{name}/tap", s.form(func(ctx context.Context, name string, f url.Values) error {
		id, _ := strconv.ParseInt(f.Get("message"), 10, 64)
		return s.Tap(ctx, name, id, f.Get("data"))
	}))
	mux.HandleFunc("GET "+p+"/t.me/{bot}", s.deepLink)
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, p+"/bot"); ok {
			s.botAPI(w, r, rest)
			return
		}
		w.Header().Set("Content-Security-Policy", "default-src 'self'; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		cop.Handler(mux).ServeHTTP(w, r)
	})
}

// apiError is the Bot API's error shape: {"ok":false,"error_code":...,
// "description":...} (https://core.telegram.org/bots/api#making-requests).
func apiError(w http.ResponseWriter, code int, desc string, retryAfter int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	out := map[string]any{"ok": false, "error_code": code, "description": desc}
	if retryAfter > 0 {
		out["parameters"] = map[string]int{"retry_after": retryAfter}
	}
	json.NewEncoder(w).Encode(out)
}

func apiOK(w http.ResponseWriter, result any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}

// botAPI serves https://api.telegram.org/bot<token>/METHOD: the token is
// checked first ("Unauthorized"), then the method ("Not Found"). Requests
// are JSON (application/json) as the bank sends them.
func (s *TelegramSim) botAPI(w http.ResponseWriter, r *http.Request, rest string) {
	token, method, ok := strings.Cut(rest, "/")
	if !ok || token != s.o.BotToken {
		apiError(w, http.StatusUnauthorized, "Unauthorized", 0)
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		apiError(w, http.StatusMethodNotAllowed, "Method Not Allowed", 0)
		return
	}
	var body map[string]json.RawMessage
	if b, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20)); len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &body); err != nil {
			apiError(w, http.StatusBadRequest, "Bad Request: can't parse JSON object", 0)
			return
		}
	}
	s.mu.Lock()
	if s.failNext > 0 {
		s.failNext--
		s.mu.Unlock()
		apiError(w, http.StatusInternalServerError, "Internal Server Error", 0)
		return
	}
	s.mu.Unlock()
	switch method {
	case "getMe":
		apiOK(w, map[string]any{"id": 1, "is_bot": true, "first_name": "Bank", "username": s.o.BotUsername})
	case "setWebhook":
		s.setWebhook(w, body)
	case "getWebhookInfo":
		u, _ := s.Webhook()
		apiOK(w, map[string]any{"url": u, "has_custom_certificate": false, "pending_update_count": 0})
	case "deleteWebhook":
		s.mu.Lock()
		s.webhook, s.secret = "", ""
		s.mu.Unlock()
		apiOK(w, true)
	case "sendMessage":
		s.sendMessage(w, body)
	case "answerCallbackQuery":
		var id string
		json.Unmarshal(body["callback_query_id"], &id)
		s.mu.Lock()
		answered, known := s.queries[id]
		if known && !answered {
			s.queries[id] = true
		}
		s.mu.Unlock()
		if !known || answered {
			apiError(w, http.StatusBadRequest, "Bad Request: query is too old and response timeout expired or query ID is invalid", 0)
			return
		}
		apiOK(w, true)
	default:
		apiError(w, http.StatusNotFound, "Not Found", 0)
	}
}

// setWebhook checks what https://core.telegram.org/bots/api#setwebhook
// requires: an HTTPS URL on port 443, 80, 88 or 8443 ("Ports currently
// supported for webhooks"), and a secret_token of 1-256 of A-Z a-z 0-9 _ -.
// The sim's one allowance: plain http to a loopback address, so that the
// demo runs on one machine without certificates.
func (s *TelegramSim) setWebhook(w http.ResponseWriter, body map[string]json.RawMessage) {
	var raw, secret string
	var allowed []string
	json.Unmarshal(body["url"], &raw)
	json.Unmarshal(body["secret_token"], &secret)
	json.Unmarshal(body["allowed_updates"], &allowed)
	u, err := url.Parse(raw)
	if raw == "" || err != nil || u.Host == "" {
		apiError(w, http.StatusBadRequest, "Bad Request: bad webhook: Failed to resolve host: Name or service not known", 0)
		return
	}
	loop := false
	if ip := net.ParseIP(u.Hostname()); (ip != nil && ip.IsLoopback()) || u.Hostname() == "localhost" {
		loop = true
	}
	if u.Scheme != "https" && !(loop && u.Scheme == "http") {
		apiError(w, http.StatusBadRequest, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook", 0)
		return
	}
	if port := u.Port(); !loop && port != "" && port != "443" && port != "80" && port != "88" && port != "8443" {
		apiError(w, http.StatusBadRequest, "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443", 0)
		return
	}
	if _, ok := body["secret_token"]; ok && !telegramSecretOK(secret) {
		apiError(w, http.StatusBadRequest, "Bad Request: secret token contains unallowed characters", 0)
		return
	}
	s.mu.Lock()
	s.webhook, s.secret, s.allowed = raw, secret, allowed
	s.mu.Unlock()
	apiOK(w, true)
}

func telegramSecretOK(s string) bool {
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

// sendMessage checks the request as the Bot API does
// (https://core.telegram.org/bots/api#sendmessage: text of 1-4096
// characters; InlineKeyboardButton: exactly one of url, callback_data of
// 1-64 bytes, ...) and flood control, then shows the message in the chat.
func (s *TelegramSim) sendMessage(w http.ResponseWriter, body map[string]json.RawMessage) {
	var chatID int64
	var text string
	if err := json.Unmarshal(body["chat_id"], &chatID); err != nil || chatID == 0 {
		apiError(w, http.StatusBadRequest, "Bad Request: chat_id is empty", 0)
		return
	}
	json.Unmarshal(body["text"], &text)
	var markup struct {
		InlineKeyboard [][]TelegramButton `json:"inline_keyboard"`
	}
	if m, ok := body["reply_markup"]; ok {
		if err := json.Unmarshal(m, &markup); err != nil {
			apiError(w, http.StatusBadRequest, "Bad Request: can't parse reply keyboard markup JSON object", 0)
			return
		}
	}
	switch n := utf8.RuneCountInString(strings.TrimSpace(text)); {
	case n == 0:
		apiError(w, http.StatusBadRequest, "Bad Request: message text is empty", 0)
		return
	case utf8.RuneCountInString(text) > 4096:
		apiError(w, http.StatusBadRequest, "Bad Request: message is too long", 0)
		return
	}
	for _, row := range markup.InlineKeyboard {
		for _, b := range row {
			switch {
			case b.Text == "":
				apiError(w, http.StatusBadRequest, "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard", 0)
				return
			case (b.URL == "") == (b.CallbackData == ""):
				apiError(w, http.StatusBadRequest, "Bad Request: can't parse inline keyboard button: exactly one of the optional fields must be used", 0)
				return
			case b.CallbackData != "" && len(b.CallbackData) > 64:
				apiError(w, http.StatusBadRequest, "Bad Request: BUTTON_DATA_INVALID", 0)
				return
			case b.URL != "" && !telegramURLOK(b.URL):
				apiError(w, http.StatusBadRequest, "Bad Request: BUTTON_URL_INVALID", 0)
				return
			}
		}
	}
	now := s.o.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byID[chatID]
	if !ok {
		apiError(w, http.StatusBadRequest, "Bad Request: chat not found", 0)
		return
	}
	if !c.Started {
		// A bot cannot write first: "Forbidden: bot can't initiate
		// conversation with a user".
		apiError(w, http.StatusForbidden, "Forbidden: bot can't initiate conversation with a user", 0)
		return
	}
	if t, ok := s.flood[chatID]; ok && now.Before(t) {
		s.early++
		s.limited++
		apiError(w, http.StatusTooManyRequests, fmt.Sprintf("Too Many Requests: retry after %d", secondsUp(t.Sub(now))), secondsUp(t.Sub(now)))
		return
	}
	cl := s.perChat[chatID]
	if cl == nil {
		cl = rate.NewLimiter(telegramChatRate, telegramChatBurst)
		s.perChat[chatID] = cl
	}
	rc, rg := cl.ReserveN(now, 1), s.global.ReserveN(now, 1)
	if d := max(rc.DelayFrom(now), rg.DelayFrom(now)); d > 0 {
		rc.CancelAt(now)
		rg.CancelAt(now)
		ra := secondsUp(d)
		s.flood[chatID] = now.Add(time.Duration(ra) * time.Second)
		s.limited++
		apiError(w, http.StatusTooManyRequests, fmt.Sprintf("Too Many Requests: retry after %d", ra), ra)
		return
	}
	s.nextMsg++
	c.Lines = append(c.Lines, TelegramLine{At: now, FromBot: true, ID: s.nextMsg, Text: text, Buttons: markup.InlineKeyboard})
	s.grown.grew()
	apiOK(w, map[string]any{"message_id": s.nextMsg, "date": now.Unix(), "chat": map[string]any{"id": chatID, "type": "private"}, "text": text})
}

func secondsUp(d time.Duration) int { return max(1, int(math.Ceil(d.Seconds()))) }

// telegramURLOK: button URLs are HTTP(S) or tg:// links.
func telegramURLOK(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "tg" || ((u.Scheme == "https" || u.Scheme == "http") && u.Host != ""))
}

// Say is the person sending text: an update with a message goes to the
// webhook. The first message starts the chat, as pressing Start does.
func (s *TelegramSim) Say(ctx context.Context, name, text string) error {
	s.mu.Lock()
	c := s.chat(name)
	c.Started = true
	s.nextMsg++
	now := s.o.Now()
	c.Lines = append(c.Lines, TelegramLine{At: now, ID: s.nextMsg, Text: text})
	s.nextID++
	u := map[string]any{"update_id": s.nextID, "message": map[string]any{"message_id": s.nextMsg, "date": now.Unix(),
		"from": map[string]any{"id": c.ID, "is_bot": false, "first_name": name},
		"chat": map[string]any{"id": c.ID, "type": "private"}, "text": text}}
	s.mu.Unlock()
	return s.deliver(ctx, "message", u)
}

// Tap is the person tapping a callback button of the bot's message id.
func (s *TelegramSim) Tap(ctx context.Context, name string, message int64, data string) error {
	s.mu.Lock()
	c := s.chat(name)
	var found *TelegramLine
	for i := range c.Lines {
		if c.Lines[i].FromBot && c.Lines[i].ID == message {
			found = &c.Lines[i]
		}
	}
	ok := false
	if found != nil {
		for _, row := range found.Buttons {
			for _, b := range row {
				ok = ok || (b.CallbackData != "" && b.CallbackData == data)
			}
		}
	}
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("platformsim: no such button")
	}
	s.nextID++
	qid := strconv.FormatInt(s.nextID*7919, 10)
	s.queries[qid] = false
	u := map[string]any{"update_id": s.nextID, "callback_query": map[string]any{"id": qid, "data": data, "chat_instance": "1",
		"from":    map[string]any{"id": c.ID, "is_bot": false, "first_name": name},
		"message": map[string]any{"message_id": message, "date": found.At.Unix(), "chat": map[string]any{"id": c.ID, "type": "private"}, "text": found.Text}}}
	s.mu.Unlock()
	return s.deliver(ctx, "callback_query", u)
}

// deliver posts an update to the webhook with the secret token header, as
// "X-Telegram-Bot-Api-Secret-Token" (setWebhook), retrying a few times
// when the bank does not answer 2xx (Bot API: "In case of an unsuccessful
// request, we will give up after a reasonable amount of attempts").
func (s *TelegramSim) deliver(ctx context.Context, kind string, update map[string]any) error {
	s.mu.Lock()
	hook, secret, allowed := s.webhook, s.secret, s.allowed
	s.mu.Unlock()
	if hook == "" {
		return fmt.Errorf("platformsim: the bot set no webhook (setWebhook)")
	}
	if len(allowed) > 0 && !slices.Contains(allowed, kind) {
		return nil // the bot asked not to receive these
	}
	body, _ := json.Marshal(update)
	var last error
	for attempt := range 3 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		res, err := s.o.HTTP.Do(req)
		if err != nil {
			last = err
			continue
		}
		io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
		if res.StatusCode/100 == 2 {
			return nil
		}
		last = fmt.Errorf("webhook answered %s", res.Status)
	}
	return last
}

// deepLink is t.me/<bot>?start=<payload>: it opens the chat of the person
// using this browser (the cookie set by their chat page) and, with a
// payload, sends "/start <payload>" as pressing Start does
// (https://core.telegram.org/bots/features#deep-linking: 1-64 of A-Z a-z
// 0-9 _ -).
func (s *TelegramSim) deepLink(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("bot") != s.o.BotUsername {
		http.Error(w, "no such bot", http.StatusNotFound)
		return
	}
	ck, err := r.Cookie("tg_user")
	if err != nil || ck.Value == "" {
		http.Error(w, "open a chat page first: it is who you are in this emulator", http.StatusBadRequest)
		return
	}
	name, err := url.PathUnescape(ck.Value)
	if err != nil {
		http.Error(w, "bad cookie", http.StatusBadRequest)
		return
	}
	q := r.URL.Query()
	if q.Has("start") {
		p := q.Get("start")
		if !telegramPayloadOK(p) {
			http.Error(w, "bad start parameter", http.StatusBadRequest)
			return
		}
		before := len(s.Chat(name).Lines)
		if err := s.Say(r.Context(), name, "/start "+p); err != nil {
			s.o.Logger.Warn("platformsim telegram: webhook", "err", err)
		} else {
			wctx, cancel := context.WithTimeout(r.Context(), replyWait)
			s.WaitReply(wctx, name, before)
			cancel()
		}
	}
	http.Redirect(w, r, s.o.Prefix+"/chat/"+url.PathEscape(name)+"#end", http.StatusSeeOther)
}

func telegramPayloadOK(p string) bool {
	if len(p) < 1 || len(p) > 64 {
		return false
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func (s *TelegramSim) form(fn func(ctx context.Context, name string, f url.Values) error) http.HandlerFunc {
	return chatForm(s.o.Prefix, s, true, fn)
}

func (s *TelegramSim) lineCount(name string) int { return len(s.Chat(name).Lines) }

func (s *TelegramSim) failed(name string, err error) {
	s.mu.Lock()
	c := s.chat(name)
	c.Lines = append(c.Lines, TelegramLine{At: s.o.Now(), Note: true, Text: "Not delivered: " + err.Error()})
	s.mu.Unlock()
}

var telegramPage = template.Must(template.New("chat").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Name}} - Telegram (emulator)</title></head>
<body><main>
<h1>Telegram: chat with @{{.Bot}}</h1>
<p>You are <strong>{{.Name}}</strong>. This page stands in for the Telegram app.</p>
<ol class="chat">
{{range .Lines}}<li class="{{if .FromBot}}bot{{else if .Note}}note{{else}}me{{end}}">{{if .FromBot}}<strong>Bot:</strong> {{end}}<span class="text">{{.Text}}</span>
{{$id := .ID}}{{range .Buttons}}<div class="row">{{range .}}{{if .URL}}<a class="button" href="{{.URL}}">{{.Text}}</a>{{else}}<form method="post" action="{{$.Prefix}}/chat/{{$.Name}}/tap"><input type="hidden" name="message" value="{{$id}}"><input type="hidden" name="data" value="{{.CallbackData}}"><button>{{.Text}}</button></form>{{end}} {{end}}</div>{{end}}</li>
{{end}}</ol>
<form id="end" method="post" action="{{.Prefix}}/chat/{{.Name}}/say"><label>Message <input name="text" autocomplete="off" required autofocus></label> <button>Send</button></form>
</main></body></html>`))

// chatPage shows a person's chat and remembers, in a cookie, that this
// browser is that person (t.me links open their chat).
func (s *TelegramSim) chatPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	c := s.Chat(name)
	http.SetCookie(w, &http.Cookie{Name: "tg_user", Value: url.PathEscape(name), Path: s.o.Prefix + "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	telegramPage.Execute(w, map[string]any{"Name": c.Name, "Bot": s.o.BotUsername, "Lines": c.Lines, "Prefix": s.o.Prefix})
}
