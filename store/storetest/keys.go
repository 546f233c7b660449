package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/keyring"
)

// KeysOpener opens a fresh, empty database for one test and returns its
// keyring store and its consent store (where the OAuth key was kept in
// plaintext before the keyring). Each call opens the same database again
// only when the test asks for it: see KeysReopener.
type KeysOpener func(t testing.TB) (keyring.Store, consent.Store)

// KeysReopener returns a function that opens the same fresh database again
// on each call (a new connection pool, as another instance would have).
type KeysReopener func(t testing.TB) func() keyring.Store

// Keys runs the keyring.Store conformance suite, and the keyring over it,
// against the engine open returns.
func Keys(t *testing.T, open KeysOpener, reopen KeysReopener) {
	t.Run("AddOnceByVersionAndByKid", func(t *testing.T) { t.Parallel(); keysAdd(t, open) })
	t.Run("RetireOnceAndNotFound", func(t *testing.T) { t.Parallel(); keysRetire(t, open) })
	t.Run("LegacyOAuthKeyReadThenDropped", func(t *testing.T) { t.Parallel(); keysLegacy(t, open) })
	t.Run("FirstKeyOnceWhenInstancesStartTogether", func(t *testing.T) { t.Parallel(); keysFirstOnce(t, reopen) })
	t.Run("WrongKEKRefusedNamingBothIDs", func(t *testing.T) { t.Parallel(); keysMismatch(t, open) })
	t.Run("RotationOverlapsThenRetires", func(t *testing.T) { t.Parallel(); keysRotate(t, open) })
}

var kT0 = time.Date(2026, 5, 6, 7, 8, 9, 123456000, time.UTC)

func keysAdd(t *testing.T, open KeysOpener) {
	ctx := context.Background()
	st, _ := open(t)
	if got, err := st.SealedKeys(ctx, keyring.Audit); err != nil || len(got) != 0 {
		t.Fatalf("SealedKeys of an empty store: %v, %v", got, err)
	}
	k1 := keyring.Sealed{Name: keyring.Audit, Version: 1, KID: "kid-1", KEKID: "kek-a", Private: []byte{1, 2, 3}, Public: []byte{4},
		Created: kT0, Activates: kT0}
	k2 := keyring.Sealed{Name: keyring.Audit, Version: 2, KID: "kid-2", KEKID: "kek-a", Private: []byte{5}, Public: []byte{6},
		Created: kT0.Add(time.Hour), Activates: kT0.Add(2 * time.Hour), Retired: kT0.Add(3 * time.Hour)}
	other := k1
	other.Name = keyring.OAuth // same version and kid under another name: no conflict
	for _, k := range []keyring.Sealed{k1, k2, other} {
		if ok, err := st.AddSealedKey(ctx, k); err != nil || !ok {
			t.Fatalf("AddSealedKey %s/%s: %v, %v", k.Name, k.KID, ok, err)
		}
	}
	sameVersion, sameKid := k1, k1
	sameVersion.KID, sameKid.Version = "kid-3", 3
	for name, k := range map[string]keyring.Sealed{"version": sameVersion, "kid": sameKid} {
		if ok, err := st.AddSealedKey(ctx, k); err != nil || ok {
			t.Errorf("AddSealedKey with a taken %s: stored %v, err %v; want not stored, no error", name, ok, err)
		}
	}
	got, err := st.SealedKeys(ctx, keyring.Audit)
	noErr(t, err)
	if d := cmp.Diff([]keyring.Sealed{k1, k2}, got); d != "" {
		t.Errorf("SealedKeys (-want +got):\n%s", d)
	}
}

func keysRetire(t *testing.T, open KeysOpener) {
	ctx := context.Background()
	st, _ := open(t)
	k := keyring.Sealed{Name: keyring.OAuth, Version: 1, KID: "k", KEKID: "x", Private: []byte{1}, Public: []byte{2}, Created: kT0, Activates: kT0}
	if _, err := st.AddSealedKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	noErr(t, st.RetireKey(ctx, keyring.OAuth, "k", kT0.Add(time.Hour)))
	noErr(t, st.RetireKey(ctx, keyring.OAuth, "k", kT0.Add(5*time.Hour)))
	got, err := st.SealedKeys(ctx, keyring.OAuth)
	if err != nil || len(got) != 1 || !got[0].Retired.Equal(kT0.Add(time.Hour)) {
		t.Errorf("after retiring twice: %+v, %v; want retired at the first time", got, err)
	}
	if err := st.RetireKey(ctx, keyring.OAuth, "nope", kT0); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("RetireKey of an unknown kid: %v, want ErrNotFound", err)
	}
}

func keysLegacy(t *testing.T, open KeysOpener) {
	ctx := context.Background()
	st, cs := open(t)
	if _, err := st.LegacyOAuthKey(ctx); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("LegacyOAuthKey of a new database: %v, want ErrNotFound", err)
	}
	jwk := []byte(`{"kty":"EC","kid":"old"}`)
	if _, err := cs.SigningKey(ctx, "as-es256-1", jwk, kT0); err != nil { // how the OAuth server kept it
		t.Fatal(err)
	}
	got, err := st.LegacyOAuthKey(ctx)
	if err != nil || string(got) != string(jwk) {
		t.Fatalf("LegacyOAuthKey: %s, %v", got, err)
	}
	noErr(t, st.DropLegacyOAuthKey(ctx))
	if _, err := st.LegacyOAuthKey(ctx); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("LegacyOAuthKey after Drop: %v, want ErrNotFound", err)
	}
}

