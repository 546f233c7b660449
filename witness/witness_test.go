package witness_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/bankbridge/bankbridge/witness"
	"golang.org/x/mod/sumdb/note"
)

type bank struct {
	log *audit.Log
	st  audit.Store
	mem *audit.FileMemory
}

// newBank is a log over a fresh SQLite file, signing with key and asking
// the witness at url.
func newBank(t *testing.T, key ed25519.PrivateKey, url string) *bank {
	t.Helper()
	db, err := sqlite.Open(context.Background(), testdb.SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mem := &audit.FileMemory{Path: filepath.Join(t.TempDir(), audit.HeadFile)}
	l := audit.New(db.Audit(), audit.Options{Key: key, Memory: mem, SealEvery: time.Hour, Cosigners: []audit.Cosigner{&witness.Client{URL: url}}})
	t.Cleanup(l.Close)
	return &bank{log: l, st: db.Audit(), mem: mem}
}

func (b *bank) grow(t *testing.T, tag string, n int) audit.Remembered {
	t.Helper()
	for i := range n {
		if _, err := b.log.Append(context.Background(), audit.Record{Kind: audit.ConsentGranted, Partner: tag, RequestID: fmt.Sprint(tag, i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.log.Seal(context.Background()); err != nil {
		t.Fatal(err)
	}
	m, err := b.mem.Last(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// cosigned reports whether the checkpoint carries a valid cosignature of w.
func cosigned(t *testing.T, cp string, logPub ed25519.PublicKey, w witness.Verifier) bool {
	t.Helper()
	vkey, _ := audit.NoteVerifierKey(audit.DefaultOrigin, logPub)
	lv, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open([]byte(cp), note.VerifierList(lv, w))
	if err != nil {
		t.Fatalf("note.Open: %v\n%s", err, cp)
	}
	for _, s := range n.Sigs {
		if s.Name == w.Name() {
			return true
		}
	}
	return false
}

// TestWitnessCosignsOnlyAnExtension: a witness running apart cosigns each
// checkpoint that extends the last it cosigned (the bank's checkpoint then
// carries its cosignature, checked with sumdb/note), and refuses a fork
// signed with the bank's real key: another history of the log, from a
// rolled-back database and a signer without memory.
func TestWitnessCosignsOnlyAnExtension(t *testing.T) {
	t.Parallel()
	logPub, logKey, _ := ed25519.GenerateKey(nil)
	_, wKey, _ := ed25519.GenerateKey(nil)
	signer := witness.NewSigner("witness.example/w1", wKey, nil)
	state := &audit.FileMemory{Path: filepath.Join(t.TempDir(), "witness-state.json")}
	srv := httptest.NewServer(witness.NewServer(audit.DefaultOrigin, []ed25519.PublicKey{logPub}, signer, state, nil))
	t.Cleanup(srv.Close)
	wv, err := witness.NewVerifier(witness.VerifierKey(signer.Name(), wKey.Public().(ed25519.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}

	b := newBank(t, logKey, srv.URL)
	for _, n := range []int{5, 3, 9} {
		m := b.grow(t, "a", n)
		if !cosigned(t, m.Checkpoint, logPub, wv) {
			t.Fatalf("checkpoint of size %d is not cosigned:\n%s", m.Head.Size, m.Checkpoint)
		}
	}
	seen, _ := state.Last(context.Background())
	if seen.Head.Size != 17 {
		t.Fatalf("the witness remembers size %d, want 17", seen.Head.Size)
	}

	// The fork: the same key signs another history of the log (a copy of
	// the database, a signer without the memory). Larger, smaller, or the
	// same size: the witness cosigns none of them.
	for _, n := range []int{20, 17, 4} {
		fork := newBank(t, logKey, srv.URL)
		m := fork.grow(t, "fork", n)
		if cosigned(t, m.Checkpoint, logPub, wv) {
			t.Errorf("the witness cosigned a fork of size %d", n)
		}
	}
	if after, _ := state.Last(context.Background()); after.Head.Size != 17 || after.Head.Root != seen.Head.Root {
		t.Fatalf("the witness moved to size %d after the forks", after.Head.Size)
	}
	// The honest log goes on being cosigned.
	if m := b.grow(t, "a", 2); !cosigned(t, m.Checkpoint, logPub, wv) {
		t.Fatal("the honest log is no longer cosigned")
	}
}

// TestAddCheckpointAnswers checks each answer of C2SP tlog-witness.
func TestAddCheckpointAnswers(t *testing.T) {
	t.Parallel()
	logPub, logKey, _ := ed25519.GenerateKey(nil)
	_, otherKey, _ := ed25519.GenerateKey(nil)
	_, wKey, _ := ed25519.GenerateKey(nil)
	state := &audit.FileMemory{Path: filepath.Join(t.TempDir(), "w.json")}
	ws := witness.NewServer(audit.DefaultOrigin, []ed25519.PublicKey{logPub}, witness.NewSigner("w", wKey, nil), state, nil)
	srv := httptest.NewServer(ws)
	t.Cleanup(srv.Close)
	cp := func(key ed25519.PrivateKey, origin string, size uint64) string {
		b, err := audit.SignCheckpoint(origin, key, audit.SignedHead{Size: size, Root: audit.Hash{byte(size)}, Time: time.Unix(1, 0)})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	post := func(body string) (int, string, string) {
		resp, err := http.Post(srv.URL+"/add-checkpoint", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header.Get("Content-Type")
	}
	if code, body, _ := post("old 0\n\n" + cp(logKey, audit.DefaultOrigin, 3)); code != 200 || !strings.HasPrefix(body, "— w ") {
		t.Fatalf("first checkpoint: %d %q", code, body)
	}
	for _, c := range []struct {
		name, body string
		code       int
		ctype      string
	}{
		{"UnknownOrigin", "old 3\n\n" + cp(logKey, "other.log", 4), 404, ""},
		{"NotTheLogsKey", "old 3\n\n" + cp(otherKey, audit.DefaultOrigin, 4), 403, ""},
		{"OldLargerThanSize", "old 5\n\n" + cp(logKey, audit.DefaultOrigin, 4), 400, ""},
		{"OldNotTheLastCosigned", "old 0\n\n" + cp(logKey, audit.DefaultOrigin, 4), 409, "text/x.tlog.size"},
		{"ProofDoesNotVerify", "old 3\n" + strings.Repeat("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 2) + "\n" + cp(logKey, audit.DefaultOrigin, 4), 422, ""},
		{"Malformed", "old x\n\n" + cp(logKey, audit.DefaultOrigin, 4), 400, ""},
	} {
		code, body, ctype := post(c.body)
		if code != c.code || c.ctype != "" && ctype != c.ctype {
			t.Errorf("%s: %d %q %q, want %d %q", c.name, code, ctype, body, c.code, c.ctype)
		}
		if c.code == 409 && body != "3\n" {
			t.Errorf("%s: body %q, want the size the witness cosigned", c.name, body)
		}
	}
	// After a rotation the bank's new key is given: its checkpoint of the
	// same tree is cosigned.
	ws.SetLogKeys([]ed25519.PublicKey{logPub, otherKey.Public().(ed25519.PublicKey)})
	if code, body, _ := post("old 3\n\n" + cp(otherKey, audit.DefaultOrigin, 3)); code != 200 {
		t.Errorf("a checkpoint by the rotated key: %d %q", code, body)
	}
}
