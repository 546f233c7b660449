package messenger_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/channels/messenger"
	"github.com/bankbridge/bankbridge/consent"
)

// TestInboxAnswersBeforeReplyInOrder: with the durable inbox, the webhook
// is answered 200 once the events are stored, before any reply; a worker
// started later (as after a restart) answers every stored message, in the
// order they came, and a redelivered webhook is answered once.
func TestInboxAnswersBeforeReplyInOrder(t *testing.T) {
	t.Parallel()
	w := newWorldWith(t, true, false)
	ctx := context.Background()
	said := []string{"hi", "help", "balance"}
	for _, text := range said {
		if err := w.sim.Say(ctx, "ann", text); err != nil {
			t.Fatalf("say %q: %v", text, err)
		}
	}
	if err := w.sim.Redeliver(ctx); err != nil {
		t.Fatal(err)
	}
	if got := pageLines(w.sim.Chat("ann").Lines); len(got) != 0 {
		t.Fatalf("replies before any worker ran: %+v", got)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.hub.RunInbox(wctx) }()
	defer func() { stop(); <-done }()

	deadline, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	// Each message gets its answer after it and before the next one's:
	// the person's lines were written first, so read the page's answers in
	// order and match them to the questions.
	want := []string{"automated assistant", "", "link"} // hi: the notice; help: anything; balance unlinked: the link offer
	for {
		lines := w.sim.Chat("ann").Lines
		if ps := pageLines(lines); len(ps) >= len(said) {
			for i, frag := range want {
				if !strings.Contains(ps[i].Text, frag) {
					t.Errorf("answer %d to %q is %q, want it to contain %q (answers out of order?)", i, said[i], ps[i].Text, frag)
				}
			}
			break
		}
		if !w.sim.WaitReply(deadline, "ann", len(lines)) {
			t.Fatalf("answers after the worker started: %+v", pageLines(w.sim.Chat("ann").Lines))
		}
	}
	time.Sleep(300 * time.Millisecond) // a redelivery answered twice would show by now
	if n := len(pageLines(w.sim.Chat("ann").Lines)); n != len(said) {
		t.Errorf("%d answers to %d messages and a redelivery, want %d", n, len(said), len(said))
	}
}

// TestHandoverToLiveChatAndBack: the bank is the primary receiver and a
// live-chat app the secondary. When the assistant hands the conversation
// to a person, the bank passes the thread to the live-chat app; the
// person's next messages come under standby and the bank does not answer
// them; when the live-chat app passes the thread back, the assistant says
// it is back. A request from the live-chat app is granted.
func TestHandoverToLiveChatAndBack(t *testing.T) {
	t.Parallel()
	w := newWorldWith(t, false, true)
	ctx := context.Background()
	if out := joined(w.say("bo", "talk to a person")); !strings.Contains(out, "passing this conversation to a person") {
		t.Fatalf("hand-over answered %q", out)
	}
	if owner := w.sim.ThreadOwner("bo"); owner != w.sim.LiveChatAppID() {
		t.Fatalf("thread owner after the hand-over %q, want the live-chat app %q", owner, w.sim.LiveChatAppID())
	}
	if got := w.say("bo", "hello? balance"); len(got) != 0 {
		t.Fatalf("the bank answered a standby message: %+v", got)
	}
	// Not answered, but kept in the transcript the bank's inbox shows.
	_, _, ms, err := w.hub.Transcript(ctx, assistant.Key{Platform: messenger.Platform, User: w.sim.Chat("bo").PSID})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ms, func(m assistant.Message) bool { return m.Dir == assistant.In && m.Text == "hello? balance" }) {
		t.Errorf("the standby message is not in the transcript: %+v", ms)
	}
	if !w.sim.LiveChatReply("bo", "Hi, Jo here") {
		t.Fatal("the live-chat app may not write in its own thread")
	}
	before := len(w.sim.Chat("bo").Lines)
	if err := w.sim.LiveChatPassBack(ctx, "bo"); err != nil {
		t.Fatal(err)
	}
	back := joined(pageLines(w.sim.Chat("bo").Lines[before:]))
	if !strings.Contains(back, "back with the bank's automated assistant") {
		t.Fatalf("after the pass back the chat shows %q", back)
	}
	if out := joined(w.say("bo", "help")); out == "" {
		t.Fatal("the assistant does not answer after the pass back")
	}
	if err := w.sim.LiveChatRequest(ctx, "bo"); err != nil {
		t.Fatal(err)
	}
	if owner := w.sim.ThreadOwner("bo"); owner != w.sim.LiveChatAppID() {
		t.Errorf("thread owner after the live-chat app asked %q, want it granted", owner)
	}
}

