package witness

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// algCosignatureV1 is the key id algorithm byte of Ed25519 cosignatures
// (C2SP tlog-cosignature: SHA-256(name || "\n" || 0x04 || key)[:4]).
const algCosignatureV1 = 0x04

func keyHash(name string, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write([]byte{algCosignatureV1})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// cosignedMessage is what a cosignature/v1 signs: a header line, a time
// line, then the checkpoint's note body.
func cosignedMessage(body []byte, t uint64) []byte {
	return append([]byte("cosignature/v1\ntime "+strconv.FormatUint(t, 10)+"\n"), body...)
}

// Signer makes cosignature/v1 signatures: a note.Signer, so note.Sign
// writes the signature line.
type Signer struct {
	name string
	key  ed25519.PrivateKey
	now  func() time.Time
}

var _ note.Signer = (*Signer)(nil)

// NewSigner is the cosigner called name with key; now is the clock
// (nil: time.Now).
func NewSigner(name string, key ed25519.PrivateKey, now func() time.Time) *Signer {
	if now == nil {
		now = time.Now
	}
	return &Signer{name: name, key: key, now: now}
}

// Name is the witness's name, the key name of its signature lines.
func (s *Signer) Name() string { return s.name }

// KeyHash is the cosignature key id.
func (s *Signer) KeyHash() uint32 { return keyHash(s.name, s.key.Public().(ed25519.PublicKey)) }

// Sign is timestamp (8 bytes, big-endian seconds) || Ed25519 signature.
func (s *Signer) Sign(body []byte) ([]byte, error) {
	t := uint64(s.now().Unix())
	sig := ed25519.Sign(s.key, cosignedMessage(body, t))
	return append(binary.BigEndian.AppendUint64(nil, t), sig...), nil
}

// VerifierKey is the witness's verifier key, "<name>+<key id>+<base64 of
// 0x04 || key>", as clients are configured with it.
func VerifierKey(name string, pub ed25519.PublicKey) string {
	return fmt.Sprintf("%s+%08x+%s", name, keyHash(name, pub), base64.StdEncoding.EncodeToString(append([]byte{algCosignatureV1}, pub...)))
}

// Verifier checks cosignature/v1 signatures: a note.Verifier.
type Verifier struct {
	name string
	pub  ed25519.PublicKey
}

var _ note.Verifier = Verifier{}

// NewVerifier reads a verifier key made by VerifierKey.
func NewVerifier(vkey string) (Verifier, error) {
	var name, hash, key string
	for i, part := range []*string{&name, &hash, &key} {
		j := len(vkey)
		if i < 2 {
			j = indexPlus(vkey)
		}
		if j < 0 {
			return Verifier{}, fmt.Errorf("witness: malformed verifier key %q", vkey)
		}
		*part, vkey = vkey[:j], vkey[min(j+1, len(vkey)):]
	}
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != algCosignatureV1 {
		return Verifier{}, fmt.Errorf("witness: verifier key %q is not an Ed25519 cosignature/v1 key", name)
	}
	v := Verifier{name: name, pub: ed25519.PublicKey(raw[1:])}
	if fmt.Sprintf("%08x", v.KeyHash()) != hash {
		return Verifier{}, fmt.Errorf("witness: verifier key %q: the key id does not match the key", name)
	}
	return v, nil
}

func indexPlus(s string) int {
	for i := range len(s) {
		if s[i] == '+' {
			return i
		}
	}
	return -1
}

// Name is the witness's name.
func (v Verifier) Name() string { return v.name }

// KeyHash is the cosignature key id.
func (v Verifier) KeyHash() uint32 { return keyHash(v.name, v.pub) }

// Verify checks a timestamped signature over the note body msg.
func (v Verifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:8])
	return t < 1<<63 && ed25519.Verify(v.pub, cosignedMessage(msg, t), sig[8:])
}
