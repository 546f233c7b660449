package rails

import (
	"fmt"
	"time"
)

// What the channels (web, partner API, chat) show a customer who starts a
// collection or asks an instant payment back. The rules themselves are
// Collect's and RequestReturn's; these are only the words, kept here so
// that every channel shows the same ones.

// AuthorizationTerms is the authorisation a customer agrees to before the
// bank debits their account at another bank (a single WEB entry), as a
// format: the bank's name, the amount, the debited account (masked), its
// routing number, the effective date, the account credited here, the
// bank's name again. NACHA Operating Rules, Article Two, Subsection 2.3.2
// (authorisation of consumer debits: readily identifiable as an
// authorisation, with clear and readily understandable terms, including
// how to revoke it) and Subsection 2.5.17 (WEB entries: authorised over the
// internet). The channels translate it by this text; Authorized records
// the words as shown.
const AuthorizationTerms = "I authorise %s to debit %s once from my account %s at the bank with routing number %s, on or after %s, and to credit it to my account %s. I can cancel this authorisation by contacting %s before that date."

// Authorized is the authorisation as Collect records it: its Standard Entry
// Class code, the channel, when, the language shown and the words the
// customer agreed to (NACHA Operating Rules, Subsection 2.3.2.5: the
// originator keeps the authorisation, or a record of it, for two years).
func Authorized(sec, channel string, at time.Time, lang, words string) string {
	return fmt.Sprintf("%s, agreed on %s at %s (%s): %s", sec, channel, at.UTC().Format(time.RFC3339), lang, words)
}

// CustomerRecallReasons are the camt.056 cancellation reasons (ISO 20022
// External Code Sets, ExternalCancellationReason1Code) a customer may give
// for asking an instant payment back; the others (AC03, AM09, UPAY) are
// the bank's staff's to give.
var CustomerRecallReasons = []string{"DUPL", "TECH", "FRAD", "CUST"}

// RecallNotes are every note RequestReturn and its answers write on a
// payment for the customer's reasons, so that a channel can have each in
// its catalogue (a test there checks it).
func RecallNotes() []string {
	out := []string{"the other bank agreed to return it; the money follows"}
	for _, r := range CustomerRecallReasons {
		out = append(out, r+": "+RecallReasons[r])
	}
	for _, w := range refusalReasons {
		out = append(out, "the other bank did not return it: "+w)
	}
	return out
}

// Words says a payment's status in plain words for its customer: a
// collection's money comes in, so its words are its own; every other
// payment's are its status's (Status.Words).
func (p Payment) Words() string {
	if p.Kind != KindDebit {
		return p.Status.Words()
	}
	switch p.Status {
	case StatusNew, StatusAccepted, StatusBatched:
		return "Scheduled: we ask the other bank for the money with the next file"
	case StatusSent:
		return "Sent: the payment network has it"
	case StatusSettled:
		return "Arrived: the money is in your account"
	case StatusReturned:
		return "Returned: the other bank sent the collection back"
	case StatusRefused:
		return "Not collected: nothing was taken from the other account"
	}
	return p.Status.Words()
}
