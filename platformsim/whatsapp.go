package platformsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"log/slog"
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

// WhatsAppTemplate is a message template of the business account, as
// WhatsApp Manager holds it: its language, category, status (only APPROVED
// may be sent; PAUSED and DISABLED are refused with their own codes) and
// the number of body parameters it takes.
type WhatsAppTemplate struct {
	Language   string
	Category   string // UTILITY, MARKETING, AUTHENTICATION
	Status     string // APPROVED, PENDING, REJECTED, PAUSED, DISABLED
	BodyParams int
}

// WhatsAppOptions configure a WhatsAppSim. AccessToken, AppSecret,
// VerifyToken and WebhookURL are required; BaseURL is the sim's public URL
// including Prefix.
type WhatsAppOptions struct {
	Prefix        string
	BaseURL       string
	WebhookURL    string // the bank's webhook, as configured in the app dashboard
	AccessToken   string
	AppSecret     string
	VerifyToken   string
	PhoneNumberID string // default "106540352242922"
	DisplayPhone  string // default "15550783881"
	// Templates by name; default: the bank's "account_alert" (en_US,
	// UTILITY, APPROVED, one body parameter).
	Templates map[string]WhatsAppTemplate
	HTTP      *http.Client
	Logger    *slog.Logger
	Now       func() time.Time
}

// WhatsAppSim emulates the WhatsApp Cloud API for one business phone
// number, as strictly as the platform: the bearer token, the phone number
// id, the message shapes and their limits, the 24-hour customer service
// window (free-form outside it refused with 131047), templates (missing or
// not approved: 132001; paused: 132015; disabled: 132016; wrong parameter
// count: 132000), throughput (130429), the webhook verification request
// and notifications signed with X-Hub-Signature-256, and click-to-chat
// links. A chat page per simulated person (no script) stands in for the
// WhatsApp app.
type WhatsAppSim struct {
	o WhatsAppOptions

	mu       sync.Mutex
	verified bool
	chats    map[string]*WhatsAppChat // by name
	byWaID   map[string]*WhatsAppChat
	nextWaID int64
	seq      int64
	lim      *rate.Limiter
	refused  map[int]int // Meta error code -> times answered
	grown    grown       // the bank wrote (WaitReply)
}

// WhatsAppChat is a simulated person's chat with the business.
type WhatsAppChat struct {
	Name   string
	WaID   string
	LastIn time.Time
	Lines  []WhatsAppLine
}

// WhatsAppLine is one message in a chat.
type WhatsAppLine struct {
	At       time.Time
	FromBank bool
	ID       string
	Text     string
	Template string          // the template's name, for a template message
	Buttons  []WhatsAppReply // reply buttons or list rows
	List     string          // the list's button label, for a list
	CTA      *WhatsAppCTA
	Note     bool
}

// WhatsAppReply is a reply button or a list row.
type WhatsAppReply struct{ ID, Title string }

// WhatsAppCTA is a call-to-action URL button.
type WhatsAppCTA struct{ Text, URL string }

