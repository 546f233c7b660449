package keyring

import (
	"cmp"
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/bankbridge/bankbridge"
)

// Sealed is a key as the store keeps it: the private key only sealed.
type Sealed struct {
	Name      Name
	Version   int       // 1 for a name's first key, one more per key added
	KID       string    // the key's id (see KeyID)
	KEKID     string    // the KEK that sealed Private, so a mismatch can name it
	Private   []byte    // PKCS #8 DER sealed under the KEK, aad AAD(Name, KID)
	Public    []byte    // PKIX DER, for people reading the table; never trusted
	Created   time.Time // when the key was made (or imported)
	Activates time.Time // when it starts to sign
	Retired   time.Time // zero while it is in use
}

// AAD is the associated data a key is sealed with: its name and kid, so a
// sealed key copied to another name or kid does not open.
func AAD(name Name, kid string) []byte { return []byte("bankbridge key " + string(name) + "/" + kid) }

// Store keeps sealed keys. Its contract:
//   - AddSealedKey stores k only when no key of k.Name has k.Version or
//     k.KID (unique constraints, not a read before the write), and reports
//     whether it did: of two instances adding a first key at once, exactly
//     one stores its key and both read the same one back.
//   - Keys are never deleted; retiring one only sets Retired, once.
type Store interface {
	// SealedKeys returns the keys of name by version; none is no error.
	SealedKeys(ctx context.Context, name Name) ([]Sealed, error)
	// AddSealedKey stores k if neither its (name, version) nor its (name,
	// kid) is taken, and reports whether it stored it.
	AddSealedKey(ctx context.Context, k Sealed) (bool, error)
	// RetireKey sets the retired time of name/kid if it is not set;
	// ErrNotFound when there is no such key.
	RetireKey(ctx context.Context, name Name, kid string, at time.Time) error
	// LegacyOAuthKey returns the private JWK the OAuth server kept in
	// plaintext in the database before the keyring existed; ErrNotFound.
	LegacyOAuthKey(ctx context.Context) ([]byte, error)
	// DropLegacyOAuthKey deletes that plaintext key (once it is sealed here).
	DropLegacyOAuthKey(ctx context.Context) error
}

// The keyring's errors. Compare with errors.Is.
var (
	ErrNotFound = bankbridge.E(bankbridge.NotFound, "key_not_found", "no such key")
	ErrNoKey    = bankbridge.E(bankbridge.Internal, "key_none_active", "no key is active to sign with")
	ErrRotated  = bankbridge.E(bankbridge.Conflict, "key_rotation_conflict", "another key was added at the same time; list the keys and try again")
	ErrInUse    = bankbridge.E(bankbridge.Conflict, "key_in_use", "that key is the only one signing now; rotate first and retire it once the new key is active")
	// ErrMismatch is matched by every *MismatchError.
	ErrMismatch = errors.New("keyring: the key-encryption key does not match the database's keys")
)

// MismatchError is a refusal to use a KEK that does not open a key sealed
// in the database. It names the KEK's source and both KEK ids.
type MismatchError struct {
	Source string // where the KEK came from, e.g. "BANKBRIDGE_KEY_FILE /etc/bank/kek"
	Name   Name
	KID    string
	Have   string // the KEK id given
	Want   string // the KEK id stored beside the key
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("%s: does not open key %s/%s sealed in the database (KEK id %s, database expects %s)", e.Source, e.Name, e.KID, e.Have, e.Want)
}

// Is makes errors.Is(err, ErrMismatch) true.
func (e *MismatchError) Is(target error) bool { return target == ErrMismatch }

// Key is an opened key.
type Key struct {
	Name      Name
	Version   int
	ID        string // kid
	KEKID     string
	Created   time.Time
	Activates time.Time
	Retired   time.Time
	Signer    crypto.Signer // the private key
}

// Public is the key's public half.
func (k Key) Public() crypto.PublicKey { return k.Signer.Public() }

// ActiveAt reports whether k may sign at t: activated and not retired.
func (k Key) ActiveAt(t time.Time) bool {
	return !t.Before(k.Activates) && (k.Retired.IsZero() || t.Before(k.Retired))
}

// Options tune a Ring.
type Options struct {
	// Source names where the KEK came from, for errors. Default "the key file".
	Source string
	// Refresh is how long keys read from the store are used before they are
	// read again (how soon this instance sees another's rotation). Default 30 s.
	Refresh time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives refreshes that failed (the keys read before are kept).
	// Default: discarded.
	Logger *slog.Logger
}

// Ring is this instance's view of the fleet's keys: opened with the KEK,
// read again from the store every Options.Refresh. Safe for concurrent use.
type Ring struct {
	st   Store
	kek  KEK
	opts Options

	mu     sync.Mutex
	keys   map[Name][]Key
	loaded map[Name]time.Time
}

