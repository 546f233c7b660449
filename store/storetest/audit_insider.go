package storetest

import (
	"context"
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/audit"
)

// insiderLog is the bank's log as an intruder with database access finds
// it: records tagged with a MAC key and heads remembered by the signer,
// both outside the database. Heads at 34 and 50.
type insiderLog struct {
	st    audit.Store
	exec  AuditExec
	key   ed25519.PrivateKey
	pub   ed25519.PublicKey
	mac   audit.MACKey
	clk   *auditClock
	dir   string
	l     *audit.Log
	first audit.Remembered // the signer's memory at 50: a partner's download
}

func (b *insiderLog) open(t testing.TB, memory string) *audit.Log {
	t.Helper()
	l := audit.New(b.st, audit.Options{Key: b.key, MACs: audit.FixedMAC(b.mac), Memory: &audit.FileMemory{Path: memory},
		Now: b.clk.Now, SealEvery: time.Hour, MaxBatch: 64})
	t.Cleanup(l.Close)
	return l
}

func (b *insiderLog) memoryPath() string { return filepath.Join(b.dir, audit.HeadFile) }

// verify runs VerifyWith as `audit verify` does: with the keys, the MAC
// keys, the signer's memory and the checkpoints given.
func (b *insiderLog) verify(t testing.TB, since ...audit.SignedHead) audit.Report {
	t.Helper()
	m, err := (&audit.FileMemory{Path: b.memoryPath()}).Last(context.Background())
	noErr(t, err)
	rep, err := audit.VerifyWith(context.Background(), b.st, audit.VerifyOptions{Keys: []ed25519.PublicKey{b.pub}, MACs: []audit.MACKey{b.mac},
		Memory: &m, Since: since, MaxUnsigned: time.Minute, Now: b.clk.Now()})
	noErr(t, err)
	return rep
}

func newInsiderLog(t *testing.T, open AuditOpener) *insiderLog {
	t.Helper()
	st, exec := open(t)
	pub, key, _ := ed25519.GenerateKey(nil)
	b := &insiderLog{st: st, exec: exec, key: key, pub: pub, mac: audit.MACKey(make([]byte, 32)), dir: t.TempDir(),
		clk: &auditClock{t: auditT0.Add(10 * time.Minute)}}
	copy(b.mac, "a MAC key the database never sees")
	b.l = b.open(t, b.memoryPath())
	appendVia(t, b.l, 0, 34)
	mustSeal(t, b.l)
	b.clk.Add(time.Second)
	appendVia(t, b.l, 34, 16)
	mustSeal(t, b.l)
	m, err := (&audit.FileMemory{Path: b.memoryPath()}).Last(context.Background())
	if err != nil || m.Head.Size != 50 {
		t.Fatalf("the signer's memory after two seals: size %d, %v", m.Head.Size, err)
	}
	b.first = m
	if rep := b.verify(t); !rep.OK() {
		t.Fatalf("before the intrusion: %v", rep.Problems)
	}
	return b
}

