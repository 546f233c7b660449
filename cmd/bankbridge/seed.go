package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge/demo"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/app"
)

func init() {
	commands["seed"] = command{"fill an empty database with a reproducible demo bank", seedCmd}
}

func seedCmd(ctx context.Context, e env, args []string) error {
	var c app.Config
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.Flags(fs, e.getenv)
	var o demo.Options
	f := c.EnvFlags(fs, e.getenv)
	f.Int(&o.Customers, "customers", 1000, "customers to create")
	f.Int(&o.Days, "days", 90, "days of history, ending today 00:00 UTC")
	f.Uint64(&o.Seed, "seed", 1, "random seed: the same seed gives the same bank")
	if err := app.Parse(fs, args, &c); err != nil {
		return err
	}
	var errs []string
	if o.Customers < 1 || o.Customers > demo.MaxCustomers {
		errs = append(errs, fmt.Sprintf("--customers must be a number from 1 to %d, not %d", demo.MaxCustomers, o.Customers))
	}
	if o.Days < 1 || o.Days > 3650 {
		errs = append(errs, fmt.Sprintf("--days must be a number from 1 to 3650, not %d", o.Days))
	}
	if o.Seed == 0 {
		errs = append(errs, "--seed must be a positive number, not 0")
	}
	if len(errs) > 0 {
		return app.UsageError(strings.Join(errs, "\n"))
	}
	b, err := app.OpenBackend(ctx, &c)
	if err != nil {
		return err
	}
	defer b.Close()

	fmt.Fprintf(e.stdout, "Seeding %s: %d customers, %d days, seed %d\n", b, o.Customers, o.Days, o.Seed)
	began := time.Now()
	last := time.Time{}
	o.Progress = func(stage string, done, total int) {
		// At most one line every two seconds, and the end of each stage.
		if now := time.Now(); done == total || now.Sub(last) >= 2*time.Second {
			last = now
			fmt.Fprintf(e.stderr, "  %-9s %d/%d  (%s)\n", stage, done, total, now.Sub(began).Round(time.Second))
		}
	}
	ids := identity.New(b.Identity, identity.Options{})
	// Under serve's seeding lease: a serve of the fleet seeding the same
	// empty database at the same moment goes first or second, and the
	// second finds the bank seeded (demo.ErrSeeded) rather than doubling it.
	var res demo.Result
	err = b.Lease.RunExclusive(ctx, seedLease, func(ctx context.Context) error {
		res, err = demo.Seed(ctx, demo.Deps{Identity: ids, Ledger: b.Ledger}, o)
		return err
	})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintf(e.stdout, "Seeded %d customers, %d accounts, %d cards, %d payees, %d merchants, %d transfers in %s.\n",
		res.Customers, res.Accounts, res.Cards, res.Payees, res.Merchants, res.Transfers, res.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(e.stdout, "Demo logins:\n  customer  %s / %s\n  staff     %s, %s, %s, %s / %s\n",
		demo.CustomerEmail, demo.CustomerPassword, demo.AdminEmail, demo.AgentEmail, demo.ComplianceEmail, demo.AnalystEmail, demo.StaffPassword)
	return nil
}
