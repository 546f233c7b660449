package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/google/go-cmp/cmp"
)

// ConsentOpener opens a fresh, empty database for one test and returns its
// consent store and its identity store (consents name customers, which must
// exist).
type ConsentOpener func(t testing.TB) (consent.Store, identity.Store)

// Consent runs the consent.Store conformance suite against the engine open
// returns.
func Consent(t *testing.T, open ConsentOpener) {
	t.Run("PartnersCreateReadList", func(t *testing.T) { t.Parallel(); consentPartners(t, open) })
	t.Run("PartnerStatusKeepsHistory", func(t *testing.T) { t.Parallel(); consentPartnerStatus(t, open) })
	t.Run("PartnerRedirectsReplacedOnceFromTheirValue", func(t *testing.T) { t.Parallel(); consentPartnerRedirects(t, open) })
	t.Run("GrantsCreateReadList", func(t *testing.T) { t.Parallel(); consentGrants(t, open) })
	t.Run("EndGrantHappensOnce", func(t *testing.T) { t.Parallel(); consentEndOnce(t, open) })
	t.Run("ExtendTouchAndDue", func(t *testing.T) { t.Parallel(); consentExtend(t, open) })
	t.Run("ChangedSinceListsUpdates", func(t *testing.T) { t.Parallel(); consentChanged(t, open) })
	t.Run("RequestTakenOnce", func(t *testing.T) { t.Parallel(); consentRequests(t, open) })
	t.Run("CodeUsedOnce", func(t *testing.T) { t.Parallel(); consentCodes(t, open) })
	t.Run("RefreshTokens", func(t *testing.T) { t.Parallel(); consentRefresh(t, open) })
	t.Run("JTIReplayRefusedUntilExpiry", func(t *testing.T) { t.Parallel(); consentJTI(t, open) })
	t.Run("SigningKeyFirstWriterWins", func(t *testing.T) { t.Parallel(); consentKey(t, open) })
}

var cT0 = time.Date(2026, 5, 6, 7, 8, 9, 123456000, time.UTC)

