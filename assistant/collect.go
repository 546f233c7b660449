package assistant

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
)

// RailCollector brings money in from the customer's own account at another
// bank: an ACH debit (SEC code WEB) the customer authorises in the chat. The
// wiring's rails implement it beside Rails; without it the chat sends the
// customer to the bank's page.
type RailCollector interface {
	// Collectable says whether the payee's account may be debited now: a
	// typed error in the customer's words when not (the bank has not
	// verified the account with a prenote, the payee failed verification).
	Collectable(ctx context.Context, c bankbridge.CustomerID, payee ledger.PayeeID) error
	// Collect accepts the collection with its authorisation as the
	// customer agreed to it; the same customer, channel and key again
	// return the same collection.
	Collect(ctx context.Context, r RailCollection) (RailStatus, error)
}

// RailCollection is a collection asked from a chat.
type RailCollection struct {
	Customer bankbridge.CustomerID
	Payee    ledger.PayeeID // the account debited, at the other bank
	To       ledger.AccountID
	Amount   ledger.Amount
	// Terms is what the customer agreed to, in the words shown.
	Terms   string
	Channel string // "chat:<platform>"
	Key     string
}

// collect prepares a collection: the payee at another bank named, an
// account here the chat may credit (checking first), the limits as for a
// payment to that payee (under its limits id), and a confirmation whose
// words are the NACHA authorisation of a single WEB debit: amount, the
// account debited, when, and how to cancel (NACHA Operating Rules, Article
// Two, Subsection 2.3.2). Confirming it is the authorisation.
func (t *turn) collect(in Intent) error {
	example := " Write it like \"collect 200 from my chase\"."
	col, ok := t.a.d.Rails.(RailCollector)
	if t.a.d.Rails == nil || !ok {
		t.say("I can't bring money in from other banks here. Do it on the bank's own page.", withButtons(t.bankButton("Other banks", "/payees")))
		return nil
	}
	if in.AmountErr != nil {
		t.say(t.tr(bankbridge.ErrorMessage(in.AmountErr)) + t.tr(example) + " " + t.tr("Nothing was collected."))
		return nil
	}
	if in.Amount == "" || in.Payee == "" {
		t.say(t.tr("Tell me how much and from which of your accounts at another bank, as you saved it at the bank.") + t.tr(example))
		return nil
	}
	payees, err := t.a.d.Ledger.Store().Payees(t.ctx, t.link.Customer)
	if err != nil {
		return err
	}
	name := strings.TrimSuffix(strings.TrimSuffix(in.Payee, " account"), " cuenta")
	var match []ledger.Payee
	for _, p := range payees {
		if p.Account == 0 && (strings.EqualFold(p.Nickname, name) || strings.EqualFold(p.Name, name) ||
			strings.Contains(strings.ToLower(p.Nickname), strings.ToLower(name))) {
			match = append(match, p)
		}
	}
	if len(match) > 1 {
		if i := slices.IndexFunc(match, func(p ledger.Payee) bool { return strings.EqualFold(p.Nickname, name) }); i >= 0 {
			match = match[i : i+1]
		}
	}
	if len(match) != 1 {
		t.say(t.f("I don't know one account at another bank called \"%s\". Use the nickname you saved it under, or do it on the bank's page. Nothing was collected.", truncate(in.Payee, 30)),
			withButtons(t.bankButton("Other banks", "/payees")))
		return nil
	}
	p := match[0]
	if err := col.Collectable(t.ctx, t.link.Customer, p.ID); err != nil {
		if k := bankbridge.ErrorKind(err); k == bankbridge.Unprocessable || k == bankbridge.Conflict || k == bankbridge.NotFound {
			t.say(t.tr(bankbridge.ErrorMessage(err)+".")+" "+t.tr("Nothing was collected."), withButtons(t.bankButton("Other banks", "/payees")))
			return nil
		}
		return err
	}
	accts, err := t.accounts(consent.Transfers, AnyAccount)
	if err != nil {
		return err
	}
	var into *ledger.Account
	for i, a := range accts {
		if a.Kind != ledger.CreditCard && a.Currency == "USD" && a.Status == ledger.Open && (into == nil || kindRank(a.Kind) < kindRank(into.Kind)) {
			into = &accts[i]
		}
	}
	if into == nil {
		t.say("This chat may not move money into any of your accounts. Link again and allow payments, or do it on the bank's page.",
			withButtons(t.bankButton("Other banks", "/payees")))
		return nil
	}
	amt, err := ledger.ParseAmount(in.Amount, into.Currency)
	if err != nil {
		t.say(t.tr(bankbridge.ErrorMessage(err)+".") + t.tr(example) + " " + t.tr("Nothing was collected."))
		return nil
	}
	nick := p.Nickname
	if nick == "" {
		nick = p.Name
	}
	pend := &Pending{ID: newID(), Action: Collect, From: into.ID, To: ledger.AccountID(-int64(p.ID)), External: p.ID, Amount: amt,
		Currency: into.Currency, Payee: nick, Saved: p.Created, Key: "chat-" + newID(), Expires: t.now.Add(t.a.d.ConfirmTTL)}
	if err := t.limits(pend, (*limits.Guard).Check); err != nil {
		return t.limitRefused(err, into.Currency)
	}
	dest := t.tr("your " + kindLabel(into.Kind))
	if t.settings.Privacy == PrivacyFull && t.grant.Covers(into.ID, consent.AccountBasic) {
		dest = accountLabel(*into)
	}
	pend.Terms = t.f("By confirming, you authorise the bank to debit %s once from your account %s at another bank, on or after its next banking day, and to put it in %s. You can cancel this by contacting the bank before then.",
		amt.Display(into.Currency), nick, dest)
	t.conv.Pending = pend
	r := t.say(t.f("Collect %s from %s?", amt.Display(into.Currency), nick)+" "+pend.Terms+" "+
		t.f("Nothing moves until you confirm. This request waits %d minutes.", int(t.a.d.ConfirmTTL.Minutes())),
		withChoices(Choice{"I authorise it", payloadConfirm + pend.ID}, Choice{"Cancel", payloadCancel + pend.ID}))
	r.Disclosure = t.disclose("collection confirmation", []ledger.AccountID{into.ID}, consent.Transfers, consent.AccountBasic)
	return nil
}

