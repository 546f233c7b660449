package platformsim

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Handler serves the sim under Options.Prefix: the chat pages, the account
// linking redirect and the Graph API.
func (s *Sim) Handler() http.Handler {
	p := s.o.Prefix
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+p+"/{$}", s.home)
	mux.HandleFunc("GET "+p+"/sim.css", s.css)
	mux.HandleFunc("GET "+p+"/chat/{name}", s.chat)
	mux.HandleFunc("POST "+p+"/chat/{name}/say", s.form(true, func(ctx context.Context, name string, f url.Values) error { return s.Say(ctx, name, f.Get("text")) }))
	mux.HandleFunc("POST "+p+"/chat/{name}/quick", s.form(true, func(ctx context.Context, name string, f url.Values) error {
		return s.Tap(ctx, name, f.Get("title"), f.Get("payload"))
	}))
	mux.HandleFunc("POST "+p+"/chat/{name}/postback", s.form(true, func(ctx context.Context, name string, f url.Values) error {
		return s.Postback(ctx, name, f.Get("title"), f.Get("payload"))
	}))
	mux.HandleFunc("POST "+p+"/chat/{name}/unlink", s.form(false, func(ctx context.Context, name string, _ url.Values) error { return s.Unlink(ctx, name) }))
	mux.HandleFunc("POST "+p+"/chat/{name}/redeliver", s.form(false, func(ctx context.Context, _ string, _ url.Values) error { return s.Redeliver(ctx) }))
	mux.HandleFunc("POST "+p+"/chat/{name}/livechat/request", s.form(false, func(ctx context.Context, name string, _ url.Values) error { return s.LiveChatRequest(ctx, name) }))
	mux.HandleFunc("POST "+p+"/chat/{name}/livechat/pass", s.form(true, func(ctx context.Context, name string, _ url.Values) error { return s.LiveChatPassBack(ctx, name) }))
	mux.HandleFunc("GET "+p+"/chat/{name}/link", s.startLink)
	mux.HandleFunc("GET "+p+"/account_linking/redirect", s.linkRedirect)
	mux.HandleFunc("GET "+p+"/graph/{version}/me", s.graphCall(s.me))
	mux.HandleFunc("POST "+p+"/graph/{version}/me/messages", s.graphCall(s.messages))
	mux.HandleFunc("POST "+p+"/graph/{version}/me/unlink_accounts", s.graphCall(s.unlinkAccounts))
	mux.HandleFunc("POST "+p+"/graph/{version}/me/pass_thread_control", s.graphCall(s.passThreadControl))
	mux.HandleFunc("POST "+p+"/graph/{version}/me/take_thread_control", s.graphCall(s.takeThreadControl))
	cop := http.NewCrossOriginProtection()
	// The Graph API is called server to server, without browser headers.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		if strings.HasPrefix(r.URL.Path, p+"/graph/") {
			mux.ServeHTTP(w, r)
			return
		}
		cop.Handler(mux).ServeHTTP(w, r)
	})
}

// chatPage is what a chat form needs of an emulator: how many lines a
// person's chat has, how to note in it that the bank did not take a
// message, and a wait for the bank's reply after a given line.
type chatPage interface {
	lineCount(name string) int
	failed(name string, err error)
	WaitReply(ctx context.Context, name string, after int) bool
}

// chatForm makes a handler for a chat form of any of the emulators: it runs
// fn (which delivers a webhook), then, when wait is set, waits for the
// bank's reply (the bank answers the webhook once the event is stored and
// replies a moment after), and shows the chat again under prefix.
func chatForm(prefix string, p chatPage, wait bool, fn func(ctx context.Context, name string, f url.Values) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		name := r.PathValue("name")
		before := p.lineCount(name)
		if err := fn(r.Context(), name, r.PostForm); err != nil {
			p.failed(name, err)
		} else if wait {
			// Show the chat once the reply is there (or after replyWait), as
			// the app would.
			wctx, cancel := context.WithTimeout(r.Context(), replyWait)
			p.WaitReply(wctx, name, before)
			cancel()
		}
		http.Redirect(w, r, prefix+"/chat/"+url.PathEscape(name)+"#end", http.StatusSeeOther)
	}
}

// form makes a handler for a Messenger chat form (chatForm).
func (s *Sim) form(wait bool, fn func(ctx context.Context, name string, f url.Values) error) http.HandlerFunc {
	return chatForm(s.o.Prefix, s, wait, fn)
}

func (s *Sim) lineCount(name string) int {
	s.user(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.users[name].Lines)
}

func (s *Sim) failed(name string, err error) {
	s.o.Logger.Warn("platformsim: webhook", "err", err)
	s.appendLine(s.user(name), Line{At: s.o.Now(), Note: true, Text: "The bank's webhook did not accept this: " + err.Error()})
}

