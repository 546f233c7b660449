package bankbridge_test

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
)

const mod = "github.com/bankbridge/bankbridge"

// A layer is a band of DESIGN.md's picture. Arrows point down: a package may
// import only the layers its own layer lists in mayImport, so an edge cannot
// import another edge or a store, a store cannot import an edge, and only
// tests import test support.
type layer string

const (
	root      layer = "root"         // the shared vocabulary: errors, ids
	core      layer = "core"         // money and people: ledger, identity
	logic     layer = "logic"        // capabilities over core: consent, audit, alerts, insights...
	httpBase  layer = "http base"    // HTTP pieces edges share: problem+json, the authorization server
	edge      layer = "edge"         // HTTP in and out: the data API, web, channel adapters, emulators
	storage   layer = "storage"      // SQLite and PostgreSQL implementations of the Store interfaces
	transport layer = "transport"    // the NATS JetStream relay of the alerts outbox
	support   layer = "test support" // imported by tests only; never in the product
	wiring    layer = "wiring"       // what serve and the benchmarks both build: config, backend, servers
	command   layer = "command"      // flags, subcommands: the product's binary
	bench     layer = "bench"        // the benchmark command: not the product, so it may drive test support
)

// mayImport is which layers each layer may import. Nothing may import a
// command; only a command wires edges, stores and transports together.
var mayImport = map[layer][]layer{
	root:      {},
	core:      {root},
	logic:     {root, core, logic},
	httpBase:  {root, core, logic, httpBase},
	edge:      {root, core, logic, httpBase},
	storage:   {root, core, logic, storage},
	transport: {root, core, logic},
	support:   {root, core, logic, httpBase, edge, storage, transport, support},
	wiring:    {root, core, logic, httpBase, edge, storage, transport},
	command:   {root, core, logic, httpBase, edge, storage, transport, wiring},
	bench:     {root, core, logic, httpBase, edge, storage, transport, wiring, support},
}

// badDeps lists, per layer, packages outside the module that must not be
// among its dependencies, direct or not, and why. Every layer but support
// also keeps out "testing" (see TestLayers).
var badDeps = map[layer]map[string]string{
	root:      {"net/http": "the vocabulary knows no transport", "database/sql": "the vocabulary knows no database"},
	core:      {"net/http": "money and people know no transport", "database/sql": "core declares Store interfaces; stores implement them"},
	logic:     {"database/sql": "logic declares the Store it needs; stores implement it"},
	httpBase:  {"database/sql": "HTTP reaches data through the capabilities' interfaces"},
	edge:      {"database/sql": "edges reach data through the capabilities' interfaces"},
	storage:   {"net/http": "a store knows no HTTP"},
	transport: {"database/sql": "the relay reads the outbox through alerts' interfaces"},
}

// drivers are the database drivers: only stores, test support and the
// command that wires them may depend on them.
var drivers = []string{"github.com/mattn/go-sqlite3", "github.com/jackc/pgx/v5"}

// pkgRule is one row of the table: a package's layer and the module packages
// it may import directly (paths relative to the module; "" is the root).
type pkgRule struct {
	layer   layer
	imports []string
	// exceptions are imports that break the layer rules today, each with the
	// reason and the change that removes it. The test fails once one is no
	// longer needed, so an exception cannot outlive its reason.
	exceptions map[string]string
}

