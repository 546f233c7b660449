package channels

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/channels/inbox"
	"github.com/bankbridge/bankbridge/consent"
)

// Account linking as a platform runs it (Messenger's protocol,
// https://developers.facebook.com/docs/messenger-platform/identity/account-linking,
// "Linking Process"): the platform opens the bank's login URL with its own
// redirect_uri and account_linking_token; the bank authenticates the
// person (here: its authorization server's login and consent, with the
// bank's own OAuth redirect), then sends the browser to the platform's
// redirect_uri with an authorization_code of the bank's making appended,
// or without one when linking failed. The platform passes that code back
// in its account_linking webhook (status "linked"), and only then does
// the bank link the person.
//
// Two kinds of record carry the flow across requests and instances, both
// taken once: the attempt (keyed by the OAuth state: the PSID, the PKCE
// verifier and the platform's redirect_uri), and the code (keyed by the
// hash of the authorization_code: the PSID and the consent it stands for).

// LinkAttempt is one record of an account linking in progress.
type LinkAttempt = inbox.LinkAttempt

// LinkAttempts stores linkings in progress (store/sqlstore.MessengerStore).
type LinkAttempts = inbox.LinkAttempts

// ErrLinkAttempt reports a linking the bank has no record of: never
// started, already finished, or expired.
var ErrLinkAttempt = inbox.ErrLinkAttempt

// LinkTTL bounds a linking in progress: the login and consent, then the
// platform's webhook with the code.
const LinkTTL = 10 * time.Minute

func codeID(code string) string {
	h := sha256.Sum256([]byte(code))
	return "code:" + hex.EncodeToString(h[:])
}

func (h *Hub) linkStore() (LinkAttempts, error) {
	if h.d.Links == nil {
		return nil, ErrNoChannel.WithMessage("this bank does not link chat accounts")
	}
	return h.d.Links, nil
}

// BeginLink starts linking platform user, whom the platform sent to the
// bank with redirectURI (already checked to be the platform's by the
// adapter): it keeps the attempt under a fresh OAuth state and returns the
// URL of the bank's login and consent (a pushed authorization request for
// the platform's partner, PKCE S256).
func (h *Hub) BeginLink(ctx context.Context, platform, user, redirectURI string) (string, error) {
	_, c, err := h.channel(platform)
	if err != nil {
		return "", err
	}
	if c == nil {
		return "", ErrNoChannel.WithMessage("this channel cannot link accounts")
	}
	ls, err := h.linkStore()
	if err != nil {
		return "", err
	}
	state := rand.Text()
	verifier, challenge := PKCE()
	if err := ls.SaveLinkAttempt(ctx, LinkAttempt{Platform: platform, ID: "state:" + state, User: user, Verifier: verifier,
		RedirectURI: redirectURI, Expires: h.d.Now().UTC().Add(LinkTTL)}); err != nil {
		return "", err
	}
	return c.Authorize(ctx, state, challenge)
}

// FinishLink takes the authorization server's answer at the bank's OAuth
// redirect (q: code, state, iss, or error) and returns where the browser
// goes next: the platform's redirect_uri with authorization_code appended
// when the customer consented, or without it when they did not or the
// exchange failed (the platform's failure form). An error means the state
// is unknown, used or expired: there is no platform redirect to go back to.
func (h *Hub) FinishLink(ctx context.Context, platform string, q url.Values) (string, error) {
	_, c, err := h.channel(platform)
	if err != nil {
		return "", err
	}
	if c == nil {
		return "", ErrNoChannel
	}
	ls, err := h.linkStore()
	if err != nil {
		return "", err
	}
	state := q.Get("state")
	if state == "" || len(state) > 128 {
		return "", ErrLinkAttempt
	}
	a, err := ls.TakeLinkAttempt(ctx, platform, "state:"+state, h.d.Now().UTC())
	if err != nil {
		return "", err
	}
	failed := func(why string, cause error) (string, error) {
		h.d.Logger.Warn("channels: account linking not completed", "platform", platform, "why", why, "err", cause)
		return a.RedirectURI, nil
	}
	if e := q.Get("error"); e != "" {
		return failed("the authorization server answered "+e, nil) // the customer refused, or the request was bad
	}
	// RFC 9207 §2.4: the iss parameter must name the issuer the request
	// went to, or a mix-up attacker's code could be redeemed here.
	if q.Get("iss") != strings.TrimSuffix(c.Issuer, "/") {
		return failed("iss does not name the bank's issuer", nil)
	}
	code := q.Get("code")
	if code == "" {
		return failed("no code", nil)
	}
	gid, err := c.Exchange(ctx, code, a.Verifier)
	if err != nil {
		return failed("code exchange", err)
	}
	g, err := h.d.Consents.Grant(ctx, gid)
	if err != nil {
		return failed("consent", err)
	}
	if g.Partner != c.ID || g.Status != consent.Active {
		return failed("consent "+string(g.ID)+" is not an active one of "+string(c.ID), nil)
	}
	authCode := rand.Text() + rand.Text()
	if err := ls.SaveLinkAttempt(ctx, LinkAttempt{Platform: platform, ID: codeID(authCode), User: a.User, Grant: g.ID,
		Expires: h.d.Now().UTC().Add(LinkTTL)}); err != nil {
		return "", err
	}
	u, err := url.Parse(a.RedirectURI)
	if err != nil {
		return failed("redirect_uri", err)
	}
	qq := u.Query()
	qq.Set("authorization_code", authCode)
	u.RawQuery = qq.Encode()
	return u.String(), nil
}

