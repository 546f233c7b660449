package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/keyring"
	"github.com/bankbridge/bankbridge/oauth"
)

func init() {
	commands["keys"] = command{"signing keys: 'keys list|rotate|retire' shows and rotates the fleet's keys", keysCmd}
}

const keysUsage = `usage:
  bankbridge keys list [--name audit|oauth|messenger]
  bankbridge keys rotate --name audit|oauth|messenger [--in DURATION]   a new key signs from now+DURATION (default 2m) on
  bankbridge keys retire --name audit|oauth|messenger --kid KID         the key signs no more; OAuth tokens it signed stop verifying
Keys live in the database, sealed under the key-encryption key of --key-file (env BANKBRIDGE_KEY_FILE;
default DIR/` + app.KEKFile + `, made on first start). Every instance of a fleet needs the same key file.`

// rotateDelay is how long a rotated key waits before it signs by default:
// longer than the keyring's refresh (30 s) and the JWKS cache (300 s would
// be safer still for outside verifiers; see docs/keys.md), so every
// instance knows the key before another signs with it.
const rotateDelay = 2 * time.Minute

func keysCmd(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return app.UsageError(keysUsage)
	}
	sub := args[0]
	var c app.Config
	fs := flag.NewFlagSet("keys "+sub, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.Flags(fs, e.getenv)
	name := fs.String("name", "", "audit, oauth, messenger or audit-mac")
	var in time.Duration
	var kid string
	switch sub {
	case "list":
	case "rotate":
		fs.DurationVar(&in, "in", rotateDelay, "how long until the new key signs (0: at once, for one instance only)")
	case "retire":
		fs.StringVar(&kid, "kid", "", "the key to retire (see 'keys list')")
	default:
		return app.UsageError(keysUsage)
	}
	if err := app.Parse(fs, args[1:], &c); err != nil {
		return err
	}
	names := keyring.Names
	if *name != "" || sub != "list" {
		if !keyring.Name(*name).Valid() {
			return app.UsageError("--name must be audit, oauth, messenger or audit-mac")
		}
		names = []keyring.Name{keyring.Name(*name)}
	}
	if sub == "retire" && kid == "" {
		return app.UsageError("retire needs --kid")
	}
	if in < 0 {
		return app.UsageError("--in must not be negative")
	}
	b, err := app.OpenBackend(ctx, &c)
	if err != nil {
		return err
	}
	defer b.Close()
	ring, err := openKeyring(ctx, &c, b, toolLogger(e.stderr), "")
	if err != nil {
		return err
	}
	switch sub {
	case "rotate":
		k, err := ring.Rotate(ctx, names[0], time.Now().Add(in))
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "new %s key %s (version %d) signs from %s; the previous keys still verify\n", k.Name, k.ID, k.Version, k.Activates.Format(time.RFC3339))
		if k.Name == keyring.Messenger {
			fmt.Fprintln(e.stdout, "the messenger partner stays registered with its previous key, which keeps signing its requests until its new public key is registered")
		}
		return nil
	case "retire":
		if err := ring.Retire(ctx, names[0], kid); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "retired %s key %s\n", names[0], kid)
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tKID\tSTATE\tCREATED\tACTIVATES\tRETIRED\tKEK")
	now := time.Now()
	for _, n := range names {
		keys, err := ring.Keys(ctx, n)
		if err != nil {
			return err
		}
		act, err := ring.Active(ctx, n)
		if err != nil && !errors.Is(err, keyring.ErrNoKey) {
			return err
		}
		for _, k := range keys {
			state := "verifies"
			switch {
			case k.ID == act.ID:
				state = "signs"
			case !k.Retired.IsZero():
				state = "retired"
			case now.Before(k.Activates):
				state = "next"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", k.Name, k.Version, k.ID, state, stamp(k.Created), stamp(k.Activates), stamp(k.Retired), k.KEKID)
		}
	}
	return tw.Flush()
}

