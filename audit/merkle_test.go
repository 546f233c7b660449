package audit

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
)

// The Certificate Transparency reference leaves and roots (RFC 6962's
// test vectors, which RFC 9162 keeps): a tree nobody else agrees with
// proves nothing.
var ctLeaves = []string{"", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"}

var ctRoots = []string{
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

func ctLeafHashes(t *testing.T) []Hash {
	t.Helper()
	out := make([]Hash, len(ctLeaves))
	for i, s := range ctLeaves {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = HashLeaf(b)
	}
	return out
}

func mustHash(t *testing.T, s string) Hash {
	t.Helper()
	h, err := ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRootsMatchReferenceVectors(t *testing.T) {
	t.Parallel()
	leaves := ctLeafHashes(t)
	for n := 0; n <= len(leaves); n++ {
		var f Frontier
		for _, h := range leaves[:n] {
			f.Push(h, nil)
		}
		for name, got := range map[string]Hash{"RootOf": RootOf(leaves[:n]), "Frontier": f.Root()} {
			if got.String() != ctRoots[n] {
				t.Errorf("%s of %d leaves = %s, the reference says %s", name, n, got, ctRoots[n])
			}
		}
	}
}

// memTree is a store that holds leaves and the nodes a sealer would store:
// enough for the tree reader.
type memTree struct {
	Store
	leaves []Hash
	nodes  map[node]Hash
	reads  int
}

func newMemTree(leaves []Hash) *memTree {
	m := &memTree{leaves: leaves, nodes: map[node]Hash{}}
	var f Frontier
	for _, h := range leaves {
		f.Push(h, func(level uint8, index uint64, h Hash) {
			if level%NodeStride == 0 {
				m.nodes[node{level, index}] = h
			}
		})
	}
	return m
}

func (m *memTree) LeafHashes(_ context.Context, from, to uint64) ([]Hash, error) {
	m.reads++
	to = min(to, uint64(len(m.leaves)))
	return append([]Hash(nil), m.leaves[from:to]...), nil
}

func (m *memTree) Nodes(_ context.Context, level uint8, from, to uint64) ([]Hash, error) {
	m.reads++
	var out []Hash
	for i := from; i < to; i++ {
		h, ok := m.nodes[node{level, i}]
		if !ok {
			break
		}
		out = append(out, h)
	}
	return out, nil
}

func leavesOf(n int) []Hash {
	out := make([]Hash, n)
	for i := range out {
		out[i] = HashLeaf([]byte(fmt.Sprintf("leaf %d", i)))
	}
	return out
}

// refPath is RFC 9162 §2.1.3.1 PATH over the leaves themselves.
func refPath(m int, d []Hash) []Hash {
	if len(d) <= 1 {
		return nil
	}
	k := int(splitPoint(uint64(len(d))))
	if m < k {
		return append(refPath(m, d[:k]), RootOf(d[k:]))
	}
	return append(refPath(m-k, d[k:]), RootOf(d[:k]))
}

// refProof is RFC 9162 §2.1.4.1 PROOF over the leaves themselves.
func refProof(m int, d []Hash) []Hash {
	var sub func(m int, d []Hash, b bool) []Hash
	sub = func(m int, d []Hash, b bool) []Hash {
		n := len(d)
		if m == n {
			if b {
				return nil
			}
			return []Hash{RootOf(d)}
		}
		k := int(splitPoint(uint64(n)))
		if m <= k {
			return append(sub(m, d[:k], b), RootOf(d[k:]))
		}
		return append(sub(m-k, d[k:], false), RootOf(d[:k]))
	}
	return sub(m, d, true)
}

func equalHashes(a, b []Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestInclusionProofs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("ReferenceVectors", func(t *testing.T) {
		t.Parallel()
		leaves := ctLeafHashes(t)
		tr := newTree(newMemTree(leaves), 100)
		for _, c := range []struct {
			index uint64
			want  []string
		}{
			{0, []string{"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
			{5, []string{"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
		} {
			p, err := tr.inclusion(ctx, c.index, 8)
			if err != nil {
				t.Fatal(err)
			}
			var want []Hash
			for _, s := range c.want {
				want = append(want, mustHash(t, s))
			}
			if !equalHashes(p.Path, want) {
				t.Errorf("leaf %d of 8: path %v, the reference says %v", c.index, p.Path, want)
			}
		}
	})
	t.Run("EveryLeafOfEverySize", func(t *testing.T) {
		t.Parallel()
		all := leavesOf(140)
		mt := newMemTree(all)
		tr := newTree(mt, 1<<10)
		for n := 1; n <= len(all); n++ {
			root := RootOf(all[:n])
			for m := 0; m < n; m++ {
				p, err := tr.inclusion(ctx, uint64(m), uint64(n))
				if err != nil {
					t.Fatalf("leaf %d of %d: %v", m, n, err)
				}
				if want := refPath(m, all[:n]); !equalHashes(p.Path, want) {
					t.Fatalf("leaf %d of %d: path differs from RFC 9162 PATH", m, n)
				}
				if err := VerifyInclusion(all[m], uint64(m), uint64(n), p.Path, root); err != nil {
					t.Fatalf("leaf %d of %d: %v", m, n, err)
				}
			}
		}
	})
	t.Run("RejectsWhatIsWrong", func(t *testing.T) {
		t.Parallel()
		all := leavesOf(21)
		root := RootOf(all)
		path := refPath(9, all)
		flipped := append([]Hash(nil), path...)
		flipped[1][3] ^= 1
		for name, err := range map[string]error{
			"OtherLeaf":      VerifyInclusion(all[10], 9, 21, path, root),
			"OtherIndex":     VerifyInclusion(all[9], 8, 21, path, root),
			"OtherSize":      VerifyInclusion(all[9], 9, 40, path, root),
			"IndexPastSize":  VerifyInclusion(all[9], 21, 21, path, root),
			"FlippedBit":     VerifyInclusion(all[9], 9, 21, flipped, root),
			"ShortPath":      VerifyInclusion(all[9], 9, 21, path[:len(path)-1], root),
			"LongPath":       VerifyInclusion(all[9], 9, 21, append(path[:len(path):len(path)], root), root),
			"OtherRoot":      VerifyInclusion(all[9], 9, 21, path, RootOf(all[:20])),
			"EmptyPathOfOne": VerifyInclusion(all[9], 0, 1, nil, root),
		} {
			if !errors.Is(err, ErrProof) {
				t.Errorf("%s: got %v, want ErrProof", name, err)
			}
		}
	})
}

func TestConsistencyProofs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	all := leavesOf(100)
	tr := newTree(newMemTree(all), 1<<10)
	for n := 1; n <= len(all); n++ {
		for m := 1; m <= n; m++ {
			p, err := tr.consistency(ctx, uint64(m), uint64(n))
			if err != nil {
				t.Fatal(err)
			}
			if want := refProof(m, all[:n]); !equalHashes(p.Path, want) {
				t.Fatalf("%d -> %d: proof differs from RFC 9162 PROOF", m, n)
			}
			r1, r2 := RootOf(all[:m]), RootOf(all[:n])
			if err := VerifyConsistency(uint64(m), uint64(n), r1, r2, p.Path); err != nil {
				t.Fatalf("%d -> %d: %v", m, n, err)
			}
			if m < n {
				if err := VerifyConsistency(uint64(m), uint64(n), RootOf(all[1:m+1]), r2, p.Path); !errors.Is(err, ErrProof) {
					t.Fatalf("%d -> %d with another first root: %v", m, n, err)
				}
				bad := append([]Hash(nil), p.Path...)
				bad[len(bad)-1][0] ^= 0x80
				if err := VerifyConsistency(uint64(m), uint64(n), r1, r2, bad); !errors.Is(err, ErrProof) {
					t.Fatalf("%d -> %d with a flipped bit: %v", m, n, err)
				}
				if err := VerifyConsistency(uint64(m), uint64(n), r1, r2, nil); !errors.Is(err, ErrProof) {
					t.Fatalf("%d -> %d with no proof: %v", m, n, err)
				}
			}
		}
	}
	if err := VerifyConsistency(0, 5, EmptyRoot, RootOf(all[:5]), nil); err != nil {
		t.Errorf("the empty tree is a prefix of every tree: %v", err)
	}
	if err := VerifyConsistency(6, 5, RootOf(all[:6]), RootOf(all[:5]), nil); !errors.Is(err, ErrProof) {
		t.Errorf("a larger first tree: %v", err)
	}
}

// TestProofReadsAreFew checks that proofs in a large tree read a bounded
// number of hashes: the stored levels do their job.
func TestProofReadsAreFew(t *testing.T) {
	t.Parallel()
	all := leavesOf(5000)
	mt := newMemTree(all)
	tr := newTree(mt, 1) // a cache of one: count the reads
	if _, err := tr.inclusion(context.Background(), 1234, 4999); err != nil {
		t.Fatal(err)
	}
	if mt.reads > 40 {
		t.Errorf("an inclusion proof in a tree of 4999 read the store %d times; want at most 40", mt.reads)
	}
}

func TestParseHash(t *testing.T) {
	t.Parallel()
	h := HashLeaf([]byte("x"))
	b, _ := h.MarshalText()
	for _, s := range []string{h.String(), string(b)} {
		got, err := ParseHash(s)
		if err != nil || got != h {
			t.Errorf("ParseHash(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "zz", h.String()[:63] + "g", "not base64 at all, but exactly 44 chars!!!!"} {
		if _, err := ParseHash(s); !errors.Is(err, ErrBadHash) {
			t.Errorf("ParseHash(%q): %v, want ErrBadHash", s, err)
		}
	}
}

func FuzzParseHash(f *testing.F) {
	h := HashLeaf(nil)
	b, _ := h.MarshalText()
	f.Add(h.String())
	f.Add(string(b))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseHash(s)
		if err != nil {
			return
		}
		again, err := ParseHash(got.String())
		if err != nil || again != got {
			t.Fatalf("%q parsed to %s, which does not read back", s, got)
		}
	})
}

// BenchmarkCheckTag is what checking one record's MAC costs Verify and
// the sealer.
func BenchmarkCheckTag(b *testing.B) {
	k := MACKey(make([]byte, 32))
	leaf := Hash{1}
	tag := k.Tag(leaf)
	c := newTagChecker([]MACKey{k})
	for b.Loop() {
		if !c.check(leaf, tag) {
			b.Fatal("tag does not verify")
		}
	}
}
