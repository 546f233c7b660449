package assistant

import (
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
	Confirm       IntentKind = "confirm"
	Cancel        IntentKind = "cancel"
	FreezeCard    IntentKind = "freeze_card"
	UnfreezeCard  IntentKind = "unfreeze_card"
	Alerts        IntentKind = "alerts"
	Privacy       IntentKind = "privacy"
	Human         IntentKind = "human"
	LinkAccount   IntentKind = "link"
	UnlinkAccount IntentKind = "unlink"
)

// AccountHint narrows a question to one kind of account; "" means all.
type AccountHint string

// The account hints a message can carry.
const (
	AnyAccount   AccountHint = ""
	CheckingHint AccountHint = "checking"
	SavingsHint  AccountHint = "savings"
	CardHint     AccountHint = "card"
)

// Period is a span of days a spending question covers, [From, To).
type Period struct {
	Name     string // "this week", "last month": how the reply names it
	From, To time.Time
}

// Intent is a parsed message. Only the fields of its Kind are set.
type Intent struct {
	Kind    IntentKind
	Account AccountHint // Balance, Transactions, Spending
	// Spending: Category is a merchant category ("groceries") or "" for all
	// card spending; Search is a word to look for in descriptions when the
	// thing asked about is not a category ("starbucks").
	Category string
	Search   string
	Period   Period
	// Pay: the payee as typed, the amount as a plain decimal ("20.50"),
	// and a memo. AmountErr is set when an amount was there but unusable
	// ("-5", "1e9", "20,000.5.5"): the assistant says why and moves nothing.
	Payee     string
	Amount    string
	AmountErr error
	Memo      string
	// FreezeCard, UnfreezeCard: the last four digits named, if any.
	Last4 string
	// Alerts, Privacy: the setting asked for; "" only asks what it is.
	Setting string
	// Confirm, Cancel: the pending action a quick reply names; "" for text.
	Ref string
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
)

// ParsePayload reads a quick reply or postback payload the assistant made.
// An unknown payload is Unknown.
func ParsePayload(p string, now time.Time) Intent {
	switch {
	case strings.HasPrefix(p, payloadConfirm):
		return Intent{Kind: Confirm, Ref: strings.TrimPrefix(p, payloadConfirm)}
	case strings.HasPrefix(p, payloadCancel):
		return Intent{Kind: Cancel, Ref: strings.TrimPrefix(p, payloadCancel)}
	case strings.HasPrefix(p, payloadIntent):
		in := Parse(strings.ReplaceAll(strings.TrimPrefix(p, payloadIntent), "_", " "), now)
		if in.Kind == Pay {
			return Intent{Kind: Unknown} // a button never moves money by itself
		}
		return in
	case p == "GET_STARTED":
		return Intent{Kind: Greeting}
	}
	return Intent{Kind: Unknown}
}

