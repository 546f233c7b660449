package assistant

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
)

// Rails pays payees at other banks (an ACH credit) and says how those
// payments are getting on. The wiring (internal/app) implements it over
// *rails.Service; without it the chat sends such payments to the bank's page.
type Rails interface {
	// Pay accepts a payment: the funds are held and it leaves with the
	// next file. The same customer, channel and key again return the same
	// payment. A refusal (funds short, the payee's account failed
	// verification) is a typed error with the customer's words.
	Pay(ctx context.Context, p RailPayment) (RailStatus, error)
	// Recent lists the customer's latest payments to other banks and
	// collections from them (Collection), newest first, at most n.
	Recent(ctx context.Context, c bankbridge.CustomerID, n int) ([]RailStatus, error)
}

// RailPayment is a payment to a payee at another bank asked from a chat.
type RailPayment struct {
	Customer bankbridge.CustomerID
	Payee    ledger.PayeeID
	From     ledger.AccountID
	Amount   ledger.Amount
	Memo     string
	Channel  string // "chat:<platform>"
	Key      string
}

// RailStatus is where a payment to another bank, or a collection from
// one, is, for the customer.
type RailStatus struct {
	Ref   string // the payment's reference, as the bank's pages show it
	Payee string // as the payee was named when paid
	// Collection: money in, an ACH debit the customer started of their own
	// account at another bank (Payee) into From, their account here.
	Collection bool
	// From is the account paid from; for a collection, the one paid into.
	From     ledger.AccountID
	Amount   ledger.Amount
	Currency ledger.Currency
	// State is one of "scheduled", "held", "sent", "settled", "returned",
	// "refused".
	State string
	// Reason says why it was returned or refused, in English plain words
	// as the rails wrote it (RailReason says it in the customer's
	// language); ReturnCode is the return's or refusal's code (R01, AC04).
	Reason     string
	ReturnCode string
	Effective  time.Time // the day an ACH payment settles on
	Updated    time.Time
}

// stateWords says a state in plain words.
var stateWords = map[string]string{
	"scheduled": "scheduled: the money is set aside and leaves with the next file",
	"held":      "on hold: the bank is checking it before it leaves",
	"sent":      "sent: the payment network has it",
	"settled":   "arrived: the money reached the other bank",
	"returned":  "returned: the money is back in your account",
	"refused":   "not sent: no money left your account",
}

// collectionWords says a collection's state in plain words: its money
// comes in.
var collectionWords = map[string]string{
	"scheduled": "scheduled: we ask the other bank for the money with the next file",
	"held":      "on hold: the bank is checking it",
	"sent":      "sent: the payment network has it",
	"settled":   "arrived: the money is in your account",
	"returned":  "returned: the other bank sent the collection back",
	"refused":   "not collected: nothing was taken from the other account",
}

// The parts of a reason the rails put together when a collection comes
// back (rails.Service.returnDebit).
const (
	collectionReturned = "the other bank returned the collection: "
	owedAfterReturn    = " of it could not be taken back from your account, and is owed to the bank until money comes in"
)

// RailReason is why a payment to or from another bank was returned
// (returned) or refused, in l. The rails write it once, in English, when
// it happens (rails.ReturnWords, rails.InstantWords, a returned collection
// and what stays owed): the catalogue has each of the words they choose,
// and a code they word from NACHA's table (moov-io/ach's titles) is said
// in l by its code. The chat, the alerts and the bank's pages read the
// rails' reasons through it.
func RailReason(l Language, reason, code string, returned bool) string {
	if l != Spanish || reason == "" {
		return reason
	}
	if v, ok := spanish[reason]; ok {
		return v
	}
	why, owed, _ := strings.Cut(reason, "; ")
	if rest, ok := strings.CutPrefix(why, collectionReturned); ok {
		why = fmt.Sprintf(Translate(l, collectionReturned+"%s"), railWords(l, rest, code, returned))
	} else {
		why = railWords(l, why, code, returned)
	}
	if amount, ok := strings.CutSuffix(owed, owedAfterReturn); ok {
		owed = fmt.Sprintf(Translate(l, "%s"+owedAfterReturn), amount)
	}
	if owed != "" {
		why += "; " + owed
	}
	return why
}

