package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/problem"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// page is what every template gets: the layout's fields plus the page's own
// view in Data.
type page struct {
	Title    string
	Bank     string
	Realm    string // "customer", "staff" or "" before login
	Role     string // the staff member's role; "" for customers
	Nav      string // the current section, for aria-current
	SignedIn bool
	CSRF     string
	Flash    string
	Data     any
	Refresh  int // seconds; > 0 reloads the page (a meta refresh, no script)
	// Lang is the page's language ("en", "es"), for <html lang> and the
	// footer's switch; Here is the page's path, where the switch returns.
	Lang string
	Here string
	// titleArgs fill Title, a format, once it is in the page's language
	// (visit.titled): "Pay %s" and a payee's name.
	titleArgs []any
}

// pages holds one template set per language and page, each the layout plus
// the page, parsed with that language's functions (funcsFor) and the
// bank's time zone; a page for a customer who chose another zone is parsed
// on first use with that zone's functions and kept (zoned): at most one
// per zone chosen, language and page.
type pages struct {
	set map[assistant.Language]map[string]*template.Template
	loc *time.Location // the bank's

	mu    sync.Mutex
	zoned map[zonedPage]*template.Template
}

type zonedPage struct {
	lang       assistant.Language
	zone, name string
}

// get is page name in language l with its times read in loc; nil when
// there is no such page.
func (p *pages) get(l assistant.Language, loc *time.Location, name string) *template.Template {
	t, ok := p.set[l][name]
	if !ok || loc == nil || loc.String() == p.loc.String() {
		return t
	}
	k := zonedPage{l, loc.String(), name}
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.zoned[k]; ok {
		return t
	}
	t = template.Must(template.New("layout.html").Funcs(funcsFor(l, loc)).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	p.zoned[k] = t
	return t
}

var funcs = template.FuncMap{
	"money":   ledger.Amount.Display,
	"minutes": minutes,
	"signed": func(a ledger.Amount, c ledger.Currency) string {
		switch m := a.Display(c); {
		case a > 0:
			return "+" + m
		case a < 0:
			// U+2212 MINUS SIGN reads better than a hyphen.
			return "\u2212" + strings.TrimPrefix(m, "-")
		default:
			return m
		}
	},
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2 Jan 2006")
	},
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2 Jan 2006 15:04 UTC")
	},
	"isodate": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"isoday":  func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
	"category": func(c string) string { // "fast_food" -> "Fast food"
		if c == "" {
			return "None"
		}
		c = strings.ReplaceAll(c, "_", " ")
		return strings.ToUpper(c[:1]) + c[1:]
	},
	"network": func(n string) string { // "visa" -> "Visa"
		switch n {
		case "mastercard":
			return "Mastercard"
		case "":
			return "Card"
		}
		return strings.ToUpper(n[:1]) + n[1:]
	},
	"kind": kindName,
	"platform": func(p string) string { // "whatsapp" -> "WhatsApp"
		if n, ok := platformNames[p]; ok {
			return n
		}
		return p
	},
	"last4": func(n ledger.AccountNumber) string {
		if len(n) <= 4 {
			return ""
		}
		return string(n[len(n)-4:])
	},
	"role":      roleName,
	"masklast4": ledger.MaskLast4,
	"groups": func(s string) string { // "ABCDEFGH" -> "ABCD EFGH", easier to type
		var b strings.Builder
		for i, r := range s {
			if i > 0 && i%4 == 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
		}
		return b.String()
	},
}

func kindName(k ledger.AccountKind) string {
	switch k {
	case ledger.Checking:
		return "Checking"
	case ledger.Savings:
		return "Savings"
	case ledger.CreditCard:
		return "Credit card"
	case ledger.Internal:
		return "Internal"
	}
	return string(k)
}

func roleName(r identity.Role) string {
	if r == "" {
		return "none"
	}
	return string(r)
}

// mustParsePages parses every page with the layout, its dates and times
// read in loc.
func mustParsePages(loc *time.Location) *pages {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	p := &pages{set: map[assistant.Language]map[string]*template.Template{}, loc: loc, zoned: map[zonedPage]*template.Template{}}
	for _, l := range []assistant.Language{assistant.English, assistant.Spanish} {
		p.set[l] = map[string]*template.Template{}
		for _, n := range names {
			base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
			if base == "layout" {
				continue
			}
			p.set[l][base] = template.Must(template.New("layout.html").Funcs(funcsFor(l, loc)).ParseFS(templateFS, "templates/layout.html", n))
		}
	}
	return p
}