// RedeemLink takes the authorization_code the platform passed back in its
// account_linking webhook for user and links user to the consent's
// customer, then says so in the chat. ErrLinkAttempt for a code unknown,
// used or expired; ErrLink for a code made for another person (the
// consent behind it is revoked, since its code has leaked).
func (h *Hub) RedeemLink(ctx context.Context, platform, user, authCode string) error {
	ch, c, err := h.channel(platform)
	if err != nil {
		return err
	}
	if c == nil {
		return ErrNoChannel
	}
	ls, err := h.linkStore()
	if err != nil {
		return err
	}
	if authCode == "" || len(authCode) > 256 {
		return ErrLinkAttempt
	}
	a, err := ls.TakeLinkAttempt(ctx, platform, codeID(authCode), h.d.Now().UTC())
	if err != nil {
		return err
	}
	if a.User != user {
		if _, rerr := h.d.Consents.Revoke(ctx, a.Grant, "system", "the account-linking code came back for another chat user"); rerr != nil {
			h.d.Logger.Warn("channels: revoke the consent of a misdirected linking code", "err", rerr)
		}
		return ErrLink.WithOp("channels.RedeemLink", fmt.Errorf("code made for %q came back for %q", a.User, user))
	}
	return h.link(ctx, ch, c, assistant.Key{Platform: platform, User: user}, a.Grant)
}

// link ties k to the customer of consent gid (active, of the channel's
// partner), ending any earlier link of k and its consent, and says so in
// the chat.
func (h *Hub) link(ctx context.Context, ch Channel, c *Client, k assistant.Key, gid consent.GrantID) error {
	g, err := h.d.Consents.Grant(ctx, gid)
	if err != nil {
		return err
	}
	if g.Partner != c.ID || g.Status != consent.Active {
		return ErrLink.WithOp("channels.link", fmt.Errorf("consent %s is of %s, %s", g.ID, g.Partner, g.Status))
	}
	// A user linked before keeps one link: the old consent ends.
	if old, err := h.d.Store.Link(ctx, k); err == nil && old.Grant != g.ID {
		if _, err := h.d.Consents.Revoke(ctx, old.Grant, "system", "the chat was linked again"); err != nil && !errors.Is(err, consent.ErrGrantNotFound) {
			h.d.Logger.Warn("channels: revoke replaced link", "err", err)
		}
	}
	if err := h.d.Store.SaveLink(ctx, assistant.Link{Key: k, Customer: g.Customer, Grant: g.ID, Linked: h.d.Now().UTC()}); err != nil {
		return err
	}
	conv, _ := h.d.Store.Conversation(ctx, k)
	r := assistant.Reply{Text: "Your bank account is linked. Ask me \"balance\", \"recent activity\" or \"pay Sam 20\". " +
		"Replies follow your privacy setting (minimal until you change it: say \"privacy\").",
		Choices: []assistant.Choice{{Title: "Balance", Payload: "INTENT:balance"}, {Title: "Privacy", Payload: "INTENT:privacy"}}}
	return h.send(ctx, ch, k, []assistant.Reply{r}, Response, conv.LastIn, "system")
}
