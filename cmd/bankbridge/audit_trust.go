package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge/alerts/stream"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/audit/headkv"
	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/keyring"
	"github.com/bankbridge/bankbridge/witness"
)

// signerOptions are the disclosure log's options for an instance that
// writes and seals: the keyring's signing and MAC keys, and the signer's
// memory of its last head (docs/audit.md, "Heads that outlive the
// database"). Call the returned func when the log is closed.
func signerOptions(ctx context.Context, c *app.Config, b *app.Backend, r *keyring.Ring) (audit.Options, func(), error) {
	mem, done, err := headMemory(ctx, c, b)
	o := audit.Options{Keys: auditKeys{r}, MACs: auditMACs{r}, Memory: mem, Linger: app.AuditLinger}
	for _, u := range strings.Split(c.Witnesses, ",") {
		if u = strings.TrimSpace(u); u != "" {
			o.Cosigners = append(o.Cosigners, &witness.Client{URL: u, HTTP: &http.Client{Timeout: 5 * time.Second}})
		}
	}
	return o, done, err
}

// headMemory is the signer's memory: with --events nats://, a JetStream
// key-value bucket of the cluster, which every instance of the fleet
// sees; else a file in the data folder, beside the key file.
func headMemory(ctx context.Context, c *app.Config, b *app.Backend) (audit.Memory, func(), error) {
	if c.Events == "" {
		return &audit.FileMemory{Path: filepath.Join(c.Data, audit.HeadFile)}, func() {}, nil
	}
	dep, err := stream.Resolve(ctx, c.Cluster, b.Deploy)
	if err != nil {
		return nil, nil, fmt.Errorf("--cluster: %w", err)
	}
	m, err := headkv.Dial(ctx, c.Events, dep.Cluster)
	if err != nil {
		return nil, nil, fmt.Errorf("--events %s: %w", c.Events, err)
	}
	return m, m.Close, nil
}

// auditMACs gives the disclosure log the keyring's audit-mac keys.
type auditMACs struct{ r *keyring.Ring }

var _ audit.MACKeys = auditMACs{}

func (m auditMACs) MACKey(ctx context.Context) (audit.MACKey, error) {
	k, err := m.r.Active(ctx, keyring.AuditMAC)
	if err != nil {
		return nil, err
	}
	return keyring.AuditMACKey(k)
}

// MACKeys is every audit-mac key, retired ones included: they tagged
// records that must still verify.
func (m auditMACs) MACKeys(ctx context.Context) ([]audit.MACKey, error) {
	keys, err := m.r.Keys(ctx, keyring.AuditMAC)
	if err != nil {
		return nil, err
	}
	out := make([]audit.MACKey, 0, len(keys))
	for _, k := range keys {
		mk, err := keyring.AuditMACKey(k)
		if err != nil {
			return nil, err
		}
		out = append(out, mk)
	}
	return out, nil
}

// verifyFlags are audit verify's checks beyond the database.
type verifyFlags struct {
	witnesses   stringList
	states      stringList
	since       stringList
	memory      string
	maxUnsigned time.Duration
}

// stringList is a flag that may be given more than once.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func (v *verifyFlags) flags(fs *flag.FlagSet) {
	fs.Var(&v.since, "since", "an earlier checkpoint (a signed note from /audit/v1/checkpoint): prove the log extends it, or name where it does not (repeatable)")
	fs.Var(&v.witnesses, "witness", "a witness's verifier key (its name+id+key, as `bankbridge witness` prints it): require its cosignature on the latest checkpoint (repeatable)")
	fs.Var(&v.states, "witness-state", "a witness's state file ("+witnessStateFile+" in its folder): prove the log extends the last checkpoint it cosigned (repeatable)")
	fs.StringVar(&v.memory, "memory", "", "the signer's memory of its last head (default <data>/"+audit.HeadFile+" when present)")
	fs.DurationVar(&v.maxUnsigned, "max-unsigned", time.Minute, "fail when the oldest record no signed head covers is older than this (the sealer signs every 2s); 0 for no bound")
}

// options opens what the flags name: the checkpoints (their signatures
// checked with the key history), the signer's memory, and the keyring's
// MAC keys.
func (v *verifyFlags) options(ctx context.Context, c *app.Config, b *app.Backend, r *keyring.Ring, pubs []ed25519.PublicKey) (audit.VerifyOptions, error) {
	o := audit.VerifyOptions{Keys: pubs, MaxUnsigned: v.maxUnsigned}
	macs, err := auditMACs{r}.MACKeys(ctx)
	if err != nil {
		return o, err
	}
	o.MACs = macs
	for _, k := range v.witnesses {
		w, err := witness.NewVerifier(k)
		if err != nil {
			return o, app.UsageError("--witness: " + err.Error())
		}
		o.Witnesses = append(o.Witnesses, w)
	}
	for _, path := range v.states {
		raw, err := os.ReadFile(path)
		if err != nil {
			return o, fmt.Errorf("--witness-state: %w", err)
		}
		var st audit.Remembered
		if err := json.Unmarshal(raw, &st); err != nil {
			return o, fmt.Errorf("--witness-state %s: %w", path, err)
		}
		// The checkpoint the witness keeps is the log's signed note: its
		// signature is checked as --since's are.
		cp, err := audit.OpenCheckpoint(audit.DefaultOrigin, []byte(st.Checkpoint), pubs...)
		if err != nil {
			return o, fmt.Errorf("--witness-state %s: %w", path, err)
		}
		o.Since = append(o.Since, cp.Head)
	}
	for _, path := range v.since {
		raw, err := os.ReadFile(path)
		if err != nil {
			return o, fmt.Errorf("--since: %w", err)
		}
		cp, err := audit.OpenCheckpoint(audit.DefaultOrigin, raw, pubs...)
		if err != nil {
			return o, fmt.Errorf("--since %s: %w", path, err)
		}
		o.Since = append(o.Since, cp.Head)
	}
	var mem audit.Memory = &audit.FileMemory{Path: v.memory}
	if v.memory == "" {
		var done func()
		if mem, done, err = headMemory(ctx, c, b); err != nil {
			return o, err
		}
		defer done()
	}
	m, err := mem.Last(ctx)
	switch {
	case err == nil:
		o.Memory = &m
	case !errors.Is(err, audit.ErrNoHead) || v.memory != "":
		return o, fmt.Errorf("the signer's memory: %w", err)
	}
	return o, nil
}

// printVerifyExtras reports what verify found beyond problems: the
// unsigned tail, records from before MACs, what was proved.
func printVerifyExtras(e env, rep audit.Report) {
	if rep.Unsigned > 0 {
		fmt.Fprintf(e.stdout, "%d records (from %d) are covered by no signed head yet; the oldest is from %s\n", rep.Unsigned, rep.Signed, rep.UnsignedSince.Format(time.RFC3339))
	} else {
		fmt.Fprintf(e.stdout, "every record is covered by a signed head (latest matching: size %d)\n", rep.Signed)
	}
	if rep.MACs {
		fmt.Fprintf(e.stdout, "MACs checked; %d records are from before the log had MACs (covered by heads signed then)\n", rep.Untagged)
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(e.stdout, n)
	}
}