// bookCollect makes a confirmed collection, once: the limits are reserved
// first, then the rails take it under the pending key with the words the
// customer agreed to.
func (t *turn) bookCollect(p *Pending) error {
	col, ok := t.a.d.Rails.(RailCollector)
	if !ok || !t.grant.Covers(p.From, consent.Transfers) {
		t.conv.Pending = nil
		t.say("This chat may no longer move money into that account. Nothing was collected.")
		return nil
	}
	if err := t.limits(p, (*limits.Guard).Reserve); err != nil {
		if bankbridge.ErrorKind(err) == bankbridge.Unprocessable || errors.Is(err, limits.ErrStepUp) {
			t.conv.Pending = nil
		}
		return t.limitRefused(err, p.Currency)
	}
	st, err := col.Collect(t.ctx, RailCollection{Customer: t.link.Customer, Payee: p.External, To: p.From, Amount: p.Amount,
		Terms: p.Terms, Channel: "chat:" + t.conv.Platform, Key: p.Key})
	k := bankbridge.ErrorKind(err)
	if err != nil && (k == bankbridge.Invalid || k == bankbridge.Unprocessable || k == bankbridge.Conflict || k == bankbridge.NotFound) {
		if rerr := t.limits(p, (*limits.Guard).Release); rerr != nil {
			return fmt.Errorf("assistant: collect: release limits: %w", rerr)
		}
	}
	switch {
	case err == nil:
	case k == bankbridge.Unavailable || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		t.say("The bank is busy and I could not confirm it. Say \"yes\" again in a moment; it will never be collected twice.")
		return nil
	case k == bankbridge.Internal:
		return fmt.Errorf("assistant: collect: %w", err)
	default:
		t.conv.Pending = nil
		t.say(t.tr(bankbridge.ErrorMessage(err)+".") + " " + t.tr("Nothing was collected."))
		return nil
	}
	done := *p
	done.Done, done.Result = true, st.Ref
	t.conv.Pending = &done
	text := t.f("Done: we ask the other bank for the money from %s with the next file; it arrives once that bank settles it. Ask me \"status of my payment\" any time.", p.Payee)
	if st.State == "held" {
		text = t.f("Your collection from %s is on hold while the bank checks it. I'll tell you when it moves.", p.Payee)
	}
	r := t.say(text)
	r.Disclosure = t.disclose("collection receipt", []ledger.AccountID{p.From}, consent.Transfers)
	return nil
}
