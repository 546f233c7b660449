package dataapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/dataapi"
	"github.com/bankbridge/bankbridge/dataapi/dataapitest"
	"github.com/bankbridge/bankbridge/dataapi/records"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/oauth"
)

const P = dataapi.Prefix

// accountID finds the partner's id for an account through GET /accounts.
func (b *bank) accountID(tok string, name string) string {
	b.t.Helper()
	res := b.call(b.budget, tok, "GET", P+"/accounts", nil, nil)
	for _, a := range decode[dataapi.Accounts](b.t, res).Accounts {
		if a.ProductName == name {
			return a.AccountID
		}
	}
	b.t.Fatalf("no account %q in %s", name, res.Body)
	return ""
}

func TestEndpointsAnswerWithinTheConsent(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	ctx := context.Background()
	tok, grant := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID, b.ada.savings.ID}, allClusters())
	for i := range 3 {
		if _, _, err := b.ledger.Transfer(ctx, ledger.Move("test", fmt.Sprint("t", i), b.ada.checking.ID, b.ada.savings.ID, 1000, "USD", "to savings")); err != nil {
			t.Fatal(err)
		}
	}
	chk := b.accountID(tok, b.ada.checking.Name)

	res := b.call(b.budget, tok, "GET", P+"/accounts", nil, map[string]string{"x-fapi-interaction-id": "c2b3a0e4-1111-4222-8333-444455556666"})
	if got := res.Header.Get("x-fapi-interaction-id"); got != "c2b3a0e4-1111-4222-8333-444455556666" {
		t.Errorf("interaction id echoed as %q", got)
	}
	as := decode[dataapi.Accounts](t, res).Accounts
	if len(as) != 2 {
		t.Fatalf("%d accounts, want the 2 consented", len(as))
	}
	if res := b.call(b.budget, tok, "GET", P+"/accounts", nil, nil); res.Header.Get("x-fapi-interaction-id") == "" {
		t.Error("no interaction id generated")
	}

	bal := decode[dataapi.Balances](t, b.call(b.budget, tok, "GET", P+"/accounts/"+chk+"/balances", nil, nil))
	if bal.CurrentBalance != "4970.00" || *bal.AvailableBalance != "4970.00" || bal.Currency.CurrencyCode != "USD" {
		t.Errorf("balances = %+v", bal)
	}
	acct := decode[dataapi.Account](t, b.call(b.budget, tok, "GET", P+"/accounts/"+chk, nil, nil))
	if acct.AccountType != "CHECKING" || acct.Status != "OPEN" || acct.AccountNumberDisplay != "••••0000" || acct.OverdraftLimit == nil {
		t.Errorf("account = %+v", acct)
	}
	txs := decode[dataapi.Transactions](t, b.call(b.budget, tok, "GET", P+"/accounts/"+chk+"/transactions", nil, nil))
	if len(txs.Transactions) != 4 || txs.Transactions[0].DebitCreditMemo != "DEBIT" || txs.Transactions[0].Amount != "10.00" || txs.Transactions[3].DebitCreditMemo != "CREDIT" {
		t.Errorf("transactions = %+v", txs.Transactions)
	}
	nets := decode[dataapi.PaymentNetworks](t, b.call(b.budget, tok, "GET", P+"/accounts/"+chk+"/payment-networks", nil, nil))
	if len(nets.PaymentNetworks) != 1 || nets.PaymentNetworks[0].Identifier != string(b.ada.checking.Number) || nets.PaymentNetworks[0].BankID != "011000015" {
		t.Errorf("payment networks = %+v", nets)
	}
	b.call(b.budget, tok, "GET", P+"/accounts/"+chk+"/statements", nil, nil) // the account opened this month: none yet, still valid
	cust := decode[dataapi.Customer](t, b.call(b.budget, tok, "GET", P+"/customers/current", nil, nil))
	if cust.Name == nil || cust.Name.Last != "Lovelace" || cust.BirthYear != 1985 || len(cust.Email) != 1 || cust.CustomerID == "" {
		t.Errorf("customer = %+v", cust)
	}
	cg := decode[dataapi.ConsentGrant](t, b.call(b.budget, tok, "GET", P+"/consents/"+grant, nil, nil))
	if cg.Status != "ACTIVE" || len(cg.Resources) != 2 || (cg.Resources[0].ResourceID != chk && cg.Resources[1].ResourceID != chk) {
		t.Errorf("consent = %+v", cg)
	}
	payees := decode[dataapi.Payees](t, b.call(b.budget, tok, "GET", P+"/payees", nil, nil))
	if len(payees.Payees) != 1 || payees.Payees[0].Name != "Bob" {
		t.Errorf("payees = %+v", payees)
	}
	// Public: the document and its page.
	for _, path := range []string{"/openapi.json", "/docs/api"} {
		res, err := http.Get(b.srv.URL + path)
		if err != nil {
			t.Errorf("GET %s: %v", path, err)
			continue
		}
		res.Body.Close() // an unread, unclosed body keeps its connection (and two goroutines) busy
		if res.StatusCode != 200 {
			t.Errorf("GET %s: %v", path, res.Status)
		}
	}
}

