package identity

import (
	"errors"
	"strings"
	"testing"
)

// cheap keeps unit tests fast; the format and the verification path are the
// same as with DefaultParams.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashPassword(t *testing.T) {
	t.Parallel()
	t.Run("DefaultParamsInPHCString", func(t *testing.T) {
		t.Parallel()
		h, err := HashPassword("correct horse battery staple")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
			t.Errorf("hash %q does not start with the OWASP argon2id parameters", h)
		}
		ok, err := VerifyPassword(h, "correct horse battery staple")
		if err != nil || !ok {
			t.Errorf("VerifyPassword(right) = %v, %v; want true", ok, err)
		}
	})
	t.Run("SaltedSoEqualPasswordsDiffer", func(t *testing.T) {
		t.Parallel()
		a, _ := HashPasswordParams("same password", cheap)
		b, _ := HashPasswordParams("same password", cheap)
		if a == b {
			t.Errorf("two hashes of one password are equal: %q", a)
		}
	})
	t.Run("RefusesWeakParams", func(t *testing.T) {
		t.Parallel()
		if _, err := HashPasswordParams("x", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32}); err == nil {
			t.Error("a 4-byte salt was accepted")
		}
	})
}

func TestVerifyPassword(t *testing.T) {
	t.Parallel()
	h, err := HashPasswordParams("s3cret-passphrase", cheap)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, hash, password string
		want                 bool
		err                  error
	}{
		{"RightPassword", h, "s3cret-passphrase", true, nil},
		{"WrongPassword", h, "s3cret-passphrasE", false, nil},
		{"EmptyPassword", h, "", false, nil},
		{"PrefixOfPassword", h, "s3cret", false, nil},
		{"NotPHC", "plaintext", "plaintext", false, ErrHashFormat},
		{"Bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "x", false, ErrHashFormat},
		{"Argon2i", strings.Replace(h, "argon2id", "argon2i", 1), "s3cret-passphrase", false, ErrHashFormat},
		{"OtherVersion", strings.Replace(h, "v=19", "v=16", 1), "s3cret-passphrase", false, ErrHashFormat},
		{"HugeMemory", strings.Replace(h, "m=64", "m=99999999", 1), "s3cret-passphrase", false, ErrHashFormat},
		{"BadSalt", strings.Replace(h, "$argon2id$v=19$m=64,t=1,p=1$", "$argon2id$v=19$m=64,t=1,p=1$!!", 1), "s3cret-passphrase", false, ErrHashFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := VerifyPassword(tc.hash, tc.password)
			if got != tc.want || !errors.Is(err, tc.err) {
				t.Errorf("VerifyPassword = %v, %v; want %v, %v", got, err, tc.want, tc.err)
			}
		})
	}
}
