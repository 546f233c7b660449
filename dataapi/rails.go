package dataapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/dataapi/records"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/rails"
)

// Rails is what the API needs of the payments over the rails
// (*rails.Service): the customer's payees at other banks, paying them, and
// following a payment by the key the API gave it.
type Rails interface {
	Payees(ctx context.Context, c bankbridge.CustomerID) ([]rails.Payee, error)
	Pay(ctx context.Context, r rails.PayRequest) (rails.Payment, error)
	PayInstant(ctx context.Context, r rails.PayRequest) (rails.Payment, error)
	Collect(ctx context.Context, r rails.DebitRequest) (rails.Payment, error)
	PaymentByKey(ctx context.Context, c bankbridge.CustomerID, channel, key string) (rails.Payment, error)
}

// RailChannel is the channel the API's payments over the rails are made
// under; their key is "pay:" and the payment's id.
const RailChannel = "api"

// Speeds of a payment to a payee at another bank (PaymentRequest.Speed).
const (
	SpeedStandard = "STANDARD" // ACH, settles on the next banking day
	SpeedSameDay  = "SAME_DAY" // ACH in a same-day window when there is still one today
	SpeedInstant  = "INSTANT"  // an instant payment (pacs.008), settled or refused within seconds
)

// railRef is the to_ref of a payment to an external payee: the speed and
// the partner's payee id, so that the request hash covers both.
var railRef = map[string]string{SpeedStandard: "ach", SpeedSameDay: "ach_same_day", SpeedInstant: "instant"}

// collectRef is the to_ref of a collection (an ACH debit of the customer's
// own account at another bank): the speed and the partner's id of the payee
// debited. A debit leaves in an ACH file: there is no instant collection.
var collectRef = map[string]string{SpeedStandard: "collect", SpeedSameDay: "collect_same_day"}

