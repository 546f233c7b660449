package assistant_test

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/ledger"
)

// corpusGoal is the share of each corpus the parser must understand
// (intent and every slot named), in percent: the goal of issue 18 is 95;
// the figures are what it reaches today (99.8% and 100% on 413 and 372
// phrasings), so that it cannot regress. The holdout files were written
// after the parser was tuned on the corpus and first measured at 77.0% in
// each language: that, not the corpus's share, is the figure to expect of
// phrasings nobody has tried yet. They were fixed after that measurement,
// so they now guard what they taught.
var corpusGoal = map[string]float64{"corpus_en.tsv": 99.5, "corpus_es.tsv": 99.5, "holdout_en.tsv": 99, "holdout_es.tsv": 99}

// TestCorpus reads the phrasings customers write, in English and Spanish,
// with typos, slang and both languages mixed, and checks the intent and
// the slots (amount, payee, account, period, ...) of each. It reports the
// share understood and lists the rest; below the goal it fails.
func TestCorpus(t *testing.T) {
	t.Parallel()
	for file, goal := range corpusGoal {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			f, err := os.Open("testdata/" + file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			total, ok := 0, 0
			var misses []string
			sc := bufio.NewScanner(f)
			for n := 1; sc.Scan(); n++ {
				line := sc.Text()
				if line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				parts := strings.Split(line, "\t")
				if len(parts) < 2 {
					t.Fatalf("%s:%d: want text<TAB>intent[<TAB>slots]", file, n)
				}
				total++
				got := assistant.Parse(parts[0], now)
				slots := ""
				if len(parts) > 2 {
					slots = parts[2]
				}
				if why := corpusCheck(t, got, assistant.IntentKind(parts[1]), slots); why != "" {
					misses = append(misses, fmt.Sprintf("%s:%d %q: %s", file, n, parts[0], why))
					continue
				}
				ok++
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			if total < 300 && !strings.HasPrefix(file, "holdout") {
				t.Errorf("%s has %d phrasings; keep at least 300", file, total)
			}
			share := 100 * float64(ok) / float64(total)
			t.Logf("%s: understood %d of %d (%.1f%%)", file, ok, total, share)
			for _, m := range misses {
				t.Logf("not understood: %s", m)
			}
			if share < goal {
				t.Errorf("%s: %.1f%% understood, below the goal of %.0f%%", file, share, goal)
			}
		})
	}
}

// corpusCheck says what differs between got and the expectation, "" when
// nothing does.
func corpusCheck(t *testing.T, got assistant.Intent, kind assistant.IntentKind, slots string) string {
	if got.Kind != kind {
		return fmt.Sprintf("intent %s, want %s", got.Kind, kind)
	}
	for _, kv := range strings.Split(slots, ";") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		var have string
		switch k {
		case "amount":
			switch {
			case v == "error":
				if got.AmountErr == nil {
					return fmt.Sprintf("amount %q read, want it refused", got.Amount)
				}
				continue
			case got.AmountErr != nil:
				return fmt.Sprintf("amount refused (%v), want %s", got.AmountErr, v)
			}
			want, err := ledger.ParseAmount(v, "USD")
			if err != nil {
				t.Fatalf("bad amount %q in the corpus", v)
			}
			if a, err := ledger.ParseAmount(got.Amount, "USD"); err != nil || a != want || got.Cents != want {
				return fmt.Sprintf("amount %q (%d cents), want %s", got.Amount, got.Cents, v)
			}
			continue
		case "payee":
			have = got.Payee
		case "memo":
			have = got.Memo
		case "account":
			have = string(got.Account)
		case "to":
			have = ref(got.To)
		case "from":
			have = ref(got.From)
		case "period":
			have = got.Period.Name // as replies name it: "the past 30 days"
		case "category":
			have = got.Category
		case "search":
			have = got.Search
		case "last4":
			have = got.Last4
		case "reason":
			have = got.Reason
		case "setting":
			have = got.Setting
		default:
			t.Fatalf("unknown slot %q in the corpus", k)
		}
		if fold(have) != fold(v) {
			return fmt.Sprintf("%s %q, want %q", k, have, v)
		}
	}
	return ""
}

func ref(r assistant.AccountRef) string {
	switch {
	case r.Last4 != "":
		return "x" + r.Last4
	case r.Hint != "":
		return string(r.Hint)
	}
	return r.Name
}

// fold compares as the parser reads: case and accents aside.
var foldReplacer = strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ñ", "n", "ü", "u")

func fold(s string) string { return foldReplacer.Replace(strings.ToLower(s)) }
