package dataapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/dataapi"
	"github.com/bankbridge/bankbridge/dataapi/dataapitest"
	"github.com/google/go-cmp/cmp"
)

// The validator below checks answers against the subset of OpenAPI 3.1 /
// JSON Schema 2020-12 the document uses: $ref, type, properties, required,
// additionalProperties: false, items, enum, pattern, minimum,
// exclusiveMinimum, maxLength and the date / date-time formats. A keyword
// it does not know fails the test, so the document cannot quietly use more
// than is checked.

var doc = func() map[string]any {
	var d map[string]any
	if err := json.Unmarshal(dataapi.OpenAPI, &d); err != nil {
		panic(err)
	}
	return d
}()

var known = map[string]bool{"$ref": true, "type": true, "properties": true, "required": true, "additionalProperties": true, "items": true,
	"enum": true, "pattern": true, "minimum": true, "exclusiveMinimum": true, "maxLength": true, "format": true, "maximum": true, "minItems": true, "description": true}

func resolveRef(s map[string]any) map[string]any {
	for {
		r, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		var cur any = doc
		for _, part := range strings.Split(strings.TrimPrefix(r, "#/"), "/") {
			cur = cur.(map[string]any)[part]
		}
		s = cur.(map[string]any)
	}
}

func validate(s map[string]any, v any, at string) error {
	s = resolveRef(s)
	for k := range s {
		if !known[k] {
			return fmt.Errorf("%s: schema keyword %q is not checked by this validator", at, k)
		}
	}
	if t, ok := s["type"].(string); ok {
		okType := false
		switch t {
		case "object":
			_, okType = v.(map[string]any)
		case "array":
			_, okType = v.([]any)
		case "string":
			_, okType = v.(string)
		case "boolean":
			_, okType = v.(bool)
		case "number":
			_, okType = v.(json.Number)
		case "integer":
			if n, ok := v.(json.Number); ok {
				_, err := n.Int64()
				okType = err == nil
			}
		}
		if !okType {
			return fmt.Errorf("%s: %v is not of type %s", at, v, t)
		}
	}
	if e, ok := s["enum"].([]any); ok && !slices.Contains(e, v) {
		return fmt.Errorf("%s: %v is not one of %v", at, v, e)
	}
	switch x := v.(type) {
	case string:
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(x) {
			return fmt.Errorf("%s: %q does not match %s", at, x, p)
		}
		if m, ok := s["maxLength"].(float64); ok && len([]rune(x)) > int(m) {
			return fmt.Errorf("%s: longer than %v", at, m)
		}
		switch s["format"] {
		case "date-time":
			if _, err := time.Parse(time.RFC3339Nano, x); err != nil {
				return fmt.Errorf("%s: %q is not a date-time", at, x)
			}
		case "date":
			if _, err := time.Parse(time.DateOnly, x); err != nil {
				return fmt.Errorf("%s: %q is not a date", at, x)
			}
		case "uri":
			if _, err := url.Parse(x); err != nil {
				return fmt.Errorf("%s: %q is not a URI", at, x)
			}
		}
	case json.Number:
		f, _, err := big.ParseFloat(string(x), 10, 128, big.ToNearestEven)
		if err != nil {
			return fmt.Errorf("%s: %v", at, err)
		}
		if m, ok := s["minimum"].(float64); ok && f.Cmp(big.NewFloat(m)) < 0 {
			return fmt.Errorf("%s: %v below %v", at, x, m)
		}
		if m, ok := s["maximum"].(float64); ok && f.Cmp(big.NewFloat(m)) > 0 {
			return fmt.Errorf("%s: %v above %v", at, x, m)
		}
		if m, ok := s["exclusiveMinimum"].(float64); ok && f.Cmp(big.NewFloat(m)) <= 0 {
			return fmt.Errorf("%s: %v not above %v", at, x, m)
		}
	case []any:
		if m, ok := s["minItems"].(float64); ok && len(x) < int(m) {
			return fmt.Errorf("%s: fewer than %v items", at, m)
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, it := range x {
				if err := validate(items, it, fmt.Sprintf("%s/%d", at, i)); err != nil {
					return err
				}
			}
		}
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, r := range asStrings(s["required"]) {
			if _, ok := x[r]; !ok {
				return fmt.Errorf("%s: required member %q missing", at, r)
			}
		}
		for k, val := range x {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if s["additionalProperties"] == false {
					return fmt.Errorf("%s: member %q is not in the schema", at, k)
				}
				continue
			}
			if err := validate(ps, val, at+"/"+k); err != nil {
				return err
			}
		}
	}
	return nil
}

