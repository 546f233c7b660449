package ledger

import (
	"strconv"
	"strings"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// english groups digits as every channel shows them today ("1,234,567").
// A Printer is safe for concurrent use: each call formats in its own state.
var english = message.NewPrinter(language.English)

// Display writes an amount for people, the one way every channel shows
// money (web pages, chat replies, alerts and their e-mail, the console):
// a minus sign when negative, the major units grouped in thousands, the
// minor units to c's ISO 4217 exponent, then the code: "1,234.50 USD",
// "-0.05 EUR", "1,000,000 JPY". The code rather than a symbol, because
// "$" alone does not say which dollar. It never goes through a float:
// every int64 reads exactly. For machines, Format is the ungrouped form.
func (a Amount) Display(c Currency) string {
	exp := displayExponent(c)
	u := uint64(a)
	if a < 0 {
		u = uint64(-(a + 1)) + 1 // safe for MinInt64
	}
	var b strings.Builder
	if a < 0 {
		b.WriteByte('-')
	}
	p := uint64(1)
	for range exp {
		p *= 10
	}
	b.WriteString(english.Sprint(u / p))
	if exp > 0 {
		frac := strconv.FormatUint(u%p, 10)
		b.WriteByte('.')
		b.WriteString(strings.Repeat("0", exp-len(frac)))
		b.WriteString(frac)
	}
	b.WriteByte(' ')
	b.WriteString(string(c))
	return b.String()
}

// displayExponent is c's minor-unit exponent: the ledger's own table for
// the currencies it books, else the one x/text knows from CLDR (the same
// as ISO 4217 for all but a few), so that a foreign amount from a rail
// still reads in its units.
func displayExponent(c Currency) int {
	if c.Valid() {
		return c.Exponent()
	}
	if u, err := currency.ParseISO(string(c)); err == nil {
		scale, _ := currency.Standard.Rounding(u)
		return scale
	}
	return 0
}

// Grouped writes a count for people, grouped in thousands as amounts are:
// "1,234,567", "-12,000". Counts beside amounts on a page or in a report
// must read alike, hence one grouping, here.
func Grouped(n int64) string { return english.Sprint(n) }
