package statement

import (
	"fmt"
	"maps"
	"time"

	"github.com/bankbridge/bankbridge/ledger"
)

// A statement is written in its Lang: English, or Spanish for a customer
// who chose it ("es"). The words of the document are kept here, with the
// package that writes them, because both edges that serve the document (the
// web app and the partner API) must give the same bytes and neither may
// import the other; where the web app's catalogue (web/catalog_es.go) has
// the same English, it has the same Spanish (web's
// TestStatementWordsMatchTheCatalog). The descriptions and categories the
// bank wrote are translated by ledger.DescriptionIn and ledger.CategoryIn;
// what a merchant or a person wrote is kept as written. Money reads as on
// every page (ledger.Amount.Display, the bank's US grouping, which es-US
// shares) and in CSV keeps the ledger's machine form in both languages, so a
// spreadsheet sums it as numbers.

// Spanish is the language code of Spanish statements.
const Spanish = "es"

// wordsES are the statement's fixed words in Spanish.
var wordsES = map[string]string{
	"Account statement":    "Estado de cuenta",
	"Statement":            "Estado de cuenta",
	"STATEMENT FOR":        "ESTADO DE CUENTA DE",
	"ACCOUNT":              "CUENTA",
	"ACCOUNT SUMMARY":      "RESUMEN DE LA CUENTA",
	"Account":              "Cuenta",
	"account":              "cuenta",
	"Type":                 "Tipo",
	"Number":               "Número",
	"Routing number":       "Número de ruta",
	"Credit limit":         "Límite de crédito",
	"Currency":             "Moneda",
	"Statement date":       "Fecha del estado de cuenta",
	"Opening balance":      "Saldo inicial",
	"Closing balance":      "Saldo final",
	"Money in":             "Entradas",
	"Money out":            "Salidas",
	"Fees this period":     "Comisiones del periodo",
	"Interest this period": "Intereses del periodo",
	"Transactions":         "Movimientos",
	"Transaction":          "Movimiento",
	"Date":                 "Fecha",
	"Description":          "Descripción",
	"Amount":               "Importe",
	"Balance":              "Saldo",
	"Checking":             "Cuenta corriente",
	"Savings":              "Ahorros",
	"Credit card":          "Tarjeta de crédito",
	"Statement for":        "Estado de cuenta de",
	"Questions?":           "¿Preguntas?",
	"Page %d of {nb}":      "Página %d de {nb}",
	"1 transaction":        "1 movimiento",
	"%s transactions":      "%s movimientos",
	"Amounts are in %s. Money out is shown with a minus sign": "Los importes están en %s. Las salidas llevan signo menos",
	"; a balance below zero is what you owe":                  "; un saldo por debajo de cero es lo que debes",
	". Transactions are dated when they were made (UTC); a transaction still pending at the end of the month is not shown until it is posted.": ". Los movimientos llevan la fecha en que se hicieron (UTC); un movimiento aún pendiente al final del mes no aparece hasta que se contabiliza.",
	// The CSV's header row.
	"date":        "fecha",
	"description": "descripción",
	"category":    "categoría",
	"amount":      "importe",
	"balance":     "saldo",
	"currency":    "moneda",
}

// SpanishWords returns the statement's words in Spanish, by their English:
// for a test that holds them to the web app's catalogue.
func SpanishWords() map[string]string { return maps.Clone(wordsES) }

// word is the English s in lang; s itself in English or when it lacks one.
func word(lang, s string) string {
	if lang == Spanish {
		if es, ok := wordsES[s]; ok {
			return es
		}
	}
	return s
}

var (
	monthsES      = [...]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}
	shortMonthsES = [...]string{"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"}
)

// MonthName names month m for people in lang: "March 2026", "marzo de
// 2026" (CLDR's format for es; Spanish writes month names in lower case).
func MonthName(lang string, m time.Time) string {
	if lang != Spanish {
		return m.Format("January 2006")
	}
	return fmt.Sprintf("%s de %d", monthsES[m.Month()-1], m.Year())
}

// dayIn is a date for people in lang: "31 Mar 2026", "31 mar 2026", as
// the web app writes dates.
func dayIn(lang string, t time.Time) string {
	if lang != Spanish {
		return t.Format("2 Jan 2006")
	}
	return fmt.Sprintf("%d %s %d", t.Day(), shortMonthsES[t.Month()-1], t.Year())
}

// span is a period from day a to day b, both included, in lang: "1 Mar
// 2026 to 31 Mar 2026", "del 1 mar 2026 al 31 mar 2026".
func span(lang string, a, b time.Time) string {
	if lang != Spanish {
		return dayIn(lang, a) + " to " + dayIn(lang, b)
	}
	return "del " + dayIn(lang, a) + " al " + dayIn(lang, b)
}

// w is the English s in the statement's language.
func (s *Statement) w(en string) string { return word(s.Lang, en) }

// desc is a line's description as the statement shows it: the bank's own
// words in the statement's language, the rest as written.
func (s *Statement) desc(d string) string { return ledger.DescriptionIn(s.Lang, d) }

// category is a line's category for people in the statement's language.
func (s *Statement) category(c string) string {
	if c == "" {
		return ""
	}
	return ledger.CategoryIn(s.Lang, c)
}
