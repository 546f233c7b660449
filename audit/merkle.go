package audit

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math/bits"
)

// Hash is a SHA-256 value: a leaf hash, a subtree hash or a tree root. It is
// written as standard base64 in JSON, as Certificate Transparency does.
type Hash [32]byte

// MarshalText writes h as standard base64.
func (h Hash) MarshalText() ([]byte, error) {
	return []byte(base64.StdEncoding.EncodeToString(h[:])), nil
}

// UnmarshalText reads h with ParseHash.
func (h *Hash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// String is the hash in hex, for logs and problems.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ErrBadHash reports a hash that is neither 64 hex digits nor the base64 of
// 32 bytes.
var ErrBadHash = errors.New("audit: a hash is 64 hex digits or the base64 of 32 bytes")

// ParseHash reads a hash written as 64 hex digits or as standard or URL-safe
// base64 (with or without padding). The lengths tell the forms apart.
func ParseHash(s string) (Hash, error) {
	var h Hash
	var b []byte
	var err error
	switch len(s) {
	case 64:
		b, err = hex.DecodeString(s)
	case 44:
		b, err = base64.StdEncoding.DecodeString(s)
		if err != nil {
			b, err = base64.URLEncoding.DecodeString(s)
		}
	case 43:
		b, err = base64.RawStdEncoding.DecodeString(s)
		if err != nil {
			b, err = base64.RawURLEncoding.DecodeString(s)
		}
	default:
		return h, ErrBadHash
	}
	if err != nil || len(b) != len(h) {
		return h, ErrBadHash
	}
	copy(h[:], b)
	return h, nil
}

// HashLeaf is RFC 9162 §2.1.1's leaf hash: SHA-256(0x00 || data).
func HashLeaf(data []byte) Hash {
	d := sha256.New()
	d.Write([]byte{0})
	d.Write(data)
	var h Hash
	d.Sum(h[:0])
	return h
}

// HashChildren is RFC 9162 §2.1.1's interior node: SHA-256(0x01 || l || r).
func HashChildren(l, r Hash) Hash {
	var buf [65]byte
	buf[0] = 1
	copy(buf[1:], l[:])
	copy(buf[33:], r[:])
	return sha256.Sum256(buf[:])
}

// EmptyRoot is the root of the empty tree: the hash of the empty string.
var EmptyRoot = Hash(sha256.Sum256(nil))

// RootOf is MTH over leaf hashes, straight from RFC 9162 §2.1.1: split at
// the largest power of two smaller than n. It is the reference the faster
// incremental code is tested against.
func RootOf(leaves []Hash) Hash {
	switch n := len(leaves); n {
	case 0:
		return EmptyRoot
	case 1:
		return leaves[0]
	default:
		k := splitPoint(uint64(n))
		return HashChildren(RootOf(leaves[:k]), RootOf(leaves[k:]))
	}
}

// splitPoint is the largest power of two smaller than n (n > 1).
func splitPoint(n uint64) uint64 { return 1 << (bits.Len64(n-1) - 1) }

// Frontier is the compact state of a tree being grown leaf by leaf: the
// roots of the perfect subtrees that make up its leaves, largest first (one
// per set bit of Size). Appending is amortised O(1) hashes and the root is
// O(log n) — what the sealer and Verify use instead of keeping the tree.
type Frontier struct {
	size  uint64
	nodes []Hash
}

// Size is the number of leaves pushed.
func (f *Frontier) Size() uint64 { return f.size }

// Push appends a leaf hash. For every perfect subtree the push completes,
// emit (if not nil) is called with its level (height; 1 for two leaves) and
// index (its first leaf is index << level).
func (f *Frontier) Push(h Hash, emit func(level uint8, index uint64, h Hash)) {
	n := f.size
	level := uint8(0)
	for n&1 == 1 {
		left := f.nodes[len(f.nodes)-1]
		f.nodes = f.nodes[:len(f.nodes)-1]
		h = HashChildren(left, h)
		level++
		n >>= 1
		if emit != nil {
			emit(level, n, h)
		}
	}
	f.nodes = append(f.nodes, h)
	f.size++
}

// Root is MTH of the leaves pushed so far.
func (f *Frontier) Root() Hash {
	if len(f.nodes) == 0 {
		return EmptyRoot
	}
	r := f.nodes[len(f.nodes)-1]
	for i := len(f.nodes) - 2; i >= 0; i-- {
		r = HashChildren(f.nodes[i], r)
	}
	return r
}

// Clone returns an independent copy.
func (f *Frontier) Clone() *Frontier {
	return &Frontier{size: f.size, nodes: append([]Hash(nil), f.nodes...)}
}

// span is a range of leaves [start, end) whose MTH a proof needs. start is a
// multiple of the largest power of two not above end-start, so the range is
// a node of the tree (perfect, or the ragged right edge).
type span struct{ start, end uint64 }

// inclusionSpans lists, in proof order, the subtrees whose hashes make the
// audit path of leaf m in a tree of n leaves: RFC 9162 §2.1.3.1 PATH(m, D[n]).
func inclusionSpans(m, n uint64) []span {
	var out []span
	var path func(m, off, n uint64)
	path = func(m, off, n uint64) {
		if n <= 1 {
			return
		}
		k := splitPoint(n)
		if m < k {
			path(m, off, k)
			out = append(out, span{off + k, off + n})
		} else {
			path(m-k, off+k, n-k)
			out = append(out, span{off, off + k})
		}
	}
	path(m, 0, n)
	return out
}

// consistencySpans lists, in proof order, the subtrees whose hashes make the
// consistency proof between sizes m and n: RFC 9162 §2.1.4.1 PROOF(m, D[n]).
func consistencySpans(m, n uint64) []span {
	var out []span
	var sub func(m, off, n uint64, whole bool)
	sub = func(m, off, n uint64, whole bool) {
		if m == n {
			if !whole {
				out = append(out, span{off, off + n})
			}
			return
		}
		k := splitPoint(n)
		if m <= k {
			sub(m, off, k, whole)
			out = append(out, span{off + k, off + n})
		} else {
			sub(m-k, off+k, n-k, false)
			out = append(out, span{off, off + k})
		}
	}
	if 0 < m && m < n {
		sub(m, 0, n, true)
	}
	return out
}

// perfectPieces splits a span into the aligned perfect subtrees it is made
// of, largest first. Its MTH is then the right fold of their hashes.
func perfectPieces(s span) []node {
	var out []node
	for a := s.start; a < s.end; {
		level := uint8(bits.TrailingZeros64(a))
		if a == 0 {
			level = 63
		}
		for uint64(1)<<level > s.end-a {
			level--
		}
		out = append(out, node{level, a >> level})
		a += 1 << level
	}
	return out
}

// node names an aligned perfect subtree: its height and index at that height.
type node struct {
	level uint8
	index uint64
}

// foldRight combines the hashes of a span's perfect pieces into its MTH.
func foldRight(hs []Hash) Hash {
	r := hs[len(hs)-1]
	for i := len(hs) - 2; i >= 0; i-- {
		r = HashChildren(hs[i], r)
	}
	return r
}

// ErrProof reports a proof that does not verify.
var ErrProof = errors.New("audit: the proof does not verify")

// VerifyInclusion checks that leaf (a leaf hash) is leaf number index of the
// tree of size whose root is root, by RFC 9162 §2.1.3.2.
func VerifyInclusion(leaf Hash, index, size uint64, path []Hash, root Hash) error {
	if index >= size {
		return ErrProof
	}
	fn, sn := index, size-1
	r := leaf
	for _, p := range path {
		if sn == 0 {
			return ErrProof
		}
		if fn&1 == 1 || fn == sn {
			r = HashChildren(p, r)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = HashChildren(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 || r != root {
		return ErrProof
	}
	return nil
}

// VerifyConsistency checks that the tree of size first with root firstRoot
// is a prefix of the tree of size second with root secondRoot, by RFC 9162
// §2.1.4.2. Equal sizes need an empty proof and equal roots; the empty tree
// is a prefix of every tree.
func VerifyConsistency(first, second uint64, firstRoot, secondRoot Hash, path []Hash) error {
	switch {
	case first > second:
		return ErrProof
	case first == second:
		if len(path) != 0 || firstRoot != secondRoot {
			return ErrProof
		}
		return nil
	case first == 0:
		if len(path) != 0 || firstRoot != EmptyRoot {
			return ErrProof
		}
		return nil
	}
	if len(path) == 0 {
		return ErrProof
	}
	if first&(first-1) == 0 { // an exact power of two
		path = append([]Hash{firstRoot}, path...)
	}
	fn, sn := first-1, second-1
	for fn&1 == 1 {
		fn >>= 1
		sn >>= 1
	}
	fr, sr := path[0], path[0]
	for _, c := range path[1:] {
		if sn == 0 {
			return ErrProof
		}
		if fn&1 == 1 || fn == sn {
			fr = HashChildren(c, fr)
			sr = HashChildren(c, sr)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			sr = HashChildren(sr, c)
		}
		fn >>= 1
		sn >>= 1
	}
	if fr != firstRoot || sr != secondRoot || sn != 0 {
		return ErrProof
	}
	return nil
}
