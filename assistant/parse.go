package assistant

import (
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
)

// IntentKind is what a message asks for.
type IntentKind string

// The intents the assistant understands. Unknown is everything else: it is
// answered with help, never with a guess.
const (
	Unknown       IntentKind = "unknown"
	Greeting      IntentKind = "greeting"
	Help          IntentKind = "help"
	Thanks        IntentKind = "thanks"
	Balance       IntentKind = "balance"
	Transactions  IntentKind = "transactions"
	Spending      IntentKind = "spending"
	Pay           IntentKind = "pay"
	Transfer      IntentKind = "transfer"       // between the customer's own accounts
	PaymentStatus IntentKind = "payment_status" // how payments to other banks are getting on
	// Collect brings money in from the customer's own account at another
	// bank (an ACH debit they authorise): "collect 200 from my chase".
	Collect       IntentKind = "collect"
	Confirm       IntentKind = "confirm"
	Cancel        IntentKind = "cancel"
	FreezeCard    IntentKind = "freeze_card"
	UnfreezeCard  IntentKind = "unfreeze_card"
	Fraud         IntentKind = "fraud" // "I didn't make this payment"
	Alerts        IntentKind = "alerts"
	Privacy       IntentKind = "privacy"
	SetLanguage   IntentKind = "language"
	Human         IntentKind = "human"
	LinkAccount   IntentKind = "link"
	UnlinkAccount IntentKind = "unlink"
)

// Language is the language of the assistant's replies, chosen by the
// customer and kept in their Settings.
type Language string

// The languages. The zero value means the customer never chose: replies
// are in English, or in Spanish when the message reads as Spanish (and the
// assistant offers to keep Spanish).
const (
	English Language = "en"
	Spanish Language = "es"
)

// Valid reports whether l is a known language or unset.
func (l Language) Valid() bool { return l == "" || l == English || l == Spanish }

// AccountHint narrows a question to one kind of account; "" means all.
type AccountHint string

// The account hints a message can carry.
const (
	AnyAccount   AccountHint = ""
	CheckingHint AccountHint = "checking"
	SavingsHint  AccountHint = "savings"
	CardHint     AccountHint = "card"
)

// AccountRef is how a message names one of the customer's own accounts:
// by kind ("savings"), by the last four digits of its number ("ending
// 5555"), or by its name ("vacation fund"), as typed.
type AccountRef struct {
	Hint  AccountHint
	Last4 string
	Name  string
}

// IsZero reports whether the message named no account.
func (r AccountRef) IsZero() bool { return r == AccountRef{} }

// Period is a span of days a spending question covers, [From, To).
type Period struct {
	Name     string // "this week", "last month": how the reply names it
	From, To time.Time
}

// Intent is a parsed message. Only the fields of its Kind are set.
type Intent struct {
	Kind    IntentKind
	Account AccountHint // Balance, Transactions, Spending
	// Spending: Category is the category as people name it, in the
	// ledger's words ("groceries", "food", "eating out"), or "" for all
	// card spending; Categories are the merchant categories (MCC groups the
	// ledger records) it covers; Search is a word to look for in
	// descriptions when the thing asked about is not a category
	// ("starbucks", "rent").
	Category   string
	Categories []string
	Search     string
	Period     Period
	// Pay, Transfer: the payee as typed, the amount as a plain decimal
	// ("20.50") and in cents (Cents), and a memo. AmountErr is set when an
	// amount was there but unusable ("-5", "1e9", "20,000.5.5", "five
	// fifty"): the assistant says why and moves nothing.
	Payee     string
	Amount    string
	Cents     ledger.Amount
	AmountErr error
	Memo      string
	// Transfer: the accounts named; From may be empty (the assistant asks
	// or picks the only one that fits).
	From, To AccountRef
	// FreezeCard, UnfreezeCard: the last four digits named, if any, and
	// why ("lost", "stolen", or "").
	Last4  string
	Reason string
	// Alerts, Privacy: the setting asked for; "" only asks what it is.
	// SetLanguage: "en" or "es".
	Setting string
	// Confirm, Cancel: the pending action a quick reply names; "" for text.
	// Fraud: the transfer a quick reply names; "" for text.
	Ref string
	// Lang is the language the message reads as: Spanish, English, or ""
	// when it cannot tell (a bare "ok", an amount).
	Lang Language
}

// MaxText is the longest message the assistant reads; longer ones are
// refused unread (a platform allows 2,000 characters).
const MaxText = 2000

// Amount errors.
var (
	ErrAmountForm     = bankbridge.E(bankbridge.Invalid, "chat_amount_invalid", "I could not read that amount. Write it like 20 or 20.50.")
	ErrAmountMany     = bankbridge.E(bankbridge.Invalid, "chat_amount_ambiguous", "I found more than one amount. Write one amount, like \"pay Sam 20\".")
	ErrAmountNegative = bankbridge.E(bankbridge.Invalid, "chat_amount_not_positive", "The amount must be more than zero.")
)

// payload prefixes of quick replies and postbacks the assistant sends.
const (
	payloadConfirm = "CONFIRM:"
	payloadCancel  = "CANCEL:"
	payloadIntent  = "INTENT:" // a quick reply that stands for a phrase ("INTENT:balance")
	payloadReport  = "REPORT:" // a card payment chosen as "not me" ("REPORT:123")
	payloadLang    = "LANG:"   // a language chosen ("LANG:es")
)

// ParsePayload reads a quick reply or postback payload the assistant made.
// An unknown payload is Unknown.
func ParsePayload(p string, now time.Time) Intent {
	switch {
	case strings.HasPrefix(p, payloadConfirm):
		return Intent{Kind: Confirm, Ref: strings.TrimPrefix(p, payloadConfirm)}
	case strings.HasPrefix(p, payloadCancel):
		return Intent{Kind: Cancel, Ref: strings.TrimPrefix(p, payloadCancel)}
	case strings.HasPrefix(p, payloadReport):
		ref := strings.TrimPrefix(p, payloadReport)
		if n, err := strconv.ParseInt(ref, 10, 64); err != nil || n <= 0 {
			return Intent{Kind: Unknown}
		}
		return Intent{Kind: Fraud, Ref: ref}
	case strings.HasPrefix(p, payloadLang):
		switch l := Language(strings.TrimPrefix(p, payloadLang)); l {
		case English, Spanish:
			return Intent{Kind: SetLanguage, Setting: string(l), Lang: l}
		}
		return Intent{Kind: Unknown}
	case strings.HasPrefix(p, payloadIntent):
		in := Parse(strings.ReplaceAll(strings.TrimPrefix(p, payloadIntent), "_", " "), now)
		if in.Kind == Pay || in.Kind == Transfer || in.Kind == Collect {
			return Intent{Kind: Unknown} // a button never moves money by itself
		}
		in.Lang = "" // a button's words say nothing of the person's language
		return in
	case p == "GET_STARTED":
		return Intent{Kind: Greeting}
	}
	return Intent{Kind: Unknown}
}

// Parse reads free text into an Intent. It is deterministic and never
// guesses a payee or an amount: anything it cannot read exactly is Unknown,
// or Pay with an AmountErr. now anchors relative periods ("last month").
// It reads English and Spanish, and a mix of both.
func Parse(text string, now time.Time) Intent {
	if len(text) > 4*MaxText || utf8.RuneCountInString(text) > MaxText {
		return Intent{Kind: Unknown}
	}
	words := tokens(text)
	in := parseWords(words, now)
	in.Lang = detectLang(words)
	return in
}

