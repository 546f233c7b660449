package channels

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
)

// DeriveKey derives a P-256 key for another platform partner from parent
// (the keyring's "messenger" key) with HKDF-SHA256 and label: every
// instance of a fleet derives the same key from the same parent, the
// keyring keeps and rotates one key, and a partner registered with the
// derived key follows the parent's rotation. Knowing one derived key tells
// nothing of the parent or of the others.
func DeriveKey(parent *ecdsa.PrivateKey, label string) (*ecdsa.PrivateKey, error) {
	seed, err := parent.Bytes()
	if err != nil {
		return nil, fmt.Errorf("channels: derive key: %w", err)
	}
	// As in dpopKey: a 32-byte string is a valid scalar but with a
	// probability near 2^-32; the counter picks the next candidate then.
	for i := range 8 {
		d, err := hkdf.Key(sha256.New, seed, nil, fmt.Sprintf("bankbridge channels partner key %s %d", label, i), 32)
		if err != nil {
			return nil, fmt.Errorf("channels: derive key: %w", err)
		}
		if k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d); err == nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("channels: derive key %s: no valid scalar", label)
}
