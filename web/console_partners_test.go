package web_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/web"
)

// partnerBank is a bank whose console has the partner pages, over a real
// consent service on the bank's SQLite database, with one member of staff
// per role (administrator, compliance, support, analyst) and one partner,
// "budget-app", registered and active.
func partnerBank(t *testing.T) (*bank, *consent.Service, map[identity.Role]identity.Staff) {
	t.Helper()
	b := newBank(t, bankOptions{})
	cs := consent.New(b.db.Consent(), consent.Options{Now: b.clock.Now, Accounts: b.db.Ledger()})
	// Partners is left nil on purpose: the console finds PartnerAdmin on
	// Consents, as it does when cmd wires only Consents.
	b.handler = web.New(web.Deps{Auth: b.ids, Ledger: b.ledger, Logger: slog.New(slog.DiscardHandler), Now: b.clock.Now,
		BankName: "Test Bank", Consents: cs})
	staff := map[identity.Role]identity.Staff{}
	for _, role := range []identity.Role{identity.Administrator, identity.Compliance, identity.Support, identity.Analyst} {
		staff[role] = b.staff(string(role)+"@bank.test", role)
	}
	if _, err := cs.RegisterPartner(context.Background(), partnerForm(t).partner(), "test"); err != nil {
		t.Fatal(err)
	}
	return b, cs, staff
}

// form is the registration form as a browser posts it.
type form url.Values

func partnerForm(t *testing.T) form {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, Algorithm: "ES256", Use: "sig"}}})
	return form{"id": {"budget-app"}, "legal_name": {"Budget App Ltd"}, "lei": {"5493001KJTIIGC8Y1R12"},
		"homepage": {"https://budget.example"}, "security_contact": {"security@budget.example"},
		"redirect_uris": {"https://budget.example/cb\r\nhttps://budget.example/cb2"}, "jwks": {string(jwks)},
		"purpose_BALANCES": {"show balances in chat"}, "purpose_TRANSACTIONS": {"fraud alerts"},
		"attest": {"on"}, "signatory": {"Jo Doe, CEO"}, "rate_limit": {"120"}}
}

// with returns a copy of f with id and other fields changed.
func (f form) with(kv ...string) form {
	out := form{}
	for k, v := range f {
		out[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = []string{kv[i+1]}
		}
	}
	return out
}

// partner is what the service should make of the form (keys aside).
func (f form) partner() consent.Partner {
	return consent.Partner{ID: consent.PartnerID(f["id"][0]), LegalName: f["legal_name"][0], LEI: f["lei"][0],
		Homepage: f["homepage"][0], SecurityContact: f["security_contact"][0],
		RedirectURIs: []string{"https://budget.example/cb", "https://budget.example/cb2"}, JWKS: json.RawMessage(f["jwks"][0]),
		Purposes:    map[consent.Cluster]string{consent.Balances: "show balances in chat", consent.Transactions: "fraud alerts"},
		Attestation: consent.Attestation{NoSecondaryUse: true, Signatory: "Jo Doe, CEO"}, RateLimit: 120}
}

// staffBrowser is a browser logged in to the console as role.
func staffBrowser(b *bank, role identity.Role) *browser {
	br := b.browser()
	br.login("/console", string(role)+"@bank.test")
	return br
}

// postForm posts f with the session's CSRF token, read from the partners
// page (or from the console's home when the role may not see it).
func (br *browser) postForm(path string, f form) page {
	br.b.t.Helper()
	v := url.Values(f.with())
	v.Set("csrf", br.csrf("/console/"))
	return br.post(path, v)
}