func TestStatementsForPastMonths(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	tok, _ := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID}, allClusters())
	chk := b.accountID(tok, b.ada.checking.Name)
	if _, _, err := b.ledger.Transfer(context.Background(), ledger.Move("t", "s1", b.ada.checking.ID, b.ada.savings.ID, 2500, "USD", "rent")); err != nil {
		t.Fatal(err)
	}
	b.clock.Add(40 * 24 * time.Hour) // a month later: last month has a statement
	tok, _ = b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID}, allClusters())
	list := decode[dataapi.Statements](t, b.call(b.budget, tok, "GET", P+"/accounts/"+chk+"/statements", nil, nil))
	if len(list.Statements) == 0 {
		t.Fatal("no statements a month later")
	}
	var found *dataapi.StatementDocument
	for _, s := range list.Statements {
		d := decode[dataapi.StatementDocument](t, b.call(b.budget, tok, "GET", P+"/accounts/"+chk+"/statements/"+s.StatementID, nil, nil))
		if d.TransactionCount > 0 {
			found = &d
		}
	}
	if found == nil || found.ClosingBalance != "4975.00" || found.TotalDebits != "25.00" || found.OpeningBalance != "0.00" {
		t.Errorf("statement = %+v", found)
	}
}

func TestFieldsFollowTheClusters(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	tok, _ := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID}, []consent.Cluster{consent.Balances})
	// Without ACCOUNT_BASIC there is no descriptor to list (FDX 6.4's
	// Accounts holds at least one) nor an account detail; the partner knows
	// the account by the token's resourceId, and reads its balances.
	id := tokenAccounts(t, b.budget)[0]
	for _, path := range []string{"/accounts", "/accounts/" + id, "/customers/current", "/accounts/" + id + "/transactions",
		"/accounts/" + id + "/payment-networks", "/accounts/" + id + "/contact", "/payees"} {
		if res := b.call(b.budget, tok, "GET", P+path, nil, nil); res.Status != 404 {
			t.Errorf("GET %s outside the clusters: %d %s", path, res.Status, res.Body)
		}
	}
	bal := decode[dataapi.Balances](t, b.call(b.budget, tok, "GET", P+"/accounts/"+id+"/balances", nil, nil))
	if bal.CurrentBalance == "" {
		t.Errorf("balances = %+v", bal)
	}
	// ACCOUNT_BASIC alone: the descriptor, with no balance and no detail.
	tok, _ = b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID}, []consent.Cluster{consent.AccountBasic})
	res := b.call(b.budget, tok, "GET", P+"/accounts", nil, nil)
	as := decode[dataapi.Accounts](t, res).Accounts
	if len(as) != 1 || as[0].CurrentBalance != nil || as[0].ProductName == "" || as[0].Status != "OPEN" || as[0].AccountOpenDate != "" || as[0].OverdraftLimit != nil {
		t.Errorf("an ACCOUNT_BASIC-only consent shows %s", res.Body)
	}
	if res := b.call(b.budget, tok, "GET", P+"/accounts/"+as[0].AccountID, nil, nil); res.Status != 404 {
		t.Errorf("account detail without BALANCES: %d %s", res.Status, res.Body)
	}
}

// tokenAccounts lists the accounts of the partner's last token response,
// by their resourceId.
func tokenAccounts(t *testing.T, p *dataapitest.Partner) []string {
	t.Helper()
	raw, _ := json.Marshal(p.Token()["authorization_details"])
	var ds []oauth.AuthorizationDetail
	if err := json.Unmarshal(raw, &ds); err != nil || len(ds) != 1 {
		t.Fatalf("authorization_details = %s (%v)", raw, err)
	}
	var ids []string
	for _, r := range ds[0].ConsentRequest.Resources {
		ids = append(ids, r.ResourceID)
	}
	return ids
}

func TestTransactionsPageByKey(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	ctx := context.Background()
	for i := range 230 {
		if _, _, err := b.ledger.Transfer(ctx, ledger.Move("test", fmt.Sprint("p", i), b.ada.checking.ID, b.ada.savings.ID, 1, "USD", "x")); err != nil {
			t.Fatal(err)
		}
	}
	tok, _ := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID, b.ada.savings.ID}, allClusters())
	chk, sav := b.accountID(tok, b.ada.checking.Name), b.accountID(tok, b.ada.savings.Name)
	seen := map[string]bool{}
	key, pages := "", 0
	for {
		path := P + "/accounts/" + chk + "/transactions?limit=100"
		if key != "" {
			path += "&pageKey=" + key
		}
		page := decode[dataapi.Transactions](t, b.call(b.budget, tok, "GET", path, nil, nil))
		pages++
		for _, tx := range page.Transactions {
			if seen[tx.TransactionID] {
				t.Fatalf("transaction %s twice", tx.TransactionID)
			}
			seen[tx.TransactionID] = true
		}
		if key = page.Page.NextPageKey; key == "" {
			break
		}
		// The key belongs to this account and this partner only.
		if res := b.call(b.budget, tok, "GET", P+"/accounts/"+sav+"/transactions?pageKey="+key, nil, nil); res.Status != 400 || !strings.Contains(string(res.Body), "page_key_invalid") {
			t.Errorf("another account's page key: %d %s", res.Status, res.Body)
		}
	}
	if len(seen) != 231 || pages != 3 {
		t.Errorf("%d transactions in %d pages, want 231 in 3", len(seen), pages)
	}
}