func testKEK(t testing.TB) keyring.KEK {
	t.Helper()
	b, err := keyring.GenerateKEK()
	noErr(t, err)
	k, err := keyring.NewFileKEK(b)
	noErr(t, err)
	return k
}

// keysFirstOnce is two instances (and more) starting at once on an empty
// database: each makes a key of its own, one insert wins, all sign with it.
func keysFirstOnce(t *testing.T, reopen KeysReopener) {
	ctx := context.Background()
	next := reopen(t)
	kek := testKEK(t)
	const n = 6
	stores := make([]keyring.Store, n)
	for i := range stores {
		stores[i] = next()
	}
	kids := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := keyring.Open(ctx, stores[i], kek, keyring.Options{})
			if err == nil {
				_, err = r.Ensure(ctx, keyring.Audit, nil)
			}
			var k keyring.Key
			if err == nil {
				k, err = r.Active(ctx, keyring.Audit)
			}
			kids[i] = k.ID
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		noErr(t, err)
	}
	for i := range kids {
		if kids[i] != kids[0] || kids[i] == "" {
			t.Fatalf("instances sign with different keys: %q", kids)
		}
	}
	got, err := stores[0].SealedKeys(ctx, keyring.Audit)
	if err != nil || len(got) != 1 {
		t.Errorf("stored keys: %d, %v; want exactly one", len(got), err)
	}
}

func keysMismatch(t *testing.T, open KeysOpener) {
	ctx := context.Background()
	st, _ := open(t)
	good, bad := testKEK(t), testKEK(t)
	r, err := keyring.Open(ctx, st, good, keyring.Options{})
	noErr(t, err)
	if _, err := r.Ensure(ctx, keyring.Audit, nil); err != nil {
		t.Fatal(err)
	}
	k, err := r.Active(ctx, keyring.Audit)
	noErr(t, err)
	_, err = keyring.Open(ctx, st, bad, keyring.Options{Source: "BANKBRIDGE_KEY_FILE /x"})
	var me *keyring.MismatchError
	if !errors.As(err, &me) || !errors.Is(err, keyring.ErrMismatch) {
		t.Fatalf("Open with another KEK: %v, want a MismatchError", err)
	}
	want := "BANKBRIDGE_KEY_FILE /x: does not open key audit/" + k.ID + " sealed in the database (KEK id " + bad.ID() + ", database expects " + good.ID() + ")"
	if err.Error() != want {
		t.Errorf("error:\n %s\nwant\n %s", err, want)
	}
	// The right KEK id beside a sealed key that was swapped for another's
	// does not open either: the kid is the seal's associated data.
	sealed, err := st.SealedKeys(ctx, keyring.Audit)
	noErr(t, err)
	if _, err := r.Rotate(ctx, keyring.Audit, kT0); err != nil {
		t.Fatal(err)
	}
	moved := sealed[0]
	moved.Name = keyring.Messenger
	if _, err := st.AddSealedKey(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if _, err := keyring.Open(ctx, st, good, keyring.Options{}); !errors.Is(err, keyring.ErrMismatch) {
		t.Errorf("Open with a sealed key moved to another name: %v, want ErrMismatch", err)
	}
}

func keysRotate(t *testing.T, open KeysOpener) {
	ctx := context.Background()
	st, _ := open(t)
	now := kT0
	r, err := keyring.Open(ctx, st, testKEK(t), keyring.Options{Now: func() time.Time { return now }, Refresh: time.Hour})
	noErr(t, err)
	if _, err := r.Ensure(ctx, keyring.OAuth, nil); err != nil {
		t.Fatal(err)
	}
	old, err := r.Active(ctx, keyring.OAuth)
	noErr(t, err)
	if err := r.Retire(ctx, keyring.OAuth, old.ID); !errors.Is(err, keyring.ErrInUse) {
		t.Errorf("Retire of the only key: %v, want ErrInUse", err)
	}
	nk, err := r.Rotate(ctx, keyring.OAuth, now.Add(time.Minute))
	noErr(t, err)
	if nk.Version != 2 || nk.ID == old.ID {
		t.Fatalf("rotated key: version %d kid %s (old %s)", nk.Version, nk.ID, old.ID)
	}
	if k, _ := r.Active(ctx, keyring.OAuth); k.ID != old.ID {
		t.Errorf("before the new key activates the old one must sign; got %s", k.ID)
	}
	now = now.Add(time.Minute)
	if k, _ := r.Active(ctx, keyring.OAuth); k.ID != nk.ID {
		t.Errorf("once activated the new key must sign; got %s", k.ID)
	}
	if k, err := r.Lookup(ctx, keyring.OAuth, old.ID); err != nil || k.ID != old.ID {
		t.Errorf("the old key must still be found: %v", err)
	}
	noErr(t, r.Retire(ctx, keyring.OAuth, old.ID))
	keys, err := r.Keys(ctx, keyring.OAuth)
	if err != nil || len(keys) != 2 || !keys[0].Retired.Equal(now) || !keys[1].Retired.IsZero() {
		t.Errorf("after retiring the old key: %+v, %v", keys, err)
	}
}