func TestPartnerConsoleRoles(t *testing.T) {
	t.Parallel()
	const (
		admin      = identity.Administrator
		compliance = identity.Compliance
		support    = identity.Support
		analyst    = identity.Analyst
	)
	type step struct {
		method, path string
		f            form
	}
	reason := form{"reason": {"keys reported leaked"}}
	tests := []struct {
		name       string
		role       identity.Role
		before     []string // status changes made by the service first: "suspend", "refuse"
		do         step
		want       int
		wantStatus consent.PartnerStatus // the partner's status after; "" if not registered
	}{
		{"AdministratorSeesTheList", admin, nil, step{"GET", "/console/partners", nil}, 200, consent.PartnerActive},
		{"ComplianceSeesTheList", compliance, nil, step{"GET", "/console/partners", nil}, 200, consent.PartnerActive},
		{"SupportMayNotSeeTheList", support, nil, step{"GET", "/console/partners", nil}, 403, consent.PartnerActive},
		{"AnalystMayNotSeeTheList", analyst, nil, step{"GET", "/console/partners", nil}, 403, consent.PartnerActive},
		{"ComplianceSeesAPartner", compliance, nil, step{"GET", "/console/partners/budget-app", nil}, 200, consent.PartnerActive},
		{"SupportMayNotSeeAPartner", support, nil, step{"GET", "/console/partners/budget-app", nil}, 403, consent.PartnerActive},
		{"UnknownPartnerIsNotFound", admin, nil, step{"GET", "/console/partners/nobody", nil}, 404, consent.PartnerActive},
		{"AdministratorSuspends", admin, nil, step{"POST", "/console/partners/budget-app/suspend", reason}, 303, consent.PartnerSuspended},
		{"ComplianceSuspends", compliance, nil, step{"POST", "/console/partners/budget-app/suspend", reason}, 303, consent.PartnerSuspended},
		{"SupportMayNotSuspend", support, nil, step{"POST", "/console/partners/budget-app/suspend", reason}, 403, consent.PartnerActive},
		{"AnalystMayNotSuspend", analyst, nil, step{"POST", "/console/partners/budget-app/suspend", reason}, 403, consent.PartnerActive},
		{"AdministratorReinstates", admin, []string{"suspend"}, step{"POST", "/console/partners/budget-app/reinstate", reason}, 303, consent.PartnerActive},
		{"ComplianceMayNotReinstate", compliance, []string{"suspend"}, step{"POST", "/console/partners/budget-app/reinstate", reason}, 403, consent.PartnerSuspended},
		{"AdministratorRefuses", admin, nil, step{"POST", "/console/partners/budget-app/refuse", reason}, 303, consent.PartnerRefused},
		{"ComplianceMayNotRefuse", compliance, nil, step{"POST", "/console/partners/budget-app/refuse", reason}, 403, consent.PartnerActive},
		{"ARefusedPartnerStaysRefused", admin, []string{"refuse"}, step{"POST", "/console/partners/budget-app/reinstate", reason}, 409, consent.PartnerRefused},
	}
	register := func(id string) step {
		return step{"POST", "/console/partners", partnerForm(t).with("id", id)}
	}
	tests2 := []struct {
		name string
		role identity.Role
		want int
		made bool
	}{
		{"AdministratorRegisters", admin, 303, true},
		{"ComplianceMayNotRegister", compliance, 403, false},
		{"SupportMayNotRegister", support, 403, false},
		{"AnalystMayNotRegister", analyst, 403, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, cs, _ := partnerBank(t)
			ctx := context.Background()
			for _, s := range tt.before {
				do := map[string]func(context.Context, consent.PartnerID, string, string) error{"suspend": cs.SuspendPartner, "refuse": cs.RefusePartner}[s]
				if err := do(ctx, "budget-app", "set up by the test", "test"); err != nil {
					t.Fatal(err)
				}
			}
			br := staffBrowser(b, tt.role)
			var res page
			if tt.do.method == "GET" {
				res = br.get(tt.do.path)
			} else {
				res = br.postForm(tt.do.path, tt.do.f)
			}
			if res.status != tt.want {
				t.Fatalf("%s %s as %s: status %d, want %d\n%s", tt.do.method, tt.do.path, tt.role, res.status, tt.want, res.body)
			}
			p, err := cs.Partner(ctx, "budget-app")
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != tt.wantStatus {
				t.Errorf("partner status %s, want %s", p.Status, tt.wantStatus)
			}
		})
	}
	for _, tt := range tests2 {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, cs, _ := partnerBank(t)
			s := register("chat-app")
			res := staffBrowser(b, tt.role).postForm(s.path, s.f)
			if res.status != tt.want {
				t.Fatalf("register as %s: status %d, want %d\n%s", tt.role, res.status, tt.want, res.body)
			}
			_, err := cs.Partner(context.Background(), "chat-app")
			if made := err == nil; made != tt.made {
				t.Errorf("partner registered = %v (%v), want %v", made, err, tt.made)
			}
		})
	}
	t.Run("FormsFollowTheRole", func(t *testing.T) {
		t.Parallel()
		b, _, _ := partnerBank(t)
		checks := []struct {
			role       identity.Role
			path, form string
			want       bool
		}{
			{admin, "/console/partners", `action="/console/partners"`, true},
			{compliance, "/console/partners", `action="/console/partners"`, false},
			{admin, "/console/partners/budget-app", `/budget-app/suspend"`, true},
			{admin, "/console/partners/budget-app", `/budget-app/refuse"`, true},
			{compliance, "/console/partners/budget-app", `/budget-app/suspend"`, true},
			{compliance, "/console/partners/budget-app", `/budget-app/refuse"`, false},
			{admin, "/console/", `href="/console/partners"`, true},
			{compliance, "/console/", `href="/console/partners"`, true},
			{support, "/console/", `href="/console/partners"`, false},
			{analyst, "/console/", `href="/console/partners"`, false},
		}
		for _, c := range checks {
			res := staffBrowser(b, c.role).get(c.path)
			if got := strings.Contains(res.body, c.form); got != c.want {
				t.Errorf("%s on %s: has %s = %v, want %v", c.role, c.path, c.form, got, c.want)
			}
		}
	})
}

