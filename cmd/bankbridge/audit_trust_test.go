package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bankbridge/bankbridge/audit"
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
		appendRecord(t, Config{Data: dir}, id)
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
	appendRecord(t, Config{Data: dir}, "d")
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