func cPartner(id string) consent.Partner {
	return consent.Partner{
		ID: consent.PartnerID(id), LegalName: "Partner " + id + " Ltd", LEI: "5493001KJTIIGC8Y1R12",
		Homepage: "https://" + id + ".example", SecurityContact: "security@" + id + ".example",
		RedirectURIs: []string{"https://" + id + ".example/cb", "https://" + id + ".example/cb2"},
		JWKS:         json.RawMessage(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`),
		Purposes:     map[consent.Cluster]string{consent.Balances: "show balances in chat", consent.Transactions: "fraud alerts"},
		Attestation:  consent.Attestation{NoSecondaryUse: true, Signatory: "Jo Doe, CEO", At: cT0},
		RateLimit:    600, Status: consent.PartnerActive, Created: cT0, Updated: cT0,
	}
}

func mustPartner(t testing.TB, s consent.Store, id string) consent.Partner {
	t.Helper()
	p := cPartner(id)
	if err := s.CreatePartner(context.Background(), p, consent.PartnerEvent{Partner: p.ID, Action: consent.ActionRegistered, Reason: "ok", By: "cli", At: cT0}); err != nil {
		t.Fatalf("CreatePartner(%s): %v", id, err)
	}
	return p
}

func cGrant(c bankbridge.CustomerID, p consent.PartnerID, created time.Time) consent.Grant {
	return consent.Grant{
		ID: consent.NewGrantID(), Customer: c, Partner: p,
		Resources: []consent.Resource{
			{Account: 3, Clusters: []consent.Cluster{consent.AccountBasic, consent.Balances}},
			{Account: 7, Clusters: []consent.Cluster{consent.Transactions}},
		},
		Purposes:     map[consent.Cluster]string{consent.Balances: "show balances in chat", consent.Transactions: "fraud alerts"},
		DurationType: consent.TimeBound, DurationDays: 90, LookbackDays: 365,
		Created: created, Updated: created, Expires: created.Add(90 * 24 * time.Hour), Status: consent.Active,
	}
}

func mustGrant(t testing.TB, s consent.Store, g consent.Grant) consent.Grant {
	t.Helper()
	if err := s.CreateGrant(context.Background(), g); err != nil {
		t.Fatalf("CreateGrant: %v", err)
	}
	return g
}

// consentFixture opens a store with one customer and one partner.
func consentFixture(t *testing.T, open ConsentOpener) (consent.Store, bankbridge.CustomerID, consent.Partner) {
	t.Helper()
	s, ids := open(t)
	c := mustCustomer(t, ids, idCustomer(1))
	return s, c.ID, mustPartner(t, s, "budget-app")
}

func consentPartners(t *testing.T, open ConsentOpener) {
	ctx := context.Background()
	s, _ := open(t)
	b := mustPartner(t, s, "bravo")
	a := mustPartner(t, s, "alpha")
	got, err := s.Partner(ctx, "bravo")
	noErr(t, err)
	if d := cmp.Diff(b, got); d != "" {
		t.Errorf("Partner read back (-want +got):\n%s", d)
	}
	err = s.CreatePartner(ctx, cPartner("alpha"), consent.PartnerEvent{Partner: "alpha", Action: consent.ActionRegistered, Reason: "x", By: "cli", At: cT0})
	if !errors.Is(err, consent.ErrPartnerTaken) {
		t.Errorf("duplicate partner: got %v, want ErrPartnerTaken", err)
	}
	if _, err := s.Partner(ctx, "nobody"); !errors.Is(err, consent.ErrPartnerNotFound) {
		t.Errorf("unknown partner: got %v, want ErrPartnerNotFound", err)
	}
	all, err := s.Partners(ctx)
	noErr(t, err)
	if d := cmp.Diff([]consent.Partner{a, b}, all); d != "" {
		t.Errorf("Partners (-want +got):\n%s", d)
	}
	// A partner with a jwks_uri and no inline keys reads back the same.
	u := cPartner("uri-partner")
	u.JWKS, u.JWKSURI, u.JWKSURIAllowed = nil, "https://uri-partner.example/jwks.json", true
	noErr(t, s.CreatePartner(ctx, u, consent.PartnerEvent{Partner: u.ID, Action: consent.ActionRegistered, Reason: "x", By: "cli", At: cT0}))
	if got, err := s.Partner(ctx, u.ID); err != nil || !cmp.Equal(u, got) {
		t.Errorf("jwks_uri partner read back %+v, %v; diff:\n%s", got, err, cmp.Diff(u, got))
	}
}

func consentPartnerStatus(t *testing.T, open ConsentOpener) {
	ctx := context.Background()
	s, _ := open(t)
	mustPartner(t, s, "alpha")
	t1 := cT0.Add(time.Hour)
	susp := consent.PartnerEvent{Partner: "alpha", Action: consent.ActionSuspended, Reason: "leaked keys reported", By: "staff:3", At: t1}
	noErr(t, s.SetPartnerStatus(ctx, "alpha", consent.PartnerSuspended, susp))
	p, err := s.Partner(ctx, "alpha")
	if err != nil || p.Status != consent.PartnerSuspended || !p.Updated.Equal(t1) {
		t.Errorf("after suspension: status %s updated %v, %v", p.Status, p.Updated, err)
	}
	evs, err := s.PartnerEvents(ctx, "alpha")
	noErr(t, err)
	want := []consent.PartnerEvent{
		{Partner: "alpha", Action: consent.ActionRegistered, Reason: "ok", By: "cli", At: cT0},
		susp,
	}
	if d := cmp.Diff(want, evs); d != "" {
		t.Errorf("history (-want +got):\n%s", d)
	}
	if err := s.SetPartnerStatus(ctx, "nobody", consent.PartnerSuspended, susp); !errors.Is(err, consent.ErrPartnerNotFound) {
		t.Errorf("unknown partner: got %v, want ErrPartnerNotFound", err)
	}
}

// consentPartnerRedirects: the redirect URIs are replaced only while they
// are what the caller read (compare-and-set), with one event; of two
// instances replacing them at once, one does, and the other is told so.
func consentPartnerRedirects(t *testing.T, open ConsentOpener) {
	ctx := context.Background()
	s, _ := open(t)
	p := mustPartner(t, s, "alpha")
	to := []string{"https://bank.example/channels/messenger/link/callback"}
	t1 := cT0.Add(time.Hour)
	ev := consent.PartnerEvent{Partner: "alpha", Action: consent.ActionRedirects, Reason: "upgrade", By: "system", At: t1}
	results := make(chan bool, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			ok, err := s.ReplacePartnerRedirects(ctx, "alpha", p.RedirectURIs, to, ev)
			if err != nil {
				t.Error(err)
			}
			results <- ok
		})
	}
	wg.Wait()
	close(results)
	n := 0
	for ok := range results {
		if ok {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d of 2 concurrent replacements happened, want 1", n)
	}
	got, err := s.Partner(ctx, "alpha")
	if err != nil || !slices.Equal(got.RedirectURIs, to) || !got.Updated.Equal(t1) {
		t.Errorf("after the replacement: %v updated %v, %v", got.RedirectURIs, got.Updated, err)
	}
	evs, err := s.PartnerEvents(ctx, "alpha")
	if err != nil || len(evs) != 2 || evs[1] != ev {
		t.Errorf("history: %+v %v, want the registration and one replacement", evs, err)
	}
	if ok, err := s.ReplacePartnerRedirects(ctx, "alpha", p.RedirectURIs, []string{"https://evil.example/cb"}, ev); ok || err != nil {
		t.Errorf("a replacement from a stale value: %v %v, want false and no error", ok, err)
	}
	if _, err := s.ReplacePartnerRedirects(ctx, "nobody", nil, to, ev); !errors.Is(err, consent.ErrPartnerNotFound) {
		t.Errorf("unknown partner: %v, want ErrPartnerNotFound", err)
	}
}

func consentGrants(t *testing.T, open ConsentOpener) {
	ctx := context.Background()
	s, c, p := consentFixture(t, open)
	old := mustGrant(t, s, cGrant(c, p.ID, cT0))
	recent := mustGrant(t, s, cGrant(c, p.ID, cT0.Add(time.Minute)))
	got, err := s.Grant(ctx, old.ID)
	noErr(t, err)
	if d := cmp.Diff(old, got); d != "" {
		t.Errorf("Grant read back (-want +got):\n%s", d)
	}
	if _, err := s.Grant(ctx, "nope"); !errors.Is(err, consent.ErrGrantNotFound) {
		t.Errorf("unknown grant: got %v, want ErrGrantNotFound", err)
	}
	list, err := s.CustomerGrants(ctx, c)
	noErr(t, err)
	if d := cmp.Diff([]consent.Grant{recent, old}, list); d != "" {
		t.Errorf("CustomerGrants, newest first (-want +got):\n%s", d)
	}
	list, err = s.PartnerGrants(ctx, p.ID)
	if err != nil || len(list) != 2 || list[0].ID != recent.ID {
		t.Errorf("PartnerGrants = %d grants, %v", len(list), err)
	}
	if list, err := s.CustomerGrants(ctx, c+1000); err != nil || len(list) != 0 {
		t.Errorf("another customer's consents: %v, %v", list, err)
	}
}

func consentEndOnce(t *testing.T, open ConsentOpener) {
	ctx := context.Background()
	s, c, p := consentFixture(t, open)
	g := mustGrant(t, s, cGrant(c, p.ID, cT0))
	at := cT0.Add(time.Hour)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.EndGrant(ctx, g.ID, consent.Revoked, fmt.Sprintf("staff:%d", i), "customer asked by phone", at)
			if err != nil {
				t.Errorf("EndGrant: %v", err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent revocations reported a change, want exactly 1", wins.Load())
	}
	got, err := s.Grant(ctx, g.ID)
	if err != nil || got.Status != consent.Revoked || got.RevokeReason != "customer asked by phone" || !got.Updated.Equal(at) {
		t.Errorf("after revocation: %+v, %v", got, err)
	}
	if ok, err := s.EndGrant(ctx, g.ID, consent.Expired, "system", "end", at); ok || err != nil {
		t.Errorf("expiring a revoked consent: changed %v, %v; want false, nil", ok, err)
	}
	if _, err := s.EndGrant(ctx, "nope", consent.Revoked, "x", "y", at); !errors.Is(err, consent.ErrGrantNotFound) {
		t.Errorf("unknown grant: got %v, want ErrGrantNotFound", err)
	}
}

func consentExtend(t *testing.T, open ConsentOpener) {
	ctx := context.Background()
	s, c, p := consentFixture(t, open)
	g := mustGrant(t, s, cGrant(c, p.ID, cT0))
	newEnd := cT0.Add(200 * 24 * time.Hour)
	if ok, err := s.ExtendGrant(ctx, g.ID, newEnd, 200, cT0.Add(time.Hour)); !ok || err != nil {
		t.Fatalf("ExtendGrant: %v, %v", ok, err)
	}
	noErr(t, s.TouchGrant(ctx, g.ID, cT0.Add(2*time.Hour)))
	if err := s.TouchGrant(ctx, g.ID, cT0.Add(time.Hour)); err != nil { // older: ignored
		t.Fatal(err)
	}
	got, err := s.Grant(ctx, g.ID)
	noErr(t, err)
	if !got.Expires.Equal(newEnd) || got.DurationDays != 200 || !got.LastUsed.Equal(cT0.Add(2*time.Hour)) {
		t.Errorf("after extend and touch: expires %v days %d last used %v", got.Expires, got.DurationDays, got.LastUsed)
	}
	short := cGrant(c, p.ID, cT0)
	short.Expires = cT0.Add(time.Minute)
	mustGrant(t, s, short)
	due, err := s.DueGrants(ctx, cT0.Add(time.Minute), 10)
	noErr(t, err)
	if len(due) != 1 || due[0].ID != short.ID {
		t.Errorf("DueGrants at expiry = %v, want only %s", due, short.ID)
	}
	if due, _ := s.DueGrants(ctx, cT0.Add(time.Minute-time.Microsecond), 10); len(due) != 0 {
		t.Errorf("DueGrants before expiry = %d, want 0", len(due))
	}
	s.EndGrant(ctx, g.ID, consent.Revoked, "customer", "", cT0)
	if ok, err := s.ExtendGrant(ctx, g.ID, newEnd, 200, cT0); ok || err != nil {
		t.Errorf("extending a revoked consent: %v, %v; want false, nil", ok, err)
	}
}

// consentChanged: ChangedSince lists the consents ended or extended and
// the partners whose status was set at or after the moment asked, never a
// consent only used, and at most limit of each.
func consentChanged(t *testing.T, open ConsentOpener) {
	ctx := context.Background()
	s, c, p := consentFixture(t, open)
	quiet := mustGrant(t, s, cGrant(c, p.ID, cT0))
	ended := mustGrant(t, s, cGrant(c, p.ID, cT0))
	extended := mustGrant(t, s, cGrant(c, p.ID, cT0))
	other := mustPartner(t, s, "changed-other")
	since := cT0.Add(time.Hour)
	noErr(t, s.TouchGrant(ctx, quiet.ID, since.Add(time.Minute)))
	if ok, err := s.EndGrant(ctx, ended.ID, consent.Revoked, "partner", "", since); !ok || err != nil {
		t.Fatalf("EndGrant: %v, %v", ok, err)
	}
	if ok, err := s.ExtendGrant(ctx, extended.ID, cT0.Add(300*24*time.Hour), 300, since.Add(time.Second)); !ok || err != nil {
		t.Fatalf("ExtendGrant: %v, %v", ok, err)
	}
	if err := s.SetPartnerStatus(ctx, other.ID, consent.PartnerSuspended,
		consent.PartnerEvent{Partner: other.ID, Action: consent.ActionSuspended, Reason: "test", By: "staff:1", At: since.Add(2 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ChangedSince(ctx, since, 10)
	noErr(t, err)
	want := []consent.Change{
		{Grant: ended.ID, Updated: since},
		{Grant: extended.ID, Updated: since.Add(time.Second)},
		{Partner: other.ID, Updated: since.Add(2 * time.Second)},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("changed since (-want +got):\n%s", d)
	}
	if got, err := s.ChangedSince(ctx, since.Add(time.Second), 1); err != nil || len(got) != 2 || got[0].Grant != extended.ID || got[1].Partner != other.ID {
		t.Errorf("since the extension, limit 1 of each: %v, %v", got, err)
	}
	if got, err := s.ChangedSince(ctx, since.Add(time.Hour), 10); err != nil || len(got) != 0 {
		t.Errorf("nothing changed after: %v, %v", got, err)
	}
}

func consentRequests(t *testing.T, open ConsentOpener) {
	ctx := context.Background()
	s, _, p := consentFixture(t, open)
	q := consent.Request{ID: consent.NewRequestID(), Partner: p.ID, RedirectURI: p.RedirectURIs[0], State: "st",
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", DPoPJKT: "jkt",
		Clusters: []consent.Cluster{consent.Balances}, DurationDays: 30, LookbackDays: 90, Created: cT0, Expires: cT0.Add(5 * time.Minute)}
	noErr(t, s.SaveRequest(ctx, q))
	got, err := s.Request(ctx, q.ID)
	noErr(t, err)
	if d := cmp.Diff(q, got); d != "" {
		t.Errorf("Request read back (-want +got):\n%s", d)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.TakeRequest(ctx, q.ID)
			switch {
			case err == nil && cmp.Equal(q, r):
				wins.Add(1)
			case errors.Is(err, consent.ErrRequestNotFound):
			default:
				t.Errorf("TakeRequest: %+v, %v", r, err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d callers took the request, want 1", wins.Load())
	}
	if _, err := s.Request(ctx, q.ID); !errors.Is(err, consent.ErrRequestNotFound) {
		t.Errorf("taken request still readable: %v", err)
	}
}

func consentCodes(t *testing.T, open ConsentOpener) {
	ctx := context.Background()
	s, c, p := consentFixture(t, open)
	g := mustGrant(t, s, cGrant(c, p.ID, cT0))
	code := consent.Code{Hash: idHashOf("code-1"), Grant: g.ID, Partner: p.ID, RedirectURI: p.RedirectURIs[0],
		CodeChallenge: "ch", DPoPJKT: "jkt", Expires: cT0.Add(time.Minute)}
	noErr(t, s.SaveCode(ctx, code))
	at := cT0.Add(10 * time.Second)
	// Another partner's attempt neither spends the code nor learns of it.
	if _, err := s.UseCode(ctx, code.Hash, "someone-else", at); !errors.Is(err, consent.ErrCodeNotFound) {
		t.Errorf("another partner's UseCode: got %v, want ErrCodeNotFound", err)
	}
	var wins, reused atomic.Int32
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := s.UseCode(ctx, code.Hash, p.ID, at)
			want := code
			want.Used = at
			switch {
			case err == nil && cmp.Equal(want, got):
				wins.Add(1)
			case errors.Is(err, consent.ErrCodeReused) && got.Grant == g.ID:
				reused.Add(1)
			default:
				t.Errorf("UseCode: %+v, %v", got, err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || reused.Load() != 5 {
		t.Errorf("UseCode: %d redeemed, %d reported reused; want 1 and 5", wins.Load(), reused.Load())
	}
	if _, err := s.UseCode(ctx, idHashOf("unknown"), p.ID, at); !errors.Is(err, consent.ErrCodeNotFound) {
		t.Errorf("unknown code: got %v, want ErrCodeNotFound", err)
	}
}

func consentRefresh(t *testing.T, open ConsentOpener) {
	ctx := context.Background()
	s, c, p := consentFixture(t, open)
	g := mustGrant(t, s, cGrant(c, p.ID, cT0))
	rt := consent.RefreshToken{Hash: idHashOf("rt"), Grant: g.ID, Partner: p.ID, JKT: "thumb", Created: cT0}
	noErr(t, s.SaveRefreshToken(ctx, rt))
	got, err := s.RefreshToken(ctx, rt.Hash)
	noErr(t, err)
	if d := cmp.Diff(rt, got); d != "" {
		t.Errorf("RefreshToken read back (-want +got):\n%s", d)
	}
	if _, err := s.RefreshToken(ctx, idHashOf("other")); !errors.Is(err, consent.ErrTokenNotFound) {
		t.Errorf("unknown refresh token: got %v, want ErrTokenNotFound", err)
	}
}

func consentJTI(t *testing.T, open ConsentOpener) {
	ctx := context.Background()
	s, _ := open(t)
	exp := cT0.Add(time.Minute)
	tests := []struct {
		name string
		key  string
		now  time.Time
		want bool
	}{
		{"FirstUseIsNew", "dpop:a", cT0, true},
		{"SecondUseIsReplay", "dpop:a", cT0.Add(time.Second), false},
		{"OtherScopeIsNew", "assertion:a", cT0, true},
		{"AfterExpiryIsNewAgain", "dpop:a", exp, true},
		{"AndReplayedAgainAfterThat", "dpop:a", exp.Add(time.Second), false},
	}
	for _, tt := range tests { // in order: each step depends on the last
		expires := exp
		if tt.now.Equal(exp) {
			expires = exp.Add(time.Minute)
		}
		got, err := s.UseJTI(ctx, tt.key, expires, tt.now)
		if err != nil || got != tt.want {
			t.Errorf("%s: UseJTI = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	var fresh atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, err := s.UseJTI(ctx, "dpop:race", exp, cT0); err != nil {
				t.Errorf("UseJTI: %v", err)
			} else if ok {
				fresh.Add(1)
			}
		}()
	}
	wg.Wait()
	if fresh.Load() != 1 {
		t.Errorf("%d concurrent first uses of one jti, want 1", fresh.Load())
	}
}

func consentKey(t *testing.T, open ConsentOpener) {
	ctx := context.Background()
	s, _ := open(t)
	got := make([][]byte, 6)
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := s.SigningKey(ctx, "as", []byte(fmt.Sprintf(`{"k":%d}`, i)), cT0)
			if err != nil {
				t.Errorf("SigningKey: %v", err)
			}
			got[i] = k
		}()
	}
	wg.Wait()
	for i := range got {
		if string(got[i]) != string(got[0]) || len(got[0]) == 0 {
			t.Fatalf("instances got different keys: %q", got)
		}
	}
	if k, _ := s.SigningKey(ctx, "as", []byte(`{"k":"later"}`), cT0); string(k) != string(got[0]) {
		t.Errorf("a later start replaced the key: %s", k)
	}
	if k, _ := s.SigningKey(ctx, "other", []byte(`{"k":"x"}`), cT0); string(k) != `{"k":"x"}` {
		t.Errorf("another name shares the key: %s", k)
	}
}
