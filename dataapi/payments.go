package dataapi

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/dataapi/records"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/legible"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/rails"
)

// Payee is a payee the customer saved at the bank, as a partner sees it.
type Payee struct {
	PayeeID  string `json:"payeeId"`
	Name     string `json:"name"`
	Nickname string `json:"nickname,omitempty"`
	// Destination is INTERNAL (an account at this bank) or EXTERNAL (an
	// account at another bank, paid over ACH or an instant payment).
	Destination string `json:"destination"`
}

// Payees is the answer of GET /payees.
type Payees struct {
	Payees []Payee `json:"payees"`
}

// transfersGranted reports whether the consent lets the partner start
// payments at all.
func (c *call) transfersGranted() bool { return c.granted(consent.Transfers) }

// internalPayees lists the customer's payees holding an account at this
// bank: the only ones a partner may pay.
func (c *call) internalPayees() ([]ledger.Payee, error) {
	ps, err := c.s.d.Ledger.Store().Payees(c.ctx, c.acc.Grant.Customer)
	if err != nil {
		return nil, err
	}
	out := ps[:0]
	for _, p := range ps {
		if p.Account != 0 && p.Customer == c.acc.Grant.Customer {
			out = append(out, p)
		}
	}
	return out, nil
}

func (s *Server) payees(c *call) {
	if !c.transfersGranted() {
		c.fail(errNotFound)
		return
	}
	c.disclose(nil, []consent.Cluster{consent.Transfers}, []string{"payees.name", "payees.nickname"})
	ps, err := c.internalPayees()
	if err != nil {
		c.fail(err)
		return
	}
	out := Payees{Payees: make([]Payee, 0, len(ps))}
	for _, p := range ps {
		out.Payees = append(out.Payees, Payee{PayeeID: s.ids.Payee(c.partner, p.ID), Name: p.Name, Nickname: p.Nickname, Destination: "INTERNAL"})
	}
	ext, err := c.externalPayees()
	if err != nil {
		c.fail(err)
		return
	}
	for _, p := range ext {
		out.Payees = append(out.Payees, Payee{PayeeID: s.ids.Payee(c.partner, p.ID), Name: p.Name, Nickname: p.Nickname, Destination: "EXTERNAL"})
	}
	c.json(200, out)
}

// PaymentRequest is the body of POST /payments: from one of the consent's
// accounts (with TRANSFERS) to a saved payee or another consented account;
// or a collection: from a payee at another bank holding the customer's own
// account (FromPayeeID, an ACH debit) to a consented account (ToAccountID),
// which always waits for the customer's authorisation on the bank's page.
type PaymentRequest struct {
	FromAccountID string      `json:"fromAccountId,omitempty"`
	FromPayeeID   string      `json:"fromPayeeId,omitempty"`
	ToPayeeID     string      `json:"toPayeeId,omitempty"`
	ToAccountID   string      `json:"toAccountId,omitempty"`
	Amount        json.Number `json:"amount"`
	Currency      string      `json:"currency,omitempty"`
	Memo          string      `json:"memo,omitempty"`
	// Speed, for a payee at another bank only: STANDARD (default),
	// SAME_DAY or INSTANT (not for a collection).
	Speed string `json:"speed,omitempty"`
}

// Payment is a payment as the partner sees it.
type Payment struct {
	PaymentID string `json:"paymentId"`
	// FromAccountID is the account paid from; a collection has
	// FromPayeeID, the payee at another bank it debits, instead.
	FromAccountID   string      `json:"fromAccountId,omitempty"`
	FromPayeeID     string      `json:"fromPayeeId,omitempty"`
	ToPayeeID       string      `json:"toPayeeId,omitempty"`
	ToAccountID     string      `json:"toAccountId,omitempty"`
	Amount          json.Number `json:"amount"`
	Currency        string      `json:"currency"`
	Memo            string      `json:"memo,omitempty"`
	Status          string      `json:"status"`
	FailureReason   string      `json:"failureReason,omitempty"`
	ConfirmationURL string      `json:"confirmationUrl,omitempty"`
	ConfirmBy       string      `json:"confirmBy,omitempty"`
	CreatedTime     string      `json:"createdTime"`
	UpdatedTime     string      `json:"updatedTime"`
	// Rail follows a payment to another bank once the bank accepted it.
	Rail *Rail `json:"rail,omitempty"`
}

