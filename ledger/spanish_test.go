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

// TestWordingIsASCII: the English of every rule is ASCII, which the
// stores' search relies on (a rule's length in characters is its length
// in bytes), and WordingIn rewrites as DescriptionIn does.
func TestWordingIsASCII(t *testing.T) {
	t.Parallel()
	w, ok := WordingIn("es")
	if !ok || len(w.Whole) == 0 || len(w.Suffixes) == 0 || len(w.Prefixes) == 0 {
		t.Fatalf("WordingIn(es) = %+v, %v", w, ok)
	}
	for _, p := range append(append(w.Whole, w.Suffixes...), w.Prefixes...) {
		for _, r := range p.From {
			if r >= 0x80 {
				t.Errorf("%q is not ASCII", p.From)
				break
			}
		}
	}
	for _, p := range w.Whole {
		if got := DescriptionIn("es", p.From); got != p.To {
			t.Errorf("DescriptionIn(%q) = %q, Wording says %q", p.From, got, p.To)
		}
	}
	for _, p := range w.Prefixes {
		if got := DescriptionIn("es", p.From+"Ana"); got != p.To+"Ana" {
			t.Errorf("DescriptionIn(%q) = %q, Wording says %q", p.From+"Ana", got, p.To+"Ana")
		}
	}
	if _, ok := WordingIn("en"); ok {
		t.Error("English has a wording: descriptions read as stored")
	}
}
