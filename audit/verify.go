package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"math"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Report is what Verify found.
type Report struct {
	Size     uint64 // records the log says it holds
	Records  uint64 // records read
	Pruned   uint64 // of which pruned by retention (checked by leaf hash only)
	Heads    int    // signed heads checked
	Nodes    uint64 // stored subtree hashes checked
	Root     Hash   // the root recomputed from the records
	Elapsed  time.Duration
	Problems []string // empty when the log is sound; each names its record or head
	// Unlisted counts problems past the first maxProblems.
	Unlisted int

	// Signed is the size of the largest head that verifies and matches
	// the records; Unsigned the records past it, which no head covers yet,
	// and UnsignedSince the time of the first of them.
	Signed        uint64
	Unsigned      uint64
	UnsignedSince time.Time
	// MACs says whether records' MACs were checked (VerifyOptions.MACs);
	// Untagged counts records written before the log had MACs.
	MACs     bool
	Untagged uint64
	// Notes are findings that are not problems (what was proved, what
	// could not be checked).
	Notes []string
}

// VerifyOptions say what Verify checks beyond the database.
type VerifyOptions struct {
	// Keys is the key history: every key that signed heads.
	Keys []ed25519.PublicKey
	// MACs are the keys that tagged records; nil: MACs are not checked.
	MACs []MACKey
	// Memory is the signer's memory (its last head); nil: none given.
	Memory *Remembered
	// Since are earlier checkpoints (a customer's or partner's download):
	// Verify proves the log extends each, or names where it does not.
	// Their signatures are checked by whoever opened them (OpenCheckpoint).
	Since []SignedHead
	// MaxUnsigned bounds the age of the oldest record no head covers
	// (a few sealing intervals); 0: no bound.
	MaxUnsigned time.Duration
	// Now is the time the unsigned tail's age is taken at. Default time.Now().
	Now time.Time
	// Witnesses must each have cosigned the signer's memory's checkpoint
	// (C2SP tlog-cosignature verifiers).
	Witnesses []note.Verifier
}

// OK reports whether Verify found nothing wrong.
func (r Report) OK() bool { return len(r.Problems) == 0 }

const maxProblems = 1000

