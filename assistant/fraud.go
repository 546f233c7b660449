package assistant

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/ledger"
)

// maxReportable is how many recent card payments "I didn't make this"
// offers as choices; reportDays how far back it looks.
const (
	maxReportable = 5
	reportDays    = 60
)

// cardPayment is a debit at a merchant on an account with a card.
type cardPayment struct {
	e    ledger.Entry
	acct ledger.Account
}

// cardPayments returns the latest card payments on accounts that have a
// card and whose transactions the consent covers, newest first, within
// reportDays and the consent's look-back.
func (t *turn) cardPayments(limit int) ([]cardPayment, error) {
	accts, err := t.accounts(consent.Transactions, AnyAccount)
	if err != nil {
		return nil, err
	}
	cards, err := t.a.d.Ledger.Store().CustomerCards(t.ctx, t.link.Customer)
	if err != nil {
		return nil, err
	}
	from := t.now.AddDate(0, 0, -reportDays)
	if lb := t.now.AddDate(0, 0, -t.grant.LookbackDays); from.Before(lb) {
		from = lb
	}
	var out []cardPayment
	for _, a := range accts {
		if !slices.ContainsFunc(cards, func(c ledger.Card) bool { return c.Account == a.ID }) {
			continue
		}
		page, err := t.a.d.Ledger.Store().History(t.ctx, ledger.HistoryQuery{Account: a.ID, Limit: 50, From: from})
		if err != nil {
			return nil, err
		}
		for _, e := range page.Entries {
			if e.Amount < 0 && (e.Transfer.Merchant != 0 || e.Transfer.Category != "") {
				out = append(out, cardPayment{e, a})
			}
		}
	}
	slices.SortFunc(out, func(x, y cardPayment) int {
		return cmp.Or(y.e.Transfer.Created.Compare(x.e.Transfer.Created), cmp.Compare(y.e.Transfer.ID, x.e.Transfer.ID))
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// fraud is the chat's "was this you?": "I didn't make this" lists the
// recent card payments as choices; a payment chosen asks "not me?"; the
// confirmation freezes the card and opens a fraud case (fraudConfirmed).
// With privacy other than full the payments are not listed in the chat:
// the customer picks them on the bank's page, and may freeze the card here.
func (t *turn) fraud(in Intent) error {
	freeze := Choice{"Freeze my card", payloadIntent + "freeze_card"}
	if in.Ref == "" {
		if !t.showCards() {
			t.say("I'm sorry. To keep your account details out of this chat, choose the payment on the bank's own page, where you can report it. "+
				"If your card may be at risk, freeze it now; a person can also help.",
				withChoices(freeze, choiceHuman), withButtons(t.bankButton("Recent payments", "/accounts")))
			return nil
		}
		ps, err := t.cardPayments(maxReportable)
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			t.say("I see no recent card payments on the accounts this chat may see. If your card may be at risk, freeze it now; a person can also help.",
				withChoices(freeze, choiceHuman))
			return nil
		}
		var b strings.Builder
		b.WriteString(t.tr("Which payment wasn't you?"))
		chs := make([]Choice, 0, len(ps)+1)
		ids := make([]ledger.AccountID, 0, len(ps))
		for i, p := range ps {
			fmt.Fprintf(&b, "\n%d. %s  %s  %s", i+1, t.date(p.e.Transfer.Created), (-p.e.Amount).Display(p.acct.Currency), truncate(t.desc(p.e.Transfer.Description), 40))
			chs = append(chs, Choice{fmt.Sprintf("%d: %s", i+1, (-p.e.Amount).Display(p.acct.Currency)), payloadReport + strconv.FormatInt(int64(p.e.Transfer.ID), 10)})
			if !slices.Contains(ids, p.acct.ID) {
				ids = append(ids, p.acct.ID)
			}
		}
		chs = append(chs, Choice{"None of these", payloadIntent + "talk_to_a_person"})
		r := t.say(b.String(), withChoices(chs...))
		r.Disclosure = t.disclose("card payments to report", ids, consent.Transactions)
		return nil
	}
	id, _ := strconv.ParseInt(in.Ref, 10, 64)
	ps, err := t.cardPayments(50)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(ps, func(p cardPayment) bool { return int64(p.e.Transfer.ID) == id })
	if i < 0 {
		t.say("I can't find that payment among your recent card payments. Nothing was changed. A person can help.", withChoices(choiceHuman))
		return nil
	}
	p := ps[i]
	cards, err := t.a.d.Ledger.Store().CustomerCards(t.ctx, t.link.Customer)
	if err != nil {
		return err
	}
	var ids []ledger.CardID
	for _, c := range cards {
		if c.Account == p.acct.ID {
			ids = append(ids, c.ID)
		}
	}
	pend := &Pending{ID: newID(), Action: Fraud, From: p.acct.ID, Transfer: p.e.Transfer.ID, Amount: -p.e.Amount, Currency: p.acct.Currency,
		Cards: ids, Payee: truncate(t.desc(p.e.Transfer.Description), 40), Expires: t.now.Add(t.a.d.ConfirmTTL)}
	t.conv.Pending = pend
	q := t.tr("Report the payment you chose as not yours?")
	if t.showCards() {
		q = t.f("Report %s at %s on %s as not yours?", pend.Amount.Display(pend.Currency), pend.Payee, t.date(p.e.Transfer.Created))
	}
	r := t.say(q+" "+t.tr("I'll freeze the card on that account at once and open a fraud case; our fraud team then reviews the payment and disputes it for you."),
		withChoices(Choice{"Not me: report it", payloadConfirm + pend.ID}, Choice{"It was me", payloadCancel + pend.ID}))
	r.Disclosure = t.disclose("card payment to report", []ledger.AccountID{p.acct.ID}, consent.Transactions)
	return nil
}

// fraudConfirmed freezes the card of the reported payment's account first
// (that is what stops the money), then opens the case. Both are
// idempotent: a report confirmed twice freezes once and opens one case.
func (t *turn) fraudConfirmed(p *Pending) error {
	if err := t.freezeCards(p.Cards); err != nil {
		return err
	}
	if t.a.d.Fraud == nil {
		// No fraud desk on this deployment: a person takes it from here.
		t.conv.Pending, t.conv.Mode, t.conv.HandedAt = nil, ModeHuman, t.now
		t.res.HandedOver = true
		t.say("Done: your card is frozen, so it can't be used. I'm passing this conversation to a person at the bank, who will review the payment with you here, usually within a few hours.")
		return nil
	}
	var card ledger.CardID
	if len(p.Cards) > 0 {
		card = p.Cards[0]
	}
	ref, err := t.a.d.Fraud.Report(t.ctx, FraudReport{Customer: t.link.Customer, Transfer: p.Transfer, Account: p.From, Card: card,
		Amount: p.Amount, Currency: p.Currency, Channel: "chat:" + t.conv.Platform})
	if err != nil {
		if bankbridge.ErrorKind(err) == bankbridge.Unavailable {
			t.say("Your card is frozen, but I could not open the fraud case just now. Say \"yes\" again in a moment; it will be opened once.")
			return nil
		}
		return fmt.Errorf("assistant: report fraud: %w", err)
	}
	done := *p
	done.Done, done.Result = true, ref
	t.conv.Pending = &done
	t.say(t.f("Done: your card is frozen, so it can't be used, and our fraud team opened case %s. They will contact you within one business day "+
		"to review the payment, dispute it for you and send you a new card. You don't need to do anything now; never share a code from us with anyone who calls you.", ref))
	return nil
}

// freezeCards freezes the active cards among ids.
func (t *turn) freezeCards(ids []ledger.CardID) error {
	cards, err := t.a.d.Ledger.Store().CustomerCards(t.ctx, t.link.Customer)
	if err != nil {
		return err
	}
	for _, c := range cards {
		if slices.Contains(ids, c.ID) && c.Status == ledger.CardActive {
			if err := t.a.d.Ledger.Store().SetCardStatus(t.ctx, c.ID, ledger.CardFrozen); err != nil {
				return err
			}
		}
	}
	return nil
}

// desc is a transaction's description in the turn's language: the words
// the bank wrote ("Scheduled payment to Sam") translated, what a merchant
// or a person wrote kept (ledger.DescriptionIn).
func (t *turn) desc(d string) string { return ledger.DescriptionIn(string(t.lang), d) }

// date writes a day in the turn's language: "3 Dec", "3 dic".
func (t *turn) date(at time.Time) string {
	s := at.UTC().Format("2 Jan")
	if t.lang == Spanish {
		day, mon, _ := strings.Cut(s, " ")
		if es, ok := monthsES[mon]; ok {
			return day + " " + es
		}
	}
	return s
}

var monthsES = map[string]string{"Jan": "ene", "Feb": "feb", "Mar": "mar", "Apr": "abr", "May": "may", "Jun": "jun",
	"Jul": "jul", "Aug": "ago", "Sep": "sep", "Oct": "oct", "Nov": "nov", "Dec": "dic"}
