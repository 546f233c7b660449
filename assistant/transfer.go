package assistant

import (
	"slices"
	"strings"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/ledger"
)

// ownAccounts returns the customer's open accounts the consent names.
func (t *turn) ownAccounts() ([]ledger.Account, error) {
	all, err := t.a.d.Ledger.Store().CustomerAccounts(t.ctx, t.link.Customer)
	if err != nil {
		return nil, err
	}
	named := t.grant.Accounts()
	return slices.DeleteFunc(all, func(a ledger.Account) bool {
		return a.Status != ledger.Open || !slices.Contains(named, a.ID)
	}), nil
}

// matchAccount keeps the accounts r names: by kind, last four digits of
// the number, or words of the name ("vacation" finds "Vacation fund").
func matchAccount(accts []ledger.Account, r AccountRef) []ledger.Account {
	var out []ledger.Account
	for _, a := range accts {
		if r.Hint != AnyAccount && a.Kind != hintKind(r.Hint) {
			continue
		}
		if r.Last4 != "" && !strings.HasSuffix(string(a.Number), r.Last4) {
			continue
		}
		if r.Name != "" && !strings.Contains(fold(a.Name), fold(r.Name)) {
			continue
		}
		out = append(out, a)
	}
	return out
}

// transfer prepares a transfer between the customer's own accounts, named
// by kind, last four digits or name, and asks for a confirmation, as a
// payment does. A chat cannot step up, so a transfer above the step-up
// amount is made on the bank's own page; between one's own accounts the
// payee limits do not apply, as on the web (web/transfer.go).
func (t *turn) transfer(in Intent) error {
	example := " For example: \"move 50 from checking to savings\"."
	if in.AmountErr != nil {
		t.say(t.tr(bankbridge.ErrorMessage(in.AmountErr)) + t.tr(example) + " " + t.tr("Nothing was moved."))
		return nil
	}
	own, err := t.ownAccounts()
	if err != nil {
		return err
	}
	if in.To.IsZero() {
		t.say(t.tr("Which account should the money go to?") + t.tr(example))
		return nil
	}
	to := matchAccount(own, in.To)
	if len(to) != 1 {
		t.whichAccount(to, "to")
		return nil
	}
	// The source: an account the chat may pay from, other than the
	// destination; "from" names it, else the only one that fits, else
	// checking when there is exactly one.
	srcs, err := t.accounts(consent.Transfers, AnyAccount)
	if err != nil {
		return err
	}
	srcs = slices.DeleteFunc(srcs, func(a ledger.Account) bool {
		return a.Kind == ledger.CreditCard || a.ID == to[0].ID || a.Status != ledger.Open
	})
	if !in.From.IsZero() {
		srcs = matchAccount(srcs, in.From)
	} else if len(srcs) > 1 {
		if cs := matchAccount(srcs, AccountRef{Hint: CheckingHint}); len(cs) == 1 {
			srcs = cs
		}
	}
	if len(srcs) == 0 && !in.From.IsZero() && len(matchAccount(own, in.From)) == 1 && matchAccount(own, in.From)[0].ID == to[0].ID {
		t.say("The money would come from and go to the same account. Name two different accounts. Nothing was moved.")
		return nil
	}
	if len(srcs) != 1 {
		if len(srcs) == 0 {
			t.say("This chat may not move money from that account. Link again and allow payments, or use the bank's page. Nothing was moved.",
				withButtons(t.bankButton("Transfer at the bank", "/transfer")))
			return nil
		}
		t.whichAccount(srcs, "from")
		return nil
	}
	from, dest := srcs[0], to[0]
	if in.Amount == "" {
		t.say(t.f("How much should I move to your %s? Write it like \"move 50 to savings\".", t.tr(kindLabel(dest.Kind))))
		return nil
	}
	if from.Currency != dest.Currency {
		t.say("Those accounts hold different currencies; make this transfer on the bank's page. Nothing was moved.",
			withButtons(t.bankButton("Transfer at the bank", "/transfer")))
		return nil
	}
	amt, err := ledger.ParseAmount(in.Amount, from.Currency)
	if err != nil {
		t.say(t.tr(bankbridge.ErrorMessage(err)+".") + t.tr(example) + " " + t.tr("Nothing was moved."))
		return nil
	}
	if amt > t.a.d.StepUpLimit {
		t.say(t.f("Transfers over %s need your security code, so make this one on the bank's own page. Nothing was moved here.", t.a.d.StepUpLimit.Display(from.Currency)),
			withButtons(t.bankButton("Transfer at the bank", "/transfer")))
		return nil
	}
	label := func(a ledger.Account) string {
		if t.settings.Privacy == PrivacyFull && t.grant.Covers(a.ID, consent.AccountBasic) {
			return accountLabel(a)
		}
		return t.tr("your " + kindLabel(a.Kind))
	}
	pend := &Pending{ID: newID(), Action: Transfer, From: from.ID, To: dest.ID, Amount: amt, Currency: from.Currency,
		Payee: label(dest), Memo: in.Memo, Key: "chat-" + newID(), Expires: t.now.Add(t.a.d.ConfirmTTL)}
	t.conv.Pending = pend
	r := t.say(t.f("Move %s from %s to %s? Nothing moves until you confirm. This request waits %d minutes.",
		amt.Display(from.Currency), label(from), label(dest), int(t.a.d.ConfirmTTL.Minutes())),
		withChoices(Choice{"Confirm transfer", payloadConfirm + pend.ID}, Choice{"Cancel", payloadCancel + pend.ID}))
	r.Disclosure = t.disclose("transfer confirmation", []ledger.AccountID{from.ID, dest.ID}, consent.Transfers, consent.AccountBasic)
	return nil
}

// whichAccount says that no single account fits: none, or several, named
// when privacy allows, else asking for the last four digits.
func (t *turn) whichAccount(accts []ledger.Account, dir string) {
	if len(accts) == 0 {
		t.say("I don't see that account among the ones this chat may use. Name it by kind (checking, savings), by the last four digits of its number, or by its name. Nothing was moved.")
		return
	}
	if t.settings.Privacy != PrivacyFull {
		if dir == "from" {
			t.say("More than one account fits. Write the last four digits of the account the money comes from, like \"move 50 from 1234 to savings\". Nothing was moved.")
		} else {
			t.say("More than one account fits. Write the last four digits of the account the money goes to, like \"move 50 to savings 1234\". Nothing was moved.")
		}
		return
	}
	names := make([]string, 0, len(accts))
	for _, a := range accts {
		if t.grant.Covers(a.ID, consent.AccountBasic) {
			names = append(names, accountLabel(a))
		}
	}
	t.say(t.f("More than one account fits: %s. Write the last four digits of the one you mean. Nothing was moved.", strings.Join(names, ", ")))
}