// ConfirmPath is where the bank's web app shows a payment waiting for the
// customer: ConfirmPath + paymentId.
const ConfirmPath = "/payments/confirm/"

func (s *Server) paymentOf(p records.Payment) Payment {
	out := Payment{PaymentID: p.ID, Amount: money(p.Amount, p.Currency),
		Currency: string(p.Currency), Memo: p.Memo, Status: string(p.Status), FailureReason: p.Reason,
		CreatedTime: ts(p.Created), UpdatedTime: ts(p.Updated)}
	kind, ref, _ := strings.Cut(p.ToRef, ":")
	switch {
	case collection(p):
		out.FromPayeeID, out.ToAccountID = ref, s.ids.Account(p.Partner, p.To)
	case kind == "account":
		out.FromAccountID, out.ToAccountID = s.ids.Account(p.Partner, p.From), ref
	default:
		out.FromAccountID = s.ids.Account(p.Partner, p.From)
		out.ToPayeeID = ref // "payee", or a speed for another bank
	}
	if p.Status == records.PaymentPending && p.NeedsConfirmation {
		out.ConfirmationURL = s.d.BaseURL + ConfirmPath + p.ID
		out.ConfirmBy = ts(p.ConfirmBy)
	}
	return out
}

// payment is a payment as the partner sees it, with its rail when it went
// to another bank. A rail that cannot be read now is left out (logged):
// the payment's own status still stands.
func (c *call) payment(p records.Payment) Payment {
	out := c.s.paymentOf(p)
	r, err := c.s.rail(c.ctx, p)
	if err != nil {
		c.s.log.WarnContext(c.ctx, "dataapi: reading a payment's rail", "payment", p.ID, "err", err)
	}
	out.Rail = r
	return out
}

// validKey is an Idempotency-Key: 1-64 of [A-Za-z0-9_-] (a UUID fits).
func validKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// paymentID is derived from the partner and its key, so that a retry
// finds the first payment before anything else is checked.
func (s *Server) paymentID(partner, key string) string {
	return s.ids.p.Digest("payment\x00" + partner + "\x00" + key)
}

// requestHash digests what a payment asks for, for idempotency.
func requestHash(from, to ledger.AccountID, toRef string, amt ledger.Amount, cur ledger.Currency, memo string) [32]byte {
	h := sha256.New()
	var b [8]byte
	for _, v := range []int64{int64(from), int64(to), int64(amt)} {
		binary.BigEndian.PutUint64(b[:], uint64(v))
		h.Write(b[:])
	}
	h.Write([]byte(toRef + "\x00" + string(cur) + "\x00" + memo))
	return [32]byte(h.Sum(nil))
}

// limited returns the payment as the payment limits see it, and false for
// a payment between the customer's own accounts, which they do not cover.
// A payee's saved time starts its cooling-off. steppedUp is whether the
// customer proved their second factor for this payment: only the bank's
// page knows, when they confirm it (never the payment's waiting for them
// as such).
func (s *Server) limited(ctx context.Context, p records.Payment, steppedUp bool) (limits.Payment, bool, error) {
	if external(p) || collection(p) {
		lp, err := s.railLimited(ctx, p, steppedUp)
		return lp, true, err
	}
	if !strings.HasPrefix(p.ToRef, "payee:") {
		return limits.Payment{}, false, nil
	}
	ps, err := s.d.Ledger.Store().Payees(ctx, p.Customer)
	if err != nil {
		return limits.Payment{}, false, err
	}
	lp := limits.Payment{Customer: p.Customer, Payee: p.To, Amount: p.Amount, Currency: p.Currency,
		SteppedUp: steppedUp, Channel: "dataapi", Key: "pay:" + p.ID}
	for _, q := range ps {
		if q.Account == p.To && (lp.Saved.IsZero() || q.Created.After(lp.Saved)) {
			lp.Saved = q.Created // the newest of the payee's entries: the strictest
		}
	}
	return lp, true, nil
}

