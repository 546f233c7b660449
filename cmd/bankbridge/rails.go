package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/railsim"
)

func init() {
	commands["railsim"] = command{"run the local ACH operator emulator on its own (files in, settlements, returns, payroll credits)", railsimCmd}
	commands["rails"] = command{"payments over the rails: 'rails reconcile' compares the rail's records with the settlement account", railsCmd}
}

func railsimCmd(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("railsim", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	settle := fs.Duration("settle-after", 0, "how long a file waits before it settles (0: at once)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: railsim.New(railsim.Options{SettleAfter: *settle}).Handler(), ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: slog.NewLogLogger(slog.NewTextHandler(e.stderr, nil).WithAttrs(nil), slog.LevelWarn)}
	fmt.Fprintf(e.stdout, "railsim (the ACH operator) is running: http://%s/  (serve with --rails-url http://%s)\n", ln.Addr(), ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func railsCmd(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "reconcile" {
		return app.UsageError("usage: bankbridge rails reconcile [--json] [--database URL]")
	}
	var c app.Config
	fs := flag.NewFlagSet("rails reconcile", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.Flags(fs, e.getenv)
	asJSON := fs.Bool("json", false, "print the reconciliation as JSON")
	if err := app.Parse(fs, args[1:], &c); err != nil {
		return err
	}
	b, err := app.OpenBackend(ctx, &c)
	if err != nil {
		return err
	}
	defer b.Close()
	led := ledger.New(b.Ledger, b.LedgerOptions())
	defer led.Close()
	svc := rails.New(b.Rails, led, rails.Options{})
	r, err := svc.Reconcile(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"settlement_balance": r.Settlement.Balance, "expected": r.Expected,
			"difference": r.Difference, "outstanding": r.Outstanding, "unmatched": r.Unmatched, "totals": r.Totals,
			"receivable_balance": r.Receivable.Balance, "owed": r.Owed, "receivable_difference": r.ReceivableDifference,
			"exceptions_balance": r.Exceptions.Balance, "exceptions_waiting": r.Waiting.Count, "exceptions_waiting_amount": r.Waiting.Amount,
			"exceptions_resolved": r.Resolved.Count, "exceptions_resolved_held": r.Resolved.Amount})
	}
	fmt.Fprintf(e.stdout, "ACH settlement account: %s\nWhat the rail's records imply: %s\nDifference: %s\nHeld for payments not yet settled: %s\nInbound credits matching no account (owed back): %s\n",
		r.Settlement.Balance.Display("USD"), r.Expected.Display("USD"), r.Difference.Display("USD"), r.Outstanding.Display("USD"), r.Unmatched.Display("USD"))
	fmt.Fprintf(e.stdout, "ACH return receivable: %s\nOwed by customers on returned collections: %s\n", r.Receivable.Balance.Display("USD"), r.Owed.Display("USD"))
	fmt.Fprintf(e.stdout, "ACH return exceptions (in dispute: dishonoured returns, contests): %s\n", r.Exceptions.Balance.Display("USD"))
	fmt.Fprintf(e.stdout, "  waiting for an operator: %d (%s); settled by operators: %d (held %s)\n",
		r.Waiting.Count, r.Waiting.Amount.Display("USD"), r.Resolved.Count, r.Resolved.Amount.Display("USD"))
	for _, t := range r.Totals {
		fmt.Fprintf(e.stdout, "  %-14s %-10s %6d  %s\n", t.What, t.Status, t.Count, t.Amount.Display("USD"))
	}
	if r.Difference != 0 {
		return fmt.Errorf("rails: the settlement account differs from the rail's records by %s", r.Difference.Display("USD"))
	}
	if r.ReceivableDifference != 0 {
		return fmt.Errorf("rails: the return receivable differs from what customers owe by %s", r.ReceivableDifference.Display("USD"))
	}
	return nil
}