func TestBadInputIsRefusedWithAStableCode(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	tok, _ := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID, b.ada.savings.ID}, allClusters())
	chk, sav := b.accountID(tok, b.ada.checking.Name), b.accountID(tok, b.ada.savings.Name)
	tx := P + "/accounts/" + chk + "/transactions"
	// A page key of the account list (a consent with three accounts, one a
	// page), which must not open another list.
	tok3, _ := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID, b.ada.savings.ID, b.ada.card.ID}, allClusters())
	accountsKey := decode[dataapi.Accounts](t, b.call(b.budget, tok3, "GET", P+"/accounts?limit=1", nil, nil)).Page.NextPageKey
	// Statement ids that exist but are not this consent's to read: the
	// card's (an account outside the consent) and one from before the
	// look-back, both for last month and two years ago.
	otherStatement := dataapi.StatementIDForTest(b.api, "budget-app", b.ada.card.ID, time.Now().AddDate(0, -1, 0))
	oldStatement := dataapi.StatementIDForTest(b.api, "budget-app", b.ada.checking.ID, time.Now().AddDate(-3, 0, 0))
	pay := func(body string) map[string]string {
		return map[string]string{"Idempotency-Key": "k-" + fmt.Sprint(len(body))}
	}
	long := strings.Repeat("a", 3000)
	cases := []struct {
		name, method, path string
		body               any
		header             map[string]string
		status             int
		code               string
	}{
		{"LimitNotANumber", "GET", tx + "?limit=abc", nil, nil, 400, "invalid_parameter"},
		{"LimitZero", "GET", tx + "?limit=0", nil, nil, 400, "invalid_parameter"},
		{"LimitTooLarge", "GET", tx + "?limit=501", nil, nil, 400, "invalid_parameter"},
		{"LimitFractional", "GET", tx + "?limit=1.5", nil, nil, 400, "invalid_parameter"},
		{"UnknownParameter", "GET", tx + "?fromDate=2026-01-01", nil, nil, 400, "invalid_parameter"},
		{"ForgedOffset", "GET", tx + "?offset=3", nil, nil, 400, "page_key_invalid"},
		{"OffsetAndPageKey", "GET", tx + "?offset=3&pageKey=3", nil, nil, 400, "invalid_parameter"},
		{"StartDateWithoutEndDate", "GET", tx + "?startDate=2026-03-01", nil, nil, 400, "time_range_invalid"},
		{"StartDateNotADate", "GET", tx + "?startDate=2026-03-01T00:00:00Z&endDate=2026-03-02", nil, nil, 400, "invalid_parameter"},
		{"StartDateAfterEndDate", "GET", tx + "?startDate=2026-03-02&endDate=2026-03-01", nil, nil, 400, "time_range_invalid"},
		{"DatesAndTimes", "GET", tx + "?startDate=2026-03-01&endDate=2026-03-02&startTime=2026-03-01", nil, nil, 400, "invalid_parameter"},
		{"AccountsLimitZero", "GET", P + "/accounts?limit=0", nil, nil, 400, "invalid_parameter"},
		{"AccountsForgedPageKey", "GET", P + "/accounts?pageKey=" + base64.RawURLEncoding.EncodeToString(make([]byte, 36)), nil, nil, 400, "page_key_invalid"},
		{"AnotherListsPageKey", "GET", P + "/accounts/" + chk + "/statements?pageKey=" + accountsKey, nil, nil, 400, "page_key_invalid"},
		{"PaymentNetworksLimitHuge", "GET", P + "/accounts/" + chk + "/payment-networks?limit=99999", nil, nil, 400, "invalid_parameter"},
		{"StatementsBadEndTime", "GET", P + "/accounts/" + chk + "/statements?endTime=soon", nil, nil, 400, "invalid_parameter"},
		{"PDFOfAnotherAccountsStatement", "GET", P + "/accounts/" + chk + "/statements/" + otherStatement, nil, map[string]string{"Accept": "application/pdf"}, 404, "not_found"},
		{"PDFBeforeTheLookback", "GET", P + "/accounts/" + chk + "/statements/" + oldStatement, nil, map[string]string{"Accept": "application/pdf"}, 404, "not_found"},
		{"RepeatedParameter", "GET", tx + "?limit=1&limit=2", nil, nil, 400, "invalid_parameter"},
		{"HugeQuery", "GET", tx + "?pageKey=" + long, nil, nil, 400, "invalid_parameter"},
		{"MalformedQuery", "GET", tx + "?limit=%zz", nil, nil, 400, "invalid_parameter"},
		{"BadDate", "GET", tx + "?startTime=yesterday", nil, nil, 400, "invalid_parameter"},
		{"BackwardsRange", "GET", tx + "?startTime=2026-03-02&endTime=2026-03-01", nil, nil, 400, "time_range_invalid"},
		{"BeforeLookback", "GET", tx + "?startTime=1970-01-01", nil, nil, 400, "time_range_invalid"},
		{"YearZero", "GET", tx + "?startTime=0001-01-01", nil, nil, 400, "invalid_parameter"},
		{"ForgedPageKey", "GET", tx + "?pageKey=" + base64.RawURLEncoding.EncodeToString(make([]byte, 60)), nil, nil, 400, "page_key_invalid"},
		{"NoIdempotencyKey", "POST", P + "/payments", `{"fromAccountId":"` + chk + `","toAccountId":"` + sav + `","amount":1}`, nil, 400, "idempotency_key_required"},
		{"WrongContentType", "POST", P + "/payments", `{}`, map[string]string{"Idempotency-Key": "a", "Content-Type": "text/plain"}, 400, "content_type_unsupported"},
		{"UnknownField", "POST", P + "/payments", `{"fromAccountId":"` + chk + `","toAccountId":"` + sav + `","amount":1,"admin":true}`, pay("u"), 400, "body_invalid"},
		{"NotJSON", "POST", P + "/payments", `{"fromAccountId":`, pay("nj"), 400, "body_invalid"},
		{"TwoValues", "POST", P + "/payments", `{} {}`, pay("two"), 400, "body_invalid"},
		{"BodyTooLarge", "POST", P + "/payments", `{"memo":"` + strings.Repeat("x", 20000) + `"}`, pay("big"), 400, "body_too_large"},
		{"NegativeAmount", "POST", P + "/payments", `{"fromAccountId":"` + chk + `","toAccountId":"` + sav + `","amount":-5}`, pay("neg"), 400, "amount_not_positive"},
		{"ZeroAmount", "POST", P + "/payments", `{"fromAccountId":"` + chk + `","toAccountId":"` + sav + `","amount":0}`, pay("zero"), 400, "amount_not_positive"},
		{"FractionalCents", "POST", P + "/payments", `{"fromAccountId":"` + chk + `","toAccountId":"` + sav + `","amount":1.005}`, pay("frac"), 400, "amount_too_precise"},
		{"ExponentAmount", "POST", P + "/payments", `{"fromAccountId":"` + chk + `","toAccountId":"` + sav + `","amount":1e3}`, pay("exp"), 400, "amount_invalid"},
		{"HugeAmount", "POST", P + "/payments", `{"fromAccountId":"` + chk + `","toAccountId":"` + sav + `","amount":99999999999999999999}`, pay("huge"), 400, "amount_too_large"},
		{"BothDestinations", "POST", P + "/payments", `{"fromAccountId":"` + chk + `","toAccountId":"` + sav + `","toPayeeId":"x","amount":1}`, pay("both"), 400, "body_invalid"},
		{"SameAccount", "POST", P + "/payments", `{"fromAccountId":"` + chk + `","toAccountId":"` + chk + `","amount":1}`, pay("same"), 400, "same_account"},
		{"MemoWithRightToLeftOverride", "POST", P + "/payments", `{"fromAccountId":"` + chk + `","toAccountId":"` + sav + `","amount":1,"memo":"refund\u202edilav"}`, pay("rlo"), 400, "body_invalid"},
		{"MemoWithZeroWidthSpace", "POST", P + "/payments", `{"fromAccountId":"` + chk + `","toAccountId":"` + sav + `","amount":1,"memo":"Sa\u200bm"}`, pay("zws"), 400, "body_invalid"},
		{"OtherCurrency", "POST", P + "/payments", `{"fromAccountId":"` + chk + `","toAccountId":"` + sav + `","amount":1,"currency":"EUR"}`, pay("eur"), 400, "currency_mismatch"},
		{"BadRevocationReason", "PUT", P + "/consents/x/revocation", nil, nil, 404, "not_found"},
		{"CallbackNotHTTPS", "POST", P + "/notification-subscriptions", `{"callbackUrl":"ftp://x.example/h"}`, nil, 400, "callback_url_invalid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := b.call(b.budget, tok, c.method, c.path, c.body, c.header)
			if res.Status != c.status || !strings.Contains(string(res.Body), `"code":"`+c.code+`"`) {
				t.Errorf("%d %s, want %d %s", res.Status, res.Body, c.status, c.code)
			}
		})
	}
	// Nothing moved.
	a, _ := b.db.Ledger().Account(context.Background(), b.ada.checking.ID)
	if a.Balance != 500000 {
		t.Errorf("balance moved to %d by refused requests", a.Balance)
	}
}

