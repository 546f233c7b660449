package assistant_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/ledger"
)

// now is a Wednesday.
var now = time.Date(2026, 3, 18, 15, 4, 5, 0, time.UTC)

// ignoreDerived leaves out what other tests check: the language a message
// reads as, the merchant categories of a category and the amount in cents.
var ignoreDerived = cmpopts.IgnoreFields(assistant.Intent{}, "Lang", "Categories", "Cents")

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// kindOf lists phrasings per intent: each must parse to exactly that kind.
var kindOf = map[assistant.IntentKind][]string{
	assistant.Greeting: {"hi", "Hi!", "hello", "Hello there", "hey", "hiya", "good morning", "Good evening!", "howdy", "yo", "get started", "hola"},
	assistant.Help:     {"help", "HELP", "help me", "menu", "options", "what can you do?", "What can you do", "how does this work", "?", "hlep me", "commands"},
	assistant.Thanks:   {"thanks", "thank you", "Thank you!", "thx", "ty", "cheers", "great, thanks"},
	assistant.Balance: {"balance", "Balance?", "my balance", "what's my balance", "whats my balance", "What’s my balance?", "balances", "bal",
		"how much do i have", "how much money do I have", "how much is in savings", "savings balance", "checking balance", "balance checking",
		"card balance", "what do i owe", "available credit", "balnce", "blance", "ballance", "balence please", "account balance", "funds",
		"show my balance", "balance of my savings account", "what's in my checking", "how much money is left"},
	assistant.Transactions: {"transactions", "recent transactions", "show transactions", "transaction history", "history", "recent activity",
		"activity", "txns", "last payments", "what did i buy", "recent", "my purchases", "recent charges", "transactons", "tranactions",
		"statement", "where did my money go", "recent card activity", "savings history"},
	assistant.Spending: {"how much did I spend on groceries last month", "how much did i spend on coffee this week", "coffee this week",
		"groceries last month", "spending on uber", "how much have i spent on restaurants this month", "what did I spend at starbucks",
		"spent on gas last week", "how much did i spend today", "how much did I spend yesterday", "grocieres last month", "coffe this week",
		"how much did i spend in total this year", "spending last month", "eating out this month", "how much on takeout last week",
		"how much did i spend on dining out last month"},
	assistant.Pay: {"pay sam 20", "Pay Sam 20", "pay sam $20", "send $20.50 to mom", "send mom 20", "pay 20 to sam", "pay my landlord 900", "pay book club 15", "send 20 dollars to sam", "pay sam 20 bucks", "pay sam 20 for dinner", "give sam 5",
		"pay sam", "pay 20", "pay", "send money to mom", "pay sam -5", "pay sam 1e9", "pay sam 20,000.5.5", "pay sam 20 30",
		"pay sam 1,000", "pay sam $1,234.56", "pay sam 20.5", "pay sam 0", "pay sam 20usd", "pay sam usd20", "pay sam 1k", "sned sam 20",
		"trasnfer 20 to mom", "pay sam 20.555", "pay sam 20,50"},
	assistant.Confirm:      {"yes", "Yes", "y", "YES!", "yep", "yeah", "confirm", "ok", "okay", "sure", "do it", "go ahead", "yes please", "send it"},
	assistant.Cancel:       {"no", "No.", "n", "nope", "cancel", "stop", "never mind", "nevermind", "no thanks", "don't pay", "abort"},
	assistant.FreezeCard:   {"freeze my card", "freeze card", "Freeze", "lock my card", "block card 1234", "I lost my card", "my card was stolen", "freez my card", "turn off my card"},
	assistant.UnfreezeCard: {"unfreeze my card", "unfreeze", "unlock card", "unblock card 1234", "unfreze card", "turn on my card", "reactivate my card"},
	assistant.Alerts:       {"alerts", "alert settings", "turn off alerts", "alerts on", "notifications off", "notify me", "disable alerts", "alrts please"},
	assistant.Privacy:      {"privacy", "privacy full", "privacy minimal", "privacy off", "privacy settings", "set privacy to full", "show amounts", "hide amounts", "privcy"},
	assistant.Human:        {"talk to a person", "human", "agent", "I want to speak to someone", "representative", "customer service", "real person please", "talk to someone", "operator", "speak with an advisor"},
	assistant.LinkAccount:  {"link", "link my account", "connect", "log in", "login", "sign in", "connect my bank"},
	assistant.UnlinkAccount: {"unlink", "unlink my account", "disconnect", "log out", "logout", "remove my account", "Unlink!",
		"unlnk"},
	assistant.Unknown: {"", "   ", "asdfgh", "what is the weather", "tell me a joke", "🙂", "blah blah", "42", "the", "pya sam 20",
		"sam 20", "20 to sam", "i like turtles", strings.Repeat("a", 2001)},
}

