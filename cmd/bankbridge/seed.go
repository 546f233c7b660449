package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge/demo"
	"github.com/bankbridge/bankbridge/identity"
)

func init() {
	commands["seed"] = command{"fill an empty database with a reproducible demo bank", seedCmd}
}

func seedCmd(ctx context.Context, e env, args []string) error {
	var c Config
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.flags(fs, e.getenv)
	var o demo.Options
	customers, days, seed := "1000", "90", "1"
	for name, p := range map[string]*string{"customers": &customers, "days": &days, "seed": &seed} {
		if v := e.getenv(envName(name)); v != "" {
			*p = v
		}
	}
	fs.StringVar(&customers, "customers", customers, "customers to create (env BANKBRIDGE_CUSTOMERS)")
	fs.StringVar(&days, "days", days, "days of history, ending today 00:00 UTC (env BANKBRIDGE_DAYS)")
	fs.StringVar(&seed, "seed", seed, "random seed: the same seed gives the same bank (env BANKBRIDGE_SEED)")
	if err := parse(fs, args, &c); err != nil {
		return err
	}
	var errs []string
	var err error
	if o.Customers, err = strconv.Atoi(customers); err != nil || o.Customers < 1 || o.Customers > demo.MaxCustomers {
		errs = append(errs, fmt.Sprintf("--customers must be a number from 1 to %d, not %q", demo.MaxCustomers, customers))
	}
	if o.Days, err = strconv.Atoi(days); err != nil || o.Days < 1 || o.Days > 3650 {
		errs = append(errs, fmt.Sprintf("--days must be a number from 1 to 3650, not %q", days))
	}
	if o.Seed, err = strconv.ParseUint(seed, 10, 64); err != nil || o.Seed == 0 {
		errs = append(errs, fmt.Sprintf("--seed must be a positive number, not %q", seed))
	}
	if len(errs) > 0 {
		return usageError{strings.Join(errs, "\n")}
	}
	b, err := openBackend(ctx, &c)
	if err != nil {
		return err
	}
	defer b.close()

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
	ids := identity.New(b.identity, identity.Options{})
	res, err := demo.Seed(ctx, demo.Deps{Identity: ids, Ledger: b.ledger}, o)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintf(e.stdout, "Seeded %d customers, %d accounts, %d cards, %d payees, %d merchants, %d transfers in %s.\n",
		res.Customers, res.Accounts, res.Cards, res.Payees, res.Merchants, res.Transfers, res.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(e.stdout, "Demo logins:\n  customer  %s / %s\n  staff     %s, %s, %s, %s / %s\n",
		demo.CustomerEmail, demo.CustomerPassword, demo.AdminEmail, demo.AgentEmail, demo.ComplianceEmail, demo.AnalystEmail, demo.StaffPassword)
	return nil
}
