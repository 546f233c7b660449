package whatsapp

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/backoff"
	"github.com/bankbridge/bankbridge/channels"
)

// The limits of interactive messages
// (https://developers.facebook.com/docs/whatsapp/cloud-api/messages/interactive-reply-buttons-messages,
// .../interactive-list-messages, .../interactive-cta-url-messages): at most
// 3 reply buttons, titles of 20 characters, ids of 256; a list of at most
// 10 rows, titles of 24 characters, ids of 200, a button label of 20; a
// body of 1,024 characters in an interactive message, 4,096 in text; a CTA
// URL's display text of 20.
const (
	maxButtons      = 3
	maxButtonTitle  = 20
	maxButtonID     = 256
	maxRows         = 10
	maxRowTitle     = 24
	maxRowID        = 200
	maxInteractive  = 1024
	maxText         = 4096
	maxDisplayText  = 20
	maxTemplateText = 1024
)

// Message is a Cloud API message request (POST /{phone-number-id}/messages,
// https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages).
type Message struct {
	MessagingProduct string       `json:"messaging_product"` // "whatsapp"
	RecipientType    string       `json:"recipient_type"`    // "individual"
	To               string       `json:"to"`
	Type             string       `json:"type"` // text, interactive, template
	Text             *Text        `json:"text,omitempty"`
	Interactive      *Interactive `json:"interactive,omitempty"`
	Template         *Template    `json:"template,omitempty"`
}

// Text is a text message's body.
type Text struct {
	Body       string `json:"body"`
	PreviewURL bool   `json:"preview_url"`
}

// Interactive is a reply-button, list or CTA URL message.
type Interactive struct {
	Type   string  `json:"type"` // button, list, cta_url
	Body   Body    `json:"body"`
	Action *Action `json:"action"`
}

// Body is an interactive message's text.
type Body struct {
	Text string `json:"text"`
}

// Action holds the buttons, the list or the URL.
type Action struct {
	Buttons    []ReplyButton `json:"buttons,omitempty"`
	Button     string        `json:"button,omitempty"` // the list's label
	Sections   []Section     `json:"sections,omitempty"`
	Name       string        `json:"name,omitempty"` // "cta_url"
	Parameters *CTA          `json:"parameters,omitempty"`
}