// TestNoObjectLevelAuthorisationLeak calls every endpoint with every kind
// of foreign identifier and expects 404 with no data.
func TestNoObjectLevelAuthorisationLeak(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	ctx := context.Background()
	tok, grant := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID}, allClusters())
	mine := b.accountID(tok, b.ada.checking.Name)
	// Ids the partner could get hold of, one per kind of foreign object.
	bobTok, bobGrant := b.link(b.budget, b.bob, []ledger.AccountID{b.bob.checking.ID}, allClusters())
	bobAcct := decode[dataapi.Accounts](t, b.call(b.budget, bobTok, "GET", P+"/accounts", nil, nil)).Accounts[0].AccountID
	otherTok, otherGrant := b.link(b.other, b.ada, []ledger.AccountID{b.ada.checking.ID, b.ada.savings.ID}, allClusters())
	otherIDForSame := decode[dataapi.Accounts](t, b.call(b.other, otherTok, "GET", P+"/accounts", nil, nil)).Accounts[0].AccountID
	_ = otherIDForSame
	// An account of ada outside this consent, by the id this partner would give it.
	wide, _ := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID, b.ada.savings.ID}, allClusters())
	outside := b.accountID(wide, b.ada.savings.Name)
	otherAccts := decode[dataapi.Accounts](t, b.call(b.other, otherTok, "GET", P+"/accounts", nil, nil)).Accounts
	var otherPartnersID string
	for _, a := range otherAccts {
		if a.ProductName == b.ada.checking.Name {
			otherPartnersID = a.AccountID
		}
	}
	if otherPartnersID == mine {
		t.Fatal("two partners see the same id for one account")
	}
	// A payment of bob's, by its id.
	bobPayees := decode[dataapi.Payees](t, b.call(b.budget, bobTok, "GET", P+"/payees", nil, nil)).Payees
	bobPay := decode[dataapi.Payment](t, b.call(b.budget, bobTok, "POST", P+"/payments",
		map[string]any{"fromAccountId": bobAcct, "toPayeeId": bobPayees[0].PayeeID, "amount": 1}, map[string]string{"Idempotency-Key": "bob-1"}))
	guess := "AAAAAAAAAAAAAAAAAAAAAA"
	foreign := map[string]string{
		"AnotherCustomersAccount":     bobAcct,
		"AnAccountOutsideTheConsent":  outside,
		"AnotherPartnersIdForTheSame": otherPartnersID,
		"AGuessedId":                  guess,
		"AnInternalNumber":            fmt.Sprint(int64(b.ada.checking.ID)),
		"TheAccountNumber":            string(b.ada.checking.Number),
	}
	before := len(b.hooks.deliveries())
	for kind, id := range foreign {
		t.Run(kind, func(t *testing.T) {
			for _, c := range []struct {
				method, path string
				body         any
			}{
				{"GET", "/accounts/" + id, nil},
				{"GET", "/accounts/" + id + "/balances", nil},
				{"GET", "/accounts/" + id + "/transactions", nil},
				{"GET", "/accounts/" + id + "/payment-networks", nil},
				{"GET", "/accounts/" + id + "/statements", nil},
				{"GET", "/accounts/" + id + "/statements/" + guess, nil},
				{"GET", "/accounts/" + mine + "/statements/" + id, nil},
				{"POST", "/payments", map[string]any{"fromAccountId": id, "toAccountId": mine, "amount": 1}},
				{"POST", "/payments", map[string]any{"fromAccountId": mine, "toAccountId": id, "amount": 1}},
				{"POST", "/payments", map[string]any{"fromAccountId": mine, "toPayeeId": id, "amount": 1}},
				{"GET", "/payments/" + id, nil},
				{"GET", "/consents/" + id, nil},
				{"PUT", "/consents/" + id + "/revocation", nil},
				{"GET", "/notification-subscriptions/" + id, nil},
				{"DELETE", "/notification-subscriptions/" + id, nil},
			} {
				res := b.call(b.budget, tok, c.method, P+c.path, c.body, map[string]string{"Idempotency-Key": "bola-" + kind})
				if res.Status != 404 || !strings.Contains(string(res.Body), `"code":"not_found"`) {
					t.Errorf("%s %s: %d %s", c.method, c.path, res.Status, res.Body)
				}
				var pb map[string]any
				if err := json.Unmarshal(res.Body, &pb); err != nil {
					t.Fatal(err)
				}
				delete(pb, "instance") // the path the partner sent, echoed
				delete(pb, "request_id")
				body, _ := json.Marshal(pb)
				for _, leak := range []string{"4995", "5000", "Bob", "Lovelace", string(b.ada.checking.Number)} {
					if strings.Contains(string(body), leak) {
						t.Errorf("%s %s leaks %q: %s", c.method, c.path, leak, res.Body)
					}
				}
			}
		})
	}
	// Other consents and other partners' payments and consents, by id.
	for name, path := range map[string]string{
		"AnotherPartnersConsent":       "/consents/" + otherGrant,
		"AnotherCustomersConsent":      "/consents/" + bobGrant,
		"AnotherCustomersPayment":      "/payments/" + bobPay.PaymentID,
		"RevokeAnotherPartnersConsent": "/consents/" + otherGrant + "/revocation",
	} {
		method := "GET"
		if strings.HasSuffix(path, "revocation") {
			method = "PUT"
		}
		if res := b.call(b.budget, tok, method, P+path, nil, nil); res.Status != 404 {
			t.Errorf("%s: %d %s", name, res.Status, res.Body)
		}
	}
	// Another partner cannot read budget-app's payment either.
	if res := b.call(b.other, otherTok, "GET", P+"/payments/"+bobPay.PaymentID, nil, nil); res.Status != 404 {
		t.Errorf("another partner reads a payment: %d", res.Status)
	}
	// Nothing was revoked, nothing moved but bob's one payment.
	for _, g := range []string{grant, otherGrant, bobGrant} {
		gr, err := b.consents.Grant(ctx, consent.GrantID(g))
		if err != nil || gr.Status != consent.Active {
			t.Errorf("consent %s: %v %v", g, gr.Status, err)
		}
	}
	a, _ := b.db.Ledger().Account(ctx, b.ada.checking.ID)
	if a.Balance != 500000+100 {
		t.Errorf("ada's balance is %d", a.Balance)
	}
	_ = before
}

