package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/internal/app"
)

// TestCommandsRefuseBadVariables checks the variables subcommands read
// besides the common ones.
func TestCommandsRefuseBadVariables(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"SeedCustomers", []string{"seed"}, map[string]string{"BANKBRIDGE_CUSTOMERS": "many"}, `BANKBRIDGE_CUSTOMERS="many"`},
		{"SeedDays", []string{"seed"}, map[string]string{"BANKBRIDGE_DAYS": "-x"}, `BANKBRIDGE_DAYS="-x"`},
		{"SeedSeed", []string{"seed"}, map[string]string{"BANKBRIDGE_SEED": "-1"}, `BANKBRIDGE_SEED="-1"`},
		{"AuditRetention", []string{"audit", "prune", "--archive", "x"}, map[string]string{"BANKBRIDGE_AUDIT_RETENTION_DAYS": "a year"}, `BANKBRIDGE_AUDIT_RETENTION_DAYS="a year"`},
		{"SimLogLevel", []string{"sim"}, map[string]string{"BANKBRIDGE_LOG_LEVEL": "loud"}, "BANKBRIDGE_LOG_LEVEL"},
		{"ServeDemo", []string{"serve"}, map[string]string{"BANKBRIDGE_DEMO": "nope"}, `BANKBRIDGE_DEMO="nope"`},
		{"ServeMessengerURLs", []string{"serve", "--demo=false", "--addr", "127.0.0.1:0"},
			map[string]string{"BANKBRIDGE_MESSENGER_GRAPH_URL": "graph.example", "BANKBRIDGE_MESSENGER_REDIRECT_URI": "https//x"},
			`BANKBRIDGE_MESSENGER_GRAPH_URL="graph.example" is not an http(s):// URL` + "\n" + `BANKBRIDGE_MESSENGER_REDIRECT_URI="https//x"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"BANKBRIDGE_DATA": t.TempDir()}
			for k, v := range c.env {
				env[k] = v
			}
			// A regression would start the command for real: bound it.
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			err := run(ctx, append([]string{"bankbridge"}, c.args...), func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, io.Discard)
			if _, ok := err.(app.UsageError); !ok || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want a usage error naming %s", err, c.want)
			}
		})
	}
}