// ReplyButton is one reply button.
type ReplyButton struct {
	Type  string `json:"type"` // "reply"
	Reply struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"reply"`
}

// Section is a list section.
type Section struct {
	Title string `json:"title,omitempty"`
	Rows  []Row  `json:"rows"`
}

// Row is a list row.
type Row struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// CTA is a call-to-action URL button.
type CTA struct {
	DisplayText string `json:"display_text"`
	URL         string `json:"url"`
}

// Template is a template message: an approved template by name and
// language, with its body parameters
// (https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates).
type Template struct {
	Name       string      `json:"name"`
	Language   Language    `json:"language"`
	Components []Component `json:"components,omitempty"`
}

// Language is a template's language.
type Language struct {
	Code string `json:"code"`
}

// Component is a template component's parameters.
type Component struct {
	Type       string      `json:"type"` // "body"
	Parameters []Parameter `json:"parameters"`
}

// Parameter is one template parameter.
type Parameter struct {
	Type string `json:"type"` // "text"
	Text string `json:"text"`
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// Send implements channels.Channel. Inside the customer service window the
// reply goes as it is (text, buttons, a list, a URL button); outside it, a
// bank-started message (Update) goes as the alert template and anything
// else is refused with channels.ErrWindowClosed.
func (a *Adapter) Send(ctx context.Context, o channels.Outbound) error {
	if o.To == "" {
		return channels.ErrNoChannel.WithMessage("not a WhatsApp user")
	}
	if a.c.Now().Sub(o.LastIn) > Window {
		if o.Purpose != channels.Update {
			return channels.ErrWindowClosed
		}
		return a.post(ctx, a.templateMessage(o.To, o.Reply.Text))
	}
	for _, m := range a.messages(o.To, o.Reply) {
		if err := a.post(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// templateMessage carries text in the alert template's one body
// parameter. A parameter may hold no newlines or tabs nor more than four
// spaces in a row (error 132018): the text is flattened.
func (a *Adapter) templateMessage(to, text string) Message {
	flat := strings.Join(strings.Fields(text), " ")
	return Message{MessagingProduct: "whatsapp", RecipientType: "individual", To: to, Type: "template",
		Template: &Template{Name: a.c.AlertTemplate, Language: Language{Code: a.c.AlertLanguage},
			Components: []Component{{Type: "body", Parameters: []Parameter{{Type: "text", Text: clip(flat, maxTemplateText)}}}}}}
}

// messages turns a reply into Cloud API messages: a URL button makes a CTA
// URL message with the text; choices make reply buttons (up to three) or a
// list (up to ten), with the text when no URL came first.
func (a *Adapter) messages(to string, r assistant.Reply) []Message {
	base := Message{MessagingProduct: "whatsapp", RecipientType: "individual", To: to}
	var out []Message
	text := r.Text
	type choice struct{ id, title string }
	var choices []choice
	var cta *CTA
	for _, b := range r.Buttons {
		switch b.Kind {
		case assistant.ButtonURL:
			if cta == nil {
				cta = &CTA{DisplayText: clip(cmp.Or(b.Title, "Open"), maxDisplayText), URL: b.URL}
			} else {
				text += "\n" + b.Title + ": " + b.URL
			}
		case assistant.ButtonLinkAccount:
			if cta == nil {
				cta = &CTA{DisplayText: clip(cmp.Or(b.Title, "Link your account"), maxDisplayText), URL: a.LinkURL(to)}
			}
		case assistant.ButtonPostback:
			choices = append(choices, choice{b.Payload, b.Title})
		}
	}
	for _, c := range r.Choices {
		choices = append(choices, choice{c.Payload, c.Title})
	}
	if cta != nil {
		m := base
		m.Type = "interactive"
		m.Interactive = &Interactive{Type: "cta_url", Body: Body{clip(text, maxInteractive)}, Action: &Action{Name: "cta_url", Parameters: cta}}
		out = append(out, m)
		text = "Or choose:"
	}
	var usable []choice
	for _, c := range choices {
		if c.id != "" && len(c.id) <= maxRowID {
			usable = append(usable, c)
		}
	}
	switch {
	case len(usable) == 0:
		if cta == nil {
			m := base
			m.Type, m.Text = "text", &Text{Body: clip(text, maxText)}
			out = append(out, m)
		}
	case len(usable) <= maxButtons:
		m := base
		m.Type = "interactive"
		act := &Action{}
		for _, c := range usable {
			var b ReplyButton
			b.Type, b.Reply.ID, b.Reply.Title = "reply", c.id, clip(c.title, maxButtonTitle)
			act.Buttons = append(act.Buttons, b)
		}
		m.Interactive = &Interactive{Type: "button", Body: Body{clip(text, maxInteractive)}, Action: act}
		out = append(out, m)
	default:
		m := base
		m.Type = "interactive"
		sec := Section{}
		for _, c := range usable[:min(len(usable), maxRows)] {
			sec.Rows = append(sec.Rows, Row{ID: c.id, Title: clip(c.title, maxRowTitle)})
		}
		m.Interactive = &Interactive{Type: "list", Body: Body{clip(text, maxText)}, Action: &Action{Button: "Choose", Sections: []Section{sec}}}
		out = append(out, m)
	}
	return out
}

// Unlinked implements channels.Channel: WhatsApp has nothing to tell.
func (a *Adapter) Unlinked(ctx context.Context, user string) error { return nil }

// graphError is the Graph API's error body
// (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
type graphError struct {
	Error struct {
		Message   string `json:"message"`
		Type      string `json:"type"`
		Code      int    `json:"code"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
	} `json:"error"`
}

// Codes of https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
// the adapter acts on.
const (
	codeReengagement  = 131047 // more than 24 hours since the person last wrote
	codeRateLimit     = 130429 // the number's throughput reached
	codePairRateLimit = 131056 // too many messages to one person
	codeServerError   = 131000 // something went wrong
	codeUnavailable   = 131016 // service unavailable
)

