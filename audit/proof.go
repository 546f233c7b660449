package audit

import (
	"context"
	"fmt"
	"sync"
)

// InclusionProof shows that leaf LeafIndex is in the tree of TreeSize
// leaves: RFC 9162 §2.1.3's audit path, deepest sibling first.
type InclusionProof struct {
	LeafIndex uint64 `json:"leaf_index"`
	TreeSize  uint64 `json:"tree_size"`
	Path      []Hash `json:"inclusion_path"`
}

// ConsistencyProof shows that the tree of First leaves is a prefix of the
// tree of Second leaves: RFC 9162 §2.1.4.
type ConsistencyProof struct {
	First  uint64 `json:"first"`
	Second uint64 `json:"second"`
	Path   []Hash `json:"consistency_path"`
}

// tree reads subtree hashes from a store: stored nodes at multiples of
// NodeStride, leaves below, and a cache of what it read. A perfect subtree's
// hash never changes once complete, so the cache needs no invalidation.
type tree struct {
	st    Store
	mu    sync.Mutex
	cache map[node]Hash
	max   int
}

func newTree(st Store, max int) *tree {
	return &tree{st: st, cache: make(map[node]Hash), max: max}
}

// perfect returns the hash of an aligned perfect subtree, which the caller
// knows is complete (inside a sealed size).
func (t *tree) perfect(ctx context.Context, n node) (Hash, error) {
	t.mu.Lock()
	h, ok := t.cache[n]
	t.mu.Unlock()
	if ok {
		return h, nil
	}
	base := n.level - n.level%NodeStride
	count := uint64(1) << (n.level - base)
	from := n.index << (n.level - base)
	var hs []Hash
	var err error
	if base == 0 {
		hs, err = t.st.LeafHashes(ctx, from, from+count)
	} else {
		hs, err = t.st.Nodes(ctx, base, from, from+count)
	}
	if err != nil {
		return Hash{}, err
	}
	if uint64(len(hs)) != count {
		return Hash{}, ErrNodeMissing.WithOp("audit.tree", fmt.Errorf("level %d index %d: read %d of %d hashes", base, from, len(hs), count))
	}
	for len(hs) > 1 {
		for i := 0; i < len(hs)/2; i++ {
			hs[i] = HashChildren(hs[2*i], hs[2*i+1])
		}
		hs = hs[:len(hs)/2]
	}
	t.mu.Lock()
	if len(t.cache) >= t.max {
		clear(t.cache) // crude but bounded; the top levels come back at once
	}
	t.cache[n] = hs[0]
	t.mu.Unlock()
	return hs[0], nil
}

// span returns the MTH of a span of leaves.
func (t *tree) span(ctx context.Context, s span) (Hash, error) {
	pieces := perfectPieces(s)
	hs := make([]Hash, len(pieces))
	for i, p := range pieces {
		h, err := t.perfect(ctx, p)
		if err != nil {
			return Hash{}, err
		}
		hs[i] = h
	}
	return foldRight(hs), nil
}

func (t *tree) hashes(ctx context.Context, spans []span) ([]Hash, error) {
	out := make([]Hash, len(spans))
	for i, s := range spans {
		h, err := t.span(ctx, s)
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}

// inclusion builds the proof for leaf index in a tree of size leaves.
func (t *tree) inclusion(ctx context.Context, index, size uint64) (InclusionProof, error) {
	path, err := t.hashes(ctx, inclusionSpans(index, size))
	return InclusionProof{LeafIndex: index, TreeSize: size, Path: path}, err
}

// consistency builds the proof between sizes first and second.
func (t *tree) consistency(ctx context.Context, first, second uint64) (ConsistencyProof, error) {
	path, err := t.hashes(ctx, consistencySpans(first, second))
	if path == nil {
		path = []Hash{}
	}
	return ConsistencyProof{First: first, Second: second, Path: path}, err
}
