package alerts

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/legible"
)

// DisputeReason is why a customer disputes a card payment, in their words;
// NetworkCode turns it into the card network's reason code.
type DisputeReason string

// The reasons a customer can choose.
const (
	DisputeNotMe          DisputeReason = "not_me"           // I did not make this payment
	DisputeNotReceived    DisputeReason = "not_received"     // I paid but never got it
	DisputeNotAsDescribed DisputeReason = "not_as_described" // it was not what was promised, or broken
	DisputeChargedTwice   DisputeReason = "charged_twice"    // the same payment twice
	DisputeCancelled      DisputeReason = "cancelled"        // I cancelled a subscription and was still charged
	DisputeNoRefund       DisputeReason = "no_refund"        // a refund I was promised never came
)

// DisputeReasons lists the reasons in the order the form offers them.
func DisputeReasons() []DisputeReason {
	return []DisputeReason{DisputeNotMe, DisputeNotReceived, DisputeNotAsDescribed, DisputeChargedTwice, DisputeCancelled, DisputeNoRefund}
}

// Label is the reason in the customer's words.
func (r DisputeReason) Label() string {
	switch r {
	case DisputeNotMe:
		return "I did not make this payment"
	case DisputeNotReceived:
		return "I paid but never got what I paid for"
	case DisputeNotAsDescribed:
		return "It was not as described, or it arrived broken"
	case DisputeChargedTwice:
		return "I was charged twice for the same thing"
	case DisputeCancelled:
		return "I cancelled, and was still charged"
	case DisputeNoRefund:
		return "A refund I was promised never came"
	}
	return string(r)
}

// NetworkCode is the card network's dispute reason code for r.
//
// Visa: Visa Core Rules and Visa Product and Service Rules (public edition,
// https://usa.visa.com/dam/VCOM/download/about-visa/visa-rules-public.pdf),
// section 11 "Dispute Resolution", the dispute categories: 10.4 Other Fraud
// – Card-Absent Environment, 13.1 Merchandise/Services Not Received, 13.3
// Not as Described or Defective, 12.6.1 Duplicate Processing, 13.2
// Cancelled Recurring Transaction, 13.6 Credit Not Processed.
// Mastercard: Chargeback Guide – Merchant Edition
// (https://www.mastercard.us/content/dam/public/mastercardcom/na/global-site/documents/chargeback-guide.pdf),
// message reason codes 4837 No Cardholder Authorization, 4853 Cardholder
// Dispute (not received, not as described, cancelled recurring, credit not
// processed) and 4834 Point-of-Interaction Error (duplicate processing).
func NetworkCode(network string, r DisputeReason) string {
	visa := map[DisputeReason]string{DisputeNotMe: "10.4", DisputeNotReceived: "13.1", DisputeNotAsDescribed: "13.3",
		DisputeChargedTwice: "12.6.1", DisputeCancelled: "13.2", DisputeNoRefund: "13.6"}
	mc := map[DisputeReason]string{DisputeNotMe: "4837", DisputeNotReceived: "4853", DisputeNotAsDescribed: "4853",
		DisputeChargedTwice: "4834", DisputeCancelled: "4853", DisputeNoRefund: "4853"}
	if network == "mastercard" {
		return "mastercard " + mc[r]
	}
	return "visa " + visa[r]
}

// DisputeWindow is how long after a card payment is processed the bank may
// still dispute it with the network: 120 calendar days, for every reason
// above, in both documents cited at NetworkCode (Visa section 11, "Dispute
// Time Limit"; Mastercard, each reason code's "Time Frame"). The longer
// windows for goods expected later (up to 540 days) are not offered: a
// customer past 120 days is asked to call.
const DisputeWindow = 120 * 24 * time.Hour

// Errors of disputes. A transaction that is not the customer's is the same
// NotFound as one that does not exist.
var (
	ErrDisputeNotYours = bankbridge.E(bankbridge.NotFound, "transaction_not_found", "no such transaction")
	ErrDisputeNotCard  = bankbridge.E(bankbridge.Invalid, "dispute_not_card", "only a card payment that has gone through can be disputed here")
	ErrDisputeTooLate  = bankbridge.E(bankbridge.Invalid, "dispute_too_late", "this payment is older than the card network allows for a dispute")
	ErrDisputeReason   = bankbridge.E(bankbridge.Invalid, "dispute_reason_invalid", "choose why you dispute this payment")
)