// railWords is words, the rails' words for a return or refusal code, in
// l: the catalogue's, else the code said in l.
func railWords(l Language, words, code string, returned bool) string {
	if v, ok := spanish[words]; ok {
		return v
	}
	switch {
	case code != "" && returned:
		return fmt.Sprintf(Translate(l, "the other bank returned it (%s)"), code)
	case code != "":
		return fmt.Sprintf(Translate(l, "the other bank refused it (%s)"), code)
	}
	return words
}

// payExternal prepares a payment to a payee at another bank: from a US
// dollar account the chat may pay from, checked against the limits under
// the payee's own limits id (its id negated), and a confirmation that says
// it goes to another bank.
func (t *turn) payExternal(p ledger.Payee, in Intent, example string) error {
	if t.a.d.Rails == nil {
		t.say(t.f("Payments to %s go to another bank; make them on the bank's own page.", p.Nickname),
			withButtons(t.bankButton("Pay on the bank's page", "/payees")))
		return nil
	}
	accts, err := t.accounts(consent.Transfers, AnyAccount)
	if err != nil {
		return err
	}
	var from *ledger.Account
	for i, a := range accts {
		if a.Kind != ledger.CreditCard && a.Currency == "USD" && (from == nil || kindRank(a.Kind) < kindRank(from.Kind)) {
			from = &accts[i]
		}
	}
	if from == nil {
		t.say("This chat may not make payments from any of your accounts. Link again and allow payments, or pay on the bank's page.",
			withButtons(t.bankButton("Pay on the bank's page", "/payees")))
		return nil
	}
	amt, err := ledger.ParseAmount(in.Amount, from.Currency)
	if err != nil {
		t.say(t.tr(bankbridge.ErrorMessage(err)+".") + t.tr(example) + " " + t.tr("Nothing was paid."))
		return nil
	}
	name := p.Nickname
	if name == "" {
		name = p.Name
	}
	pend := &Pending{ID: newID(), Action: Pay, From: from.ID, To: ledger.AccountID(-int64(p.ID)), External: p.ID, Amount: amt, Currency: from.Currency,
		Payee: name, Saved: p.Created, Memo: in.Memo, Key: "chat-" + newID(), Expires: t.now.Add(t.a.d.ConfirmTTL)}
	if err := t.limits(pend, (*limits.Guard).Check); err != nil {
		return t.limitRefused(err, from.Currency)
	}
	t.conv.Pending = pend
	src := t.tr("your " + kindLabel(from.Kind))
	if t.settings.Privacy == PrivacyFull && t.grant.Covers(from.ID, consent.AccountBasic) {
		src = accountLabel(*from)
	}
	memo := ""
	if in.Memo != "" {
		memo = t.tr(" for ") + in.Memo
	}
	r := t.say(t.f("Pay %s %s at another bank from %s%s? It leaves by ACH with the next file. Nothing moves until you confirm. This request waits %d minutes.",
		pend.Payee, amt.Display(from.Currency), src, memo, int(t.a.d.ConfirmTTL.Minutes())),
		withChoices(Choice{"Confirm payment", payloadConfirm + pend.ID}, Choice{"Cancel", payloadCancel + pend.ID}))
	r.Disclosure = t.disclose("payment confirmation", []ledger.AccountID{from.ID}, consent.Transfers, consent.AccountBasic)
	return nil
}

