package audit

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"time"
)

// Retention, and what it means for verifiability:
//
// Records older than the retention period are first written to an archive
// (Archive), then pruned (Prune): their fields (customer, accounts,
// request id...) are cleared and only Seq, Time, Kind and the 32-byte leaf
// hash stay. The tree is over leaf hashes, so after a prune the whole log
// still verifies: every signed head, every proof. What is lost is only the
// check that a pruned record's fields give its leaf hash; the archive keeps
// that: it holds the pruned records, the frontier of the records pruned
// before them and a head signed at exactly the prune point, so the archive
// verifies on its own (ArchiveFile.Check), and a consistency proof links that
// head to the live log's latest head. The checkpoint (the head and the
// archive's SHA-256) is stored, and a retention_prune record is appended
// to the log itself.

// ArchiveFile is the archive of pruned records.
type ArchiveFile struct {
	Format string `json:"format"` // "bankbridge-audit-archive-v1"
	From   uint64 `json:"from"`   // first record in the archive
	Upto   uint64 `json:"upto"`   // records [From, Upto)
	// Prior is the frontier of the records before From: the hashes of the
	// perfect subtrees they form, largest first.
	Prior   []Hash   `json:"prior_frontier"`
	Records []Record `json:"records"`
	// Head is signed at exactly Upto: its root is MTH of records [0, Upto).
	Head SignedHead `json:"tree_head"`
	// Latest and Consistency link Head to the live log at archive time.
	Latest      SignedHead       `json:"latest_tree_head"`
	Consistency ConsistencyProof `json:"consistency"`
}

const archiveFormat = "bankbridge-audit-archive-v1"

// Archive writes, as JSON to w, the records older than before that are not
// pruned yet, and returns the checkpoint to pass to Prune once w is safely
// stored. It seals first, so the archive's head covers everything. Zero
// records to archive is ok: the checkpoint's Upto is then the last one's.
func (l *Log) Archive(ctx context.Context, before time.Time, w io.Writer) (Checkpoint, error) {
	latest, err := l.Seal(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	cps, err := l.st.Checkpoints(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	var from uint64
	if len(cps) > 0 {
		from = cps[len(cps)-1].Upto
	}
	a := ArchiveFile{Format: archiveFormat, From: from, Upto: from, Records: []Record{}, Latest: latest}
	errStop := errors.New("stop")
	err = l.st.Scan(ctx, from, latest.Size, func(r *Record) error {
		if !r.Time.Before(before) {
			return errStop
		}
		c := *r
		c.Accounts, c.Clusters, c.Fields = append(c.Accounts[:0:0], r.Accounts...), append(c.Clusters[:0:0], r.Clusters...), append(c.Fields[:0:0], r.Fields...)
		a.Records = append(a.Records, c)
		a.Upto = r.Seq + 1
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return Checkpoint{}, err
	}
	prior, err := l.frontierAt(ctx, from)
	if err != nil {
		return Checkpoint{}, err
	}
	a.Prior = prior.nodes
	if a.Prior == nil {
		a.Prior = []Hash{}
	}
	at, err := l.frontierAt(ctx, a.Upto)
	if err != nil {
		return Checkpoint{}, err
	}
	now := l.opts.Now()
	key, err := l.opts.Keys.SigningKey(ctx)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: signing key: %w", err)
	}
	a.Head = Sign(key, a.Upto, at.Root(), now)
	if a.Upto > 0 {
		if err := l.st.Seal(ctx, nil, a.Head); err != nil {
			return Checkpoint{}, err
		}
		if a.Consistency, err = l.tree.consistency(ctx, a.Upto, latest.Size); err != nil {
			return Checkpoint{}, err
		}
	}
	d := sha256.New()
	enc := json.NewEncoder(io.MultiWriter(w, d))
	enc.SetIndent("", " ")
	if err := enc.Encode(a); err != nil {
		return Checkpoint{}, fmt.Errorf("audit: write archive: %w", err)
	}
	cp := Checkpoint{Upto: a.Upto, At: now.UTC(), Head: a.Head}
	d.Sum(cp.Export[:0])
	return cp, nil
}

// ErrCheckpoint reports a checkpoint Prune will not apply: not signed by
// a key of this log, not at its head's size, or not past the last prune.
var ErrCheckpoint = ErrInvalid.WithMessage("the checkpoint is not one this log can prune to")

// Prune clears the fields of the records below cp.Upto, stores cp and
// appends a retention_prune record naming the archive's digest.
func (l *Log) Prune(ctx context.Context, cp Checkpoint) error {
	if !l.signs() {
		return ErrNoKey.WithOp("audit.Prune", nil)
	}
	pub, err := l.KeyFor(ctx, cp.Head.KeyID)
	if err != nil || cp.Head.Verify(pub) != nil || cp.Head.Size != cp.Upto {
		return ErrCheckpoint.WithOp("audit.Prune", errors.New("head"))
	}
	cps, err := l.st.Checkpoints(ctx)
	if err != nil {
		return err
	}
	if len(cps) > 0 && cps[len(cps)-1].Upto >= cp.Upto {
		return ErrCheckpoint.WithOp("audit.Prune", fmt.Errorf("already pruned to %d", cps[len(cps)-1].Upto))
	}
	if stored, err := l.st.Head(ctx, cp.Upto); err != nil || stored.Root != cp.Head.Root {
		return ErrCheckpoint.WithOp("audit.Prune", fmt.Errorf("no stored head of size %d with that root: %v", cp.Upto, err))
	}
	if err := l.st.Prune(ctx, cp); err != nil {
		return err
	}
	_, err = l.Append(ctx, Record{Kind: RetentionPrune, Actor: "system",
		Detail: fmt.Sprintf("pruned records below %d; archive sha256 %s", cp.Upto, cp.Export)})
	return err
}

// Check verifies an archive on its own: every record's fields give its leaf
// hash, the records follow the prior frontier to give the root of Head,
// Head and Latest are signed by pub, and Consistency links them.
func (a ArchiveFile) Check(pub []byte) error {
	if a.Format != archiveFormat {
		return fmt.Errorf("audit: not an archive (%q)", a.Format)
	}
	// The prior frontier holds one perfect subtree per set bit of From.
	f := &Frontier{size: a.From, nodes: append([]Hash(nil), a.Prior...)}
	if len(a.Prior) != bits.OnesCount64(a.From) {
		return fmt.Errorf("audit: archive: prior frontier has %d hashes for %d records", len(a.Prior), a.From)
	}
	for i, r := range a.Records {
		if r.Seq != a.From+uint64(i) {
			return fmt.Errorf("audit: archive: record %d is out of place", r.Seq)
		}
		if r.ComputeLeafHash() != r.LeafHash {
			return fmt.Errorf("audit: archive: record %d: fields do not give its leaf hash", r.Seq)
		}
		f.Push(r.LeafHash, nil)
	}
	if f.Size() != a.Upto || f.Root() != a.Head.Root || a.Head.Size != a.Upto {
		return fmt.Errorf("audit: archive: the records do not give the head's root: %w", ErrProof)
	}
	if err := a.Head.Verify(pub); err != nil {
		return err
	}
	if err := a.Latest.Verify(pub); err != nil {
		return err
	}
	if a.Upto == 0 {
		return nil
	}
	return VerifyConsistency(a.Upto, a.Latest.Size, a.Head.Root, a.Latest.Root, a.Consistency.Path)
}