func TestParseKinds(t *testing.T) {
	t.Parallel()
	n := 0
	for want, phrases := range kindOf {
		for _, p := range phrases {
			n++
			t.Run(fmt.Sprintf("%s/%.30q", want, p), func(t *testing.T) {
				t.Parallel()
				if got := assistant.Parse(p, now); got.Kind != want {
					t.Errorf("Parse(%q).Kind = %s, want %s (%+v)", p, got.Kind, want, got)
				}
			})
		}
	}
	if n < 200 {
		t.Errorf("only %d phrasings; keep at least 200", n)
	}
}

// TestParsePay checks payee, amount and memo, and that bad amounts are
// refused with a reason rather than read.
func TestParsePay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		payee  string
		amount string
		memo   string
		err    error
	}{
		{"pay sam 20", "sam", "20", "", nil},
		{"pay Sam 20.00", "sam", "20.00", "", nil},
		{"send $20.50 to mom", "mom", "20.50", "", nil},
		{"send mom $20.50", "mom", "20.50", "", nil},
		{"pay 20 to sam", "sam", "20", "", nil},
		{"pay my landlord 900", "landlord", "900", "", nil},
		{"pay book club 15", "book club", "15", "", nil},
		{"send 20 dollars to sam", "sam", "20", "", nil},
		{"pay sam 20 bucks", "sam", "20", "", nil},
		{"pay sam 20 for dinner", "sam", "20", "dinner", nil},
		{"pay sam $20 for dinner and drinks", "sam", "20", "dinner and drinks", nil},
		{"pay sam 20 dinner", "sam", "20", "dinner", nil},
		{"pay sam 1,000", "sam", "1000", "", nil},
		{"pay sam $1,234.56", "sam", "1234.56", "", nil},
		{"pay sam 20.5", "sam", "20.5", "", nil},
		{"pay sam 20usd", "sam", "20", "", nil},
		{"pay sam usd20", "sam", "20", "", nil},
		{"pay sam US$20", "sam", "20", "", nil},
		{"Pay Sam 20.", "sam", "20", "", nil},
		{"pay sam 20!", "sam", "20", "", nil},
		{"pay sam 20 please", "sam", "20", "", nil},
		{"pay sam", "sam", "", "", nil},
		{"pay 20", "", "20", "", nil},
		{"sned sam 20", "sam", "20", "", nil},
		{"pay sam -5", "sam", "", "", assistant.ErrAmountNegative},
		{"pay sam −5", "sam", "", "", assistant.ErrAmountNegative},
		{"pay sam $-5", "sam", "", "", assistant.ErrAmountNegative},
		{"pay sam 0", "sam", "", "", assistant.ErrAmountNegative},
		{"pay sam 0.00", "sam", "", "", assistant.ErrAmountNegative},
		{"pay sam 1e9", "sam", "", "", assistant.ErrAmountForm},
		{"pay sam 20,000.5.5", "sam", "", "", assistant.ErrAmountForm},
		{"pay sam 20.555", "sam", "", "", assistant.ErrAmountForm},
		{"pay sam 20,50", "sam", "", "", assistant.ErrAmountForm},
		{"pay sam 1k", "sam", "", "", assistant.ErrAmountForm},
		{"pay sam 20 30", "sam", "", "", assistant.ErrAmountMany},
		{"pay sam 99999999999999999999", "sam", "", "", assistant.ErrAmountForm},
		{"pay sam 0x10", "sam", "", "", assistant.ErrAmountForm},
		{"pay sam .5", "sam", "", "", assistant.ErrAmountForm},
		{"pay sam 5..0", "sam", "", "", assistant.ErrAmountForm},
		{"pay sam 1,00", "sam", "", "", assistant.ErrAmountForm},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got := assistant.Parse(tt.in, now)
			if got.Kind != assistant.Pay {
				t.Fatalf("Parse(%q).Kind = %s, want pay", tt.in, got.Kind)
			}
			if got.Payee != tt.payee || got.Amount != tt.amount || got.Memo != tt.memo {
				t.Errorf("Parse(%q) = payee %q amount %q memo %q; want %q %q %q", tt.in, got.Payee, got.Amount, got.Memo, tt.payee, tt.amount, tt.memo)
			}
			switch {
			case tt.err == nil && got.AmountErr != nil:
				t.Errorf("unexpected amount error %v", got.AmountErr)
			case tt.err != nil && !errors.Is(got.AmountErr, tt.err):
				t.Errorf("amount error %v, want %v", got.AmountErr, tt.err)
			}
			if got.AmountErr != nil && got.Amount != "" {
				t.Errorf("an amount with an error must be empty, got %q", got.Amount)
			}
		})
	}
}

