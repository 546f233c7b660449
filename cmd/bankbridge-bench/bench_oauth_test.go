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

// TestBenchOAuth runs `bench oauth` briefly on each engine and checks it
// reports the three scenarios, each with successful calls and no errors
// (every grant and API call succeeded over loopback). It checks what the
// command reports, never how fast.
func TestBenchOAuth(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			args := []string{"bankbridge-bench", "oauth", "--duration", "300ms", "--clients", "2", "--json"}
			if engine == "postgres" {
				// The bench makes (and drops) its own schema beside the test's.
				args = append(args, "--database", testdb.PostgresURL(t))
			}
			var out, errb bytes.Buffer
			if err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &out, &errb); err != nil {
				t.Fatalf("bench oauth: %v\n%s", err, errb.String())
			}
			var names []string
			dec := json.NewDecoder(&out)
			for dec.More() {
				var s oauthScenario
				if err := dec.Decode(&s); err != nil {
					t.Fatal(err)
				}
				names = append(names, s.Name)
				if s.Engine != engine || s.Calls == 0 || s.RPS <= 0 || s.P50 <= 0 || s.P99 < s.P50 || s.Errors != 0 {
					t.Errorf("scenario %+v: want engine %s, calls, p99 >= p50 > 0 and no errors", s, engine)
				}
			}
			if d := cmp.Diff([]string{"token_refresh", "api_call", "verifier"}, names); d != "" {
				t.Errorf("scenarios (-want +got):\n%s", d)
			}
		})
	}
}