// Open reads every stored key and checks that kek opens it: a
// *MismatchError (errors.Is ErrMismatch) names the first that does not.
func Open(ctx context.Context, st Store, kek KEK, opts Options) (*Ring, error) {
	if opts.Source == "" {
		opts.Source = "the key file"
	}
	if opts.Refresh <= 0 {
		opts.Refresh = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Ring{st: st, kek: kek, opts: opts, keys: map[Name][]Key{}, loaded: map[Name]time.Time{}}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range Names {
		if _, err := r.load(ctx, n); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// KEKID is the id of the ring's KEK.
func (r *Ring) KEKID() string { return r.kek.ID() }

// load reads and opens the keys of name; r.mu is held.
func (r *Ring) load(ctx context.Context, name Name) ([]Key, error) {
	sealed, err := r.st.SealedKeys(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("keyring: read %s keys: %w", name, err)
	}
	keys := make([]Key, 0, len(sealed))
	for _, s := range sealed {
		k, err := r.open(s)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b Key) int { return cmp.Compare(a.Version, b.Version) })
	r.keys[name], r.loaded[name] = keys, r.opts.Now()
	return keys, nil
}

func (r *Ring) open(s Sealed) (Key, error) {
	mismatch := &MismatchError{Source: r.opts.Source, Name: s.Name, KID: s.KID, Have: r.kek.ID(), Want: s.KEKID}
	if s.KEKID != r.kek.ID() {
		return Key{}, mismatch
	}
	der, err := r.kek.Open(s.Private, AAD(s.Name, s.KID))
	if err != nil {
		return Key{}, mismatch
	}
	k, err := parsePrivate(der)
	if err != nil {
		return Key{}, fmt.Errorf("keyring: key %s/%s: %w", s.Name, s.KID, err)
	}
	// The kid is bound by the seal; checking it against the key as well
	// keeps a stored kid from ever naming another key.
	if kid, err := KeyID(k.Public()); err != nil || kid != s.KID || s.Name.check(k) != nil {
		return Key{}, fmt.Errorf("keyring: key %s/%s does not have that kid or algorithm", s.Name, s.KID)
	}
	return Key{Name: s.Name, Version: s.Version, ID: s.KID, KEKID: s.KEKID, Created: s.Created, Activates: s.Activates, Retired: s.Retired, Signer: k}, nil
}

// cached returns the keys of name, read again when older than Refresh (or
// when force is set, at most once a second). A failed read again keeps the
// keys read before, and is logged; r.mu is held.
func (r *Ring) cached(ctx context.Context, name Name, force bool) ([]Key, error) {
	keys, ok := r.keys[name]
	age := r.opts.Now().Sub(r.loaded[name])
	if ok && age < r.opts.Refresh && (!force || age < time.Second) {
		return keys, nil
	}
	fresh, err := r.load(ctx, name)
	if err != nil && ok {
		r.opts.Logger.Warn("keyring: reading the keys again failed; using those read before", "name", name, "err", err)
		// Try again in a few seconds: soon enough to see a rotation, rarely
		// enough not to flood the log while the database is away.
		r.loaded[name] = r.opts.Now().Add(min(5*time.Second, r.opts.Refresh) - r.opts.Refresh)
		return keys, nil
	}
	return fresh, err
}

// Keys returns every key of name, retired ones included, by version.
func (r *Ring) Keys(ctx context.Context, name Name) ([]Key, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cached(ctx, name, false)
}

// Active returns the key of name to sign with now: of those activated and
// not retired, the latest version. ErrNoKey when there is none.
func (r *Ring) Active(ctx context.Context, name Name) (Key, error) {
	keys, err := r.Keys(ctx, name)
	if err != nil {
		return Key{}, err
	}
	if k, ok := active(keys, r.opts.Now()); ok {
		return k, nil
	}
	return Key{}, ErrNoKey.WithOp("keyring.Active", fmt.Errorf("name %s", name))
}

func active(keys []Key, at time.Time) (Key, bool) {
	for i := len(keys) - 1; i >= 0; i-- {
		if keys[i].ActiveAt(at) {
			return keys[i], true
		}
	}
	return Key{}, false
}

// Lookup returns the key name/kid, reading the store again (at most once a
// second) when it is not known: another instance may have just added it.
// ErrNotFound.
func (r *Ring) Lookup(ctx context.Context, name Name, kid string) (Key, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, force := range []bool{false, true} {
		keys, err := r.cached(ctx, name, force)
		if err != nil {
			return Key{}, err
		}
		for _, k := range keys {
			if k.ID == kid {
				return k, nil
			}
		}
	}
	return Key{}, ErrNotFound.WithOp("keyring.Lookup", fmt.Errorf("%s/%s", name, kid))
}

// Ensure makes sure name has a key, once for the fleet. With no stored key
// it stores legacy (a key kept the old way, imported with its kid so that
// what it signed still verifies) or, when legacy is nil, a new key. When
// keys are stored already and legacy is not among them, legacy is added
// retired: it never signs again, but what it signed verifies. It reports
// whether it stored a key.
func (r *Ring) Ensure(ctx context.Context, name Name, legacy crypto.Signer) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// Twice at most: when another instance's first key won the race
	// against legacy, legacy is then added after it, retired.
	for range 2 {
		keys, err := r.load(ctx, name)
		if err != nil {
			return false, err
		}
		now := r.opts.Now().UTC()
		s := Sealed{Name: name, Version: 1, Created: now, Activates: now}
		k := legacy
		if legacy != nil {
			kid, err := KeyID(legacy.Public())
			if err != nil {
				return false, err
			}
			if slices.ContainsFunc(keys, func(k Key) bool { return k.ID == kid }) {
				return false, nil
			}
			if len(keys) > 0 {
				s.Version, s.Retired = keys[len(keys)-1].Version+1, now
			}
		} else {
			if len(keys) > 0 {
				return false, nil
			}
			if k, err = name.generate(); err != nil {
				return false, fmt.Errorf("keyring: generate %s key: %w", name, err)
			}
		}
		stored, err := r.add(ctx, s, k)
		if err != nil {
			return false, err
		}
		if stored || legacy == nil {
			// Stored or not (another instance's insert won), read back what is.
			_, err = r.load(ctx, name)
			return stored, err
		}
	}
	return false, ErrRotated.WithOp("keyring.Ensure", fmt.Errorf("name %s", name))
}

// add seals k into s and stores it; r.mu is held.
func (r *Ring) add(ctx context.Context, s Sealed, k crypto.Signer) (bool, error) {
	if err := s.Name.check(k); err != nil {
		return false, err
	}
	kid, err := KeyID(k.Public())
	if err != nil {
		return false, err
	}
	der, err := marshalPrivate(k)
	if err != nil {
		return false, fmt.Errorf("keyring: encode key: %w", err)
	}
	pub, err := marshalPublic(k.Public())
	if err != nil {
		return false, err
	}
	s.KID, s.KEKID, s.Public = kid, r.kek.ID(), pub
	if s.Private, err = r.kek.Seal(der, AAD(s.Name, kid)); err != nil {
		return false, fmt.Errorf("keyring: seal %s/%s: %w", s.Name, kid, err)
	}
	return r.st.AddSealedKey(ctx, s)
}

// Rotate adds a new key of name that signs from activates on. Until then
// the key signing now goes on, and the new one is already published (JWKS,
// /audit/v1/keys), so every instance and verifier knows it before it signs;
// the old keys keep verifying. ErrRotated when another key was added at the
// same time.
func (r *Ring) Rotate(ctx context.Context, name Name, activates time.Time) (Key, error) {
	if !name.Valid() {
		return Key{}, fmt.Errorf("keyring: no key named %q", name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	keys, err := r.load(ctx, name)
	if err != nil {
		return Key{}, err
	}
	k, err := name.generate()
	if err != nil {
		return Key{}, err
	}
	s := Sealed{Name: name, Version: 1, Created: r.opts.Now().UTC(), Activates: activates.UTC()}
	if len(keys) > 0 {
		s.Version = keys[len(keys)-1].Version + 1
	}
	stored, err := r.add(ctx, s, k)
	if err != nil {
		return Key{}, err
	}
	if !stored {
		return Key{}, ErrRotated.WithOp("keyring.Rotate", nil)
	}
	keys, err = r.load(ctx, name)
	if err != nil {
		return Key{}, err
	}
	return keys[len(keys)-1], nil
}

// Retire ends name/kid's use: it signs no more and, for OAuth, tokens it
// signed no longer verify; the disclosure log still verifies the heads it
// signed (they are history). ErrInUse when no other key would be active
// now; ErrNotFound.
func (r *Ring) Retire(ctx context.Context, name Name, kid string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys, err := r.load(ctx, name)
	if err != nil {
		return err
	}
	now := r.opts.Now().UTC()
	i := slices.IndexFunc(keys, func(k Key) bool { return k.ID == kid })
	if i < 0 {
		return ErrNotFound.WithOp("keyring.Retire", fmt.Errorf("%s/%s", name, kid))
	}
	if !keys[i].Retired.IsZero() {
		return nil
	}
	rest := slices.Delete(slices.Clone(keys), i, i+1)
	if _, ok := active(rest, now); !ok {
		return ErrInUse.WithOp("keyring.Retire", fmt.Errorf("%s/%s", name, kid))
	}
	if err := r.st.RetireKey(ctx, name, kid, now); err != nil {
		return err
	}
	_, err = r.load(ctx, name)
	return err
}