func (s *Server) paymentCreate(c *call) {
	key := c.r.Header.Get("Idempotency-Key")
	if !validKey(key) {
		c.fail(errIdemKey)
		return
	}
	var req PaymentRequest
	if err := c.decode(&req); err != nil {
		c.fail(err)
		return
	}
	if !c.transfersGranted() {
		c.fail(errNotFound)
		return
	}
	var (
		acct     ledger.Account // the customer's account: paid from, or collected into
		from, to ledger.AccountID
		toRef    string
		err      error
	)
	collect := req.FromPayeeID != ""
	if collect {
		acct, from, toRef, err = c.collectionOf(req)
		to = acct.ID
	} else {
		acct, err = c.resolve(req.FromAccountID, consent.Transfers)
		if err == nil {
			from = acct.ID
			to, toRef, err = c.destination(req)
		}
		if err == nil && to == from {
			err = errSameAccount
		}
	}
	if err != nil {
		c.fail(err)
		return
	}
	cur := acct.Currency
	if req.Currency != "" && ledger.Currency(req.Currency) != cur {
		c.fail(fieldErr(errCurrency, "/currency", "the account holds "+string(cur)))
		return
	}
	amt, err := ledger.ParseAmount(req.Amount.String(), cur)
	if err != nil {
		c.fail(fieldErr(err.(*bankbridge.Error), "/amount", "a positive amount in "+string(cur)+" with at most "+strconv.Itoa(cur.Exponent())+" decimals"))
		return
	}
	memo := strings.TrimSpace(req.Memo)
	if utf8.RuneCountInString(memo) > 50 || strings.IndexFunc(memo, unicode.IsControl) >= 0 {
		c.fail(fieldErr(errBody, "/memo", "at most 50 characters, no control characters"))
		return
	}
	if err := legible.Check(memo); err != nil {
		c.fail(fieldErr(errBody, "/memo", "the memo "+err.Error()))
		return
	}
	hash := requestHash(from, to, toRef, amt, cur, memo)
	id := s.paymentID(c.partner, key)
	now := s.d.Now().UTC().Truncate(time.Microsecond)

	p, err := s.d.Store.Payment(c.ctx, id)
	created := false
	switch {
	case err == nil:
		// A retry: the same request gets the first answer.
	case errors.Is(err, records.ErrPaymentNotFound):
		p = records.Payment{ID: id, Partner: c.partner, Grant: string(c.acc.Grant.ID), Customer: c.acc.Grant.Customer, From: from, To: to,
			ToRef: toRef, Amount: amt, Currency: cur, Memo: memo, Key: key, Hash: hash, Status: records.PaymentPending, Created: now, Updated: now}
		// A collection always waits for the customer: the NACHA
		// authorisation of a WEB debit is theirs to give, on the bank's
		// own page, never the partner's to assert.
		confirm := amt > s.o.StepUpLimit || collect
		lp, ok, err := s.limited(c.ctx, p, false)
		if err != nil {
			c.fail(err)
			return
		}
		if ok {
			// An early answer: refused now as problem+json, or waiting for
			// the customer when the day's total needs a step-up. execute
			// asks the limits again, and records the payment, in one step.
			switch err := s.d.Payments.Check(c.ctx, lp); {
			case errors.Is(err, limits.ErrStepUp):
				confirm = true
			case err != nil:
				c.fail(err)
				return
			default:
				confirm = collect
			}
		}
		if confirm {
			p.NeedsConfirmation, p.ConfirmBy = true, now.Add(s.o.ConfirmTTL)
		}
		// CreatePayment inserts or finds: of two concurrent first tries,
		// one creates and the other gets its payment.
		p, created, err = s.d.Store.CreatePayment(c.ctx, p)
		if err != nil {
			c.fail(err)
			return
		}
	default:
		c.fail(err)
		return
	}
	if p.Hash != hash || p.Partner != c.partner {
		c.fail(errKeyReused)
		return
	}
	if p.Status == records.PaymentPending && !p.NeedsConfirmation {
		// Made now, or a retry of one whose transfer did not finish.
		if p, err = s.execute(c.ctx, p, nil); err != nil {
			c.fail(err)
			return
		}
	}
	c.disclose([]ledger.AccountID{account(p)}, []consent.Cluster{consent.Transfers}, []string{"payments.status"})
	status := 200
	if created {
		status = 201
	}
	c.json(status, c.payment(p))
}