// payVerbs start a payment; moveVerbs may also move money between the
// customer's own accounts.
var (
	payVerbs = []string{"pay", "send", "give", "wire", "venmo", "zelle",
		"paga", "pagar", "pagale", "pagarle", "pague", "manda", "mandar", "mandale", "mandarle", "mande", "envia", "enviar", "enviale", "enviarle", "envie",
		"deposita", "depositale", "depositar"}
	// collectVerbs start a collection (exact words only).
	collectVerbs = []string{"collect", "pull", "cobra", "cobrar", "cobrale", "trae", "traer", "traeme", "jala", "jalar"}
	moveVerbs    = []string{"transfer", "move", "transfiere", "transferir", "transfierele", "transfiera", "pasa", "pasar", "pasale", "mueve", "mover", "xfer", "put", "shift"}
	// lead are words that may come before the verb: "can you pay", "quiero
	// pagarle".
	lead = []string{"can", "could", "would", "you", "u", "please", "pls", "plz", "i", "want", "wanna", "to", "need", "like", "id", "i'd", "lets", "let's",
		"hey", "hi", "hello", "ok", "okay", "just", "quickly", "go", "and", "now", "also", "yo", "yes", "yeah", "sure", "si", "dale", "va", "bueno", "pues",
		"quiero", "puedes", "podrias", "puede", "por", "favor", "necesito", "me", "gustaria", "hola", "oye", "quisiera", "ayudame", "a", "porfa", "porfavor", "ahora", "tambien"}
)

func parseWords(words []string, now time.Time) Intent {
	if len(words) == 0 {
		return Intent{Kind: Unknown}
	}
	w0 := words[0]
	has := func(keys ...string) bool { return hasWord(words, keys...) }
	phrase := " " + strings.Join(words, " ") + " "
	contains := func(ps ...string) bool {
		for _, p := range ps {
			if strings.Contains(phrase, " "+p+" ") {
				return true
			}
		}
		return false
	}

	// "send it", "pay it": a confirmation, not a payment to someone called It.
	core := words
	for len(core) > 1 && contains2(lead, core[0]) {
		core = core[1:]
	}
	if len(core) == 2 && (is(core[0], payVerbs...) || core[0] == "send") && (core[1] == "it" || core[1] == "now" || core[1] == "lo" || core[1] == "ya") {
		return Intent{Kind: Confirm}
	}
	if len(core) == 1 && contains2([]string{"mandalo", "envialo", "pagalo", "hazlo", "transfierelo"}, core[0]) {
		return Intent{Kind: Confirm}
	}
	// Fraud and lost cards before money: "I didn't pay this", "someone
	// sent money from my card".
	if in, ok := parseCardTrouble(words, contains, has); ok {
		return in
	}
	// "dale a mi papá 40" gives money; "dale" alone says yes. "hazle un
	// pago a Mike de 25" is a payment too.
	if len(words) > 2 && (w0 == "dale" || w0 == "dales") && (words[1] == "a" || words[1] == "al") {
		return parsePay(words[1:], false)
	}
	if i := indexPhrase(words, "un", "pago"); i >= 0 && i <= 3 && isAny(words[:i], append(lead, "hazle", "haz", "hacer", "hace", "make", "a")...) {
		return parsePay(words[i+2:], false)
	}
	// Money in: a verb of collecting near the start ("collect 200 from
	// chase", "cobra 200 de mi cuenta de chase"), matched exactly: one
	// swap away from "pull" is "pay".
	for i, w := range words {
		if i > 3 {
			break
		}
		if contains2(collectVerbs, w) && len(words) > i+1 {
			if i > 0 && !isAny(words[:i], lead...) {
				break
			}
			return parseCollect(words[i+1:])
		}
		if !contains2(lead, w) {
			break
		}
	}
	// Money first: a verb of paying near the start.
	for i, w := range words {
		if i > 4 {
			break
		}
		// "mete" only exactly: one swap away is "meet".
		if (is(w, payVerbs...) || is(w, moveVerbs...) || w == "mete" || w == "meter") && !contains2(spendWords, w) && w != "pasame" && !(i+1 < len(words) && is(words[i+1], "attention")) {
			if i > 0 && !isAny(words[:i], lead...) {
				break
			}
			return parsePay(words[i+1:], is(w, moveVerbs...) || w == "mete" || w == "meter")
		}
		if !contains2(lead, w) {
			break
		}
	}
	if len(words) <= 5 && (contains("cancel that", "cancel it", "cancela eso", "cancelalo", "no dont", "no don't", "no no", "no lo hagas", "dont do it", "don't do it",
		"dont send", "don't send", "do not send", "dont pay", "don't pay", "no lo mandes", "no lo envies", "no mandes", "no envies", "no pagues") ||
		(has("cancel", "cancela", "cancelar") && has("wait", "hold", "espera", "nope", "no", "nah", "stop"))) {
		return Intent{Kind: Cancel}
	}
	if len(words) <= 5 && contains("send it", "go for it", "do it", "mandalo", "envialo", "hazlo", "pay it", "pagalo", "confirm it", "confirmalo", "yes confirm", "si confirmo") &&
		!has("no", "not", "dont", "don't", "cancel", "cancela") {
		return Intent{Kind: Confirm}
	}
	if len(words) <= 3 {
		switch {
		case isAny(words, "yes", "y", "yeah", "yep", "yup", "ya", "confirm", "confirmed", "ok", "okay", "k", "sure", "correct", "si", "sip", "claro", "confirmo", "confirmar", "dale", "va", "vale", "correcto", "please", "porfa", "afirmativo", "simon", "yes!") && !has("no", "not", "dont", "don't"):
			return Intent{Kind: Confirm}
		case contains("do it", "go ahead", "send it", "pay it", "yes please", "si por favor", "hazlo", "adelante", "de acuerdo", "esta bien", "si claro", "claro que si"):
			return Intent{Kind: Confirm}
		case isAny(words, "no", "n", "nope", "nah", "cancel", "stop", "abort", "nevermind", "never", "mind", "cancela", "cancelar", "cancelalo", "olvidalo", "nel", "alto", "para") ||
			contains("never mind", "no thanks", "dont pay", "don't pay", "no gracias", "mejor no", "no pagues", "no lo hagas"):
			return Intent{Kind: Cancel}
		}
	}
	switch {
	case contains("payment status", "status of my payment", "status of my payments", "where is my payment", "wheres my payment", "where's my payment",
		"did my payment arrive", "did my payment go through", "has my payment arrived", "estado de mi pago", "estado de mis pagos", "donde esta mi pago",
		"llego mi pago", "ya llego mi pago"):
		return Intent{Kind: PaymentStatus}
	case contains("in spanish", "en espanol", "habla espanol", "hablas espanol", "speak spanish", "espanol por favor", "spanish please", "en castellano") ||
		(len(words) <= 4 && has("espanol", "spanish", "castellano")):
		return Intent{Kind: SetLanguage, Setting: string(Spanish)}
	case contains("in english", "en ingles", "speak english", "english please", "habla ingles", "hablas ingles") || (len(words) <= 4 && has("english", "ingles")):
		return Intent{Kind: SetLanguage, Setting: string(English)}
	case has("unfreeze", "unlock", "unblock", "thaw", "desbloquear", "desbloquea", "descongelar", "descongela", "desbloqueala", "descongelala") ||
		(has("reactivate", "reactivar", "reactiva", "activala", "activalo", "unpause", "reanuda") && cardWord(has)) ||
		(contains("turn on", "turn it back on", "back on", "activa mi tarjeta", "activar mi tarjeta", "prende mi tarjeta", "activala", "actívala") && has("card", "tarjeta")):
		return Intent{Kind: UnfreezeCard, Last4: last4(words)}
	case has("freeze", "lock", "block", "congelar", "congela", "congelala", "bloquear", "bloquea", "bloquealo", "bloqueala", "bloqueo", "bloqueame", "congelame") && (cardWord(has) || len(words) <= 2) ||
		has("pause", "pausa", "pausar", "suspend", "suspende", "suspender") && cardWord(has) ||
		has("cancel", "cancela", "apaga") && cardWord(has) ||
		(contains("turn off", "apaga mi tarjeta", "apagar mi tarjeta") && has("card", "tarjeta")):
		in := Intent{Kind: FreezeCard, Last4: last4(words)}
		if has("all", "every", "both", "todas", "todos", "ambas", "ambos") {
			in.Setting = "all"
		}
		return in
	case has("unlink", "disconnect", "logout", "desvincular", "desvincula", "desconectar", "desconecta") || contains("log out", "sign out", "remove my account", "stop linking", "delete link", "cerrar sesion", "cierra sesion"):
		return Intent{Kind: UnlinkAccount}
	case has("privacy", "private", "privacidad", "privado"):
		return Intent{Kind: Privacy, Setting: setting(words, "full", "minimal", "off")}
	case contains("show amounts", "show numbers", "show me amounts", "show balances in chat", "muestra los montos", "mostrar montos"):
		return Intent{Kind: Privacy, Setting: "full"}
	case contains("hide amounts", "hide numbers", "hide balances", "oculta los montos", "ocultar montos"):
		return Intent{Kind: Privacy, Setting: "minimal"}
	case has("alert", "alerts", "notifications", "notification", "notify", "alerta", "alertas", "notificaciones", "notificacion", "avisos", "avisame"):
		return Intent{Kind: Alerts, Setting: setting(words, "on", "off")}
	case has("human", "agent", "person", "representative", "rep", "operator", "someone", "somebody", "advisor",
		"humano", "persona", "agente", "asesor", "representante", "alguien", "ejecutivo", "operador", "asesora", "ejecutiva") ||
		contains("customer service", "customer support", "real person", "talk to", "speak to", "speak with", "call me", "hablar con", "servicio al cliente", "llamame", "atencion al cliente"):
		return Intent{Kind: Human}
	case has("link", "connect", "login", "signin", "vincular", "vincula", "conectar", "conecta", "enlazar") || contains("log in", "sign in", "sign up", "iniciar sesion", "inicia sesion", "log me in"):
		return Intent{Kind: LinkAccount}
	}
	if in, ok := parseSpending(words, now); ok {
		return in
	}
	if contains("make a payment", "send money", "hacer un pago", "quiero pagar", "mandar dinero", "enviar dinero") {
		return Intent{Kind: Pay}
	}
	switch {
	case has("balance", "balances", "bal", "funds", "saldo") || contains2(words, "saldos") ||
		contains("how much do i have", "how much money", "how much is in", "how much have i got", "whats in my", "what's in my", "money left", "how much is left",
			"available credit", "what do i owe", "how much do i owe", "how much i got", "cuanto tengo", "cuanto dinero", "cuanto hay", "cuanto me queda", "cuanto debo", "cuanto le debo", "credito disponible", "dinero disponible", "how much i have",
			"do i have money", "do i have any money", "tengo dinero", "my savings at", "my checking at", "what do i have in", "how much cash", "cuanto dinero tengo", "cuanto tengo disponible"):
		return Intent{Kind: Balance, Account: accountHint(words)}
	case has("transactions", "transaction", "txns", "txn", "history", "activity", "statement", "purchases", "payments", "charges", "spending",
		"movimientos", "movimiento", "transacciones", "historial", "compras", "cargos", "actividad", "estado") ||
		contains("recent", "last payments", "what did i buy", "what did i pay", "where did my money go", "que compre", "ultimas compras", "en que gaste", "a donde se fue mi dinero", "ultimos pagos"):
		return Intent{Kind: Transactions, Account: accountHint(words)}
	case has("thanks", "thank", "thx", "ty", "cheers", "great", "awesome", "cool", "gracias", "grax", "mil gracias", "perfecto", "excelente", "genial", "chido"):
		return Intent{Kind: Thanks}
	case has("help", "menu", "options", "commands", "start", "ayuda", "ayudame", "opciones", "comandos") ||
		contains("what can you do", "how does this work", "what do you do", "que puedes hacer", "que haces", "como funciona", "what can this bot do", "what can it do", "que sabes hacer", "que sabes", "what do you know") || phrase == " ? ":
		return Intent{Kind: Help}
	case has("hi", "hello", "hey", "hiya", "howdy", "yo", "greetings", "hallo", "hola", "buenas", "saludos", "que onda", "buenos", "holaa", "holi", "holis", "hellooo", "heyy") ||
		contains("good morning", "good afternoon", "good evening", "get started", "buenos dias", "buenas tardes", "buenas noches", "que tal"):
		return Intent{Kind: Greeting}
	}
	return Intent{Kind: Unknown}
}

