package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"math"
	"time"
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
	for _, h := range heads {
		if pub, ok := byID[h.KeyID]; !ok {
			rep.problem("tree head of size %d signed %s: the signature does not verify: its key %s is not in the key history given", h.Size, h.Time.Format(time.RFC3339), h.KeyID)
		} else if err := h.Verify(pub); err != nil {
			rep.problem("tree head of size %d signed %s: the signature does not verify with key %s", h.Size, h.Time.Format(time.RFC3339), h.KeyID)
		}
		if h.Size > size {
			rep.problem("tree head of size %d: the log holds only %d records, so records %d..%d were deleted", h.Size, size, size, h.Size-1)
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
		for next < len(heads) && heads[next].Size <= f.Size() {
			h := heads[next]
			next++
			if h.Size < f.Size() {
				continue // a head of a size skipped over by a gap; reported with the gap
			}
			if got := f.Root(); got != h.Root {
				rep.problem("tree head of size %d signed %s does not match the records: one of records %d..%d was changed, moved or deleted after it was signed", h.Size, h.Time.Format(time.RFC3339), lastGood, h.Size-1)
			} else {
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
