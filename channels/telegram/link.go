package telegram

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
)

// Account linking. Telegram has no linking protocol of its own; it has
// deep links, "an auth token to connect the user's Telegram account to
// their account on some external service" (Bot features, Deep linking,
// https://core.telegram.org/bots/features#deep-linking):
// https://t.me/<bot>?start=<payload> opens the chat with the bot and, on
// Start, the bot receives "/start <payload>", the payload being 1-64 of
// A-Z a-z 0-9 _ -. The bank links through it so that the link is made in
// the chat that asked for it and no other:
//
//  1. In the chat, the link button opens PathLink?t=<ticket>, the ticket
//     naming the chat, signed and short-lived.
//  2. PathLink pushes an authorization request for the "telegram" partner
//     (PKCE, its verifier kept for this chat: Hub.StartLink) and redirects
//     to the bank's login and consent screen.
//  3. The bank redirects to PathLinked (the partner's redirect URI) with
//     the authorization code; PathLinked sends the browser on to
//     t.me/<bot>?start=<code> (a code is 43 base64url characters).
//  4. Telegram opens the chat and the bot receives "/start <code>": the
//     code is redeemed with the verifier kept for THAT chat
//     (Hub.CompleteLink). A code opened in another chat, say a victim's
//     when someone sent them their own chat's link, finds no verifier (or
//     the wrong one, and PKCE refuses it): nothing is linked, nothing is
//     disclosed.

// Paths the adapter serves for linking, on the bank's origin.
const (
	PathLink   = "/channels/telegram/link"
	PathLinked = "/channels/telegram/linked"
)

// codeLen is the length of the bank's authorization codes (32 random
// bytes, base64url): only a start payload of this length is taken for one.
const codeLen = 43

// TicketTTL is how long a link button's ticket is valid.
const TicketTTL = 15 * time.Minute

// linkKey derives the key that signs tickets and states from the bot's
// secrets, so that every instance of a fleet, configured alike, checks what
// another signed, and no other key is kept.
func linkKey(secret, token string) []byte {
	k, err := hkdf.Key(sha256.New, []byte(secret+"\x00"+token), nil, "bankbridge telegram link tickets", 32)
	if err != nil {
		panic("telegram: hkdf: " + err.Error()) // only for an invalid length
	}
	return k
}

// ticket signs (purpose, chat, expiry): 8 bytes of chat, 8 of expiry, 16
// of HMAC-SHA256, base64url.
func (a *Adapter) ticket(purpose string, chat int64, exp time.Time) string {
	b := make([]byte, 16, 32)
	binary.BigEndian.PutUint64(b, uint64(chat))
	binary.BigEndian.PutUint64(b[8:], uint64(exp.Unix()))
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(purpose))
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(m.Sum(b)[:32])
}

// openTicket returns the chat of a valid, unexpired ticket of purpose.
func (a *Adapter) openTicket(purpose, t string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil || len(b) != 32 {
		return 0, false
	}
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(purpose))
	m.Write(b[:16])
	if !hmac.Equal(m.Sum(nil)[:16], b[16:]) {
		return 0, false
	}
	if a.c.Now().Unix() > int64(binary.BigEndian.Uint64(b[8:])) {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(b)), true
}

// LinkURL is where the link button of chat points.
func (a *Adapter) LinkURL(chat int64) string {
	return a.c.BankURL + PathLink + "?t=" + a.ticket("link", chat, a.c.Now().Add(TicketTTL))
}

// RedirectURI is the "telegram" partner's redirect URI at the bank.
func (a *Adapter) RedirectURI() string { return a.c.BankURL + PathLinked }