// Rail is how a payment to another bank is getting on: what the partner
// follows after the bank accepted it (status POSTED).
type Rail struct {
	// Network is ACH or INSTANT.
	Network string `json:"network"`
	// Status: SCHEDULED (funds held, waiting for the next file), HELD (the
	// bank is reviewing it), SENT, SETTLED, RETURNED, REFUSED.
	Status string `json:"status"`
	// Description says the status in plain words for the customer.
	Description string `json:"description"`
	// EffectiveDate is the day an ACH payment settles on.
	EffectiveDate string `json:"effectiveDate,omitempty"`
	// ReturnCode is the receiving bank's code (R01...) or the instant
	// network's (AC04...); Reason says why in plain words.
	ReturnCode string `json:"returnCode,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// RailStatus is a rails payment's status as partners see it.
func RailStatus(s rails.Status) string {
	switch s {
	case rails.StatusHeld:
		return "HELD"
	case rails.StatusSent:
		return "SENT"
	case rails.StatusSettled:
		return "SETTLED"
	case rails.StatusReturned:
		return "RETURNED"
	case rails.StatusRefused:
		return "REFUSED"
	}
	return "SCHEDULED" // new, accepted, batched: not yet with the network
}

func railOf(p rails.Payment) *Rail {
	r := &Rail{Network: "ACH", Status: RailStatus(p.Status), Description: p.Words(), ReturnCode: p.ReturnCode, Reason: p.Reason}
	if p.Kind == rails.KindInstant {
		r.Network = "INSTANT"
	} else if !p.Effective.IsZero() {
		r.EffectiveDate = p.Effective.Format(time.DateOnly)
	}
	return r
}

// external reports whether a recorded payment goes to a payee at another
// bank: its To is the payee's limits id (rails.Payee.LimitsPayee), negative.
func external(p records.Payment) bool { return p.To < 0 }

// collection reports whether a recorded payment is a collection: money in
// from a payee at another bank, its From the payee's limits id (negative).
func collection(p records.Payment) bool { return p.From < 0 }

// account is the customer's account a payment moves money from, or, for a
// collection, into: the one the consent must cover.
func account(p records.Payment) ledger.AccountID {
	if collection(p) {
		return p.To
	}
	return p.From
}

// speedOf reads an external payment's or a collection's speed back from its
// reference.
func speedOf(toRef string) string {
	kind, _, _ := strings.Cut(toRef, ":")
	for _, refs := range []map[string]string{railRef, collectRef} {
		for sp, k := range refs {
			if k == kind {
				return sp
			}
		}
	}
	return SpeedStandard
}

// externalPayees lists the customer's payees at other banks, or none when
// the rails are off.
func (c *call) externalPayees() ([]rails.Payee, error) {
	if c.s.d.Rails == nil {
		return nil, nil
	}
	return c.s.d.Rails.Payees(c.ctx, c.acc.Grant.Customer)
}

// railLimited is an external payment as the limits count it: under the
// payee's limits id, cooling off from when the payee was saved.
func (s *Server) railLimited(ctx context.Context, p records.Payment, steppedUp bool) (limits.Payment, error) {
	payee := p.To
	if collection(p) {
		// A collection counts against the payee it debits, as on the web.
		payee = p.From
	}
	lp := limits.Payment{Customer: p.Customer, Payee: payee, Amount: p.Amount, Currency: p.Currency,
		SteppedUp: steppedUp, Channel: "dataapi", Key: "pay:" + p.ID}
	if s.d.Rails == nil {
		return lp, nil
	}
	ps, err := s.d.Rails.Payees(ctx, p.Customer)
	if err != nil {
		return lp, err
	}
	for _, q := range ps {
		if q.LimitsPayee() == payee {
			lp.Saved = q.Created
		}
	}
	return lp, nil
}

// railFailure turns a refusal of the rails into a FAILED payment's reason.
func railFailure(err error) string {
	code := bankbridge.ErrorCode(err)
	switch {
	case code == rails.ErrCurrency.Code:
		return ledger.ErrCurrencyMismatch.Code
	case contains(PaymentFailureReasons, code):
		return code
	}
	return "payment_refused"
}

// executeRail hands an external payment to the rails under a key derived
// from its id (a retry pays once) after its limits were reserved: POSTED
// once the bank accepted it (its funds held; Rail follows it from there),
// FAILED when refused at once. A rails service that does not answer leaves
// it PENDING: the same Idempotency-Key again resumes it.
func (s *Server) executeRail(ctx context.Context, p records.Payment, lp limits.Payment, auth string) (records.Payment, error) {
	if s.d.Rails == nil {
		return p, bankbridge.E(bankbridge.Unavailable, "rails_unavailable", "payments to other banks are not available now; retry later")
	}
	release := func() {
		if err := s.d.Payments.Release(ctx, lp); err != nil {
			s.log.Warn("dataapi: releasing a refused payment's limits", "payment", p.ID, "err", err)
		}
	}
	speed := speedOf(p.ToRef)
	req := rails.PayRequest{Customer: p.Customer, Payee: ledger.PayeeID(-int64(p.To)), From: p.From, Amount: p.Amount, Memo: p.Memo,
		SameDay: speed == SpeedSameDay, Channel: RailChannel, Key: "pay:" + p.ID}
	var rp rails.Payment
	var err error
	switch {
	case collection(p):
		// WEB: the customer authorised it online, on the bank's own page
		// (auth is the record of it: ConfirmCollection).
		rp, err = s.d.Rails.Collect(ctx, rails.DebitRequest{Customer: p.Customer, Payee: ledger.PayeeID(-int64(p.From)), To: p.To,
			Amount: p.Amount, SEC: rails.SECWEB, Authorization: auth, Memo: p.Memo, SameDay: speed == SpeedSameDay,
			Channel: RailChannel, Key: "pay:" + p.ID})
	case speed == SpeedInstant:
		rp, err = s.d.Rails.PayInstant(ctx, req)
		if err != nil && rp.ID != 0 && rp.Status == rails.StatusSent {
			// Sent, the answer lost: the rails worker asks again; the
			// partner follows the rail status.
			s.log.Warn("dataapi: instant payment unanswered; the worker sends it again", "payment", p.ID, "err", err)
			err = nil
		}
	default:
		rp, err = s.d.Rails.Pay(ctx, req)
	}
	if err != nil {
		switch bankbridge.ErrorKind(err) {
		case bankbridge.Invalid, bankbridge.Unprocessable, bankbridge.Conflict, bankbridge.NotFound:
			release()
			return s.settle(ctx, p, records.PaymentFailed, 0, railFailure(err))
		}
		return p, err
	}
	if rp.Status == rails.StatusRefused {
		// Refused by the other bank (an instant payment): nothing left.
		release()
		return s.settle(ctx, p, records.PaymentFailed, 0, "payment_refused")
	}
	return s.settle(ctx, p, records.PaymentPosted, rp.Hold, "")
}

// rail returns how an external payment is getting on, or nil for a payment
// inside the bank or one the rails have not taken.
func (s *Server) rail(ctx context.Context, p records.Payment) (*Rail, error) {
	if !external(p) && !collection(p) || s.d.Rails == nil || p.Status == records.PaymentPending {
		return nil, nil
	}
	rp, err := s.d.Rails.PaymentByKey(ctx, p.Customer, RailChannel, "pay:"+p.ID)
	if errors.Is(err, rails.ErrPaymentNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return railOf(rp), nil
}

// RailChanged tells the partner that started a payment over the rails that
// its status changed (PAYMENT_STATUS_CHANGED with the rail status); being
// accepted is told by the payment's own move to POSTED. Wire it
// to rails.Options.OnChange; payments of other channels are ignored.
func (s *Server) RailChanged(ctx context.Context, rp rails.Payment) {
	id, ok := strings.CutPrefix(rp.Key, "pay:")
	if rp.Channel != RailChannel || !ok || rp.Status == rails.StatusNew || rp.Status == rails.StatusAccepted || !validID(id) {
		return
	}
	p, err := s.d.Store.Payment(ctx, id)
	if err != nil || p.Customer != rp.Customer {
		return
	}
	r := railOf(rp)
	data := map[string]any{"paymentId": p.ID, "status": string(p.Status), "railStatus": r.Status}
	if r.Reason != "" {
		data["reason"] = r.Reason
	}
	if r.ReturnCode != "" {
		data["returnCode"] = r.ReturnCode
	}
	// Told once per payment and rail status, even when the rails retell
	// it (rails.Service.Retell).
	s.notifyOnce(ctx, p.Partner, "PAYMENT_STATUS_CHANGED", fmt.Sprintf("rail:%d:%s", rp.ID, rp.Status), data)
}

// cmpOr returns a, or b when a is empty.
func cmpOr(a, b string) string {
	if a == "" {
		return b
	}
	return a
}