// NewWhatsApp returns a WhatsAppSim.
func NewWhatsApp(o WhatsAppOptions) *WhatsAppSim {
	o.Prefix = strings.TrimSuffix(o.Prefix, "/")
	o.BaseURL = strings.TrimSuffix(o.BaseURL, "/")
	if o.PhoneNumberID == "" {
		o.PhoneNumberID = "106540352242922"
	}
	if o.DisplayPhone == "" {
		o.DisplayPhone = "15550783881"
	}
	if o.Templates == nil {
		o.Templates = map[string]WhatsAppTemplate{"account_alert": {Language: "en_US", Category: "UTILITY", Status: "APPROVED", BodyParams: 1}}
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
	return &WhatsAppSim{o: o, chats: map[string]*WhatsAppChat{}, byWaID: map[string]*WhatsAppChat{}, nextWaID: 15550100000,
		lim: rate.NewLimiter(80, 80), refused: map[int]int{}}
}

// GraphURL is the Graph API base the bank should use, without a version:
// the bank adds one (it is served while Meta serves it, graphVersions).
func (s *WhatsAppSim) GraphURL() string { return s.o.BaseURL + "/graph" }

// ClickToChatURL is the sim's wa.me.
func (s *WhatsAppSim) ClickToChatURL() string { return s.o.BaseURL + "/wa.me" }

// PhoneNumberID is the business number's id; DisplayPhone its digits.
func (s *WhatsAppSim) PhoneNumberID() string { return s.o.PhoneNumberID }

// DisplayPhone is the business number in international digits.
func (s *WhatsAppSim) DisplayPhone() string { return s.o.DisplayPhone }

// ChatURL is a person's chat page.
func (s *WhatsAppSim) ChatURL(name string) string {
	return s.o.BaseURL + "/chat/" + url.PathEscape(name)
}

// Refused reports how many times the sim answered Meta's error code.
func (s *WhatsAppSim) Refused(code int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused[code]
}

// Chat returns a copy of a person's chat.
func (s *WhatsAppSim) Chat(name string) WhatsAppChat {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *s.chat(name)
	c.Lines = slices.Clone(c.Lines)
	return c
}

// SetLastIn moves when the person last wrote (to test the window).
func (s *WhatsAppSim) SetLastIn(name string, t time.Time) {
	s.mu.Lock()
	s.chat(name).LastIn = t
	s.mu.Unlock()
}

// chat returns name's chat, creating it. s.mu held.
func (s *WhatsAppSim) chat(name string) *WhatsAppChat {
	c, ok := s.chats[name]
	if !ok {
		s.nextWaID++
		c = &WhatsAppChat{Name: name, WaID: strconv.FormatInt(s.nextWaID, 10)}
		s.chats[name] = c
		s.byWaID[c.WaID] = c
	}
	return c
}

// Handler serves the Graph API, click-to-chat and the chat pages under Prefix.
func (s *WhatsAppSim) Handler() http.Handler {
	p := s.o.Prefix
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+p+"/graph/{version}/{id}/messages", s.messages)
	mux.HandleFunc("GET "+p+"/chat/{name}", s.chatPage)
	mux.HandleFunc("POST "+p+"/chat/{name}/say", s.form(func(ctx context.Context, name string, f url.Values) error { return s.Say(ctx, name, f.Get("text")) }))
	mux.HandleFunc("POST "+p+"/chat/{name}/reply", s.form(func(ctx context.Context, name string, f url.Values) error {
		return s.Reply(ctx, name, f.Get("kind"), f.Get("id"), f.Get("title"))
	}))
	mux.HandleFunc("GET "+p+"/wa.me/{phone}", s.clickToChat)
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, p+"/graph/") {
			mux.ServeHTTP(w, r) // server to server
			return
		}
		w.Header().Set("Content-Security-Policy", "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		cop.Handler(mux).ServeHTTP(w, r)
	})
}

// graphErr answers a Graph API error: {"error":{"message","type","code",
// "error_data":{"messaging_product","details"},"fbtrace_id"}}
// (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
func (s *WhatsAppSim) graphErr(w http.ResponseWriter, status, code int, msg, details string) {
	s.mu.Lock()
	s.refused[code]++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	e := map[string]any{"message": msg, "type": "OAuthException", "code": code, "fbtrace_id": "A" + randomID(8)}
	if details != "" {
		e["error_data"] = map[string]string{"messaging_product": "whatsapp", "details": details}
	}
	json.NewEncoder(w).Encode(map[string]any{"error": e})
}