// startLink is where the account_link button leads
// (https://developers.facebook.com/docs/messenger-platform/identity/account-linking,
// "Linking Process", step 2): the platform mints an account_linking_token
// for the user and opens the bank's URL with it and its redirect_uri.
func (s *Sim) startLink(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	to := r.URL.Query().Get("url")
	if !s.linkURL(to) {
		http.Error(w, "bad link: an account_link url must be https", http.StatusBadRequest)
		return
	}
	s.user(name)
	tok := randomID(16)
	s.mu.Lock()
	s.tokens[tok] = linkToken{user: name, expires: s.o.Now().Add(10 * time.Minute)}
	s.mu.Unlock()
	u, _ := url.Parse(to)
	q := u.Query()
	q.Set("account_linking_token", tok)
	q.Set("redirect_uri", s.RedirectURI()+"?"+url.Values{"account_linking_token": {tok}}.Encode())
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// LinkURL is where a user's browser goes when they tap an account_link
// button whose url is bankURL.
func (s *Sim) LinkURL(name, bankURL string) string {
	return s.ChatURL(name) + "/link?" + url.Values{"url": {bankURL}}.Encode()
}

// linkRedirect is the platform's account-linking redirect, and takes only
// the documented form ("Linking Process", step 3): the redirect_uri the sim
// gave (with its account_linking_token) and, when the bank linked the
// person, an authorization_code appended. The platform then sends the page
// an account_linking webhook, status linked, with the code. Without an
// authorization_code linking failed: the person is told and no webhook goes.
// OAuth's own code/state/iss, sent here instead, are refused: that is the
// bank's authorization server answering the platform as if it were the
// OAuth client, which it is not.
func (s *Sim) linkRedirect(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Has("code") || q.Has("state") || q.Has("iss") {
		http.Error(w, "This is not the account-linking redirect's form: append authorization_code to the redirect_uri you were given.", http.StatusBadRequest)
		return
	}
	tok := q.Get("account_linking_token")
	s.mu.Lock()
	lt, ok := s.tokens[tok]
	delete(s.tokens, tok)
	s.mu.Unlock()
	if !ok || !s.o.Now().Before(lt.expires) {
		http.Error(w, "This account linking has expired. Go back to the chat and try again.", http.StatusBadRequest)
		return
	}
	u := s.user(lt.user)
	code := q.Get("authorization_code")
	if code == "" {
		s.appendLine(u, Line{At: s.o.Now(), Note: true, Text: "Linking your account did not complete."})
		http.Redirect(w, r, s.o.Prefix+"/chat/"+url.PathEscape(lt.user)+"#end", http.StatusSeeOther)
		return
	}
	s.mu.Lock()
	u.Linked = true
	before := len(u.Lines)
	s.appendLocked(u, Line{At: s.o.Now(), Note: true, Text: "You linked your bank account."})
	s.mu.Unlock()
	if err := s.deliver(r.Context(), event{Sender: party{u.PSID}, AccountLinking: &accountLinking{Status: "linked", AuthorizationCode: code}}); err != nil {
		s.o.Logger.Warn("platformsim: account linking webhook", "err", err)
	} else {
		wctx, cancel := context.WithTimeout(r.Context(), replyWait)
		s.WaitReply(wctx, lt.user, before)
		cancel()
	}
	http.Redirect(w, r, s.o.Prefix+"/chat/"+url.PathEscape(lt.user)+"#end", http.StatusSeeOther)
}

func (s *Sim) home(w http.ResponseWriter, r *http.Request) {
	if n := strings.TrimSpace(r.URL.Query().Get("name")); n != "" {
		http.Redirect(w, r, s.o.Prefix+"/chat/"+url.PathEscape(n), http.StatusSeeOther)
		return
	}
	render(w, homeTmpl, map[string]any{"Prefix": s.o.Prefix, "Users": s.Users()})
}

func (s *Sim) chat(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if name == "" || len(name) > 40 {
		http.Error(w, "bad name", http.StatusBadRequest)
		return
	}
	c := s.Chat(name)
	type btn struct {
		Button
		Href string
	}
	type view struct {
		Line
		Buttons []btn
		Last    bool
	}
	var lines []view
	for i, l := range c.Lines {
		v := view{Line: l, Last: i == len(c.Lines)-1}
		for _, b := range l.Buttons {
			h := b.URL
			if b.Type == "account_link" {
				h = s.LinkURL(name, b.URL)
			}
			v.Buttons = append(v.Buttons, btn{b, h})
		}
		lines = append(lines, v)
	}
	render(w, chatTmpl, map[string]any{"Prefix": s.o.Prefix, "User": c, "Lines": lines, "Path": s.o.Prefix + "/chat/" + url.PathEscape(name), "LiveChat": s.o.LiveChatAppID})
}

func render(w http.ResponseWriter, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := t.Execute(w, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func (s *Sim) css(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Write([]byte(css))
}

const css = `body{font:16px/1.4 system-ui,sans-serif;max-width:40rem;margin:1rem auto;padding:0 1rem;background:#f0f2f5}
header{display:flex;justify-content:space-between;align-items:baseline}
.chat{background:#fff;border-radius:12px;padding:1rem;min-height:20rem}
.msg{margin:.4rem 0;display:flex}.msg p{margin:0;padding:.5rem .8rem;border-radius:18px;max-width:80%;white-space:pre-wrap}
.me{justify-content:flex-end}.me p{background:#0084ff;color:#fff}.page p{background:#e4e6eb}
.note{text-align:center;color:#65676b;font-size:.85rem}.tag{font-size:.7rem;color:#65676b;margin-left:.4rem}
.buttons,.quick{display:flex;flex-wrap:wrap;gap:.3rem;margin:.2rem 0 .6rem}
.buttons a,.buttons button,.quick button{border:1px solid #0084ff;background:#fff;color:#0084ff;border-radius:16px;padding:.3rem .8rem;text-decoration:none;font:inherit;cursor:pointer}
form.say{display:flex;gap:.5rem;margin-top:1rem}form.say input{flex:1;padding:.5rem;border-radius:18px;border:1px solid #ccc}
.tools{display:flex;gap:.5rem;margin-top:1rem;font-size:.85rem}`

var homeTmpl = template.Must(template.New("home").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Messaging platform (simulated)</title>
<link rel="stylesheet" href="{{.Prefix}}/sim.css"></head><body>
<header><h1>Messaging platform</h1><small>a local emulator</small></header>
<p>Chat with the bank's page as a simulated person. Everything here stays on this machine.</p>
<form method="get" action="{{.Prefix}}/"><label>Your name <input name="name" required maxlength="40" value="alex"></label> <button>Open chat</button></form>
{{with .Users}}<h2>People</h2><ul>{{range .}}<li><a href="{{$.Prefix}}/chat/{{.}}">{{.}}</a></li>{{end}}</ul>{{end}}
</body></html>`))

var chatTmpl = template.Must(template.New("chat").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Chat with the bank ({{.User.Name}})</title>
<link rel="stylesheet" href="{{.Prefix}}/sim.css"></head><body>
<header><h1>The bank</h1><span>{{.User.Name}}{{if .User.Linked}} · account linked{{end}} · <a href="{{.Path}}">Refresh</a></span></header>
<div class="chat" aria-live="polite">
{{range .Lines}}{{if .Note}}<p class="note">{{.Text}}</p>{{else if .FromPage}}
<div class="msg page"><p>{{.Text}}</p><span class="tag">{{.MessagingType}}{{with .Tag}} {{.}}{{end}}</span></div>
{{with .Buttons}}<div class="buttons">{{range .}}{{if eq .Type "postback"}}<form method="post" action="{{$.Path}}/postback"><input type="hidden" name="title" value="{{.Title}}"><input type="hidden" name="payload" value="{{.Payload}}"><button>{{.Title}}</button></form>{{else if eq .Type "account_link"}}<a href="{{.Href}}" class="link">Link your account</a>{{else}}<a href="{{.Href}}" target="_blank" rel="noopener">{{.Title}}</a>{{end}}{{end}}</div>{{end}}
{{if .Last}}{{with .QuickReplies}}<div class="quick">{{range .}}<form method="post" action="{{$.Path}}/quick"><input type="hidden" name="title" value="{{.Title}}"><input type="hidden" name="payload" value="{{.Payload}}"><button>{{.Title}}</button></form>{{end}}</div>{{end}}{{end}}
{{else}}<div class="msg me"><p>{{.Text}}</p></div>{{end}}{{end}}
<span id="end"></span></div>
<form class="say" method="post" action="{{.Path}}/say"><input name="text" required maxlength="4000" autocomplete="off" autofocus placeholder="Write a message"><button>Send</button></form>
<div class="tools">{{if .User.Linked}}<form method="post" action="{{.Path}}/unlink"><button>Unlink account (platform settings)</button></form>{{end}}
{{if eq .User.Owner .LiveChat}}<form method="post" action="{{.Path}}/livechat/pass"><button>Live chat: pass back to the bank</button></form>{{else}}<form method="post" action="{{.Path}}/livechat/request"><button>Live chat: request the conversation</button></form>{{end}}
<form method="post" action="{{.Path}}/redeliver"><button title="Send the last webhook again, as the platform does when unsure">Redeliver last webhook</button></form>
<a href="{{.Prefix}}/">Other people</a></div>
</body></html>`))
