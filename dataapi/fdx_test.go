package dataapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/bankbridge/bankbridge/dataapi"
	"github.com/bankbridge/bankbridge/dataapi/dataapitest"
	"github.com/bankbridge/bankbridge/ledger"
)

// The FDX 6.4 schemas, as Plaid Core Exchange 6.4 publishes them
// (testdata/fdx/corex-6.4.yaml, unchanged; its terms in LICENSE.md). Every
// answer the tests get through bank.call from an operation Core Exchange
// defines is validated against the operation's 200 schema, besides our own
// document. Core Exchange's schemas set no additionalProperties, so extra
// members are allowed exactly where FDX allows them (everywhere it does not
// close an object).

const corexFile = "testdata/fdx/corex-6.4.yaml"

// corex is the compiled Core Exchange document: its JSON 200 schema per
// path template (without dataapi.Prefix).
var corex = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	raw, err := os.ReadFile(corexFile)
	if err != nil {
		return nil, err
	}
	var y any
	if err := yaml.Unmarshal(raw, &y); err != nil {
		return nil, err
	}
	js, err := json.Marshal(stringKeys(y))
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4) // OpenAPI 3.0's Schema Object is an extended subset of draft 4/5
	c.AssertFormat()
	if err := c.AddResource("corex.json", doc); err != nil {
		return nil, err
	}
	out := map[string]*jsonschema.Schema{}
	for path, item := range doc.(map[string]any)["paths"].(map[string]any) {
		get, ok := item.(map[string]any)["get"].(map[string]any)
		if !ok {
			continue
		}
		content, _ := get["responses"].(map[string]any)["200"].(map[string]any)["content"].(map[string]any)
		if _, ok := content["application/json"]; !ok {
			continue // statements/{id}: a PDF
		}
		ptr := "#/paths/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(path) + "/get/responses/200/content/application~1json/schema"
		s, err := c.Compile("corex.json" + ptr)
		if err != nil {
			return nil, fmt.Errorf("compile %s: %w", path, err)
		}
		out[path] = s
	}
	return out, nil
})

// stringKeys turns YAML's maps into JSON's.
func stringKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = stringKeys(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = stringKeys(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = stringKeys(e)
		}
	}
	return v
}

// corexSchema finds the Core Exchange operation of a concrete GET path and
// returns its 200 schema and template; nil when Core Exchange has none.
func corexSchema(path string) (*jsonschema.Schema, string, error) {
	ops, err := corex()
	if err != nil {
		return nil, "", err
	}
	path, _, _ = strings.Cut(strings.TrimPrefix(path, dataapi.Prefix), "?")
	for tmpl, s := range ops {
		tp, pp := strings.Split(tmpl, "/"), strings.Split(path, "/")
		if len(tp) != len(pp) {
			continue
		}
		ok := true
		for i := range tp {
			if !strings.HasPrefix(tp[i], "{") && tp[i] != pp[i] {
				ok = false
			}
		}
		if ok {
			return s, tmpl, nil
		}
	}
	return nil, "", nil
}

var (
	fdxMu      sync.Mutex
	fdxChecked = map[string]int{} // Core Exchange templates validated, with counts
)

// validateFDX checks a 200 answer to a GET against FDX 6.4 where Core
// Exchange defines the operation.
func validateFDX(method, path string, res dataapitest.Response) error {
	if method != "GET" || res.Status != 200 {
		return nil
	}
	s, tmpl, err := corexSchema(path)
	if err != nil || s == nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(res.Body))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("FDX 6.4 (%s): %v", tmpl, err)
	}
	fdxMu.Lock()
	fdxChecked[tmpl]++
	fdxMu.Unlock()
	return nil
}