func contains2(l []string, w string) bool { return contains(l, w) }

// indexPhrase returns where the words of p start in words, or -1.
func indexPhrase(words []string, p ...string) int {
	for i := 0; i+len(p) <= len(words); i++ {
		if slicesEqual(words[i:i+len(p)], p) {
			return i
		}
	}
	return -1
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// cardWord reports whether a message names a card.
func cardWord(has func(...string) bool) bool {
	return has("card", "cards", "tarjeta", "tarjetas", "debit", "credit", "debito", "credito", "visa", "mastercard", "amex", "plastico")
}

// parseCardTrouble reads reports of payments the customer did not make and
// of cards lost or stolen.
func parseCardTrouble(words []string, contains func(...string) bool, has func(...string) bool) (Intent, bool) {
	reason := ""
	switch {
	case has("stolen", "stole", "robbed", "robaron", "robada", "robado", "robo", "hurto", "asaltaron", "asaltado", "asaltada", "mugged") || contains("se llevaron mi tarjeta", "took my card", "took my wallet"):
		// A purse or wallet stolen holds the cards.
		if has("purse", "wallet", "bag", "bolsa", "cartera", "billetera", "mochila", "backpack") {
			return Intent{Kind: FreezeCard, Reason: "stolen"}, true
		}
		reason = "stolen"
	case has("lost", "lose", "misplaced", "perdi", "perdida", "perdido", "extravie", "extraviada", "extraviado", "extravio", "pierdo") ||
		contains("cant find my card", "can't find my card", "cannot find my card", "no encuentro mi tarjeta", "no encuentro la tarjeta", "cant find it", "can't find it", "no la encuentro", "no lo encuentro", "left my card", "deje mi tarjeta", "olvide mi tarjeta"):
		reason = "lost"
	}
	card := has("card", "cards", "tarjeta", "tarjetas", "wallet", "cartera", "billetera", "debit", "credit", "debito", "credito", "visa", "mastercard", "plastico")
	if reason != "" && card {
		in := Intent{Kind: FreezeCard, Last4: last4(words), Reason: reason}
		if has("all", "every", "both", "todas", "todos", "ambas", "ambos") {
			in.Setting = "all"
		}
		return in, true
	}
	if contains("didnt make", "didn't make", "did not make", "not me", "wasnt me", "wasn't me", "was not me", "dont recognize", "don't recognize", "do not recognize",
		"dont recognise", "don't recognise", "didnt authorize", "didn't authorize", "did not authorize", "didnt buy", "didn't buy", "did not buy", "never made",
		"someone used my card", "somebody used my card", "didnt do this", "didn't do this", "not mine", "isnt mine", "isn't mine", "didnt spend", "didn't spend",
		"no fui yo", "no reconozco", "yo no hice", "no hice", "no autorice", "no es mio", "no lo hice", "alguien uso mi tarjeta", "no realice", "yo no compre", "no compre", "no la hice",
		"didnt pay", "didn't pay", "did not pay", "someone spent", "somebody spent", "alguien gasto", "alguien compro", "weird charge",
		"charge i don't know", "charge i dont know", "dont know this charge", "don't know this charge", "no conozco", "someone is using my card", "somebody is using my card",
		"alguien esta usando mi tarjeta", "alguien usa mi tarjeta", "didnt make", "i didn't authorize", "no autorice", "strange charge", "suspicious", "unknown charge", "cargo raro", "cargo extrano", "sospechoso", "sospechosa") ||
		has("fraud", "fraudulent", "unauthorized", "unauthorised", "fraude", "fraudulento", "fraudulenta", "scam", "scammed", "estafa", "estafaron", "hacked", "hackearon") {
		return Intent{Kind: Fraud}, true
	}
	return Intent{}, false
}

// spanishWords and englishWords mark a message's language: words common
// in one and absent from the other.
var (
	spanishWords = map[string]bool{"hola": true, "saldo": true, "cuanto": true, "cuanta": true, "gaste": true, "gastado": true, "pagar": true, "paga": true, "pagale": true,
		"manda": true, "mandale": true, "envia": true, "enviale": true, "gracias": true, "tarjeta": true, "tarjetas": true, "quiero": true, "mi": true, "mis": true,
		"el": true, "la": true, "los": true, "las": true, "de": true, "del": true, "por": true, "favor": true, "que": true, "cuenta": true, "ahorros": true,
		"mes": true, "semana": true, "pasado": true, "pasada": true, "este": true, "esta": true, "en": true, "con": true, "dinero": true, "ayuda": true,
		"persona": true, "congela": true, "congelar": true, "bloquea": true, "perdi": true, "robaron": true, "movimientos": true, "comida": true, "gasolina": true,
		"renta": true, "hoy": true, "ayer": true, "desde": true, "lunes": true, "cheques": true, "corriente": true, "transfiere": true, "pasa": true,
		"dolares": true, "pesos": true, "veinte": true, "cien": true, "si": true, "claro": true, "dale": true, "cancela": true, "alertas": true, "privacidad": true,
		"espanol": true, "no": false, "fui": true, "yo": true, "hice": true, "reconozco": true, "compra": true, "cargo": true, "buenos": true, "buenas": true, "dias": true,
		"gasto": true, "gastos": true, "cuanto tengo": true, "tengo": true, "debo": true, "necesito": true, "hablar": true, "puedes": true, "ahora": true, "ya": true,
		"mama": true, "papa": true, "para": true, "al": true, "una": true, "un": true, "es": true, "y": true, "se": true, "fue": true, "me": true, "le": true, "lo": true}
	englishWords = map[string]bool{"the": true, "my": true, "balance": true, "pay": true, "send": true, "how": true, "much": true, "did": true, "spend": true, "spent": true,
		"on": true, "this": true, "last": true, "week": true, "month": true, "card": true, "what": true, "is": true, "please": true, "thanks": true, "to": true, "from": true,
		"i": true, "me": true, "you": true, "hi": true, "hello": true, "yes": true, "freeze": true, "lost": true, "stolen": true, "savings": true, "checking": true,
		"money": true, "dollars": true, "bucks": true, "twenty": true, "hundred": true, "food": true, "gas": true, "rent": true, "since": true, "today": true,
		"yesterday": true, "help": true, "person": false, "make": true, "didnt": true, "didn't": true, "was": true, "it": true, "and": true, "for": true, "of": true,
		"transfer": true, "account": true, "do": true, "have": true, "can": true, "want": true, "english": true, "activity": true, "recent": true, "at": true}
)

// detectLang says which language words read as: the one with more of its
// marker words, and at least one.
func detectLang(words []string) Language {
	es, en := 0, 0
	for _, w := range words {
		if spanishWords[w] {
			es++
		}
		if englishWords[w] {
			en++
		}
	}
	switch {
	case es > en:
		return Spanish
	case en > es:
		return English
	}
	return ""
}

// fold lower-cases s and removes accents ("Sí" -> "si", "dólares" ->
// "dolares", "español" -> "espanol"), so that Spanish written with or
// without them reads the same.
func fold(s string) string {
	s = strings.ToLower(s)
	if isASCII(s) {
		return s
	}
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// tokens lower-cases text, folds curly quotes, and splits it into words,
// keeping amounts ("$20.50", "1,000", "-5", "1e9") whole and dropping other
// punctuation at word edges.
func tokens(text string) []string {
	text = strings.NewReplacer("\u2019", "'", "\u2018", "'", "\u201c", "\"", "\u201d", "\"", "\u00a0", " ", "\u2212", "-").Replace(text)
	text = fold(text)
	fields := strings.FieldsFunc(text, func(r rune) bool { return unicode.IsSpace(r) })
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		keep := func(r rune) bool {
			return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '$' || r == '-' || r == '€' || r == '£'
		}
		f = strings.TrimRightFunc(f, func(r rune) bool { return !keep(r) })
		// A leading dot stays when a digit follows: ".5" is a (bad) amount.
		f = strings.TrimLeftFunc(f, func(r rune) bool { return !keep(r) && r != '.' })
		if t := strings.TrimLeft(f, "."); t == "" || t[0] < '0' || t[0] > '9' {
			f = strings.TrimLeftFunc(t, func(r rune) bool { return !keep(r) })
		}
		// A trailing hyphen is punctuation; a leading one may be a sign.
		f = strings.TrimRight(f, "-")
		if f != "" {
			out = append(out, f)
		}
	}
	if len(out) == 0 && strings.TrimSpace(text) == "?" {
		return []string{"?"}
	}
	return out
}

// is reports whether w is one of keys, allowing a typo in longer words:
// one edit (insert, delete, substitute, or swap two neighbours) for words
// of 5 letters or more, two for 9 or more, and only a swap of two letters
// (not the first) in four-letter words. Shorter words must match exactly,
// so "pya" is not "pay" and "no" is not "so".
func is(w string, keys ...string) bool {
	for _, k := range keys {
		if w == k {
			return true
		}
	}
	for _, k := range keys {
		if len(k) == 4 && len(w) == 4 && w[0] == k[0] && anagram(w, k) && editDistance(w, k, 1) <= 1 {
			return true // a swap of two letters in a four-letter word: "sned", "hlep"
		}
		if len(k) < 5 || len(w) < 4 {
			continue
		}
		max := 1
		if len(k) >= 9 {
			max = 2
		}
		if editDistance(w, k, max) <= max {
			return true
		}
	}
	return false
}

// anagram reports whether a and b have the same letters.
func anagram(a, b string) bool {
	var n [256]int
	for i := 0; i < len(a); i++ {
		n[a[i]]++
	}
	for i := 0; i < len(b); i++ {
		n[b[i]]--
	}
	for _, v := range n {
		if v != 0 {
			return false
		}
	}
	return true
}

func hasWord(words []string, keys ...string) bool {
	for _, w := range words {
		if is(w, keys...) {
			return true
		}
	}
	return false
}

// isAny reports whether every word is one of keys (so "yes please" is not
// "yes" if "please" is not listed, but "ok ok" is).
func isAny(words []string, keys ...string) bool {
	for _, w := range words {
		found := false
		for _, k := range keys {
			if w == k {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return len(words) > 0
}

// editDistance is the optimal string alignment distance of a and b
// (Damerau-Levenshtein without repeated edits of a substring), giving up
// above max. Both are short words.
func editDistance(a, b string, max int) int {
	if d := len(a) - len(b); (d > 4*max || -d > 4*max) && isASCII(a) && isASCII(b) {
		return max + 1 // bytes are runes here: too far apart in length
	}
	if len(a) < 32 && len(b) < 32 && isASCII(a) && isASCII(b) {
		return editDistanceASCII(a, b, max)
	}
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > max || -d > max {
		return max + 1
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			best = min(best, cur[j])
		}
		if best > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// editDistanceASCII is editDistance for short ASCII words, on the stack:
// the parser asks it thousands of times per message.
func editDistanceASCII(a, b string, max int) int {
	if d := len(a) - len(b); d > max || -d > max {
		return max + 1
	}
	var rows [3][32]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			best = min(best, cur[j])
		}
		if best > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// setting returns the first of options named in words, "" if none.
func setting(words []string, options ...string) string {
	for _, w := range words {
		for _, o := range options {
			if w == o {
				return o
			}
		}
	}
	// Synonyms people use.
	for _, w := range words {
		switch w {
		case "enable", "enabled", "start", "activar", "activa", "activalas", "enciende", "encender", "prende", "prender", "si", "prendidas", "activadas":
			if contains(options, "on") {
				return "on"
			}
		case "disable", "disabled", "mute", "desactivar", "desactiva", "desactivalas", "apaga", "apagar", "quita", "quitar", "silencia", "stop", "apagadas", "desactivadas", "apagame", "quitame", "silence":
			if contains(options, "off") {
				return "off"
			}
		case "min", "minimum", "low", "brief", "minima", "minimo", "baja":
			if contains(options, "minimal") {
				return "minimal"
			}
		case "max", "maximum", "all", "everything", "completa", "completo", "toda", "todo", "maxima":
			if contains(options, "full") {
				return "full"
			}
		case "none", "nothing", "nada", "apagada", "ninguna":
			if contains(options, "off") {
				return "off"
			}
		}
	}
	return ""
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// accountHint finds a kind of account named in words.
func accountHint(words []string) AccountHint {
	switch {
	case hasWord(words, "checking", "chequing", "current", "everyday", "main", "cheques", "corriente", "checkings"):
		return CheckingHint
	case hasWord(words, "savings", "saving", "save", "ahorros", "ahorro"):
		return SavingsHint
	case hasWord(words, "card", "credit", "visa", "mastercard", "creditcard", "owe", "tarjeta", "credito", "debo"):
		return CardHint
	}
	return AnyAccount
}

// last4 finds four digits naming a card ("card 1234", "ending 1234").
func last4(words []string) string {
	for _, w := range words {
		w = strings.TrimPrefix(w, "••")
		if len(w) == 4 && strings.Trim(w, "0123456789") == "" {
			return w
		}
	}
	return ""
}

// categoryGroups maps what people call their spending, in English and
// Spanish, to the merchant categories the ledger records (the demo bank's
// names for ISO 18245 MCC groups: 5411 groceries, 5812 restaurants, 5814
// fast food, coffee and delivery, 5541/5542 fuel, ...). A group's name is
// the ledger's category when it covers one, else the people's word
// ("food", "eating out").
var categoryGroups = []struct {
	name  string
	cats  []string
	words []string
}{
	{"food", []string{"groceries", "restaurants", "fast_food", "coffee", "food_delivery"}, []string{"food", "comida", "alimentos", "food and drinks", "comer"}},
	{"eating out", []string{"restaurants", "fast_food", "food_delivery"}, []string{"eating out", "dining out", "eat out", "comer fuera", "comiendo fuera", "salir a comer", "comidas fuera"}},
	{"groceries", []string{"groceries"}, []string{"groceries", "grocery", "supermarket", "food shopping", "super", "supermercado", "despensa", "mandado", "mandados", "abarrotes", "mercado", "grocery store"}},
	{"coffee", []string{"coffee"}, []string{"coffee", "coffees", "cafe", "cafes", "espresso", "latte", "lattes", "starbucks coffee"}},
	{"restaurants", []string{"restaurants"}, []string{"restaurants", "restaurant", "dining", "dinner", "dinners", "restaurantes", "restaurante", "cenas", "lunch", "lunches", "almuerzos", "brunch"}},
	{"fast_food", []string{"fast_food"}, []string{"fast food", "burgers", "comida rapida", "hamburguesas", "tacos", "pizza"}},
	{"food_delivery", []string{"food_delivery"}, []string{"takeout", "take out", "delivery", "food delivery", "comida a domicilio", "a domicilio", "doordash", "ubereats", "uber eats"}},
	{"fuel", []string{"fuel"}, []string{"gas", "fuel", "petrol", "gasolina", "gas station", "gasolinera", "combustible", "diesel"}},
	{"pharmacy", []string{"pharmacy"}, []string{"pharmacy", "drugstore", "medicine", "meds", "farmacia", "medicinas", "medicamentos"}},
	{"shopping", []string{"department_store", "online_retail", "clothing", "electronics"}, []string{"shopping", "compras", "tiendas", "shops"}},
	{"department_store", []string{"department_store"}, []string{"department store", "department stores", "tienda departamental"}},
	{"online_retail", []string{"online_retail"}, []string{"online", "online shopping", "amazon", "compras en linea", "en linea", "internet"}},
	{"rideshare", []string{"rideshare"}, []string{"uber", "lyft", "taxi", "taxis", "rides", "rideshare", "cabs", "cab", "viajes en uber"}},
	{"transit", []string{"transit"}, []string{"transit", "bus", "subway", "train", "metro", "camion", "tren", "transporte", "transporte publico", "autobus"}},
	{"transport", []string{"rideshare", "transit", "fuel"}, []string{"transport", "transportation", "getting around", "commute", "commuting"}},
	{"travel_air", []string{"travel_air"}, []string{"flights", "flight", "airline", "airlines", "plane tickets", "vuelos", "vuelo", "avion", "boletos de avion"}},
	{"travel", []string{"travel_air", "lodging"}, []string{"travel", "trips", "vacation", "viajes", "viaje", "vacaciones"}},
	{"lodging", []string{"lodging"}, []string{"hotel", "hotels", "lodging", "hoteles", "hospedaje", "airbnb"}},
	{"health", []string{"medical", "pharmacy"}, []string{"health", "healthcare", "salud"}},
	{"medical", []string{"medical"}, []string{"doctor", "doctors", "medical", "dentist", "doctores", "medico", "dentista", "hospital"}},
	{"home_improvement", []string{"home_improvement"}, []string{"hardware", "home improvement", "home depot", "ferreteria", "home"}},
	{"electronics", []string{"electronics"}, []string{"electronics", "gadgets", "electronicos", "electronica"}},
	{"clothing", []string{"clothing"}, []string{"clothes", "clothing", "ropa", "shoes", "zapatos"}},
	{"entertainment", []string{"entertainment"}, []string{"entertainment", "movies", "cinema", "concerts", "fun", "entretenimiento", "cine", "conciertos", "diversion", "streaming"}},
	{"pets", []string{"pets"}, []string{"pets", "pet", "vet", "mascotas", "mascota", "veterinario", "dog", "perro"}},
	{"books", []string{"books"}, []string{"books", "libros", "libreria"}},
	{"personal_care", []string{"personal_care"}, []string{"haircut", "haircuts", "salon", "personal care", "barber", "corte de pelo", "peluqueria", "estetica", "belleza"}},
	{"convenience", []string{"convenience"}, []string{"convenience", "snacks", "convenience store", "tiendita", "oxxo"}},
	{"rent", []string{"rent"}, []string{"rent", "renta", "alquiler", "arriendo", "landlord"}},
	{"utilities", []string{"utilities"}, []string{"utilities", "bills", "electricity", "water bill", "luz", "agua", "servicios", "recibos"}},
}

// lookupCategory finds the group people mean by text.
func lookupCategory(text string) (name string, cats []string, ok bool) {
	for _, g := range categoryGroups {
		if contains(g.words, text) {
			return g.name, g.cats, true
		}
	}
	return "", nil, false
}

// CategoryName is how a reply names a category.
func CategoryName(c string) string {
	if c == "" {
		return "card spending"
	}
	return strings.ReplaceAll(c, "_", " ")
}

// periodPhrases are the fixed periods people name, in English and Spanish.
var periodPhrases = []struct {
	words []string
	name  string
}{
	{[]string{"this", "week"}, "this week"}, {[]string{"last", "week"}, "last week"}, {[]string{"past", "week"}, "past week"},
	{[]string{"this", "month"}, "this month"}, {[]string{"last", "month"}, "last month"}, {[]string{"past", "month"}, "past month"},
	{[]string{"this", "year"}, "this year"}, {[]string{"last", "year"}, "last year"}, {[]string{"so", "far", "this", "month"}, "this month"},
	{[]string{"last", "30", "days"}, "past month"}, {[]string{"past", "30", "days"}, "past month"}, {[]string{"last", "7", "days"}, "past week"},
	{[]string{"past", "7", "days"}, "past week"}, {[]string{"today"}, "today"}, {[]string{"yesterday"}, "yesterday"},
	{[]string{"esta", "semana"}, "this week"}, {[]string{"la", "semana", "pasada"}, "last week"}, {[]string{"semana", "pasada"}, "last week"},
	{[]string{"este", "mes"}, "this month"}, {[]string{"el", "mes", "pasado"}, "last month"}, {[]string{"mes", "pasado"}, "last month"},
	{[]string{"este", "ano"}, "this year"}, {[]string{"el", "ano", "pasado"}, "last year"}, {[]string{"ano", "pasado"}, "last year"},
	{[]string{"en", "lo", "que", "va", "del", "mes"}, "this month"}, {[]string{"ultimos", "30", "dias"}, "past month"}, {[]string{"ultimos", "7", "dias"}, "past week"},
	{[]string{"hoy"}, "today"}, {[]string{"ayer"}, "yesterday"}, {[]string{"this", "wk"}, "this week"}, {[]string{"last", "wk"}, "last week"},
	{[]string{"thsi", "week"}, "this week"}, {[]string{"lst", "month"}, "last month"},
}

var weekdays = map[string]time.Weekday{
	"monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday, "thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday, "sunday": time.Sunday,
	"mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday, "sun": time.Sunday,
	"lunes": time.Monday, "martes": time.Tuesday, "miercoles": time.Wednesday, "jueves": time.Thursday, "viernes": time.Friday, "sabado": time.Saturday, "domingo": time.Sunday,
}

var months = map[string]time.Month{
	"january": 1, "february": 2, "march": 3, "april": 4, "june": 6, "july": 7, "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
	"enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7, "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
}

// takePeriod finds a period in words and returns the words without it:
// the fixed phrases, "since Monday" / "desde el lunes", and a named month
// ("in March", "en marzo": the latest March that has begun).
func takePeriod(words []string, now time.Time) (Period, []string, bool) {
	cut := func(i, n int) []string { return append(append([]string{}, words[:i]...), words[i+n:]...) }
	for _, pp := range periodPhrases {
		pw := pp.words
		for i := 0; i+len(pw) <= len(words); i++ {
			match := true
			for j := range pw {
				if words[i+j] != pw[j] && !(len(pw[j]) >= 5 && is(words[i+j], pw[j])) {
					match = false
					break
				}
			}
			if match {
				return period(pp.name, now), cut(i, len(pw)), true
			}
		}
	}
	for i, w := range words {
		if w != "since" && w != "desde" {
			continue
		}
		j := i + 1
		if j < len(words) && (words[j] == "el" || words[j] == "last") {
			j++
		}
		if j < len(words) {
			if wd, ok := weekdays[words[j]]; ok {
				return since(wd, words[j], now), cut(i, j+1-i), true
			}
			if m, ok := months[words[j]]; ok {
				p := month(m, now)
				p.Name, p.To = "since "+monthName(m), period("today", now).To
				return p, cut(i, j+1-i), true
			}
		}
	}
	for i, w := range words {
		m, ok := months[w]
		if !ok || (len(w) == 3 && (i == 0 || !contains([]string{"in", "en", "during", "for", "de", "last"}, words[i-1]))) {
			continue // "mar", "jun" alone are too short to be sure of
		}
		if w == "may" && (i == 0 || !contains([]string{"in", "en", "during", "for", "last"}, words[i-1])) {
			continue // "may" is also a verb
		}
		start := i
		if i > 0 && contains([]string{"in", "en", "during", "de", "for"}, words[i-1]) {
			start = i - 1
		}
		return month(m, now), cut(start, i+1-start), true
	}
	return Period{}, words, false
}

// since is "since Monday": from the latest such day (today if it is one)
// to the end of today.
func since(wd time.Weekday, _ string, now time.Time) Period {
	today := period("today", now)
	back := (int(today.From.Weekday()) - int(wd) + 7) % 7
	return Period{"since " + wd.String(), today.From.AddDate(0, 0, -back), today.To}
}

// month is the latest named month that has begun: "March" in February
// 2026 is March 2025.
func month(m time.Month, now time.Time) Period {
	now = now.UTC()
	y := now.Year()
	if m > now.Month() {
		y--
	}
	from := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 1, 0)
	if today := period("today", now); to.After(today.To) {
		to = today.To
	}
	return Period{"in " + monthName(m) + " " + strconv.Itoa(y), from, to}
}

func monthName(m time.Month) string { return m.String() }

// period computes a named period in UTC days; weeks start on Monday.
func period(name string, now time.Time) Period {
	now = now.UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	monday := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	year := time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	tomorrow := day.AddDate(0, 0, 1)
	switch name {
	case "today":
		return Period{"today", day, tomorrow}
	case "yesterday":
		return Period{"yesterday", day.AddDate(0, 0, -1), day}
	case "this week":
		return Period{"this week", monday, tomorrow}
	case "last week":
		return Period{"last week", monday.AddDate(0, 0, -7), monday}
	case "past week":
		return Period{"the past 7 days", day.AddDate(0, 0, -6), tomorrow}
	case "this month":
		return Period{"this month", month, tomorrow}
	case "last month":
		return Period{"last month", month.AddDate(0, -1, 0), month}
	case "past month":
		return Period{"the past 30 days", day.AddDate(0, 0, -29), tomorrow}
	case "this year":
		return Period{"this year", year, tomorrow}
	case "last year":
		return Period{"last year", year.AddDate(-1, 0, 0), year}
	}
	return Period{"this month", month, tomorrow}
}

func monthSoFar(now time.Time) Period { return period("this month", now) }

// spendWords ask how much was spent.
var spendWords = []string{"spend", "spent", "spending", "cost", "costs", "spendin", "spnt", "gaste", "gastado", "gastamos", "gastar", "gasto", "gastos", "gastas", "gasté", "gastando"}

// parseSpending reads "how much did I spend on groceries last month",
// "coffee this week", "spending on uber", "what did I spend at starbucks",
// "cuánto gasté en comida esta semana".
func parseSpending(words []string, now time.Time) (Intent, bool) {
	period, rest, hasPeriod := takePeriod(words, now)
	spend := hasWord(rest, spendWords...)
	if !spend && !hasPeriod {
		// "food this week" has a period; "gas" alone is not a question.
		return Intent{}, false
	}
	// What was it spent on: after "on", "at", "for", "en", else the words
	// left once the question's scaffolding is gone.
	var subject []string
	for i, w := range rest {
		if w == "on" || w == "at" || w == "for" || (w == "en" && i > 0) || w == "in" && i > 0 && hasWord(rest[:i], spendWords...) {
			subject = rest[i+1:]
			break
		}
	}
	if subject == nil {
		for _, w := range rest {
			if is(w, spendWords...) || contains(filler, w) {
				continue
			}
			subject = append(subject, w)
		}
	}
	subject = dropFiller(subject)
	if !spend && len(subject) == 0 {
		return Intent{}, false // "this week" alone
	}
	text := strings.Join(subject, " ")
	in := Intent{Kind: Spending, Period: period, Account: accountHint(subject)}
	if in.Account == CardHint {
		in.Account = AnyAccount // "on my card" is card spending everywhere
	}
	if !hasPeriod {
		in.Period = monthSoFar(now)
	}
	if name, cats, ok := lookupCategory(text); ok {
		in.Category, in.Categories = name, cats
		if name == "rent" || name == "utilities" {
			in.Search = subject[0] // often paid by transfer, named in the description
		}
		return in, true
	}
	switch text {
	case "", "everything", "total", "all", "in total", "cards", "card", "todo", "en total", "tarjeta", "tarjetas", "in all", "altogether", "overall", "debit card", "credit card":
		return in, true
	}
	// One word with a typo ("grocieres"), or the category among a few
	// more words ("food stuff", "on gas and stuff").
	for _, w := range subject {
		for _, g := range categoryGroups {
			for _, k := range g.words {
				if !strings.Contains(k, " ") && (w == k || (len(subject) == 1 && is(w, k))) {
					in.Category, in.Categories = g.name, g.cats
					return in, true
				}
			}
		}
	}
	if !spend {
		return Intent{}, false // a period plus words that are not a category: not a spending question
	}
	if len(text) > 40 {
		text = text[:40]
	}
	in.Search = text
	return in, true
}

// filler are words that carry no subject in a spending question.
var filler = []string{"how", "much", "did", "do", "i", "we", "my", "me", "what", "whats", "what's", "was", "is", "the", "have", "has", "been", "there",
	"total", "in", "so", "far", "money", "many", "dollars", "spend", "spent", "spending", "a", "an", "on", "at", "for", "show", "tell", "about",
	"cuanto", "cuanta", "que", "he", "en", "mi", "mis", "el", "la", "los", "las", "de", "del", "dinero", "dime", "muestrame", "llevo", "lo", "va", "hemos", "hecho",
	"did i", "ive", "i've", "stuff", "things", "like", "roughly", "about", "approx", "y", "and", "to", "it", "please", "pls", "por", "favor", "u", "you", "can", "puedes",
	"know", "want", "saber", "quiero", "gastos", "gasto", "total", "overall", "up", "add", "adds"}

func dropFiller(ws []string) []string {
	var out []string
	for _, w := range ws {
		if !contains(filler, w) {
			out = append(out, w)
		}
	}
	return out
}

// ownWords name an account of the customer's own in a transfer.
func ownAccount(ws []string) (AccountRef, bool) {
	var r AccountRef
	for i, w := range ws {
		switch {
		case is(w, "checking", "chequing", "cheques", "corriente", "checkings", "current") || w == "main" || w == "everyday":
			r.Hint = CheckingHint
		case is(w, "savings", "saving", "ahorros", "ahorro", "savngs"):
			r.Hint = SavingsHint
		case w == "card" || w == "tarjeta" || is(w, "credit", "credito"):
			r.Hint = CardHint
		}
		if l := last4(ws[i : i+1]); l != "" && i > 0 && contains([]string{"ending", "ends", "account", "acct", "termina", "terminacion", "cuenta", "x", "in", "en", "#"}, ws[i-1]) {
			r.Last4 = l
		}
		if len(w) == 5 && (w[0] == 'x' || w[0] == '#') && strings.Trim(w[1:], "0123456789") == "" {
			r.Last4 = w[1:]
		}
	}
	return r, !r.IsZero()
}

// parsePay reads what follows a verb of paying: a payee and one amount in
// any order ("Sam 20", "$20.50 to mom", "20 to my landlord for rent",
// "twenty bucks to Sam", "a Juan veinte dólares"), or, with a verb of
// moving money, two of the customer's own accounts ("50 from checking to
// savings", "100 to savings", "50 de cheques a ahorros").
// parseCollect reads a collection: the amount and the payee at another
// bank it comes from, named as a payment's payee is ("collect 200 from
// chase savings", "trae 50 de mi cuenta de chase").
func parseCollect(words []string) Intent {
	rest := make([]string, 0, len(words))
	for _, w := range words {
		if w != "from" && w != "de" && w != "desde" && w != "del" && w != "out" && w != "of" {
			rest = append(rest, w)
		}
	}
	in := parsePay(rest, false)
	if in.Kind == Transfer { // "into savings": one's own account named; the payee is the rest
		in.Payee = in.From.Name
	}
	in.Kind, in.From, in.To = Collect, AccountRef{}, AccountRef{}
	return in
}

func parsePay(words []string, move bool) Intent {
	in := Intent{Kind: Pay}
	var payee, memo, fromW, toW []string
	type found struct {
		at, n int
		v     ledger.Amount
		err   error
		words bool
	}
	var amounts []found
	inMemo, afterTo, afterFrom := false, false, false
	digitTokens := 0
	for _, w := range words {
		if _, isAmt, _ := amountToken(w); isAmt {
			digitTokens++
		}
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		// Four digits after "ending", "account" or a kind of account name
		// an account ("to savings 5555", "from the one ending 1234").
		if i > 0 && len(w) == 4 && strings.Trim(w, "0123456789") == "" &&
			(contains([]string{"ending", "ends", "account", "acct", "termina", "terminacion", "terminada", "cuenta", "x", "#", "number", "numero", "en"}, words[i-1]) ||
				accountHint(words[i-1:i]) != AnyAccount || (move && digitTokens > 1 && contains([]string{"from", "to", "into", "de", "a", "desde"}, words[i-1]))) {
			switch {
			case afterFrom:
				fromW = append(fromW, "x"+w)
			case afterTo:
				toW = append(toW, "x"+w)
				payee = append(payee, "x"+w)
			default:
				payee = append(payee, "x"+w)
			}
			continue
		}
		if s, isAmt, err := amountToken(w); isAmt {
			f := found{at: i, n: 1, err: err}
			if err == nil {
				f.v, _ = ledger.ParseAmount(s, "USD")
			}
			// A unit after the number ("20 dollars", "20 bucks").
			if i+1 < len(words) && contains(currencyWords, words[i+1]) {
				i++
				f.n++
			}
			// Digits then a multiplier ("5 hundred", "20 lucas", "2 grand"):
			// write the full amount rather than have it guessed.
			if i+1 < len(words) && f.err == nil {
				if nw, ok := numberWords[words[i+1]]; (ok && (nw.kind == numHundred || nw.kind == numHundreds || nw.kind == numScale)) || contains([]string{"k", "lucas", "luca", "varos", "grand", "mil"}, words[i+1]) {
					f.err = ErrAmountForm.WithMessage("Write the full amount, like 1000 rather than 1k.")
					i++
					f.n++
				}
			}
			amounts = append(amounts, f)
			afterFrom = false
			continue
		}
		if !inMemo && (isNumberWord(w) || w == "a" || w == "an" || w == "half" || w == "mitad" || w == "medio") {
			if v, n, err := wordAmount(words, i); n > 0 {
				amounts = append(amounts, found{at: i, n: n, v: v, err: err, words: true})
				i += n - 1
				afterFrom = false
				continue
			}
		}
		switch {
		case inMemo:
			memo = append(memo, w)
		case (w == "for" || w == "para" || w == "por" || w == "concepto") && (len(amounts) > 0 || len(payee) > 0) && !(w == "por" && i+1 < len(words) && words[i+1] == "favor"):
			inMemo = true
		case w == "to" || w == "into" || w == "a" || w == "al" || w == "hacia" || w == "pa" || w == "para":
			afterTo, afterFrom = true, false
		case (w == "de" || w == "del") && afterTo && len(toW) == 0:
			// "a la de ahorros": still the destination
		case (w == "in" || w == "en") && move && !afterFrom && len(toW) == 0 && i+1 < len(words) && accountHint(words[i+1:i+2]) != AnyAccount:
			afterTo = true // "put 50 in savings"
		case w == "from" || w == "de" || w == "desde" || w == "del" || w == "out":
			afterFrom, afterTo = true, false
		case w == "of" && afterFrom:
		case w == "my" || w == "me" || w == "please" || w == "pls" || w == "plz" || w == "$" || contains(currencyWords, w) || w == "back" || w == "the" || w == "money" ||
			w == "mi" || w == "mis" || w == "el" || w == "la" || w == "le" || w == "lo" || w == "dinero" || w == "por" || w == "favor" || w == "porfa" || w == "account" || w == "cuenta" ||
			w == "acct" || w == "ending" || w == "ends" || w == "in" || w == "termina" || w == "en" || w == "with" || w == "con" || w == "x" || w == "#" || w == "cash" || w == "lana" || w == "feria" ||
			w == "que" || w == "one" && afterTo:
			if (w == "en" || w == "in" || w == "con" || w == "with") && afterFrom {
				continue
			}
		case afterFrom:
			fromW = append(fromW, w)
		default:
			if afterTo {
				toW = append(toW, w)
			}
			if afterTo || len(amounts) == 0 || len(payee) == 0 {
				payee = append(payee, w)
			} else {
				// Words after the amount without "for": part of the memo.
				memo = append(memo, w)
			}
		}
	}
	// A payee whose name is a number word ("pay Seven 20", "send 20 to
	// Seven"): the words right after the verb, or after "to", are the payee
	// when digits give the amount elsewhere.
	if len(amounts) == 2 {
		for k, f := range amounts {
			other := amounts[1-k]
			if f.words && !other.words && f.n == 1 && (f.at == 0 || (f.at > 0 && contains([]string{"to", "a", "al"}, words[f.at-1]))) && len(payee) == 0 {
				payee = append(payee, words[f.at])
				amounts = []found{other}
				break
			}
		}
	}
	// Transfers between own accounts: named by kind or last four digits.
	dest, toOwn := ownAccount(toW)
	if len(toW) == 0 && move {
		dest, toOwn = ownAccount(payee)
	}
	src, fromOwn := ownAccount(fromW)
	if toOwn || (fromOwn && move) {
		in.Kind, in.From, in.To = Transfer, src, dest
		if len(fromW) > 0 && !fromOwn {
			in.From.Name = strings.Join(fromW, " ")
		}
		if len(toW) > 0 && !toOwn {
			in.To.Name = strings.Join(toW, " ")
		}
		payee = nil
	} else if move && len(fromW) > 0 {
		in.Kind = Transfer
		in.From.Name = strings.Join(fromW, " ")
		in.To.Name = strings.Join(payee, " ")
		payee = nil
	}
	switch {
	case len(amounts) > 1:
		in.AmountErr = ErrAmountMany
	case len(amounts) == 1 && amounts[0].err != nil:
		in.AmountErr = amounts[0].err
	case len(amounts) == 1:
		in.Cents = amounts[0].v
		in.Amount = decimal(in.Cents)
		if !amounts[0].words {
			// Keep the digits as written ("20.5", "20.00"): the ledger
			// reads them again in the account's currency.
			s, _, _ := amountToken(words[amounts[0].at])
			in.Amount = s
		}
	}
	if in.AmountErr != nil {
		in.Amount, in.Cents = "", 0
	}
	in.Payee = strings.Join(payee, " ")
	if len(in.Payee) > 60 {
		in.Payee = in.Payee[:60]
	}
	in.Memo = strings.Join(memo, " ")
	if len(in.Memo) > 60 {
		in.Memo = in.Memo[:60]
	}
	if in.Kind == Transfer {
		in.Payee = ""
		if len(in.To.Name) > 60 {
			in.To.Name = in.To.Name[:60]
		}
		if len(in.From.Name) > 60 {
			in.From.Name = in.From.Name[:60]
		}
	}
	return in
}

// amountToken reports whether w is meant as an amount and, if so, its plain
// decimal form or why it cannot be used. "$20", "20", "20.50", "1,000",
// "20usd", "$1,234.56" are amounts; "-5", "1e9", "20,000.5.5", "0" are
// amounts that are refused; "4th" and words are not amounts.
func amountToken(w string) (string, bool, error) {
	s := w
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	for _, p := range []string{"us$", "$", "usd"} {
		s = strings.TrimPrefix(s, p)
	}
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	if strings.HasPrefix(s, "$") && strings.ContainsAny(s, "0123456789") {
		return "", true, ErrAmountForm // "$$20"
	}
	for _, suf := range []string{"usd", "dollars", "dollar", "bucks"} {
		s = strings.TrimSuffix(s, suf)
	}
	if s == "" || s[0] < '0' || s[0] > '9' {
		if s != "" && s[0] == '.' && len(s) > 1 && s[1] >= '0' && s[1] <= '9' {
			return "", true, ErrAmountForm // ".5": write 0.50
		}
		return "", false, nil
	}
	// It starts with a digit: an amount, good or bad. Ordinals and years
	// in a memo ("4th") are rare after a verb of paying; treat any letter
	// as a bad amount rather than guess.
	if strings.Trim(s, "0123456789.,") != "" {
		if strings.TrimRight(s, "0123456789") == "" {
			return "", true, ErrAmountForm
		}
		if strings.HasSuffix(s, "k") && strings.Trim(s[:len(s)-1], "0123456789") == "" {
			return "", true, ErrAmountForm.WithMessage("Write the full amount, like 1000 rather than 1k.")
		}
		return "", true, ErrAmountForm
	}
	if neg {
		return "", true, ErrAmountNegative
	}
	if strings.Count(s, ".") > 1 {
		return "", true, ErrAmountForm
	}
	// "20,50": cents after a comma, as Spanish writes them, or a slip? Ask.
	if whole, frac, ok := strings.Cut(s, ","); ok && !strings.Contains(s, ".") && len(frac) == 2 && !strings.Contains(frac, ",") && whole != "" {
		return "", true, ErrAmountForm.WithMessage("Write cents with a dot, like 20.50.")
	}
	// Check the form with the ledger's own parser (two decimals here; the
	// account's currency is checked again when the payment is prepared).
	if _, err := ledger.ParseAmount(s, "USD"); err != nil {
		switch {
		case errIs(err, ledger.ErrAmountNegative):
			return "", true, ErrAmountNegative
		case errIs(err, ledger.ErrAmountPrecise):
			return "", true, ErrAmountForm.WithMessage("That amount has too many decimal places. Write it like 20.50.")
		case errIs(err, ledger.ErrAmountTooLarge):
			return "", true, ErrAmountForm.WithMessage("That amount is too large.")
		}
		return "", true, ErrAmountForm
	} else if v, _ := ledger.ParseAmount(s, "USD"); v > MaxChatAmount {
		return "", true, ErrAmountLarge
	}
	return strings.ReplaceAll(s, ",", ""), true, nil
}

func errIs(err error, target *bankbridge.Error) bool { return errors.Is(err, target) }