// Parse reads free text into an Intent. It is deterministic and never
// guesses a payee or an amount: anything it cannot read exactly is Unknown,
// or Pay with an AmountErr. now anchors relative periods ("last month").
func Parse(text string, now time.Time) Intent {
	if len(text) > 4*MaxText || utf8.RuneCountInString(text) > MaxText {
		return Intent{Kind: Unknown}
	}
	words := tokens(text)
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
	if len(words) == 2 && (w0 == "send" || w0 == "pay") && (words[1] == "it" || words[1] == "now") {
		return Intent{Kind: Confirm}
	}
	// Money first: a verb of paying at the start.
	if is(w0, "pay", "send", "transfer", "give", "wire", "venmo", "zelle") && !(len(words) > 1 && is(words[1], "attention")) {
		return parsePay(words[1:])
	}
	if len(words) <= 3 {
		switch {
		case isAny(words, "yes", "y", "yeah", "yep", "yup", "confirm", "confirmed", "ok", "okay", "sure", "correct") && !has("no", "not", "dont", "don't"):
			return Intent{Kind: Confirm}
		case contains("do it", "go ahead", "send it", "pay it", "yes please"):
			return Intent{Kind: Confirm}
		case isAny(words, "no", "n", "nope", "nah", "cancel", "stop", "abort", "nevermind", "never mind") || contains("never mind", "no thanks", "dont pay", "don't pay"):
			return Intent{Kind: Cancel}
		}
	}
	switch {
	case has("unfreeze", "unlock", "unblock", "reactivate", "thaw") || (contains("turn on") && has("card")):
		return Intent{Kind: UnfreezeCard, Last4: last4(words)}
	case has("freeze", "lock", "block") || (contains("turn off") && has("card")) || contains("lost my card", "stolen card", "card stolen", "card was stolen", "lost card"):
		return Intent{Kind: FreezeCard, Last4: last4(words)}
	case has("unlink", "disconnect", "logout") || contains("log out", "sign out", "remove my account", "stop linking", "delete link"):
		return Intent{Kind: UnlinkAccount}
	case has("privacy", "private"):
		return Intent{Kind: Privacy, Setting: setting(words, "full", "minimal", "off")}
	case contains("show amounts", "show numbers", "show me amounts", "show balances in chat"):
		return Intent{Kind: Privacy, Setting: "full"}
	case contains("hide amounts", "hide numbers", "hide balances"):
		return Intent{Kind: Privacy, Setting: "minimal"}
	case has("alert", "alerts", "notifications", "notification", "notify"):
		return Intent{Kind: Alerts, Setting: setting(words, "on", "off")}
	case has("human", "agent", "person", "representative", "rep", "operator", "someone", "somebody", "advisor", "staff") ||
		contains("customer service", "customer support", "real person", "talk to", "speak to", "speak with", "call me"):
		return Intent{Kind: Human}
	case has("link", "connect", "login", "signin") || contains("log in", "sign in", "sign up"):
		return Intent{Kind: LinkAccount}
	}
	if in, ok := parseSpending(words, now); ok {
		return in
	}
	switch {
	case has("balance", "balances", "bal", "funds") || contains("how much do i have", "how much money", "how much is in", "how much have i got", "whats in my", "what's in my", "money left", "how much is left", "available credit", "what do i owe", "how much do i owe"):
		return Intent{Kind: Balance, Account: accountHint(words)}
	case has("transactions", "transaction", "txns", "txn", "history", "activity", "statement", "purchases", "payments", "charges", "spending") ||
		contains("recent", "last payments", "what did i buy", "what did i pay", "where did my money go"):
		return Intent{Kind: Transactions, Account: accountHint(words)}
	case has("thanks", "thank", "thx", "ty", "cheers", "great", "awesome", "cool"):
		return Intent{Kind: Thanks}
	case has("help", "menu", "options", "commands", "start") || contains("what can you do", "how does this work", "what do you do") || phrase == " ? ":
		return Intent{Kind: Help}
	case has("hi", "hello", "hey", "hiya", "howdy", "yo", "greetings", "hallo", "hola") || contains("good morning", "good afternoon", "good evening", "get started"):
		return Intent{Kind: Greeting}
	}
	return Intent{Kind: Unknown}
}