// toolLogger is the log of a command that prints its results: warnings
// and errors only, so its output stays readable (and parsable).
func toolLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// openKeyring opens the fleet's keyring with the key-encryption key of
// --key-file (else the data folder's, made when the database has no sealed
// key yet), refuses a KEK that does not open the stored keys, imports keys
// kept the old way (the data folder's PEM files, the OAuth key in plaintext
// in the database) and makes the keys still missing.
// auditFile is the audit key's old file ("": DIR/audit-ed25519.pem).
func openKeyring(ctx context.Context, c *app.Config, b *app.Backend, log *slog.Logger, auditFile string) (*keyring.Ring, error) {
	kek, source, err := loadKEK(ctx, c, b.Keys, log)
	if err != nil {
		return nil, err
	}
	ring, err := keyring.Open(ctx, b.Keys, kek, keyring.Options{Source: source, Logger: log})
	if err != nil {
		return nil, err
	}
	if auditFile == "" {
		auditFile = filepath.Join(c.Data, audit.KeyFile)
	}
	imports := []struct {
		name keyring.Name
		from string
		load func() (crypto.Signer, error)
	}{
		{keyring.Audit, auditFile, func() (crypto.Signer, error) { return loadPEMKey(auditFile) }},
		{keyring.OAuth, "the database's plaintext oauth_keys", func() (crypto.Signer, error) { return legacyOAuthKey(ctx, b.Keys) }},
		{keyring.Messenger, filepath.Join(c.Data, app.MessengerKeyFile), func() (crypto.Signer, error) {
			return loadPEMKey(filepath.Join(c.Data, app.MessengerKeyFile))
		}},
		// Never kept another way: made on first start, as the log's MACs began.
		{keyring.AuditMAC, "", func() (crypto.Signer, error) { return nil, os.ErrNotExist }},
	}
	for _, im := range imports {
		legacy, err := im.load()
		if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, keyring.ErrNotFound) {
			return nil, fmt.Errorf("import the %s key from %s: %w", im.name, im.from, err)
		}
		imported, err := ring.Ensure(ctx, im.name, legacy)
		if err != nil {
			return nil, fmt.Errorf("the %s key: %w", im.name, err)
		}
		if imported && legacy != nil {
			log.Info("keyring: imported a key kept the old way; what it signed still verifies", "name", im.name, "from", im.from)
		}
		if im.name == keyring.OAuth && legacy != nil {
			// Sealed now (by this instance or another): the plaintext copy goes.
			if err := b.Keys.DropLegacyOAuthKey(ctx); err != nil {
				return nil, err
			}
		}
	}
	return ring, nil
}

// loadKEK reads the key-encryption key. A missing file is made (0600) only
// when the database holds no sealed key: a KEK is never made anew for keys
// sealed under another.
func loadKEK(ctx context.Context, c *app.Config, st keyring.Store, log *slog.Logger) (keyring.KEK, string, error) {
	path, source := c.KeyFile, "BANKBRIDGE_KEY_FILE "+c.KeyFile
	if path == "" {
		path = filepath.Join(c.Data, app.KEKFile)
		source = "key file " + path + " (the data folder's default; set BANKBRIDGE_KEY_FILE to the fleet's)"
	}
	kek, err := keyring.LoadKEKFile(path)
	if !keyring.IsNotExist(err) {
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", source, err)
		}
		return kek, source, nil
	}
	for _, n := range keyring.Names {
		sealed, err := st.SealedKeys(ctx, n)
		if err != nil {
			return nil, "", err
		}
		if len(sealed) > 0 {
			// Another instance sharing this key file may have made it and
			// sealed these keys between our two reads: read it once more.
			if kek, err := keyring.LoadKEKFile(path); err == nil {
				return kek, source, nil
			}
			return nil, "", fmt.Errorf("%s: no such file, and the database's keys are sealed (key %s/%s under KEK id %s): give this instance the fleet's key file",
				source, n, sealed[0].KID, sealed[0].KEKID)
		}
	}
	raw, err := keyring.GenerateKEK()
	if err != nil {
		return nil, "", err
	}
	if err := keyring.WriteKEKFile(path, raw); errors.Is(err, os.ErrExist) {
		return loadKEK(ctx, c, st, log) // another process on this folder made it first
	} else if err != nil {
		return nil, "", err
	}
	kek, err = keyring.NewFileKEK(raw)
	if err != nil {
		return nil, "", err
	}
	log.Info("keyring: made a new key-encryption key; keep it safe and give every instance of the fleet the same file (BANKBRIDGE_KEY_FILE)",
		"file", path, "kek_id", kek.ID())
	return kek, source, nil
}

