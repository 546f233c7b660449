package audit

import (
	"context"
	"time"

	"github.com/bankbridge/bankbridge"
)

// Store keeps the log. Implementations live in store/sqlite and
// store/postgres and pass the same conformance suite (storetest.Audit).
//
// Records are never updated, only appended (and, by retention, pruned: the
// fields cleared, the leaf hash kept). Heads and nodes are written by Seal
// and never change except that a head for a size already stored may be
// re-signed with a later time (the same root).
type Store interface {
	// Append stores recs in one transaction and returns only once it is
	// committed (durable). Under one lock shared by every writer of the
	// database (a counter row), it gives recs the next leaf indexes in
	// order, so Seq stays dense across instances, and sets each LeafHash to
	// ComputeLeafHash() and each MAC to tag(LeafHash) once Seq is known
	// (Number does both). recs are updated in place. tag may be nil.
	Append(ctx context.Context, recs []Record, tag Tagger) error
	// Size is the number of records committed, pruned ones included.
	Size(ctx context.Context) (uint64, error)
	// LeafHashes returns the stored leaf hashes of [from, to).
	LeafHashes(ctx context.Context, from, to uint64) ([]Hash, error)
	// Nodes returns the stored hashes of the perfect subtrees at level with
	// indexes [from, to) (see NodeStride); a missing one is an error.
	Nodes(ctx context.Context, level uint8, from, to uint64) ([]Hash, error)
	// ScanNodes calls fn with every stored node of level, by index.
	ScanNodes(ctx context.Context, level uint8, fn func(index uint64, h Hash) error) error
	// Seal stores nodes and head in one transaction. Nodes already stored
	// are kept; a head of a size already stored is replaced only when its
	// root is the same (a fresher signature), so two sealers racing on the
	// same database agree.
	Seal(ctx context.Context, nodes []Node, head SignedHead) error
	// LatestHead returns the head of the largest size; ErrNoHead if none.
	LatestHead(ctx context.Context) (SignedHead, error)
	// Head returns the head of exactly size; ErrNoHead if none.
	Head(ctx context.Context, size uint64) (SignedHead, error)
	// Heads calls fn with every head, by size.
	Heads(ctx context.Context, fn func(SignedHead) error) error
	// Records returns one page of records matching q, newest first, by
	// keyset on Seq.
	Records(ctx context.Context, q Query) (Page, error)
	// RecordByLeafHash returns the record with that leaf hash;
	// ErrRecordNotFound if none.
	RecordByLeafHash(ctx context.Context, h Hash) (Record, error)
	// Scan calls fn with every record of [from, to) in Seq order, pruned
	// ones included (with Pruned set), each with its MAC. fn must not keep
	// the record's slices.
	Scan(ctx context.Context, from, to uint64, fn func(*Record) error) error
	// Prune clears the fields of every record with Seq < c.Upto (keeping
	// Seq, Time, Kind and LeafHash) and stores c, in one transaction.
	Prune(ctx context.Context, c Checkpoint) error
	// Checkpoints lists the prunes, oldest first.
	Checkpoints(ctx context.Context) ([]Checkpoint, error)
}

// NodeStride says which subtree levels the sealer stores: every level that
// is a multiple of it (4, 8, 12...). A proof then reads at most 2^(stride-1)
// hashes per subtree it needs, and the nodes cost 1/15 of the leaves' space.
const NodeStride = 4

// Node is a stored perfect subtree hash: the subtree of height Level whose
// first leaf is Index << Level.
type Node struct {
	Level uint8
	Index uint64
	Hash  Hash
}

// Query selects records. Zero fields do not filter.
type Query struct {
	Customer bankbridge.CustomerID
	Partner  string
	Kind     Kind
	From     time.Time // inclusive
	To       time.Time // exclusive
	// Before is a keyset cursor: only records with Seq < Before. 0 means
	// from the newest.
	Before uint64
	Limit  int // 1..1000; 0 means 100
}

// Page is one page of records; Next is the cursor of the next (older) page,
// 0 on the last.
type Page struct {
	Records []Record
	Next    uint64
}

// Checkpoint is what retention leaves behind: records below Upto were
// exported to a file with digest Export and pruned, covered by Head.
type Checkpoint struct {
	Upto   uint64     `json:"upto"`
	At     time.Time  `json:"at"`
	Head   SignedHead `json:"head"`
	Export Hash       `json:"export_sha256"`
}

// The store's errors. Compare with errors.Is.
var (
	ErrNoHead         = bankbridge.E(bankbridge.NotFound, "audit_no_tree_head", "no signed tree head of that size")
	ErrRecordNotFound = bankbridge.E(bankbridge.NotFound, "audit_record_not_found", "no audit record has that leaf hash")
	ErrNodeMissing    = bankbridge.E(bankbridge.Internal, "audit_node_missing", "a stored subtree hash is missing")
)

// LeafKey is the first 8 bytes of a leaf hash as an integer: stores index it
// instead of the whole hash (a quarter of the space) and compare the full
// hash on the few rows it finds.
func LeafKey(h Hash) int64 {
	return int64(uint64(h[0])<<56 | uint64(h[1])<<48 | uint64(h[2])<<40 | uint64(h[3])<<32 |
		uint64(h[4])<<24 | uint64(h[5])<<16 | uint64(h[6])<<8 | uint64(h[7]))
}

// NormalizeQuery applies the defaults and bounds of q's Limit.
func NormalizeQuery(q Query) Query {
	switch {
	case q.Limit <= 0:
		q.Limit = 100
	case q.Limit > 1000:
		q.Limit = 1000
	}
	return q
}