func TestPaymentsStepUpAndWebhooks(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	ctx := context.Background()
	tok, _ := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID, b.ada.savings.ID}, allClusters())
	chk, sav := b.accountID(tok, b.ada.checking.Name), b.accountID(tok, b.ada.savings.Name)
	sub := decode[dataapi.Subscription](t, b.call(b.budget, tok, "POST", P+"/notification-subscriptions", map[string]any{"callbackUrl": b.hooks.srv.URL + "/hook"}, nil))
	secret, _ := base64.RawURLEncoding.DecodeString(sub.Secret)
	if len(secret) != 32 {
		t.Fatalf("secret = %q", sub.Secret)
	}
	payee := decode[dataapi.Payees](t, b.call(b.budget, tok, "GET", P+"/payees", nil, nil)).Payees[0].PayeeID

	// Small: posted at once; a retry answers the same payment; another body with the key is refused.
	body := map[string]any{"fromAccountId": chk, "toPayeeId": payee, "amount": 20.5, "memo": "lunch"}
	res := b.call(b.budget, tok, "POST", P+"/payments", body, map[string]string{"Idempotency-Key": "k1"})
	p1 := decode[dataapi.Payment](t, res)
	if res.Status != 201 || p1.Status != "POSTED" || p1.Amount != "20.50" {
		t.Fatalf("small payment: %d %s", res.Status, res.Body)
	}
	res = b.call(b.budget, tok, "POST", P+"/payments", body, map[string]string{"Idempotency-Key": "k1"})
	if again := decode[dataapi.Payment](t, res); res.Status != 200 || again.PaymentID != p1.PaymentID {
		t.Errorf("retry: %d %s", res.Status, res.Body)
	}
	body["amount"] = 21
	if res := b.call(b.budget, tok, "POST", P+"/payments", body, map[string]string{"Idempotency-Key": "k1"}); res.Status != 409 || !strings.Contains(string(res.Body), "idempotency_key_reused") {
		t.Errorf("reused key: %d %s", res.Status, res.Body)
	}
	bob, _ := b.db.Ledger().Account(ctx, b.bob.checking.ID)
	if bob.Balance != 500000+2050 {
		t.Errorf("bob got %d, want one payment of 20.50", bob.Balance-500000)
	}

	poor := decode[dataapi.Payment](t, b.call(b.budget, tok, "POST", P+"/payments", map[string]any{"fromAccountId": sav, "toAccountId": chk, "amount": 900}, map[string]string{"Idempotency-Key": "poor"}))
	if poor.Status != "FAILED" || poor.FailureReason != "insufficient_funds" {
		t.Errorf("payment from an empty account: %+v", poor)
	}

	// Large: waits for the customer's confirmation on the bank's page.
	res = b.call(b.budget, tok, "POST", P+"/payments", map[string]any{"fromAccountId": chk, "toAccountId": sav, "amount": "1500.00"}, map[string]string{"Idempotency-Key": "big"})
	big := decode[dataapi.Payment](t, res)
	if res.Status != 201 || big.Status != "PENDING" || !strings.HasSuffix(big.ConfirmationURL, dataapi.ConfirmPath+big.PaymentID) {
		t.Fatalf("large payment: %d %s", res.Status, res.Body)
	}
	if _, err := b.api.ConfirmPayment(ctx, b.bob.id.ID, big.PaymentID, true); err == nil {
		t.Error("another customer confirmed ada's payment")
	}
	if got, err := b.api.ConfirmPayment(ctx, b.ada.id.ID, big.PaymentID, false); !errors.Is(err, limits.ErrStepUp) || got.Status != records.PaymentPending {
		t.Fatalf("confirmed without a code above the step-up amount: %+v %v; want step_up_required, still PENDING", got, err)
	}
	got, err := b.api.ConfirmPayment(ctx, b.ada.id.ID, big.PaymentID, true)
	if err != nil || got.Status != records.PaymentPosted {
		t.Fatalf("confirm: %+v %v", got, err)
	}
	if _, err := b.api.ConfirmPayment(ctx, b.ada.id.ID, big.PaymentID, true); err == nil {
		t.Error("confirmed twice")
	}
	if p := decode[dataapi.Payment](t, b.call(b.budget, tok, "GET", P+"/payments/"+big.PaymentID, nil, nil)); p.Status != "POSTED" {
		t.Errorf("after confirmation: %+v", p)
	}
	// Declined, and insufficient funds: FAILED with a reason.
	dec := decode[dataapi.Payment](t, b.call(b.budget, tok, "POST", P+"/payments", map[string]any{"fromAccountId": chk, "toAccountId": sav, "amount": 1200}, map[string]string{"Idempotency-Key": "dec"}))
	if p, err := b.api.DeclinePayment(ctx, b.ada.id.ID, dec.PaymentID); err != nil || p.Reason != "declined_by_customer" {
		t.Errorf("decline: %+v %v", p, err)
	}
	// The new-payee limit (1,000.00 while bob is a new payee): 20.50 paid so far.
	if res := b.call(b.budget, tok, "POST", P+"/payments", map[string]any{"fromAccountId": chk, "toPayeeId": payee, "amount": 980}, map[string]string{"Idempotency-Key": "lim"}); res.Status != 422 || !strings.Contains(string(res.Body), "new_payee_limit_exceeded") {
		t.Errorf("above the new-payee limit: %d %s", res.Status, res.Body)
	}

	// Every status change reached the subscription, signed.
	if _, err := b.api.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	ds := b.hooks.deliveries()
	if len(ds) != 4 { // small posted, big posted, declined, insufficient
		t.Fatalf("%d deliveries, want 4", len(ds))
	}
	for _, d := range ds {
		if !dataapi.VerifySignature(secret, d.header.Get(dataapi.HeaderTimestamp), d.header.Get(dataapi.HeaderSignature), d.body, b.clock.Now()) {
			t.Errorf("signature does not verify: %s", d.body)
		}
		if dataapi.VerifySignature(secret, d.header.Get(dataapi.HeaderTimestamp), d.header.Get(dataapi.HeaderSignature), d.body, b.clock.Now().Add(6*time.Minute)) {
			t.Error("a delivery replayed after the window still verifies")
		}
		if dataapi.VerifySignature(secret, d.header.Get(dataapi.HeaderTimestamp), d.header.Get(dataapi.HeaderSignature), append(d.body, ' '), b.clock.Now()) {
			t.Error("a changed body still verifies")
		}
		if !strings.Contains(string(d.body), "PAYMENT_STATUS_CHANGED") {
			t.Errorf("delivery %s", d.body)
		}
	}
}

