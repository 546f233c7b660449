package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/postgres"
)

// startServer runs run() as `bankbridge serve` on port 0, with no drain
// (args may set one), and returns its base URL and a stop function that
// shuts it down and reports run's error.
func startServer(t *testing.T, env map[string]string, args ...string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan error, 1)
	getenv := func(k string) string { return env[k] }
	go func() {
		done <- run(ctx, append([]string{"bankbridge", "serve", "--addr", "127.0.0.1:0", "--drain", "0"}, args...), getenv, strings.NewReader(""), pw, &stderr)
		pw.Close()
	}()
	addr := make(chan string, 1)
	var out strings.Builder
	go func() {
		sc := bufio.NewScanner(pr)
		re := regexp.MustCompile(`listening on (\S+)`)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- "http://" + m[1]
			}
		}
	}()
	var base string
	select {
	case base = <-addr:
	case err := <-done:
		t.Fatalf("serve exited early: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), stderr.String())
	case <-time.After(90 * time.Second):
		t.Fatalf("serve did not start\nstderr:\n%s", stderr.String())
	}
	var stopped bool
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not shut down within 30 s")
			return nil
		}
	}
	t.Cleanup(func() { stop() })
	return base, stop
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	for _, engine := range append(testdb.Engines, "sqlite+nats") {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			args := []string{"--data", t.TempDir(), "--demo-customers", "15"}
			switch engine {
			case "postgres":
				args = append(args, "--database", testdb.MigratedPostgresURL(t, postgres.Migrations(), postgres.Open))
			case "sqlite+nats": // ledger events relayed through JetStream
				args = append(args, "--events", "nats://127.0.0.1:4222")
			}
			base, stop := startServer(t, nil, args...)
			if code, body, _ := get(t, base+"/healthz"); code != 200 || !strings.Contains(body, "ok") {
				t.Errorf("/healthz = %d %q", code, body)
			}
			if code, _, _ := get(t, base+"/readyz"); code != 200 {
				t.Errorf("/readyz = %d", code)
			}
			if code, body, _ := get(t, base+"/metrics"); code != 200 || !strings.Contains(body, "bankbridge_http_requests_total") || !strings.Contains(body, "bankbridge_ledger_batch_ops") ||
				!strings.Contains(body, "bankbridge_insights_events_dropped") || !strings.Contains(body, "bankbridge_insights_events_failed") {
				t.Errorf("/metrics = %d, missing the request, batch or insights counters", code)
			}
			code, body, h := get(t, base+"/login")
			if code != 200 || !strings.Contains(body, "<form") {
				t.Errorf("/login = %d", code)
			}
			if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src") {
				t.Errorf("/login has no Content-Security-Policy: %q", csp)
			}
			if code, body, _ := get(t, base+"/railsim/"); code != 200 || !strings.Contains(body, "ACH operator") {
				t.Errorf("/railsim/ = %d, want the rail emulator's page", code)
			}
			if h.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
			// The head as a checkpoint, from the signer's memory (with
			// NATS, the cluster's key-value bucket).
			sth := waitHead(t, base, 1)
			deadline := time.Now().Add(10 * time.Second)
			for {
				code, body, _ := get(t, base+"/audit/v1/checkpoint")
				cp, err := audit.OpenCheckpoint(audit.DefaultOrigin, []byte(body), sth.PublicKey)
				if code == 200 && err == nil && cp.Head.Size >= sth.Size {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("/audit/v1/checkpoint = %d %v\n%s", code, err, body)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err := stop(); err != nil {
				t.Errorf("graceful shutdown: %v", err)
			}
		})
	}
}

func TestRestartKeepsDataAndDoesNotReseed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, stop := startServer(t, nil, "--data", dir, "--demo-customers", "5")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"bankbridge", "ledger", "verify", "--data", dir}, func(string) string { return "" }, nil, &out, io.Discard); err != nil {
		t.Fatalf("ledger verify after serve: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "ledger OK") {
		t.Errorf("verify output: %s", out.String())
	}
	before := out.String()
	_, stop = startServer(t, nil, "--data", dir, "--demo-customers", "5")
	stop()
	out.Reset()
	run(context.Background(), []string{"bankbridge", "ledger", "verify", "--data", dir}, func(string) string { return "" }, nil, &out, io.Discard)
	if out.String() != before {
		t.Errorf("second start changed the ledger (reseeded?):\nbefore %s\nafter  %s", before, out.String())
	}
}

func TestCommandLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string // substring; "" means success
		wantOut string
	}{
		{"Version", []string{"version"}, nil, "", "bankbridge"},
		{"Help", []string{"help"}, nil, "", "ledger"},
		{"UnknownCommand", []string{"frobnicate"}, nil, `unknown command "frobnicate"`, ""},
		{"MigrateSQLite", []string{"migrate", "--data", dir}, nil, "", "0001_ledger"},
		{"MigrateFromEnv", []string{"migrate"}, map[string]string{"BANKBRIDGE_DATA": filepath.Join(dir, "env")}, "", "sqlite database"},
		{"BadFlagsAllReported", []string{"serve", "--log-level", "loud", "--log-format", "xml", "--database", "mysql://x"}, nil, "--log-level", ""},
		{"BadCluster", []string{"serve", "--cluster", "bank.a"}, nil, `--cluster (env BANKBRIDGE_CLUSTER): cluster name "bank.a" must be`, ""},
		{"BadClusterFromEnv", []string{"serve"}, map[string]string{"BANKBRIDGE_CLUSTER": "bank a"}, `cluster name "bank a"`, ""},
		{"BadWitnessFromEnv", []string{"serve"}, map[string]string{"BANKBRIDGE_WITNESS": "http://w.example,ftp://x"}, `--witness (env BANKBRIDGE_WITNESS) "ftp://x" must be an http(s) URL`, ""},
		{"WitnessNeedsLogKeys", []string{"witness", "--data", filepath.Join(dir, "w")}, nil, "needs the bank's log keys", ""},
		{"BadDatabaseURL", []string{"migrate", "--database", "ftp://x"}, nil, "postgres:// URL", ""},
		{"BenchIsItsOwnCommand", []string{"bench", "ledger"}, nil, `unknown command "bench"`, ""},
		{"VerifyEmpty", []string{"ledger", "verify", "--data", filepath.Join(dir, "v")}, nil, "", "ledger OK"},
		{"RailsReconcileEmpty", []string{"rails", "reconcile", "--data", filepath.Join(dir, "r")}, nil, "", "Difference: 0.00 USD"},
		{"RailsNeedsReconcile", []string{"rails"}, nil, "usage: bankbridge rails reconcile", ""},
		{"BadModeFromEnv", []string{"serve"}, map[string]string{"BANKBRIDGE_MODE": "shadow"}, `--mode (env BANKBRIDGE_MODE) must be own or mirror, not "shadow"`, ""},
		{"MirrorReconcileEmpty", []string{"mirror", "reconcile", "--data", filepath.Join(dir, "m")}, nil, "", "0 accounts mirrored, 0 differ"},
		{"MirrorNeedsASubcommand", []string{"mirror"}, nil, "usage: bankbridge mirror import", ""},
		{"BadRailsRouting", []string{"serve", "--rails-routing", "021000088"}, nil, "--rails-routing (env BANKBRIDGE_RAILS_ROUTING)", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			err := run(context.Background(), append([]string{"bankbridge"}, c.args...), func(k string) string { return c.env[k] }, nil, &out, &errOut)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("err = %v\nstderr: %s", err, errOut.String())
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("err = %v, want it to mention %q", err, c.wantErr)
			}
			if !strings.Contains(out.String(), c.wantOut) {
				t.Errorf("stdout %q does not contain %q", out.String(), c.wantOut)
			}
		})
	}
	// Every problem of a bad configuration is reported at once.
	err := run(context.Background(), []string{"bankbridge", "serve", "--log-level", "loud", "--log-format", "xml"}, func(string) string { return "" }, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--log-level") || !strings.Contains(err.Error(), "--log-format") {
		t.Errorf("config errors not all reported: %v", err)
	}
}

func TestSeedThenVerify(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out bytes.Buffer
	noenv := func(string) string { return "" }
	if err := run(context.Background(), []string{"bankbridge", "seed", "--customers", "20", "--days", "5", "--data", dir}, noenv, nil, &out, io.Discard); err != nil {
		t.Fatalf("seed: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "20 customers") && !strings.Contains(out.String(), "customers: 20") {
		t.Logf("seed output: %s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"bankbridge", "ledger", "verify", "--data", dir}, noenv, nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "ledger OK") {
		t.Fatalf("verify after seed: %v\n%s", err, out.String())
	}
	// Seeding a seeded database is refused with a plain message.
	err := run(context.Background(), []string{"bankbridge", "seed", "--customers", "20", "--days", "5", "--data", dir}, noenv, nil, io.Discard, io.Discard)
	if err == nil {
		t.Error("second seed into the same database succeeded")
	}
}