// collectionOf resolves a collection: the consented account the money
// comes into, the payee at another bank it is debited from (its limits id)
// and the reference the partner used for it, with the speed.
func (c *call) collectionOf(req PaymentRequest) (ledger.Account, ledger.AccountID, string, error) {
	switch {
	case req.FromAccountID != "" || req.ToPayeeID != "" || req.ToAccountID == "":
		return ledger.Account{}, 0, "", fieldErr(errBody.WithMessage("a collection names fromPayeeId and toAccountId only"), "/toAccountId",
			"a collection goes from fromPayeeId (a payee at another bank) to toAccountId")
	case !validID(req.FromPayeeID):
		return ledger.Account{}, 0, "", errNotFound
	}
	ref, ok := collectRef[cmpOr(req.Speed, SpeedStandard)]
	if !ok {
		return ledger.Account{}, 0, "", fieldErr(errBody, "/speed", "a collection is STANDARD or SAME_DAY")
	}
	into, err := c.resolve(req.ToAccountID, consent.Transfers)
	if err != nil {
		return ledger.Account{}, 0, "", err
	}
	ext, err := c.externalPayees()
	if err != nil {
		return ledger.Account{}, 0, "", err
	}
	for _, p := range ext {
		if c.s.ids.Payee(c.partner, p.ID) == req.FromPayeeID {
			if p.Status != rails.PayeeVerified {
				// Said now, not after the customer authorised it
				// (rails.Collect refuses it the same way).
				return ledger.Account{}, 0, "", rails.ErrNotValidated
			}
			return into, p.LimitsPayee(), ref + ":" + req.FromPayeeID, nil
		}
	}
	return ledger.Account{}, 0, "", errNotFound
}

// destination resolves the payee or account a payment goes to, and the
// reference the partner used for it.
func (c *call) destination(req PaymentRequest) (ledger.AccountID, string, error) {
	switch {
	case (req.ToPayeeID == "") == (req.ToAccountID == ""):
		return 0, "", fieldErr(errBody.WithMessage("give exactly one of toPayeeId and toAccountId"), "/toPayeeId", "exactly one of toPayeeId and toAccountId")
	case req.ToPayeeID != "":
		if !validID(req.ToPayeeID) {
			return 0, "", errNotFound
		}
		ps, err := c.internalPayees()
		if err != nil {
			return 0, "", err
		}
		for _, p := range ps {
			if c.s.ids.Payee(c.partner, p.ID) == req.ToPayeeID {
				if req.Speed != "" {
					return 0, "", fieldErr(errBody, "/speed", "a speed is for a payee at another bank only")
				}
				return p.Account, "payee:" + req.ToPayeeID, nil
			}
		}
		ext, err := c.externalPayees()
		if err != nil {
			return 0, "", err
		}
		for _, p := range ext {
			if c.s.ids.Payee(c.partner, p.ID) == req.ToPayeeID {
				ref, ok := railRef[cmpOr(req.Speed, SpeedStandard)]
				if !ok {
					return 0, "", fieldErr(errBody, "/speed", "one of STANDARD, SAME_DAY, INSTANT")
				}
				return p.LimitsPayee(), ref + ":" + req.ToPayeeID, nil
			}
		}
		return 0, "", errNotFound
	}
	if req.Speed != "" {
		return 0, "", fieldErr(errBody, "/speed", "a speed is for a payee at another bank only")
	}
	if !validID(req.ToAccountID) {
		return 0, "", errNotFound
	}
	for _, r := range c.acc.Grant.Resources {
		if c.s.ids.Account(c.partner, r.Account) == req.ToAccountID {
			return r.Account, "account:" + req.ToAccountID, nil
		}
	}
	return 0, "", errNotFound
}

// Confirmation is the customer's answer on the bank's page, for
// ConfirmPayment and ConfirmCollection.
type Confirmation struct {
	// Authorization is, for a collection, the authorisation as the
	// customer agreed to it (rails.Authorized), recorded with the debit;
	// empty for a payment.
	Authorization string
	// SteppedUp says the customer proved their second factor for this
	// payment: a code entered on the page, or one within the page's
	// step-up window. Without it the booking asks the limits whether the
	// day's payments now need one, in the same transaction that records
	// the payment, and answers limits.ErrStepUp (the payment still
	// waiting) when they do.
	SteppedUp bool
}

