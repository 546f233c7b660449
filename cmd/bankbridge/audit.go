package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/keyring"
)

func init() {
	commands["audit"] = command{"audit log tools: verify, export, seal, prune, key", auditCmd}
}

const auditUsage = `usage:
  bankbridge audit verify [--public-key KEY] [--since FILE] [--memory FILE] [--max-unsigned 1m]
                                                             recompute every leaf, the tree and every signed head (each under the key it names),
                                                             every record's MAC, the signer's memory, the unsigned tail; prove the log extends FILE
  bankbridge audit export (--customer ID | --partner ID | --all) [--kind K] [--from DATE] [--to DATE] [--format csv|json] [--out FILE]
  bankbridge audit seal                                      sign a tree head now
  bankbridge audit prune --retention-days N --archive FILE   archive, then prune, records older than N days
  bankbridge audit key                                       print the public keys to publish (the whole history)
Every form takes --data DIR or --database URL and --key-file FILE (the keys are sealed in the database under it);
--audit-key FILE names a key file of the old layout to import (default DIR/` + audit.KeyFile + `).`

func auditCmd(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return app.UsageError(auditUsage)
	}
	sub, args := args[0], args[1:]
	var c app.Config
	fs := flag.NewFlagSet("audit "+sub, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.Flags(fs, e.getenv)
	keyFile := fs.String("audit-key", e.getenv("BANKBRIDGE_AUDIT_KEY"), "a signing key file of the old layout, imported into the keyring once (default <data>/"+audit.KeyFile+"; env BANKBRIDGE_AUDIT_KEY)")
	var run func(context.Context, *app.Backend, *keyring.Ring) error
	switch sub {
	case "verify":
		pubFlag := fs.String("public-key", "", "verify against this published public key (base64 or hex) instead of the keyring's whole history")
		var vf verifyFlags
		vf.flags(fs)
		run = func(ctx context.Context, b *app.Backend, r *keyring.Ring) error {
			pubs, err := auditPublicKeys(ctx, r, *pubFlag)
			if err != nil {
				return err
			}
			o, err := vf.options(ctx, &c, b, r, pubs)
			if err != nil {
				return err
			}
			return auditVerify(ctx, e, b, o)
		}
	case "export":
		customer := fs.Int64("customer", 0, "the records of this customer (what they may read on 'Who saw my data')")
		partner := fs.String("partner", "", "the records of this partner (its own disclosures)")
		all := fs.Bool("all", false, "every record (for a regulator; narrow with --from and --to)")
		kind := fs.String("kind", "", "only records of this kind")
		from := fs.String("from", "", "only records at or after this date (YYYY-MM-DD) or RFC 3339 time")
		to := fs.String("to", "", "only records before this date or time")
		format := fs.String("format", "json", "csv or json")
		out := fs.String("out", "", "write to this file instead of standard output")
		run = func(ctx context.Context, b *app.Backend, r *keyring.Ring) error {
			q := audit.Query{Customer: bankbridge.CustomerID(*customer), Partner: *partner, Kind: audit.Kind(*kind)}
			n := 0
			for _, set := range []bool{*customer != 0, *partner != "", *all} {
				if set {
					n++
				}
			}
			if n != 1 {
				return app.UsageError("export takes exactly one of --customer, --partner or --all")
			}
			if q.Kind != "" && !q.Kind.Valid() {
				return app.UsageError(fmt.Sprintf("--kind %q is not a kind of record", *kind))
			}
			if *format != "csv" && *format != "json" {
				return app.UsageError("--format is csv or json")
			}
			var err error
			if q.From, err = parseWhen(*from); err != nil {
				return app.UsageError("--from: " + err.Error())
			}
			if q.To, err = parseWhen(*to); err != nil {
				return app.UsageError("--to: " + err.Error())
			}
			pubs, err := auditPublicKeys(ctx, r, "")
			if err != nil {
				return err
			}
			return auditExport(ctx, e, b, pubs, q, *format, *out)
		}
	case "seal":
		run = func(ctx context.Context, b *app.Backend, r *keyring.Ring) error {
			o, done, err := signerOptions(ctx, &c, b, r)
			if err != nil {
				return err
			}
			defer done()
			o.SealEvery = time.Hour
			l := audit.New(b.Audit, o)
			defer l.Close()
			h, err := l.Seal(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "signed tree head: size %d, root %s, at %s\n", h.Size, h.Root, h.Time.Format(time.RFC3339))
			return nil
		}
	case "prune":
		var days int
		c.EnvFlags(fs, e.getenv).Env("BANKBRIDGE_AUDIT_RETENTION_DAYS").Int(&days, "retention-days", 0, "keep this many days of records; older ones are archived, then pruned")
		archive := fs.String("archive", "", "write the archive of pruned records to this new file (required)")
		run = func(ctx context.Context, b *app.Backend, r *keyring.Ring) error {
			if days < 1 || *archive == "" {
				return app.UsageError("prune needs --retention-days N (at least 1) and --archive FILE")
			}
			o, done, err := signerOptions(ctx, &c, b, r)
			if err != nil {
				return err
			}
			defer done()
			return auditPrune(ctx, e, b, o, time.Now().AddDate(0, 0, -days), *archive)
		}
	case "key":
		run = func(ctx context.Context, b *app.Backend, r *keyring.Ring) error {
			pubs, err := auditPublicKeys(ctx, r, "")
			if err != nil {
				return err
			}
			for i, pub := range pubs {
				latest := ""
				if i == len(pubs)-1 {
					latest = " (the latest)"
				}
				fmt.Fprintf(e.stdout, "public key (Ed25519, base64): %s\nkey id (SHA-256 of the key):  %s%s\n", base64.StdEncoding.EncodeToString(pub), audit.KeyID(pub), latest)
			}
			return nil
		}
	default:
		return app.UsageError(auditUsage)
	}
	if err := app.Parse(fs, args, &c); err != nil {
		return err
	}
	b, err := app.OpenBackend(ctx, &c)
	if err != nil {
		return err
	}
	defer b.Close()
	r, err := openKeyring(ctx, &c, b, toolLogger(e.stderr), *keyFile)
	if err != nil {
		return err
	}
	return run(ctx, b, r)
}

