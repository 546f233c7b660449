package app

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/rails"
)

// MirrorLease is the lease of the mirror-mode importer: one instance of the
// fleet imports at a time (the import is safe without it, by its keys).
const MirrorLease = "core-mirror"

// CoreInboxDir is where mirror mode reads the core's statements: the
// configured folder, or <data>/core-inbox.
func (c *Config) CoreInboxDir() string {
	if c.CoreInbox != "" {
		return c.CoreInbox
	}
	return filepath.Join(c.Data, "core-inbox")
}

// CoreOutboxDir is where mirror mode leaves payments for the core (one
// pain.001 per payment): the configured folder, or <data>/core-outbox.
// Empty outside mirror mode.
func (c *Config) CoreOutboxDir() string {
	if c.Mode != "mirror" {
		return ""
	}
	if c.CoreOutbox != "" {
		return c.CoreOutbox
	}
	return filepath.Join(c.Data, "core-outbox")
}

// AccountOpener opens the accounts of the core's account lists for the
// mirror inbox: customers are matched by their e-mail address.
// The backend's mirror store keeps the lists' rows.
func AccountOpener(b *Backend, routing string) *rails.AccountOpener {
	return &rails.AccountOpener{Store: b.Mirror, Ledger: b.Ledger, AccountByNumber: b.Rails.AccountByNumber, Routing: routing,
		Customer: func(ctx context.Context, email string) (bankbridge.CustomerID, error) {
			cr, err := b.Identity.CredentialByEmail(ctx, identity.RealmCustomer, identity.NormalizeEmail(email))
			return bankbridge.CustomerID(cr.ID), err
		}}
}

// MirrorInbox imports the camt.053 and camt.054 files the core drops in a
// folder. Each
// pass reads every *.xml file there whole, imports their statements
// together (so files that arrive out of order are still imported in each
// account's sequence), moves a file whose statements are all imported to
// done/, and a file that cannot be read to rejected/ beside a .error file
// naming the element at fault. A file with a statement waiting for an
// earlier one (a gap) stays, and is tried again on the next pass.
type MirrorInbox struct {
	Dir    string
	Mirror *rails.Mirror
	Log    *slog.Logger
	// Rejected is given the rejections of the core's pain.002 status
	// reports dropped in the same folder (rails.Service.RejectedByCore);
	// nil: a pain.002 is rejected as unreadable.
	Rejected func(context.Context, []rails.CoreRejection) (int, error)
	// Accounts opens the accounts of the core's account lists dropped in
	// the folder as accounts*.csv, before the statements of the same pass
	// (rails/coreaccounts.go); nil: such files stay where they are.
	Accounts *rails.AccountOpener
}

