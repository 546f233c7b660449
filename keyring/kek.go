package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KEK is a key-encryption key: what seals the private keys kept in the
// database. A KMS implements it by calling its encrypt and decrypt
// operations; the keyring never sees the KMS's key.
type KEK interface {
	// ID names the KEK (a short hash of it, or the KMS key's id) so that a
	// mismatch can say which KEK sealed a key. It is stored beside each
	// sealed key and is no secret.
	ID() string
	// Seal encrypts and authenticates plaintext, binding aad to it.
	Seal(plaintext, aad []byte) ([]byte, error)
	// Open reverses Seal; it fails when sealed or aad was changed or when
	// another KEK sealed it.
	Open(sealed, aad []byte) ([]byte, error)
}

// FileKEK is a 256-bit KEK kept in a file: AES-256-GCM with a random
// 96-bit nonce per seal (NIST SP 800-38D §8.2.2; a fleet seals a handful of
// keys, far below the 2^32 seals that bound random nonces).
type FileKEK struct {
	aead cipher.AEAD
	id   string
}

// KEKSize is the length of a FileKEK's key in bytes.
const KEKSize = 32

// NewFileKEK returns the KEK of key (KEKSize bytes).
func NewFileKEK(key []byte) (*FileKEK, error) {
	if len(key) != KEKSize {
		return nil, fmt.Errorf("keyring: a key-encryption key is %d bytes, not %d", KEKSize, len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	// The id is a hash of the key under its own label: it names the KEK
	// without revealing anything that helps to guess it.
	h := sha256.Sum256(append([]byte("bankbridge kek id v1\x00"), key...))
	return &FileKEK{aead: aead, id: hex.EncodeToString(h[:8])}, nil
}

// ID is the first 8 bytes of a labelled SHA-256 of the key, in hex.
func (k *FileKEK) ID() string { return k.id }

// Seal returns nonce || ciphertext || tag.
func (k *FileKEK) Seal(plaintext, aad []byte) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.aead.Seal(nonce, nonce, plaintext, aad), nil
}

// ErrOpen reports a sealed key that does not open: another KEK sealed it,
// or it (or its name or kid) was changed.
var ErrOpen = errors.New("keyring: the sealed key does not open with this key-encryption key")

// Open checks and decrypts what Seal returned; ErrOpen.
func (k *FileKEK) Open(sealed, aad []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n+k.aead.Overhead() {
		return nil, ErrOpen
	}
	p, err := k.aead.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, ErrOpen
	}
	return p, nil
}

// LoadKEKFile reads a FileKEK from path: the base64 of KEKSize bytes on one
// line. An error matching fs.ErrNotExist when there is no file.
func LoadKEKFile(path string) (*FileKEK, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: read key file: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != KEKSize {
		return nil, fmt.Errorf("keyring: %s is not a key file (the base64 of %d random bytes on one line)", path, KEKSize)
	}
	return NewFileKEK(key)
}

// GenerateKEK returns a new random key for a FileKEK.
func GenerateKEK() ([]byte, error) {
	key := make([]byte, KEKSize)
	_, err := rand.Read(key)
	return key, err
}

// WriteKEKFile writes key to a new file at path, mode 0600. It never
// replaces a file (fs.ErrExist): a KEK is never regenerated behind anyone's
// back. The file appears whole or not at all (written aside, then linked),
// so a process reading it as another writes it never reads half a key.
func WriteKEKFile(path string, key []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("keyring: key file folder: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".kek-*")
	if err != nil {
		return fmt.Errorf("keyring: write key file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp, path) // fails with fs.ErrExist when another process won
	}
	if err != nil {
		return fmt.Errorf("keyring: write key file: %w", err)
	}
	return nil
}

// IsNotExist reports whether err says a key file does not exist.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