// TestParseAmountForms crosses payees, amount forms and word orders: every
// good amount reads to the same minor units the ledger would book.
func TestParseAmountForms(t *testing.T) {
	t.Parallel()
	forms := map[string]ledger.Amount{"20": 2000, "$20": 2000, "20.00": 2000, "$20.00": 2000, "20.5": 2050, "20.50": 2050,
		"$20.50": 2050, "1,000": 100000, "$1,000.00": 100000, "0.01": 1, "20usd": 2000, "usd20": 2000, "20dollars": 2000, "7": 700}
	payees := []string{"sam", "mom", "landlord", "book club"}
	orders := []func(p, a string) string{
		func(p, a string) string { return "pay " + p + " " + a },
		func(p, a string) string { return "send " + a + " to " + p },
		func(p, a string) string { return "pay " + a + " to " + p },
		func(p, a string) string { return "transfer " + a + " to " + p + " for lunch" },
		func(p, a string) string { return "Send " + strings.ToUpper(p) + " " + a + " please" },
	}
	n := 0
	for form, want := range forms {
		for _, p := range payees {
			for _, order := range orders {
				n++
				text := order(p, form)
				got := assistant.Parse(text, now)
				if got.Kind != assistant.Pay || got.AmountErr != nil || got.Payee != p {
					t.Errorf("Parse(%q) = %+v; want pay to %q", text, got, p)
					continue
				}
				amt, err := ledger.ParseAmount(got.Amount, "USD")
				if err != nil || amt != want {
					t.Errorf("Parse(%q).Amount = %q -> %d, %v; want %d", text, got.Amount, amt, err, want)
				}
			}
		}
	}
	if n < 200 {
		t.Errorf("only %d combinations", n)
	}
}

func TestParseSpending(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want assistant.Intent
	}{
		{"how much did I spend on groceries last month", assistant.Intent{Kind: assistant.Spending, Category: "groceries",
			Period: assistant.Period{Name: "last month", From: day(2026, 2, 1), To: day(2026, 3, 1)}}},
		{"coffee this week", assistant.Intent{Kind: assistant.Spending, Category: "coffee",
			Period: assistant.Period{Name: "this week", From: day(2026, 3, 16), To: day(2026, 3, 19)}}},
		{"how much did i spend on uber last week", assistant.Intent{Kind: assistant.Spending, Category: "rideshare",
			Period: assistant.Period{Name: "last week", From: day(2026, 3, 9), To: day(2026, 3, 16)}}},
		{"what did I spend at starbucks", assistant.Intent{Kind: assistant.Spending, Search: "starbucks",
			Period: assistant.Period{Name: "this month", From: day(2026, 3, 1), To: day(2026, 3, 19)}}},
		{"how much did i spend today", assistant.Intent{Kind: assistant.Spending,
			Period: assistant.Period{Name: "today", From: day(2026, 3, 18), To: day(2026, 3, 19)}}},
		{"spent on gas yesterday", assistant.Intent{Kind: assistant.Spending, Category: "fuel",
			Period: assistant.Period{Name: "yesterday", From: day(2026, 3, 17), To: day(2026, 3, 18)}}},
		{"grocieres last year", assistant.Intent{Kind: assistant.Spending, Category: "groceries",
			Period: assistant.Period{Name: "last year", From: day(2025, 1, 1), To: day(2026, 1, 1)}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if d := cmp.Diff(tt.want, assistant.Parse(tt.in, now), cmpopts.EquateErrors(), ignoreDerived); d != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tt.in, d)
			}
		})
	}
}

