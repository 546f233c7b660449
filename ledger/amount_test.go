package ledger_test

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/bankbridge/bankbridge/ledger"
)

func TestParseAmount(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		cur  ledger.Currency
		want ledger.Amount
		err  error
	}{
		{"20", "USD", 2000, nil},
		{"20.5", "USD", 2050, nil},
		{"20.50", "USD", 2050, nil},
		{" 0.01 ", "USD", 1, nil},
		{"1,000.00", "USD", 100000, nil},
		{"12,345,678.90", "USD", 1234567890, nil},
		{"20.500", "USD", 2050, nil},
		{"1500", "JPY", 1500, nil},
		{"92233720368547758.07", "USD", 9223372036854775807, nil},
		{"92233720368547758.08", "USD", 0, ledger.ErrAmountTooLarge},
		{"0", "USD", 0, ledger.ErrAmountNegative},
		{"0.00", "USD", 0, ledger.ErrAmountNegative},
		{"-5", "USD", 0, ledger.ErrAmountNegative},
		{"20.505", "USD", 0, ledger.ErrAmountPrecise},
		{"1.5", "JPY", 0, ledger.ErrAmountPrecise},
		{"", "USD", 0, ledger.ErrAmountSyntax},
		{"abc", "USD", 0, ledger.ErrAmountSyntax},
		{"1e3", "USD", 0, ledger.ErrAmountSyntax},
		{"+5", "USD", 0, ledger.ErrAmountSyntax},
		{"5.", "USD", 0, ledger.ErrAmountSyntax},
		{".5", "USD", 0, ledger.ErrAmountSyntax},
		{"1,00", "USD", 0, ledger.ErrAmountSyntax},
		{"1.2.3", "USD", 0, ledger.ErrAmountSyntax},
		{"NaN", "USD", 0, ledger.ErrAmountSyntax},
		{"٣", "USD", 0, ledger.ErrAmountSyntax},
		{strings.Repeat("9", 41), "USD", 0, ledger.ErrAmountSyntax},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			got, err := ledger.ParseAmount(c.in, c.cur)
			if !errors.Is(err, c.err) || (c.err == nil && err != nil) || got != c.want {
				t.Errorf("ParseAmount(%q, %s) = %d, %v; want %d, %v", c.in, c.cur, got, err, c.want, c.err)
			}
		})
	}
}

func TestAmountFormatRoundTrips(t *testing.T) {
	t.Parallel()
	for _, a := range []ledger.Amount{1, 9, 10, 99, 100, 2050, 123456789, 1<<63 - 1} {
		s := a.Format("USD")
		got, err := ledger.ParseAmount(s, "USD")
		if err != nil || got != a {
			t.Errorf("Format(%d) = %q parses back to %d, %v", a, s, got, err)
		}
	}
	if s := ledger.Amount(-5).Format("USD"); s != "-0.05" {
		t.Errorf("Format(-5) = %q", s)
	}
	if s := ledger.Amount(-1 << 63).Format("USD"); s != "-92233720368547758.08" {
		t.Errorf("Format(MinInt64) = %q", s)
	}
}

func TestAmountAddReportsOverflow(t *testing.T) {
	t.Parallel()
	if _, ok := ledger.Amount(1<<63 - 1).Add(1); ok {
		t.Error("MaxInt64+1 did not report overflow")
	}
	if _, ok := ledger.Amount(-1 << 63).Add(-1); ok {
		t.Error("MinInt64-1 did not report overflow")
	}
	if s, ok := ledger.Amount(5).Add(-7); !ok || s != -2 {
		t.Errorf("5-7 = %d, %v", s, ok)
	}
}

func TestAccountNumberNeverLogsInFull(t *testing.T) {
	t.Parallel()
	n := ledger.AccountNumber("123456789012")
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "number", n)
	out := b.String() + fmt.Sprintf("%v %s %+v %#v", n, n, n, n)
	if strings.Contains(out, "12345678") {
		t.Errorf("full account number leaked: %s", out)
	}
	if !strings.Contains(out, "9012") {
		t.Errorf("last four missing: %s", out)
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"20", "20.50", "1,000.00", "-1", "0.001", "9223372036854775807", "1e9", " 3 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ledger.ParseAmount(s, "USD")
		if err != nil {
			if a != 0 {
				t.Fatalf("error with non-zero amount %d", a)
			}
			return
		}
		if a <= 0 {
			t.Fatalf("ParseAmount(%q) = %d: accepted a non-positive amount", s, a)
		}
		back, err := ledger.ParseAmount(a.Format("USD"), "USD")
		if err != nil || back != a {
			t.Fatalf("%q -> %d -> %q -> %d, %v", s, a, a.Format("USD"), back, err)
		}
	})
}
