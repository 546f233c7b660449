package web

import (
	"html"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"text/template/parse"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/statement"
)

// staffTemplates are the console's pages, which stay English.
func staffTemplate(name string) bool {
	return strings.HasPrefix(name, "console") || name == "customer.html" || name == "insights.html"
}

var (
	tagRe   = regexp.MustCompile(`<[^>]*>`)
	attrRe  = regexp.MustCompile(`\b(aria-label|placeholder|title|alt)="([^"{]*)"`)
	letters = regexp.MustCompile(`\pL`)
)

// words are what a person reads in one text node of a template: text between
// tags and the values of the attributes read aloud or shown, without the
// tags themselves. inTag carries "inside a tag" across actions.
func words(text string, inTag *bool) []string {
	var out []string
	for _, m := range attrRe.FindAllStringSubmatch(text, -1) {
		out = append(out, m[2])
	}
	rest := text
	if *inTag {
		i := strings.IndexByte(rest, '>')
		if i < 0 {
			return out
		}
		rest, *inTag = rest[i+1:], false
	}
	if i, j := strings.LastIndexByte(rest, '<'), strings.LastIndexByte(rest, '>'); i > j {
		rest, *inTag = rest[:i], true
	}
	for _, t := range tagRe.Split(rest, -1) {
		if t = strings.Join(strings.Fields(html.UnescapeString(t)), " "); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// untranslatable are texts that read the same in every language.
var untranslatable = map[string]bool{"English": true, "Español": true}

// TestCatalogCoversTemplates: no customer-facing template has words
// outside {{t}}, and the catalogue has the Spanish of every {{t}} key. A
// new template passes once its texts are wrapped in {{t "..."}} and each
// key has a line in catalog_es.go.
func TestCatalogCoversTemplates(t *testing.T) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if staffTemplate(base) {
			continue
		}
		src, err := fs.ReadFile(templateFS, n)
		if err != nil {
			t.Fatal(err)
		}
		p := parse.New(base)
		p.Mode = parse.SkipFuncCheck
		trees := map[string]*parse.Tree{}
		if _, err := p.Parse(string(src), "{{", "}}", trees); err != nil {
			t.Fatal(err)
		}
		for _, tree := range trees {
			inTag := false
			var walk func(parse.Node)
			walk = func(nd parse.Node) {
				switch nd := nd.(type) {
				case *parse.ListNode:
					if nd == nil {
						return
					}
					for _, c := range nd.Nodes {
						walk(c)
					}
				case *parse.TextNode:
					for _, w := range words(string(nd.Text), &inTag) {
						if letters.MatchString(w) && !untranslatable[w] && !strings.HasPrefix(w, "/") {
							t.Errorf("%s: %q is not translated: wrap it in {{t %q}}", base, w, w)
						}
					}
				case *parse.IfNode:
					// The layout's staff branch is the console's: English.
					if nd.Pipe.String() != `eq .Realm "staff"` {
						walk(nd.List)
					}
					walk(nd.ElseList)
				case *parse.RangeNode:
					walk(nd.List)
					walk(nd.ElseList)
				case *parse.WithNode:
					walk(nd.List)
					walk(nd.ElseList)
				case *parse.ActionNode:
					for _, cmd := range nd.Pipe.Cmds {
						if len(cmd.Args) >= 2 && cmd.Args[0].String() == "t" {
							if s, ok := cmd.Args[1].(*parse.StringNode); ok {
								used[s.Text] = true
							} else {
								t.Errorf("%s: {{t}} of %s: the key must be a literal text", base, cmd.Args[1])
							}
						}
					}
				}
			}
			walk(tree.Root)
		}
	}
	if len(used) < 100 {
		t.Fatalf("only %d {{t}} keys found: the walk is broken", len(used))
	}
	for k := range used {
		if es, ok := spanish[k]; !ok || strings.TrimSpace(es) == "" {
			t.Errorf("catalog_es.go has no Spanish for %q", k)
		}
	}
}

// TestCatalogFormatsKeepVerbs: a Spanish format has the English one's
// verbs, in order, so that {{t "%d days" .N}} never prints %!d.
func TestCatalogFormatsKeepVerbs(t *testing.T) {
	verbs := regexp.MustCompile(`%[-+# 0]*[0-9]*(\.[0-9]+)?[a-zA-Z%]`)
	for en, es := range spanish {
		if a, b := verbs.FindAllString(en, -1), verbs.FindAllString(es, -1); strings.Join(a, ",") != strings.Join(b, ",") {
			t.Errorf("%q has verbs %v, its Spanish %q has %v", en, a, es, b)
		}
	}
}

func TestAcceptLanguage(t *testing.T) {
	for h, want := range map[string]assistant.Language{
		"":                        assistant.English,
		"es":                      assistant.Spanish,
		"es-MX,es;q=0.9,en;q=0.8": assistant.Spanish,
		"en-US,en;q=0.9,es;q=0.8": assistant.English,
		"fr-FR,fr;q=0.9":          assistant.English,
		"fr;q=0.9,es;q=0.5":       assistant.Spanish,
		"de, es-419;q=0.7":        assistant.Spanish,
		"es;q=0.1,en;q=0.9":       assistant.English,
		"garbage;;;q==":           assistant.English,
	} {
		if got := acceptLanguage(h); got != want {
			t.Errorf("Accept-Language %q: %q, want %q", h, got, want)
		}
	}
}

// TestStatementWordsMatchTheCatalog: the statement document keeps its own
// Spanish words (package statement, shared with the partner API, cannot
// read the web's catalogue); where both translate the same English, they
// say the same, so the download reads as the page it came from.
func TestStatementWordsMatchTheCatalog(t *testing.T) {
	t.Parallel()
	shared := 0
	for en, es := range statement.SpanishWords() {
		if c, ok := spanish[en]; ok {
			shared++
			if c != es {
				t.Errorf("%q: the statement says %q, the pages %q", en, es, c)
			}
		}
	}
	if shared < 5 {
		t.Errorf("only %d words shared with the catalogue: is it still the catalogue?", shared)
	}
}
