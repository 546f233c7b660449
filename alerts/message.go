package alerts

import (
	"fmt"
	"strings"

	"github.com/bankbridge/bankbridge/ledger"
)

// Message is what a Channel delivers: one alert, its text already minimised
// for the channel.
type Message struct {
	// ID is the delivery id, the same on every retry of this alert on this
	// channel: a channel that sees an ID twice must show it once.
	ID    string
	Alert AlertID
	Rule  Rule
	Title string
	Text  string
	// Link is the path of the notification centre in the bank's own app,
	// where the full alert is.
	Link string
	// Ask offers the "was this you?" quick replies; their payloads are
	// AnswerPayload(Alert, Yes) and AnswerPayload(Alert, No), to be passed
	// back to Service.Answer by the channel that receives them.
	Ask bool
	// Urgent marks suspicious-activity alerts (a platform may map it to a
	// message tag or priority).
	Urgent bool
	// To is the address for e-mail deliveries; empty otherwise.
	To string
	// Language is the language Title and Text are written in: "es" when
	// the service wrote them in Spanish for the customer, "" for English.
	Language string
	// answerHere introduces Link in an e-mail that asks; "" for English.
	answerHere string
}

// AnswerPayload is the quick-reply payload that answers an alert.
func AnswerPayload(id AlertID, a Answer) string { return "alert:" + string(id) + ":" + string(a) }

// ParseAnswerPayload reads a quick-reply payload made by AnswerPayload.
func ParseAnswerPayload(p string) (AlertID, Answer, bool) {
	rest, ok := strings.CutPrefix(p, "alert:")
	if !ok {
		return "", "", false
	}
	id, ans, ok := strings.Cut(rest, ":")
	if !ok || id == "" || len(id) > 64 || (ans != string(Yes) && ans != string(No)) {
		return "", "", false
	}
	for _, r := range id {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return "", "", false
		}
	}
	return AlertID(id), Answer(ans), true
}

// NotificationsPath is where the bank's app shows alerts.
const NotificationsPath = "/notifications"

// facts are what an alert's text may say.
type facts struct {
	amount   ledger.Amount // positive
	currency ledger.Currency
	account  ledger.Account
	merchant *ledger.Merchant
	last4    string
	desc     string
	reason   Reason
}

func (f facts) where() string {
	if f.last4 != "" {
		return "your card " + ledger.MaskLast4(f.last4)
	}
	return "your " + f.account.Name
}

func (f facts) at() string {
	if f.merchant != nil && f.merchant.Name != "" {
		return " at " + f.merchant.Name
	}
	if f.desc != "" {
		return " (" + f.desc + ")"
	}
	return ""
}

// fullText is the alert as the bank's own app shows it.
func fullText(r Rule, f facts) (title, body string) {
	money := f.amount.Display(f.currency)
	switch r {
	case CardPurchase:
		return r.label(), fmt.Sprintf("%s%s on %s.", money, f.at(), f.where())
	case LargeDebit:
		return r.label(), fmt.Sprintf("%s left %s%s.", money, "your "+f.account.Name, f.at())
	case LowBalance:
		return r.label(), fmt.Sprintf("Your %s has %s available.", f.account.Name, f.account.Available().Display(f.account.Currency))
	case Deposit:
		return r.label(), fmt.Sprintf("%s arrived in your %s%s.", money, f.account.Name, f.at())
	case PaymentSent:
		return r.label(), fmt.Sprintf("You sent %s from your %s%s.", money, f.account.Name, f.at())
	case Suspicious:
		return r.label(), fmt.Sprintf("We noticed %s: %s%s on %s. Was this you?", f.reason.english(), money, f.at(), f.where())
	}
	return r.label(), money
}

// minimalText says only that something is waiting, and asks when asking.
func minimalText(bank string, r Rule) (title, body string) {
	if r == Suspicious {
		return "Please confirm a payment", "We need you to confirm a recent card payment. Was this you? Answer Yes or No, or open " + bank + " for the details."
	}
	return bank + " alert", "You have a new alert. Open " + bank + " to read it."
}

// MinimalSpanish returns a minimised text this package wrote for bank and
// rule in Spanish, for customers who chose Spanish on a chat; ok is false
// for any other text (a full text keeps the language it was written in).
func MinimalSpanish(bank string, r Rule, body string) (string, bool) {
	if _, en := minimalText(bank, r); body != en {
		return "", false
	}
	if r == Suspicious {
		return "Necesitamos que confirmes un pago reciente con tarjeta. ¿Fuiste tú? Contesta Sí o No, o abre " + bank + " para ver los detalles.", true
	}
	return "Tienes una alerta nueva. Abre " + bank + " para leerla.", true
}

// minimalTitleES is minimalText's title in Spanish.
func minimalTitleES(bank string, r Rule) string {
	if r == Suspicious {
		return "Confirma un pago"
	}
	return "Alerta de " + bank
}
