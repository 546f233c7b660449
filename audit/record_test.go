package audit_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/ledger"
)

func sample() audit.Record {
	return audit.Record{Seq: 7, Time: time.Date(2026, 3, 14, 9, 30, 0, 123456000, time.UTC), Kind: audit.DataAccess,
		Partner: "budgetapp", Consent: "c0ffee", Customer: 42, Accounts: []ledger.AccountID{3, 5},
		Clusters: []string{"BALANCES", "TRANSACTIONS"}, Fields: []string{"transactions.amount"}, Purpose: "budgeting",
		Actor: "partner:budgetapp", Outcome: audit.OK, RequestID: "r1", Detail: "GET /accounts/{id}/transactions"}
}

// TestLeafInputIsStable spells out the canonical encoding byte by byte:
// exported records are checked by others against it, so it may never change
// silently (a new encoding takes a new version byte).
func TestLeafInputIsStable(t *testing.T) {
	t.Parallel()
	r := sample()
	text := func(s string) string { return fmt.Sprintf("%08x%x", len(s), s) }
	want := "01" + "0000000000000007" + fmt.Sprintf("%016x", r.Time.UnixMicro()) +
		text("data_access") + text("budgetapp") + text("c0ffee") + "000000000000002a" +
		"00000002" + "0000000000000003" + "0000000000000005" +
		"00000002" + text("BALANCES") + text("TRANSACTIONS") +
		"00000001" + text("transactions.amount") +
		text("budgeting") + text("partner:budgetapp") + text("ok") + text("r1") + text("GET /accounts/{id}/transactions")
	if got := hex.EncodeToString(r.LeafInput()); got != want {
		t.Errorf("leaf input\n got %s\nwant %s", got, want)
	}
	b, _ := hex.DecodeString(want)
	if r.ComputeLeafHash() != audit.HashLeaf(b) {
		t.Error("ComputeLeafHash is not HashLeaf(LeafInput())")
	}
}

// TestLeafHashCoversEveryField changes each field in turn: each must change
// the hash, or an edit of that field would go unnoticed.
func TestLeafHashCoversEveryField(t *testing.T) {
	t.Parallel()
	base := sample()
	h := base.ComputeLeafHash()
	edits := map[string]func(*audit.Record){
		"Seq":       func(r *audit.Record) { r.Seq++ },
		"Time":      func(r *audit.Record) { r.Time = r.Time.Add(time.Microsecond) },
		"Kind":      func(r *audit.Record) { r.Kind = audit.StaffView },
		"Partner":   func(r *audit.Record) { r.Partner = "other" },
		"Consent":   func(r *audit.Record) { r.Consent = "c0ffef" },
		"Customer":  func(r *audit.Record) { r.Customer = 43 },
		"Accounts":  func(r *audit.Record) { r.Accounts = []ledger.AccountID{5, 3} },
		"Clusters":  func(r *audit.Record) { r.Clusters = []string{"BALANCES"} },
		"Fields":    func(r *audit.Record) { r.Fields = nil },
		"Purpose":   func(r *audit.Record) { r.Purpose = "ads" },
		"Actor":     func(r *audit.Record) { r.Actor = "system" },
		"Outcome":   func(r *audit.Record) { r.Outcome = audit.Denied },
		"RequestID": func(r *audit.Record) { r.RequestID = "r2" },
		"Detail":    func(r *audit.Record) { r.Detail = "GET /accounts" },
		// Moving text between adjacent fields must not give the same bytes.
		"Shift": func(r *audit.Record) { r.Partner, r.Consent = "budgetappc0", "ffee" },
	}
	for name, edit := range edits {
		r := sample()
		edit(&r)
		if r.ComputeLeafHash() == h {
			t.Errorf("changing %s did not change the leaf hash", name)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 513)
	for name, c := range map[string]struct {
		edit func(*audit.Record)
		ok   bool
	}{
		"Sample":         {func(*audit.Record) {}, true},
		"UnknownKind":    {func(r *audit.Record) { r.Kind = "peek" }, false},
		"UnknownOutcome": {func(r *audit.Record) { r.Outcome = "maybe" }, false},
		"LongDetail":     {func(r *audit.Record) { r.Detail = long }, false},
		"CommaInCluster": {func(r *audit.Record) { r.Clusters = []string{"A,B"} }, false},
		"EmptyField":     {func(r *audit.Record) { r.Fields = []string{""} }, false},
		"ManyAccounts":   {func(r *audit.Record) { r.Accounts = make([]ledger.AccountID, 257) }, false},
	} {
		r := sample()
		c.edit(&r)
		err := r.Validate()
		if c.ok != (err == nil) {
			t.Errorf("%s: Validate() = %v", name, err)
		}
		if err != nil && !errors.Is(err, audit.ErrInvalid) {
			t.Errorf("%s: %v is not ErrInvalid", name, err)
		}
	}
}

func TestActorString(t *testing.T) {
	t.Parallel()
	for want, a := range map[string]bankbridge.Actor{
		"system":        {},
		"customer:12":   {Kind: bankbridge.ActorCustomer, Customer: 12},
		"staff:3":       {Kind: bankbridge.ActorStaff, Staff: 3},
		"partner:acme1": {Kind: bankbridge.ActorPartner, Partner: "acme1"},
	} {
		if got := audit.ActorString(a); got != want {
			t.Errorf("ActorString(%+v) = %q, want %q", a, got, want)
		}
	}
}

func TestSignedHead(t *testing.T) {
	t.Parallel()
	pub, key, _ := ed25519.GenerateKey(nil)
	other, _, _ := ed25519.GenerateKey(nil)
	h := audit.Sign(key, 9, audit.HashLeaf([]byte("r")), time.Date(2026, 1, 2, 3, 4, 5, 6_789_000, time.UTC))
	if err := h.Verify(pub); err != nil {
		t.Fatal(err)
	}
	if got := h.SignedBytes(); len(got) != 51 || got[16] != 32 {
		t.Errorf("TreeHeadDataV2 is %d bytes (%x); want 8+8+1+32+2", len(got), got)
	}
	for name, mut := range map[string]func(*audit.SignedHead){
		"Size": func(h *audit.SignedHead) { h.Size++ },
		"Root": func(h *audit.SignedHead) { h.Root[0] ^= 1 },
		"Time": func(h *audit.SignedHead) { h.Time = h.Time.Add(time.Millisecond) },
	} {
		c := h
		mut(&c)
		if err := c.Verify(pub); !errors.Is(err, audit.ErrSignature) {
			t.Errorf("changed %s: %v", name, err)
		}
	}
	if err := h.Verify(other); !errors.Is(err, audit.ErrSignature) {
		t.Errorf("another key: %v", err)
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "keys", audit.KeyFile)
	k1, err := audit.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, st.Mode())
	}
	k2, err := audit.LoadOrCreateKey(path)
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("second start read another key (%v)", err)
	}
	if err := os.WriteFile(path, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.LoadOrCreateKey(path); err == nil {
		t.Error("a corrupt key file was accepted (or replaced)")
	}
}
