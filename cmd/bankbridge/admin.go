package main

import (
	"context"
	"flag"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/ledger"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

func init() {
	commands["migrate"] = command{"apply database migrations and list them", migrateCmd}
	commands["version"] = command{"print the version", versionCmd}
	commands["ledger"] = command{"ledger tools: 'ledger verify' proves balances equal the postings", ledgerCmd}
}

func migrateCmd(ctx context.Context, e env, args []string) error {
	var c app.Config
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.Flags(fs, e.getenv)
	if err := app.Parse(fs, args, &c); err != nil {
		return err
	}
	b, err := app.OpenBackend(ctx, &c) // opening applies the migrations
	if err != nil {
		return err
	}
	defer b.Close()
	vs, err := b.Versions(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s is at migration %s (%d applied: %s)\n", b, vs[len(vs)-1], len(vs), strings.Join(vs, ", "))
	return nil
}

func versionCmd(ctx context.Context, e env, args []string) error {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" {
		v = "dev (" + bi.GoVersion + ")"
	}
	fmt.Fprintln(e.stdout, "bankbridge", v)
	return nil
}

func ledgerCmd(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return app.UsageError("usage: bankbridge ledger verify [--data DIR | --database URL]")
	}
	var c app.Config
	fs := flag.NewFlagSet("ledger verify", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.Flags(fs, e.getenv)
	if err := app.Parse(fs, args[1:], &c); err != nil {
		return err
	}
	b, err := app.OpenBackend(ctx, &c)
	if err != nil {
		return err
	}
	defer b.Close()
	r, err := b.Ledger.Verify(ctx)
	if err != nil {
		return err
	}
	return report(e, r)
}

func report(e env, r ledger.Report) error {
	fmt.Fprintf(e.stdout, "checked %d accounts, %d transfers, %d postings\n", r.Accounts, r.Transfers, r.Postings)
	if r.OK() {
		fmt.Fprintln(e.stdout, "ledger OK: every balance equals the fold of its postings, every transfer and currency sums to zero, no account is past its limit")
		return nil
	}
	for _, p := range r.Problems {
		fmt.Fprintln(e.stdout, "PROBLEM:", p)
	}
	return fmt.Errorf("ledger verify found %d problems", len(r.Problems))
}
