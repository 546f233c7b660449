package dataapi

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/ledger"
)

// Transaction is FDX's Transaction entity, flat, with accountCategory
// saying which kind it is (FDX also allows one wrapper object per kind).
// The amount is positive; debitCreditMemo gives its direction.
type Transaction struct {
	AccountID            string      `json:"accountId"`
	AccountCategory      string      `json:"accountCategory"`
	TransactionID        string      `json:"transactionId"`
	TransactionTimestamp string      `json:"transactionTimestamp"`
	PostedTimestamp      string      `json:"postedTimestamp,omitempty"`
	Description          string      `json:"description"`
	DebitCreditMemo      string      `json:"debitCreditMemo"`
	Status               string      `json:"status"`
	Amount               json.Number `json:"amount"`
	Category             string      `json:"category,omitempty"`
}

// PageMetadata is FDX's page object.
type PageMetadata struct {
	NextPageKey string `json:"nextPageKey,omitempty"`
	NextOffset  string `json:"nextOffset,omitempty"`
}

// Link is FDX's HateoasLink.
type Link struct {
	Href  string   `json:"href"`
	Rel   string   `json:"rel,omitempty"`
	Types []string `json:"types,omitempty"`
}

// PageLinks holds the link to the next page.
type PageLinks struct {
	Next *Link `json:"next,omitempty"`
}

// Transactions is the answer of GET /accounts/{accountId}/transactions.
type Transactions struct {
	Page         PageMetadata  `json:"page"`
	Links        PageLinks     `json:"links"`
	Transactions []Transaction `json:"transactions"`
}

// Page sizes of the transactions list.
const (
	defaultLimit = 100
	maxLimit     = 500
)

// parseTime reads an FDX date ("2026-05-01", the start of that UTC day) or
// an RFC 3339 timestamp, within years 1970-9999.
func parseTime(s string) (time.Time, bool) {
	if len(s) > 40 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return time.Time{}, false
		}
	}
	if t.Year() < 1970 || t.Year() > 9999 {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// window reads the time range and page size of a transactions query
// (FDX 6.4: limit, startTime/endTime or startDate/endDate). Without a
// start the range begins at the consent's look-back; without an end it
// ends now. A range that begins before the look-back or ends before it
// begins is refused.
func (c *call) window(now time.Time) (from, to time.Time, limit int, err error) {
	q := c.r.URL.Query()
	earliest := now.Add(-time.Duration(c.acc.Grant.LookbackDays) * 24 * time.Hour)
	if limit, err = limitParam(q, defaultLimit, maxLimit); err != nil {
		return from, to, 0, err
	}
	if from, to, err = timeRange(q); err != nil {
		return from, to, 0, err
	}
	if from.IsZero() {
		from = earliest
	}
	if to.IsZero() {
		to = now
	}
	switch {
	case !from.Before(to):
		return from, to, 0, errTimeRange.WithMessage("the range must start before it ends")
	case from.Before(earliest.Add(-24 * time.Hour)):
		// A day of slack, so that a partner asking from the date the
		// look-back began is not refused for the hours of that day.
		return from, to, 0, errTimeRange.WithMessage("the range starts before the consent's look-back period of " + strconv.Itoa(c.acc.Grant.LookbackDays) + " days")
	}
	if from.Before(earliest) {
		from = earliest
	}
	if to.After(now) {
		to = now
	}
	return from, to, limit, nil
}

func (s *Server) transactions(c *call) {
	id := c.r.PathValue("accountId")
	a, err := c.resolve(id, consent.Transactions)
	if err != nil {
		c.fail(err)
		return
	}
	now := s.d.Now().UTC()
	from, to, limit, err := c.window(now)
	if err != nil {
		c.fail(err)
		return
	}
	var after *ledger.Cursor
	pk, _, has, err := pageKeyParam(c.r.URL.Query())
	if err != nil {
		c.fail(err)
		return
	}
	if has {
		pos, ok := s.ids.open(c.partner, id, pk)
		if !ok {
			c.fail(errPageKey)
			return
		}
		// The key keeps the first page's range; the look-back still applies.
		from, to = pos.from, pos.to
		if earliest := now.Add(-time.Duration(c.acc.Grant.LookbackDays) * 24 * time.Hour); from.Before(earliest) {
			from = earliest
		}
		after = &pos.cursor
	}
	c.disclose([]ledger.AccountID{a.ID}, []consent.Cluster{consent.Transactions},
		[]string{"transactions.transactionTimestamp", "transactions.postedTimestamp", "transactions.description", "transactions.amount", "transactions.status", "transactions.category"})
	page, err := s.d.Ledger.Store().History(c.ctx, ledger.HistoryQuery{Account: a.ID, Limit: limit, After: after, From: from, To: to})
	if err != nil {
		c.fail(err)
		return
	}
	cat, _ := category(a.Kind)
	out := Transactions{Transactions: make([]Transaction, 0, len(page.Entries))}
	for _, e := range page.Entries {
		t := e.Transfer
		if t.Status == ledger.Voided {
			continue // a released hold never happened, as far as the partner is concerned
		}
		tx := Transaction{AccountID: id, AccountCategory: cat, TransactionID: s.ids.Txn(c.partner, a.ID, t.ID),
			TransactionTimestamp: ts(t.Created), Description: t.Description, Category: t.Category}
		amt := e.Amount
		if amt < 0 {
			tx.DebitCreditMemo = "DEBIT"
			amt, _ = amt.Neg()
		} else {
			tx.DebitCreditMemo = "CREDIT"
		}
		tx.Amount = money(amt, t.Currency)
		if t.Status == ledger.Posted {
			tx.Status = "POSTED"
			if !t.Posted.IsZero() {
				tx.PostedTimestamp = ts(t.Posted)
			}
		} else {
			tx.Status = "PENDING"
		}
		out.Transactions = append(out.Transactions, tx)
	}
	if page.Next != nil {
		key := s.ids.seal(c.partner, id, pagePos{cursor: *page.Next, from: from, to: to})
		out.Page.NextPageKey, out.Page.NextOffset = key, key // nextOffset: FDX 6.4's deprecated name, for older clients
		out.Links.Next = &Link{Href: Prefix + "/accounts/" + id + "/transactions?pageKey=" + key + "&limit=" + strconv.Itoa(limit)}
	}
	c.json(200, out)
}