type waMessage struct {
	MessagingProduct string `json:"messaging_product"`
	RecipientType    string `json:"recipient_type"`
	To               string `json:"to"`
	Type             string `json:"type"`
	Text             *struct {
		Body string `json:"body"`
	} `json:"text"`
	Interactive *struct {
		Type string `json:"type"`
		Body struct {
			Text string `json:"text"`
		} `json:"body"`
		Action struct {
			Buttons []struct {
				Type  string `json:"type"`
				Reply struct{ ID, Title string }
			} `json:"buttons"`
			Button   string `json:"button"`
			Sections []struct {
				Title string `json:"title"`
				Rows  []struct {
					ID, Title, Description string
				} `json:"rows"`
			} `json:"sections"`
			Name       string `json:"name"`
			Parameters *struct {
				DisplayText string `json:"display_text"`
				URL         string `json:"url"`
			} `json:"parameters"`
		} `json:"action"`
	} `json:"interactive"`
	Template *struct {
		Name     string `json:"name"`
		Language struct {
			Code string `json:"code"`
		} `json:"language"`
		Components []struct {
			Type       string `json:"type"`
			Parameters []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"parameters"`
		} `json:"components"`
	} `json:"template"`
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// messages is POST /{version}/{phone-number-id}/messages
// (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages).
func (s *WhatsAppSim) messages(w http.ResponseWriter, r *http.Request) {
	// A version Meta no longer serves, or never did, is refused as the
	// Graph API refuses it (versions.go): a bank pinned to an expired
	// version fails here first.
	if msg := versionRefusal(r.PathValue("version"), s.o.Now()); msg != "" {
		s.graphErr(w, 400, 2635, "(#2635) You are calling a deprecated version of the Graph API. "+msg, "")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.o.AccessToken {
		s.graphErr(w, 401, 190, "Invalid OAuth access token - Cannot parse access token", "")
		return
	}
	if id := r.PathValue("id"); id != s.o.PhoneNumberID {
		s.graphErr(w, 400, 100, fmt.Sprintf("Unsupported post request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", id), "")
		return
	}
	var m waMessage
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&m); err != nil {
		s.graphErr(w, 400, 100, "(#100) Invalid parameter", "the request body is not JSON")
		return
	}
	if m.MessagingProduct != "whatsapp" {
		s.graphErr(w, 400, 100, "(#100) The parameter messaging_product is required.", "")
		return
	}
	line, code, details := s.check(&m)
	if code != 0 {
		s.graphErr(w, 400, code, fmt.Sprintf("(#%d) %s", code, details), details)
		return
	}
	now := s.o.Now()
	s.mu.Lock()
	c, ok := s.byWaID[m.To]
	switch {
	case !ok:
		s.mu.Unlock()
		s.graphErr(w, 400, 131026, "(#131026) Message undeliverable", "the recipient is not a WhatsApp user")
		return
	case m.Type != "template" && now.Sub(c.LastIn) > 24*time.Hour:
		// "Re-engagement message: more than 24 hours have passed since the
		// recipient last replied" - free-form only inside the customer
		// service window.
		s.mu.Unlock()
		s.graphErr(w, 400, 131047, "(#131047) Re-engagement message", "Message failed to send because more than 24 hours have passed since the customer last replied to this number.")
		return
	case !s.lim.AllowN(now, 1):
		s.mu.Unlock()
		s.graphErr(w, 400, 130429, "(#130429) Rate limit hit", "Cloud API message throughput has been reached.")
		return
	}
	s.seq++
	line.At, line.FromBank, line.ID = now, true, fmt.Sprintf("wamid.SIM%012d", s.seq)
	c.Lines = append(c.Lines, line)
	s.mu.Unlock()
	s.grown.grew()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"messaging_product": "whatsapp", "contacts": []map[string]string{{"input": m.To, "wa_id": m.To}},
		"messages": []map[string]string{{"id": line.ID}}})
}

// check validates a message's shape and limits; code 0 when fine.
func (s *WhatsAppSim) check(m *waMessage) (WhatsAppLine, int, string) {
	var l WhatsAppLine
	switch m.Type {
	case "text":
		if m.Text == nil || strings.TrimSpace(m.Text.Body) == "" {
			return l, 131008, "Required parameter is missing: text.body"
		}
		if runes(m.Text.Body) > 4096 {
			return l, 100, "Param text['body'] must be at most 4096 characters long."
		}
		l.Text = m.Text.Body
	case "interactive":
		in := m.Interactive
		if in == nil || strings.TrimSpace(in.Body.Text) == "" {
			return l, 131008, "Required parameter is missing: interactive.body.text"
		}
		l.Text = in.Body.Text
		switch in.Type {
		case "button":
			bs := in.Action.Buttons
			if len(bs) < 1 || len(bs) > 3 {
				return l, 131009, "Parameter value is not valid: buttons must have 1 to 3 items"
			}
			if runes(in.Body.Text) > 1024 {
				return l, 131009, "Parameter value is not valid: body text is longer than 1024 characters"
			}
			seen := map[string]bool{}
			for _, b := range bs {
				if b.Type != "reply" || b.Reply.ID == "" || len(b.Reply.ID) > 256 || b.Reply.Title == "" || runes(b.Reply.Title) > 20 || seen[b.Reply.ID] {
					return l, 131009, "Parameter value is not valid: a reply button needs a unique id (at most 256 characters) and a title of at most 20"
				}
				seen[b.Reply.ID] = true
				l.Buttons = append(l.Buttons, WhatsAppReply{b.Reply.ID, b.Reply.Title})
			}
		case "list":
			if in.Action.Button == "" || runes(in.Action.Button) > 20 {
				return l, 131009, "Parameter value is not valid: the list's button label must be 1 to 20 characters"
			}
			n := 0
			for _, sec := range in.Action.Sections {
				for _, row := range sec.Rows {
					n++
					if row.ID == "" || len(row.ID) > 200 || row.Title == "" || runes(row.Title) > 24 || runes(row.Description) > 72 {
						return l, 131009, "Parameter value is not valid: a row needs an id (at most 200 characters), a title of at most 24 and a description of at most 72"
					}
					l.Buttons = append(l.Buttons, WhatsAppReply{row.ID, row.Title})
				}
			}
			if n < 1 || n > 10 || len(in.Action.Sections) > 10 {
				return l, 131009, "Parameter value is not valid: a list has 1 to 10 rows"
			}
			l.List = in.Action.Button
		case "cta_url":
			p := in.Action.Parameters
			if in.Action.Name != "cta_url" || p == nil || p.DisplayText == "" || runes(p.DisplayText) > 20 || !waURLOK(p.URL) {
				return l, 131009, "Parameter value is not valid: cta_url needs a display_text of at most 20 characters and an https URL"
			}
			l.CTA = &WhatsAppCTA{p.DisplayText, p.URL}
		default:
			return l, 131009, "Parameter value is not valid: interactive.type"
		}
	case "template":
		t := m.Template
		if t == nil || t.Name == "" || t.Language.Code == "" {
			return l, 131008, "Required parameter is missing: template.name or template.language"
		}
		tpl, ok := s.o.Templates[t.Name]
		switch {
		case !ok || tpl.Language != t.Language.Code || tpl.Status == "PENDING" || tpl.Status == "REJECTED":
			return l, 132001, "Template name does not exist in the translation"
		case tpl.Status == "PAUSED":
			return l, 132015, "Template is paused"
		case tpl.Status == "DISABLED":
			return l, 132016, "Template is disabled"
		}
		var params []string
		for _, c := range t.Components {
			if c.Type == "body" {
				for _, p := range c.Parameters {
					if strings.ContainsAny(p.Text, "\n\t") || strings.Contains(p.Text, "     ") {
						return l, 132018, "There was an issue with the parameters in your template: no newlines, tabs or more than 4 consecutive spaces"
					}
					params = append(params, p.Text)
				}
			}
		}
		if len(params) != tpl.BodyParams {
			return l, 132000, "Number of parameters does not match the expected number of params"
		}
		l.Template, l.Text = t.Name, strings.Join(params, " ")
	default:
		return l, 100, "Invalid parameter: type"
	}
	return l, 0, ""
}

// waURLOK: https, or http to a loopback host (the sim's one allowance, so
// the demo runs on one machine without certificates).
func waURLOK(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	if u.Scheme == "https" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return u.Scheme == "http" && (u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback()))
}

// Say is the person sending text.
func (s *WhatsAppSim) Say(ctx context.Context, name, text string) error {
	return s.incoming(ctx, name, text, map[string]any{"type": "text", "text": map[string]string{"body": text}})
}

// Reply is the person tapping a reply button (kind "button_reply") or a
// list row ("list_reply") of one of the bank's messages.
func (s *WhatsAppSim) Reply(ctx context.Context, name, kind, id, title string) error {
	if kind != "button_reply" && kind != "list_reply" {
		return fmt.Errorf("platformsim: no such reply kind %q", kind)
	}
	s.mu.Lock()
	c := s.chat(name)
	offered := false
	for _, l := range c.Lines {
		for _, b := range l.Buttons {
			offered = offered || (l.FromBank && b.ID == id && b.Title == title)
		}
	}
	s.mu.Unlock()
	if !offered {
		return fmt.Errorf("platformsim: no such button")
	}
	return s.incoming(ctx, name, title, map[string]any{"type": "interactive", "interactive": map[string]any{"type": kind, kind: map[string]string{"id": id, "title": title}}})
}

// incoming records the person's message, opens the customer service
// window, and notifies the webhook.
func (s *WhatsAppSim) incoming(ctx context.Context, name, shown string, msg map[string]any) error {
	now := s.o.Now()
	s.mu.Lock()
	c := s.chat(name)
	s.seq++
	id := fmt.Sprintf("wamid.IN%012d", s.seq)
	c.Lines = append(c.Lines, WhatsAppLine{At: now, ID: id, Text: shown})
	c.LastIn = now
	msg["from"], msg["id"], msg["timestamp"] = c.WaID, id, strconv.FormatInt(now.Unix(), 10)
	value := map[string]any{"messaging_product": "whatsapp",
		"metadata": map[string]string{"display_phone_number": s.o.DisplayPhone, "phone_number_id": s.o.PhoneNumberID},
		"contacts": []map[string]any{{"profile": map[string]string{"name": name}, "wa_id": c.WaID}},
		"messages": []map[string]any{msg}}
	s.mu.Unlock()
	body, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account",
		"entry": []map[string]any{{"id": "102290129340398", "changes": []map[string]any{{"field": "messages", "value": value}}}}})
	return s.Notify(ctx, body)
}

// Notify posts a notification body to the webhook, signed, after the
// verification request on first use; redelivered a few times when the bank
// does not answer 200.
func (s *WhatsAppSim) Notify(ctx context.Context, body []byte) error {
	if err := s.verify(ctx); err != nil {
		return err
	}
	var last error
	for attempt := range 3 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
			}
		}
		code, err := s.PostRaw(ctx, body, WhatsAppSignature(s.o.AppSecret, body))
		if err == nil && code == http.StatusOK {
			return nil
		}
		last = err
		if err == nil {
			last = fmt.Errorf("webhook answered %d", code)
		}
	}
	return last
}

// WhatsAppSignature is the X-Hub-Signature-256 of body.
func WhatsAppSignature(secret string, body []byte) string { return Signature(secret, body) }

// PostRaw posts body to the webhook with the given signature ("" for none)
// and returns the status: for testing the bank's refusals.
func (s *WhatsAppSim) PostRaw(ctx context.Context, body []byte, signature string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.o.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set("X-Hub-Signature-256", signature)
	}
	res, err := s.o.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	return res.StatusCode, nil
}

// verify makes the verification request once: GET the webhook with
// hub.mode=subscribe, hub.challenge and hub.verify_token; the answer must
// be the challenge.
func (s *WhatsAppSim) verify(ctx context.Context) error {
	s.mu.Lock()
	done := s.verified
	s.mu.Unlock()
	if done {
		return nil
	}
	challenge := randomID(8)
	q := url.Values{"hub.mode": {"subscribe"}, "hub.challenge": {challenge}, "hub.verify_token": {s.o.VerifyToken}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.o.WebhookURL+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	res, err := s.o.HTTP.Do(req)
	if err != nil {
		return err
	}
	got, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(got) != challenge {
		return fmt.Errorf("platformsim: the webhook failed verification (%s)", res.Status)
	}
	s.mu.Lock()
	s.verified = true
	s.mu.Unlock()
	return nil
}

func (s *WhatsAppSim) form(fn func(ctx context.Context, name string, f url.Values) error) http.HandlerFunc {
	return chatForm(s.o.Prefix, s, true, fn)
}

func (s *WhatsAppSim) lineCount(name string) int { return len(s.Chat(name).Lines) }

func (s *WhatsAppSim) failed(name string, err error) {
	s.mu.Lock()
	c := s.chat(name)
	c.Lines = append(c.Lines, WhatsAppLine{At: s.o.Now(), Note: true, Text: "Not delivered: " + err.Error()})
	s.mu.Unlock()
}

// clickToChat is wa.me/<number>?text=...: it opens the chat of the person
// using this browser (its cookie) with the text in the message box, to be
// sent by the person.
func (s *WhatsAppSim) clickToChat(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("phone") != s.o.DisplayPhone {
		http.Error(w, "no such WhatsApp number", http.StatusNotFound)
		return
	}
	var name string
	if ck, err := r.Cookie("wa_user"); err == nil {
		name, _ = url.PathUnescape(ck.Value)
	}
	if name == "" {
		http.Error(w, "open a chat page first: it is who you are in this emulator", http.StatusBadRequest)
		return
	}
	u := s.o.Prefix + "/chat/" + url.PathEscape(name)
	if t := r.URL.Query().Get("text"); t != "" {
		u += "?text=" + url.QueryEscape(t)
	}
	http.Redirect(w, r, u+"#end", http.StatusSeeOther)
}

var whatsappPage = template.Must(template.New("chat").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Name}} - WhatsApp (emulator)</title></head>
<body><main>
<h1>WhatsApp: chat with the bank (+{{.Phone}})</h1>
<p>You are <strong>{{.Name}}</strong>. This page stands in for the WhatsApp app.</p>
<ol class="chat">
{{range .Lines}}<li class="{{if .FromBank}}bank{{else if .Note}}note{{else}}me{{end}}">{{if .FromBank}}<strong>Bank:</strong> {{end}}<span class="text">{{.Text}}</span>{{if .Template}} <em>(template {{.Template}})</em>{{end}}
{{if .CTA}}<div><a class="cta" href="{{.CTA.URL}}">{{.CTA.Text}}</a></div>{{end}}{{$kind := "button_reply"}}{{if .List}}{{$kind = "list_reply"}}<div>{{.List}}:</div>{{end}}{{range .Buttons}}<form method="post" action="{{$.Prefix}}/chat/{{$.Name}}/reply"><input type="hidden" name="kind" value="{{$kind}}"><input type="hidden" name="id" value="{{.ID}}"><input type="hidden" name="title" value="{{.Title}}"><button>{{.Title}}</button></form>{{end}}</li>
{{end}}</ol>
<form id="end" method="post" action="{{.Prefix}}/chat/{{.Name}}/say"><label>Message <input name="text" autocomplete="off" required value="{{.Draft}}"></label> <button>Send</button></form>
</main></body></html>`))

// chatPage shows a person's chat (with a draft from click-to-chat) and
// remembers, in a cookie, that this browser is that person.
func (s *WhatsAppSim) chatPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	c := s.Chat(name)
	http.SetCookie(w, &http.Cookie{Name: "wa_user", Value: url.PathEscape(name), Path: s.o.Prefix + "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	whatsappPage.Execute(w, map[string]any{"Name": c.Name, "Phone": s.o.DisplayPhone, "Lines": c.Lines, "Prefix": s.o.Prefix, "Draft": r.URL.Query().Get("text")})
}
