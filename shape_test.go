package bankbridge_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// pkg is what `go list -json` says of one package, the parts we check.
type pkg struct {
	ImportPath string
	Name       string
	Doc        string
	Deps       []string
	Imports    []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

const mod = "github.com/bankbridge/bankbridge"

// TestDependencyArrows keeps DESIGN.md's arrows pointing down: money and
// identity at the bottom know nothing above them, stores know no HTTP,
// edges do not import stores or each other, nothing imports cmd.
func TestDependencyArrows(t *testing.T) {
	t.Parallel()
	rules := []struct {
		pkg       string // import path prefix the rule applies to
		forbidden []string
	}{
		{mod, []string{mod + "/"}}, // the root is the vocabulary only
		{mod + "/ledger", []string{"net/http", mod + "/identity", mod + "/consent", mod + "/store", mod + "/web", mod + "/problem"}},
		{mod + "/identity", []string{"net/http", mod + "/ledger", mod + "/consent", mod + "/store", mod + "/web", mod + "/problem"}},
		{mod + "/problem", []string{mod + "/ledger", mod + "/identity", mod + "/store", mod + "/web"}},
		{mod + "/store", []string{"net/http", mod + "/web", mod + "/problem", mod + "/cmd"}},
		{mod + "/web", []string{mod + "/store", mod + "/cmd", "github.com/mattn/go-sqlite3", "github.com/jackc/pgx"}},
		{mod + "/demo", []string{"net/http", mod + "/store", mod + "/web"}},
		// The keyring knows only crypto and the vocabulary: the log, OAuth and
		// the channels use it, never the other way round.
		{mod + "/keyring", []string{"net/http", mod + "/store", mod + "/web", mod + "/audit", mod + "/oauth", mod + "/consent", mod + "/channels", mod + "/ledger", mod + "/identity"}},
	}
	for _, p := range listPackages(t) {
		for _, d := range p.Deps {
			if strings.HasPrefix(d, mod+"/cmd") {
				t.Errorf("%s imports %s: nothing may import cmd", p.ImportPath, d)
			}
		}
		for _, r := range rules {
			if p.ImportPath != r.pkg && !strings.HasPrefix(p.ImportPath, r.pkg+"/") {
				continue
			}
			if r.pkg == mod && p.ImportPath != mod {
				continue
			}
			for _, d := range p.Deps {
				for _, f := range r.forbidden {
					if d == f || strings.HasPrefix(d, f+"/") || (strings.HasSuffix(f, "/") && strings.HasPrefix(d, f)) {
						if strings.HasPrefix(d, mod+"/internal/") {
							continue
						}
						t.Errorf("%s depends on %s, which its layer must not", p.ImportPath, d)
					}
				}
			}
		}
	}
}

// TestEveryPackageIsDocumented asks each package for a doc comment saying
// what it owns and must never do.
func TestEveryPackageIsDocumented(t *testing.T) {
	t.Parallel()
	for _, p := range listPackages(t) {
		if p.Doc == "" {
			t.Errorf("package %s has no doc comment (add a doc.go)", p.ImportPath)
		}
		for _, bad := range []string{"util", "utils", "common", "helpers", "models", "misc"} {
			if p.Name == bad {
				t.Errorf("package %s is named %q; name it for what it owns", p.ImportPath, bad)
			}
		}
	}
}
