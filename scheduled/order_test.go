package scheduled

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestDateOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		o    Order
		seq  int
		want time.Time
	}{
		{"OnceIsItsStart", Order{Every: Once, Start: day(2026, 3, 2)}, 1, day(2026, 3, 2)},
		{"WeeklyAddsSevenDays", Order{Every: Weekly, Start: day(2026, 12, 28)}, 2, day(2027, 1, 4)},
		{"MonthlyKeepsTheDay", Order{Every: Monthly, Start: day(2026, 1, 15)}, 3, day(2026, 3, 15)},
		{"MonthlyOn31stFallsToTheLastDay", Order{Every: Monthly, Start: day(2026, 1, 31)}, 2, day(2026, 2, 28)},
		{"MonthlyComesBackTo31st", Order{Every: Monthly, Start: day(2026, 1, 31)}, 3, day(2026, 3, 31)},
		{"MonthlyOverTheYear", Order{Every: Monthly, Start: day(2026, 11, 30)}, 4, day(2027, 2, 28)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.o.DateOf(tc.seq); !got.Equal(tc.want) {
				t.Fatalf("DateOf(%d) = %v, want %v", tc.seq, got, tc.want)
			}
		})
	}
}

func TestAfter(t *testing.T) {
	t.Parallel()
	o := Order{Every: Weekly, Start: day(2026, 3, 2), Count: 2}
	if d, ok := o.After(1); !ok || !d.Equal(day(2026, 3, 9)) {
		t.Fatalf("After(1) = %v, %v", d, ok)
	}
	if _, ok := o.After(2); ok {
		t.Fatal("After the count's last: want none")
	}
	o = Order{Every: Monthly, Start: day(2026, 3, 2), Until: day(2026, 4, 30)}
	if _, ok := o.After(2); ok {
		t.Fatal("After past Until: want none")
	}
	if _, ok := (Order{Every: Once, Start: day(2026, 3, 2)}).After(1); ok {
		t.Fatal("a single payment has no next")
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	today := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	ok := Order{Customer: 1, From: 1, To: 2, Amount: 100, Every: Monthly, Start: day(2026, 3, 2), Count: 3}
	if err := ok.Validate(today); err != nil {
		t.Fatalf("valid order: %v", err)
	}
	for name, mod := range map[string]func(*Order){
		"RejectsThePast":        func(o *Order) { o.Start = day(2026, 3, 1) },
		"RejectsZeroAmount":     func(o *Order) { o.Amount = 0 },
		"RejectsSameAccount":    func(o *Order) { o.To = o.From },
		"RejectsNoEnd":          func(o *Order) { o.Count = 0 },
		"RejectsEndBeforeStart": func(o *Order) { o.Count = 0; o.Until = day(2026, 3, 1) },
		"RejectsUnknownEvery":   func(o *Order) { o.Every = "daily" },
		"RejectsNoPayee":        func(o *Order) { o.To = 0 },
		"RejectsAYearAway":      func(o *Order) { o.Start = day(2027, 3, 3) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o := ok
			mod(&o)
			if err := o.Validate(today); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestRunKey(t *testing.T) {
	t.Parallel()
	if got := (Run{Order: 12, Seq: 3}).Key(); got != "sched:12:3" {
		t.Fatalf("Key = %q", got)
	}
}

func TestDetailIn(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ lang, in, want string }{
		{"es", "amount 10.00 USD -> 25.00 USD; next date 2026-03-09 -> 2026-03-16",
			"importe 10.00 USD -> 25.00 USD; próxima fecha 2026-03-09 -> 2026-03-16"},
		{"es", "end date none -> 2026-06-01; number of payments 4 -> 0; authorised with the authenticator code up to 1,500.00 USD",
			"fecha de fin ninguna -> 2026-06-01; número de pagos 4 -> 0; autorizado con el código del autenticador hasta 1,500.00 USD"},
		{"en", "amount 10.00 USD -> 25.00 USD", "amount 10.00 USD -> 25.00 USD"},
		{"es", "something new", "something new"},
		{"es", "", ""},
	} {
		if got := DetailIn(c.lang, c.in); got != c.want {
			t.Errorf("DetailIn(%q, %q) = %q, want %q", c.lang, c.in, got, c.want)
		}
	}
}

// TestDetailInCoversChangeDetail: every part changeDetail writes reads in
// Spanish, none left in English.
func TestDetailInCoversChangeDetail(t *testing.T) {
	t.Parallel()
	was := Order{Amount: 1000, Currency: "USD", Next: day(2026, 3, 9), Count: 4, Every: Weekly}
	now := Order{Amount: 2500, Currency: "USD", Next: day(2026, 3, 16), Until: day(2026, 6, 1), Authorized: 150000, AuthorizedAt: day(2026, 3, 1), Every: Weekly}
	d := changeDetail(was, now)
	es := DetailIn("es", d)
	for _, w := range detailWordsES {
		if strings.Contains(es, w.en) {
			t.Errorf("%q left in English in %q", w.en, es)
		}
	}
	if strings.Count(d, "; ") != 4 || strings.Contains(es, "none") {
		t.Errorf("changeDetail %q, in Spanish %q", d, es)
	}
}