func (b *insiderLog) run(t testing.TB, q string, args ...any) {
	t.Helper()
	if err := b.exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// rollBack cuts the log back to its first n records and the heads and
// stored subtree hashes over them: what restoring an old backup gives.
func (b *insiderLog) rollBack(t testing.TB, n int) {
	b.run(t, `DELETE FROM audit_records WHERE seq >= ?`, n)
	b.run(t, `UPDATE audit_state SET size = ?`, n)
	b.run(t, `DELETE FROM audit_heads WHERE tree_size > ?`, n)
	b.run(t, `DELETE FROM audit_nodes WHERE (idx + 1) * (1 << level) > ?`, n)
}

// auditInsider plays the insider of issue 23: every rewrite someone with
// write access to the database (and not to the keys or the signer's
// memory) can make is caught, by Verify or by the sealer at its next
// start, and the message names the record or head and what happened.
func auditInsider(t *testing.T, open AuditOpener) {
	cases := []struct {
		name string
		do   func(t *testing.T, b *insiderLog) []audit.SignedHead // returns checkpoints the verifier holds
		// verify are words Verify's problems must hold; seal the error a
		// sealer started afterwards must give (nil: it signs) and its words.
		verify    []string
		seal      error
		sealWords []string
	}{
		{"EditWithLeafRecomputedAndHeadsDeleted", func(t *testing.T, b *insiderLog) []audit.SignedHead {
			var r audit.Record
			noErr(t, b.st.Scan(context.Background(), 10, 11, func(x *audit.Record) error { r = *x; return nil }))
			r.Customer, r.Actor = 99, "staff:1"
			h := r.ComputeLeafHash()
			b.run(t, `UPDATE audit_records SET customer_id = 99, actor = 'staff:1', leaf_hash = ?, leaf_key = ? WHERE seq = 10`, h[:], audit.LeafKey(h))
			b.run(t, `DELETE FROM audit_heads WHERE tree_size > 10`)
			b.run(t, `DELETE FROM audit_nodes`)
			return nil
		}, []string{"record 10 ", "MAC does not verify", "signer's memory holds a head of size 50"},
			audit.ErrRolledBack, []string{"signed a head of size 50", "it holds no signed head"}},
		{"AllHeadsDeleted", func(t *testing.T, b *insiderLog) []audit.SignedHead {
			b.run(t, `DELETE FROM audit_heads`)
			return nil
		}, []string{"signer's memory holds a head of size 50", "records 0..49 (50) are covered by no signed head"},
			audit.ErrRolledBack, []string{"it holds no signed head", "size 50"}},
		{"TailCutWithItsHeads", func(t *testing.T, b *insiderLog) []audit.SignedHead {
			b.rollBack(t, 40)
			return nil
		}, []string{"covers 50 records but the log holds only 40: records 40..49 were deleted"},
			audit.ErrRolledBack, []string{"latest signed head is of size 34", "size 50"}},
		{"ForgedRecordAppended", func(t *testing.T, b *insiderLog) []audit.SignedHead {
			// Through the store, as a database client would: the leaf hash
			// is right, the MAC cannot be.
			mustAppend(t, b.st, []audit.Record{auditRec(50)})
			return nil
		}, []string{"record 50 ", "has no MAC, though records before it have"},
			audit.ErrForged, []string{"record 50 ", "no MAC"}},
		{"ForgedRecordWithAMadeUpMAC", func(t *testing.T, b *insiderLog) []audit.SignedHead {
			mustAppend(t, b.st, []audit.Record{auditRec(50)})
			b.run(t, `UPDATE audit_records SET mac = ? WHERE seq = 50`, audit.MACKey("a guess").Tag(audit.Hash{}))
			return nil
		}, []string{"record 50 ", "MAC does not verify"},
			audit.ErrForged, []string{"record 50 ", "MAC does not verify"}},
		{"RollbackToAnOlderHead", func(t *testing.T, b *insiderLog) []audit.SignedHead {
			// An old backup restored, and the bank wrote on: new records
			// take the indexes the lost ones had.
			b.rollBack(t, 34)
			appendVia(t, b.l, 100, 20)
			return nil
		}, []string{"signer's memory holds a head of size 50", "one of records 34..49 was changed"},
			audit.ErrRolledBack, []string{"latest signed head is of size 34", "size 50"}},
		{"ForkShownToTwoParties", func(t *testing.T, b *insiderLog) []audit.SignedHead {
			// A partner downloaded the checkpoint at 50. The database is
			// then rolled back and a signer without that memory (another
			// machine, its memory file lost) signs another history: the
			// fork. The partner's checkpoint, given to verify, shows it.
			cp, err := audit.OpenCheckpoint(audit.DefaultOrigin, []byte(b.first.Checkpoint), b.pub)
			noErr(t, err)
			b.rollBack(t, 34)
			other := b.open(t, filepath.Join(t.TempDir(), audit.HeadFile))
			appendVia(t, other, 200, 26)
			b.clk.Add(time.Second)
			mustSeal(t, other)
			return []audit.SignedHead{cp.Head}
		}, []string{"checkpoint of size 50", "one of records 34..49 was changed", "not a prefix of this one"},
			audit.ErrTampered, []string{"a record below 50 was changed after it was signed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := newInsiderLog(t, open)
			since := c.do(t, b)
			rep := b.verify(t, since...)
			all := strings.Join(rep.Problems, "\n")
			if rep.OK() {
				t.Fatal("Verify found nothing wrong")
			}
			for _, w := range c.verify {
				if !strings.Contains(all, w) {
					t.Errorf("Verify: no problem mentions %q; problems:\n%s", w, all)
				}
			}
			// The bank's sealer at its next start, with its own memory.
			_, err := b.open(t, b.memoryPath()).Seal(context.Background())
			if !errors.Is(err, c.seal) {
				t.Fatalf("Seal after the intrusion = %v, want %v", err, c.seal)
			}
			for _, w := range c.sealWords {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Seal's error does not mention %q: %v", w, err)
				}
			}
		})
	}
	t.Run("SealCutOffBeforeTheMemory", func(t *testing.T) {
		// The database took a head the memory did not (a crash in
		// between): the next seal checks its signature and that it extends
		// the memory, and goes on.
		t.Parallel()
		b := newInsiderLog(t, open)
		mem := &audit.FileMemory{Path: b.memoryPath()}
		appendVia(t, b.l, 50, 5)
		b.clk.Add(time.Second)
		mustSeal(t, b.l)
		if _, err := mem.Advance(context.Background(), b.first.Rev+1, b.first); err != nil { // back to 50
			t.Fatal(err)
		}
		appendVia(t, b.l, 55, 3)
		b.clk.Add(time.Second)
		if h := mustSeal(t, b.open(t, b.memoryPath())); h.Size != 58 {
			t.Fatalf("sealed %d, want 58", h.Size)
		}
		// A head of the same size with another root, though, is refused.
		b.run(t, `UPDATE audit_heads SET root = ? WHERE tree_size = 58`, make([]byte, 32))
		if _, err := b.open(t, b.memoryPath()).Seal(context.Background()); !errors.Is(err, audit.ErrTampered) {
			t.Fatalf("Seal over a replaced head = %v, want ErrTampered", err)
		}
	})
}

