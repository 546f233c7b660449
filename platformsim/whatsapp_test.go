package platformsim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/platformsim"
)

type waBed struct {
	sim     *platformsim.WhatsAppSim
	version string // of the Graph API calls
	mu      sync.Mutex
	now     time.Time
	hook    struct {
		sync.Mutex
		verified int
		sigs     []string
		bodies   [][]byte
	}
}

func newWABed(t *testing.T) *waBed {
	t.Helper()
	b := &waBed{now: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC), version: "v25.0"}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	b.sim = platformsim.NewWhatsApp(platformsim.WhatsAppOptions{Prefix: "/sim/whatsapp", BaseURL: srv.URL + "/sim/whatsapp", WebhookURL: srv.URL + "/hook",
		AccessToken: "TOKEN", AppSecret: "app-secret", VerifyToken: "verify-me",
		Templates: map[string]platformsim.WhatsAppTemplate{
			"account_alert": {Language: "en_US", Category: "UTILITY", Status: "APPROVED", BodyParams: 1},
			"paused_alert":  {Language: "en_US", Category: "UTILITY", Status: "PAUSED", BodyParams: 1},
			"new_alert":     {Language: "en_US", Category: "UTILITY", Status: "PENDING", BodyParams: 1},
		},
		Now: func() time.Time { b.mu.Lock(); defer b.mu.Unlock(); return b.now }})
	mux.Handle("/sim/whatsapp/", b.sim.Handler())
	mux.HandleFunc("GET /hook", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("hub.mode") != "subscribe" || q.Get("hub.verify_token") != "verify-me" {
			http.Error(w, "no", 403)
			return
		}
		b.hook.Lock()
		b.hook.verified++
		b.hook.Unlock()
		io.WriteString(w, q.Get("hub.challenge"))
	})
	mux.HandleFunc("POST /hook", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.hook.Lock()
		b.hook.sigs = append(b.hook.sigs, r.Header.Get("X-Hub-Signature-256"))
		b.hook.bodies = append(b.hook.bodies, body)
		b.hook.Unlock()
	})
	return b
}

func (b *waBed) advance(d time.Duration) { b.mu.Lock(); b.now = b.now.Add(d); b.mu.Unlock() }

type waAnswer struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Messages []struct{ ID string } `json:"messages"`
}