func TestParseHints(t *testing.T) {
	t.Parallel()
	tests := map[string]assistant.Intent{
		"savings balance":         {Kind: assistant.Balance, Account: assistant.SavingsHint},
		"balance on my card":      {Kind: assistant.Balance, Account: assistant.CardHint},
		"checking balance":        {Kind: assistant.Balance, Account: assistant.CheckingHint},
		"freeze card 1234":        {Kind: assistant.FreezeCard, Last4: "1234"},
		"unfreeze card ••9876":    {Kind: assistant.UnfreezeCard, Last4: "9876"},
		"privacy full":            {Kind: assistant.Privacy, Setting: "full"},
		"set privacy to off":      {Kind: assistant.Privacy, Setting: "off"},
		"privacy minimum":         {Kind: assistant.Privacy, Setting: "minimal"},
		"turn off alerts":         {Kind: assistant.Alerts, Setting: "off"},
		"enable notifications":    {Kind: assistant.Alerts, Setting: "on"},
		"alerts":                  {Kind: assistant.Alerts},
		"recent savings activity": {Kind: assistant.Transactions, Account: assistant.SavingsHint},
	}
	for in, want := range tests {
		if d := cmp.Diff(want, assistant.Parse(in, now), ignoreDerived); d != "" {
			t.Errorf("Parse(%q) (-want +got):\n%s", in, d)
		}
	}
}

func TestParsePayload(t *testing.T) {
	t.Parallel()
	tests := map[string]assistant.Intent{
		"CONFIRM:abc":         {Kind: assistant.Confirm, Ref: "abc"},
		"CANCEL:abc":          {Kind: assistant.Cancel, Ref: "abc"},
		"INTENT:balance":      {Kind: assistant.Balance},
		"INTENT:privacy_full": {Kind: assistant.Privacy, Setting: "full"},
		"INTENT:pay_sam_20":   {Kind: assistant.Unknown}, // a button never moves money by itself
		"GET_STARTED":         {Kind: assistant.Greeting},
		"SOMETHING_ELSE":      {Kind: assistant.Unknown},
		"":                    {Kind: assistant.Unknown},
	}
	for in, want := range tests {
		if d := cmp.Diff(want, assistant.ParsePayload(in, now)); d != "" {
			t.Errorf("ParsePayload(%q) (-want +got):\n%s", in, d)
		}
	}
}

// FuzzParse feeds chat text of any shape: Parse never panics, and whenever
// it reads a payment, the amount is one the ledger accepts and positive, or
// there is no amount at all.
func FuzzParse(f *testing.F) {
	for _, ps := range kindOf {
		for _, p := range ps {
			f.Add(p)
		}
	}
	f.Add("pay sam 20,000.5.5")
	f.Add("pay \x00 1e9")
	f.Add("send $$20 to \u202emom")
	f.Fuzz(func(t *testing.T, s string) {
		in := assistant.Parse(s, now)
		if in.Kind == assistant.Pay {
			if in.Amount != "" {
				if in.AmountErr != nil {
					t.Fatalf("amount %q with error %v", in.Amount, in.AmountErr)
				}
				a, err := ledger.ParseAmount(in.Amount, "USD")
				if err != nil || a <= 0 {
					t.Fatalf("Parse(%q) gave amount %q the ledger refuses: %v", s, in.Amount, err)
				}
			}
			if !utf8.ValidString(in.Payee) && utf8.ValidString(s) {
				t.Fatalf("payee %q not valid UTF-8", in.Payee)
			}
		}
		_ = assistant.ParsePayload(s, now)
	})
}
