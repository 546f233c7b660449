package ledger

import (
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"

	"github.com/bankbridge/bankbridge"
)

// Amount is money in minor units of its currency (cents for USD). Never a float.
type Amount int64

// Currency is an ISO 4217 alphabetic code such as "USD".
type Currency string

// exponents lists the currencies the bank books and their minor-unit exponent.
var exponents = map[Currency]int{"USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "MXN": 2, "JPY": 0, "CHF": 2}

// Valid reports whether c is a currency the ledger books.
func (c Currency) Valid() bool { _, ok := exponents[c]; return ok }

// Exponent returns the number of minor-unit digits of c (2 for USD).
func (c Currency) Exponent() int { return exponents[c] }

// Add returns a+b, or false when the sum overflows int64.
func (a Amount) Add(b Amount) (Amount, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}

// Neg returns -a, or false for the one value whose negation overflows.
func (a Amount) Neg() (Amount, bool) {
	if a == math.MinInt64 {
		return 0, false
	}
	return -a, true
}

// Format renders a in major units of c, e.g. 2050 USD -> "20.50".
func (a Amount) Format(c Currency) string {
	exp := c.Exponent()
	neg := a < 0
	u := uint64(a)
	if neg {
		u = uint64(-(a + 1)) + 1 // safe for MinInt64
	}
	s := strconv.FormatUint(u, 10)
	if exp > 0 {
		if len(s) <= exp {
			s = strings.Repeat("0", exp-len(s)+1) + s
		}
		s = s[:len(s)-exp] + "." + s[len(s)-exp:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Errors of ParseAmount.
var (
	ErrAmountSyntax   = bankbridge.E(bankbridge.Invalid, "amount_invalid", "the amount is not a number such as 20 or 20.50")
	ErrAmountNegative = bankbridge.E(bankbridge.Invalid, "amount_not_positive", "the amount must be greater than zero")
	ErrAmountPrecise  = bankbridge.E(bankbridge.Invalid, "amount_too_precise", "the amount has more decimal places than the currency allows")
	ErrAmountTooLarge = bankbridge.E(bankbridge.Invalid, "amount_too_large", "the amount is too large")
)

// ParseAmount reads a positive decimal amount in major units of c ("20",
// "20.5", "20.50", "1,000.00") into minor units. It refuses signs, exponents,
// more decimals than c allows, zero and anything that would overflow.
func ParseAmount(s string, c Currency) (Amount, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 40 {
		return 0, ErrAmountSyntax
	}
	if s[0] == '-' {
		return 0, ErrAmountNegative
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if hasDot && frac == "" || whole == "" {
		return 0, ErrAmountSyntax
	}
	// Thousands separators only in groups of three.
	if strings.Contains(whole, ",") {
		groups := strings.Split(whole, ",")
		for i, g := range groups {
			if (i == 0 && (len(g) == 0 || len(g) > 3)) || (i > 0 && len(g) != 3) {
				return 0, ErrAmountSyntax
			}
		}
		whole = strings.Join(groups, "")
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, ErrAmountSyntax
		}
	}
	exp := c.Exponent()
	if len(frac) > exp {
		// Trailing zeros beyond the exponent are harmless ("20.500").
		if strings.Trim(frac[exp:], "0") != "" {
			return 0, ErrAmountPrecise
		}
		frac = frac[:exp]
	}
	frac += strings.Repeat("0", exp-len(frac))
	v, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, ErrAmountTooLarge
	}
	if v == 0 {
		return 0, ErrAmountNegative
	}
	return Amount(v), nil
}

// AccountNumber is a full account number. It logs masked to its last four.
type AccountNumber string

// Masked returns the number as "••••1234".
func (n AccountNumber) Masked() string {
	if len(n) <= 4 {
		return "••••"
	}
	return MaskLast4(string(n[len(n)-4:]))
}

// MaskLast4 writes the last four digits of an account or card number the
// one way every channel shows them: "••••4242". Pages, alerts, e-mails
// and the console all mask through it, so a card in an alert reads like
// the account beside it on a page.
func MaskLast4(last4 string) string { return "••••" + last4 }

// LogValue keeps full account numbers out of logs.
func (n AccountNumber) LogValue() slog.Value { return slog.StringValue(n.Masked()) }

// String masks too, so that %v in an error message cannot leak the number.
func (n AccountNumber) String() string { return n.Masked() }

// GoString masks as well.
func (n AccountNumber) GoString() string { return fmt.Sprintf("AccountNumber(%q)", n.Masked()) }