func TestWebhooksRetryWithBackoffThenGiveUp(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	ctx := context.Background()
	tok, grant := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID}, allClusters())
	b.call(b.budget, tok, "POST", P+"/notification-subscriptions", map[string]any{"callbackUrl": b.hooks.srv.URL}, nil)
	b.hooks.mu.Lock()
	b.hooks.status = 503
	b.hooks.mu.Unlock()
	if _, err := b.consents.RevokeForCustomer(ctx, b.ada.id.ID, consent.GrantID(grant)); err != nil {
		t.Fatal(err)
	}
	for i := range dataapi.MaxAttempts + 2 {
		if _, err := b.api.Deliver(ctx); err != nil {
			t.Fatal(err)
		}
		b.clock.Add(dataapi.RetryMax)
		_ = i
	}
	if n := len(b.hooks.deliveries()); n != dataapi.MaxAttempts {
		t.Errorf("%d attempts, want %d", n, dataapi.MaxAttempts)
	}
	if !strings.Contains(string(b.hooks.deliveries()[0].body), "CONSENT_REVOKED") {
		t.Errorf("first delivery: %s", b.hooks.deliveries()[0].body)
	}
}

func TestConsentRevocation(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	tok, grant := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID}, allClusters())
	if res := b.call(b.budget, tok, "PUT", P+"/consents/"+grant+"/revocation", map[string]any{"reason": "NOT_A_REASON"}, nil); res.Status != 400 {
		t.Errorf("bad reason: %d %s", res.Status, res.Body)
	}
	// The other instance has the consent in its one-second cache.
	other := map[string]string{"X-Instance": "2"}
	if res := b.call(b.budget, tok, "GET", P+"/accounts", nil, other); res.Status != 200 {
		t.Fatalf("other instance before revocation: %d %s", res.Status, res.Body)
	}
	if res := b.call(b.budget, tok, "PUT", P+"/consents/"+grant+"/revocation", map[string]any{"reason": "USER_ACTION"}, nil); res.Status != 204 {
		t.Fatalf("revoke: %d %s", res.Status, res.Body)
	}
	// On the instance that answered 204, the revocation is already in
	// force: no data, and a second revocation finds no token to stand on.
	if res := b.call(b.budget, tok, "GET", P+"/accounts", nil, nil); res.Status != 401 {
		t.Errorf("same instance right after the 204: %d %s", res.Status, res.Body)
	}
	if res := b.call(b.budget, tok, "PUT", P+"/consents/"+grant+"/revocation", nil, nil); res.Status != 401 {
		t.Errorf("second revocation on the same instance: %d %s", res.Status, res.Body)
	}
	// The other instance may answer from its cache for under a second: a
	// revocation there finds the consent ended (409); one second later it
	// refuses the token too.
	if res := b.call(b.budget, tok, "PUT", P+"/consents/"+grant+"/revocation", nil, other); res.Status != 409 && res.Status != 401 {
		t.Errorf("second revocation on the other instance: %d %s", res.Status, res.Body)
	}
	b.clock.Add(time.Second)
	if res := b.call(b.budget, tok, "GET", P+"/accounts", nil, other); res.Status != 401 {
		t.Errorf("other instance one second after: %d %s", res.Status, res.Body)
	}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		o    bankOptions
	}{
		{"PerPartner", bankOptions{rate: 60}}, // burst 10, then one a second
		{"PerCustomerWithinPartner", bankOptions{opts: dataapi.Options{CustomerRate: 60}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := newBank(t, c.o)
			tok, _ := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID}, allClusters())
			bobTok, _ := b.link(b.budget, b.bob, []ledger.AccountID{b.bob.checking.ID}, allClusters())
			limited := 0
			for range 12 {
				res := b.call(b.budget, tok, "GET", P+"/accounts", nil, nil)
				if res.Status == 429 {
					limited++
					if res.Header.Get("Retry-After") != "1" {
						t.Errorf("Retry-After = %q", res.Header.Get("Retry-After"))
					}
				}
			}
			if limited != 2 {
				t.Errorf("%d of 12 calls limited, want 2", limited)
			}
			bob := b.call(b.budget, bobTok, "GET", P+"/accounts", nil, nil)
			if want := map[string]int{"PerPartner": 429, "PerCustomerWithinPartner": 200}[c.name]; bob.Status != want {
				t.Errorf("another customer of the partner: %d, want %d", bob.Status, want)
			}
			b.clock.Add(2 * time.Second)
			if res := b.call(b.budget, tok, "GET", P+"/accounts", nil, nil); res.Status != 200 {
				t.Errorf("after waiting: %d", res.Status)
			}
		})
	}
}

