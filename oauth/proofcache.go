package oauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"sync"

	jose "github.com/go-jose/go-jose/v4"
)

// proofKeys remembers the protected headers of DPoP proofs that passed
// parseProof in full, so that the next proof from the same client key is
// checked without parsing its header and key again. A client signs every
// proof with one key, so its header (typ, alg and the embedded jwk) is
// the same byte for byte from call to call; parsing it, rebuilding the key
// and hashing its thumbprint was a third of a proof's cost.
//
// Only ES256 headers are remembered (the algorithm almost every client
// uses); any other, and any header not seen before, takes the full path.
// For a known header the proof must still be three segments, its payload
// valid JSON with the required claims, and its signature valid for the
// remembered key over the proof's own signing input: the same checks
// parseProof makes, as a differential fuzz test holds them to.
type proofKeys struct {
	mu   sync.Mutex
	keys map[string]knownProofKey // by the protected header's base64url segment
}

type knownProofKey struct {
	prefix string // the header re-encoded as go-jose signs it, and "."
	pub    *ecdsa.PublicKey
	jkt    string
}

// maxProofKeys bounds the remembered headers (about 500 bytes each).
const maxProofKeys = 10_000

func newProofKeys() *proofKeys { return &proofKeys{keys: map[string]knownProofKey{}} }

// parse is parseProof, faster for a header seen before.
func (c *proofKeys) parse(raw string) (proof, error) {
	if len(raw) == 0 || len(raw) > maxProof {
		return proof{}, errors.New("missing or oversized DPoP proof")
	}
	head, _, _ := strings.Cut(raw, ".")
	c.mu.Lock()
	k, ok := c.keys[head]
	c.mu.Unlock()
	if ok {
		return k.verify(raw)
	}
	p, h, err := parseProof(raw)
	if err != nil {
		return proof{}, err
	}
	if ec, ok := h.JSONWebKey.Key.(*ecdsa.PublicKey); ok && h.Algorithm == string(jose.ES256) && ec.Curve == elliptic.P256() {
		if rawHead, err := base64.RawURLEncoding.DecodeString(head); err == nil && plainHeader(rawHead) {
			c.mu.Lock()
			if len(c.keys) >= maxProofKeys {
				clear(c.keys) // bound memory; the cache only saves parsing
			}
			c.keys[head] = knownProofKey{prefix: base64.RawURLEncoding.EncodeToString(rawHead) + ".", pub: ec, jkt: p.jkt}
			c.mu.Unlock()
		}
	}
	return p, nil
}

// plainHeader reports whether a protected header holds nothing but typ,
// alg and jwk: no parameter (b64, crit, ...) that could change how the
// signature is computed, which verify does not model.
func plainHeader(raw []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	for k := range m {
		if k != "typ" && k != "alg" && k != "jwk" {
			return false
		}
	}
	return true
}

// verify checks a proof whose protected header is k's.
func (k knownProofKey) verify(raw string) (proof, error) {
	_, rest, _ := strings.Cut(raw, ".")
	payloadB64, sigB64, ok := strings.Cut(rest, ".")
	if !ok || strings.ContainsRune(sigB64, '.') {
		return proof{}, errors.New("a DPoP proof is a compact JWS of three parts")
	}
	payload, err := base64.RawURLEncoding.DecodeString(payloadB64)
	if err != nil {
		return proof{}, err
	}
	sig, err := base64.RawURLEncoding.DecodeString(sigB64)
	if err != nil {
		return proof{}, err
	}
	if len(sig) != 64 {
		return proof{}, errors.New("an ES256 signature is 64 bytes")
	}
	// The signing input as go-jose computes it: both parts re-encoded.
	h := sha256.Sum256([]byte(k.prefix + base64.RawURLEncoding.EncodeToString(payload)))
	if !ecdsa.Verify(k.pub, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return proof{}, errors.New("the DPoP proof's signature does not verify")
	}
	var c proofClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return proof{}, err
	}
	if err := c.required(); err != nil {
		return proof{}, err
	}
	return proof{claims: c, jkt: k.jkt}, nil
}