// packages is every package in the module. A package that is not here fails
// TestLayers, so a new one is placed in a layer the day it lands.
var packages = map[string]pkgRule{
	"": {layer: root},
	// backoff is one retry schedule for every layer; it knows only the clock.
	"backoff": {layer: root},
	// legible is the one rule for invisible characters in text for people;
	// every edge refuses or removes them with it.
	"legible": {layer: root},

	"ledger":   {layer: core, imports: []string{""}},
	"identity": {layer: core, imports: []string{"", "legible"}},

	"keyring":         {layer: logic, imports: []string{""}},
	"consent":         {layer: logic, imports: []string{"", "legible", "ledger"}},
	"audit":           {layer: logic, imports: []string{"", "ledger"}},
	"alerts":          {layer: logic, imports: []string{"", "backoff", "ledger", "legible"}},
	"insights":        {layer: logic, imports: []string{"", "backoff", "identity", "ledger"}},
	"limits":          {layer: logic, imports: []string{"", "ledger"}},
	"scheduled":       {layer: logic, imports: []string{"", "ledger", "limits", "rails"}},
	"assistant":       {layer: logic, imports: []string{"", "consent", "legible", "ledger", "limits"}},
	"channels":        {layer: logic, imports: []string{"", "assistant", "audit", "channels/inbox", "consent"}},
	"channels/inbox":  {layer: logic, imports: []string{"", "consent"}},
	"dataapi/records": {layer: logic, imports: []string{"", "ledger"}},
	"demo":            {layer: logic, imports: []string{"", "identity", "insights", "ledger"}},
	// statement is the monthly statement both the web app and the data API
	// serve: the model from the ledger, the PDF and the CSV.
	"statement": {layer: logic, imports: []string{"", "identity", "ledger", "legible"}},
	// rails originates and receives ACH files; it reads and writes
	// through its Store and speaks to the operator through Transport.
	"rails": {layer: logic, imports: []string{"", "ledger", "legible"}},

	"problem": {layer: httpBase, imports: []string{""}},
	// oauth serves the authorization endpoints and also verifies the tokens
	// it issued, which the data API needs; it sits below the edges for that.
	"oauth": {layer: httpBase, imports: []string{"", "consent", "ledger"}},

	"dataapi":              {layer: edge, imports: []string{"", "audit", "consent", "backoff", "dataapi/records", "identity", "legible", "ledger", "limits", "oauth", "problem", "rails", "statement"}},
	"web":                  {layer: edge, imports: []string{"", "alerts", "assistant", "audit", "consent", "dataapi/records", "identity", "insights", "legible", "ledger", "limits", "problem", "rails", "scheduled", "statement"}},
	"auditapi":             {layer: edge, imports: []string{"", "audit", "problem"}},
	"witness":              {layer: edge, imports: []string{"audit"}},
	"platformsim":          {layer: edge},
	"railsim":              {layer: edge},
	"channels/messenger":   {layer: edge, imports: []string{"", "assistant", "backoff", "channels"}},
	"channels/telegram":    {layer: edge, imports: []string{"", "assistant", "backoff", "channels"}},
	"channels/whatsapp":    {layer: edge, imports: []string{"", "assistant", "backoff", "channels"}},
	"store/sqlstore":       {layer: storage, imports: []string{"", "alerts", "assistant", "audit", "channels/inbox", "consent", "dataapi/records", "identity", "insights", "keyring", "ledger", "limits", "rails", "scheduled"}},
	"store/sqlite":         {layer: storage, imports: []string{"", "audit", "ledger", "store/sqlstore"}},
	"store/postgres":       {layer: storage, imports: []string{"", "audit", "ledger", "store/sqlstore"}},
	"alerts/stream":        {layer: transport, imports: []string{"alerts", "ledger"}},
	"audit/headkv":         {layer: transport, imports: []string{"audit"}},
	"store/storetest":      {layer: support, imports: []string{"", "alerts", "assistant", "audit", "channels/inbox", "consent", "dataapi/records", "identity", "insights", "keyring", "ledger", "limits", "rails", "railsim", "scheduled"}},
	"dataapi/dataapitest":  {layer: support, imports: []string{"", "consent", "ledger", "oauth"}},
	"internal/testdb":      {layer: support},
	"alerts/alertstest":    {layer: support},
	"internal/testbrowser": {layer: support},
	"internal/teststore":   {layer: support, imports: []string{"internal/testdb", "store/postgres", "store/sqlite", "store/sqlstore"}},

	"ledger/ledgertest": {layer: support, imports: []string{"ledger"}},

	"internal/app": {layer: wiring,
		imports: []string{"", "alerts", "alerts/stream", "assistant", "audit", "auditapi", "backoff", "channels", "channels/messenger", "channels/telegram", "channels/whatsapp",
			"consent", "dataapi", "dataapi/records", "identity", "insights", "keyring", "ledger", "limits", "oauth", "platformsim", "problem",
			"rails", "railsim", "scheduled", "store/postgres", "store/sqlite", "web"}},
	"cmd/bankbridge": {layer: command,
		imports: []string{"", "alerts", "alerts/stream", "assistant", "audit", "audit/headkv", "auditapi", "channels", "consent", "demo",
			"identity", "insights", "internal/app", "keyring", "ledger", "oauth", "platformsim", "rails", "railsim", "witness"}},
	"cmd/bankbridge-bench": {layer: bench,
		imports: []string{"", "alerts", "alerts/stream", "assistant", "audit", "channels/messenger", "consent", "dataapi",
			"dataapi/dataapitest", "demo", "identity", "insights", "internal/app", "keyring", "ledger", "oauth", "platformsim",
			"rails", "railsim", "store/postgres", "store/sqlite"}},
}

