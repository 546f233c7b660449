package assistant

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// texts returns every English text the package's code hands to say, f, tr
// or Translate, and the titles of its Choice and Button literals: what a
// customer can read.
func texts(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	ents, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var out []string
	add := func(e ast.Expr) {
		if s, ok := literal(e); ok && s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, ent := range ents {
		if !strings.HasSuffix(ent.Name(), ".go") || strings.HasSuffix(ent.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, ent.Name(), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				name := ""
				switch fn := n.Fun.(type) {
				case *ast.SelectorExpr:
					name = fn.Sel.Name
				case *ast.Ident:
					name = fn.Name
				}
				switch {
				case (name == "say" || name == "f" || name == "tr" || name == "bankButton") && len(n.Args) > 0:
					if _, ok := literal(n.Args[0]); ok {
						add(n.Args[0])
					} else if b, ok := n.Args[0].(*ast.BinaryExpr); ok {
						add(b.X)
						add(b.Y)
					}
				case name == "Translate" && len(n.Args) > 1:
					add(n.Args[1])
				}
			case *ast.CompositeLit:
				id, ok := n.Type.(*ast.Ident)
				if !ok || (id.Name != "Choice" && id.Name != "Button") {
					return true
				}
				for i, e := range n.Elts {
					if kv, ok := e.(*ast.KeyValueExpr); ok {
						if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Title" {
							add(kv.Value)
						}
					} else if i == 0 {
						add(e)
					}
				}
			}
			return true
		})
	}
	return out
}

// literal evaluates a string literal or a sum of them.
func literal(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		x, ok1 := literal(e.X)
		y, ok2 := literal(e.Y)
		return x + y, ok1 && ok2 && e.Op == token.ADD
	case *ast.Ident:
		if e.Name == "Automated" {
			return Automated, true
		}
	}
	return "", false
}

// TestCatalogComplete: every text a customer can read has its Spanish,
// with the same formatting verbs in the same order.
func TestCatalogComplete(t *testing.T) {
	t.Parallel()
	all := texts(t)
	if len(all) < 80 {
		t.Fatalf("found only %d texts; the walk is broken", len(all))
	}
	verbs := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)
	var missing []string
	for _, s := range all {
		es, ok := spanish[s]
		if !ok {
			missing = append(missing, s)
			continue
		}
		if a, b := verbs.FindAllString(s, -1), verbs.FindAllString(es, -1); !slices.Equal(a, b) {
			t.Errorf("%q: verbs %v in English, %v in Spanish", s, a, b)
		}
	}
	slices.Sort(missing)
	for _, m := range missing {
		t.Errorf("no Spanish for %q", m)
	}
}

func TestPeriodNameInSpanish(t *testing.T) {
	t.Parallel()
	tt := &turn{lang: Spanish}
	now := time.Date(2026, 3, 18, 12, 0, 0, 0, time.UTC)
	for text, want := range map[string]string{
		"since monday": "desde el lunes", "since wednesday": "desde el miércoles", "in march": "en marzo de 2026",
		"in december": "en diciembre de 2025", "this week": "esta semana", "last month": "el mes pasado", "since january": "desde enero",
	} {
		p, _, ok := takePeriod(tokens(text), now)
		if !ok {
			t.Fatalf("no period in %q", text)
		}
		if got := tt.periodName(p); got != want {
			t.Errorf("periodName(%q) = %q, want %q", p.Name, got, want)
		}
	}
}
