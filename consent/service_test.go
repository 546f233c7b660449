package consent_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

type fixture struct {
	svc      *consent.Service
	now      time.Time
	mu       sync.Mutex
	events   []consent.EventKind
	customer bankbridge.CustomerID
	accounts []ledger.AccountID
}

func (f *fixture) clock() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, testdb.SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{now: time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)}
	f.svc = consent.New(db.Consent(), consent.Options{Now: f.clock, Accounts: db.Ledger(),
		Hooks: []consent.Hook{consent.HookFunc(func(_ context.Context, e consent.Event) {
			f.mu.Lock()
			f.events = append(f.events, e.Kind)
			f.mu.Unlock()
		})}})
	c, err := db.Identity().CreateCustomer(ctx, identity.Customer{Name: "Ada", Email: "ada@example.com", BirthYear: 1985, Since: f.now}, "x")
	if err != nil {
		t.Fatal(err)
	}
	f.customer = c.ID
	for i, st := range []ledger.AccountStatus{ledger.Open, ledger.Closed} {
		a, err := db.Ledger().CreateAccount(ctx, ledger.Account{Customer: c.ID, Kind: ledger.Checking, Name: "A", Currency: "USD",
			Number: ledger.AccountNumber("100000000" + string(rune('1'+i))), Routing: "011000015", Status: st})
		if err != nil {
			t.Fatal(err)
		}
		if st == ledger.Closed {
			db.Ledger().SetAccountStatus(ctx, a.ID, ledger.Closed)
		}
		f.accounts = append(f.accounts, a.ID)
	}
	return f
}

func publicJWKS(t *testing.T) json.RawMessage {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, Algorithm: "ES256", Use: "sig"}}})
	return b
}

func goodPartner(t *testing.T) consent.Partner {
	return consent.Partner{ID: "budget-app", LegalName: "Budget App Ltd", LEI: "5493001KJTIIGC8Y1R12",
		Homepage: "https://budget.example", SecurityContact: "security@budget.example",
		RedirectURIs: []string{"https://budget.example/cb"}, JWKS: publicJWKS(t),
		Purposes:    map[consent.Cluster]string{consent.Balances: "show balances in chat"},
		Attestation: consent.Attestation{NoSecondaryUse: true, Signatory: "Jo Doe"}}
}

func TestRegisterPartnerRefuses(t *testing.T) {
	t.Parallel()
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	privJWKS, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: priv, Algorithm: "ES256"}}})
	tests := []struct {
		name    string
		change  func(p *consent.Partner)
		want    error
		pointer string
	}{
		{"NoAttestation", func(p *consent.Partner) { p.Attestation.NoSecondaryUse = false }, consent.ErrNoAttestation, "/attestation"},
		{"AttestationWithoutSignatory", func(p *consent.Partner) { p.Attestation.Signatory = "" }, consent.ErrNoAttestation, "/attestation"},
		{"LEIWithBadCheckDigits", func(p *consent.Partner) { p.LEI = "5493001KJTIIGC8Y1R13" }, consent.ErrPartnerInvalid, "/lei"},
		{"WildcardRedirect", func(p *consent.Partner) { p.RedirectURIs = []string{"https://*.budget.example/cb"} }, consent.ErrPartnerInvalid, "/redirect_uris/0"},
		{"PlainHTTPRedirectOffLoopback", func(p *consent.Partner) { p.RedirectURIs = []string{"http://budget.example/cb"} }, consent.ErrPartnerInvalid, "/redirect_uris/0"},
		{"PrivateKeyInJWKS", func(p *consent.Partner) { p.JWKS = privJWKS }, consent.ErrPartnerInvalid, "/jwks"},
		{"JWKSURINotAllowedByStaff", func(p *consent.Partner) { p.JWKS, p.JWKSURI = nil, "https://budget.example/jwks" }, consent.ErrPartnerInvalid, "/jwks_uri"},
		{"UnknownCluster", func(p *consent.Partner) { p.Purposes = map[consent.Cluster]string{"EVERYTHING": "all"} }, consent.ErrPartnerInvalid, "/purposes/EVERYTHING"},
		{"HTTPHomepage", func(p *consent.Partner) { p.Homepage = "http://budget.example" }, consent.ErrPartnerInvalid, "/homepage"},
		{"LegalNameWithRightToLeftOverride", func(p *consent.Partner) { p.LegalName = "Your Bank\u202E Ltd" }, consent.ErrPartnerInvalid, "/legal_name"},
		{"PurposeWithZeroWidthSpace", func(p *consent.Partner) {
			p.Purposes = map[consent.Cluster]string{consent.Balances: "show\u200B balances"}
		}, consent.ErrPartnerInvalid, "/purposes/BALANCES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			p := goodPartner(t)
			tt.change(&p)
			_, err := f.svc.RegisterPartner(context.Background(), p, "test")
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			var be *bankbridge.Error
			errors.As(err, &be)
			found := false
			for _, fe := range be.Fields {
				found = found || fe.Pointer == tt.pointer
			}
			if !found {
				t.Errorf("fields %v lack %s", be.Fields, tt.pointer)
			}
		})
	}
}

func TestConsentLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	if _, err := f.svc.RegisterPartner(ctx, goodPartner(t), "test"); err != nil {
		t.Fatal(err)
	}
	req := consent.GrantRequest{Customer: f.customer, Partner: "budget-app", DurationDays: 1,
		Resources: []consent.Resource{{Account: f.accounts[0], Clusters: []consent.Cluster{consent.Balances}}}}

	t.Run("RefusesAClusterWithoutPurpose", func(t *testing.T) {
		r := req
		r.Resources = []consent.Resource{{Account: f.accounts[0], Clusters: []consent.Cluster{consent.Transactions}}}
		if _, err := f.svc.NewGrant(ctx, r); !errors.Is(err, consent.ErrGrantInvalid) {
			t.Errorf("got %v, want ErrGrantInvalid", err)
		}
	})
	t.Run("RefusesAClosedOrForeignAccountAndTooLong", func(t *testing.T) {
		for _, r := range []consent.GrantRequest{
			{Customer: f.customer, Partner: "budget-app", Resources: []consent.Resource{{Account: f.accounts[1], Clusters: []consent.Cluster{consent.Balances}}}},
			{Customer: f.customer, Partner: "budget-app", Resources: []consent.Resource{{Account: 999, Clusters: []consent.Cluster{consent.Balances}}}},
			{Customer: f.customer, Partner: "budget-app", DurationDays: 366, Resources: req.Resources},
		} {
			if _, err := f.svc.NewGrant(ctx, r); !errors.Is(err, consent.ErrGrantInvalid) {
				t.Errorf("%+v: got %v, want ErrGrantInvalid", r, err)
			}
		}
	})

	g, err := f.svc.NewGrant(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !g.Covers(f.accounts[0], consent.Balances) || g.Covers(f.accounts[0], consent.Transactions) || g.Covers(f.accounts[1], consent.Balances) {
		t.Errorf("Covers is wrong for %+v", g.Resources)
	}
	f.advance(24*time.Hour - time.Second)
	if _, _, err := f.svc.Check(ctx, g.ID); err != nil {
		t.Fatalf("a second before the end: %v", err)
	}
	f.advance(time.Second)
	if _, _, err := f.svc.Check(ctx, g.ID); !errors.Is(err, consent.ErrGrantExpired) {
		t.Fatalf("at the end: got %v, want ErrGrantExpired (no sweeper ran)", err)
	}
	if n, err := f.svc.Sweep(ctx); err != nil || n != 0 {
		t.Errorf("Sweep after the check recorded the expiry: %d, %v; want 0", n, err)
	}
	if _, err := f.svc.Reauthorise(ctx, f.customer, g.ID, 30); !errors.Is(err, consent.ErrGrantExpired) {
		t.Errorf("reauthorising an expired consent: %v", err)
	}

	g2, err := f.svc.NewGrant(ctx, consent.GrantRequest{Customer: f.customer, Partner: "budget-app", Resources: req.Resources})
	if err != nil {
		t.Fatal(err)
	}
	if g2.DurationDays != consent.DefaultDays {
		t.Errorf("default duration %d, want 90", g2.DurationDays)
	}
	if _, err := f.svc.Reauthorise(ctx, f.customer+1, g2.ID, 30); !errors.Is(err, consent.ErrGrantNotFound) {
		t.Errorf("another customer's consent: %v, want ErrGrantNotFound", err)
	}
	if g3, err := f.svc.Reauthorise(ctx, f.customer, g2.ID, 365); err != nil || !g3.Expires.Equal(f.clock().Add(365*24*time.Hour)) {
		t.Errorf("reauthorise: %v, %v", g3.Expires, err)
	}
	if err := f.svc.SuspendPartner(ctx, "budget-app", "", "staff:1"); !errors.Is(err, consent.ErrReasonRequired) {
		t.Errorf("suspension without reason: %v", err)
	}
	if err := f.svc.SuspendPartner(ctx, "budget-app", "keys leaked", "staff:1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Check(ctx, g2.ID); !errors.Is(err, consent.ErrPartnerInactive) {
		t.Errorf("consent of a suspended partner: %v, want ErrPartnerInactive", err)
	}
	if _, err := f.svc.RevokeForCustomer(ctx, f.customer, g2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RevokeForCustomer(ctx, f.customer, g2.ID); err != nil {
		t.Errorf("revoking twice: %v, want nil", err)
	}
	want := []consent.EventKind{consent.EventGranted, consent.EventExpired, consent.EventGranted, consent.EventReauthorised, consent.EventRevoked}
	if d := cmp.Diff(want, f.events); d != "" {
		t.Errorf("hook events (-want +got):\n%s", d)
	}
}