// tokens lower-cases text, folds curly quotes, and splits it into words,
// keeping amounts ("$20.50", "1,000", "-5", "1e9") whole and dropping other
// punctuation at word edges.
func tokens(text string) []string {
	text = strings.NewReplacer("\u2019", "'", "\u2018", "'", "\u201c", "\"", "\u201d", "\"", "\u00a0", " ", "\u2212", "-").Replace(text)
	text = strings.ToLower(text)
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
		case "enable", "enabled", "start":
			if contains(options, "on") {
				return "on"
			}
		case "disable", "disabled", "mute":
			if contains(options, "off") {
				return "off"
			}
		case "min", "minimum", "low", "brief":
			if contains(options, "minimal") {
				return "minimal"
			}
		case "max", "maximum", "all", "everything":
			if contains(options, "full") {
				return "full"
			}
		case "none", "nothing":
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
	case hasWord(words, "checking", "chequing", "current", "everyday", "main"):
		return CheckingHint
	case hasWord(words, "savings", "saving", "save"):
		return SavingsHint
	case hasWord(words, "card", "credit", "visa", "mastercard", "creditcard", "owe"):
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

// categories maps what people say to the merchant categories the ledger
// records (the demo bank's, ISO 18245 groups).
var categories = map[string]string{
	"groceries": "groceries", "grocery": "groceries", "supermarket": "groceries", "food shopping": "groceries",
	"coffee": "coffee", "coffees": "coffee", "cafe": "coffee", "cafes": "coffee", "espresso": "coffee", "latte": "coffee",
	"restaurants": "restaurants", "restaurant": "restaurants", "dining": "restaurants", "eating out": "restaurants", "dinner": "restaurants",
	"fast food": "fast_food", "burgers": "fast_food",
	"gas": "fuel", "fuel": "fuel", "petrol": "fuel",
	"pharmacy": "pharmacy", "drugstore": "pharmacy", "medicine": "pharmacy",
	"shopping": "department_store", "department store": "department_store",
	"online": "online_retail", "online shopping": "online_retail",
	"uber": "rideshare", "lyft": "rideshare", "taxi": "rideshare", "taxis": "rideshare", "rides": "rideshare", "rideshare": "rideshare",
	"transit": "transit", "bus": "transit", "subway": "transit", "train": "transit", "metro": "transit",
	"takeout": "food_delivery", "delivery": "food_delivery", "food delivery": "food_delivery",
	"flights": "travel_air", "flight": "travel_air", "travel": "travel_air", "airline": "travel_air",
	"hotel": "lodging", "hotels": "lodging", "lodging": "lodging",
	"doctor": "medical", "medical": "medical", "dentist": "medical",
	"hardware": "home_improvement", "home improvement": "home_improvement",
	"electronics": "electronics", "gadgets": "electronics",
	"clothes": "clothing", "clothing": "clothing",
	"entertainment": "entertainment", "movies": "entertainment", "cinema": "entertainment", "concerts": "entertainment",
	"pets": "pets", "pet": "pets", "vet": "pets",
	"books":   "books",
	"haircut": "personal_care", "salon": "personal_care", "personal care": "personal_care",
	"convenience": "convenience", "snacks": "convenience",
}

// CategoryName is how a reply names a category.
func CategoryName(c string) string {
	if c == "" {
		return "card spending"
	}
	return strings.ReplaceAll(c, "_", " ")
}

var periodWords = [][]string{
	{"today"}, {"yesterday"}, {"this", "week"}, {"last", "week"}, {"this", "month"}, {"last", "month"},
	{"this", "year"}, {"last", "year"}, {"past", "week"}, {"past", "month"},
}

// parseSpending reads "how much did I spend on groceries last month",
// "coffee this week", "spending on uber", "what did I spend at starbucks".
func parseSpending(words []string, now time.Time) (Intent, bool) {
	period, rest, hasPeriod := takePeriod(words, now)
	spend := hasWord(rest, "spend", "spent", "spending", "cost", "costs")
	if !spend && !hasPeriod {
		return Intent{}, false
	}
	// What was it spent on: after "on", "at" or "for", else the words left
	// once the question's scaffolding is gone.
	var subject []string
	for i, w := range rest {
		if w == "on" || w == "at" || w == "for" {
			subject = rest[i+1:]
			break
		}
	}
	if subject == nil {
		for _, w := range rest {
			if is(w, "spend", "spent", "spending") || contains(filler, w) {
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
	in := Intent{Kind: Spending, Period: period}
	if !hasPeriod {
		in.Period = monthSoFar(now)
	}
	switch cat, ok := categories[text]; {
	case ok:
		in.Category = cat
	case text == "" || text == "everything" || text == "total" || text == "all" || text == "in total" || text == "cards" || text == "card":
	default:
		// Single word category with a typo ("grocieres").
		if len(subject) == 1 {
			for k, c := range categories {
				if !strings.Contains(k, " ") && is(subject[0], k) {
					in.Category = c
					return in, true
				}
			}
		}
		if !spend {
			return Intent{}, false // "this week" plus words that are not a category: not a spending question
		}
		if len(text) > 40 {
			text = text[:40]
		}
		in.Search = text
	}
	return in, true
}

// filler are words that carry no subject in a spending question.
var filler = []string{"how", "much", "did", "do", "i", "we", "my", "me", "what", "whats", "what's", "was", "is", "the", "have",
	"total", "in", "so", "far", "money", "many", "dollars", "spend", "spent", "spending", "a", "an", "on", "at", "for", "show", "tell", "about", "been", "has", "there"}

func dropFiller(ws []string) []string {
	var out []string
	for _, w := range ws {
		if !contains(filler, w) {
			out = append(out, w)
		}
	}
	return out
}

// takePeriod finds a period in words and returns the words without it.
func takePeriod(words []string, now time.Time) (Period, []string, bool) {
	for _, pw := range periodWords {
		for i := 0; i+len(pw) <= len(words); i++ {
			match := true
			for j := range pw {
				if words[i+j] != pw[j] && !(len(pw[j]) >= 5 && is(words[i+j], pw[j])) {
					match = false
					break
				}
			}
			if match {
				rest := append(append([]string{}, words[:i]...), words[i+len(pw):]...)
				return period(strings.Join(pw, " "), now), rest, true
			}
		}
	}
	return Period{}, words, false
}

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

// parsePay reads what follows a verb of paying: a payee and one amount in
// any order ("Sam 20", "$20.50 to mom", "20 to my landlord for rent").
func parsePay(words []string) Intent {
	in := Intent{Kind: Pay}
	var payee, memo []string
	amounts := 0
	inMemo, afterTo := false, false
	for i := 0; i < len(words); i++ {
		w := words[i]
		if amt, isAmt, err := amountToken(w); isAmt {
			amounts++
			if err != nil && in.AmountErr == nil {
				in.AmountErr = err
			}
			if err == nil && in.Amount == "" {
				in.Amount = amt
			}
			// A unit after the number ("20 dollars", "20 bucks").
			if i+1 < len(words) && contains([]string{"dollars", "dollar", "bucks", "usd", "us", "eur", "euros"}, words[i+1]) {
				i++
			}
			continue
		}
		switch {
		case inMemo:
			memo = append(memo, w)
		case w == "for" && (amounts > 0 || len(payee) > 0):
			inMemo = true
		case w == "to":
			afterTo = true
		case w == "my" || w == "me" || w == "please" || w == "pls" || w == "plz" || w == "$" || w == "usd" || w == "dollars" || w == "bucks" || w == "back" || w == "the" || w == "money":
		default:
			if afterTo || amounts == 0 || len(payee) == 0 {
				payee = append(payee, w)
			} else {
				// Words after the amount without "for": part of the memo.
				memo = append(memo, w)
			}
		}
	}
	if amounts > 1 {
		in.AmountErr, in.Amount = ErrAmountMany, ""
	}
	if in.AmountErr != nil {
		in.Amount = ""
	}
	in.Payee = strings.Join(payee, " ")
	if len(in.Payee) > 60 {
		in.Payee = in.Payee[:60]
	}
	in.Memo = strings.Join(memo, " ")
	if len(in.Memo) > 60 {
		in.Memo = in.Memo[:60]
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
	}
	return strings.ReplaceAll(s, ",", ""), true, nil
}

func errIs(err error, target *bankbridge.Error) bool { return errors.Is(err, target) }
