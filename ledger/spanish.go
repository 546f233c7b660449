package ledger

import (
	"maps"
	"slices"
	"strings"
)

// The bank writes some transaction descriptions itself ("Transfer to
// savings", "Scheduled payment to Sam: rent") and names spending
// categories ("fast_food"). A customer who chose Spanish reads them in
// Spanish on every page and statement: DescriptionIn and CategoryIn are
// the one place those words are translated, at the time they are shown.
// What a merchant, a payer or the customer wrote (a merchant's name, a
// memo, a payroll's company) is data and is kept as written.

// descriptionPrefixesES are the prefixes of the descriptions the bank's
// own code writes, longest first where one starts another.
var descriptionPrefixesES = []struct{ en, es string }{
	{"Scheduled payment to ", "Pago programado a "},
	{"Chat payment to ", "Pago por chat a "},
	{"Chat transfer to ", "Transferencia por chat a "},
	{"Payment via ", "Pago mediante "},
	{"Returned: payment to ", "Devuelto: pago a "},
	{"ACH payment to ", "Pago ACH a "},
	{"Instant payment to ", "Pago instantáneo a "},
	{"ACH credit from ", "Abono ACH de "},
	{"ATM withdrawal - ", "Retiro en cajero - "},
	{"Payroll - ", "Nómina - "},
	{"Rent - ", "Alquiler - "},
	{"Mortgage payment - ", "Pago de hipoteca - "},
	{"core entry ", "asiento del núcleo "},
	{"Transfer: ", "Transferencia: "},
	{"Transfer to ", "Transferencia a "},
}

// descriptionsES are whole descriptions the bank writes.
var descriptionsES = map[string]string{
	"Transfer to savings":             "Transferencia a ahorros",
	"Opening balance":                 "Saldo inicial",
	"Balance carried forward":         "Saldo anterior",
	"Interest paid":                   "Intereses pagados",
	"Monthly maintenance fee":         "Comisión mensual de mantenimiento",
	"Credit card payment - thank you": "Pago de tarjeta de crédito - gracias",
}

// descriptionSuffixesES are the endings the bank's own code writes after a
// name it keeps ("Netflix - AutoPay").
var descriptionSuffixesES = []struct{ en, es string }{
	{" - AutoPay", " - Pago automático"},
}

// DescriptionIn is a transaction's description in lang ("es" or anything
// else for English): the words the bank wrote translated, the rest kept.
// It tries, in order, a whole description, then an ending, then a
// beginning (Wording lists them for a store that must do the same).
func DescriptionIn(lang, desc string) string {
	if lang != "es" || desc == "" {
		return desc
	}
	if es, ok := descriptionsES[desc]; ok {
		return es
	}
	for _, p := range descriptionSuffixesES {
		if name, ok := strings.CutSuffix(desc, p.en); ok {
			return name + p.es
		}
	}
	for _, p := range descriptionPrefixesES {
		// The name and memo after the prefix ("to Sam: rent") are kept
		// as written.
		if rest, ok := strings.CutPrefix(desc, p.en); ok {
			return p.es + rest
		}
	}
	return desc
}

// Phrase is words the bank writes (From, English, ASCII) and what they
// read as in another language (To).
type Phrase struct{ From, To string }

// Wording is how DescriptionIn rewrites descriptions into one language, as
// data, so that a store can search the words a customer reads (the
// HistoryQuery's Lang) with the same rules: a description equal to a
// Whole's From becomes its To; else one ending in a Suffixes' From has it
// replaced; else one starting with a Prefixes' From has it replaced, the
// first that applies, in the order given; else it is kept.
type Wording struct {
	Whole, Suffixes, Prefixes []Phrase
}

// WordingIn is DescriptionIn's rules for lang; ok is false for English,
// where descriptions read as stored. Whole is sorted by From, so the same
// lang gives the same Wording.
func WordingIn(lang string) (w Wording, ok bool) {
	if lang != "es" {
		return Wording{}, false
	}
	for _, en := range slices.Sorted(maps.Keys(descriptionsES)) {
		w.Whole = append(w.Whole, Phrase{en, descriptionsES[en]})
	}
	for _, p := range descriptionSuffixesES {
		w.Suffixes = append(w.Suffixes, Phrase{p.en, p.es})
	}
	for _, p := range descriptionPrefixesES {
		w.Prefixes = append(w.Prefixes, Phrase{p.en, p.es})
	}
	return w, true
}

// categoriesES are the spending categories the bank assigns, in Spanish.
var categoriesES = map[string]string{
	"groceries": "Supermercado", "restaurants": "Restaurantes", "fast_food": "Comida rápida", "coffee": "Café",
	"fuel": "Combustible", "pharmacy": "Farmacia", "department_store": "Grandes almacenes", "online_retail": "Compras en línea",
	"rideshare": "Viajes compartidos", "transit": "Transporte público", "food_delivery": "Comida a domicilio",
	"travel_air": "Vuelos", "lodging": "Alojamiento", "medical": "Médico", "home_improvement": "Bricolaje y hogar",
	"electronics": "Electrónica", "clothing": "Ropa", "entertainment": "Ocio", "pets": "Mascotas", "books": "Libros",
	"personal_care": "Cuidado personal", "convenience": "Tienda de conveniencia", "utilities": "Suministros",
	"telecom": "Telefonía e internet", "insurance": "Seguros", "streaming": "Streaming", "fitness": "Gimnasio",
	"transfer": "Transferencia", "income": "Ingresos", "housing": "Vivienda", "cash": "Efectivo", "opening": "Apertura",
	"fees": "Comisiones", "interest": "Intereses", "card_payment": "Pago de tarjeta",
}

// CategoryIn is a category's name for people in lang: "fast_food" is
// "Fast food" in English, "Comida rápida" in Spanish; a category the bank
// has no Spanish for reads as in English.
func CategoryIn(lang, c string) string {
	if c == "" {
		if lang == "es" {
			return "Ninguna"
		}
		return "None"
	}
	if lang == "es" {
		if es, ok := categoriesES[c]; ok {
			return es
		}
	}
	c = strings.ReplaceAll(c, "_", " ")
	return strings.ToUpper(c[:1]) + c[1:]
}
