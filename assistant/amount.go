package assistant

import (
	"strconv"
	"strings"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
)

// MaxChatAmount is the largest amount the chat reads: 1,000,000.00. Larger
// amounts ("veinte mil millones") are refused as written, before any limit
// is asked; the payment limits (package limits) refuse far less anyway.
const MaxChatAmount ledger.Amount = 100_000_000

// More amount errors: each asks the customer back rather than guess.
var (
	// ErrAmountAmbiguous is an amount in words with two readings ("five
	// fifty": 5.50 or 550.00).
	ErrAmountAmbiguous = bankbridge.E(bankbridge.Invalid, "chat_amount_ambiguous_words", "I'm not sure of that amount. Write it in digits, like 5.50 or 550.")
	// ErrAmountHalf is "half" with nothing to halve.
	ErrAmountHalf = bankbridge.E(bankbridge.Invalid, "chat_amount_half", "Half of what? Write the amount, like 10 or 10.50.")
	// ErrAmountLarge is an amount past MaxChatAmount.
	ErrAmountLarge = bankbridge.E(bankbridge.Invalid, "chat_amount_too_large", "That amount is too large to pay from a chat.")
)

// numKind is what a number word is, which decides what may follow it.
type numKind int

const (
	numUnit     numKind = iota + 1 // 1-9
	numTeen                        // 10-19
	numTens                        // 20, 30, ... 90
	numCompound                    // 21-29 in one Spanish word ("veinticinco")
	numHundred                     // "hundred" (multiplies)
	numHundreds                    // "cien", "doscientos" (adds 100-900)
	numScale                       // thousand, million, billion, grand, mil, millones
)

type numWord struct {
	v    int64
	kind numKind
}

