package alerts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/legible"
)

// CaseKind says why a case was opened.
type CaseKind string

// The kinds of case in the bank's one queue.
const (
	CaseFraud   CaseKind = "fraud"   // a customer answered "no, it wasn't me"
	CaseLost    CaseKind = "lost"    // a card reported lost by its holder
	CaseStolen  CaseKind = "stolen"  // a card reported stolen by its holder
	CaseDispute CaseKind = "dispute" // a transaction the customer disputes
	// CaseSanctions is a payment over the rails held by the sanctions
	// screen, for a compliance officer to release or reject. The customer
	// never sees it: telling them would tip them off (31 CFR 501.604's
	// blocking reports go to OFAC, not to the customer).
	CaseSanctions CaseKind = "sanctions"
)

// CaseKinds lists every kind, in the order the queue offers them as filters.
func CaseKinds() []CaseKind {
	return []CaseKind{CaseFraud, CaseDispute, CaseLost, CaseStolen, CaseSanctions}
}

// Label is the kind's name for people.
func (k CaseKind) Label() string {
	switch k {
	case CaseFraud:
		return "Fraud"
	case CaseLost:
		return "Lost card"
	case CaseStolen:
		return "Stolen card"
	case CaseDispute:
		return "Dispute"
	case CaseSanctions:
		return "Sanctions hold"
	}
	return string(k)
}

// CaseQuery filters a list of cases. Zero fields match everything.
type CaseQuery struct {
	Status   string // open, closed
	Kind     CaseKind
	Customer bankbridge.CustomerID
	Card     ledger.CardID
	Assignee bankbridge.StaffID
	Oldest   bool // oldest first (the queue), else newest first
	Limit    int
}

// CaseNote is one entry in a case's history, by a member of staff or by
// the customer (exactly one of Staff and Customer is set).
type CaseNote struct {
	ID       int64
	Case     CaseID
	Staff    bankbridge.StaffID
	Customer bankbridge.CustomerID
	Body     string
	Created  time.Time
}

// Errors of casework.
var (
	ErrCardNotYours = bankbridge.E(bankbridge.NotFound, "card_not_found", "no such card")
	ErrCaseNote     = bankbridge.E(bankbridge.Invalid, "case_note_required", "write a note of 1 to 2,000 characters")
)

// ReportCard freezes one of the customer's cards at once and opens a lost
// or stolen case for staff to replace it. Reporting a card that already has
// an open lost or stolen case returns that case. A card that is not the
// customer's is ErrCardNotYours, and nothing changes.
func (s *Service) ReportCard(ctx context.Context, c bankbridge.CustomerID, id ledger.CardID, kind CaseKind) (Case, error) {
	if kind != CaseLost && kind != CaseStolen {
		return Case{}, bankbridge.E(bankbridge.Invalid, "card_report_invalid", "say whether the card was lost or stolen")
	}
	cards, err := s.led.CustomerCards(ctx, c)
	if err != nil {
		return Case{}, fmt.Errorf("alerts: cards of customer %d: %w", c, err)
	}
	i := slices.IndexFunc(cards, func(k ledger.Card) bool { return k.ID == id })
	if i < 0 {
		return Case{}, ErrCardNotYours
	}
	card := cards[i]
	// Freeze first: it is what stops the money.
	if card.Status != ledger.CardFrozen {
		if err := s.led.SetCardStatus(ctx, card.ID, ledger.CardFrozen); err != nil {
			return Case{}, fmt.Errorf("alerts: freeze card %d: %w", card.ID, err)
		}
	}
	if open, err := s.ReportedCase(ctx, c, card.ID); err != nil || open != nil {
		if open != nil {
			return *open, nil
		}
		return Case{}, err
	}
	// One key per report of this card: two instances handling the same
	// double-click compute the same key, and the store keeps one case.
	prior, err := s.store.CaseList(ctx, CaseQuery{Customer: c, Card: card.ID, Limit: 500})
	if err != nil {
		return Case{}, err
	}
	key := AlertID(fmt.Sprintf("card:%d:report:%d", card.ID, len(prior)+1))
	return s.store.OpenCase(ctx, Case{Kind: kind, Alert: key, Customer: c, Card: card.ID, Status: "open", Opened: s.o.Now()})
}

