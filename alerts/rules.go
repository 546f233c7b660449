package alerts

import (
	"slices"
	"strconv"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
)

// Thresholds of the suspicious-activity rules. They are deliberately
// simple and explainable: staff must be able to tell a customer why a
// payment was questioned.
const (
	// minHistory is how many card debits a profile needs before a new
	// category can look out of character.
	minHistory = 5
	// farFactor: an amount at least this many times the typical debit (and
	// above the largest seen) is far from history.
	farFactor = 3
	// minFar is the smallest amount that can be "far": 50.00.
	minFar ledger.Amount = 5000
	// velocityCount card debits within velocityWindow are suspicious.
	velocityCount  = 5
	velocityWindow = 10 * time.Minute
	recentKept     = 10
)

// side is how one event touches one customer account.
type side struct {
	account  ledger.Account // as read when evaluating (balance now)
	amount   ledger.Amount  // signed: negative is a debit
	merchant *ledger.Merchant
}

// candidate is an alert the rules raised, before its text is written.
type candidate struct {
	rule   Rule
	side   side
	reason Reason // for suspicious: why
}

// evaluate applies the rules to one event as it touches one customer. It
// updates the profile (unless the event was counted before) and returns the
// alerts to raise, most urgent first. trusted reports whether the merchant
// was confirmed by the customer before.
func evaluate(e ledger.Event, s Settings, prof *Profile, sd side, trusted bool, home Home) []candidate {
	var out []candidate
	newEvent := e.Seq > prof.LastSeq
	debit := sd.amount < 0
	amt := sd.amount
	if debit {
		amt = -amt
	}
	card := debit && e.Merchant != 0
	if e.Settles {
		// The authorisation already alerted; posting only moves the balance.
		if e.Status == ledger.Posted && debit && s.LowBalance > 0 && sd.account.Available() < s.LowBalance && sd.account.Kind != ledger.CreditCard {
			out = append(out, candidate{rule: LowBalance, side: sd})
		}
		return out
	}
	if card && newEvent {
		// Suspicious checks use the profile as it was before this debit.
		if !trusted {
			if r := suspicion(e, prof, amt, sd.merchant, home); r.Kind != "" {
				out = append(out, candidate{rule: Suspicious, side: sd, reason: r})
			}
		}
		learn(prof, e, amt)
	}
	if newEvent {
		prof.LastSeq = e.Seq
	}
	switch {
	case card && s.CardPurchases:
		out = append(out, candidate{rule: CardPurchase, side: sd})
	case debit && !card && s.Payments:
		out = append(out, candidate{rule: PaymentSent, side: sd})
	case !debit && s.Deposits && e.Status == ledger.Posted:
		out = append(out, candidate{rule: Deposit, side: sd})
	}
	if debit && s.LargeDebit > 0 && amt >= s.LargeDebit {
		out = append(out, candidate{rule: LargeDebit, side: sd})
	}
	if debit && s.LowBalance > 0 && sd.account.Kind != ledger.CreditCard && sd.account.Available() < s.LowBalance {
		out = append(out, candidate{rule: LowBalance, side: sd})
	}
	return out
}

// Home is the bank's home currency and country: payments in another are
// foreign.
type Home struct {
	Currency ledger.Currency
	Country  string
}

// suspicion says why a card debit looks out of character; a zero Reason
// when it does not.
func suspicion(e ledger.Event, prof *Profile, amt ledger.Amount, m *ledger.Merchant, home Home) Reason {
	if home.Currency != "" && e.Currency != home.Currency {
		return Reason{Kind: "currency", Arg: string(e.Currency)}
	}
	if m != nil && m.Country != "" && home.Country != "" && m.Country != home.Country {
		return Reason{Kind: "country", Arg: m.Country}
	}
	if prof.Debits >= minHistory && e.Category != "" && prof.Categories[e.Category] == 0 &&
		amt >= minFar && amt >= farFactor*prof.Typical && amt > prof.Largest {
		return Reason{Kind: "category", Arg: e.Category}
	}
	n := 1 // this one
	for _, t := range prof.Recent {
		if !t.Before(e.At.Add(-velocityWindow)) && !t.After(e.At) {
			n++
		}
	}
	if n >= velocityCount {
		return Reason{Kind: "velocity", N: n, Arg: strconv.Itoa(int(velocityWindow / time.Minute))}
	}
	return Reason{}
}

// learn adds a card debit to the profile.
func learn(prof *Profile, e ledger.Event, amt ledger.Amount) {
	if prof.Categories == nil {
		prof.Categories = map[string]int{}
	}
	if prof.Debits == 0 {
		prof.Typical = amt
	} else {
		prof.Typical += (amt - prof.Typical) / 8
	}
	prof.Debits++
	prof.Largest = max(prof.Largest, amt)
	if e.Category != "" {
		prof.Categories[e.Category]++
	}
	prof.Recent = append(prof.Recent, e.At)
	slices.SortFunc(prof.Recent, func(a, b time.Time) int { return a.Compare(b) })
	if len(prof.Recent) > recentKept {
		prof.Recent = slices.Clone(prof.Recent[len(prof.Recent)-recentKept:])
	}
}

// customerSides groups an event's postings on customer accounts by
// customer. Bank-internal accounts (customer 0) raise nothing.
func customerSides(e ledger.Event, accts map[ledger.AccountID]ledger.Account) map[bankbridge.CustomerID][]side {
	out := map[bankbridge.CustomerID][]side{}
	for _, p := range e.Postings {
		a, ok := accts[p.Account]
		if !ok || a.Customer == 0 {
			continue
		}
		out[a.Customer] = append(out[a.Customer], side{account: a, amount: p.Amount})
	}
	return out
}