// Disputable checks that the customer may dispute tr now and returns the
// account it was paid from and the card's network: tr must debit one of
// c's accounts (else ErrDisputeNotYours), be a posted payment at a merchant
// with a card on that account (else ErrDisputeNotCard), and have been
// processed within DisputeWindow (else ErrDisputeTooLate).
func (s *Service) Disputable(ctx context.Context, c bankbridge.CustomerID, tr ledger.Transfer) (ledger.Account, string, time.Time, error) {
	var acct ledger.Account
	var debit ledger.Amount
	for _, p := range tr.Postings {
		if s.isInternal(p.Account) {
			continue
		}
		a, err := s.led.Account(ctx, p.Account)
		if err != nil {
			return acct, "", time.Time{}, fmt.Errorf("alerts: account %d: %w", p.Account, err)
		}
		if a.Customer == c && p.Amount < 0 {
			acct, debit = a, -p.Amount
		}
	}
	if acct.ID == 0 {
		return acct, "", time.Time{}, ErrDisputeNotYours
	}
	if tr.Merchant == 0 || tr.Status != ledger.Posted || debit <= 0 {
		return acct, "", time.Time{}, ErrDisputeNotCard
	}
	cards, err := s.led.CustomerCards(ctx, c)
	if err != nil {
		return acct, "", time.Time{}, fmt.Errorf("alerts: cards of customer %d: %w", c, err)
	}
	i := slices.IndexFunc(cards, func(k ledger.Card) bool { return k.Account == acct.ID })
	if i < 0 {
		return acct, "", time.Time{}, ErrDisputeNotCard
	}
	processed := tr.Posted
	if processed.IsZero() {
		processed = tr.Created
	}
	due := processed.Add(DisputeWindow)
	if !s.o.Now().Before(due) {
		return acct, "", time.Time{}, ErrDisputeTooLate
	}
	return acct, cards[i].Network, due, nil
}

// OpenDispute opens a dispute case on a card payment of the customer's,
// after Disputable's checks, with the network's reason code and the
// deadline to file it, and the customer's own words as its first note.
// Disputing the same payment again returns the case already opened.
func (s *Service) OpenDispute(ctx context.Context, c bankbridge.CustomerID, tr ledger.Transfer, r DisputeReason, words string) (Case, error) {
	acct, network, due, err := s.Disputable(ctx, c, tr)
	if err != nil {
		return Case{}, err
	}
	if !slices.Contains(DisputeReasons(), r) {
		return Case{}, ErrDisputeReason
	}
	words = strings.TrimSpace(words)
	if len(words) > 2000 {
		return Case{}, ErrCaseNote
	}
	if err := legible.Check(words); err != nil {
		return Case{}, ErrCaseNote.WithMessage("what you wrote " + err.Error())
	}
	cards, _ := s.led.CustomerCards(ctx, c)
	var card ledger.CardID
	for _, k := range cards {
		if k.Account == acct.ID {
			card = k.ID
			break
		}
	}
	k, err := s.store.OpenCase(ctx, Case{Kind: CaseDispute, Alert: AlertID("dispute:" + strconv.FormatInt(int64(tr.ID), 10)),
		Customer: c, Card: card, Transfer: tr.ID, Merchant: tr.Merchant, Amount: tr.Amount(), Currency: tr.Currency,
		Reason: NetworkCode(network, r), Due: due, Status: "open", Opened: s.o.Now()})
	if err != nil {
		return Case{}, err
	}
	if words != "" {
		notes, err := s.store.CaseNotes(ctx, k.ID)
		if err != nil {
			return k, err
		}
		if len(notes) == 0 { // the first dispute's words, not a repeat's
			if _, err := s.AddCaseNote(ctx, CaseNote{Case: k.ID, Customer: c, Body: words}); err != nil {
				return k, err
			}
		}
	}
	return k, nil
}
