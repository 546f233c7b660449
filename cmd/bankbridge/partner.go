package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/internal/app"
)

func init() {
	commands["partner"] = command{"third parties: 'partner add|list|suspend|reinstate|history' registers and controls OAuth clients", partnerCmd}
}

const partnerUsage = `usage:
  bankbridge partner add --id ID --name "LEGAL NAME" --lei LEI --homepage URL --security-contact EMAIL|URL
      --redirect-uri URI [--redirect-uri URI...] (--jwks-file FILE | --jwks JSON | --jwks-uri URL --allow-jwks-uri)
      --purpose CLUSTER="purpose" [--purpose ...] --attest --signatory "NAME, ROLE" [--rate-limit N]
  bankbridge partner list
  bankbridge partner suspend --id ID --reason "why"
  bankbridge partner reinstate --id ID --reason "why"
  bankbridge partner history --id ID
clusters: ` + "ACCOUNT_BASIC ACCOUNT_DETAILED BALANCES TRANSACTIONS STATEMENTS PAYMENT_SUPPORT CUSTOMER_CONTACT CUSTOMER_PERSONAL TRANSFERS"

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func partnerCmd(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return app.UsageError(partnerUsage)
	}
	sub := args[0]
	var c app.Config
	fs := flag.NewFlagSet("partner "+sub, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.Flags(fs, e.getenv)
	var p consent.Partner
	var id, jwksFile, jwks, reason string
	var uris, purposes listFlag
	switch sub {
	case "add":
		fs.StringVar(&id, "id", "", "the partner's id, also its OAuth client_id (lower-case letters, digits, dashes)")
		fs.StringVar(&p.LegalName, "name", "", "registered legal name")
		fs.StringVar(&p.LEI, "lei", "", "Legal Entity Identifier (ISO 17442, 20 characters)")
		fs.StringVar(&p.Homepage, "homepage", "", "https:// homepage")
		fs.StringVar(&p.SecurityContact, "security-contact", "", "email or https:// URL for security reports")
		fs.Var(&uris, "redirect-uri", "a redirect URI, matched exactly (repeatable)")
		fs.StringVar(&jwksFile, "jwks-file", "", "file holding the partner's public JWKS")
		fs.StringVar(&jwks, "jwks", "", "the partner's public JWKS, inline JSON")
		fs.StringVar(&p.JWKSURI, "jwks-uri", "", "https:// URL where the partner publishes its keys")
		fs.BoolVar(&p.JWKSURIAllowed, "allow-jwks-uri", false, "staff allow the jwks_uri (required with --jwks-uri)")
		fs.Var(&purposes, "purpose", `CLUSTER="declared purpose" for each data cluster asked for (repeatable)`)
		fs.BoolVar(&p.Attestation.NoSecondaryUse, "attest", false, "the partner signed: "+consent.AttestationText)
		fs.StringVar(&p.Attestation.Signatory, "signatory", "", "who signed the attestation for the partner")
		fs.IntVar(&p.RateLimit, "rate-limit", consent.DefaultRateLimit, "API requests per minute")
	case "suspend", "reinstate", "history":
		fs.StringVar(&id, "id", "", "the partner's id")
		if sub != "history" {
			fs.StringVar(&reason, "reason", "", "the reason, kept in the partner's history (required)")
		}
	case "list":
	default:
		return app.UsageError(partnerUsage)
	}
	if err := app.Parse(fs, args[1:], &c); err != nil {
		return err
	}
	if sub != "list" && id == "" {
		return app.UsageError(partnerUsage)
	}
	b, err := app.OpenBackend(ctx, &c)
	if err != nil {
		return err
	}
	defer b.Close()
	// Partner changes made here are audited exactly like the console's.
	log := c.Logger(e.stderr)
	ring, err := openKeyring(ctx, &c, b, log, "")
	if err != nil {
		return err
	}
	aopts, memDone, err := signerOptions(ctx, &c, b, ring)
	if err != nil {
		return err
	}
	defer memDone() // after the log closed: deferred first, run last
	aopts.Logger = log
	alog := audit.New(b.Audit, aopts)
	defer alog.Close()
	svc := consent.New(b.Consent, consent.Options{PartnerHooks: []consent.PartnerHook{app.PartnerAudit(alog, log)}})
	pid := consent.PartnerID(id)
	switch sub {
	case "add":
		p.ID = pid
		p.RedirectURIs = uris
		switch {
		case jwksFile != "" && jwks != "":
			return app.UsageError("give --jwks-file or --jwks, not both")
		case jwksFile != "":
			raw, err := os.ReadFile(jwksFile)
			if err != nil {
				return fmt.Errorf("read --jwks-file: %w", err)
			}
			p.JWKS = raw
		case jwks != "":
			p.JWKS = []byte(jwks)
		}
		p.Purposes = map[consent.Cluster]string{}
		for _, pu := range purposes {
			cl, why, ok := strings.Cut(pu, "=")
			if !ok {
				return app.UsageError(fmt.Sprintf("--purpose %q: write CLUSTER=\"purpose\"", pu))
			}
			p.Purposes[consent.Cluster(strings.ToUpper(strings.TrimSpace(cl)))] = why
		}
		got, err := svc.RegisterPartner(ctx, p, "cli")
		if err != nil {
			return staffProblem(err)
		}
		fmt.Fprintf(e.stdout, "registered partner %s (%s), active, in the %s\n", got.ID, got.LegalName, b)
	case "list":
		ps, err := svc.Partners(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATUS\tLEGAL NAME\tCLUSTERS\tREDIRECT URIS")
		for _, p := range ps {
			var cs []string
			for c := range p.Purposes {
				cs = append(cs, string(c))
			}
			slices.Sort(cs)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.ID, p.Status, p.LegalName, strings.Join(cs, ","), strings.Join(p.RedirectURIs, " "))
		}
		return tw.Flush()
	case "suspend", "reinstate":
		do := svc.SuspendPartner
		if sub == "reinstate" {
			do = svc.ReinstatePartner
		}
		if err := do(ctx, pid, reason, "cli"); err != nil {
			if errors.Is(err, consent.ErrPartnerNotFound) || errors.Is(err, consent.ErrReasonRequired) {
				return app.UsageError(err.Error())
			}
			return staffProblem(err)
		}
		fmt.Fprintf(e.stdout, "partner %s %sed: %s\n", pid, strings.TrimSuffix(sub, "e"), reason)
	case "history":
		evs, err := svc.PartnerHistory(ctx, pid)
		if err != nil {
			return staffProblem(err)
		}
		for _, ev := range evs {
			fmt.Fprintf(e.stdout, "%s  %-10s  by %-10s  %s\n", ev.At.Format("2006-01-02 15:04:05Z"), ev.Action, ev.By, ev.Reason)
		}
	}
	return nil
}
