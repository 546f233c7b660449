package app

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/railsim"
)

// TestRailAlertsOnBothEngines: the wiring's RailAlerts, on the rails'
// OnChange, raises one alert per status change of a payment to another
// bank (left, settled, returned with its reason in words; held and
// released by compliance; refused), in Spanish for a customer who chose it,
// through railsim over loopback, on SQLite and PostgreSQL.
func TestRailAlertsOnBothEngines(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := &Config{Data: t.TempDir()}
			if engine == "postgres" {
				c.Database = testdb.PostgresURL(t)
			}
			b, err := OpenBackend(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			led := ledger.New(b.Ledger, ledger.Options{})
			t.Cleanup(led.Close)
			al := alerts.New(b.Alerts, b.Ledger, alerts.Options{BankName: "Test Bank"})
			var onChange func(context.Context, rails.Payment)
			rs := rails.New(b.Rails, led, rails.Options{Origin: rails.Origin{Routing: "021000089"}, Screener: rails.MustSample(),
				OnChange: func(p rails.Payment) { onChange(ctx, p) }})
			onChange = RailAlerts(al, b.Messenger, slog.New(slog.DiscardHandler))
			sim := httptest.NewServer(railsim.New(railsim.Options{}).Handler())
			t.Cleanup(sim.Close)
			tr := &railsim.Client{Base: sim.URL, Routing: "021000089"}

			const ada, bea = 501, 502
			fund, err := b.Ledger.CreateAccount(ctx, ledger.Account{Kind: ledger.Internal, Name: "funding", Currency: "USD", Number: "900000000098", Unbounded: true, OpenedAt: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			acct := map[int]ledger.Account{}
			for i, cu := range []int{ada, bea} {
				a, err := b.Ledger.CreateAccount(ctx, ledger.Account{Customer: bankbridge.CustomerID(cu), Kind: ledger.Checking, Name: "Everyday checking", Currency: "USD",
					Number: ledger.AccountNumber("10000000050" + string(rune('1'+i))), OpenedAt: time.Now()})
				if err != nil {
					t.Fatal(err)
				}
				acct[cu] = a
				if _, _, err := led.Transfer(ctx, ledger.Move("test", "fund"+string(a.Number), fund.ID, a.ID, 500_00, "USD", "funding")); err != nil {
					t.Fatal(err)
				}
			}
			if err := b.Messenger.SaveSettings(ctx, assistant.Settings{Customer: bankbridge.CustomerID(bea), Privacy: assistant.PrivacyMinimal, Language: assistant.Spanish}); err != nil {
				t.Fatal(err)
			}
			pay := func(cu int, name, number string) rails.Payment {
				t.Helper()
				pe, err := rs.AddPayee(ctx, rails.Payee{Customer: bankbridge.CustomerID(cu), Name: name, Nickname: name, Routing: "231380104", Number: ledger.AccountNumber(number)})
				if err != nil {
					t.Fatal(err)
				}
				p, err := rs.Pay(ctx, rails.PayRequest{Customer: bankbridge.CustomerID(cu), Payee: pe.ID, From: acct[cu].ID, Amount: 20_00, Channel: "web", Key: name})
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			pay(ada, "Sam Lee", "123456789")
			pay(bea, "Ann Short", "1111111111") // returned R01
			held := pay(ada, "Dmitri Kovalenko", "123456789")
			if held.Status != rails.StatusHeld {
				t.Fatalf("a sanctions hit: %s", held.Status)
			}
			if _, err := rs.Release(ctx, held.ID); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if err := rs.Cycle(ctx, tr); err != nil {
					t.Fatal(err)
				}
			}
			bodies := func(cu int) string {
				as, _, err := al.Notifications(ctx, bankbridge.CustomerID(cu), 50)
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, a := range as {
					out = append(out, a.Title+": "+a.Body)
				}
				return strings.Join(out, "\n")
			}
			got := bodies(ada)
			for _, want := range []string{
				"Payment on hold: Your payment of 20.00 USD to Dmitri Kovalenko is on hold while the bank checks it.",
				"Payment on its way: Your payment of 20.00 USD to Dmitri Kovalenko passed the bank's check",
				"Payment sent: Your payment of 20.00 USD to Sam Lee has left",
				"Payment arrived: Your payment of 20.00 USD to Sam Lee reached the other bank.",
			} {
				if !strings.Contains(got, want) {
					t.Errorf("Ada's alerts lack %q:\n%s", want, got)
				}
			}
			if got := bodies(bea); !strings.Contains(got, "Pago devuelto: Tu pago de 20.00 USD a Ann Short fue devuelto: la otra cuenta no tenía suficiente dinero. El dinero está de nuevo en tu Everyday checking.") {
				t.Errorf("Bea's return, in Spanish:\n%s", got)
			}
		})
	}
}
