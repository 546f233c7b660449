package ledger

import (
	"strconv"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
)

// EventSeq orders ledger events. Sequences grow in commit order: once a
// reader has seen sequence n, no event at or below n commits later. They may
// have gaps (a rolled-back batch can consume numbers).
type EventSeq int64

// Event is what the outbox records about one transfer when a batch commits:
// a transfer created (pending or posted), or a pending transfer posted or
// voided. Events are written in the same database transaction as the
// postings, so none is lost (a committed transfer has its event) and none is
// invented (a refused op or a failed batch has none).
type Event struct {
	Seq         EventSeq
	Transfer    TransferID
	Status      TransferStatus // the transfer's status after this event
	Settles     bool           // true when a pending transfer is posted or voided
	Currency    Currency
	Postings    []Posting // debits first (SortPostings order)
	Merchant    MerchantID
	Category    string
	Description string
	At          time.Time
}

// Amount returns the money the transfer moves: the sum of its credits.
func (e Event) Amount() Amount { return Transfer{Postings: e.Postings}.Amount() }

// ErrEventLimit reports an Events limit out of range.
var ErrEventLimit = bankbridge.E(bankbridge.Invalid, "event_limit_invalid", "the limit must be between 1 and 10000")

// EventLimit checks and defaults a Store.Events limit: 0 means 1,000.
func EventLimit(n int) (int, error) {
	switch {
	case n == 0:
		return 1000, nil
	case n < 0 || n > 10000:
		return 0, ErrEventLimit
	}
	return n, nil
}

// Events returns the outbox events of the plan, in the order stores write
// them: new transfers (after SetIDs), then status changes. s must be the
// snapshot Decide mutated: it holds the settled transfers' postings.
func (p *Plan) Events(s Snapshot) []Event {
	out := make([]Event, 0, len(p.New)+len(p.Changes))
	for _, n := range p.New {
		t := n.Transfer
		at := t.Created
		out = append(out, Event{Transfer: t.ID, Status: t.Status, Currency: t.Currency, Postings: t.Postings,
			Merchant: t.Merchant, Category: t.Category, Description: t.Description, At: at})
	}
	return append(out, p.ChangeEvents(s)...)
}

// ChangeEvents returns the events of the plan's status changes alone (the
// tail of Events), for a store that writes the new transfers' events from
// their rows: a new transfer's event holds exactly its row's columns
// (status, currency, postings in SortPostings order, merchant, category,
// description, created), with Settles false.
func (p *Plan) ChangeEvents(s Snapshot) []Event {
	var out []Event
	for _, c := range p.Changes {
		t := s.Targets[c.ID]
		if t == nil {
			continue // cannot happen: Decide only changes targets it found
		}
		out = append(out, Event{Transfer: t.ID, Status: c.Status, Settles: true, Currency: t.Currency, Postings: t.Postings,
			Merchant: t.Merchant, Category: t.Category, Description: t.Description, At: c.At})
	}
	return out
}

// EncodePostings writes postings as "account:amount,account:amount", the
// form both stores keep them in inside the events table.
func EncodePostings(ps []Posting) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(int64(p.Account), 10))
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(int64(p.Amount), 10))
	}
	return b.String()
}

// DecodePostings reads what EncodePostings wrote.
func DecodePostings(s string) ([]Posting, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]Posting, 0, len(parts))
	for _, part := range parts {
		a, m, ok := strings.Cut(part, ":")
		if !ok {
			return nil, bankbridge.E(bankbridge.Internal, "event_postings_invalid", "a stored event is damaged")
		}
		acct, err1 := strconv.ParseInt(a, 10, 64)
		amt, err2 := strconv.ParseInt(m, 10, 64)
		if err1 != nil || err2 != nil {
			return nil, bankbridge.E(bankbridge.Internal, "event_postings_invalid", "a stored event is damaged")
		}
		out = append(out, Posting{Account: AccountID(acct), Amount: Amount(amt)})
	}
	return out, nil
}
