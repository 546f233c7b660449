package platformsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/platformsim"
)

// bank is a webhook receiver that keeps what the sim delivered.
type bank struct {
	mu     sync.Mutex
	bodies []map[string]any
}

func (b *bank) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Header.Get("X-Hub-Signature-256") != platformsim.Signature("secret", body) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var m map[string]any
	json.Unmarshal(body, &m)
	b.mu.Lock()
	b.bodies = append(b.bodies, m)
	b.mu.Unlock()
}

// last returns the last delivered event and whether it came under standby.
func (b *bank) last(t *testing.T) (map[string]any, bool) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.bodies) == 0 {
		t.Fatal("no webhook delivered")
	}
	e := b.bodies[len(b.bodies)-1]["entry"].([]any)[0].(map[string]any)
	if s, ok := e["standby"]; ok {
		return s.([]any)[0].(map[string]any), true
	}
	return e["messaging"].([]any)[0].(map[string]any), false
}

func (b *bank) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.bodies)
}

var simNow = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func newSim(t *testing.T, o platformsim.Options) (*platformsim.Sim, *httptest.Server, *bank) {
	t.Helper()
	b := &bank{}
	bankSrv := httptest.NewServer(b)
	t.Cleanup(bankSrv.Close)
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	o.BaseURL, o.WebhookURL, o.AppSecret, o.VerifyToken, o.PageToken = srv.URL, bankSrv.URL, "secret", "verify", "page-token"
	if o.Now == nil {
		o.Now = func() time.Time { return simNow }
	}
	s := platformsim.New(o)
	h = s.Handler()
	return s, srv, b
}

type graphAnswer struct {
	status  int
	Code    int `json:"code"`
	Subcode int `json:"error_subcode"`
}

func call(t *testing.T, method, u string, body any) graphAnswer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Error graphAnswer `json:"error"`
	}
	json.NewDecoder(res.Body).Decode(&out)
	out.Error.status = res.StatusCode
	return out.Error
}

func text(psid, typ, msg string) map[string]any {
	return map[string]any{"recipient": map[string]string{"id": psid}, "messaging_type": typ, "message": map[string]string{"text": msg}}
}

func TestGraphVersionsOnlyThoseMetaServes(t *testing.T) {
	t.Parallel()
	s, _, _ := newSim(t, platformsim.Options{})
	psid := s.Chat("ann").PSID
	s.Say(context.Background(), "ann", "hi") // opens the window
	for _, tt := range []struct {
		version string
		ok      bool
	}{{"v25.0", true}, {"v21.0", true}, {"v26.0", true}, {"v20.0", false}, {"v19.0", false}, {"v99.0", false}} {
		got := call(t, "POST", s.GraphURL()+"/"+tt.version+"/me/messages?access_token=page-token", text(psid, "RESPONSE", "hello"))
		if ok := got.status == http.StatusOK; ok != tt.ok || (!ok && got.Code != 100) {
			t.Errorf("%s on 2026-12-04: %+v, want served %v (else code 100)", tt.version, got, tt.ok)
		}
	}
}

func TestSendAPIRefusesAsMetaDoes(t *testing.T) {
	t.Parallel()
	s, _, _ := newSim(t, platformsim.Options{})
	psid := s.Chat("ann").PSID
	send := func(body any, token string) graphAnswer {
		return call(t, "POST", s.GraphURL()+"/"+platformsim.LatestGraphVersion+"/me/messages?access_token="+token, body)
	}
	if got := send(text(psid, "RESPONSE", "hello"), "page-token"); got.Code != 10 || got.Subcode != 2018278 {
		t.Errorf("a reply before the person wrote: %+v, want (#10) 2018278 outside the window", got)
	}
	if got := send(text(psid, "RESPONSE", "hello"), "wrong"); got.Code != 190 {
		t.Errorf("a wrong page token: %+v, want 190", got)
	}
	if got := send(text("1234", "RESPONSE", "hello"), "page-token"); got.Code != 100 || got.Subcode != 2018001 {
		t.Errorf("an unknown person: %+v, want 100/2018001", got)
	}
	tagged := text(psid, "MESSAGE_TAG", "hello")
	tagged["tag"] = "NON_PROMOTIONAL_SUBSCRIPTION"
	if got := send(tagged, "page-token"); got.Code != 100 {
		t.Errorf("a retired tag: %+v, want 100", got)
	}
	tagged["tag"] = "ACCOUNT_UPDATE"
	if got := send(tagged, "page-token"); got.status != http.StatusOK {
		t.Errorf("ACCOUNT_UPDATE outside the window: %+v, want sent", got)
	}
}

