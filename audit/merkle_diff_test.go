package audit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// The verifiers are what outsiders trust, so they are held to another
// implementation of RFC 6962/9162: transparency-dev/merkle, which
// Certificate Transparency and Trillian logs use. Over random tree sizes
// and indices, the proofs we build must equal the ones it builds, each
// side's verifier must accept the other's proofs, and both must refuse the
// same tampered ones.

func toBytes(hs []Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}

// theirProof builds a proof the way transparency-dev/merkle does: the ids
// of the nodes it needs (n, or err from asking for them), their hashes,
// then one ephemeral node rehashed.
func theirProof(t *testing.T, n proof.Nodes, err error, leaves []Hash) []Hash {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	hs := make([][]byte, len(n.IDs))
	for i, id := range n.IDs {
		r := RootOf(leaves[id.Index<<id.Level : (id.Index+1)<<id.Level])
		hs[i] = r[:]
	}
	hs, err = n.Rehash(hs, rfc6962.DefaultHasher.HashChildren)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]Hash, len(hs))
	for i := range hs {
		out[i] = Hash(hs[i])
	}
	return out
}

// tamper returns changed copies of a proof path, each of which no verifier
// may accept: a flipped bit in each element, an element dropped, one added.
func tamper(r *rand.Rand, path []Hash) map[string][]Hash {
	out := map[string][]Hash{}
	for i := range path {
		p := append([]Hash(nil), path...)
		p[i][r.IntN(len(Hash{}))] ^= 1 << r.IntN(8)
		out[fmt.Sprint("FlippedBitInElement", i)] = p
	}
	if len(path) > 0 {
		out["LastDropped"] = append([]Hash(nil), path[:len(path)-1]...)
		out["FirstDropped"] = append([]Hash(nil), path[1:]...)
	}
	out["OneAdded"] = append(append([]Hash(nil), path...), HashLeaf([]byte("extra")))
	return out
}

// bothRefuse runs each check, which gives our verifier's answer and
// transparency-dev's to one wrong proof, and wants both to refuse.
func bothRefuse(t *testing.T, what string, wrong map[string]func() (ours, theirs error)) {
	t.Helper()
	for name, check := range wrong {
		if ourErr, theirErr := check(); ourErr == nil || theirErr == nil {
			t.Errorf("%s, %s: we say %v, transparency-dev says %v; both must refuse", what, name, ourErr, theirErr)
		}
	}
}

// diffTree returns the random source and the tree of 600 leaves, with our
// proof builder over it, that the differential tests draw from.
func diffTree() (*rand.Rand, []Hash, *tree) {
	leaves := leavesOf(600)
	return rand.New(rand.NewPCG(9162, 6962)), leaves, newTree(newMemTree(leaves), 1<<12)
}

func TestInclusionAgreesWithTransparencyDev(t *testing.T) {
	t.Parallel()
	ctx, h := context.Background(), rfc6962.DefaultHasher
	r, leaves, tr := diffTree()
	for range 400 {
		size := 1 + r.Uint64N(uint64(len(leaves)))
		index := r.Uint64N(size)
		root := RootOf(leaves[:size])
		leaf := leaves[index]

		ours, err := tr.inclusion(ctx, index, size)
		if err != nil {
			t.Fatal(err)
		}
		nodes, err := proof.Inclusion(index, size)
		if theirs := theirProof(t, nodes, err, leaves[:size]); !equalHashes(ours.Path, theirs) {
			t.Fatalf("leaf %d of %d: our path %v, theirs %v", index, size, ours.Path, theirs)
		}
		if err := VerifyInclusion(leaf, index, size, ours.Path, root); err != nil {
			t.Fatalf("leaf %d of %d: we refuse our own proof: %v", index, size, err)
		}
		if err := proof.VerifyInclusion(h, index, size, leaf[:], toBytes(ours.Path), root[:]); err != nil {
			t.Fatalf("leaf %d of %d: transparency-dev refuses our proof: %v", index, size, err)
		}

		wrong := map[string]func() (error, error){
			"OtherLeaf": func() (error, error) {
				other := leaves[(index+1)%uint64(len(leaves))]
				return VerifyInclusion(other, index, size, ours.Path, root),
					proof.VerifyInclusion(h, index, size, other[:], toBytes(ours.Path), root[:])
			},
			"OtherRoot": func() (error, error) {
				other := HashLeaf([]byte("another root"))
				return VerifyInclusion(leaf, index, size, ours.Path, other),
					proof.VerifyInclusion(h, index, size, leaf[:], toBytes(ours.Path), other[:])
			},
		}
		for name, path := range tamper(r, ours.Path) {
			wrong[name] = func() (error, error) {
				return VerifyInclusion(leaf, index, size, path, root),
					proof.VerifyInclusion(h, index, size, leaf[:], toBytes(path), root[:])
			}
		}
		bothRefuse(t, fmt.Sprintf("leaf %d of %d", index, size), wrong)

		// Claiming another position or size with the same path is not
		// always detectable from the path alone (the root binds the size),
		// so here the two need only agree.
		for _, c := range []struct{ index, size uint64 }{{index + 1, size}, {index, size + 1}, {index ^ 1, size}, {index, 2 * size}} {
			if c.index >= c.size || c.size > uint64(len(leaves)) {
				continue
			}
			// Against the root of the size claimed, and against the true one.
			for _, cRoot := range []Hash{RootOf(leaves[:c.size]), root} {
				ourErr := VerifyInclusion(leaf, c.index, c.size, ours.Path, cRoot)
				theirErr := proof.VerifyInclusion(h, c.index, c.size, leaf[:], toBytes(ours.Path), cRoot[:])
				if (ourErr == nil) != (theirErr == nil) {
					t.Errorf("leaf %d of %d checked as leaf %d of %d: we say %v, transparency-dev says %v",
						index, size, c.index, c.size, ourErr, theirErr)
				}
			}
		}
	}
}

