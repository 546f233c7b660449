package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bankbridge/bankbridge/internal/testdb"
)

// TestBenchAPI runs `bench api` small and briefly on each engine and
// checks it reports the two baselines and the three scenarios, each with
// successful calls and no errors (every call passed the token, consent and
// audit over loopback and answered 200). It checks what the command
// reports, never how fast.
func TestBenchAPI(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			args := []string{"bankbridge-bench", "api", "--customers", "50", "--linked", "5", "--transactions", "500",
				"--rate", "100", "--tx-rate", "20", "--duration", "300ms", "--warmup", "0s", "--json"}
			if engine == "postgres" {
				// The bench makes (and drops) its own schema beside the test's.
				args = append(args, "--database", testdb.PostgresURL(t))
			}
			var out, errb bytes.Buffer
			if err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &out, &errb); err != nil {
				t.Fatalf("bench api: %v\n%s", err, errb.String())
			}
			var names []string
			dec := json.NewDecoder(&out)
			for dec.More() {
				var s apiScenario
				if err := dec.Decode(&s); err != nil {
					t.Fatal(err)
				}
				names = append(names, s.Name)
				if s.Engine != engine || s.Calls == 0 || s.RPS <= 0 || s.P50 <= 0 || s.P99 < s.P50 || s.P999 < s.P99 || s.Errors != 0 {
					t.Errorf("scenario %+v: want engine %s, calls, p99.9 >= p99 >= p50 > 0 and no errors", s, engine)
				}
				// A share in percent; this test runs where the canary can read its thread's CPU time.
				if s.CPUSlowPct < 0 || s.CPUSlowPct > 100 {
					t.Errorf("scenario %s: cpu_slow_pct %v, want 0-100", s.Name, s.CPUSlowPct)
				}
				// The baselines have no server and no calls; every scenario has both.
				baseline := s.Name == "disk_fsync" || strings.HasPrefix(s.Name, "cpu_p256_verify")
				// The floor is a bare HTTP server (floorServer): it is timed by its client only.
				floor := s.Name == "floor_http_verify"
				if server := s.ServerP50 > 0 && s.ServerP99 >= s.ServerP50; server == (baseline || floor) {
					t.Errorf("scenario %s: server p50 %v, p99 %v", s.Name, s.ServerP50, s.ServerP99)
				}
				if calls := s.ProcessCPUPerCall > 0; calls == baseline {
					t.Errorf("scenario %s: process CPU per call %v µs", s.Name, s.ProcessCPUPerCall)
				}
				// A page is compared with balances at its own rate and at --rate.
				if page := strings.HasPrefix(s.Name, "transactions_"); page != (s.PerBalances > 0 && s.PerBalancesAtRate > 0) {
					t.Errorf("scenario %s: cpu over balances %v, at --rate %v", s.Name, s.PerBalances, s.PerBalancesAtRate)
				}
				// Balances is compared with the floor measured in the same run.
				if (s.PerFloor > 0) != (s.Name == "balances") {
					t.Errorf("scenario %s: cpu over the floor %v", s.Name, s.PerFloor)
				}
				// The partner's calls come from a process of its own, which measures itself.
				if client := s.ClientCPUPerCall > 0; client == baseline {
					t.Errorf("scenario %s: client process CPU per call %v µs", s.Name, s.ClientCPUPerCall)
				}
			}
			if d := cmp.Diff([]string{"disk_fsync", "cpu_p256_verify", "cpu_p256_verify_paced", "floor_http_verify", "balances", "balances_at_tx_rate", "transactions_first_page", "transactions_deep_page"}, names); d != "" {
				t.Errorf("scenarios (-want +got):\n%s", d)
			}
		})
	}
}

func TestBenchAPIRejectsBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--customers", "0"},
		{"--customers", "10", "--linked", "11"},
		{"--rate", "0"},
		{"--duration", "0s"},
	} {
		var out, errb bytes.Buffer
		err := run(context.Background(), append([]string{"bankbridge-bench", "api"}, args...), func(string) string { return "" },
			strings.NewReader(""), &out, &errb)
		if err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