func asStrings(v any) []string {
	var out []string
	for _, x := range asSlice(v) {
		out = append(out, x.(string))
	}
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// match finds the document's path template for a concrete path.
func match(path string) (string, map[string]any) {
	path, _, _ = strings.Cut(path, "?")
	for tmpl, item := range doc["paths"].(map[string]any) {
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
			return tmpl, item.(map[string]any)
		}
	}
	return "", nil
}

// validateResponse checks an answer: the operation exists, documents this
// status, the content type and the body's schema match, and the
// interaction id is echoed.
func validateResponse(method, path string, res dataapitest.Response) error {
	tmpl, item := match(path)
	if item == nil {
		if res.Status == 404 {
			return validateBody(map[string]any{"$ref": "#/components/schemas/Problem"}, res)
		}
		return fmt.Errorf("no path in the document matches %s", path)
	}
	op, ok := item[strings.ToLower(method)].(map[string]any)
	if !ok {
		return fmt.Errorf("%s %s is not documented", method, tmpl)
	}
	r, ok := op["responses"].(map[string]any)[fmt.Sprint(res.Status)].(map[string]any)
	if !ok {
		return fmt.Errorf("status %d of %s %s is not documented", res.Status, method, tmpl)
	}
	if hs, ok := r["headers"].(map[string]any); ok {
		for h := range hs {
			if h == "x-fapi-interaction-id" && res.Header.Get(h) == "" {
				return fmt.Errorf("header %s missing", h)
			}
		}
	}
	content, _ := r["content"].(map[string]any)
	if len(content) == 0 {
		if len(res.Body) != 0 {
			return fmt.Errorf("a body where none is documented")
		}
		return nil
	}
	ct := strings.Split(res.Header.Get("Content-Type"), ";")[0]
	media, ok := content[ct].(map[string]any)
	if !ok {
		return fmt.Errorf("content type %q is not documented for %d", ct, res.Status)
	}
	if sc := media["schema"].(map[string]any); sc["format"] == "binary" {
		// A document, not JSON: PDF is the one the API serves.
		if ct != "application/pdf" || !strings.HasPrefix(string(res.Body), "%PDF-") {
			return fmt.Errorf("a %s body that is not a PDF", ct)
		}
		return nil
	}
	return validateBody(media["schema"].(map[string]any), res)
}

func validateBody(schema map[string]any, res dataapitest.Response) error {
	dec := json.NewDecoder(strings.NewReader(string(res.Body)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("body is not JSON: %v", err)
	}
	return validate(schema, v, "")
}

// TestCatalogMatchesDocument keeps the problem codes the API can answer
// equal to the document's Problem.code enum.
func TestCatalogMatchesDocument(t *testing.T) {
	t.Parallel()
	var want []string
	for c := range dataapi.Catalog {
		want = append(want, c)
	}
	sort.Strings(want)
	got := asStrings(resolveRef(map[string]any{"$ref": "#/components/schemas/Problem"})["properties"].(map[string]any)["code"].(map[string]any)["enum"])
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("catalog vs document (-catalog +document):\n%s", diff)
	}
	reasons := asStrings(resolveRef(map[string]any{"$ref": "#/components/schemas/Payment"})["properties"].(map[string]any)["failureReason"].(map[string]any)["enum"])
	if diff := cmp.Diff(dataapi.PaymentFailureReasons, reasons); diff != "" {
		t.Errorf("failure reasons vs document:\n%s", diff)
	}
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", doc["openapi"])
	}
}

