package ledger_test

import (
	"math"
	"testing"

	"github.com/bankbridge/bankbridge/ledger"
)

func TestDisplay(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		a    ledger.Amount
		c    ledger.Currency
		want string
	}{
		{"Zero", 0, "USD", "0.00 USD"},
		{"Cents", 5, "USD", "0.05 USD"},
		{"Thousands", 123450, "USD", "1,234.50 USD"},
		{"Negative", -123456789, "USD", "-1,234,567.89 USD"},
		{"NegativeBelowOne", -5, "EUR", "-0.05 EUR"},
		{"NoMinorUnits", 1000000, "JPY", "1,000,000 JPY"},
		{"ThreeMinorDigitsFromISO4217", 1234, "KWD", "1.234 KWD"},
		{"Largest", math.MaxInt64, "USD", "92,233,720,368,547,758.07 USD"},
		{"Smallest", math.MinInt64, "USD", "-92,233,720,368,547,758.08 USD"},
		{"Hundreds", 99999, "GBP", "999.99 GBP"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := c.a.Display(c.c); got != c.want {
				t.Errorf("Amount(%d).Display(%s) = %q, want %q", c.a, c.c, got, c.want)
			}
		})
	}
}

func TestGrouped(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{
		0: "0", 999: "999", 1000: "1,000", -12000: "-12,000", 1234567: "1,234,567",
		math.MinInt64: "-9,223,372,036,854,775,808",
	} {
		if got := ledger.Grouped(n); got != want {
			t.Errorf("Grouped(%d) = %q, want %q", n, got, want)
		}
	}
}

// FuzzDisplay checks that what people read is what the ledger holds: the
// display, stripped of its grouping and code, is Format's machine form.
func FuzzDisplay(f *testing.F) {
	for _, a := range []int64{0, 1, -1, 123450, math.MaxInt64, math.MinInt64} {
		f.Add(a, true)
	}
	f.Fuzz(func(t *testing.T, a int64, yen bool) {
		c := ledger.Currency("USD")
		if yen {
			c = "JPY"
		}
		got := ledger.Amount(a).Display(c)
		want := ledger.Amount(a).Format(c) + " " + string(c)
		stripped := ""
		for _, r := range got {
			if r != ',' {
				stripped += string(r)
			}
		}
		if stripped != want {
			t.Fatalf("Display = %q, which is not %q grouped", got, want)
		}
	})
}
