package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
)

func init() {
	commands["mirror"] = command{"mirror mode: 'mirror import FILE...' posts the core's camt.053 statements (and camt.054 notifications), 'mirror reconcile' compares balances with the core's", mirrorCmd}
}

// mirrorLease is the lease the importer runs under: one import at a time
// in a fleet (the import is safe without it, by its keys; the lease keeps
// two importers from doing the same work twice).
const mirrorLease = app.MirrorLease

func mirrorCmd(ctx context.Context, e env, args []string) error {
	const usage = "usage: bankbridge mirror import [--json] [--database URL] FILE... | bankbridge mirror reconcile [--json] [--database URL]"
	if len(args) == 0 || (args[0] != "import" && args[0] != "reconcile") {
		return app.UsageError(usage)
	}
	var c app.Config
	fs := flag.NewFlagSet("mirror "+args[0], flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.Flags(fs, e.getenv)
	asJSON := fs.Bool("json", false, "print the outcome as JSON")
	var files []string
	if args[0] == "import" {
		// Files follow the flags.
		if err := fs.Parse(args[1:]); err != nil {
			return app.Parse(fs, args[1:], &c)
		}
		files = fs.Args()
		if len(files) == 0 {
			return app.UsageError(usage)
		}
		if err := app.Parse(fs, args[1:len(args)-len(files)], &c); err != nil {
			return err
		}
	} else if err := app.Parse(fs, args[1:], &c); err != nil {
		return err
	}
	// Every file is read whole before anything is posted: a malformed or
	// truncated one stops the import with the element named.
	var stmts []rails.Statement
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		ss, err := rails.ParseCore(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		stmts = append(stmts, ss...)
	}
	b, err := app.OpenBackend(ctx, &c)
	if err != nil {
		return err
	}
	defer b.Close()
	led := ledger.New(b.Ledger, b.LedgerOptions())
	defer led.Close()
	// The core's bookings of payments sent to it as pain.001 settle them
	// here too, before their debits post (docs/rails.md, "Payments out").
	settle := rails.New(b.Rails, led, rails.Options{})
	m := rails.NewMirror(b.Mirror, b.Ledger, rails.MirrorOptions{AccountByNumber: b.Rails.AccountByNumber, Booked: settle.SettleFromCore})
	if args[0] == "reconcile" {
		return mirrorReconcile(ctx, e, m, *asJSON)
	}
	var res []rails.ImportResult
	var ierr error
	if err := b.Lease.RunExclusive(ctx, mirrorLease, func(ctx context.Context) error {
		res, ierr = m.Import(ctx, stmts)
		return nil
	}); err != nil {
		return err
	}
	if *asJSON {
		type row struct {
			Account  string `json:"account"`
			Seq      int64  `json:"seq"`
			ID       string `json:"statement"`
			Outcome  string `json:"outcome"`
			Posted   int    `json:"posted"`
			Replayed int    `json:"replayed"`
			Refused  int    `json:"refused"`
			Error    string `json:"error,omitempty"`
		}
		rows := make([]row, len(res))
		for i, r := range res {
			rows[i] = row{r.Account.Masked(), r.Seq, r.ID, r.Outcome, r.Posted, r.Replayed, r.Refused, ""}
			if r.Err != nil {
				rows[i].Error = r.Err.Error()
			}
		}
		if err := json.NewEncoder(e.stdout).Encode(rows); err != nil {
			return err
		}
	} else {
		for _, r := range res {
			fmt.Fprintf(e.stdout, "%s statement %d (%s): %s, %d entries posted, %d posted before, %d refused\n",
				r.Account.Masked(), r.Seq, r.ID, r.Outcome, r.Posted, r.Replayed, r.Refused)
			if r.Err != nil {
				fmt.Fprintf(e.stdout, "  %v\n", r.Err)
			}
		}
	}
	return ierr
}

func mirrorReconcile(ctx context.Context, e env, m *rails.Mirror, asJSON bool) error {
	rep, err := m.Reconcile(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		type acct struct {
			Account    string          `json:"account"`
			Statement  string          `json:"statement"`
			Seq        int64           `json:"seq"`
			Currency   ledger.Currency `json:"currency"`
			Core       ledger.Amount   `json:"core_closing"`
			Mirror     ledger.Amount   `json:"mirror_balance"`
			Difference ledger.Amount   `json:"difference"`
		}
		type exc struct {
			Account string        `json:"account"`
			Ref     string        `json:"ref"`
			Seq     int64         `json:"seq"`
			Amount  ledger.Amount `json:"amount"`
			Code    string        `json:"code"`
		}
		type opened struct {
			Account string `json:"account"`
			File    string `json:"file"`
			Status  string `json:"status"`
			Detail  string `json:"detail"`
		}
		out := struct {
			Accounts    []acct   `json:"accounts"`
			Differences int      `json:"differences"`
			Exceptions  []exc    `json:"exceptions"`
			Opened      []opened `json:"opened"`
		}{Accounts: []acct{}, Differences: rep.Differences, Exceptions: []exc{}, Opened: []opened{}}
		for _, o := range rep.Opened {
			out.Opened = append(out.Opened, opened{o.Number.Masked(), o.File, o.Status, o.Detail})
		}
		for _, a := range rep.Accounts {
			out.Accounts = append(out.Accounts, acct{a.Account.Masked(), a.Statement, a.Seq, a.Currency, a.Core, a.Mirror, a.Difference})
		}
		for _, x := range rep.Exceptions {
			out.Exceptions = append(out.Exceptions, exc{x.Account.Masked(), x.Ref, x.Seq, x.Amount, x.Code})
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(e.stdout, "%d accounts mirrored, %d differ from the core\n", len(rep.Accounts), rep.Differences)
		for _, a := range rep.Accounts {
			mark := "agrees"
			if a.Difference != 0 {
				mark = "DIFFERS by " + a.Difference.Display(a.Currency)
			}
			fmt.Fprintf(e.stdout, "  %s  statement %d (%s)  core %s  mirror %s  %s\n", a.Account.Masked(), a.Seq, a.Statement,
				a.Core.Display(a.Currency), a.Mirror.Display(a.Currency), mark)
		}
		ccy := map[ledger.AccountNumber]ledger.Currency{}
		for _, a := range rep.Accounts {
			ccy[a.Account] = a.Currency
		}
		for _, x := range rep.Exceptions {
			fmt.Fprintf(e.stdout, "  refused: %s entry %s of statement %d, %s (%s)\n", x.Account.Masked(), x.Ref, x.Seq, x.Amount.Display(ccy[x.Account]), x.Code)
		}
		for _, o := range rep.Opened {
			fmt.Fprintf(e.stdout, "  account list %s: %s %s (%s)\n", o.File, o.Number.Masked(), o.Status, o.Detail)
		}
	}
	if rep.Differences != 0 {
		return errors.New("mirror: the mirror's balances differ from the core's")
	}
	return nil
}
