package audit

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// DefaultOrigin names the log in its checkpoints when Options.Origin is
// empty: the first line of the note, and the name of the key that signs it
// (C2SP tlog-checkpoint: "the key name SHOULD be the origin").
const DefaultOrigin = "bankbridge.audit"

// timestampPrefix starts the checkpoint's one extension line: the head's time
// in milliseconds, so the note signs the same (size, root, time) the RFC 9162
// head does. Rekor's checkpoints carry a time the same way.
const timestampPrefix = "Timestamp: "

// Checkpoint text, C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint):
//
//	<origin>
//	<tree size, decimal>
//	<root hash, standard base64>
//	Timestamp: <milliseconds since the Unix epoch>   (an extension line)
//
// followed by a blank line and one signature line per signer, as a signed
// note (https://c2sp.org/signed-note), made and checked with
// golang.org/x/mod/sumdb/note, the Go checksum database's implementation.
// tlog.FormatTree is not used: it writes the go.sum database's fixed origin.
func checkpointText(origin string, h SignedHead) string {
	return fmt.Sprintf("%s\n%d\n%s\n%s%d\n", origin, h.Size, base64.StdEncoding.EncodeToString(h.Root[:]), timestampPrefix, h.Time.UnixMilli())
}

// NoteVerifierKey is the note verifier key of pub under origin
// ("<origin>+<key hash>+<base64 of 0x01 || key>"), the form witnesses and
// note tools are configured with.
func NoteVerifierKey(origin string, pub ed25519.PublicKey) (string, error) {
	return note.NewEd25519VerifierKey(origin, pub)
}

// noteSigner makes a note.Signer of key under origin. The note package takes
// keys only in its text form, so the form is built from the key.
func noteSigner(origin string, key ed25519.PrivateKey) (note.Signer, error) {
	vkey, err := NoteVerifierKey(origin, key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	// "<name>+<hash>+<key>": names hold no "+", base64 may.
	_, rest, _ := strings.Cut(vkey, "+")
	hash, _, _ := strings.Cut(rest, "+")
	skey := "PRIVATE+KEY+" + origin + "+" + hash + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, key.Seed()...))
	return note.NewSigner(skey)
}

// SignCheckpoint returns h as a signed checkpoint note, signed with key
// (which must be the key that signed h) under origin.
func SignCheckpoint(origin string, key ed25519.PrivateKey, h SignedHead) ([]byte, error) {
	s, err := noteSigner(origin, key)
	if err != nil {
		return nil, fmt.Errorf("audit: checkpoint signer: %w", err)
	}
	return note.Sign(&note.Note{Text: checkpointText(origin, h)}, s)
}

// ErrCheckpointNote reports a checkpoint that is not well formed or whose
// signature does not verify with any key given.
var ErrCheckpointNote = errors.New("audit: not a checkpoint signed by this log's keys")

// Cosigned is a checkpoint opened: the head it commits to and the signed
// note as received (its signature lines included, cosignatures too).
type Cosigned struct {
	Head SignedHead // Signature is empty: the note's signature is in Note
	Note []byte
	// Signers names the keys whose signatures verified.
	Signers []string
}

// OpenCheckpoint checks msg's signature with one of pubs (the log's key
// history) under origin and returns the head it states.
func OpenCheckpoint(origin string, msg []byte, pubs ...ed25519.PublicKey) (Cosigned, error) {
	vs := make([]note.Verifier, 0, len(pubs))
	for _, p := range pubs {
		vkey, err := NoteVerifierKey(origin, p)
		if err != nil {
			return Cosigned{}, err
		}
		v, err := note.NewVerifier(vkey)
		if err != nil {
			return Cosigned{}, err
		}
		vs = append(vs, v)
	}
	n, err := note.Open(msg, note.VerifierList(vs...))
	if err != nil {
		return Cosigned{}, fmt.Errorf("%w: %v", ErrCheckpointNote, err)
	}
	h, err := parseCheckpointText(origin, n.Text)
	if err != nil {
		return Cosigned{}, err
	}
	c := Cosigned{Head: h, Note: bytes.Clone(msg)}
	for _, s := range n.Sigs {
		c.Signers = append(c.Signers, s.Name)
	}
	// The head's key id is the key that verified (the note names it only by
	// a 4-byte hash).
	for i, v := range vs {
		if v.KeyHash() == n.Sigs[0].Hash {
			c.Head.KeyID = KeyID(pubs[i])
			break
		}
	}
	return c, nil
}

func parseCheckpointText(origin, text string) (SignedHead, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	bad := func(why string) (SignedHead, error) {
		return SignedHead{}, fmt.Errorf("%w: %s", ErrCheckpointNote, why)
	}
	if len(lines) < 3 {
		return bad("fewer than three lines")
	}
	if lines[0] != origin {
		return bad(fmt.Sprintf("origin %q, this log is %q", lines[0], origin))
	}
	var h SignedHead
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || lines[1] != strconv.FormatUint(size, 10) {
		return bad("the tree size is not a decimal number")
	}
	h.Size = size
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != len(h.Root) {
		return bad("the root is not the base64 of 32 bytes")
	}
	copy(h.Root[:], root)
	for _, l := range lines[3:] {
		if ms, ok := strings.CutPrefix(l, timestampPrefix); ok {
			v, err := strconv.ParseInt(ms, 10, 64)
			if err != nil {
				return bad("the timestamp is not a number")
			}
			h.Time = time.UnixMilli(v).UTC()
		}
	}
	return h, nil
}
