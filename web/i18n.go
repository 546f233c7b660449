package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
)

// The customer's language. One choice per customer, kept by
// assistant.Languages (the column the chat already reads), so that a choice
// made on the web, in chat or by the cookie before login is the same
// everywhere. Before login, and for a customer who never chose, a cookie
// remembers a choice made on this browser and Accept-Language picks the
// default (RFC 9110 section 12.5.4). The staff console stays English.
//
// Every customer-facing text of a template goes through {{t "English"}};
// catalog_es.go holds the Spanish of each, and TestCatalogCoversTemplates
// fails when a template has text outside t or a t key the catalogue lacks.

// supported are the languages of the customer pages, English first: the
// default when Accept-Language matches neither.
var supported = []language.Tag{language.English, language.Spanish}

var matcher = language.NewMatcher(supported)

// langCookie remembers the choice on this browser, before login and after
// logout. Not HttpOnly-sensitive, but kept HttpOnly like every other cookie.
func (s *server) langCookie() string {
	if s.Secure {
		return "__Host-bb_lang"
	}
	return "bb_lang"
}

type langKey struct{}

// lang is the language of the page r asks for: the signed-in customer's
// stored choice (put in the context by authed), else the cookie, else the
// browser's Accept-Language, else English. Staff pages are English.
func (s *server) lang(r *http.Request) assistant.Language {
	if strings.HasPrefix(r.URL.Path, "/console") {
		return assistant.English
	}
	if l, ok := r.Context().Value(langKey{}).(assistant.Language); ok && l != "" {
		return l
	}
	if c, err := r.Cookie(s.langCookie()); err == nil {
		if l := assistant.Language(c.Value); l == assistant.English || l == assistant.Spanish {
			return l
		}
	}
	return acceptLanguage(r.Header.Get("Accept-Language"))
}

// acceptLanguage picks English or Spanish from an Accept-Language header
// (RFC 9110 section 12.5.4, weights honoured by x/text's matcher).
func acceptLanguage(h string) assistant.Language {
	if h == "" {
		return assistant.English
	}
	tags, _, err := language.ParseAcceptLanguage(h)
	if err != nil || len(tags) == 0 {
		return assistant.English
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No || i != 1 {
		return assistant.English
	}
	return assistant.Spanish
}

// withCustomerLang puts the customer's stored language and time zone in
// r's context; on a store error the page falls back to the cookie and the
// bank's time zone, never fails.
func (s *server) withCustomerLang(r *http.Request, c bankbridge.CustomerID) *http.Request {
	ctx := r.Context()
	if s.Languages != nil {
		if l, err := s.Languages.Language(ctx, c); err == nil && l != "" {
			ctx = context.WithValue(ctx, langKey{}, l)
		}
	}
	if s.TimeZones != nil {
		if z, err := s.TimeZones.TimeZone(ctx, c); err == nil && z != "" {
			if loc := zone(z); loc != nil {
				ctx = context.WithValue(ctx, zoneKey{}, loc)
			}
		}
	}
	return r.WithContext(ctx)
}

type zoneKey struct{}

// loc is the time zone r's page shows times in: the signed-in customer's
// choice (put in the context by authed), else the bank's (Deps.Location).
// The scheduler's "today" stays the bank's (server.today).
func (s *server) loc(r *http.Request) *time.Location {
	if l, ok := r.Context().Value(zoneKey{}).(*time.Location); ok && l != nil {
		return l
	}
	return s.Location
}

// zones caches the locations customers chose: time.LoadLocation reads the
// embedded database on each call. Bounded by the IANA names (about 600).
var zones sync.Map // name -> *time.Location

// zone is the location of an IANA name a store kept; nil if it is not one
// any more (a name the time zone database dropped).
func zone(name string) *time.Location {
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location)
	}
	loc, err := assistant.ParseTimeZone(name)
	if err != nil {
		return nil
	}
	zones.Store(name, loc)
	return loc
}

// rememberLang sets the browser's language cookie for a year.
func (s *server) rememberLang(w http.ResponseWriter, l assistant.Language) {
	http.SetCookie(w, &http.Cookie{Name: s.langCookie(), Value: string(l), Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteLaxMode})
}

