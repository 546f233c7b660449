package alerts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
)

// PaymentStatus is the rule of an alert on a payment to another bank whose
// status changed (PaymentChanged).
const PaymentStatus Rule = "payment_status"

// States of a payment to another bank that raise an alert.
const (
	PaymentLeft     = "sent"     // the payment network has it
	PaymentSettled  = "settled"  // it reached the other bank
	PaymentReturned = "returned" // the other bank sent it back; Reason says why
	PaymentRefused  = "refused"  // it never left; Reason says why
	PaymentHeld     = "held"     // held for the bank's compliance review
	PaymentReleased = "released" // the review let it go
	// A debit the customer asked the bank to collect from an account at
	// another bank: its money arrived, or the other bank returned it and
	// the bank took it back (Reason says why, and what stays owed).
	CollectionSettled  = "collected"
	CollectionReturned = "collection_returned"
)

// PaymentChange is a change of a payment to another bank, for its alert.
type PaymentChange struct {
	Payment  int64 // the payment's id at the rails: with State, the alert's identity
	Customer bankbridge.CustomerID
	Account  ledger.AccountID // the account it was paid from
	Payee    string
	Amount   ledger.Amount // positive
	Currency ledger.Currency
	State    string
	// Reason says why it was returned or refused, in plain words, in the
	// customer's language.
	Reason string
	// Spanish writes the alert in Spanish (the customer's chosen language).
	Spanish bool
}

// paymentAlertID derives the id of a payment's alert in one state, so a
// change told twice (a retry, two instances) raises one alert.
func paymentAlertID(p int64, state string, c bankbridge.CustomerID) AlertID {
	h := sha256.Sum256([]byte("bankbridge-payment-alert\x00" + strconv.FormatInt(p, 10) + "\x00" + state + "\x00" + strconv.FormatInt(int64(c), 10)))
	return AlertID(hex.EncodeToString(h[:12]))
}

// PaymentChanged raises the alert of a payment's change and its deliveries
// (the notification centre, every linked chat, e-mail), minimised per the
// customer's privacy like every alert. Leaving and settling follow the
// customer's payment alerts setting; a return, a refusal, a hold and a
// release are always told. Telling the same change twice raises nothing
// more. A state it does not know is ignored.
func (s *Service) PaymentChanged(ctx context.Context, ch PaymentChange) error {
	title, body, ok := paymentText(ch, "")
	if !ok {
		return nil
	}
	acct, err := s.led.Account(ctx, ch.Account)
	if err != nil {
		return fmt.Errorf("alerts: account %d: %w", ch.Account, err)
	}
	title, body, _ = paymentText(ch, acct.Name)
	// Both languages kept: each delivery, and the notification centre,
	// takes the customer's at the time. (Reason was written in the
	// language chosen when the change was told.)
	en, es := ch, ch
	en.Spanish, es.Spanish = false, true
	tEN, bEN, _ := paymentText(en, acct.Name)
	tES, bES, _ := paymentText(es, acct.Name)
	sts, err := s.store.Settings(ctx, []bankbridge.CustomerID{ch.Customer})
	if err != nil {
		return err
	}
	st, ok := sts[ch.Customer]
	if !ok {
		st = DefaultSettings(ch.Customer)
	}
	if !st.Payments && (ch.State == PaymentLeft || ch.State == PaymentSettled || ch.State == CollectionSettled) {
		return nil
	}
	var links []Link
	if s.o.Links != nil {
		if links, err = s.o.Links.Links(ctx, ch.Customer); err != nil {
			return fmt.Errorf("alerts: links of customer %d: %w", ch.Customer, err)
		}
	}
	now := s.o.Now()
	a := Alert{ID: paymentAlertID(ch.Payment, ch.State, ch.Customer), Customer: ch.Customer, Rule: PaymentStatus, Account: ch.Account,
		Amount: ch.Amount, Currency: ch.Currency, Title: title, Body: body, Created: now,
		Facts: Facts{Texts: map[string][2]string{"en": {tEN, bEN}, "es": {tES, bES}}}}
	b := Batch{Alerts: []Alert{a}, Deliveries: s.deliveries(a, st, links, now)}
	if err := s.store.Commit(ctx, s.o.Cursor, 0, b, now); err != nil {
		return err
	}
	if s.o.OnSent != nil {
		s.o.OnSent(a.Customer, "web", a.Rule, now)
	}
	if len(b.Deliveries) > 0 {
		s.kick()
	}
	return nil
}

func pick(es bool, en, sp string) string {
	if es {
		return sp
	}
	return en
}

// paymentText is a payment alert's title and text, in English or Spanish;
// false for a state that raises none.
func paymentText(ch PaymentChange, account string) (title, body string, ok bool) {
	money := ch.Amount.Display(ch.Currency)
	es := ch.Spanish
	switch ch.State {
	case PaymentLeft:
		return pick(es, "Payment sent", "Pago enviado"), fmt.Sprintf(pick(es, "Your payment of %s to %s has left: the payment network has it.",
			"Tu pago de %s a %s salió: la red de pagos lo tiene."), money, ch.Payee), true
	case PaymentSettled:
		return pick(es, "Payment arrived", "Pago entregado"), fmt.Sprintf(pick(es, "Your payment of %s to %s reached the other bank.",
			"Tu pago de %s a %s llegó al otro banco."), money, ch.Payee), true
	case PaymentReturned:
		return pick(es, "Payment returned", "Pago devuelto"), fmt.Sprintf(pick(es, "Your payment of %s to %s came back: %s. The money is back in your %s.",
			"Tu pago de %s a %s fue devuelto: %s. El dinero está de nuevo en tu %s."), money, ch.Payee, ch.Reason, account), true
	case PaymentRefused:
		return pick(es, "Payment not sent", "Pago no enviado"), fmt.Sprintf(pick(es, "Your payment of %s to %s was not sent: %s. No money left your %s.",
			"Tu pago de %s a %s no se envió: %s. No salió dinero de tu %s."), money, ch.Payee, ch.Reason, account), true
	case PaymentHeld:
		return pick(es, "Payment on hold", "Pago retenido"), fmt.Sprintf(pick(es, "Your payment of %s to %s is on hold while the bank checks it. The money is set aside in your %s.",
			"Tu pago de %s a %s está retenido mientras el banco lo revisa. El dinero está apartado en tu %s."), money, ch.Payee, account), true
	case CollectionSettled:
		return pick(es, "Money collected", "Dinero cobrado"), fmt.Sprintf(pick(es, "%s collected from %s arrived in your %s.",
			"%s cobrados de %s llegaron a tu %s."), money, ch.Payee, account), true
	case CollectionReturned:
		return pick(es, "Collection returned", "Cobro devuelto"), fmt.Sprintf(pick(es, "The %s collected from %s came back (%s), and was taken back from your %s.",
			"Los %s cobrados de %s fueron devueltos (%s), y se retiraron de tu %s."), money, ch.Payee, ch.Reason, account), true
	case PaymentReleased:
		return pick(es, "Payment on its way", "Pago en camino"), fmt.Sprintf(pick(es, "Your payment of %s to %s passed the bank's check and leaves with the next file.",
			"Tu pago de %s a %s pasó la revisión del banco y sale con el próximo archivo."), money, ch.Payee), true
	}
	return "", "", false
}