func TestPartnerConsoleCSRF(t *testing.T) {
	t.Parallel()
	b, cs, _ := partnerBank(t)
	br := staffBrowser(b, identity.Administrator)
	for _, path := range []string{"/console/partners", "/console/partners/budget-app/suspend", "/console/partners/budget-app/refuse"} {
		for _, token := range []string{"", "forged"} {
			v := url.Values(partnerForm(t).with("id", "chat-app", "reason", "keys leaked"))
			if token != "" {
				v.Set("csrf", token)
			}
			if res := br.post(path, v); res.status != http.StatusForbidden {
				t.Errorf("POST %s with csrf %q: status %d, want 403", path, token, res.status)
			}
		}
	}
	ps, err := cs.Partners(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Status != consent.PartnerActive {
		t.Errorf("forged forms changed the partners: %+v", ps)
	}
}

func TestPartnerConsoleRegister(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		f         form
		wantField string // the field whose error the page shows
		wantText  string
	}{
		{"RefusedWithoutAttestation", partnerForm(t).with("id", "chat-app", "attest", ""), "attest", "secondary-use attestation"},
		{"RefusedWithoutSignatory", partnerForm(t).with("id", "chat-app", "signatory", ""), "attest", "secondary-use attestation"},
		{"BadLEI", partnerForm(t).with("id", "chat-app", "lei", "5493001KJTIIGC8Y1R13"), "lei", "check digits"},
		{"WildcardRedirectOnLine2", partnerForm(t).with("id", "chat-app", "redirect_uris", "https://chat.example/cb\nhttps://*.chat.example/cb"), "redirect_uris", "Line 2:"},
		{"UnallowedJWKSURI", partnerForm(t).with("id", "chat-app", "jwks", "", "jwks_uri", "https://chat.example/jwks"), "jwks_uri", "explicitly allowed"},
		{"NoPurpose", partnerForm(t).with("id", "chat-app", "purpose_BALANCES", "", "purpose_TRANSACTIONS", ""), "purposes", "at least one data cluster"},
		{"TakenID", partnerForm(t), "id", "already registered"},
		{"BadRateLimit", partnerForm(t).with("id", "chat-app", "rate_limit", "lots"), "rate_limit", "whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, cs, _ := partnerBank(t)
			res := staffBrowser(b, identity.Administrator).postForm("/console/partners", tt.f)
			if res.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400\n%s", res.status, res.body)
			}
			body := html.UnescapeString(res.body)
			errRe := fmt.Sprintf(`id="%s-error">`, tt.wantField)
			i := strings.Index(body, errRe)
			if i < 0 || !strings.Contains(body[i:min(len(body), i+400)], tt.wantText) {
				t.Errorf("no error %q on field %s in:\n%s", tt.wantText, tt.wantField, res.body)
			}
			// What was typed is kept.
			for _, field := range []string{"legal_name", "lei", "homepage", "security_contact", "signatory", "purpose_TRANSACTIONS", "jwks_uri"} {
				if v := tt.f[field]; len(v) > 0 && !strings.Contains(body, `value="`+v[0]+`"`) {
					t.Errorf("the form lost %s = %q", field, v[0])
				}
			}
			for _, field := range []string{"redirect_uris", "jwks"} {
				if v := tt.f[field]; len(v) > 0 && !strings.Contains(body, v[0]+"</textarea>") {
					t.Errorf("the form lost %s = %q", field, v[0])
				}
			}
			if _, ok := tt.f["attest"]; ok && !regexp.MustCompile(`name="attest"[^>]* checked`).MatchString(body) {
				t.Errorf("the form lost the attestation tick")
			}
			if _, err := cs.Partner(context.Background(), "chat-app"); !errors.Is(err, consent.ErrPartnerNotFound) {
				t.Errorf("partner chat-app: %v, want ErrPartnerNotFound", err)
			}
		})
	}
	t.Run("Registers", func(t *testing.T) {
		t.Parallel()
		b, cs, staff := partnerBank(t)
		f := partnerForm(t).with("id", "chat-app", "legal_name", "Chat App Inc")
		br := staffBrowser(b, identity.Administrator)
		res := br.postForm("/console/partners", f)
		if res.status != http.StatusSeeOther || res.loc != "/console/partners/chat-app?done=registered" {
			t.Fatalf("status %d to %q, want 303 to the partner\n%s", res.status, res.loc, res.body)
		}
		got, err := cs.Partner(context.Background(), "chat-app")
		if err != nil {
			t.Fatal(err)
		}
		want := f.partner()
		want.Status, want.Created, want.Updated, want.Attestation.At = consent.PartnerActive, got.Created, got.Updated, got.Attestation.At
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("registered partner (-want +got):\n%s", d)
		}
		hist, err := cs.PartnerHistory(context.Background(), "chat-app")
		if err != nil || len(hist) != 1 || hist[0].By != fmt.Sprintf("staff:%d", staff[identity.Administrator].ID) {
			t.Errorf("history %+v, %v: want one registration by the administrator", hist, err)
		}
		page := br.get(res.loc)
		if page.status != 200 || !strings.Contains(page.body, "Chat App Inc") || !strings.Contains(page.body, "Partner registered") {
			t.Errorf("partner page after registering: %d\n%s", page.status, page.body)
		}
		list := br.get("/console/partners")
		if !strings.Contains(list.body, `data-partner="chat-app"`) || !strings.Contains(list.body, `data-partner="budget-app"`) {
			t.Errorf("the list lacks a partner:\n%s", list.body)
		}
	})
}

