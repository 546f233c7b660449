package ledger

import "testing"

func TestDescriptionIn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ lang, in, want string }{
		{"es", "Scheduled payment to Sam: rent", "Pago programado a Sam: rent"},
		{"es", "Transfer to savings", "Transferencia a ahorros"},
		{"es", "Transfer to Everyday", "Transferencia a Everyday"},
		{"es", "Payroll - Acme Corp", "Nómina - Acme Corp"},
		{"es", "City Power - AutoPay", "City Power - Pago automático"},
		{"es", "Blue Bottle Coffee, Portland OR", "Blue Bottle Coffee, Portland OR"},
		{"en", "Transfer to savings", "Transfer to savings"},
		{"es", "", ""},
	} {
		if got := DescriptionIn(tc.lang, tc.in); got != tc.want {
			t.Errorf("DescriptionIn(%q, %q) = %q, want %q", tc.lang, tc.in, got, tc.want)
		}
	}
}

func TestCategoryIn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ lang, in, want string }{
		{"en", "fast_food", "Fast food"},
		{"es", "fast_food", "Comida rápida"},
		{"es", "groceries", "Supermercado"},
		{"es", "", "Ninguna"},
		{"en", "", "None"},
		{"es", "unheard_of", "Unheard of"},
	} {
		if got := CategoryIn(tc.lang, tc.in); got != tc.want {
			t.Errorf("CategoryIn(%q, %q) = %q, want %q", tc.lang, tc.in, got, tc.want)
		}
	}
}