func TestConsistencyAgreesWithTransparencyDev(t *testing.T) {
	t.Parallel()
	ctx, h := context.Background(), rfc6962.DefaultHasher
	r, leaves, tr := diffTree()
	for i := range 400 {
		second := 1 + r.Uint64N(uint64(len(leaves)))
		first := 1 + r.Uint64N(second)
		if i%50 == 0 {
			first = second // equal sizes: an empty proof and equal roots
		}
		r1, r2 := RootOf(leaves[:first]), RootOf(leaves[:second])

		ours, err := tr.consistency(ctx, first, second)
		if err != nil {
			t.Fatal(err)
		}
		nodes, err := proof.Consistency(first, second)
		if theirs := theirProof(t, nodes, err, leaves[:second]); !equalHashes(ours.Path, theirs) {
			t.Fatalf("%d -> %d: our path %v, theirs %v", first, second, ours.Path, theirs)
		}
		if err := VerifyConsistency(first, second, r1, r2, ours.Path); err != nil {
			t.Fatalf("%d -> %d: we refuse our own proof: %v", first, second, err)
		}
		if err := proof.VerifyConsistency(h, first, second, toBytes(ours.Path), r1[:], r2[:]); err != nil {
			t.Fatalf("%d -> %d: transparency-dev refuses our proof: %v", first, second, err)
		}

		other := HashLeaf([]byte("another root"))
		wrong := map[string]func() (error, error){
			"OtherFirstRoot": func() (error, error) {
				return VerifyConsistency(first, second, other, r2, ours.Path),
					proof.VerifyConsistency(h, first, second, toBytes(ours.Path), other[:], r2[:])
			},
			"OtherSecondRoot": func() (error, error) {
				return VerifyConsistency(first, second, r1, other, ours.Path),
					proof.VerifyConsistency(h, first, second, toBytes(ours.Path), r1[:], other[:])
			},
			"SizesSwapped": func() (error, error) {
				if first == second {
					return ErrProof, ErrProof // the same check again
				}
				return VerifyConsistency(second, first, r2, r1, ours.Path),
					proof.VerifyConsistency(h, second, first, toBytes(ours.Path), r2[:], r1[:])
			},
		}
		for name, path := range tamper(r, ours.Path) {
			wrong[name] = func() (error, error) {
				return VerifyConsistency(first, second, r1, r2, path),
					proof.VerifyConsistency(h, first, second, toBytes(path), r1[:], r2[:])
			}
		}
		bothRefuse(t, fmt.Sprintf("%d -> %d", first, second), wrong)
	}
}

// TestConsistencyFromEmpty pins the one place where we are stricter than
// transparency-dev: from the empty tree it accepts any first root, we only
// the empty tree's.
func TestConsistencyFromEmpty(t *testing.T) {
	t.Parallel()
	leaves := leavesOf(5)
	r2 := RootOf(leaves)
	h := rfc6962.DefaultHasher
	if err := VerifyConsistency(0, 5, EmptyRoot, r2, nil); err != nil {
		t.Errorf("from the empty tree: %v", err)
	}
	if err := proof.VerifyConsistency(h, 0, 5, nil, EmptyRoot[:], r2[:]); err != nil {
		t.Errorf("transparency-dev, from the empty tree: %v", err)
	}
	if err := VerifyConsistency(0, 5, leaves[0], r2, nil); err == nil {
		t.Error("from size 0 with a root that is not the empty tree's: accepted")
	}
}
