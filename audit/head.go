package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// SignedHead is a signed tree head: the log's commitment, at a time, to the
// first Size records. Its signature is Ed25519 over the TLS encoding of RFC
// 9162 §4.9's TreeHeadDataV2 (see SignedBytes).
type SignedHead struct {
	Size      uint64    `json:"tree_size"`
	Root      Hash      `json:"root_hash"`
	Time      time.Time `json:"timestamp"` // millisecond precision, as the RFC's
	KeyID     Hash      `json:"key_id"`    // SHA-256 of the public key
	Signature []byte    `json:"signature"` // 64 bytes, base64 in JSON
}

// SignedBytes is what the signature covers, RFC 9162 §4.9 TreeHeadDataV2:
//
//	uint64 timestamp (milliseconds since the Unix epoch)
//	uint64 tree_size
//	opaque root_hash<32..2^8-1>   (one length byte, 32, then the hash)
//	Extension sth_extensions<0..2^16-1>  (two zero bytes: none)
func (h SignedHead) SignedBytes() []byte {
	b := make([]byte, 0, 8+8+1+32+2)
	b = binary.BigEndian.AppendUint64(b, uint64(h.Time.UnixMilli()))
	b = binary.BigEndian.AppendUint64(b, h.Size)
	b = append(b, 32)
	b = append(b, h.Root[:]...)
	b = append(b, 0, 0)
	return b
}

// KeyID is the id of a public key: SHA-256 of its 32 bytes (RFC 9162 §4.4
// names a log by a hash of its key).
func KeyID(pub ed25519.PublicKey) Hash { return sha256.Sum256(pub) }

// Sign makes a signed head for a tree of size leaves with the given root.
func Sign(key ed25519.PrivateKey, size uint64, root Hash, at time.Time) SignedHead {
	h := SignedHead{Size: size, Root: root, Time: time.UnixMilli(at.UnixMilli()).UTC(), KeyID: KeyID(key.Public().(ed25519.PublicKey))}
	h.Signature = ed25519.Sign(key, h.SignedBytes())
	return h
}

// ErrSignature reports a head whose signature does not verify or whose key
// is not the one given.
var ErrSignature = errors.New("audit: the tree head's signature does not verify")

// Verify checks h's signature with pub.
func (h SignedHead) Verify(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize || h.KeyID != KeyID(pub) || !ed25519.Verify(pub, h.SignedBytes(), h.Signature) {
		return ErrSignature
	}
	return nil
}

// KeyFile is the name of the signing key in the data folder.
const KeyFile = "audit-ed25519.pem"

// LoadOrCreateKey reads the Ed25519 signing key at path (PKCS #8, PEM), or,
// when there is no file yet, generates one and writes it there with mode
// 0600. The key lives beside the database, never in it: whoever can rewrite
// the database alone cannot re-sign a rewritten log.
func LoadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	k, err := LoadKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	_, k, err = ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("audit: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("audit: encode key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("audit: key folder: %w", err)
	}
	// O_EXCL: two processes starting together do not overwrite each
	// other's key; the loser reads the winner's.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("audit: write key: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: write key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: write key: %w", err)
	}
	return k, f.Close()
}

// LoadKey reads the Ed25519 signing key at path; an error matching
// fs.ErrNotExist when there is none.
func LoadKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit: read key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("audit: %s is not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("audit: %s: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("audit: %s is not an Ed25519 key", path)
	}
	return ek, nil
}