// pkg is what `go list -json` says of one package, the parts we check.
type pkg struct {
	ImportPath string
	Name       string
	Doc        string
	Imports    []string
	Deps       []string
	DepOnly    bool
}

// listModule runs `go list -deps -json ./...` once for every test in this
// file and returns the module's own packages.
var listModule = sync.OnceValues(func() ([]pkg, error) {
	out, err := exec.Command("go", "list", "-deps", "-json", "./...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, errors.New(string(ee.Stderr))
		}
		return nil, err
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		if !p.DepOnly {
			pkgs = append(pkgs, p)
		}
	}
	return pkgs, nil
})

func modulePackages(t *testing.T) []pkg {
	t.Helper()
	pkgs, err := listModule()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	return pkgs
}

// rel turns an import path into the table's key; ok is false outside the module.
func rel(path string) (string, bool) {
	if path == mod {
		return "", true
	}
	r, ok := strings.CutPrefix(path, mod+"/")
	return r, ok
}

func show(r string) string {
	if r == "" {
		return "the root package"
	}
	return r
}

// TestLayerTable checks the table against the layer rules, so that a row
// cannot grant what the layers forbid without naming an exception.
func TestLayerTable(t *testing.T) {
	t.Parallel()
	for name, r := range packages {
		if _, ok := mayImport[r.layer]; !ok {
			t.Errorf("%s: unknown layer %q", show(name), r.layer)
			continue
		}
		for _, imp := range r.imports {
			to, ok := packages[imp]
			if !ok {
				t.Errorf("%s may import %s, which is not in the table", show(name), show(imp))
				continue
			}
			allowed := slices.Contains(mayImport[r.layer], to.layer)
			_, excepted := r.exceptions[imp]
			switch {
			case !allowed && !excepted:
				t.Errorf("%s (%s) may import %s (%s), which its layer must not", show(name), r.layer, show(imp), to.layer)
			case allowed && excepted:
				t.Errorf("%s lists %s as an exception, but its layer allows it; drop the exception", show(name), show(imp))
			}
		}
		for imp := range r.exceptions {
			if !slices.Contains(r.imports, imp) {
				t.Errorf("%s has an exception for %s, which it may not import at all; drop it", show(name), show(imp))
			}
		}
	}
}

// TestLayers checks every package of the module against the table: it is in
// it, it imports only what its row allows, nothing its layer keeps out is
// among its dependencies, and the table has no row or grant that the code
// no longer needs.
func TestLayers(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, p := range modulePackages(t) {
		name, ok := rel(p.ImportPath)
		if !ok {
			continue
		}
		seen[name] = true
		r, ok := packages[name]
		if !ok {
			t.Errorf("package %s is not in shape_test.go's table: give it a layer and the imports it may have", p.ImportPath)
			continue
		}
		var used []string
		for _, imp := range p.Imports {
			to, ok := rel(imp)
			if !ok {
				continue
			}
			used = append(used, to)
			if !slices.Contains(r.imports, to) {
				t.Errorf("%s imports %s, which the table does not allow", show(name), show(to))
			}
		}
		for _, imp := range r.imports {
			if !slices.Contains(used, imp) {
				t.Errorf("the table lets %s import %s, which it no longer does; remove it from the row", show(name), show(imp))
			}
		}
		for _, d := range p.Deps {
			if why, bad := badDeps[r.layer][d]; bad {
				t.Errorf("%s (%s) depends on %s: %s", show(name), r.layer, d, why)
			}
			if d == "testing" && r.layer != support && r.layer != bench {
				t.Errorf("%s (%s) depends on testing: nothing built for tests belongs in the product", show(name), r.layer)
			}
			if slices.Contains(drivers, d) && !slices.Contains([]layer{storage, support, wiring, command, bench}, r.layer) {
				t.Errorf("%s (%s) depends on the driver %s: only stores talk to a database", show(name), r.layer, d)
			}
		}
	}
	for name := range packages {
		if !seen[name] {
			t.Errorf("the table lists %s, which is not a package of the module any more", show(name))
		}
	}
}

// TestEveryPackageIsDocumented asks each package for a doc comment saying
// what it owns and must never do.
func TestEveryPackageIsDocumented(t *testing.T) {
	t.Parallel()
	for _, p := range modulePackages(t) {
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