// TestPartnerConsoleSuspend checks that a suspension from the console stops
// the partner's consents at once (the check every token use makes), keeps
// the reason, and that a suspension without a reason changes nothing.
func TestPartnerConsoleSuspend(t *testing.T) {
	t.Parallel()
	b, cs, staff := partnerBank(t)
	ctx := context.Background()
	c := b.customer("Ada Lovelace", "ada@example.com")
	a := b.account(c.ID, "Everyday", ledger.Checking, 1000)
	g, err := cs.NewGrant(ctx, consent.GrantRequest{Customer: c.ID, Partner: "budget-app",
		Resources: []consent.Resource{{Account: a.ID, Clusters: []consent.Cluster{consent.Balances}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := cs.Check(ctx, g.ID); err != nil {
		t.Fatalf("before: %v", err)
	}
	co := staffBrowser(b, identity.Compliance)
	if res := co.postForm("/console/partners/budget-app/suspend", form{"reason": {" "}}); res.status != http.StatusBadRequest ||
		!strings.Contains(res.body, "Give the reason") {
		t.Fatalf("suspension without a reason: status %d\n%s", res.status, res.body)
	}
	if _, _, err := cs.Check(ctx, g.ID); err != nil {
		t.Fatalf("a refused suspension stopped the partner: %v", err)
	}
	res := co.postForm("/console/partners/budget-app/suspend", form{"reason": {"keys reported leaked on a forum"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("suspend: status %d\n%s", res.status, res.body)
	}
	// No clock moves: the very next check fails.
	if _, _, err := cs.Check(ctx, g.ID); !errors.Is(err, consent.ErrPartnerInactive) {
		t.Fatalf("after suspension: %v, want ErrPartnerInactive", err)
	}
	page := co.get(res.loc)
	if !strings.Contains(page.body, `data-status="suspended"`) || !strings.Contains(page.body, "keys reported leaked on a forum") ||
		!strings.Contains(page.body, fmt.Sprintf("staff:%d", staff[identity.Compliance].ID)) {
		t.Errorf("partner page lacks the suspension, its reason or who:\n%s", page.body)
	}
	if strings.Contains(page.body, `/budget-app/reinstate"`) {
		t.Errorf("compliance is offered reinstatement")
	}
	ad := staffBrowser(b, identity.Administrator)
	if res := ad.postForm("/console/partners/budget-app/reinstate", form{"reason": {"keys rotated, reviewed"}}); res.status != http.StatusSeeOther {
		t.Fatalf("reinstate: status %d\n%s", res.status, res.body)
	}
	if _, _, err := cs.Check(ctx, g.ID); err != nil {
		t.Errorf("after reinstatement: %v", err)
	}
	hist, err := cs.PartnerHistory(ctx, "budget-app")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range hist {
		got = append(got, string(e.Action)+": "+e.Reason)
	}
	want := []string{"registered: registered with a signed secondary-use attestation", "suspended: keys reported leaked on a forum", "reinstated: keys rotated, reviewed"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("history (-want +got):\n%s", d)
	}
}