// execute books a payment's transfer under a key derived from its id (so
// a retry moves money once) and records the outcome: POSTED, or FAILED
// with the ledger's code when the ledger refuses it. A ledger that is busy
// leaves the payment PENDING and answers ledger_busy: retry with the same
// Idempotency-Key. confirmed is the customer's answer on the bank's page,
// nil for a payment booked at once.
func (s *Server) execute(ctx context.Context, p records.Payment, confirmed *Confirmation) (records.Payment, error) {
	desc := "Payment via " + p.Partner
	if p.Memo != "" {
		desc += ": " + p.Memo
	}
	var answer Confirmation
	if confirmed != nil {
		answer = *confirmed
	}
	lp, limited, err := s.limited(ctx, p, answer.SteppedUp)
	if err != nil {
		return p, err
	}
	if limited {
		// Recorded in the database before the transfer, serialised with
		// the customer's payments on every channel and instance
		// (limits.Store.Record): the limits and the need for a step-up are
		// decided again here, under the customer's lock, not taken from
		// what the page saw, since the day's payments may have grown
		// between the two.
		if err := s.d.Payments.Reserve(ctx, lp); err != nil {
			if confirmed != nil && errors.Is(err, limits.ErrStepUp) {
				// Confirmed without a code while the day's payments now
				// need one: still waiting, for the page to ask for it.
				return p, err
			}
			if code := bankbridge.ErrorCode(err); contains(PaymentFailureReasons, code) {
				return s.settle(ctx, p, records.PaymentFailed, 0, code)
			}
			return p, err
		}
	}
	if external(p) || collection(p) {
		return s.executeRail(ctx, p, lp, answer.Authorization)
	}
	t, _, err := s.d.Ledger.Transfer(ctx, ledger.Move("dataapi", "pay:"+p.ID, p.From, p.To, p.Amount, p.Currency, trunc(desc, 200)))
	to, reason := records.PaymentPosted, ""
	if err != nil {
		switch bankbridge.ErrorKind(err) {
		case bankbridge.Invalid, bankbridge.Unprocessable, bankbridge.Conflict, bankbridge.NotFound:
			if limited {
				// Nothing moved: the payment stops counting.
				if rerr := s.d.Payments.Release(ctx, lp); rerr != nil {
					s.log.Warn("dataapi: releasing a failed payment's limits", "payment", p.ID, "err", rerr)
				}
			}
			to, reason = records.PaymentFailed, bankbridge.ErrorCode(err)
			if !contains(PaymentFailureReasons, reason) {
				reason = ledger.ErrAccountClosed.Code
			}
		default:
			return p, err
		}
	}
	return s.settle(ctx, p, to, t.ID, reason)
}

// settle moves a PENDING payment to its final status once and tells the
// partner's subscriptions.
func (s *Server) settle(ctx context.Context, p records.Payment, to records.PaymentStatus, transfer ledger.TransferID, reason string) (records.Payment, error) {
	now := s.d.Now().UTC().Truncate(time.Microsecond)
	ok, err := s.d.Store.SetPaymentStatus(ctx, p.ID, records.PaymentPending, to, transfer, reason, now)
	if err != nil {
		return p, err
	}
	if !ok { // someone else settled it: answer what is stored
		return s.d.Store.Payment(ctx, p.ID)
	}
	p.Status, p.Transfer, p.Reason, p.Updated = to, transfer, reason, now
	s.notify(ctx, p.Partner, "PAYMENT_STATUS_CHANGED", map[string]any{"paymentId": p.ID, "status": string(p.Status), "failureReason": p.Reason})
	return p, nil
}

func (s *Server) paymentGet(c *call) {
	id := c.r.PathValue("paymentId")
	if !validID(id) {
		c.fail(errNotFound)
		return
	}
	p, err := s.d.Store.Payment(c.ctx, id)
	if err != nil || p.Partner != c.partner || p.Customer != c.acc.Grant.Customer {
		if err == nil || errors.Is(err, records.ErrPaymentNotFound) {
			err = errNotFound
		}
		c.fail(err)
		return
	}
	c.disclose([]ledger.AccountID{account(p)}, []consent.Cluster{consent.Transfers}, []string{"payments.status"})
	c.json(200, c.payment(p))
}