// loadPEMKey reads a PKCS #8 PEM private key, as the data folder kept them
// before the keyring.
func loadPEMKey(path string) (crypto.Signer, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(raw)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s is not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: not a signing key", path)
	}
	return s, nil
}

// legacyOAuthKey is the OAuth server's key as it was kept before the
// keyring: a private JWK in plaintext in the database.
func legacyOAuthKey(ctx context.Context, st keyring.Store) (crypto.Signer, error) {
	raw, err := st.LegacyOAuthKey(ctx)
	if err != nil {
		return nil, err
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return nil, err
	}
	k, ok := jwk.Key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an ECDSA private key")
	}
	return k, nil
}

// auditKeys gives the disclosure log the keyring's audit keys.
type auditKeys struct{ r *keyring.Ring }

var _ audit.Keys = auditKeys{}

func (k auditKeys) SigningKey(ctx context.Context) (ed25519.PrivateKey, error) {
	key, err := k.r.Active(ctx, keyring.Audit)
	if err != nil {
		return nil, err
	}
	return key.Signer.(ed25519.PrivateKey), nil
}

// PublicKeys is the whole history, retired keys included: they signed
// heads that must still verify.
func (k auditKeys) PublicKeys(ctx context.Context) ([]ed25519.PublicKey, error) {
	keys, err := k.r.Keys(ctx, keyring.Audit)
	if err != nil {
		return nil, err
	}
	out := make([]ed25519.PublicKey, len(keys))
	for i, key := range keys {
		out[i] = key.Public().(ed25519.PublicKey)
	}
	return out, nil
}

// oauthKeys gives the authorization server the keyring's OAuth keys.
type oauthKeys struct{ r *keyring.Ring }

var _ oauth.Keys = oauthKeys{}

func (k oauthKeys) OAuthKeys(ctx context.Context) ([]oauth.SigningKey, error) {
	keys, err := k.r.Keys(ctx, keyring.OAuth)
	if err != nil {
		return nil, err
	}
	act, err := k.r.Active(ctx, keyring.OAuth)
	if err != nil {
		return nil, err
	}
	out := make([]oauth.SigningKey, len(keys))
	for i, key := range keys {
		out[i] = oauth.SigningKey{ID: key.ID, Key: key.Signer.(*ecdsa.PrivateKey), Active: key.ID == act.ID, Retired: !key.Retired.IsZero()}
	}
	return out, nil
}

// messengerKeys are the messenger partner's keys not retired: the one
// signing now first, then the others, newest first.
func messengerKeys(ctx context.Context, r *keyring.Ring) ([]*ecdsa.PrivateKey, error) {
	act, err := r.Active(ctx, keyring.Messenger)
	if err != nil {
		return nil, err
	}
	keys, err := r.Keys(ctx, keyring.Messenger)
	if err != nil {
		return nil, err
	}
	out := []*ecdsa.PrivateKey{act.Signer.(*ecdsa.PrivateKey)}
	for i := len(keys) - 1; i >= 0; i-- {
		if k := keys[i]; k.ID != act.ID && k.Retired.IsZero() {
			out = append(out, k.Signer.(*ecdsa.PrivateKey))
		}
	}
	return out, nil
}