// link starts linking for the ticket's chat: step 2.
func (a *Adapter) link(w http.ResponseWriter, r *http.Request) {
	chat, ok := a.openTicket("link", r.URL.Query().Get("t"))
	if !ok {
		page(w, http.StatusBadRequest, "This link has expired or is not valid. Go back to the chat with the bank and tap \"Link your account\" again.", "")
		return
	}
	state := a.ticket("state", chat, a.c.Now().Add(TicketTTL))
	to, err := a.hub.StartLink(r.Context(), Platform, strconv.FormatInt(chat, 10), state)
	if err != nil {
		a.c.Logger.Error("telegram: start linking", "err", err)
		page(w, http.StatusServiceUnavailable, "Linking is not available right now. Please try again in a moment.", "")
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// linked is the partner's redirect URI: step 3. The state must be one
// this bank signed; the code goes back to Telegram in the deep link.
func (a *Adapter) linked(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if _, ok := a.openTicket("state", q.Get("state")); !ok {
		page(w, http.StatusBadRequest, "This linking request has expired or is not valid. Go back to the chat and try again.", "")
		return
	}
	back := a.chatURL("")
	if e := q.Get("error"); e != "" {
		// RFC 6749 §4.1.2.1: the customer declined, or the bank refused.
		page(w, http.StatusOK, "Nothing was linked. You can go back to the chat.", back)
		return
	}
	code := q.Get("code")
	if !validPayload(code) {
		page(w, http.StatusBadRequest, "The bank's answer could not be read. Go back to the chat and try again.", back)
		return
	}
	http.Redirect(w, r, a.chatURL(code), http.StatusFound)
}

// chatURL is the deep link to the bot, with a start payload when not empty.
func (a *Adapter) chatURL(payload string) string {
	u := a.c.DeepLinkURL + "/" + url.PathEscape(a.username())
	if payload != "" {
		u += "?start=" + payload
	}
	return u
}

func (a *Adapter) username() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.bot
}

// validPayload: a start payload is 1-64 of A-Z a-z 0-9 _ -
// (https://core.telegram.org/bots/features#deep-linking).
func validPayload(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// startPayload returns the payload of "/start <payload>".
func startPayload(text string) (string, bool) {
	const p = "/start "
	if len(text) <= len(p) || text[:len(p)] != p {
		return "", false
	}
	s := text[len(p):]
	return s, validPayload(s)
}

// completeLink is step 4: the code is redeemed for this chat only.
func (a *Adapter) completeLink(ctx context.Context, chat int64, code string) error {
	user := strconv.FormatInt(chat, 10)
	err := a.hub.CompleteLink(ctx, Platform, user, code)
	if err == nil {
		return nil
	}
	a.c.Logger.Warn("telegram: account linking failed", "err", err)
	msg := "Linking your account did not work: " + bankbridge.ErrorMessage(err) + ". Try again with the button."
	if bankbridge.ErrorKind(err) == bankbridge.NotFound {
		msg = "This link was not started in this chat, so nothing was linked. To link your account here, tap the button."
	}
	return a.Send(ctx, outbound(user, assistant.Reply{Text: msg,
		Buttons: []assistant.Button{{Kind: assistant.ButtonLinkAccount, Title: "Link your account"}}}))
}

func page(w http.ResponseWriter, status int, msg, back string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><meta charset=utf-8><meta name=viewport content=\"width=device-width\"><title>Telegram linking</title><p>%s</p>", html.EscapeString(msg))
	if back != "" {
		fmt.Fprintf(w, "<p><a href=\"%s\">Back to the chat</a></p>", html.EscapeString(back))
	}
}

// Start prepares the bot at the platform: it learns the bot's username
// (getMe) when not configured, and sets the webhook to BankURL +
// PathWebhook with the secret token, which Telegram then sends "in the
// header X-Telegram-Bot-Api-Secret-Token in every webhook request"
// (setWebhook, https://core.telegram.org/bots/api#setwebhook), and only
// the updates the bank reads (allowed_updates). setWebhook replaces the
// previous webhook, so every instance of a fleet may call it alike.
func (a *Adapter) Start(ctx context.Context) error {
	if a.username() == "" {
		res, err := a.callResult(ctx, "getMe", []byte("{}"), 0)
		if err != nil {
			return fmt.Errorf("telegram: getMe: %w", err)
		}
		var me struct {
			Username string `json:"username"`
		}
		if err := json.Unmarshal(res, &me); err != nil || me.Username == "" {
			return fmt.Errorf("telegram: getMe: no username")
		}
		a.mu.Lock()
		a.bot = me.Username
		a.mu.Unlock()
	}
	body, _ := json.Marshal(map[string]any{"url": a.c.BankURL + PathWebhook, "secret_token": a.c.SecretToken,
		"allowed_updates": []string{"message", "callback_query"}})
	if err := a.call(ctx, "setWebhook", body, 0); err != nil {
		return fmt.Errorf("telegram: setWebhook: %w", err)
	}
	return nil
}