// TestWebhookForAnotherPageDropped: an event signed with the app's secret
// but addressed to another page of the app is answered 200 (the platform
// has no reason to resend it) and never reaches the assistant.
func TestWebhookForAnotherPageDropped(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	psid := w.sim.Chat("cy").PSID
	at := time.Now().UnixMilli()
	body := []byte(fmt.Sprintf(`{"object":"page","entry":[{"id":"999","time":%d,"messaging":[{"sender":{"id":%q},"recipient":{"id":"999"},"timestamp":%d,"message":{"mid":"m_other_page","text":"balance"}}]}]}`,
		at, psid, at))
	status, err := w.sim.PostRaw(context.Background(), body, messenger.Signature(secret, body))
	if err != nil || status != http.StatusOK {
		t.Fatalf("webhook for another page: %d, %v; want 200", status, err)
	}
	if got := pageLines(w.sim.Chat("cy").Lines); len(got) != 0 {
		t.Errorf("the bank answered an event for another page: %+v", got)
	}
}

// TestAuthorizationCodeOnlyOnceAndOnlyForItsPerson: the authorization_code
// the bank appends to the platform's redirect_uri is redeemed by the
// account_linking webhook of the person the linking was started for, once.
// The same code arriving for another person links nobody and ends the
// consent behind it (the code has leaked); arriving again, it links nobody.
func TestAuthorizationCodeOnlyOnceAndOnlyForItsPerson(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	var linkURL string
	for _, l := range w.say("dee", "link my account") {
		for _, b := range l.Buttons {
			if b.Type == "account_link" {
				linkURL = b.URL
			}
		}
	}
	jar, _ := cookiejar.New(nil)
	// The browser stops where the bank sends it back to the platform, so
	// the test holds the code instead of the platform.
	br := &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), w.sim.RedirectURI()) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	res, err := br.Get(w.sim.LinkURL("dee", linkURL))
	if err != nil {
		t.Fatal(err)
	}
	login := read(t, res)
	res, err = br.PostForm(w.bank.URL+"/login", url.Values{"csrf": {field(t, csrfRe, login)}, "email": {email},
		"password": {password}, "next": {field(t, nextRe, login)}})
	if err != nil {
		t.Fatal(err)
	}
	page := read(t, res)
	res, err = br.PostForm(w.bank.URL+"/consent", url.Values{"csrf": {field(t, csrfRe, page)}, "request": {field(t, requestRe, page)},
		"decision": {"approve"}, "account": {fmt.Sprint(w.checking.ID)}, "days": {"30"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back, err := url.Parse(res.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(back.String(), w.sim.RedirectURI()) || back.Query().Get("account_linking_token") == "" {
		t.Fatalf("the bank sent the browser to %q, want the platform's redirect_uri", res.Header.Get("Location"))
	}
	code := back.Query().Get("authorization_code")
	if code == "" || back.Query().Has("code") || back.Query().Has("state") {
		t.Fatalf("redirect %s: want authorization_code only, not OAuth's code/state", back)
	}
	linking := func(name string) {
		t.Helper()
		at := time.Now().UnixMilli()
		body := []byte(fmt.Sprintf(`{"object":"page","entry":[{"id":%q,"time":%d,"messaging":[{"sender":{"id":%q},"recipient":{"id":%q},"timestamp":%d,"account_linking":{"status":"linked","authorization_code":%q}}]}]}`,
			w.sim.PageID(), at, w.sim.Chat(name).PSID, w.sim.PageID(), at, code))
		if status, err := w.sim.PostRaw(ctx, body, messenger.Signature(secret, body)); err != nil || status != http.StatusOK {
			t.Fatalf("account_linking for %s: %d, %v", name, status, err)
		}
	}
	linking("eve") // the code, for another person
	if _, err := w.db.Messenger().Link(ctx, assistant.Key{Platform: "messenger", User: w.sim.Chat("eve").PSID}); err == nil {
		t.Fatal("another person was linked with dee's code")
	}
	grants, err := w.cons.CustomerGrants(ctx, w.customer.ID)
	if err != nil || len(grants) != 1 || grants[0].Status != consent.Revoked {
		t.Fatalf("consents after the misdirected code: %+v, %v; want the one, revoked", grants, err)
	}
	linking("dee") // and again, for its person: spent
	if _, err := w.db.Messenger().Link(ctx, assistant.Key{Platform: "messenger", User: w.sim.Chat("dee").PSID}); err == nil {
		t.Fatal("a spent code linked dee")
	}
}
