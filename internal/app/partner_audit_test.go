package app

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// TestPartnerAudit checks the wiring: every partner change made through the
// consent service becomes a partner_change record naming the partner, the
// member of staff and the reason.
func TestPartnerAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, testdb.SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	log := slog.New(slog.DiscardHandler)
	alog := audit.New(db.Audit(), audit.Options{Key: key, Logger: log})
	svc := consent.New(db.Consent(), consent.Options{PartnerHooks: []consent.PartnerHook{PartnerAudit(alog, log)}})

	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, Algorithm: "EdDSA"}}})
	if _, err := svc.RegisterPartner(ctx, consent.Partner{ID: "budget-app", LegalName: "Budget App Ltd", LEI: "5493001KJTIIGC8Y1R12",
		Homepage: "https://budget.example", SecurityContact: "security@budget.example", RedirectURIs: []string{"https://budget.example/cb"},
		JWKS: jwks, Purposes: map[consent.Cluster]string{consent.Balances: "show balances"},
		Attestation: consent.Attestation{NoSecondaryUse: true, Signatory: "Jo Doe"}}, "staff:1"); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", 300) // 600 bytes: the record's detail is clipped to 512, on a character boundary
	for _, step := range []error{
		svc.SuspendPartner(ctx, "budget-app", "keys reported leaked", "staff:2"),
		svc.ReinstatePartner(ctx, "budget-app", "keys rotated", "staff:1"),
		svc.RefusePartner(ctx, "budget-app", long, "staff:1"),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	alog.Close() // commits what was posted
	page, err := alog.Records(ctx, audit.Query{Kind: audit.PartnerChange})
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ Partner, Actor, Detail string }
	var got []row
	for i := len(page.Records) - 1; i >= 0; i-- { // oldest first
		r := page.Records[i]
		got = append(got, row{r.Partner, r.Actor, r.Detail})
	}
	want := []row{
		{"budget-app", "staff:1", "registered: registered with a signed secondary-use attestation"},
		{"budget-app", "staff:2", "suspended: keys reported leaked"},
		{"budget-app", "staff:1", "reinstated: keys rotated"},
		{"budget-app", "staff:1", clip("refused: "+long, 512)},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("partner_change records (-want +got):\n%s", d)
	}
	if d := want[3].Detail; len(d) > 512 || !strings.HasPrefix(d, "refused: é") || strings.ContainsRune(d, '\uFFFD') {
		t.Errorf("clipped detail is %d bytes or broken: %q", len(d), d)
	}
}