// templateRefused reports the template errors (132000 parameters do not
// match, 132001 template does not exist in the language, 132005 text too
// long, 132007 policy, 132012 parameter format, 132015 paused, 132016
// disabled, 132018 parameter issue).
func templateRefused(code int) bool { return code >= 132000 && code < 133000 }

// post sends one message: paced to Throughput, retried on rate limits and
// server errors with the one backoff, bounded by Attempts.
func (a *Adapter) post(ctx context.Context, m Message) error {
	body, _ := json.Marshal(m)
	u := a.c.GraphURL + "/" + a.c.GraphVersion + "/" + a.c.PhoneNumberID + "/messages"
	var last error
	for attempt := 0; attempt < a.c.Attempts; attempt++ {
		wait, give, err := a.turn(ctx)
		if err != nil {
			return err
		}
		if attempt > 0 {
			wait = max(wait, backoff.Policy{Base: a.c.Backoff, Max: 5 * time.Second}.Delay(attempt))
		}
		if err := a.c.Sleep(ctx, wait); err != nil {
			give()
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+a.c.AccessToken)
		res, err := a.c.HTTP.Do(req)
		if err != nil {
			last = fmt.Errorf("whatsapp messages: %w", err)
			continue
		}
		var ge graphError
		raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			return nil
		}
		json.Unmarshal(raw, &ge)
		code := ge.Error.Code
		last = fmt.Errorf("whatsapp messages: %d code %d: %s %s", res.StatusCode, code, ge.Error.Message, ge.Error.ErrorData.Details)
		switch {
		case code == codeReengagement:
			return channels.ErrWindowClosed.WithOp("whatsapp.Send", last)
		case templateRefused(code):
			a.c.Logger.Error("whatsapp: template refused; fix it in WhatsApp Manager", "template", a.c.AlertTemplate, "language", a.c.AlertLanguage, "code", code, "err", last)
			return ErrTemplateRejected.WithOp("whatsapp.Send", last)
		case code == codeRateLimit || code == codePairRateLimit || code == codeServerError || code == codeUnavailable || res.StatusCode >= 500:
			// transient: retried
		default:
			return ErrSend.WithOp("whatsapp.Send", last)
		}
	}
	return ErrSend.WithOp("whatsapp.Send", last)
}

// ErrThrottled reports a message whose turn within the number's
// throughput is further away than the adapter waits (10 s).
var ErrThrottled = bankbridge.E(bankbridge.TooManyRequests, "chat_send_throttled", "the messaging platform's send limit is reached; the message was not sent")

// maxWait is the longest a message waits for its turn.
const maxWait = 10 * time.Second

// turn reserves one message of the number's throughput: in the fleet's
// budgets when Turns is set (falling back to this instance's bucket while
// the store is away), else in memory. It returns the wait and how to give
// the turn back when the message is not sent after all.
func (a *Adapter) turn(ctx context.Context) (time.Duration, func(), error) {
	if a.c.Turns != nil {
		key, every := "whatsapp:"+a.c.PhoneNumberID, time.Second/Throughput
		w, ok, err := a.c.Turns.Take(ctx, key, every, Throughput, maxWait)
		switch {
		case err == nil && !ok:
			return 0, nil, ErrThrottled
		case err == nil:
			return w, func() {
				gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
				defer cancel()
				a.c.Turns.Give(gctx, key, every)
			}, nil
		case ctx.Err() != nil:
			return 0, nil, ctx.Err()
		}
		a.c.Logger.Warn("whatsapp: fleet send budget unavailable; pacing in this instance", "err", err)
	}
	now := a.c.Now()
	rsv := a.lim.ReserveN(now, 1)
	w := rsv.DelayFrom(now)
	if w > maxWait {
		rsv.CancelAt(now)
		return 0, nil, ErrThrottled
	}
	return w, func() { rsv.CancelAt(a.c.Now()) }, nil
}