// auditUpgradeToMACs: records appended before the log had MACs and not
// sealed then (a crash before the upgrade) are signed by the first seal
// with a memory; after it, a record without a MAC is refused.
func auditUpgradeToMACs(t *testing.T, open AuditOpener) {
	st, _ := open(t)
	pub, key, _ := ed25519.GenerateKey(nil)
	old := audit.New(st, audit.Options{Key: key, SealEvery: time.Hour})
	appendVia(t, old, 0, 10)
	mustSeal(t, old)
	old.Close()
	// Appended by the old version and never sealed by it (a crash).
	mustAppend(t, st, auditRecs(10, 5))
	b := &insiderLog{st: st, key: key, pub: pub, mac: audit.MACKey("the new MAC key"), dir: t.TempDir(), clk: &auditClock{t: auditT0.Add(time.Hour)}}
	l := b.open(t, b.memoryPath())
	if h := mustSeal(t, l); h.Size != 15 {
		t.Fatalf("first seal after the upgrade signed %d, want 15", h.Size)
	}
	if m, err := (&audit.FileMemory{Path: b.memoryPath()}).Last(context.Background()); err != nil || m.Head.Size != 15 {
		t.Fatalf("the memory after the first seal: %d, %v", m.Head.Size, err)
	}
	mustAppend(t, st, []audit.Record{auditRec(15)})
	if h, err := l.Seal(context.Background()); !errors.Is(err, audit.ErrForged) {
		t.Fatalf("a record without a MAC after the upgrade: Seal = %d, %v; want ErrForged", h.Size, err)
	}
}
