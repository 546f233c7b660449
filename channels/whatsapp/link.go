package whatsapp

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/channels"
)

// Paths the adapter serves for linking, on the bank's origin.
const (
	PathLink   = "/channels/whatsapp/link"
	PathLinked = "/channels/whatsapp/linked"
)

// TicketTTL is how long a link button's ticket is valid.
const TicketTTL = 15 * time.Minute

// LinkURL is where the link button of wa_id points.
func (a *Adapter) LinkURL(waID string) string {
	return a.c.BankURL + PathLink + "?t=" + a.tickets.Sign("link", waID, TicketTTL)
}

// RedirectURI is the "whatsapp" partner's redirect URI at the bank.
func (a *Adapter) RedirectURI() string { return a.c.BankURL + PathLinked }

// link starts linking for the ticket's wa_id: an authorization request for
// the whatsapp partner (its PKCE verifier kept for that wa_id), then the
// bank's login and consent.
func (a *Adapter) link(w http.ResponseWriter, r *http.Request) {
	waID, ok := a.tickets.Open("link", r.URL.Query().Get("t"))
	if !ok {
		page(w, http.StatusBadRequest, "This link has expired or is not valid. Go back to WhatsApp and tap \"Link your account\" again.", "")
		return
	}
	to, err := a.hub.StartLink(r.Context(), Platform, waID, a.tickets.Sign("state", waID, TicketTTL))
	if err != nil {
		a.c.Logger.Error("whatsapp: start linking", "err", err)
		page(w, http.StatusServiceUnavailable, "Linking is not available right now. Please try again in a moment.", "")
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// linkPrefix starts the message that brings the code back: the person
// sends it from the chat, so the code arrives from their own wa_id.
const linkPrefix = "Link my bank account, code "

var linkRe = regexp.MustCompile(`^` + regexp.QuoteMeta(linkPrefix) + `([A-Za-z0-9_-]{43})$`)

func linkCode(text string) (string, bool) {
	m := linkRe.FindStringSubmatch(text)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// linked is the partner's redirect URI: with a state this bank signed, the
// browser goes on to WhatsApp's click-to-chat link with the code in a
// prefilled message ("https://wa.me/<number>?text=<urlencoded text>",
// WhatsApp Help Center, "How to use click to chat", faq.whatsapp.com):
// sending it from the chat completes the link for the sender's wa_id only.
// The code passes through the person's WhatsApp, as Messenger's passes
// through Meta's redirect: it is single-use, lives 60 s and is bound by
// PKCE to the verifier this bank keeps for the wa_id that asked, so
// whoever else sees it can redeem nothing.
func (a *Adapter) linked(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if _, ok := a.tickets.Open("state", q.Get("state")); !ok {
		page(w, http.StatusBadRequest, "This linking request has expired or is not valid. Go back to WhatsApp and try again.", "")
		return
	}
	back := a.c.ClickToChatURL + "/" + url.PathEscape(a.c.DisplayPhone)
	if q.Get("error") != "" { // RFC 6749 §4.1.2.1
		page(w, http.StatusOK, "Nothing was linked. You can go back to WhatsApp.", back)
		return
	}
	code := q.Get("code")
	if _, ok := linkCode(linkPrefix + code); !ok {
		page(w, http.StatusBadRequest, "The bank's answer could not be read. Go back to WhatsApp and try again.", back)
		return
	}
	http.Redirect(w, r, back+"?text="+url.QueryEscape(linkPrefix+code), http.StatusFound)
}

// completeLink redeems the code for the sender's wa_id.
func (a *Adapter) completeLink(ctx context.Context, waID, code string) error {
	err := a.hub.CompleteLink(ctx, Platform, waID, code)
	if err == nil {
		return nil
	}
	a.c.Logger.Warn("whatsapp: account linking failed", "err", err)
	msg := "Linking your account did not work: " + bankbridge.ErrorMessage(err) + ". Try again with the button."
	if bankbridge.ErrorKind(err) == bankbridge.NotFound {
		msg = "This link was not started from this WhatsApp number, so nothing was linked. To link your account here, tap the button."
	}
	return a.Send(ctx, channels.Outbound{To: waID, Purpose: channels.Response, LastIn: a.c.Now(),
		Reply: assistant.Reply{Text: msg, Buttons: []assistant.Button{{Kind: assistant.ButtonLinkAccount, Title: "Link your account"}}}})
}

func page(w http.ResponseWriter, status int, msg, back string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><meta charset=utf-8><meta name=viewport content=\"width=device-width\"><title>WhatsApp linking</title><p>%s</p>", html.EscapeString(msg))
	if back != "" {
		fmt.Fprintf(w, "<p><a href=\"%s\">Back to WhatsApp</a></p>", html.EscapeString(back))
	}
}
