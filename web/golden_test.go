package web_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bankbridge/bankbridge/ledger"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the pages rendered now")

// tokenRe matches the per-session and per-login random tokens, scrubbed so
// the rest of each page can be compared byte for byte.
var tokenRe = regexp.MustCompile(`name="(csrf|key)" value="[^"]+"`)

func TestGoldenPages(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	c := b.customer("Ada Lovelace", "ada@example.com")
	b.account(c.ID, "Everyday checking", ledger.Checking, 1234567)
	b.account(c.ID, "Rainy day savings", ledger.Savings, 50)
	anon, br := b.browser(), b.browser()
	br.login("", "ada@example.com")
	tests := []struct {
		name string
		br   *browser
		path string
	}{
		{"login", anon, "/login"},
		{"accounts", br, "/accounts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.br.get(tt.path)
			got := tokenRe.ReplaceAllString(res.body, `name="$1" value="SCRUBBED"`)
			path := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./web -run TestGoldenPages -update)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s differs from %s (-want +got); if intended, rerun with -update:\n%s", tt.path, path, diff)
			}
		})
	}
}
