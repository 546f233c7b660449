package alerts

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/bankbridge/bankbridge/ledger"
)

// Facts are what an alert says, kept with it as data, so that its text
// can be written in the customer's language at the time it is shown or
// sent (Text), not only in the English it was made in. Names (accounts,
// merchants, payees) are the customer's and the bank's data: they are not
// translated.
type Facts struct {
	Account   string          `json:"account,omitempty"`   // the account's name
	Available ledger.Amount   `json:"available,omitempty"` // its available balance then (low balance)
	AvailIn   ledger.Currency `json:"avail_in,omitempty"`
	Merchant  string          `json:"merchant,omitempty"`
	Last4     string          `json:"last4,omitempty"` // the card's
	Desc      string          `json:"desc,omitempty"`  // the transfer's description, when no merchant
	Reason    Reason          `json:"reason,omitzero"` // why a payment looked suspicious
	// Texts are a notice's title and text per language ("en", "es"),
	// written by the package that owns the words (scheduled payments,
	// payments to other banks).
	Texts map[string][2]string `json:"texts,omitempty"`
}

// Reason is why a card payment looked out of character, as data.
type Reason struct {
	Kind string `json:"kind"` // currency, country, category, velocity
	Arg  string `json:"arg,omitempty"`
	N    int    `json:"n,omitempty"`
}

func (r Reason) english() string {
	switch r.Kind {
	case "currency":
		return "a payment in " + r.Arg
	case "country":
		return "a payment at a merchant in " + r.Arg
	case "category":
		return "a first payment in " + r.Arg + ", much larger than usual"
	case "velocity":
		return fmt.Sprintf("%d card payments within %s minutes", r.N, r.Arg)
	}
	return "an unusual payment"
}

func (r Reason) spanish() string {
	switch r.Kind {
	case "currency":
		return "un pago en " + r.Arg
	case "country":
		return "un pago en un comercio de " + r.Arg
	case "category":
		return "un primer pago en " + spanishCategory(r.Arg) + ", mucho mayor de lo habitual"
	case "velocity":
		return fmt.Sprintf("%d pagos con tarjeta en %s minutos", r.N, r.Arg)
	}
	return "un pago poco habitual"
}

func spanishCategory(c string) string { return strings.ToLower(ledger.CategoryIn("es", c)) }

// Encode is the facts as stored; "" for none.
func (f Facts) Encode() string {
	if f.isZero() {
		return ""
	}
	b, err := json.Marshal(f)
	if err != nil {
		return ""
	}
	return string(b)
}

func (f Facts) isZero() bool {
	return f.Account == "" && f.Merchant == "" && f.Last4 == "" && f.Desc == "" && f.Reason == (Reason{}) && len(f.Texts) == 0 && f.Available == 0
}

// DecodeFacts reads facts stored by Encode; anything else is no facts (the
// alert keeps its stored text).
func DecodeFacts(s string) Facts {
	var f Facts
	if s != "" {
		_ = json.Unmarshal([]byte(s), &f)
	}
	return f
}

// Text is the alert's title and full text in the language lang ("es" for
// Spanish, anything else English), written from its facts. An alert made
// before facts were kept, or a rule without Spanish words, keeps its
// stored text; ok says whether the text is in lang.
func Text(a Alert, lang string) (title, body string, ok bool) {
	if lang != "es" {
		lang = "en"
	}
	if t, found := a.Facts.Texts[lang]; found {
		return t[0], t[1], true
	}
	if lang == "en" {
		return a.Title, a.Body, true
	}
	if t, found := a.Facts.Texts["es"]; found {
		return t[0], t[1], true
	}
	f := a.Facts
	if f.isZero() {
		return a.Title, a.Body, false
	}
	money := a.Amount.Display(a.Currency)
	at := ""
	switch {
	case f.Merchant != "":
		at = " en " + f.Merchant
	case f.Desc != "":
		at = " (" + ledger.DescriptionIn("es", f.Desc) + ")"
	}
	where := "tu " + f.Account
	if f.Last4 != "" {
		where = "tu tarjeta " + ledger.MaskLast4(f.Last4)
	}
	label := spanishLabels[a.Rule]
	switch a.Rule {
	case CardPurchase:
		return label, fmt.Sprintf("%s%s con %s.", money, at, where), true
	case LargeDebit:
		return label, fmt.Sprintf("Salieron %s de tu %s%s.", money, f.Account, at), true
	case LowBalance:
		return label, fmt.Sprintf("Tu %s tiene %s disponibles.", f.Account, f.Available.Display(f.AvailIn)), true
	case Deposit:
		return label, fmt.Sprintf("Llegaron %s a tu %s%s.", money, f.Account, at), true
	case PaymentSent:
		return label, fmt.Sprintf("Enviaste %s desde tu %s%s.", money, f.Account, at), true
	case Suspicious:
		return label, fmt.Sprintf("Notamos %s: %s%s con %s. ¿Fuiste tú?", f.Reason.spanish(), money, at, where), true
	}
	return a.Title, a.Body, false
}