// ReportedCase returns the open lost or stolen case of the customer's
// card, or nil: a card reported lost or stolen stays frozen until staff
// close the case (and send a new card).
func (s *Service) ReportedCase(ctx context.Context, c bankbridge.CustomerID, card ledger.CardID) (*Case, error) {
	ks, err := s.store.CaseList(ctx, CaseQuery{Customer: c, Card: card, Status: "open", Limit: 500})
	if err != nil {
		return nil, err
	}
	for _, k := range ks {
		if k.Kind == CaseLost || k.Kind == CaseStolen {
			return &k, nil
		}
	}
	return nil, nil
}

// CustomerCases lists a customer's cases, newest first, for the customer
// to follow and for staff.
func (s *Service) CustomerCases(ctx context.Context, c bankbridge.CustomerID) ([]Case, error) {
	ks, err := s.store.CaseList(ctx, CaseQuery{Customer: c, Limit: 200})
	return slices.DeleteFunc(ks, func(k Case) bool { return k.Kind == CaseSanctions }), err
}

// SanctionsKey is the key of the case of a held rails payment: one case
// per payment, however many instances open it.
func SanctionsKey(payment int64) AlertID {
	return AlertID("sanctions:payment:" + strconv.FormatInt(payment, 10))
}

// SanctionsPayment returns the rails payment a sanctions case is about.
func SanctionsPayment(k Case) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimPrefix(string(k.Alert), "sanctions:payment:"), 10, 64)
	return n, k.Kind == CaseSanctions && err == nil && n > 0
}

// OpenSanctionsCase opens (or, opened before, returns) the case of a rails
// payment held by the sanctions screen: hold is the ledger hold of its
// funds, hit what the screen matched.
func (s *Service) OpenSanctionsCase(ctx context.Context, c bankbridge.CustomerID, payment int64, hold ledger.TransferID, amount ledger.Amount, cur ledger.Currency, hit string) (Case, error) {
	return s.store.OpenCase(ctx, Case{Kind: CaseSanctions, Alert: SanctionsKey(payment), Customer: c, Transfer: hold,
		Amount: amount, Currency: cur, Reason: hit, Status: "open", Opened: s.o.Now()})
}

// CustomerCase returns one of the customer's cases with its notes; a case
// of another customer is ErrCaseNotFound.
func (s *Service) CustomerCase(ctx context.Context, c bankbridge.CustomerID, id CaseID) (Case, []CaseNote, error) {
	k, err := s.store.Case(ctx, id)
	if err == nil && (k.Customer != c || k.Kind == CaseSanctions) {
		err = ErrCaseNotFound
	}
	if err != nil {
		return Case{}, nil, err
	}
	ns, err := s.store.CaseNotes(ctx, id)
	return k, ns, err
}

// Case returns a case and its notes, for staff.
func (s *Service) Case(ctx context.Context, id CaseID) (Case, []CaseNote, error) {
	k, err := s.store.Case(ctx, id)
	if err != nil {
		return Case{}, nil, err
	}
	ns, err := s.store.CaseNotes(ctx, id)
	return k, ns, err
}

// CaseQueue lists cases for staff (Limit defaulted to 100, at most 500).
func (s *Service) CaseQueue(ctx context.Context, q CaseQuery) ([]Case, error) {
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 100
	}
	if q.Kind != "" && !slices.Contains(CaseKinds(), q.Kind) {
		return nil, bankbridge.E(bankbridge.Invalid, "case_kind_invalid", "there is no such kind of case")
	}
	return s.store.CaseList(ctx, q)
}

// AssignCase gives an open case to a member of staff, or back to the
// queue (0).
func (s *Service) AssignCase(ctx context.Context, id CaseID, staff bankbridge.StaffID) error {
	return s.store.AssignCase(ctx, id, staff)
}

// AddCaseNote checks a note (1 to 2,000 characters a reader can see) and
// appends it to the case.
func (s *Service) AddCaseNote(ctx context.Context, n CaseNote) (CaseNote, error) {
	n.Body = strings.TrimSpace(n.Body)
	if n.Body == "" || len(n.Body) > 2000 {
		return n, ErrCaseNote
	}
	if err := legible.Check(n.Body); err != nil {
		return n, ErrCaseNote.WithMessage("the note " + err.Error())
	}
	if (n.Staff == 0) == (n.Customer == 0) {
		return n, errors.New("alerts: a case note is by staff or by the customer")
	}
	n.Created = s.o.Now()
	return s.store.AddCaseNote(ctx, n)
}
