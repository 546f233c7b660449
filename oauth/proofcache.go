package oauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
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
	head, rest, _ := strings.Cut(raw, ".")
	payloadB64, sigB64, ok := strings.Cut(rest, ".")
	if !ok || strings.ContainsRune(sigB64, '.') {
		return proof{}, errors.New("a DPoP proof is a compact JWS of three parts")
	}
	// Canonical base64url (what every client sends) decodes strictly and
	// re-encodes to itself; anything else the lenient decoder accepts
	// (non-zero trailing bits, CR or LF) is decoded as go-jose decodes it.
	canonical := !strings.ContainsAny(payloadB64, "\r\n")
	var payload []byte
	var err error
	if canonical {
		payload, err = base64.RawURLEncoding.Strict().DecodeString(payloadB64)
		canonical = err == nil
	}
	if !canonical {
		if payload, err = base64.RawURLEncoding.DecodeString(payloadB64); err != nil {
			return proof{}, err
		}
	}
	var sig [64]byte
	if err := decodeSignature(&sig, sigB64); err != nil {
		return proof{}, err
	}
	// The signing input as go-jose computes it: both parts re-encoded.
	// When both are canonical that is the proof's own first two parts.
	var h [sha256.Size]byte
	if canonical && len(k.prefix) == len(head)+1 && raw[:len(k.prefix)] == k.prefix {
		h = sha256.Sum256([]byte(raw[:len(head)+1+len(payloadB64)]))
	} else {
		h = sha256.Sum256([]byte(k.prefix + base64.RawURLEncoding.EncodeToString(payload)))
	}
	var der [es256DERMax]byte
	asn1, ok := es256DER(&der, &sig)
	if !ok || !ecdsa.VerifyASN1(k.pub, h[:], asn1) {
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

// decodeSignature decodes an ES256 signature (RFC 7518 §3.4: R and S, 32
// bytes each) into sig, as base64.RawURLEncoding.DecodeString would, and
// refuses one of another length. Its usual 86 characters are decoded
// without allocating.
func decodeSignature(sig *[64]byte, b64 string) error {
	n := 0
	if len(b64) == base64.RawURLEncoding.EncodedLen(len(sig)) {
		var err error
		if n, err = base64.RawURLEncoding.Decode(sig[:], []byte(b64)); err != nil {
			return err
		}
	} else {
		b, err := base64.RawURLEncoding.DecodeString(b64)
		if err != nil {
			return err
		}
		n = copy(sig[:], b)
		if len(b) != len(sig) {
			n = -1
		}
	}
	if n != len(sig) {
		return errors.New("an ES256 signature is 64 bytes")
	}
	return nil
}

// es256DERMax bounds the DER encoding of an ES256 signature: a SEQUENCE of
// two INTEGERs of at most 33 bytes (32 and a leading zero).
const es256DERMax = 2 + 2*(2+33)

// es256DER writes the signature R||S as the ASN.1 DER SEQUENCE of two
// INTEGERs that ecdsa.VerifyASN1 takes (RFC 3279 §2.2.3, Ecdsa-Sig-Value),
// encoding each as ecdsa.Verify does from big.Ints: minimal, with a zero
// byte before a high bit. R or S zero is refused, as ecdsa.Verify refuses
// it; it saves ecdsa.Verify's big.Int conversions and re-encoding.
func es256DER(dst *[es256DERMax]byte, sig *[64]byte) ([]byte, bool) {
	out := append(dst[:0], 0x30, 0) // SEQUENCE, length set below
	for _, n := range [][]byte{sig[:32], sig[32:]} {
		for len(n) > 0 && n[0] == 0 {
			n = n[1:]
		}
		if len(n) == 0 {
			return nil, false
		}
		pad := n[0]&0x80 != 0
		l := len(n)
		if pad {
			l++
		}
		out = append(out, 0x02, byte(l)) // INTEGER
		if pad {
			out = append(out, 0)
		}
		out = append(out, n...)
	}
	out[1] = byte(len(out) - 2) // at most 70: the short form
	return out, true
}