func TestEveryDisclosureIsAudited(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	ctx := context.Background()
	tok, grant := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID}, allClusters())
	chk := b.accountID(tok, b.ada.checking.Name)
	b.call(b.budget, tok, "GET", P+"/accounts/"+chk+"/balances", nil, nil)
	page, err := b.db.Audit().Records(ctx, audit.Query{Kind: audit.DataAccess, Partner: "budget-app"})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range page.Records {
		if r.Detail == "GET "+P+"/accounts/{accountId}/balances" {
			found = true
			if r.Consent != grant || r.Customer != b.ada.id.ID || len(r.Accounts) != 1 || r.Accounts[0] != b.ada.checking.ID ||
				len(r.Clusters) != 1 || r.Clusters[0] != "BALANCES" || r.Outcome != audit.OK || r.Purpose == "" || len(r.Fields) == 0 {
				t.Errorf("record = %+v", r)
			}
		}
	}
	if !found {
		t.Fatalf("no audit record of the balances call in %+v", page.Records)
	}
	// With the log closed nothing is disclosed.
	b.alog.Close()
	res := b.call(b.budget, tok, "GET", P+"/accounts/"+chk+"/balances", nil, nil)
	if res.Status != 503 || strings.Contains(string(res.Body), "5000") {
		t.Errorf("with the audit log down: %d %s", res.Status, res.Body)
	}
}

