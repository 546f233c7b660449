package messenger_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/identity"
)

// TestStaffTakesTheThreadFromTheLiveChatApp: a conversation handed to the
// live-chat app; a member of staff opens it in the console and takes the
// thread (take_thread_control): the bank owns it again, the staff member
// answers from the inbox, and the audit log names who took it.
func TestStaffTakesTheThreadFromTheLiveChatApp(t *testing.T) {
	t.Parallel()
	w := newWorldWith(t, false, true)
	ctx := context.Background()
	if _, err := w.ids.AddStaff(ctx, identity.Staff{Email: "jo@bank.example", Name: "Jo Staffer", Role: identity.Support}, password); err != nil {
		t.Fatal(err)
	}
	if out := joined(w.say("bo", "talk to a person")); !strings.Contains(out, "passing this conversation to a person") {
		t.Fatalf("hand-over answered %q", out)
	}
	if owner := w.sim.ThreadOwner("bo"); owner != w.sim.LiveChatAppID() {
		t.Fatalf("thread owner after the hand-over %q, want the live-chat app", owner)
	}
	jar, _ := cookiejar.New(nil)
	br := &http.Client{Jar: jar}
	res, err := br.Get(w.bank.URL + "/console/login")
	if err != nil {
		t.Fatal(err)
	}
	login := read(t, res)
	res, err = br.PostForm(w.bank.URL+"/console/login", url.Values{"csrf": {field(t, csrfRe, login)}, "email": {"jo@bank.example"},
		"password": {password}, "next": {"/console/inbox"}})
	if err != nil {
		t.Fatal(err)
	}
	read(t, res)
	chatPath := "/console/inbox/messenger/" + w.sim.Chat("bo").PSID
	res, err = br.Get(w.bank.URL + chatPath)
	if err != nil {
		t.Fatal(err)
	}
	chat := read(t, res)
	if !strings.Contains(chat, "Take the thread") {
		t.Fatalf("no take button on the chat page:\n%s", chat)
	}
	res, err = br.PostForm(w.bank.URL+chatPath+"/take", url.Values{"csrf": {field(t, csrfRe, chat)}})
	if err != nil {
		t.Fatal(err)
	}
	if body := read(t, res); res.StatusCode != http.StatusOK || !strings.Contains(body, "The thread is the bank") {
		t.Fatalf("take: %d\n%s", res.StatusCode, body)
	}
	if owner := w.sim.ThreadOwner("bo"); owner != w.sim.AppID() {
		t.Errorf("thread owner after staff took it %q, want the bank's app %q", owner, w.sim.AppID())
	}
	page, err := w.alog.Store().Records(ctx, audit.Query{Kind: audit.ChatControl})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 1 || !strings.Contains(page.Records[0].Detail, "Jo Staffer") || !strings.HasPrefix(page.Records[0].Actor, "staff:") ||
		page.Records[0].Outcome != audit.OK {
		t.Errorf("audit records of the take: %+v, want one naming Jo Staffer", page.Records)
	}
	// The bank owns the thread: the staff member's reply reaches the person.
	res, err = br.Get(w.bank.URL + chatPath)
	if err != nil {
		t.Fatal(err)
	}
	chat = read(t, res)
	res, err = br.PostForm(w.bank.URL+chatPath+"/reply", url.Values{"csrf": {field(t, csrfRe, chat)}, "text": {"Hello, Jo from the bank here."}})
	if err != nil {
		t.Fatal(err)
	}
	if read(t, res); res.StatusCode != http.StatusOK {
		t.Fatalf("reply after the take: %d", res.StatusCode)
	}
	lines := pageLines(w.sim.Chat("bo").Lines)
	if last := lines[len(lines)-1]; last.Text != "Hello, Jo from the bank here." {
		t.Errorf("the platform's last page message is %q", last.Text)
	}
}