// TestValidatorRejects proves the validator can fail.
func TestValidatorRejects(t *testing.T) {
	t.Parallel()
	bad := []string{`{"accountId":"x","surprise":1}`, `{"accounts":[{"accountType":"CHECKING"}]}`, `{"accounts":[{"accountId":"x","accountType":"LOAN"}]}`,
		`{"accounts":[{"accountId":"x","currentBalance":"12.00"}]}`, `{"accounts":[{"accountId":"x","balanceAsOf":"yesterday"}]}`}
	for _, b := range bad {
		err := validateBody(map[string]any{"$ref": "#/components/schemas/Accounts"}, dataapitest.Response{Body: []byte(b)})
		if err == nil {
			t.Errorf("%s passed validation", b)
		}
	}
	if err := validateBody(map[string]any{"$ref": "#/components/schemas/Accounts"}, dataapitest.Response{Body: []byte(`{"accounts":[{"accountId":"x","currentBalance":12.00}]}`)}); err != nil {
		t.Errorf("a valid body failed: %v", err)
	}
}

// TestRoutesMatchDocument keeps the route table and the document equal:
// the same operations, and for each the same query parameters.
func TestRoutesMatchDocument(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	docOps := map[string][]string{}
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			var qs []string
			for _, p := range asSlice(op.(map[string]any)["parameters"]) {
				p := resolveParam(p.(map[string]any))
				if p["in"] == "query" {
					qs = append(qs, p["name"].(string))
				}
			}
			sort.Strings(qs)
			docOps[strings.ToUpper(method)+" "+path] = qs
		}
	}
	routes := map[string][]string{}
	for _, op := range b.api.Operations() {
		qs := slices.Clone(op.Params)
		sort.Strings(qs)
		routes[op.Method+" "+op.Path] = qs
	}
	if diff := cmp.Diff(routes, docOps, cmp.Comparer(func(a, b []string) bool { return slices.Equal(a, b) })); diff != "" {
		t.Errorf("route table vs document (-routes +document):\n%s", diff)
	}
}

// resolveParam follows a parameter's $ref in the document.
func resolveParam(p map[string]any) map[string]any {
	if r, ok := p["$ref"].(string); ok {
		return doc["components"].(map[string]any)["parameters"].(map[string]any)[strings.TrimPrefix(r, "#/components/parameters/")].(map[string]any)
	}
	return p
}

// TestDocumentLintsClean runs Redocly's linter (@redocly/cli 2.77.0, its
// recommended rules, installed in lint/ by scripts/test-env.sh) on the
// document: no error and no warning.
func TestDocumentLintsClean(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("lint skipped in -short mode")
	}
	bin := filepath.Join("lint", "node_modules", ".bin", "redocly")
	if _, err := os.Stat(bin); err != nil {
		const install = "(cd dataapi/lint && npm ci --no-audit --no-fund), as scripts/test-env.sh does"
		// Tests never skip silently: `make test` installs it.
		t.Fatalf("redocly is not installed: %s", install)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "lint", "--format=json", "openapi.json")
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
	out, err := cmd.Output()
	var res struct {
		Totals   struct{ Errors, Warnings int }
		Problems []struct {
			RuleID   string `json:"ruleId"`
			Message  string
			Location []struct{ Pointer string }
		}
	}
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		t.Fatalf("redocly lint: %v %v\n%s", err, jerr, out)
	}
	for _, p := range res.Problems {
		t.Errorf("redocly %s: %s %v", p.RuleID, p.Message, p.Location)
	}
	if res.Totals.Errors+res.Totals.Warnings != 0 || err != nil {
		t.Errorf("redocly lint: %d errors, %d warnings (%v)", res.Totals.Errors, res.Totals.Warnings, err)
	}
}
