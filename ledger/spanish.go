package ledger

import "strings"

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

// DescriptionIn is a transaction's description in lang ("es" or anything
// else for English): the words the bank wrote translated, the rest kept.
func DescriptionIn(lang, desc string) string {
	if lang != "es" || desc == "" {
		return desc
	}
	if es, ok := descriptionsES[desc]; ok {
		return es
	}
	if name, ok := strings.CutSuffix(desc, " - AutoPay"); ok {
		return name + " - Pago automático"
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
