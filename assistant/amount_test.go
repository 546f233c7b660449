package assistant_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/ledger"
)

var (
	enOnes = []string{"", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen",
		"fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
	enTens = []string{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}
	esOnes = []string{"", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez", "once", "doce", "trece",
		"catorce", "quince", "dieciséis", "diecisiete", "dieciocho", "diecinueve", "veinte", "veintiuno", "veintidós", "veintitrés",
		"veinticuatro", "veinticinco", "veintiséis", "veintisiete", "veintiocho", "veintinueve"}
	esTens     = []string{"", "", "", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa"}
	esHundreds = []string{"", "ciento", "doscientos", "trescientos", "cuatrocientos", "quinientos", "seiscientos", "setecientos", "ochocientos", "novecientos"}
)

// spellEN writes 1 <= n < 1,000,000 in English words, as people do.
func spellEN(n int) string {
	var parts []string
	if n >= 1000 {
		parts = append(parts, spellEN(n/1000), "thousand")
		n %= 1000
	}
	if n >= 100 {
		parts = append(parts, enOnes[n/100], "hundred")
		n %= 100
		if n > 0 {
			parts = append(parts, "and")
		}
	}
	switch {
	case n >= 20 && n%10 != 0:
		parts = append(parts, enTens[n/10]+"-"+enOnes[n%10])
	case n >= 20:
		parts = append(parts, enTens[n/10])
	case n > 0:
		parts = append(parts, enOnes[n])
	}
	return strings.Join(parts, " ")
}

// spellES writes 1 <= n < 1,000,000 in Spanish words.
func spellES(n int) string {
	var parts []string
	if n >= 1000 {
		if n/1000 > 1 {
			parts = append(parts, spellES(n/1000))
		}
		parts = append(parts, "mil")
		n %= 1000
	}
	if n == 100 {
		return strings.Join(append(parts, "cien"), " ")
	}
	if n >= 100 {
		parts = append(parts, esHundreds[n/100])
		n %= 100
	}
	switch {
	case n >= 30 && n%10 != 0:
		parts = append(parts, esTens[n/10], "y", esOnes[n%10])
	case n >= 30:
		parts = append(parts, esTens[n/10])
	case n > 0:
		parts = append(parts, esOnes[n])
	}
	return strings.Join(parts, " ")
}

// TestParseAmountWords: every whole amount up to 999,999 written in
// English or Spanish words reads to its cents; a sample is checked beyond
// 9,999.
func TestParseAmountWords(t *testing.T) {
	t.Parallel()
	for n := 1; n < 1_000_000; n++ {
		if n > 9999 && n%997 != 0 {
			continue
		}
		want := ledger.Amount(n) * 100
		for _, text := range []string{spellEN(n), spellES(n), spellEN(n) + " dollars", spellES(n) + " dólares"} {
			got, err := assistant.ParseAmount(text)
			if err != nil || got != want {
				t.Fatalf("ParseAmount(%q) = %d, %v; want %d", text, got, err, want)
			}
		}
	}
}

func TestParseAmountForms2(t *testing.T) {
	t.Parallel()
	good := map[string]ledger.Amount{
		"twenty-five fifty": 2550, "a hundred bucks": 10000, "twenty": 2000, "veinte": 2000, "veinte con cincuenta": 2050,
		"twenty dollars and fifty cents": 2050, "fifty cents": 50, "ten and a half": 1050, "$1,250.50": 125050, "20usd": 2000,
		"a grand": 100000, "two grand": 200000, "fifteen hundred": 150000, "twenty-five hundred": 250000, "cincuenta centavos": 50,
		"veinte dólares con cincuenta centavos": 2050, "mil quinientos": 150000, "dos millones": 0, "un millón": 100000000, "twelve fifty": 1250, "twenty and fifty cents": 2050,
	}
	for text, want := range good {
		got, err := assistant.ParseAmount(text)
		if want == 0 {
			if !errors.Is(err, assistant.ErrAmountLarge) {
				t.Errorf("ParseAmount(%q) = %d, %v; want too large", text, got, err)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", text, got, err, want)
		}
	}
	bad := map[string]error{
		"20,000.5.5": assistant.ErrAmountForm, "-5": assistant.ErrAmountNegative, "1e9": assistant.ErrAmountForm,
		"veinte mil millones": assistant.ErrAmountLarge, "five fifty": assistant.ErrAmountAmbiguous, "one fifty": assistant.ErrAmountAmbiguous,
		"half": assistant.ErrAmountHalf, "la mitad": assistant.ErrAmountForm, "20 30": assistant.ErrAmountMany, "": assistant.ErrAmountForm,
		"twenty thirty forty": assistant.ErrAmountMany, "twenty and fifty": assistant.ErrAmountAmbiguous, "veinte y cincuenta": assistant.ErrAmountAmbiguous, "hundred": assistant.ErrAmountForm, "a": assistant.ErrAmountForm,
		"1000001": assistant.ErrAmountLarge, "two billion": assistant.ErrAmountLarge, "20,50": assistant.ErrAmountForm,
	}
	for text, want := range bad {
		if got, err := assistant.ParseAmount(text); !errors.Is(err, want) {
			t.Errorf("ParseAmount(%q) = %d, %v; want %v", text, got, err, want)
		}
	}
}

// FuzzParseAmount: any text reads to an amount in (0, MaxChatAmount] that
// the ledger reads back the same from its plain decimal, or to an error.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"twenty-five fifty", "a hundred bucks", "veinte con cincuenta", "20,000.5.5", "-5", "1e9",
		"veinte mil millones", "five fifty", "half", "$1,234.56", "mil millones", "a a a hundred", "and and", "y y cinco", "twenty and"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := assistant.ParseAmount(s)
		if err != nil {
			if v != 0 {
				t.Fatalf("ParseAmount(%q) = %d with error %v", s, v, err)
			}
			return
		}
		if v <= 0 || v > assistant.MaxChatAmount {
			t.Fatalf("ParseAmount(%q) = %d, outside (0, %d]", s, v, assistant.MaxChatAmount)
		}
		in := assistant.Parse("pay sam "+s, now)
		if in.Kind == assistant.Pay && in.AmountErr == nil && in.Amount != "" {
			back, err := ledger.ParseAmount(in.Amount, "USD")
			if err != nil || back != in.Cents {
				t.Fatalf("Parse(pay sam %q): amount %q reads back %d, %v; cents %d", s, in.Amount, back, err, in.Cents)
			}
		}
	})
}