// render executes a page into a buffer first, so that a template error is a
// clean 500 and never half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	l := s.lang(r)
	if p.Realm == string(identity.RealmStaff) {
		l = assistant.English
	}
	loc := s.loc(r)
	if p.Realm == string(identity.RealmStaff) {
		loc = s.Location
	}
	t := s.pages.get(l, loc, name)
	if t == nil {
		s.fail(w, r, fmt.Errorf("web: no template %q", name))
		return
	}
	p.Bank, p.Lang = s.BankName, string(l)
	p.Title, p.Flash = tr(l, p.Title), tr(l, p.Flash)
	if len(p.titleArgs) > 0 {
		p.Title = fmt.Sprintf(p.Title, p.titleArgs...)
	}
	if r.Method == http.MethodGet && localPath(r.URL.RequestURI()) {
		p.Here = r.URL.RequestURI()
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		if name == "error" {
			// The error page itself failed: plain text, never a loop.
			s.Logger.LogAttrs(r.Context(), slog.LevelError, "web: error page failed", slog.Any("err", err))
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		s.fail(w, r, fmt.Errorf("web: render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorView is the error page's data.
type errorView struct {
	Status  int
	Message string
	Home    string
}

// failPage renders the error page with a status and a message safe to show.
// v may be nil (not signed in).
func (s *server) failPage(w http.ResponseWriter, r *http.Request, v *visit, status int, title, msg string) {
	p := page{Title: title}
	if v != nil {
		p = v.page(title, "")
	}
	home := "/"
	if strings.HasPrefix(r.URL.Path, "/console") {
		home = "/console/"
		if v == nil {
			p.Realm = string(identity.RealmStaff)
		}
	}
	p.Data = errorView{Status: status, Message: tr(s.lang(r), msg), Home: home}
	s.render(w, r, status, "error", p)
}

// notFound is the 404 page: for unknown paths and for things that exist but
// are not the caller's, which must look the same.
func (s *server) notFound(w http.ResponseWriter, r *http.Request, v *visit) {
	s.failPage(w, r, v, http.StatusNotFound, "Not found", "There is nothing here. It may have moved, or the address may be mistyped.")
}

// fail answers err: its Kind picks the status, from problem's one table;
// the message shown is the error's safe message, and anything internal is
// logged once and shown as a plain apology.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := problem.Status(bankbridge.ErrorKind(err))
	if status == http.StatusNotFound {
		s.notFound(w, r, nil)
		return
	}
	title, msg := failTitles[status], bankbridge.ErrorMessage(err)
	switch status {
	case http.StatusServiceUnavailable:
		msg = "The bank is busy. Please try again in a moment."
	case http.StatusInternalServerError:
		msg = "Something went wrong on our side. Please try again in a moment."
	}
	if status >= 500 {
		s.Logger.LogAttrs(r.Context(), slog.LevelError, "web: request failed",
			slog.String("request_id", bankbridge.RequestID(r.Context())),
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
		msg += " (reference " + bankbridge.RequestID(r.Context()) + ")"
	}
	s.failPage(w, r, nil, status, title, msg)
}

// failTitles heads the error page of each status a Kind may answer.
var failTitles = map[int]string{
	http.StatusBadRequest:          "Bad request",
	http.StatusUnauthorized:        "Please sign in again",
	http.StatusForbidden:           "Not allowed",
	http.StatusConflict:            "Not possible now",
	http.StatusUnprocessableEntity: "Not possible",
	http.StatusTooManyRequests:     "Too many attempts",
	http.StatusServiceUnavailable:  "Busy",
	http.StatusInternalServerError: "Something went wrong",
}

// static serves the embedded style sheet and icon; they may be cached.
func (s *server) static() http.Handler {
	files := http.FileServerFS(staticFS)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			s.notFound(w, r, nil)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// platformNames are the chat platforms as their owners write them.
var platformNames = map[string]string{"messenger": "Messenger", "telegram": "Telegram", "whatsapp": "WhatsApp"}