func TestAccountLinkButtonHTTPSOnly(t *testing.T) {
	t.Parallel()
	button := func(psid, u string) map[string]any {
		return map[string]any{"recipient": map[string]string{"id": psid}, "messaging_type": "RESPONSE", "message": map[string]any{
			"attachment": map[string]any{"type": "template", "payload": map[string]any{"template_type": "button", "text": "Link",
				"buttons": []map[string]string{{"type": "account_link", "url": u}}}}}}
	}
	for _, tt := range []struct {
		loopback bool
		url      string
		ok       bool
	}{
		{false, "https://bank.example/link", true},
		{false, "http://bank.example/link", false},
		{false, "http://127.0.0.1:8080/link", false},
		{true, "http://127.0.0.1:8080/link", true},
		{true, "http://localhost:8080/link", true},
		{true, "http://bank.example/link", false},
	} {
		s, _, _ := newSim(t, platformsim.Options{AllowLoopbackHTTP: tt.loopback})
		psid := s.Chat("ann").PSID
		s.Say(context.Background(), "ann", "hi")
		got := call(t, "POST", s.GraphURL()+"/"+platformsim.LatestGraphVersion+"/me/messages?access_token=page-token", button(psid, tt.url))
		if ok := got.status == http.StatusOK; ok != tt.ok {
			t.Errorf("account_link %s (loopback exception %v): %+v, want accepted %v", tt.url, tt.loopback, got, tt.ok)
		}
	}
}

func TestSendRateIs300PerSecondPerPage(t *testing.T) {
	t.Parallel()
	s, _, _ := newSim(t, platformsim.Options{})
	psid := s.Chat("ann").PSID
	s.Say(context.Background(), "ann", "hi")
	u := s.GraphURL() + "/" + platformsim.LatestGraphVersion + "/me/messages?access_token=page-token"
	for i := range 300 {
		if got := call(t, "POST", u, text(psid, "RESPONSE", "n")); got.status != http.StatusOK {
			t.Fatalf("call %d within the second: %+v", i+1, got)
		}
	}
	if got := call(t, "POST", u, text(psid, "RESPONSE", "n")); got.Code != 613 {
		t.Errorf("call 301 within the second: %+v, want 613", got)
	}
}