// Pass imports what is in the folder now and says how many files it
// finished (imported or rejected).
func (in *MirrorInbox) Pass(ctx context.Context) (int, error) {
	names, err := filepath.Glob(filepath.Join(in.Dir, "*.xml"))
	if err != nil {
		return 0, err
	}
	slices.Sort(names)
	for _, d := range []string{"done", "rejected"} {
		if err := os.MkdirAll(filepath.Join(in.Dir, d), 0o750); err != nil {
			return 0, err
		}
	}
	finished, err := in.accountLists(ctx)
	if err != nil {
		return finished, err
	}
	type file struct {
		name  string
		stmts []rails.Statement
	}
	var files []file
	var all []rails.Statement
	for _, name := range names {
		body, err := os.ReadFile(name)
		if err != nil {
			return finished, err
		}
		if rails.IsPain002(body) && in.Rejected != nil {
			// The core's answer to a payment sent to it: a rejection
			// releases the payment's hold; the file is done once applied.
			rs, perr := rails.ParsePain002(bytes.NewReader(body))
			if perr == nil {
				if _, err := in.Rejected(ctx, rs); err != nil {
					return finished, err
				}
				if err := os.Rename(name, filepath.Join(in.Dir, "done", filepath.Base(name))); err != nil {
					return finished, err
				}
				finished++
				continue
			}
			err = perr
		}
		var ss []rails.Statement
		if err == nil {
			ss, err = rails.ParseCore(bytes.NewReader(body))
		}
		if err != nil {
			in.Log.Warn("mirror: a statement file cannot be read; rejected", "file", filepath.Base(name), "err", err)
			dst := filepath.Join(in.Dir, "rejected", filepath.Base(name))
			if err := os.WriteFile(dst+".error", []byte(err.Error()+"\n"), 0o640); err != nil {
				return finished, err
			}
			if err := os.Rename(name, dst); err != nil {
				return finished, err
			}
			finished++
			continue
		}
		files = append(files, file{name, ss})
		all = append(all, ss...)
	}
	if len(all) == 0 {
		return finished, nil
	}
	res, ierr := in.Mirror.Import(ctx, all)
	if ctx.Err() != nil {
		return finished, ctx.Err()
	}
	type key struct {
		acct, id string
		seq      int64
	}
	ok := map[key]bool{}
	for _, r := range res {
		ok[key{string(r.Account), r.ID, r.Seq}] = r.Err == nil
		if r.Err != nil {
			in.Log.Warn("mirror: a statement was not imported", "statement", r.ID, "seq", r.Seq, "err", r.Err)
		}
	}
	for _, f := range files {
		done := true
		for _, s := range f.stmts {
			done = done && ok[key{string(s.Account), s.ID, s.Seq}]
		}
		if !done {
			continue
		}
		if err := os.Rename(f.name, filepath.Join(in.Dir, "done", filepath.Base(f.name))); err != nil {
			return finished, err
		}
		finished++
	}
	// Each statement's error was logged above; its file waits for the
	// next pass.
	_ = ierr
	return finished, nil
}

// accountLists opens the accounts of every account list in the folder, in
// name order: a list opened goes to done/, an unreadable one to rejected/
// beside its .error and opens nothing; one cut short by an error of the
// database stays, and the next pass resumes it (each row opens once).
func (in *MirrorInbox) accountLists(ctx context.Context) (int, error) {
	if in.Accounts == nil {
		return 0, nil
	}
	names, err := filepath.Glob(filepath.Join(in.Dir, "accounts*.csv"))
	if err != nil {
		return 0, err
	}
	slices.Sort(names)
	finished := 0
	for _, name := range names {
		body, err := os.ReadFile(name)
		if err != nil {
			return finished, err
		}
		dst := filepath.Join(in.Dir, "done", filepath.Base(name))
		as, perr := rails.ParseAccountList(bytes.NewReader(body))
		if perr != nil {
			in.Log.Warn("mirror: an account list cannot be read; rejected", "file", filepath.Base(name), "err", perr)
			dst = filepath.Join(in.Dir, "rejected", filepath.Base(name))
			if err := os.WriteFile(dst+".error", []byte(perr.Error()+"\n"), 0o640); err != nil {
				return finished, err
			}
		} else {
			res, err := in.Accounts.Open(ctx, filepath.Base(name), as)
			if err != nil {
				return finished, err
			}
			opened := 0
			for _, r := range res {
				if r.Status == "opened" {
					opened++
				} else {
					in.Log.Warn("mirror: an account of the core's list was not opened", "account", r.Number.Masked(), "why", r.Detail)
				}
			}
			in.Log.Info("mirror: account list taken", "file", filepath.Base(name), "accounts", len(res), "open", opened)
		}
		if err := os.Rename(name, dst); err != nil {
			return finished, err
		}
		finished++
	}
	return finished, nil
}

// Run makes a pass every interval until ctx ends.
func (in *MirrorInbox) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := in.Pass(ctx); err != nil && ctx.Err() == nil {
			in.Log.Error("mirror: import pass failed; trying again", "err", err)
		} else if n > 0 {
			in.Log.Info("mirror: statement files imported", "files", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