// auditPublicKeys is the key given (base64 or hex), else the keyring's
// whole history of audit keys: every key it opened with the KEK, so a key
// added to the database without the KEK is not among them.
func auditPublicKeys(ctx context.Context, r *keyring.Ring, given string) ([]ed25519.PublicKey, error) {
	if given == "" {
		return auditKeys{r}.PublicKeys(ctx)
	}
	pub, err := parsePublicKey(given)
	if err != nil {
		return nil, err
	}
	return []ed25519.PublicKey{pub}, nil
}

// parsePublicKey reads an Ed25519 public key in base64 or hex.
func parsePublicKey(given string) (ed25519.PublicKey, error) {
	if given != "" {
		decode := base64.StdEncoding.DecodeString
		if len(given) == 2*ed25519.PublicKeySize {
			decode = hex.DecodeString
		}
		b, err := decode(given)
		if err != nil || len(b) != ed25519.PublicKeySize {
			return nil, app.UsageError("--public-key must be a 32-byte Ed25519 key in base64 or hex")
		}
		return ed25519.PublicKey(b), nil
	}
	return nil, nil
}

func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

func auditVerify(ctx context.Context, e env, b *app.Backend, o audit.VerifyOptions) error {
	pubs := o.Keys
	rep, err := audit.VerifyWith(ctx, b.Audit, o)
	if err != nil {
		return err
	}
	ids := make([]string, len(pubs))
	for i, p := range pubs {
		ids[i] = audit.KeyID(p).String()
	}
	fmt.Fprintf(e.stdout, "checked %d records (%d pruned), %d signed tree heads, %d stored subtree hashes in %s\nkey ids %s; recomputed root %s at size %d\n",
		rep.Records, rep.Pruned, rep.Heads, rep.Nodes, rep.Elapsed.Round(time.Millisecond), strings.Join(ids, ", "), rep.Root, rep.Size)
	printVerifyExtras(e, rep)
	if rep.OK() {
		fmt.Fprintln(e.stdout, "audit OK: every record gives its leaf hash, indexes are dense, every signed tree head verifies and matches the records")
		return nil
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(e.stdout, "PROBLEM:", p)
	}
	if rep.Unlisted > 0 {
		fmt.Fprintf(e.stdout, "... and %d more problems\n", rep.Unlisted)
	}
	return fmt.Errorf("audit verify found %d problems", len(rep.Problems)+rep.Unlisted)
}

func auditExport(ctx context.Context, e env, b *app.Backend, pubs []ed25519.PublicKey, q audit.Query, format, out string) error {
	l := audit.New(b.Audit, audit.Options{History: pubs}) // reads only: no sealer

	defer l.Close()
	x, err := l.Export(ctx, q)
	if err != nil {
		return err
	}
	w := e.stdout
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if format == "csv" {
		err = x.WriteCSV(w)
	} else {
		err = x.WriteJSON(w)
	}
	if err != nil {
		return err
	}
	if out != "" {
		fmt.Fprintf(e.stdout, "exported %d records with inclusion proofs in the tree of size %d to %s\n", len(x.Entries), x.Head.Size, out)
	}
	return nil
}

func auditPrune(ctx context.Context, e env, b *app.Backend, o audit.Options, before time.Time, path string) error {
	o.SealEvery = time.Hour
	l := audit.New(b.Audit, o)
	defer l.Close()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	cp, err := l.Archive(ctx, before, f)
	if err == nil {
		err = f.Sync() // the archive is on disk before anything is pruned
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	cps, err := b.Audit.Checkpoints(ctx)
	if err != nil {
		return err
	}
	var prev uint64
	if len(cps) > 0 {
		prev = cps[len(cps)-1].Upto
	}
	if cp.Upto <= prev {
		os.Remove(path)
		fmt.Fprintf(e.stdout, "nothing older than %s to prune\n", before.Format(time.DateOnly))
		return nil
	}
	if err := l.Prune(ctx, cp); err != nil {
		return errors.Join(err, fmt.Errorf("the archive %s was written but nothing was pruned", path))
	}
	fmt.Fprintf(e.stdout, "archived and pruned the records below %d (older than %s) to %s (sha256 %s)\n", cp.Upto, before.Format(time.DateOnly), path, cp.Export)
	return nil
}