func (r *Report) problem(format string, args ...any) {
	if len(r.Problems) >= maxProblems {
		r.Unlisted++
		return
	}
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// Verify checks the whole log in st against the key history pubs (every
// key that signed heads, retired ones included):
//
//   - every record's stored fields give its stored leaf hash (an edited
//     record, or one moved to another position, since the position is
//     inside the hash, is named);
//   - leaf indexes are dense from 0 to the log's size (a deleted record is
//     named);
//   - every signed head's signature verifies with the key its key_id
//     names, which must be one of pubs, and its root is the
//     MTH of the first tree_size records as they are now (a head that no
//     longer matches names the range of records since the last head that
//     does);
//   - every stored subtree hash equals the one recomputed from the records
//     (else the proofs served from it would fail).
//
// Records pruned by retention are checked by their kept leaf hash only.
// Verify reads the records once, in order, and holds one hash per 16
// records in memory.
func Verify(ctx context.Context, st Store, pubs ...ed25519.PublicKey) (Report, error) {
	return VerifyWith(ctx, st, VerifyOptions{Keys: pubs})
}

// external is a head from outside the database (the signer's memory, an
// earlier checkpoint) that the records must still give.
type external struct {
	what string
	h    SignedHead
}

// VerifyWith is Verify with the checks of o: records' MACs (a record
// with a correct leaf hash but no valid MAC was written outside the log),
// the signer's memory and earlier checkpoints (each must be a prefix of the
// log as it is now: heads deleted, a tail cut or an older copy restored
// show as a memory the database does not reach), and the age of the
// records no head covers.
func VerifyWith(ctx context.Context, st Store, o VerifyOptions) (Report, error) {
	pubs := o.Keys
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	start := time.Now()
	var rep Report
	size, err := st.Size(ctx)
	if err != nil {
		return rep, err
	}
	rep.Size = size
	var heads []SignedHead
	if err := st.Heads(ctx, func(h SignedHead) error { heads = append(heads, h); return nil }); err != nil {
		return rep, err
	}
	rep.Heads = len(heads)
	byID := make(map[Hash]ed25519.PublicKey, len(pubs))
	for _, p := range pubs {
		byID[KeyID(p)] = p
	}
	badSig := map[uint64]bool{}
	for _, h := range heads {
		if pub, ok := byID[h.KeyID]; !ok || h.Verify(pub) != nil {
			badSig[h.Size] = true
		}
		if pub, ok := byID[h.KeyID]; !ok {
			rep.problem("tree head of size %d signed %s: the signature does not verify: its key %s is not in the key history given", h.Size, h.Time.Format(time.RFC3339), h.KeyID)
		} else if err := h.Verify(pub); err != nil {
			rep.problem("tree head of size %d signed %s: the signature does not verify with key %s", h.Size, h.Time.Format(time.RFC3339), h.KeyID)
		}
		if h.Size > size {
			rep.problem("tree head of size %d: the log holds only %d records, so records %d..%d were deleted", h.Size, size, size, h.Size-1)
		}
	}

	var exts []external
	if o.Memory != nil {
		exts = append(exts, external{fmt.Sprintf("the signer's memory (its last head: size %d, signed %s)", o.Memory.Head.Size, o.Memory.Head.Time.Format(time.RFC3339)), o.Memory.Head})
		found := false
		for _, h := range heads {
			if h.Size == o.Memory.Head.Size {
				found = true
				if h.Root != o.Memory.Head.Root {
					rep.problem("the database's head of size %d has root %s, the signer's memory %s: the head was replaced", h.Size, h.Root, o.Memory.Head.Root)
				}
			}
		}
		if !found {
			rep.problem("the signer's memory holds a head of size %d signed %s that the database does not: heads were deleted or an older copy of the database restored", o.Memory.Head.Size, o.Memory.Head.Time.Format(time.RFC3339))
		}
	}
	if len(o.Witnesses) > 0 {
		checkCosignatures(&rep, o)
	}
	for _, h := range o.Since {
		exts = append(exts, external{fmt.Sprintf("the checkpoint of size %d (root %s)", h.Size, h.Root), h})
	}
	for _, e := range exts {
		if e.h.Size > size {
			rep.problem("%s covers %d records but the log holds only %d: records %d..%d were deleted (a tail cut, or an older copy restored)", e.what, e.h.Size, size, size, e.h.Size-1)
		}
	}

	var f Frontier
	computed := map[uint8][]Hash{}
	emit := func(level uint8, index uint64, h Hash) {
		if level%NodeStride == 0 {
			computed[level] = append(computed[level], h)
		}
	}
	next, lastGood := 0, uint64(0)
	checkHeads := func() {
		for _, e := range exts {
			if e.h.Size != f.Size() {
				continue
			}
			if got := f.Root(); got != e.h.Root {
				rep.problem("%s does not match the records: one of records %d..%d was changed, moved or deleted since (the log it was shown is not a prefix of this one)", e.what, lastGood, e.h.Size-1)
			} else {
				rep.Notes = append(rep.Notes, fmt.Sprintf("the log extends %s: its first %d records give that root", e.what, e.h.Size))
			}
		}
		for next < len(heads) && heads[next].Size <= f.Size() {
			h := heads[next]
			next++
			if h.Size < f.Size() {
				continue // a head of a size skipped over by a gap; reported with the gap
			}
			if got := f.Root(); got != h.Root {
				rep.problem("tree head of size %d signed %s does not match the records: one of records %d..%d was changed, moved or deleted after it was signed", h.Size, h.Time.Format(time.RFC3339), lastGood, h.Size-1)
			} else if !badSig[h.Size] {
				lastGood = h.Size
			}
		}
	}
	checkHeads() // a head of size 0
	missing := func(upto uint64) {
		for f.Size() < upto {
			rep.problem("record %d is missing: it was deleted", f.Size())
			f.Push(Hash{}, emit)
			checkHeads()
		}
	}
	rep.MACs = o.MACs != nil
	tags := newTagChecker(o.MACs)
	var tagged bool
	var lastUntagged uint64
	checkMAC := func(r *Record) {
		switch {
		case len(r.MAC) == 0 && tagged:
			rep.problem("record %d (%s, %s, request %q) has no MAC, though records before it have: it was written to the database outside the log (forged)", r.Seq, r.Kind, r.Time.Format(time.RFC3339Nano), r.RequestID)
		case len(r.MAC) == 0:
			rep.Untagged++
			lastUntagged = r.Seq + 1
		case !tags.check(r.LeafHash, r.MAC):
			tagged = true
			rep.problem("record %d (%s, %s, request %q): its MAC does not verify under the bank's audit-mac keys: it was written outside the log (forged), or edited with its leaf hash recomputed", r.Seq, r.Kind, r.Time.Format(time.RFC3339Nano), r.RequestID)
		default:
			tagged = true
		}
	}
	buf := make([]byte, 0, 512)
	err = st.Scan(ctx, 0, math.MaxInt64, func(r *Record) error {
		rep.Records++
		if r.Seq < f.Size() {
			rep.problem("record %d appears twice", r.Seq)
			return nil
		}
		if r.Seq >= size {
			rep.problem("record %d is beyond the log's size (%d): it was added outside the log", r.Seq, size)
		}
		missing(r.Seq)
		h := r.LeafHash
		if r.Pruned {
			rep.Pruned++
		} else {
			buf = append(buf[:0], 0)
			buf = r.appendLeafInput(buf)
			h = sha256.Sum256(buf)
			if h != r.LeafHash {
				rep.problem("record %d (%s, %s, request %q): its fields do not give its leaf hash: it was edited or moved from another position", r.Seq, r.Kind, r.Time.Format(time.RFC3339Nano), r.RequestID)
			} else if o.MACs != nil {
				checkMAC(r)
			}
		}
		f.Push(h, emit)
		checkHeads()
		return ctx.Err()
	})
	if err != nil {
		return rep, err
	}
	if f.Size() < size {
		missing(size)
	}
	rep.Root = f.Root()
	rep.Signed = lastGood
	if rep.Untagged > 0 && lastUntagged > lastGood {
		rep.problem("records without a MAC reach record %d, past the last signed head that matches (%d): records written before the log had MACs must be covered by a head signed then", lastUntagged-1, lastGood)
	}
	if size > lastGood {
		rep.Unsigned = size - lastGood
		_ = st.Scan(ctx, lastGood, lastGood+1, func(r *Record) error { rep.UnsignedSince = r.Time; return nil })
		if age := o.Now.Sub(rep.UnsignedSince); o.MaxUnsigned > 0 && !rep.UnsignedSince.IsZero() && age > o.MaxUnsigned {
			rep.problem("records %d..%d (%d) are covered by no signed head; the oldest, from %s, is %s old, more than the %s sealing allows: the sealer has not run, or their heads were deleted",
				lastGood, size-1, rep.Unsigned, rep.UnsignedSince.Format(time.RFC3339), age.Round(time.Second), o.MaxUnsigned)
		}
	}

	// Stored subtree hashes: proofs are built from them.
	var latest uint64
	if len(heads) > 0 {
		latest = heads[len(heads)-1].Size
	}
	for level := uint8(NodeStride); level < 64; level += NodeStride {
		want := computed[level]
		var seen uint64
		err := st.ScanNodes(ctx, level, func(i uint64, h Hash) error {
			rep.Nodes++
			seen++
			switch {
			case i >= uint64(len(want)):
				rep.problem("stored subtree hash (level %d, index %d) covers records %d..%d, beyond the log", level, i, i<<level, (i+1)<<level-1)
			case want[i] != h:
				rep.problem("stored subtree hash (level %d, index %d) over records %d..%d differs from the records: proofs served from it would fail", level, i, i<<level, (i+1)<<level-1)
			}
			return ctx.Err()
		})
		if err != nil {
			return rep, err
		}
		if expect := latest >> level; seen < expect {
			rep.problem("%d stored subtree hashes of level %d are missing (expected %d for the latest head)", expect-seen, level, expect)
		}
		if latest>>level == 0 && len(want) == 0 {
			break
		}
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// checkCosignatures requires a cosignature of each witness on the signer's
// memory's checkpoint: a witness that runs apart saw that head and that it
// extends every head it saw before.
func checkCosignatures(rep *Report, o VerifyOptions) {
	if o.Memory == nil || o.Memory.Checkpoint == "" {
		rep.problem("witnesses are required but there is no checkpoint (the signer's memory) to find their cosignatures on")
		return
	}
	vs := append([]note.Verifier(nil), o.Witnesses...)
	for _, p := range o.Keys {
		if vkey, err := NoteVerifierKey(DefaultOrigin, p); err == nil {
			if v, err := note.NewVerifier(vkey); err == nil {
				vs = append(vs, v)
			}
		}
	}
	n, err := note.Open([]byte(o.Memory.Checkpoint), note.VerifierList(vs...))
	if err != nil {
		rep.problem("the latest checkpoint (size %d) does not open: %v", o.Memory.Head.Size, err)
		return
	}
	for _, w := range o.Witnesses {
		found := false
		for _, s := range n.Sigs {
			found = found || s.Name == w.Name() && s.Hash == w.KeyHash()
		}
		if !found {
			rep.problem("the latest checkpoint (size %d) carries no valid cosignature of witness %s: it did not see this head, or refused it as not extending what it saw", o.Memory.Head.Size, w.Name())
		} else {
			rep.Notes = append(rep.Notes, fmt.Sprintf("witness %s cosigned the checkpoint of size %d", w.Name(), o.Memory.Head.Size))
		}
	}
}