// bookExternal makes a confirmed payment to another bank, once: the limits
// are reserved first (every channel and instance counts it), the rails take
// it under the pending key, so a confirmation that arrives twice pays once.
func (t *turn) bookExternal(p *Pending) error {
	if err := t.limits(p, (*limits.Guard).Reserve); err != nil {
		if bankbridge.ErrorKind(err) == bankbridge.Unprocessable || errors.Is(err, limits.ErrStepUp) {
			t.conv.Pending = nil
		}
		return t.limitRefused(err, p.Currency)
	}
	st, err := t.a.d.Rails.Pay(t.ctx, RailPayment{Customer: t.link.Customer, Payee: p.External, From: p.From, Amount: p.Amount,
		Memo: p.Memo, Channel: "chat:" + t.conv.Platform, Key: p.Key})
	k := bankbridge.ErrorKind(err)
	if err == nil && st.State == "refused" || err != nil && (k == bankbridge.Invalid || k == bankbridge.Unprocessable || k == bankbridge.Conflict || k == bankbridge.NotFound) {
		// Nothing left: the payment stops counting.
		if rerr := t.limits(p, (*limits.Guard).Release); rerr != nil {
			return fmt.Errorf("assistant: pay: release limits: %w", rerr)
		}
	}
	switch {
	case err == nil:
	case k == bankbridge.Unavailable || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		t.say("The bank is busy and I could not confirm the payment. Say \"yes\" again in a moment; it will never be paid twice.")
		return nil
	case k == bankbridge.Internal:
		return fmt.Errorf("assistant: pay: %w", err)
	default:
		t.conv.Pending = nil
		t.say(t.tr(bankbridge.ErrorMessage(err)+".") + " " + t.tr("Nothing was paid."))
		return nil
	}
	done := *p
	done.Done, done.Result = true, st.Ref
	t.conv.Pending = &done
	when := st.Effective.Format("2006-01-02")
	var text string
	switch {
	case st.State == "held":
		text = t.f("Your payment to %s is on hold while the bank checks it; the money is set aside. I'll tell you when it leaves.", p.Payee)
	case t.settings.Privacy != PrivacyFull:
		text = t.f("Done: your payment to %s at another bank is scheduled. Ask me \"status of my payment\" any time.", p.Payee)
	default:
		text = t.f("Sent %s to %s at another bank; it settles on %s. Ask me \"status of my payment\" any time.", p.Amount.Display(p.Currency), p.Payee, when)
	}
	r := t.say(text)
	r.Disclosure = t.disclose("payment receipt", []ledger.AccountID{p.From}, consent.Transfers)
	return nil
}

// paymentStatus says how the customer's latest payments to other banks,
// and collections from them, are getting on, in plain words; amounts only
// with full privacy.
func (t *turn) paymentStatus() error {
	if t.a.d.Rails == nil {
		t.say("I can't see payments to other banks here. Look on the bank's page.", withButtons(t.bankButton("Payments at the bank", "/payees")))
		return nil
	}
	ps, err := t.a.d.Rails.Recent(t.ctx, t.link.Customer, 10)
	if err != nil {
		return err
	}
	var lines []string
	var accts []ledger.AccountID
	for _, p := range ps {
		if !t.grant.Covers(p.From, consent.Transfers) || len(lines) == 3 {
			continue // paid from an account this chat may not see
		}
		words := t.tr(stateWords[p.State])
		if p.Collection {
			words = t.tr(collectionWords[p.State])
		}
		if p.Reason != "" && (p.State == "returned" || p.State == "refused") {
			// A collection's state already says the other bank sent it back.
			reason := strings.TrimPrefix(p.Reason, collectionReturned)
			words += " (" + RailReason(t.lang, reason, p.ReturnCode, p.State == "returned") + ")"
		}
		switch {
		case p.Collection && t.settings.Privacy == PrivacyFull:
			lines = append(lines, t.f("%s from %s: %s.", p.Amount.Display(p.Currency), p.Payee, words))
		case p.Collection:
			lines = append(lines, t.f("From %s: %s.", p.Payee, words))
		case t.settings.Privacy == PrivacyFull:
			lines = append(lines, t.f("%s to %s: %s.", p.Amount.Display(p.Currency), p.Payee, words))
		default:
			lines = append(lines, t.f("To %s: %s.", p.Payee, words))
		}
		accts = append(accts, p.From)
	}
	if len(lines) == 0 {
		t.say("You have no recent payments to or from other banks on the accounts this chat may use.")
		return nil
	}
	r := t.say(strings.Join(lines, "\n"))
	r.Disclosure = t.disclose("payment status", accts, consent.Transfers)
	return nil
}
