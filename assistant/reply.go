package assistant

import (
	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/ledger"
)

// Reply is one message the assistant sends, before a channel renders it in
// its platform's format.
type Reply struct {
	Text    string
	Choices []Choice // quick replies, at most 11
	Buttons []Button // at most 3
	// Disclosure is set when the reply carries customer data: the channel
	// records it in the audit log, durably, before sending.
	Disclosure *Disclosure
}

// Choice is a quick reply: a title shown to the person and the payload
// that comes back when they tap it.
type Choice struct {
	Title   string
	Payload string
}

// ButtonKind is what a button does.
type ButtonKind string

// The button kinds.
const (
	ButtonLinkAccount ButtonKind = "account_link" // starts account linking; the channel supplies the URL
	ButtonURL         ButtonKind = "web_url"      // opens a page of the bank
	ButtonPostback    ButtonKind = "postback"     // sends Payload back
)

// Button is a button under a message.
type Button struct {
	Kind    ButtonKind
	Title   string
	URL     string // ButtonURL
	Payload string // ButtonPostback
}

// Disclosure describes the customer data a reply carries, for the audit
// log: whose, under which consent, which accounts and data clusters, for
// which declared purpose, and what the reply was ("balance").
type Disclosure struct {
	Customer bankbridge.CustomerID
	Grant    consent.GrantID
	Accounts []ledger.AccountID
	Clusters []consent.Cluster
	Purpose  string
	What     string
}

// Automated is what the assistant says about itself at the start of a
// conversation, after a long pause and when a person hands back.
const Automated = "I'm the bank's automated assistant."

// accountLabel names an account in a reply: its name and the last four
// digits of its number.
func accountLabel(a ledger.Account) string {
	n := string(a.Number)
	if len(n) > 4 {
		n = n[len(n)-4:]
	}
	return a.Name + " ••" + n
}

// kindLabel names an account by its kind only, for minimal replies.
func kindLabel(k ledger.AccountKind) string {
	switch k {
	case ledger.Checking:
		return "checking account"
	case ledger.Savings:
		return "savings account"
	case ledger.CreditCard:
		return "credit card"
	}
	return "account"
}

// truncate cuts s to n runes, with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