// numberWords are the number words of English and Spanish (accents folded,
// as tokens leaves them).
var numberWords = func() map[string]numWord {
	m := map[string]numWord{}
	add := func(k numKind, v int64, ws ...string) {
		for _, w := range ws {
			m[w] = numWord{v, k}
		}
	}
	en := []string{"one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	es := []string{"uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"}
	for i := range en {
		add(numUnit, int64(i+1), en[i], es[i])
	}
	add(numUnit, 1, "un", "una")
	for i, w := range []string{"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"} {
		add(numTeen, int64(10+i), w)
	}
	for i, w := range []string{"diez", "once", "doce", "trece", "catorce", "quince", "dieciseis", "diecisiete", "dieciocho", "diecinueve"} {
		add(numTeen, int64(10+i), w)
	}
	for i, w := range []string{"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"} {
		add(numTens, int64(20+10*i), w)
	}
	add(numTens, 40, "fourty")
	for i, w := range []string{"veinte", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa"} {
		add(numTens, int64(20+10*i), w)
	}
	for i, w := range []string{"veintiuno", "veintidos", "veintitres", "veinticuatro", "veinticinco", "veintiseis", "veintisiete", "veintiocho", "veintinueve"} {
		add(numCompound, int64(21+i), w)
	}
	add(numCompound, 21, "veintiun", "veintiuna")
	add(numHundred, 100, "hundred")
	add(numHundreds, 100, "cien", "ciento")
	for i, w := range []string{"doscientos", "trescientos", "cuatrocientos", "quinientos", "seiscientos", "setecientos", "ochocientos", "novecientos"} {
		add(numHundreds, int64(200+100*i), w, strings.TrimSuffix(w, "os")+"as")
	}
	add(numScale, 1000, "thousand", "grand", "mil")
	add(numScale, 1_000_000, "million", "millon", "millones", "millions")
	add(numScale, 1_000_000_000, "billion", "billions")
	return m
}()

// currencyWords follow an amount: "20 dollars", "veinte dolares".
var currencyWords = []string{"dollars", "dollar", "bucks", "buck", "usd", "dolares", "dolar", "dlls", "dls", "pesos"}

// centWords name the cents: "fifty cents", "cincuenta centavos".
var centWords = []string{"cents", "cent", "centavos", "centavo", "centimos", "c"}

// isNumberWord reports whether w (or each part of a hyphenated w) is a
// number word.
func isNumberWord(w string) bool {
	for _, p := range strings.Split(w, "-") {
		if _, ok := numberWords[p]; !ok {
			return false
		}
	}
	return w != ""
}

// wordNumber reads one whole number in words from ws[i:] ("twenty-five",
// "a hundred and five", "treinta y cinco", "dos mil", "veinte mil
// millones"), stopping at the first word that cannot continue it. It
// returns the value, how many tokens it took (0 when none), and whether
// the number used a hundred or a scale word (then it is never a
// dollars-and-cents pair). Hyphenated tokens count as one.
func wordNumber(ws []string, i int) (v int64, n int, big bool) {
	var total, cur int64
	var last numKind
	lastScale := int64(0)
	used := 0
	j := i
	for j < len(ws) {
		w := ws[j]
		parts := strings.Split(w, "-")
		// "a hundred", "an thousand": the article counts as one.
		if (w == "a" || w == "an") && last == 0 && j+1 < len(ws) {
			if nw, ok := numberWords[ws[j+1]]; ok && (nw.kind == numHundred || nw.kind == numScale) {
				cur, last = 1, numUnit
				j++
				used = j - i
				continue
			}
		}
		// "and" inside a number: "one hundred and five"; "y" in Spanish
		// joins tens and units: "treinta y cinco".
		if (w == "and" || w == "y") && last != 0 && j+1 < len(ws) {
			next, _, _ := strings.Cut(ws[j+1], "-") // "and twenty-one"
			nw, ok := numberWords[next]
			switch {
			case !ok:
			case w == "and" && (last == numHundred || last == numScale) && nw.kind != numHundred && nw.kind != numScale:
				j++
				continue
			case w == "y" && last == numTens && nw.kind == numUnit:
				j++
				continue
			}
			break
		}
		ok := true
		save := []int64{total, cur}
		saveLast, saveScale := last, lastScale
		for _, p := range parts {
			nw, known := numberWords[p]
			if !known {
				ok = false
				break
			}
			switch nw.kind {
			case numUnit:
				ok = last == 0 || (last == numTens && cur%10 == 0) || last == numHundred || last == numHundreds || last == numScale
				cur += nw.v
			case numTeen, numTens, numCompound:
				ok = last == 0 || last == numHundred || last == numHundreds || last == numScale
				cur += nw.v
			case numHundred:
				ok = cur > 0 && cur < 100 && last != numHundred && last != numHundreds
				cur *= 100
			case numHundreds:
				ok = cur == 0 && (last == 0 || last == numScale)
				cur += nw.v
			case numScale:
				switch {
				case cur > 0 && (lastScale == 0 || nw.v < lastScale):
					total += cur * nw.v
				case cur == 0 && total > 0 && nw.v > lastScale:
					total *= nw.v // "mil millones": a thousand millions
				case cur == 0 && total == 0 && last == 0 && p == "mil":
					total = 1000 // "mil" alone
				default:
					ok = false
				}
				cur, lastScale = 0, nw.v
			}
			if !ok {
				break
			}
			last = nw.kind
			if nw.kind == numHundred || nw.kind == numHundreds || nw.kind == numScale {
				big = true
			}
			if total > 1e15 || cur > 1e15 {
				ok = false // far past any amount: stop before overflow
				break
			}
		}
		if !ok {
			total, cur, last, lastScale = save[0], save[1], saveLast, saveScale
			break
		}
		j++
		used = j - i
	}
	if used == 0 || last == 0 {
		return 0, 0, false
	}
	return total + cur, used, big
}

// wordAmount reads an amount written in words at ws[i:]: "twenty",
// "twenty-five fifty" (25.50), "a hundred bucks", "twenty dollars and fifty
// cents", "fifty cents", "ten and a half", "veinte con cincuenta". It
// returns the amount in cents, the tokens it took (0: not an amount in
// words), and an error for an amount that must be asked back.
func wordAmount(ws []string, i int) (ledger.Amount, int, error) {
	if i < len(ws) && (ws[i] == "half" || ws[i] == "medio" || ws[i] == "mitad") {
		return 0, 1, ErrAmountHalf
	}
	whole, n, big := wordNumber(ws, i)
	if n == 0 {
		return 0, 0, nil
	}
	j := i + n
	var cents int64
	// "fifty cents": cents only.
	if j < len(ws) && contains(centWords, ws[j]) {
		if whole >= 100 {
			return 0, j + 1 - i, ErrAmountForm
		}
		return ledger.Amount(whole), j + 1 - i, nil
	}
	unit := false
	if j < len(ws) && contains(currencyWords, ws[j]) {
		unit = true
		j++
	}
	// The cents: "and fifty cents", "con cincuenta", "y cincuenta
	// centavos", "and a half", or a bare second number ("twenty-five
	// fifty", "twenty dollars fifty").
	k := j
	joined, loose := false, false
	if k < len(ws) && (ws[k] == "and" || ws[k] == "con" || ws[k] == "y") {
		// "con" joins cents in Spanish ("veinte con cincuenta"); "and"
		// and "y" only with a unit or cents named ("twenty dollars and
		// fifty cents"), else "twenty and fifty" is not sure.
		loose = ws[k] != "con" && !unit
		k++
		joined = true
	}
	switch {
	case k+1 < len(ws) && ws[k] == "a" && ws[k+1] == "half", k < len(ws) && joined && ws[k] == "medio":
		cents = 50
		if ws[k] == "a" {
			k++
		}
		j = k + 1
	default:
		c, m, cbig := wordNumber(ws, k)
		if m == 0 || cbig || c >= 100 {
			if joined && m > 0 {
				return 0, k + m - i, ErrAmountForm
			}
			break
		}
		named := k+m < len(ws) && contains(centWords, ws[k+m])
		if loose && !named {
			return 0, k + m - i, ErrAmountAmbiguous
		}
		if !joined && !unit && !named {
			// A bare pair: "twenty-five fifty" reads 25.50, but "five
			// fifty" may be 5.50 or 550.00, and "twenty five" was read
			// whole already.
			if c < 10 {
				break
			}
			if whole < 10 || big {
				return 0, k + m - i, ErrAmountAmbiguous
			}
		}
		if c < 10 && !named && !joined {
			break // "twenty dollars five": not cents
		}
		cents = c
		j = k + m
		if named {
			j++
		}
	}
	if whole > int64(MaxChatAmount)/100+1 {
		return 0, j - i, ErrAmountLarge
	}
	v := ledger.Amount(whole*100 + cents)
	if v > MaxChatAmount {
		return 0, j - i, ErrAmountLarge
	}
	if v <= 0 {
		return 0, j - i, ErrAmountNegative
	}
	return v, j - i, nil
}

// decimal writes cents as the plain decimal an Intent carries: "20.50".
func decimal(v ledger.Amount) string {
	s := strconv.FormatInt(int64(v/100), 10)
	if c := v % 100; c != 0 {
		s += "." + strconv.FormatInt(int64(c/10), 10) + strconv.FormatInt(int64(c%10), 10)
	}
	return s
}

// ParseAmount reads an amount as people write it in a chat, in English or
// Spanish: digits with or without a currency sign and thousands
// separators ("$1,250.50", "20usd"), or words ("twenty-five fifty", "a
// hundred bucks", "veinte con cincuenta"). It returns minor units of a
// two-decimal currency, or the error that asks the customer back
// (ErrAmountForm, ErrAmountNegative, ErrAmountAmbiguous, ErrAmountHalf,
// ErrAmountLarge, ErrAmountMany). Text that holds no amount is ErrAmountForm.
func ParseAmount(text string) (ledger.Amount, error) {
	ws := tokens(text)
	var got ledger.Amount
	var found int
	for i := 0; i < len(ws); i++ {
		if s, isAmt, err := amountToken(ws[i]); isAmt {
			found++
			if err != nil {
				return 0, err
			}
			v, _ := ledger.ParseAmount(s, "USD")
			got = v
			continue
		}
		if contains(currencyWords, ws[i]) {
			continue
		}
		v, n, err := wordAmount(ws, i)
		if n == 0 {
			return 0, ErrAmountForm
		}
		if err != nil {
			return 0, err
		}
		found++
		got = v
		i += n - 1
	}
	switch {
	case found == 0:
		return 0, ErrAmountForm
	case found > 1:
		return 0, ErrAmountMany
	}
	return got, nil
}
