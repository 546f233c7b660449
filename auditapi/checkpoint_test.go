package auditapi_test

import (
	"crypto/ed25519"
	"io"
	"net/http"
	"testing"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/auditapi"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// TestCheckpointReadsWithStandardTools reads /audit/v1/checkpoint as a
// note tool would (golang.org/x/mod/sumdb/note with the verifier key), and
// checks the log's consistency proof with sumdb/tlog's RFC 6962 checker:
// the log's formats are the standard ones, not look-alikes.
func TestCheckpointReadsWithStandardTools(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	resp, err := http.Get(f.srv.URL + "/audit/v1/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("checkpoint: %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var sth auditapi.STH
	f.get(t, "/audit/v1/sth", &sth)
	vkey, err := audit.NoteVerifierKey(audit.DefaultOrigin, sth.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(body, note.VerifierList(v))
	if err != nil {
		t.Fatalf("note.Open: %v\n%s", err, body)
	}
	cp, err := audit.OpenCheckpoint(audit.DefaultOrigin, body, sth.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Head.Size != 37 || cp.Head.Root != f.heads[1].Root || cp.Head.KeyID != sth.KeyID || len(n.Sigs) != 1 {
		t.Fatalf("checkpoint states size %d root %s key %s; want the head at 37 by %s\n%s", cp.Head.Size, cp.Head.Root, cp.Head.KeyID, sth.KeyID, n.Text)
	}

	var p audit.ConsistencyProof
	if code, _ := f.get(t, "/audit/v1/proof/consistency?first=20&second=37", &p); code != 200 {
		t.Fatalf("consistency: %d", code)
	}
	proof := make(tlog.TreeProof, len(p.Path))
	for i, h := range p.Path {
		proof[i] = tlog.Hash(h)
	}
	if err := tlog.CheckTree(proof, 37, tlog.Hash(cp.Head.Root), 20, tlog.Hash(f.heads[0].Root)); err != nil {
		t.Fatalf("sumdb/tlog rejects the log's consistency proof: %v", err)
	}
	proof[0][0] ^= 1
	if tlog.CheckTree(proof, 37, tlog.Hash(cp.Head.Root), 20, tlog.Hash(f.heads[0].Root)) == nil {
		t.Fatal("sumdb/tlog accepts a proof with a flipped bit")
	}

	// Another key, or another origin, does not open it.
	other, _ := audit.LoadOrCreateKey(t.TempDir() + "/k.pem")
	if _, err := audit.OpenCheckpoint(audit.DefaultOrigin, body, other.Public().(ed25519.PublicKey)); err == nil {
		t.Error("a checkpoint opened with a key that did not sign it")
	}
	if _, err := audit.OpenCheckpoint("other.origin", body, sth.PublicKey); err == nil {
		t.Error("a checkpoint opened under another origin")
	}
}