// follow starts linking as the button does and returns the bank URL the
// platform opened, with its redirect_uri.
func follow(t *testing.T, s *platformsim.Sim, name string) url.Values {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(s.LinkURL(name, "https://bank.example/channels/messenger/link"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	q := loc.Query()
	if loc.Host != "bank.example" || q.Get("account_linking_token") == "" || !strings.HasPrefix(q.Get("redirect_uri"), s.RedirectURI()+"?") {
		t.Fatalf("the button opened %s", loc)
	}
	return q
}

func TestLinkRedirectTakesOnlyTheDocumentedForm(t *testing.T) {
	t.Parallel()
	s, _, b := newSim(t, platformsim.Options{})
	get := func(u string) int {
		res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	// OAuth's code/state sent to the platform: refused.
	q := follow(t, s, "ann")
	if st := get(q.Get("redirect_uri") + "&code=abc&state=" + q.Get("account_linking_token")); st != http.StatusBadRequest {
		t.Errorf("code/state form: %d, want 400", st)
	}
	// No authorization_code: linking failed, no webhook.
	q = follow(t, s, "ann")
	n := b.count()
	if st := get(q.Get("redirect_uri")); st != http.StatusSeeOther || b.count() != n || s.Chat("ann").Linked {
		t.Errorf("failure form: %d, %d webhooks, linked %v; want the chat again, no webhook", st, b.count()-n, s.Chat("ann").Linked)
	}
	// authorization_code appended: the account_linking webhook carries it.
	q = follow(t, s, "ann")
	redirect := q.Get("redirect_uri") + "&authorization_code=bank-made-code"
	get(redirect)
	ev, standby := b.last(t)
	al, _ := ev["account_linking"].(map[string]any)
	if standby || al["status"] != "linked" || al["authorization_code"] != "bank-made-code" || !s.Chat("ann").Linked {
		t.Errorf("success form delivered %+v (standby %v)", ev, standby)
	}
	// The token is spent: the same redirect again is refused.
	if st := get(redirect); st != http.StatusBadRequest {
		t.Errorf("a replayed redirect: %d, want 400", st)
	}
}

func TestHandoverPassStandbyAndPassBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _, b := newSim(t, platformsim.Options{})
	psid := s.Chat("ann").PSID
	v := s.GraphURL() + "/" + platformsim.LatestGraphVersion
	s.Say(ctx, "ann", "hi")
	if _, standby := b.last(t); standby {
		t.Fatal("an idle thread's message came under standby")
	}
	if got := call(t, "POST", v+"/me/pass_thread_control?access_token=page-token",
		map[string]any{"recipient": map[string]string{"id": psid}, "target_app_id": "999"}); got.Code != 100 {
		t.Errorf("pass to an app not of the page: %+v, want 100", got)
	}
	if got := call(t, "POST", v+"/me/pass_thread_control?access_token=page-token",
		map[string]any{"recipient": map[string]string{"id": psid}, "target_app_id": s.LiveChatAppID(), "metadata": "to a person"}); got.status != http.StatusOK {
		t.Fatalf("pass to the live-chat app: %+v", got)
	}
	s.Say(ctx, "ann", "are you a person?")
	if _, standby := b.last(t); !standby {
		t.Error("a message while the live-chat app owns the thread came under messaging, want standby")
	}
	if got := call(t, "POST", v+"/me/messages?access_token=page-token", text(psid, "RESPONSE", "hello")); got.Code != 10 {
		t.Errorf("the bank sending into the live-chat app's thread: %+v, want (#10)", got)
	}
	if !s.LiveChatReply("ann", "Hi, I'm Jo from the bank") {
		t.Error("the live-chat app could not write in the thread it owns")
	}
	if err := s.LiveChatPassBack(ctx, "ann"); err != nil {
		t.Fatal(err)
	}
	ev, standby := b.last(t)
	p, _ := ev["pass_thread_control"].(map[string]any)
	if standby || p["new_owner_app_id"] != s.AppID() || p["previous_owner_app_id"] != s.LiveChatAppID() {
		t.Errorf("pass back delivered %+v (standby %v)", ev, standby)
	}
	if got := call(t, "POST", v+"/me/messages?access_token=page-token", text(psid, "RESPONSE", "welcome back")); got.status != http.StatusOK {
		t.Errorf("the bank after the pass back: %+v", got)
	}
	if err := s.LiveChatRequest(ctx, "ann"); err != nil {
		t.Fatal(err)
	}
	ev, _ = b.last(t)
	if r, _ := ev["request_thread_control"].(map[string]any); r["requested_owner_app_id"] != s.LiveChatAppID() {
		t.Errorf("request delivered %+v", ev)
	}
	if got := call(t, "POST", v+"/me/take_thread_control?access_token=page-token",
		map[string]any{"recipient": map[string]string{"id": psid}}); got.status != http.StatusOK || s.ThreadOwner("ann") != s.AppID() {
		t.Errorf("take_thread_control by the primary receiver: %+v, owner %q", got, s.ThreadOwner("ann"))
	}
}

// TestEmulatorsServeTheBanksDefaultGraphVersion: the version the bank
// calls by default is in the emulators' table, with the expiry day the
// bank knows for it.
func TestEmulatorsServeTheBanksDefaultGraphVersion(t *testing.T) {
	t.Parallel()
	if got := platformsim.GraphVersionExpires(channels.DefaultGraphVersion); !got.Equal(channels.DefaultGraphVersionExpires) {
		t.Errorf("the emulators say %s expires on %v, the bank %v", channels.DefaultGraphVersion, got, channels.DefaultGraphVersionExpires)
	}
}
