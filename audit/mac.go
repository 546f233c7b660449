package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"hash"

	"github.com/bankbridge/bankbridge"
)

// MACKey is a secret that tags records as written by the log: the database
// keeps each record's tag, never the key (a fleet keeps it in its keyring,
// sealed under the key-encryption key). Someone who can only write to the
// database can append a record with a correct leaf hash, but not its tag,
// and the sealer signs no record whose tag does not verify.
type MACKey []byte

// macIDSize is the bytes of the key id that start a tag, so a verifier
// knows which key of the history made it.
const macIDSize = 4

// MACSize is the length of a record's MAC: the key id, then
// HMAC-SHA256(key, "bankbridge audit-mac v1" || leaf hash).
const MACSize = macIDSize + sha256.Size

// ID names the key in the tags it makes: the first bytes of a labelled
// SHA-256 of the key (not of the tags, so ids reveal nothing of them).
func (k MACKey) ID() [macIDSize]byte {
	h := sha256.Sum256(append([]byte("bankbridge audit-mac id\n"), k...))
	return [macIDSize]byte(h[:macIDSize])
}

// Tag is the MAC of the record with leaf hash leaf. The leaf hash covers
// every field and the record's position, so a tag copied to another
// record or position does not verify.
func (k MACKey) Tag(leaf Hash) []byte { return k.Tagger()(leaf) }

// Tagger returns Tag with the key id and the HMAC state made once: a
// batch of a thousand records costs a thousand HMACs, not also a thousand
// key setups. The Tagger is for one goroutine.
func (k MACKey) Tagger() Tagger {
	id := k.ID()
	m := hmac.New(sha256.New, k)
	return func(leaf Hash) []byte {
		m.Reset()
		m.Write([]byte("bankbridge audit-mac v1\n"))
		m.Write(leaf[:])
		return m.Sum(append(make([]byte, 0, MACSize), id[:]...))
	}
}

// tagChecker checks tags against a key history, each key set up once
// (Verify checks millions). For one goroutine.
type tagChecker struct {
	ids [][macIDSize]byte
	hs  []hash.Hash
	buf []byte
	// untagged lets records without a MAC through (not ones with a wrong
	// MAC): the sealer's first seal with a memory, the upgrade to MACs.
	untagged bool
}

func newTagChecker(keys []MACKey) *tagChecker {
	c := &tagChecker{buf: make([]byte, 0, sha256.Size)}
	for _, k := range keys {
		c.ids = append(c.ids, k.ID())
		c.hs = append(c.hs, hmac.New(sha256.New, k))
	}
	return c
}

// check reports whether tag is the MAC of leaf under one of the keys.
func (c *tagChecker) check(leaf Hash, tag []byte) bool {
	if len(tag) != MACSize {
		return false
	}
	for i, id := range c.ids {
		if [macIDSize]byte(tag[:macIDSize]) != id {
			continue
		}
		m := c.hs[i]
		m.Reset()
		m.Write([]byte("bankbridge audit-mac v1\n"))
		m.Write(leaf[:])
		c.buf = m.Sum(c.buf[:0])
		return hmac.Equal(c.buf, tag[macIDSize:])
	}
	return false
}

// MACKeys is where a Log gets the keys that tag records.
type MACKeys interface {
	// MACKey returns the key to tag new records with.
	MACKey(ctx context.Context) (MACKey, error)
	// MACKeys returns every key that tagged records, to check them.
	MACKeys(ctx context.Context) ([]MACKey, error)
}

// FixedMAC is one MAC key as MACKeys, for tests and tools.
type FixedMAC MACKey

// MACKey returns the key.
func (f FixedMAC) MACKey(context.Context) (MACKey, error) { return MACKey(f), nil }

// MACKeys returns the key.
func (f FixedMAC) MACKeys(context.Context) ([]MACKey, error) { return []MACKey{MACKey(f)}, nil }

// Tagger tags a record by its leaf hash (MACKey.Tag); nil tags nothing.
type Tagger func(leaf Hash) []byte

// Number gives recs the leaf indexes from first, their leaf hashes and,
// with tag, their MACs: what Store.Append does once it knows first.
func Number(recs []Record, first uint64, tag Tagger) {
	for i := range recs {
		recs[i].Seq = first + uint64(i)
		recs[i].LeafHash = recs[i].ComputeLeafHash()
		recs[i].MAC = nil
		if tag != nil {
			recs[i].MAC = tag(recs[i].LeafHash)
		}
	}
}

// ErrForged reports a record the sealer will not sign: its MAC is missing
// or does not verify, so it was not written through the log.
var ErrForged = bankbridge.E(bankbridge.Internal, "audit_forged", "a record was written to the database outside the log")

// checkRecord is the sealer's check of a record it is about to sign: its
// fields give its leaf hash and, with keys, its MAC verifies.
func checkRecord(r *Record, keys *tagChecker) error {
	if r.Pruned {
		return ErrTampered.WithOp("audit.Seal", fmt.Errorf("record %d is pruned but no signed head covers it", r.Seq))
	}
	if r.ComputeLeafHash() != r.LeafHash {
		return ErrTampered.WithOp("audit.Seal", fmt.Errorf("record %d (%s, %s): its fields do not give its leaf hash", r.Seq, r.Kind, r.Time.Format("2006-01-02T15:04:05.999999Z07:00")))
	}
	if keys != nil && !(keys.untagged && len(r.MAC) == 0) && !keys.check(r.LeafHash, r.MAC) {
		what := "its MAC does not verify"
		if len(r.MAC) == 0 {
			what = "it has no MAC"
		}
		return ErrForged.WithOp("audit.Seal", fmt.Errorf("record %d (%s, %s, request %q): %s under the bank's audit-mac keys: it was written to the database outside the log; refusing to sign it",
			r.Seq, r.Kind, r.Time.Format("2006-01-02T15:04:05.999999Z07:00"), r.RequestID, what))
	}
	return nil
}
