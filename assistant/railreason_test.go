package assistant_test

import (
	"strings"
	"testing"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
)

// TestRailReasonInSpanish: every reason the rails word themselves (a
// return's R code, an instant payment's refusal, a returned collection
// with what stays owed, a refusal when the money is set aside) reads in
// Spanish; a code worded from NACHA's table is said in Spanish by its
// code; in English the rails' words stay as written.
func TestRailReasonInSpanish(t *testing.T) {
	t.Parallel()
	type reason struct {
		text, code string
		returned   bool
	}
	var cases []reason
	for _, code := range []string{"R01", "R02", "R03", "R04", "R16", "R20", "R05", "R99"} {
		cases = append(cases, reason{rails.ReturnWords(code), code, true})
	}
	for _, code := range []string{"AC01", "AC03", "AC04", "AC06", "AG01", "AM02", "NARR", "FF01"} {
		cases = append(cases, reason{rails.InstantWords(code), code, false})
	}
	collection := reason{"the other bank returned the collection: " + rails.ReturnWords("R01") +
		"; 12.00 USD of it could not be taken back from your account, and is owed to the bank until money comes in", "R01", true}
	cases = append(cases, collection,
		reason{"stopped by the bank's compliance review", "", false},
		reason{"the bank's core refused it", "", false},
		reason{ledger.ErrInsufficientFunds.Message, "", false},
		reason{ledger.ErrAccountFrozen.Message, "", false})
	for _, c := range cases {
		es := assistant.RailReason(assistant.Spanish, c.text, c.code, c.returned)
		if es == c.text || strings.Contains(es, "the ") || strings.Contains(es, "other") {
			t.Errorf("%s %q: %q in Spanish", c.code, c.text, es)
		}
		if en := assistant.RailReason(assistant.English, c.text, c.code, c.returned); en != c.text {
			t.Errorf("%s in English: %q, want %q", c.code, en, c.text)
		}
	}
	for _, c := range []struct {
		in   reason
		want string
	}{
		{collection, "el otro banco devolvió el cobro: la otra cuenta no tenía suficiente dinero; 12.00 USD no se pudo recuperar de tu cuenta y se le debe al banco hasta que entre dinero"},
		{reason{rails.ReturnWords("R05"), "R05", true}, "el otro banco lo devolvió (R05)"},
		{reason{rails.InstantWords("FF01"), "FF01", false}, "el otro banco lo rechazó (FF01)"},
	} {
		if got := assistant.RailReason(assistant.Spanish, c.in.text, c.in.code, c.in.returned); got != c.want {
			t.Errorf("%q: %q, want %q", c.in.text, got, c.want)
		}
	}
}