func (b *waBed) send(t *testing.T, token, phoneID string, msg map[string]any) (int, waAnswer) {
	t.Helper()
	raw, _ := json.Marshal(msg)
	req, _ := http.NewRequest("POST", b.sim.GraphURL()+"/"+b.version+"/"+phoneID+"/messages", strings.NewReader(string(raw)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var a waAnswer
	json.NewDecoder(res.Body).Decode(&a)
	return res.StatusCode, a
}

func waText(to, body string) map[string]any {
	return map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text", "text": map[string]any{"body": body}}
}

func waTemplate(to, name string, params ...string) map[string]any {
	var ps []map[string]string
	for _, p := range params {
		ps = append(ps, map[string]string{"type": "text", "text": p})
	}
	return map[string]any{"messaging_product": "whatsapp", "to": to, "type": "template",
		"template": map[string]any{"name": name, "language": map[string]string{"code": "en_US"}, "components": []map[string]any{{"type": "body", "parameters": ps}}}}
}

func waButtons(to string, n int) map[string]any {
	var bs []map[string]any
	for i := range n {
		bs = append(bs, map[string]any{"type": "reply", "reply": map[string]string{"id": string(rune('a' + i)), "title": "Choice " + string(rune('A'+i))}})
	}
	return map[string]any{"messaging_product": "whatsapp", "to": to, "type": "interactive",
		"interactive": map[string]any{"type": "button", "body": map[string]string{"text": "Pick one"}, "action": map[string]any{"buttons": bs}}}
}

func TestWhatsAppSimRefusesWhatTheCloudAPIRefuses(t *testing.T) {
	t.Parallel()
	b := newWABed(t)
	ctx := context.Background()
	if err := b.sim.Say(ctx, "ann", "hi"); err != nil {
		t.Fatal(err)
	}
	ann := b.sim.Chat("ann").WaID
	pid := b.sim.PhoneNumberID()
	for _, tc := range []struct {
		name          string
		token, number string
		msg           map[string]any
		status, code  int
	}{
		{"BadToken", "WRONG", pid, waText(ann, "hi"), 401, 190},
		{"UnknownPhoneNumberID", "TOKEN", "999", waText(ann, "hi"), 400, 100},
		{"NoMessagingProduct", "TOKEN", pid, map[string]any{"to": ann, "type": "text", "text": map[string]string{"body": "hi"}}, 400, 100},
		{"FourReplyButtons", "TOKEN", pid, waButtons(ann, 4), 400, 131009},
		{"UnknownTemplate", "TOKEN", pid, waTemplate(ann, "nope", "x"), 400, 132001},
		{"TemplateNotApproved", "TOKEN", pid, waTemplate(ann, "new_alert", "x"), 400, 132001},
		{"TemplatePaused", "TOKEN", pid, waTemplate(ann, "paused_alert", "x"), 400, 132015},
		{"TemplateParams", "TOKEN", pid, waTemplate(ann, "account_alert"), 400, 132000},
		{"TemplateNewline", "TOKEN", pid, waTemplate(ann, "account_alert", "a\nb"), 400, 132018},
		{"UnknownRecipient", "TOKEN", pid, waText("15559999999", "hi"), 400, 131026},
	} {
		if st, a := b.send(t, tc.token, tc.number, tc.msg); st != tc.status || a.Error.Code != tc.code {
			t.Errorf("%s: %d code %d (%s), want %d code %d", tc.name, st, a.Error.Code, a.Error.Message, tc.status, tc.code)
		}
	}
	// Graph API versions: served until Meta's expiry day, then refused
	// (v18.0 expired on 2026-01-26, v19.0 on 2026-05-21; the bed's clock is
	// 2026-03-02), and unknown ones never.
	for _, tc := range []struct {
		version string
		ok      bool
	}{{"v25.0", true}, {"v19.0", true}, {"v18.0", false}, {"v9.0", false}, {"v99.0", false}} {
		b.version = tc.version
		st, a := b.send(t, "TOKEN", pid, waText(ann, "hi"))
		if (st == 200) != tc.ok || (!tc.ok && a.Error.Code != 2635) {
			t.Errorf("Graph %s: %d code %d, want served %v (else 400 code 2635)", tc.version, st, a.Error.Code, tc.ok)
		}
	}
	b.mu.Lock()
	b.now = time.Date(2026, 5, 21, 0, 0, 0, 0, time.UTC)
	b.mu.Unlock()
	b.version = "v19.0"
	if st, a := b.send(t, "TOKEN", pid, waText(ann, "hi")); st != 400 || a.Error.Code != 2635 {
		t.Errorf("Graph v19.0 on its expiry day: %d code %d, want 400 code 2635", st, a.Error.Code)
	}
	b.mu.Lock()
	b.now = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	b.mu.Unlock()
	b.version = "v25.0"
	if st, a := b.send(t, "TOKEN", pid, waButtons(ann, 3)); st != 200 || len(a.Messages) != 1 {
		t.Errorf("three reply buttons: %d %+v", st, a)
	}
	// The customer service window: 24 hours after the person wrote, free
	// form is refused with 131047 and an approved template still goes.
	b.advance(24*time.Hour + time.Second)
	if st, a := b.send(t, "TOKEN", pid, waText(ann, "hello again")); st != 400 || a.Error.Code != 131047 {
		t.Errorf("free form outside the window: %d code %d, want 400 131047", st, a.Error.Code)
	}
	if st, a := b.send(t, "TOKEN", pid, waTemplate(ann, "account_alert", "Card purchase 12.00 USD")); st != 200 {
		t.Errorf("approved template outside the window: %d %+v", st, a)
	}
	if b.sim.Refused(131047) != 1 {
		t.Errorf("131047 answered %d times, want 1", b.sim.Refused(131047))
	}
}

func TestWhatsAppSimThroughput(t *testing.T) {
	t.Parallel()
	b := newWABed(t)
	b.sim.Say(context.Background(), "ann", "hi")
	ann := b.sim.Chat("ann").WaID
	var limited int
	for range 81 { // at one instant
		if st, a := b.send(t, "TOKEN", b.sim.PhoneNumberID(), waText(ann, "x")); st != 200 && a.Error.Code == 130429 {
			limited++
		}
	}
	if limited != 1 {
		t.Errorf("%d of 81 messages at one instant refused with 130429, want 1 (80 a second)", limited)
	}
}

func TestWhatsAppSimWebhooks(t *testing.T) {
	t.Parallel()
	b := newWABed(t)
	ctx := context.Background()
	b.sim.Say(ctx, "ann", "hi")
	b.sim.Say(ctx, "ann", "balance")
	b.hook.Lock()
	defer b.hook.Unlock()
	if b.hook.verified != 1 {
		t.Errorf("verification requests %d, want 1 before the first notification", b.hook.verified)
	}
	if len(b.hook.bodies) != 2 {
		t.Fatalf("%d notifications, want 2", len(b.hook.bodies))
	}
	for i, body := range b.hook.bodies {
		if b.hook.sigs[i] != platformsim.WhatsAppSignature("app-secret", body) {
			t.Errorf("notification %d signed %q", i, b.hook.sigs[i])
		}
	}
	var n struct {
		Object string
		Entry  []struct {
			Changes []struct {
				Field string
				Value struct {
					Metadata struct {
						PhoneNumberID string `json:"phone_number_id"`
					}
					Messages []struct{ From, ID, Type string }
				}
			}
		}
	}
	json.Unmarshal(b.hook.bodies[1], &n)
	v := n.Entry[0].Changes[0].Value
	if n.Object != "whatsapp_business_account" || v.Metadata.PhoneNumberID != b.sim.PhoneNumberID() || v.Messages[0].From != b.sim.Chat("ann").WaID || v.Messages[0].Type != "text" {
		t.Errorf("notification %s", b.hook.bodies[1])
	}
}
