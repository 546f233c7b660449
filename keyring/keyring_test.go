package keyring_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/bankbridge/bankbridge/keyring"
)

func newKEK(t *testing.T) *keyring.FileKEK {
	t.Helper()
	b, err := keyring.GenerateKEK()
	if err != nil {
		t.Fatal(err)
	}
	k, err := keyring.NewFileKEK(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestFileKEK(t *testing.T) {
	t.Parallel()
	a, b := newKEK(t), newKEK(t)
	aad := keyring.AAD(keyring.Audit, "kid")
	sealed, err := a.Seal([]byte("secret"), aad)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("OpensWithItsKEKAndAAD", func(t *testing.T) {
		got, err := a.Open(sealed, aad)
		if err != nil || string(got) != "secret" {
			t.Errorf("Open: %q, %v", got, err)
		}
	})
	t.Run("RefusesAnotherAAD", func(t *testing.T) {
		if _, err := a.Open(sealed, keyring.AAD(keyring.OAuth, "kid")); !errors.Is(err, keyring.ErrOpen) {
			t.Errorf("Open under another name: %v, want ErrOpen", err)
		}
	})
	t.Run("RefusesAnotherKEK", func(t *testing.T) {
		if _, err := b.Open(sealed, aad); !errors.Is(err, keyring.ErrOpen) {
			t.Errorf("Open with another KEK: %v, want ErrOpen", err)
		}
		if a.ID() == b.ID() || len(a.ID()) != 16 {
			t.Errorf("KEK ids %q and %q: want 16 hex digits, distinct", a.ID(), b.ID())
		}
	})
	t.Run("RefusesATamperedSeal", func(t *testing.T) {
		bad := append([]byte(nil), sealed...)
		bad[len(bad)-1] ^= 1
		if _, err := a.Open(bad, aad); !errors.Is(err, keyring.ErrOpen) {
			t.Errorf("Open of a changed seal: %v", err)
		}
		if _, err := a.Open(sealed[:5], aad); !errors.Is(err, keyring.ErrOpen) {
			t.Errorf("Open of a short seal: %v", err)
		}
	})
}

func TestKEKFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "kek")
	if _, err := keyring.LoadKEKFile(path); !keyring.IsNotExist(err) {
		t.Fatalf("LoadKEKFile of nothing: %v, want not-exist", err)
	}
	key, _ := keyring.GenerateKEK()
	if err := keyring.WriteKEKFile(path, key); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode: %v, %v; want 0600", fi.Mode(), err)
	}
	other, _ := keyring.GenerateKEK()
	if err := keyring.WriteKEKFile(path, other); err == nil {
		t.Error("WriteKEKFile replaced an existing key file")
	}
	got, err := keyring.LoadKEKFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := keyring.NewFileKEK(key)
	if got.ID() != want.ID() {
		t.Errorf("loaded KEK id %s, want %s", got.ID(), want.ID())
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte(base64.StdEncoding.EncodeToString([]byte("short"))), 0o600)
	if _, err := keyring.LoadKEKFile(bad); err == nil {
		t.Error("LoadKEKFile accepted a 5-byte key")
	}
}

func TestKeyID(t *testing.T) {
	t.Parallel()
	t.Run("Ed25519IsTheHexSHA256OfTheKey", func(t *testing.T) {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		h := sha256.Sum256(pub)
		if got, _ := keyring.KeyID(pub); got != hex.EncodeToString(h[:]) {
			t.Errorf("KeyID %s", got)
		}
	})
	t.Run("P256IsTheRFC7638Thumbprint", func(t *testing.T) {
		for range 20 { // coordinates with leading zero bytes must be padded
			k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			tp, err := (&jose.JSONWebKey{Key: &k.PublicKey}).Thumbprint(crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := keyring.KeyID(&k.PublicKey); got != base64.RawURLEncoding.EncodeToString(tp) {
				t.Fatalf("KeyID %s, want jose's thumbprint", got)
			}
		}
	})
}

// TestKEKFileOneWriterWins is processes starting together on one folder:
// exactly one key file is written, whole, and the others are told so.
func TestKEKFileOneWriterWins(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "kek")
	const n = 8
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		keys[i], _ = keyring.GenerateKEK()
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = keyring.WriteKEKFile(path, keys[i]) }()
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("writers %d and %d both wrote the key file", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, fs.ErrExist):
			t.Errorf("writer %d: %v, want fs.ErrExist", i, err)
		}
	}
	got, err := keyring.LoadKEKFile(path)
	if err != nil || won < 0 {
		t.Fatalf("load after the race: %v (winner %d)", err, won)
	}
	want, _ := keyring.NewFileKEK(keys[won])
	if got.ID() != want.ID() {
		t.Errorf("the file holds another key than its writer's")
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".kek-*")); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}