func TestPerformanceIsCountedPerPartnerAndMonth(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	tok, _ := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID}, allClusters())
	for range 5 {
		b.call(b.budget, tok, "GET", P+"/accounts", nil, nil)
	}
	b.call(b.budget, tok, "GET", P+"/accounts/nope", nil, nil) // a 404 is a proper answer
	rep, err := b.api.Performance(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep) != 1 || rep[0].Partner != "budget-app" || rep[0].Responses != 6 || rep[0].Proper != 6 || !rep[0].MeetsGoal() ||
		rep[0].Month != records.Month(b.clock.Now()) {
		t.Errorf("report = %+v", rep)
	}
	mfs, err := b.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, n := range []string{"bankbridge_dataapi_responses_total", "bankbridge_dataapi_latency_seconds", "bankbridge_dataapi_month_proper_share"} {
		if !names[n] {
			t.Errorf("metric %s missing", n)
		}
	}
}

// TestPaymentsFollowTheBankLimits: the partner API counts the customer's
// payments on every channel (here one made on the web, through the same
// guard): past the daily limit it answers problem+json with a catalog code,
// and once the day's total passes the step-up amount a payment that alone
// would not waits for the customer's confirmation.
func TestPaymentsFollowTheBankLimits(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{limits: limits.Policy{Daily: 3_000_00, PerPayee: 3_000_00, NewPayee: 3_000_00, StepUp: 1_000_00}})
	ctx := context.Background()
	tok, _ := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID}, allClusters())
	chk := b.accountID(tok, b.ada.checking.Name)
	payee := decode[dataapi.Payees](t, b.call(b.budget, tok, "GET", P+"/payees", nil, nil)).Payees[0].PayeeID
	pay := func(key string, amt any) (dataapitest.Response, dataapi.Payment) {
		res := b.call(b.budget, tok, "POST", P+"/payments", map[string]any{"fromAccountId": chk, "toPayeeId": payee, "amount": amt}, map[string]string{"Idempotency-Key": key})
		if res.Status >= 400 {
			return res, dataapi.Payment{}
		}
		return res, decode[dataapi.Payment](t, res)
	}
	if res, p := pay("a", 1000); res.Status != 201 || p.Status != "POSTED" {
		t.Fatalf("1,000.00: %d %s", res.Status, res.Body)
	}
	// 1,500.00 to bob from the web app.
	if err := b.payments.Reserve(ctx, limits.Payment{Customer: b.ada.id.ID, Payee: b.bob.checking.ID, Amount: 1_500_00, Currency: "USD",
		SteppedUp: true, Channel: "web", Key: "web-1"}); err != nil {
		t.Fatal(err)
	}
	res, _ := pay("b", 600)
	if res.Status != 422 || !strings.Contains(string(res.Body), `"code":"daily_limit_exceeded"`) || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("past the daily limit: %d %s %s", res.Status, res.Header.Get("Content-Type"), res.Body)
	}
	res, p := pay("c", 400)
	if res.Status != 201 || p.Status != "PENDING" || p.ConfirmationURL == "" {
		t.Fatalf("400.00 past the step-up total: %d %s; want PENDING with a confirmationUrl", res.Status, res.Body)
	}
	if got, err := b.api.ConfirmPayment(ctx, b.ada.id.ID, p.PaymentID, true); err != nil || got.Status != records.PaymentPosted {
		t.Fatalf("confirm: %+v %v", got, err)
	}
	if bob, _ := b.db.Ledger().Account(ctx, b.bob.checking.ID); bob.Balance != 500000+1_400_00 {
		t.Errorf("bob got %d through the API, want 1,400.00", bob.Balance-500000)
	}
}

// TestOneIDPerAccount: the resourceId the token response names an account
// by is the accountId of the API and the resourceId of the consent
// resource, for every account of the consent.
func TestOneIDPerAccount(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	tok, grant := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID, b.ada.savings.ID}, allClusters())
	raw, _ := json.Marshal(b.budget.Token()["authorization_details"])
	var ds []oauth.AuthorizationDetail
	if err := json.Unmarshal(raw, &ds); err != nil || len(ds) != 1 {
		t.Fatalf("authorization_details = %s (%v)", raw, err)
	}
	var inToken []string
	for _, r := range ds[0].ConsentRequest.Resources {
		inToken = append(inToken, r.ResourceID)
	}
	var inAPI []string
	for _, a := range decode[dataapi.Accounts](t, b.call(b.budget, tok, "GET", P+"/accounts", nil, nil)).Accounts {
		inAPI = append(inAPI, a.AccountID)
	}
	var inConsent []string
	for _, r := range decode[dataapi.ConsentGrant](t, b.call(b.budget, tok, "GET", P+"/consents/"+grant, nil, nil)).Resources {
		inConsent = append(inConsent, r.ResourceID)
	}
	slices.Sort(inToken)
	slices.Sort(inAPI)
	slices.Sort(inConsent)
	if len(inToken) != 2 || !slices.Equal(inToken, inAPI) || !slices.Equal(inToken, inConsent) {
		t.Errorf("account ids: token %v, API %v, consent %v; want the same two", inToken, inAPI, inConsent)
	}
	for _, id := range inToken {
		if res := b.call(b.budget, tok, "GET", P+"/accounts/"+id+"/balances", nil, nil); res.Status != 200 {
			t.Errorf("balances of the token's resourceId %s: %d", id, res.Status)
		}
	}
}
