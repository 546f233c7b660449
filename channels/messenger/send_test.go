package messenger_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/channels/messenger"
)

// graph is a fake Graph API that records Send API bodies and answers with
// the statuses queued in fail, then 200.
type graph struct {
	mu     sync.Mutex
	bodies []messenger.SendRequest
	fail   []int
	calls  int
	path   string // of the last call
}

func (g *graph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls++
	g.path = r.URL.Path
	if len(g.fail) > 0 {
		code := g.fail[0]
		g.fail = g.fail[1:]
		status := http.StatusBadRequest
		if code >= 500 {
			status = code
		}
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": "x", "code": code}})
		return
	}
	b, _ := io.ReadAll(r.Body)
	var req messenger.SendRequest
	json.Unmarshal(b, &req)
	g.bodies = append(g.bodies, req)
	w.Write([]byte(`{"recipient_id":"1","message_id":"m_1"}`))
}

func newAdapter(t *testing.T, g *graph, now time.Time) *messenger.Adapter {
	t.Helper()
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	a, err := messenger.New(messenger.Config{AppSecret: "s", VerifyToken: "v", PageToken: "p", GraphURL: srv.URL,
		BankURL: "https://bank.example", Backoff: time.Microsecond, Now: func() time.Time { return now }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestSendWindowsAndTags checks messaging_type and tag against the 24-hour
// window and the 7-day HUMAN_AGENT window.
func TestSendWindowsAndTags(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 18, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		purpose channels.Purpose
		since   time.Duration
		typ     string
		tag     string
		err     error
	}{
		{"ResponseInWindow", channels.Response, time.Hour, "RESPONSE", "", nil},
		{"ResponseAfterWindow", channels.Response, 25 * time.Hour, "", "", channels.ErrWindowClosed},
		{"StaffInWindow", channels.Staff, 23 * time.Hour, "RESPONSE", "", nil},
		{"StaffAfter24h", channels.Staff, 30 * time.Hour, "MESSAGE_TAG", "HUMAN_AGENT", nil},
		{"StaffAfter7d", channels.Staff, 8 * 24 * time.Hour, "", "", channels.ErrWindowClosed},
		{"UpdateInWindow", channels.Update, time.Hour, "UPDATE", "", nil},
		{"UpdateAfterWindowRefused", channels.Update, 72 * time.Hour, "", "", channels.ErrWindowClosed},
		{"UpdateNeverWrote", channels.Update, 0, "", "", channels.ErrWindowClosed},
		{"AccountChangeInWindow", channels.AccountChange, time.Hour, "UPDATE", "", nil},
		{"AccountChangeAfterWindow", channels.AccountChange, 72 * time.Hour, "MESSAGE_TAG", "ACCOUNT_UPDATE", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := &graph{}
			a := newAdapter(t, g, now)
			lastIn := now.Add(-tt.since)
			if tt.since == 0 {
				lastIn = time.Time{}
			}
			err := a.Send(context.Background(), channels.Outbound{To: "42", Purpose: tt.purpose, LastIn: lastIn,
				Reply: assistant.Reply{Text: "hello", Choices: []assistant.Choice{{Title: "Balance", Payload: "INTENT:balance"}},
					Buttons: []assistant.Button{{Kind: assistant.ButtonLinkAccount, Title: "Link"}}}})
			if tt.err != nil {
				if !errors.Is(err, tt.err) || g.calls != 0 {
					t.Fatalf("err %v after %d calls, want %v and no call", err, g.calls, tt.err)
				}
				return
			}
			if err != nil || len(g.bodies) != 1 {
				t.Fatalf("err %v, %d bodies", err, len(g.bodies))
			}
			b := g.bodies[0]
			if b.MessagingType != tt.typ || b.Tag != tt.tag || b.Recipient.ID != "42" {
				t.Errorf("sent %s/%s to %s, want %s/%s", b.MessagingType, b.Tag, b.Recipient.ID, tt.typ, tt.tag)
			}
			bt := b.Message.Attachment.Payload.Buttons
			if len(bt) != 1 || bt[0].Type != "account_link" || bt[0].URL != "https://bank.example"+messenger.PathLink {
				t.Errorf("buttons %+v", bt)
			}
			if len(b.Message.QuickReplies) != 1 || b.Message.QuickReplies[0].ContentType != "text" {
				t.Errorf("quick replies %+v", b.Message.QuickReplies)
			}
		})
	}
}

// TestSendRetries retries transient and throttling errors a bounded number
// of times, and never retries a permanent refusal.
func TestSendRetries(t *testing.T) {
	t.Parallel()
	now := time.Now()
	send := func(g *graph) error {
		return newAdapter(t, g, now).Send(context.Background(), channels.Outbound{To: "1", Purpose: channels.Response, LastIn: now, Reply: assistant.Reply{Text: "x"}})
	}
	g := &graph{fail: []int{2, 613, 500}}
	if err := send(g); err != nil || g.calls != 4 {
		t.Errorf("three transient failures then success: err %v after %d calls", err, g.calls)
	}
	g = &graph{fail: []int{2, 2, 2, 2, 2}}
	if err := send(g); !errors.Is(err, messenger.ErrSend) || g.calls != 4 {
		t.Errorf("always failing: err %v after %d calls, want ErrSend after 4", err, g.calls)
	}
	g = &graph{fail: []int{100}}
	if err := send(g); !errors.Is(err, messenger.ErrSend) || g.calls != 1 {
		t.Errorf("permanent error: err %v after %d calls, want 1 call", err, g.calls)
	}
}

// TestWebhookSignature refuses bad signatures before parsing and answers
// the verification handshake only with the right token.
func TestWebhookSignature(t *testing.T) {
	t.Parallel()
	a := newAdapter(t, &graph{}, time.Now())
	h := a.Handler()
	do := func(method, target, body, sig string) int {
		r := httptest.NewRequest(method, target, stringsReader(body))
		if sig != "" {
			r.Header.Set("X-Hub-Signature-256", sig)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	if c := do("GET", messenger.PathWebhook+"?hub.mode=subscribe&hub.verify_token=v&hub.challenge=123", "", ""); c != 200 {
		t.Errorf("verification with the right token: %d", c)
	}
	if c := do("GET", messenger.PathWebhook+"?hub.mode=subscribe&hub.verify_token=w&hub.challenge=123", "", ""); c != 403 {
		t.Errorf("verification with a wrong token: %d", c)
	}
	body := `{"object":"page","entry":[]}`
	if c := do("POST", messenger.PathWebhook, body, messenger.Signature("s", []byte(body))); c != 200 {
		t.Errorf("signed empty notification: %d", c)
	}
	if c := do("POST", messenger.PathWebhook, "not json at all", messenger.Signature("other", []byte("not json at all"))); c != 401 {
		t.Errorf("bad signature on a bad body must be 401 (refused before parsing), got %d", c)
	}
	if c := do("POST", messenger.PathWebhook, "not json at all", messenger.Signature("s", []byte("not json at all"))); c != 400 {
		t.Errorf("good signature on a bad body: %d, want 400", c)
	}
}

// FuzzWebhook posts arbitrary bodies with valid and invalid signatures:
// the handler never panics, and a body not signed with the secret is always
// 401.
func FuzzWebhook(f *testing.F) {
	f.Add([]byte(`{"object":"page","entry":[{"messaging":[{"sender":{"id":"1"},"message":{"mid":"m","text":"hi"}}]}]}`), true)
	f.Add([]byte(`{"object":"page"`), false)
	f.Add([]byte{}, true)
	a, err := messenger.New(messenger.Config{AppSecret: "s", VerifyToken: "v", PageToken: "p", GraphURL: "http://127.0.0.1:9", BankURL: "https://bank.example"}, nil)
	if err != nil {
		f.Fatal(err)
	}
	h := a.Handler()
	f.Fuzz(func(t *testing.T, body []byte, signed bool) {
		if signed && len(body) > 0 && body[0] == '{' {
			// Signed bodies reach parsing; keep them free of events so no
			// hub is needed.
			var n messenger.Notification
			if json.Unmarshal(body, &n) == nil {
				for _, e := range n.Entry {
					if len(e.Messaging) > 0 {
						return
					}
				}
			}
		}
		sig := messenger.Signature("wrong", body)
		if signed {
			sig = messenger.Signature("s", body)
		}
		r := httptest.NewRequest("POST", messenger.PathWebhook, bytesReader(body))
		r.Header.Set("X-Hub-Signature-256", sig)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if !signed && w.Code != http.StatusUnauthorized {
			t.Fatalf("unsigned body answered %d", w.Code)
		}
	})
}

func stringsReader(s string) io.Reader { return bytesReader([]byte(s)) }
func bytesReader(b []byte) io.Reader   { return &reader{b: b} }

type reader struct{ b []byte }

func (r *reader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// TestLinkTakesOnlyThePlatformsRedirect: the account-link entry sends a
// browser on only with a redirect_uri under the platform's own, so that a
// crafted link cannot collect a linking code; the bank's own OAuth
// callback refuses a state it never issued.
func TestLinkTakesOnlyThePlatformsRedirect(t *testing.T) {
	t.Parallel()
	a := newAdapter(t, &graph{}, time.Now())
	for _, tt := range []struct{ name, redirect string }{
		{"Missing", ""},
		{"OtherHost", "https://evil.example/messenger_platform/account_linking/?account_linking_token=t"},
		{"PlainHTTP", "http://www.facebook.com/messenger_platform/account_linking/?account_linking_token=t"},
		{"OtherPath", "https://www.facebook.com/elsewhere/?account_linking_token=t"},
		{"UserInfo", "https://x@www.facebook.com/messenger_platform/account_linking/"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", messenger.PathLink+"?"+url.Values{"account_linking_token": {"tok"}, "redirect_uri": {tt.redirect}}.Encode(), nil)
			w := httptest.NewRecorder()
			a.Handler().ServeHTTP(w, r)
			if w.Code != http.StatusBadRequest || w.Header().Get("Location") != "" {
				t.Errorf("redirect_uri %q: %d to %q, want 400 and no redirect", tt.redirect, w.Code, w.Header().Get("Location"))
			}
		})
	}
}

// TestGraphVersionIsASetting: a Graph URL with a version in it is refused
// (the version is its own setting), and the default is one Meta serves.
func TestGraphVersionIsASetting(t *testing.T) {
	t.Parallel()
	c := messenger.Config{AppSecret: "s", VerifyToken: "v", PageToken: "p", BankURL: "https://bank.example"}
	c.GraphURL = "https://graph.facebook.com/v19.0"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "BANKBRIDGE_MESSENGER_GRAPH_VERSION") {
		t.Errorf("graph URL with a version: %v, want it refused", err)
	}
	c.GraphURL, c.GraphVersion = messenger.DefaultGraphURL, "19"
	if err := c.Validate(); err == nil {
		t.Error("graph version 19: accepted, want v19.0's form")
	}
	g := &graph{}
	a := newAdapter(t, g, time.Now())
	a.Send(context.Background(), channels.Outbound{To: "42", Purpose: channels.Response, LastIn: time.Now(), Reply: assistant.Reply{Text: "hi"}})
	if g.path != "/"+messenger.DefaultGraphVersion+"/me/messages" {
		t.Errorf("called %q, want the default version %s", g.path, messenger.DefaultGraphVersion)
	}
}
