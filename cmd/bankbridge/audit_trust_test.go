package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// TestAuditVerifySinceAndMemory is the evidence kept outside the database,
// through the commands: `audit seal` remembers its head beside the key
// file, a partner keeps the checkpoint, and after the heads are deleted
// verify names the head the memory holds, --since names the checkpoint the
// log no longer extends, and `audit seal` refuses to sign.
func TestAuditVerifySinceAndMemory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, id := range []string{"a", "b", "c"} {
		appendRecord(t, app.Config{Data: dir}, id)
	}
	if out, err := runCmd(t, "audit", "seal", "--data", dir); err != nil {
		t.Fatalf("seal: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, audit.HeadFile))
	if err != nil {
		t.Fatal(err)
	}
	var m audit.Remembered
	if err := json.Unmarshal(raw, &m); err != nil || m.Head.Size != 3 {
		t.Fatalf("the signer's memory: %v %+v", err, m)
	}
	cp := filepath.Join(t.TempDir(), "partner.checkpoint")
	if err := os.WriteFile(cp, []byte(m.Checkpoint), 0o600); err != nil {
		t.Fatal(err)
	}
	appendRecord(t, app.Config{Data: dir}, "d")
	if out, err := runCmd(t, "audit", "seal", "--data", dir); err != nil {
		t.Fatalf("seal: %v\n%s", err, out)
	}
	out, err := runCmd(t, "audit", "verify", "--data", dir, "--since", cp)
	if err != nil || !strings.Contains(out, "the log extends the checkpoint of size 3") || !strings.Contains(out, "MACs checked") {
		t.Fatalf("verify --since a sound checkpoint: %v\n%s", err, out)
	}

	// The insider: record 2 rewritten with its leaf hash, every head deleted.
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "bankbridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	var r audit.Record
	db.Audit().Scan(context.Background(), 2, 3, func(x *audit.Record) error { r = *x; return nil })
	r.Partner = "p-forged"
	h := r.ComputeLeafHash()
	if err := db.ExecAudit(fmt.Sprintf(`UPDATE audit_records SET partner = 'p-forged', leaf_hash = X'%x', leaf_key = %d WHERE seq = 2`, h[:], audit.LeafKey(h))); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DELETE FROM audit_heads`, `DELETE FROM audit_nodes`} {
		if err := db.ExecAudit(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	out, err = runCmd(t, "audit", "verify", "--data", dir, "--since", cp)
	for _, w := range []string{"PROBLEM: record 2 ", "MAC does not verify", "signer's memory holds a head of size 4",
		"checkpoint of size 3", "one of records 0..2 was changed", "covered by no signed head"} {
		if err == nil || !strings.Contains(out, w) {
			t.Errorf("verify after the rewrite does not say %q (%v):\n%s", w, err, out)
		}
	}
	if out, err := runCmd(t, "audit", "seal", "--data", dir); err == nil || !strings.Contains(out+err.Error(), "audit_rolled_back") {
		t.Errorf("seal after the rewrite: %v\n%s", err, out)
	}
}

// startWitness runs `bankbridge witness` on a free port and returns its
// URL, its verifier key and a stop function.
func startWitness(t *testing.T, data string, args ...string) (string, string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"bankbridge", "witness", "--addr", "127.0.0.1:0", "--data", data}, args...),
			func(string) string { return "" }, strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var url, vkey string
	for (url == "" || vkey == "") && sc.Scan() {
		if m := regexp.MustCompile(`running on (http://\S+)/add-checkpoint`).FindStringSubmatch(sc.Text()); m != nil {
			url = m[1]
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "verifier key: "); ok {
			vkey = v
		}
	}
	go io.Copy(io.Discard, pr)
	if url == "" || vkey == "" {
		cancel()
		t.Fatalf("witness did not start: %v", <-done)
	}
	return url, vkey, func() { cancel(); <-done }
}

// TestWitnessThroughTheCommands: a witness started with one command (the
// bank's keys read from its /audit/v1/keys), a bank given --witness; the
// served checkpoint carries the witness's cosignature, and `audit verify
// --witness KEY` requires it (another witness's key fails).
func TestWitnessThroughTheCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The bank's keys exist once it has started; a first start makes them.
	base, stop := startServer(t, nil, "--data", dir, "--demo=false")
	wdir := t.TempDir()
	wurl, vkey, stopW := startWitness(t, wdir, "--bank", base, "--name", "partner.example/w")
	defer stopW()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	base, stop = startServer(t, nil, "--data", dir, "--demo=false", "--witness", wurl)
	appendRecord(t, app.Config{Data: dir}, "witnessed") // a head beyond the first start's
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body, _ := get(t, base+"/audit/v1/checkpoint")
		if strings.Contains(body, "— partner.example/w ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the checkpoint carries no cosignature:\n%s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, "audit", "verify", "--data", dir, "--witness", vkey, "--witness-state", filepath.Join(wdir, witnessStateFile))
	if err != nil || !strings.Contains(out, "witness partner.example/w cosigned") || !strings.Contains(out, "the log extends the checkpoint of size") {
		t.Fatalf("verify --witness --witness-state: %v\n%s", err, out)
	}
	_, other, stopO := startWitness(t, t.TempDir(), "--log-key", strings.Repeat("ab", 32), "--name", "other.example/w")
	stopO()
	if out, err := runCmd(t, "audit", "verify", "--data", dir, "--witness", other); err == nil || !strings.Contains(out, "no valid cosignature of witness other.example/w") {
		t.Fatalf("verify with a witness that never cosigned: %v\n%s", err, out)
	}
}