// languageAtLogin keeps one choice across the login: a customer who
// already chose gets it on this browser; one who never chose keeps what they
// picked on this browser before logging in (or what it asked for), stored
// so that chat and e-mail follow.
func (s *server) languageAtLogin(w http.ResponseWriter, r *http.Request, c bankbridge.CustomerID) {
	if s.Languages == nil {
		return
	}
	stored, err := s.Languages.Language(r.Context(), c)
	if err != nil {
		return
	}
	if stored != "" {
		s.rememberLang(w, stored)
		return
	}
	if ck, err := r.Cookie(s.langCookie()); err == nil && (ck.Value == string(assistant.Spanish) || ck.Value == string(assistant.English)) {
		_ = s.Languages.SetLanguage(r.Context(), c, assistant.Language(ck.Value), s.Now())
	}
}

// setLanguage is the footer's link (GET /language?lang=es&next=/accounts)
// and the security page's form (POST /security/language): it remembers
// the choice on this browser and, for a signed-in customer, for the
// customer. A cross-site link can at worst change the language shown.
func (s *server) setLanguage(w http.ResponseWriter, r *http.Request) {
	l := assistant.Language(r.FormValue("lang"))
	if l != assistant.English && l != assistant.Spanish {
		s.failPage(w, r, nil, http.StatusBadRequest, "Bad request", "Choose English or Spanish.")
		return
	}
	next := safeNext(r.FormValue("next"), "/")
	if strings.HasPrefix(next, "/language") || strings.HasPrefix(next, "/console") {
		next = "/"
	}
	if v, err := s.session(w, r, identity.RealmCustomer); err == nil && v != nil && s.Languages != nil {
		if r.Method == http.MethodPost && !sameToken(r.PostForm.Get("csrf"), v.sess.CSRF) {
			s.forbidden(w, r, v)
			return
		}
		if err := s.Languages.SetLanguage(r.Context(), v.sess.Customer, l, s.Now()); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.rememberLang(w, l)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// tr is s in l: the catalogue's Spanish, else s itself (English, or a
// text that is data, not words).
func tr(l assistant.Language, s string) string {
	if l == assistant.Spanish {
		if es, ok := spanish[s]; ok {
			return es
		}
	}
	return s
}

var monthsES = [...]string{"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"}

// dayMonthYear is "2 Jan 2006" in l: "2 ene 2006" in Spanish (CLDR's
// abbreviated months for es).
func dayMonthYear(l assistant.Language, t time.Time) string {
	if l != assistant.Spanish {
		return t.Format("2 Jan 2006")
	}
	return fmt.Sprintf("%d %s %d", t.Day(), monthsES[t.Month()-1], t.Year())
}

// funcsFor are the template functions of pages in l: funcs with the words
// and dates in l, instants read in the bank's time zone loc. Money reads
// the same in both (ledger.Amount.Display: the bank's US grouping, which
// es-US shares).
//
// date and datetime take instants (when a transfer was made) and show
// them in loc; day takes a calendar date (a scheduled payment's date, a
// statement's last day, an ACH effective date: midnight UTC of that day)
// and shows it as it is, since moving it to loc would show the day before
// west of Greenwich.
func funcsFor(l assistant.Language, loc *time.Location) map[string]any {
	m := map[string]any{}
	for k, v := range funcs {
		m[k] = v
	}
	m["t"] = func(s string, args ...any) string {
		if len(args) == 0 {
			return tr(l, s)
		}
		return fmt.Sprintf(tr(l, s), args...)
	}
	// msg is for a message a handler wrote (a form's error): translated
	// when the catalogue has it, else shown as written.
	m["msg"] = func(s string) string { return tr(l, s) }
	// caseKind names a case's kind: a noun, which the catalogue's "Dispute"
	// (the button's verb) is not, so the nouns have a table of their own.
	m["caseKind"] = func(k alerts.CaseKind) string {
		if es, ok := caseKindsES[k]; ok && l == assistant.Spanish {
			return es
		}
		return k.Label()
	}
	m["date"] = func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return dayMonthYear(l, t.In(loc))
	}
	m["day"] = func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return dayMonthYear(l, t.UTC())
	}
	m["datetime"] = func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		t = t.In(loc)
		return dayMonthYear(l, t) + t.Format(" 15:04 MST")
	}
	m["isodate"] = func(t time.Time) string { return t.In(loc).Format(time.RFC3339) }
	m["kind"] = func(k ledger.AccountKind) string { return tr(l, kindName(k)) }
	// The categories and descriptions the bank writes, in l; what a
	// merchant or the customer wrote stays as written.
	m["category"] = func(c string) string { return ledger.CategoryIn(string(l), c) }
	m["desc"] = func(d string) string { return ledger.DescriptionIn(string(l), d) }
	m["railReason"] = func(p rails.Payment) string { return railReason(l, p) }
	return m
}