// PaymentForCustomer returns a payment of the customer's, for the bank's
// confirmation page, with the name of the partner that started it. Another
// customer's payment is records.ErrPaymentNotFound.
func (s *Server) PaymentForCustomer(ctx context.Context, customer bankbridge.CustomerID, id string) (records.Payment, consent.Partner, error) {
	if !validID(id) {
		return records.Payment{}, consent.Partner{}, records.ErrPaymentNotFound
	}
	p, err := s.d.Store.Payment(ctx, id)
	if err != nil {
		return records.Payment{}, consent.Partner{}, err
	}
	if p.Customer != customer {
		return records.Payment{}, consent.Partner{}, records.ErrPaymentNotFound
	}
	partner, err := s.d.Consents.Partner(ctx, consent.PartnerID(p.Partner))
	if err != nil {
		return records.Payment{}, consent.Partner{}, err
	}
	return p, partner, nil
}

// ErrNotAwaiting reports a payment that does not wait for the customer any
// more (already confirmed, declined or expired).
var ErrNotAwaiting = bankbridge.E(bankbridge.Conflict, "payment_not_awaiting_confirmation", "this payment is no longer waiting for your confirmation")

// ConfirmPayment books a payment the customer confirmed on the bank's page;
// steppedUp says whether they proved their second factor for it (the
// caller checked the code). Errors: ErrPaymentNotFound, ErrNotAwaiting,
// rails.ErrNoAuthority for a collection (ConfirmCollection takes its
// authorisation), limits.ErrStepUp when it was confirmed without a code
// and the customer's payments now need one (it still waits: ask for the
// code and confirm again); a ledger refusal makes the payment FAILED, not
// an error.
func (s *Server) ConfirmPayment(ctx context.Context, customer bankbridge.CustomerID, id string, steppedUp bool) (records.Payment, error) {
	return s.confirm(ctx, customer, id, Confirmation{SteppedUp: steppedUp})
}

// ConfirmCollection books a collection the customer authorised on the
// bank's page: auth is the authorisation as agreed to (rails.Authorized),
// recorded with the debit. Errors as ConfirmPayment's.
func (s *Server) ConfirmCollection(ctx context.Context, customer bankbridge.CustomerID, id, auth string, steppedUp bool) (records.Payment, error) {
	return s.confirm(ctx, customer, id, Confirmation{Authorization: auth, SteppedUp: steppedUp})
}

func (s *Server) confirm(ctx context.Context, customer bankbridge.CustomerID, id string, answer Confirmation) (records.Payment, error) {
	auth := answer.Authorization
	p, _, err := s.PaymentForCustomer(ctx, customer, id)
	if err != nil {
		return records.Payment{}, err
	}
	if p.Status != records.PaymentPending || !p.NeedsConfirmation {
		return p, ErrNotAwaiting
	}
	if collection(p) && strings.TrimSpace(auth) == "" {
		return p, rails.ErrNoAuthority
	}
	if !s.d.Now().Before(p.ConfirmBy) {
		p, _ = s.settle(ctx, p, records.PaymentFailed, 0, "confirmation_expired")
		return p, ErrNotAwaiting
	}
	if !answer.SteppedUp && p.Amount > s.o.StepUpLimit {
		// Above the step-up amount on its own (a payment between the
		// customer's own accounts, which the limits do not cover, too).
		return p, limits.ErrStepUp
	}
	return s.execute(ctx, p, &answer)
}

// DeclinePayment fails a payment the customer refused.
func (s *Server) DeclinePayment(ctx context.Context, customer bankbridge.CustomerID, id string) (records.Payment, error) {
	p, _, err := s.PaymentForCustomer(ctx, customer, id)
	if err != nil {
		return records.Payment{}, err
	}
	if p.Status != records.PaymentPending || !p.NeedsConfirmation {
		return p, ErrNotAwaiting
	}
	return s.settle(ctx, p, records.PaymentFailed, 0, "declined_by_customer")
}

// expirePayments fails the payments whose confirmation window closed.
func (s *Server) expirePayments(ctx context.Context) error {
	due, err := s.d.Store.ExpiredPayments(ctx, s.d.Now().UTC(), 100)
	if err != nil {
		return err
	}
	for _, p := range due {
		if _, err := s.settle(ctx, p, records.PaymentFailed, 0, "confirmation_expired"); err != nil {
			return err
		}
	}
	return nil
}
