package web

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/ledger"
)

// historyPage is how many entries one page of history shows.
const historyPage = 25

// accountsView is the accounts overview.
type accountsView struct {
	Name     string
	Accounts []ledger.Account
	Cases    bool // the case queue is on: link the customer's cases
}

func (s *server) accounts(w http.ResponseWriter, r *http.Request, v *visit) {
	ctx := r.Context()
	accts, err := s.Ledger.Store().CustomerAccounts(ctx, v.sess.Customer)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.Auth.Customer(ctx, v.sess.Customer)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(v.sess.Customer, insights.Action, "balance", 0)
	p := v.page("Your accounts", "accounts")
	p.Data = accountsView{Name: c.Name, Accounts: accts, Cases: s.Alerts != nil}
	s.render(w, r, http.StatusOK, "accounts", p)
}

// errNotYours stands for an account or transfer that is absent or not the
// customer's: both answer the same 404.
var errNotYours = ledger.ErrAccountNotFound

// ownAccount returns the account named by id if it is the customer's; any
// other case, including a malformed id, is errNotYours.
func (s *server) ownAccount(ctx context.Context, v *visit, id string) (ledger.Account, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return ledger.Account{}, errNotYours
	}
	a, err := s.Ledger.Store().Account(ctx, ledger.AccountID(n))
	if errors.Is(err, ledger.ErrAccountNotFound) || (err == nil && (a.Customer != v.sess.Customer || a.Customer == 0)) {
		return ledger.Account{}, errNotYours
	}
	return a, err
}

// historyFilter is the account page's search form.
type historyFilter struct {
	Search, From, To string
}

// accountView is one account with a page of its history.
type accountView struct {
	Account ledger.Account
	Filter  historyFilter
	Entries []ledger.Entry
	Error   string
	Older   string // URL of the next (older) page, "" on the last
	Newest  string // URL of the first page, "" when on it
	// CanDispute offers "Dispute" beside card payments (Deps.Alerts
	// holds the case queue).
	CanDispute bool
}

func (s *server) account(w http.ResponseWriter, r *http.Request, v *visit) {
	ctx := r.Context()
	a, err := s.ownAccount(ctx, v, r.PathValue("id"))
	if err != nil {
		if errors.Is(err, errNotYours) {
			s.notFound(w, r, v)
			return
		}
		s.fail(w, r, err)
		return
	}
	qs := r.URL.Query()
	f := historyFilter{
		Search: strings.TrimSpace(qs.Get("q")),
		From:   strings.TrimSpace(qs.Get("from")),
		To:     strings.TrimSpace(qs.Get("to")),
	}
	s.record(v.sess.Customer, insights.Action, "history", 0)
	av := accountView{Account: a, Filter: f, CanDispute: s.Alerts != nil}
	p := v.page(a.Name, "accounts")
	q, msg := historyQuery(a.ID, f, qs.Get("after"))
	q.Lang = string(s.lang(r)) // the search reads descriptions as the page shows them
	if msg != "" {
		av.Error = msg
		p.Data = av
		s.render(w, r, http.StatusBadRequest, "account", p)
		return
	}
	hp, err := s.Ledger.Store().History(ctx, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	av.Entries = hp.Entries
	base := url.Values{}
	for k, val := range map[string]string{"q": f.Search, "from": f.From, "to": f.To} {
		if val != "" {
			base.Set(k, val)
		}
	}
	path := "/accounts/" + strconv.FormatInt(int64(a.ID), 10)
	if hp.Next != nil {
		older := url.Values{}
		for k, vs := range base {
			older[k] = vs
		}
		older.Set("after", encodeCursor(*hp.Next))
		av.Older = path + "?" + older.Encode()
	}
	if q.After != nil {
		av.Newest = path
		if len(base) > 0 {
			av.Newest += "?" + base.Encode()
		}
	}
	if r.URL.Query().Get("sent") != "" {
		p.Flash = "Transfer sent."
	}
	p.Data = av
	s.render(w, r, http.StatusOK, "account", p)
}

// historyQuery turns the filter into a store query; msg says what is wrong
// with the filter in words for the page.
func historyQuery(id ledger.AccountID, f historyFilter, after string) (q ledger.HistoryQuery, msg string) {
	q = ledger.HistoryQuery{Account: id, Limit: historyPage}
	if len(f.Search) > 100 {
		return q, "The search text is too long: use at most 100 characters."
	}
	q.Search = f.Search
	if f.From != "" {
		t, err := time.Parse(time.DateOnly, f.From)
		if err != nil {
			return q, "The “from” date is not a date such as 2026-01-31."
		}
		q.From = t
	}
	if f.To != "" {
		t, err := time.Parse(time.DateOnly, f.To)
		if err != nil {
			return q, "The “to” date is not a date such as 2026-01-31."
		}
		q.To = t.AddDate(0, 0, 1) // the form's "to" day is included; the store's To is exclusive
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return q, "The “from” date is after the “to” date."
	}
	if after != "" {
		c, ok := decodeCursor(after)
		if !ok {
			return q, "That page link is not valid. Start again from the newest transactions."
		}
		q.After = &c
	}
	return q, ""
}

// encodeCursor makes a history cursor opaque: 16 bytes (time in Unix
// microseconds, transfer id), base64url. It reveals nothing the page does not
// already show and is only ever used against an account the customer owns.
func encodeCursor(c ledger.Cursor) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(c.At.UnixMicro()))
	binary.BigEndian.PutUint64(b[8:], uint64(c.ID))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func decodeCursor(s string) (ledger.Cursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 {
		return ledger.Cursor{}, false
	}
	at := int64(binary.BigEndian.Uint64(b[:8]))
	id := int64(binary.BigEndian.Uint64(b[8:]))
	if at < 0 || id <= 0 {
		return ledger.Cursor{}, false
	}
	return ledger.Cursor{At: time.UnixMicro(at).UTC(), ID: ledger.TransferID(id)}, true
}

// belongs reports whether any of the transfer's postings touch one of accts.
func belongs(t ledger.Transfer, accts []ledger.Account) (ledger.Account, bool) {
	for _, p := range t.Postings {
		for _, a := range accts {
			if a.ID == p.Account {
				return a, true
			}
		}
	}
	return ledger.Account{}, false
}