// TestLiveAnswersMatchFDX64 calls every operation Core Exchange 6.4
// defines, for a deposit and a card account, and checks (through
// bank.call) that each answer validates against FDX 6.4.
func TestLiveAnswersMatchFDX64(t *testing.T) {
	b := newBank(t, bankOptions{})
	ctx := context.Background()
	if _, _, err := b.ledger.Transfer(ctx, ledger.Move("t", "fdx-1", b.ada.checking.ID, b.ada.card.ID, 1250, "USD", "card payment")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.ledger.Transfer(ctx, ledger.Move("t", "fdx-2", b.ada.card.ID, b.ada.savings.ID, 700, "USD", "cash advance")); err != nil {
		t.Fatal(err)
	}
	b.clock.Add(40 * 24 * time.Hour) // last month has statements
	tok, _ := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID, b.ada.savings.ID, b.ada.card.ID}, allClusters())
	ids := tokenAccounts(t, b.budget)
	get := func(path string) dataapitest.Response {
		t.Helper()
		res := b.call(b.budget, tok, "GET", P+path, nil, nil)
		return res
	}
	if res := get("/customers/current"); res.Status != 200 {
		t.Errorf("customer: %d %s", res.Status, res.Body)
	}
	if res := get("/accounts"); res.Status != 200 {
		t.Errorf("accounts: %d %s", res.Status, res.Body)
	}
	if res := get("/accounts?limit=1"); res.Status != 200 {
		t.Errorf("accounts page: %d %s", res.Status, res.Body)
	} else if next := decode[dataapi.Accounts](t, res).Page; next == nil || get("/accounts?limit=2&offset="+next.NextOffset).Status != 200 {
		t.Errorf("accounts by offset: %s", res.Body)
	}
	networks := 0
	for _, id := range ids {
		for _, sub := range []string{"", "/contact", "/transactions", "/transactions?startDate=" + b.clock.Now().AddDate(0, -2, 0).Format(time.DateOnly) +
			"&endDate=" + b.clock.Now().Format(time.DateOnly), "/statements", "/statements?limit=1"} {
			if res := get("/accounts/" + id + sub); res.Status != 200 {
				t.Errorf("GET /accounts/%s%s: %d %s", id, sub, res.Status, res.Body)
			}
		}
		// Payment networks: the deposit accounts have one; the card none,
		// which FDX 6.4's minItems 1 makes a 404 rather than an empty list.
		switch res := get("/accounts/" + id + "/payment-networks"); res.Status {
		case 200:
			networks++
		case 404:
		default:
			t.Errorf("payment networks of %s: %d %s", id, res.Status, res.Body)
		}
	}
	if networks != 2 {
		t.Errorf("%d accounts with payment networks, want the 2 deposit accounts", networks)
	}
	fdxMu.Lock()
	defer fdxMu.Unlock()
	ops, _ := corex()
	for tmpl := range ops {
		if tmpl == "/accounts/{accountId}/asset-transfer-networks" {
			continue // investment accounts only: the bank has none, and does not serve it
		}
		if fdxChecked[tmpl] == 0 {
			t.Errorf("no answer of %s was validated against FDX 6.4", tmpl)
		}
	}
}

// TestFDXValidatorRejects proves the FDX 6.4 check can fail, on the
// mistakes it exists to catch.
func TestFDXValidatorRejects(t *testing.T) {
	t.Parallel()
	bad := map[string]string{
		P + "/accounts/x/payment-networks": `{"paymentNetworks":[]}`,
		P + "/accounts":                    `{"accounts":[{"accountId":"x","accountCategory":"DEPOSIT_ACCOUNT","accountType":"CHECKING","currency":{"currencyCode":"USD"},"productName":"p"}]}`,
		P + "/accounts/x":                  `{"accountId":"x","accountCategory":"DEPOSIT_ACCOUNT","accountType":"CHECKING","currency":{"currencyCode":"USD"},"productName":"p","status":"OPEN","currentBalance":1}`,
		P + "/accounts/x/transactions":     `{"transactions":[{"accountCategory":"DEPOSIT_ACCOUNT","transactionId":"t","transactionTimestamp":"2026-01-01T00:00:00Z","status":"POSTED","amount":1,"debitCreditMemo":"DEBIT"}]}`,
		P + "/accounts/x/contact":          `{"holders":[],"emails":["a@b.c"],"addresses":[{"line1":"l","city":"c","country":"US"}],"telephones":[{"type":"CELL","number":"1"}]}`,
		P + "/customers/current":           `{"name":{"first":"A","last":"B"}}`,
		P + "/accounts/x/statements":       `{"statements":[{"accountId":"a","statementId":"s","statementDate":"2026-02-30x"}]}`,
	}
	for path, body := range bad {
		if err := validateFDX("GET", path, dataapitest.Response{Status: 200, Body: []byte(body)}); err == nil {
			t.Errorf("%s: %s passed FDX 6.4 validation", path, body)
		}
	}
	good := `{"paymentNetworks":[{"bankId":"011000015","identifier":"1","type":"US_ACH","transferIn":true,"transferOut":true,"identifierType":"ACCOUNT_NUMBER"}]}`
	if err := validateFDX("GET", P+"/accounts/x/payment-networks", dataapitest.Response{Status: 200, Body: []byte(good)}); err != nil {
		t.Errorf("a valid answer with an extra member failed: %v", err)
	}
}
