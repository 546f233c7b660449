package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/bankbridge/bankbridge/internal/app"
)

func TestRun(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		args    []string
		wantErr string // "" for success
		wantOut string
	}{
		{"Help", []string{"help"}, "", "ledger"},
		{"NeedsABenchmark", nil, "name a benchmark", ""},
		{"LedgerUsage", []string{"frobnicate"}, "usage: bankbridge-bench ledger", ""},
		{"RejectsBadClients", []string{"ledger", "--clients", "0"}, "--clients", ""},
		{"RefusesBadVariables", []string{"ledger"}, "BANKBRIDGE_LOG_LEVEL", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			env := map[string]string{"BANKBRIDGE_LOG_LEVEL": "loud"}
			if c.name != "RefusesBadVariables" {
				env = nil
			}
			err := run(context.Background(), append([]string{"bankbridge-bench"}, c.args...), func(k string) string { return env[k] }, nil, &out, &errOut)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("error %v; stderr %s", err, errOut.String())
			case c.wantErr != "":
				if _, ok := err.(app.UsageError); !ok || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want a usage error with %q", err, c.wantErr)
				}
			}
			if !strings.Contains(out.String(), c.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", c.wantOut, out.String())
			}
		})
	}
}

func TestBenchLedgerSmall(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	err := run(context.Background(), []string{"bankbridge-bench", "ledger", "--json", "--clients", "4", "--accounts", "10", "--duration", "300ms"}, func(string) string { return "" }, nil, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"engine":"sqlite"`, `"transfers_per_sec"`, `"p50_ms"`, `"p99_ms"`, `"clients":4`, `"verified":true`} {
		if !strings.Contains(out.String(), field) {
			t.Errorf("bench JSON %s lacks %s", out.String(), field)
		}
	}
}
