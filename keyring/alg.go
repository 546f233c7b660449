package keyring

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// Name names a key's use. Each has one algorithm and one way to form a kid.
type Name string

// The keys of a fleet.
const (
	// Audit signs the disclosure log's tree heads: Ed25519, kid the hex
	// SHA-256 of the public key (the heads' key_id, RFC 9162 §4.4).
	Audit Name = "audit"
	// OAuth signs access tokens: ES256, kid the RFC 7638 thumbprint.
	OAuth Name = "oauth"
	// Messenger is the demo messenger partner's client key (private_key_jwt
	// and DPoP): ES256, kid the RFC 7638 thumbprint.
	Messenger Name = "messenger"
	// AuditMAC tags the disclosure log's records (audit.MACKey): an Ed25519
	// key whose seed gives the HMAC key (AuditMACKey), so it is sealed,
	// opened and rotated as the others are. Never published; its kid (of
	// the public half) reveals nothing of the HMAC key.
	AuditMAC Name = "audit-mac"
)

// Names lists every name, in the order keys are listed.
var Names = []Name{Audit, OAuth, Messenger, AuditMAC}

// Valid reports whether n is one of Names.
func (n Name) Valid() bool { return n == Audit || n == OAuth || n == Messenger || n == AuditMAC }

// generate makes a new private key of n's algorithm.
func (n Name) generate() (crypto.Signer, error) {
	switch n {
	case Audit, AuditMAC:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	case OAuth, Messenger:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	return nil, fmt.Errorf("keyring: no key named %q", n)
}

// check reports whether k is of n's algorithm.
func (n Name) check(k crypto.Signer) error {
	switch kk := k.(type) {
	case ed25519.PrivateKey:
		if n == Audit || n == AuditMAC {
			return nil
		}
	case *ecdsa.PrivateKey:
		if (n == OAuth || n == Messenger) && kk.Curve == elliptic.P256() {
			return nil
		}
	}
	return fmt.Errorf("keyring: a %T is not a key for %q", k, n)
}

// KeyID is the kid of a public key: the hex SHA-256 of an Ed25519 key, the
// RFC 7638 JWK thumbprint (base64url, no padding) of a P-256 key.
func KeyID(pub crypto.PublicKey) (string, error) {
	switch p := pub.(type) {
	case ed25519.PublicKey:
		h := sha256.Sum256(p)
		return hex.EncodeToString(h[:]), nil
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return "", errors.New("keyring: only P-256 ECDSA keys")
		}
		b, err := p.Bytes() // 0x04 || X || Y, 32 bytes each
		if err != nil {
			return "", err
		}
		enc := base64.RawURLEncoding.EncodeToString
		// RFC 7638 §3.2: the required members, in lexical order, no spaces.
		h := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + enc(b[1:33]) + `","y":"` + enc(b[33:]) + `"}`))
		return enc(h[:]), nil
	}
	return "", fmt.Errorf("keyring: no kid for a %T", pub)
}

func marshalPrivate(k crypto.Signer) ([]byte, error) { return x509.MarshalPKCS8PrivateKey(k) }

func parsePrivate(der []byte) (crypto.Signer, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("keyring: a %T cannot sign", k)
	}
	return s, nil
}

func marshalPublic(pub crypto.PublicKey) ([]byte, error) { return x509.MarshalPKIXPublicKey(pub) }

// AuditMACKey is the HMAC key an AuditMAC key gives: SHA-256 of a label and
// its Ed25519 seed, so the key that tags records is never the one that
// signs anything.
func AuditMACKey(k Key) ([]byte, error) {
	ek, ok := k.Signer.(ed25519.PrivateKey)
	if !ok || k.Name != AuditMAC {
		return nil, fmt.Errorf("keyring: %s/%s is not an %s key", k.Name, k.ID, AuditMAC)
	}
	h := sha256.Sum256(append([]byte("bankbridge audit-mac key\n"), ek.Seed()...))
	return h[:], nil
}
