package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
)

func TestLogin(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	b.customer("Ada Lovelace", "ada@example.com")
	tests := []struct {
		name       string
		email, pw  string
		noCSRF     bool
		wantStatus int
		wantText   string
	}{
		{name: "Succeeds", email: "ada@example.com", pw: password, wantStatus: http.StatusSeeOther},
		{name: "IgnoresEmailCase", email: " ADA@example.com ", pw: password, wantStatus: http.StatusSeeOther},
		{name: "RejectsWrongPassword", email: "ada@example.com", pw: "wrong password", wantStatus: http.StatusUnauthorized, wantText: "do not match our records"},
		{name: "RejectsUnknownEmailTheSameWay", email: "nobody@example.com", pw: password, wantStatus: http.StatusUnauthorized, wantText: "do not match our records"},
		{name: "RefusesMissingLoginToken", email: "ada@example.com", pw: password, noCSRF: true, wantStatus: http.StatusForbidden, wantText: "Request refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			br := b.browser()
			form := url.Values{"email": {tt.email}, "password": {tt.pw}}
			if !tt.noCSRF {
				form.Set("csrf", br.get("/login").field(t, csrfRe))
			}
			res := br.post("/login", form)
			if res.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d\n%s", res.status, tt.wantStatus, res.body)
			}
			if !strings.Contains(res.body, tt.wantText) {
				t.Errorf("body lacks %q:\n%s", tt.wantText, res.body)
			}
			signedIn := br.get("/accounts").status == http.StatusOK
			if want := tt.wantStatus == http.StatusSeeOther; signedIn != want {
				t.Errorf("signed in = %v, want %v", signedIn, want)
			}
			if res.status == http.StatusSeeOther && res.loc != "/accounts" {
				t.Errorf("redirect to %q, want /accounts", res.loc)
			}
		})
	}
}

func TestLoginTokenFromAnotherBrowserIsRefused(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	b.customer("Ada Lovelace", "ada@example.com")
	attacker, victim := b.browser(), b.browser()
	token := attacker.get("/login").field(t, csrfRe)
	victim.get("/login") // the victim has a login cookie of their own
	res := victim.post("/login", url.Values{"csrf": {token}, "email": {"ada@example.com"}, "password": {password}})
	if res.status != http.StatusForbidden {
		t.Fatalf("status = %d, want 403", res.status)
	}
}

func TestLoginAsksForTOTPWhenEnrolled(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	b.customer("Ada Lovelace", "ada@example.com")
	br := b.browser()
	br.login("", "ada@example.com")
	secret := enrol(t, b, br)

	other := b.browser()
	res := other.post("/login", url.Values{"csrf": {other.get("/login").field(t, csrfRe)}, "email": {"ada@example.com"}, "password": {password}})
	if res.status != http.StatusUnauthorized || !strings.Contains(res.body, `name="code"`) {
		t.Fatalf("without code: status %d, want 401 and a code field:\n%s", res.status, res.body)
	}
	b.clock.Add(time.Minute) // a fresh TOTP step: the enrolment code cannot be replayed
	res = other.post("/login", url.Values{"csrf": {res.field(t, csrfRe)}, "email": {"ada@example.com"}, "password": {password},
		"code": {identity.TOTPCode(secret, b.clock.Now())}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("with code: status %d, want 303:\n%s", res.status, res.body)
	}
}

// enrol sets up TOTP through the security page and returns the secret.
func enrol(t *testing.T, b *bank, br *browser) string {
	t.Helper()
	res := br.post("/security/totp", url.Values{"csrf": {br.csrf("/security")}})
	m := regexp.MustCompile(`data-field="secret">([A-Z2-7 ]+)<`).FindStringSubmatch(res.body)
	if m == nil {
		t.Fatalf("no secret on the enrolment page (status %d):\n%s", res.status, res.body)
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	wrong := br.post("/security/totp/confirm", url.Values{"csrf": {br.csrf("/security")}, "code": {"000000"}})
	if identity.TOTPCode(secret, b.clock.Now()) != "000000" && wrong.status != http.StatusUnprocessableEntity {
		t.Fatalf("wrong code: status %d, want 422", wrong.status)
	}
	res = br.post("/security/totp/confirm", url.Values{"csrf": {br.csrf("/security")}, "code": {identity.TOTPCode(secret, b.clock.Now())}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("confirm TOTP: status %d:\n%s", res.status, res.body)
	}
	if p := br.get(res.loc); !strings.Contains(p.body, "authenticator app is set up") {
		t.Fatalf("security page after enrolment:\n%s", p.body)
	}
	return secret
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	c := b.customer("Ada Lovelace", "ada@example.com")
	from := b.account(c.ID, "Checking", ledger.Checking, 50000)
	to := b.account(c.ID, "Savings", ledger.Savings, 0)
	br := b.browser()
	br.login("", "ada@example.com")
	good := br.csrf("/transfer")
	form := func(csrf string) url.Values {
		return url.Values{"csrf": {csrf}, "from": {fmt.Sprint(from.ID)}, "to": {fmt.Sprintf("a:%d", to.ID)}, "amount": {"10"}}
	}
	tests := []struct {
		name string
		path string
		form url.Values
		site string
		want int
	}{
		{"MissingTokenIsRefused", "/transfer", form(""), "same-origin", http.StatusForbidden},
		{"WrongTokenIsRefused", "/transfer", form(good + "x"), "same-origin", http.StatusForbidden},
		{"CrossSiteIsRefusedEvenWithToken", "/transfer", form(good), "cross-site", http.StatusForbidden},
		{"LogoutWithoutTokenIsRefused", "/logout", url.Values{}, "same-origin", http.StatusForbidden},
		{"TOTPWithoutTokenIsRefused", "/security/totp", url.Values{}, "same-origin", http.StatusForbidden},
		{"GoodTokenIsAccepted", "/transfer", form(good), "same-origin", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br.site = tt.site
			defer func() { br.site = "same-origin" }()
			res := br.post(tt.path, tt.form)
			if res.status != tt.want {
				t.Fatalf("status = %d, want %d\n%s", res.status, tt.want, res.body)
			}
		})
	}
	if got := b.get(from.ID).Balance; got != 50000 {
		t.Errorf("balance = %d, want 50000: nothing should have moved", got)
	}
}

func TestAnotherCustomersThingsAreNotFound(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	ada := b.customer("Ada Lovelace", "ada@example.com")
	bob := b.customer("Bob Babbage", "bob@example.com")
	adaAcct := b.account(ada.ID, "Checking", ledger.Checking, 50000)
	bobAcct := b.account(bob.ID, "Bob's checking", ledger.Checking, 70000)
	bobSave := b.account(bob.ID, "Bob's savings", ledger.Savings, 0)

	// Bob makes a transfer through the web, so it has a receipt.
	bobBr := b.browser()
	bobBr.login("", "bob@example.com")
	res := bobBr.post("/transfer/confirm", bobBr.confirmForm(bobBr.review(bobAcct.ID, bobSave.ID, "5")))
	if res.status != http.StatusSeeOther {
		t.Fatalf("bob's transfer: %d\n%s", res.status, res.body)
	}
	bobReceipt := res.loc
	if bobBr.get(bobReceipt).status != http.StatusOK {
		t.Fatalf("bob cannot see his own receipt")
	}

	br := b.browser()
	br.login("", "ada@example.com")
	missing := br.get("/accounts/999999")
	if missing.status != http.StatusNotFound {
		t.Fatalf("missing account: %d", missing.status)
	}
	for _, path := range []string{
		fmt.Sprintf("/accounts/%d", bobAcct.ID),
		fmt.Sprintf("/accounts/%d?q=x", bobAcct.ID),
		fmt.Sprintf("/accounts/%d", b.funding),
		"/accounts/abc",
		bobReceipt,
	} {
		got := br.get(path)
		if got.status != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, got.status)
		}
		if strings.Contains(got.body, "Bob") {
			t.Errorf("GET %s reveals Bob's account:\n%s", path, got.body)
		}
	}
	// Nor can Ada send from Bob's account, or see in the answer that it exists.
	res = br.post("/transfer", url.Values{"csrf": {br.csrf("/transfer")}, "from": {fmt.Sprint(bobAcct.ID)},
		"to": {fmt.Sprintf("a:%d", adaAcct.ID)}, "amount": {"10"}})
	if res.status != http.StatusUnprocessableEntity || strings.Contains(res.body, "Bob") {
		t.Errorf("transfer from Bob's account: status %d\n%s", res.status, res.body)
	}
	// Nor to it by naming it as if it were hers.
	res = br.post("/transfer", url.Values{"csrf": {br.csrf("/transfer")}, "from": {fmt.Sprint(adaAcct.ID)},
		"to": {fmt.Sprintf("a:%d", bobAcct.ID)}, "amount": {"10"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "Choose where the money goes") {
		t.Errorf("transfer to Bob's account: status %d\n%s", res.status, res.body)
	}
	if got := b.get(bobAcct.ID).Balance; got != 69500 {
		t.Errorf("Bob's balance = %d, want 69500", got)
	}
}

func TestTransferMovesMoneyOnceOnDoubleSubmit(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	c := b.customer("Ada Lovelace", "ada@example.com")
	from := b.account(c.ID, "Checking", ledger.Checking, 50000)
	to := b.account(c.ID, "Savings", ledger.Savings, 1000)
	br := b.browser()
	br.login("", "ada@example.com")

	confirm := br.review(from.ID, to.ID, "123.45")
	if confirm.status != http.StatusOK || !strings.Contains(confirm.body, "123.45 USD") {
		t.Fatalf("confirmation page: %d\n%s", confirm.status, confirm.body)
	}
	if got := b.get(from.ID).Balance; got != 50000 {
		t.Fatalf("money moved before confirmation: balance %d", got)
	}
	form := br.confirmForm(confirm)
	first := br.post("/transfer/confirm", form)
	second := br.post("/transfer/confirm", form)
	if first.status != http.StatusSeeOther || second.status != http.StatusSeeOther {
		t.Fatalf("statuses %d, %d; want 303, 303\n%s", first.status, second.status, second.body)
	}
	if first.loc != second.loc {
		t.Errorf("second submit went to %s, want the first receipt %s", second.loc, first.loc)
	}
	if got, want := b.get(from.ID).Balance, ledger.Amount(50000-12345); got != want {
		t.Errorf("from balance = %d, want %d", got, want)
	}
	if got, want := b.get(to.ID).Balance, ledger.Amount(1000+12345); got != want {
		t.Errorf("to balance = %d, want %d", got, want)
	}
	if diff := cmp.Diff([]string{"Transfer to Savings", "Opening deposit"}, b.history(from.ID)); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	receipt := br.get(first.loc)
	if receipt.status != http.StatusOK || !strings.Contains(receipt.body, "123.45 USD") {
		t.Errorf("receipt: %d\n%s", receipt.status, receipt.body)
	}
	// A new confirmation page mints a new key: a second, deliberate transfer moves money again.
	again := br.post("/transfer/confirm", br.confirmForm(br.review(from.ID, to.ID, "123.45")))
	if again.status != http.StatusSeeOther || again.loc == first.loc {
		t.Fatalf("second transfer: %d %s", again.status, again.loc)
	}
	if got, want := b.get(from.ID).Balance, ledger.Amount(50000-2*12345); got != want {
		t.Errorf("after a second transfer, balance = %d, want %d", got, want)
	}
	// A tampered amount with a used key moves nothing and says so.
	form.Set("amount", "1")
	res := br.post("/transfer/confirm", form)
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "already used") {
		t.Errorf("reused key: %d\n%s", res.status, res.body)
	}
}

func TestTransferRefusals(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	c := b.customer("Ada Lovelace", "ada@example.com")
	from := b.account(c.ID, "Checking", ledger.Checking, 10000)
	frozen := b.account(c.ID, "Frozen checking", ledger.Checking, 10000)
	to := b.account(c.ID, "Savings", ledger.Savings, 0)
	br := b.browser()
	br.login("", "ada@example.com")
	// Every confirm below uses a valid, fresh key, as a page would carry.
	key := br.confirmForm(br.review(from.ID, to.ID, "1")).Get("key")
	if err := b.ledger.Store().SetAccountStatus(context.Background(), frozen.ID, ledger.Frozen); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		path   string
		from   ledger.AccountID
		amount string
		want   string
	}{
		{"InsufficientFundsAtReview", "/transfer", from.ID, "100.01", "does not have enough money"},
		{"InsufficientFundsAtConfirm", "/transfer/confirm", from.ID, "100.01", "does not have enough money"},
		{"FrozenAccount", "/transfer/confirm", frozen.ID, "5", "frozen"},
		{"NotANumber", "/transfer", from.ID, "ten", "Enter an amount such as 20"},
		{"Negative", "/transfer", from.ID, "-5", "greater than zero"},
		{"Zero", "/transfer/confirm", from.ID, "0", "greater than zero"},
		{"TooPrecise", "/transfer", from.ID, "1.234", "two decimal places"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := br.post(tt.path, url.Values{"csrf": {br.csrf("/transfer")}, "key": {key}, "from": {fmt.Sprint(tt.from)},
				"to": {fmt.Sprintf("a:%d", to.ID)}, "amount": {tt.amount}})
			if res.status != http.StatusUnprocessableEntity {
				t.Fatalf("status = %d, want 422\n%s", res.status, res.body)
			}
			if !strings.Contains(res.body, tt.want) {
				t.Errorf("page lacks %q:\n%s", tt.want, res.body)
			}
			if !strings.Contains(res.body, `action="/transfer"`) {
				t.Errorf("the error is not shown on the form")
			}
		})
	}
	for _, a := range []ledger.Account{from, frozen, to} {
		if got := b.get(a.ID).Balance; got != a.Balance {
			t.Errorf("%s balance = %d, want %d: nothing should have moved", a.Name, got, a.Balance)
		}
	}
}

func TestStepUp(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	c := b.customer("Ada Lovelace", "ada@example.com")
	from := b.account(c.ID, "Checking", ledger.Checking, 1_000_000)
	to := b.account(c.ID, "Savings", ledger.Savings, 0)
	br := b.browser()
	br.login("", "ada@example.com")

	t.Run("UpToTheLimitNeedsNoCode", func(t *testing.T) {
		res := br.post("/transfer/confirm", br.confirmForm(br.review(from.ID, to.ID, "1,000.00")))
		if res.status != http.StatusSeeOther {
			t.Fatalf("status %d\n%s", res.status, res.body)
		}
	})
	t.Run("AboveTheLimitWithoutTOTPIsRefusedWithAPointerToEnrol", func(t *testing.T) {
		res := br.review(from.ID, to.ID, "1000.01")
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "Security page") {
			t.Fatalf("status %d\n%s", res.status, res.body)
		}
	})

	secret := enrol(t, b, br)
	b.clock.Add(11 * time.Minute) // enrolment counted as a step-up; let it lapse
	var confirm url.Values
	t.Run("AboveTheLimitAsksForACode", func(t *testing.T) {
		page := br.review(from.ID, to.ID, "1500")
		if page.status != http.StatusOK || !strings.Contains(page.body, `name="code"`) {
			t.Fatalf("status %d, want a code field\n%s", page.status, page.body)
		}
		confirm = br.confirmForm(page)
		res := br.post("/transfer/confirm", confirm)
		if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "6-digit code") {
			t.Fatalf("without code: status %d\n%s", res.status, res.body)
		}
		bad := "000000"
		if identity.TOTPCode(secret, b.clock.Now()) == bad {
			bad = "111111"
		}
		confirm.Set("code", bad)
		res = br.post("/transfer/confirm", confirm)
		if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "did not match") {
			t.Fatalf("wrong code: status %d\n%s", res.status, res.body)
		}
		if got := b.get(to.ID).Balance; got != 100000 {
			t.Fatalf("money moved without a code: %d", got)
		}
		confirm.Set("code", identity.TOTPCode(secret, b.clock.Now()))
		res = br.post("/transfer/confirm", confirm)
		if res.status != http.StatusSeeOther {
			t.Fatalf("right code: status %d\n%s", res.status, res.body)
		}
		if got := b.get(to.ID).Balance; got != 250000 {
			t.Fatalf("to balance = %d, want 250000", got)
		}
	})
	t.Run("WithinTenMinutesNoNewCode", func(t *testing.T) {
		b.clock.Add(9 * time.Minute)
		page := br.review(from.ID, to.ID, "2000")
		if strings.Contains(page.body, `name="code"`) {
			t.Fatalf("asked for a code again within the window")
		}
		if res := br.post("/transfer/confirm", br.confirmForm(page)); res.status != http.StatusSeeOther {
			t.Fatalf("status %d\n%s", res.status, res.body)
		}
	})
	t.Run("AfterTenMinutesAsksAgain", func(t *testing.T) {
		b.clock.Add(2 * time.Minute)
		page := br.review(from.ID, to.ID, "2000")
		if !strings.Contains(page.body, `name="code"`) {
			t.Fatalf("no code asked after the window\n%s", page.body)
		}
		// Nor does a confirmation form skip it.
		if res := br.post("/transfer/confirm", br.confirmForm(page)); res.status != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", res.status)
		}
	})
}

func TestConsoleRoles(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	c := b.customer("Ada Lovelace", "ada@example.com")
	acct := b.account(c.ID, "Checking", ledger.Checking, 10000)
	for _, r := range []identity.Role{identity.Administrator, identity.Support, identity.Compliance, identity.Analyst} {
		b.staff(string(r)+"@bank.test", r)
	}
	tests := []struct {
		role      identity.Role
		canView   bool
		canFreeze bool
	}{
		{identity.Administrator, true, true},
		{identity.Support, true, true},
		{identity.Compliance, true, false},
		{identity.Analyst, false, false}, // least privilege: aggregates only
	}
	for _, tt := range tests {
		t.Run(string(tt.role), func(t *testing.T) {
			br := b.browser()
			br.login("/console", string(tt.role)+"@bank.test")
			res := br.get("/console/customers?email=ADA@example.com")
			if !tt.canView {
				if res.status != http.StatusForbidden {
					t.Errorf("lookup by %s: %d, want 403", tt.role, res.status)
				}
				if p := br.get(fmt.Sprintf("/console/customers/%d", c.ID)); p.status != http.StatusForbidden || strings.Contains(p.body, "100.00 USD") {
					t.Errorf("customer page for %s: %d, want 403 without balances", tt.role, p.status)
				}
				return
			}
			if res.status != http.StatusSeeOther {
				t.Fatalf("lookup: status %d\n%s", res.status, res.body)
			}
			page := br.get(res.loc)
			if page.status != http.StatusOK || !strings.Contains(page.body, "Ada Lovelace") || !strings.Contains(page.body, "100.00 USD") {
				t.Fatalf("customer page: %d\n%s", page.status, page.body)
			}
			if got := strings.Contains(page.body, ">Freeze<"); got != tt.canFreeze {
				t.Errorf("freeze button shown = %v, want %v", got, tt.canFreeze)
			}
			csrf := page.field(t, csrfRe)
			path := fmt.Sprintf("/console/accounts/%d/status", acct.ID)
			res = br.post(path, url.Values{"csrf": {csrf}, "status": {"frozen"}, "reason": {"Customer called: phone stolen"}})
			if tt.canFreeze {
				if p := br.get(path + "?to=frozen"); p.status != http.StatusOK || !strings.Contains(p.body, "Yes, freeze it") {
					t.Errorf("freeze confirmation page: %d", p.status)
				}
				if res := br.post(path, url.Values{"csrf": {csrf}, "status": {"open"}}); res.status != http.StatusBadRequest {
					t.Errorf("unfreeze without a reason: %d, want 400", res.status)
				}
				if res.status != http.StatusSeeOther {
					t.Fatalf("freeze: status %d\n%s", res.status, res.body)
				}
				if got := b.get(acct.ID).Status; got != ledger.Frozen {
					t.Fatalf("status = %s, want frozen", got)
				}
				if !strings.Contains(br.get(res.loc).body, "Unfreeze") {
					t.Errorf("no unfreeze button on a frozen account")
				}
				if res := br.post(path, url.Values{"csrf": {csrf}, "status": {"open"}}); res.status != http.StatusBadRequest || b.get(acct.ID).Status != ledger.Frozen {
					t.Fatalf("unfreeze without a reason: status %d, account %s", res.status, b.get(acct.ID).Status)
				}
				if res := br.post(path, url.Values{"csrf": {csrf}, "status": {"open"}, "reason": {"Found the phone"}}); res.status != http.StatusSeeOther {
					t.Fatalf("unfreeze: status %d", res.status)
				}
				if got := b.get(acct.ID).Status; got != ledger.Open {
					t.Fatalf("status = %s, want open", got)
				}
				return
			}
			if res.status != http.StatusForbidden || !strings.Contains(res.body, string(tt.role)) {
				t.Fatalf("freeze by %s: status %d, want 403\n%s", tt.role, res.status, res.body)
			}
			if got := b.get(acct.ID).Status; got != ledger.Open {
				t.Fatalf("status = %s after a refused freeze", got)
			}
		})
	}
	t.Run("CustomerSessionDoesNotOpenTheConsole", func(t *testing.T) {
		br := b.browser()
		br.login("", "ada@example.com")
		if res := br.get("/console/"); res.status != http.StatusSeeOther || res.loc != "/console/login" {
			t.Fatalf("status %d to %q, want 303 to /console/login", res.status, res.loc)
		}
	})
	t.Run("StaffCannotLogInAsCustomer", func(t *testing.T) {
		br := b.browser()
		res := br.post("/login", url.Values{"csrf": {br.get("/login").field(t, csrfRe)}, "email": {"administrator@bank.test"}, "password": {password}})
		if res.status != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", res.status)
		}
	})
	t.Run("UnknownEmail", func(t *testing.T) {
		br := b.browser()
		br.login("/console", "support@bank.test")
		if res := br.get("/console/customers?email=nobody@example.com"); res.status != http.StatusNotFound || !strings.Contains(res.body, "No customer") {
			t.Fatalf("status %d\n%s", res.status, res.body)
		}
	})
}

func TestHistory(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	c := b.customer("Ada Lovelace", "ada@example.com")
	acct := b.account(c.ID, "Checking", ledger.Checking, 0)
	day := func(d int) time.Time { return time.Date(2026, 3, d, 12, 0, 0, 0, time.UTC) }
	for i := 1; i <= 30; i++ {
		desc := fmt.Sprintf("Coffee %02d", i)
		if i%10 == 0 {
			desc = fmt.Sprintf("Rent %02d", i)
		}
		_, _, err := b.ledger.Transfer(context.Background(), ledger.Request{Client: "test", Key: fmt.Sprint("h", i), Currency: "USD",
			Description: desc, At: day(1 + i%10), Postings: []ledger.Posting{{Account: b.funding, Amount: -100}, {Account: acct.ID, Amount: 100}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := b.ledger.Transfer(context.Background(), ledger.Request{Client: "test", Key: "pending", Currency: "USD", Pending: true,
		Description: "Card hold at Grocer", Postings: []ledger.Posting{{Account: acct.ID, Amount: -250}, {Account: b.funding, Amount: 250}}}); err != nil {
		t.Fatal(err)
	}
	br := b.browser()
	br.login("", "ada@example.com")
	base := fmt.Sprintf("/accounts/%d", acct.ID)
	entries := regexp.MustCompile(`<span class="desc"><a href="/accounts/\d+/transactions/\d+">([^<]+?)</a>\s*(?:<span class="badge">Pending</span>)?\s*</span>`)
	descs := func(p page) []string {
		var ds []string
		for _, m := range entries.FindAllStringSubmatch(p.body, -1) {
			ds = append(ds, m[1])
		}
		return ds
	}
	olderRe := regexp.MustCompile(`href="([^"]+)" rel="next">Older`)

	first := br.get(base)
	if first.status != http.StatusOK {
		t.Fatalf("status %d", first.status)
	}
	if got := len(descs(first)); got != 25 {
		t.Fatalf("first page has %d entries, want 25", got)
	}
	if !strings.Contains(first.body, `class="entry pending"`) || !strings.Contains(first.body, "Pending</span>") {
		t.Errorf("the pending hold is not shown as pending")
	}
	older := first.field(t, olderRe)
	if strings.Contains(older, "offset") || !strings.Contains(older, "after=") {
		t.Errorf("older link %q is not a cursor", older)
	}
	second := br.get(older)
	seen := map[string]bool{}
	for _, d := range append(descs(first), descs(second)...) {
		if seen[d] {
			t.Errorf("%q on both pages", d)
		}
		seen[d] = true
	}
	if len(seen) != 31 {
		t.Errorf("pages hold %d distinct entries, want 31", len(seen))
	}
	if olderRe.MatchString(second.body) {
		t.Errorf("the last page links to an older one")
	}
	if !strings.Contains(second.body, ">Newest<") {
		t.Errorf("no link back to the newest page")
	}

	search := br.get(base + "?q=rent")
	if diff := cmp.Diff([]string{"Rent 30", "Rent 20", "Rent 10"}, descs(search)); diff != "" {
		t.Errorf("search (-want +got):\n%s", diff)
	}
	// i%10 == 2 lands on 3 March: Coffee 02, 12, 22. "to" includes its day.
	dated := br.get(base + "?from=2026-03-03&to=2026-03-03")
	if diff := cmp.Diff([]string{"Coffee 22", "Coffee 12", "Coffee 02"}, descs(dated)); diff != "" {
		t.Errorf("date filter (-want +got):\n%s", diff)
	}
	for _, q := range []string{"?from=yesterday", "?after=not-a-cursor", "?from=2026-03-05&to=2026-03-01"} {
		if res := br.get(base + q); res.status != http.StatusBadRequest || !strings.Contains(res.body, `role="alert"`) {
			t.Errorf("%s: status %d, want 400 with a message", q, res.status)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		t.Run(fmt.Sprintf("secure=%v", secure), func(t *testing.T) {
			t.Parallel()
			b := newBank(t, bankOptions{secure: secure})
			c := b.customer("Ada Lovelace", "ada@example.com")
			acct := b.account(c.ID, "Checking", ledger.Checking, 10000)
			b.staff("admin@bank.test", identity.Administrator)
			anon, cust, staff := b.browser(), b.browser(), b.browser()
			cust.login("", "ada@example.com")
			staff.login("/console", "admin@bank.test")
			routes := []struct {
				br     *browser
				method string
				path   string
				status int
			}{
				{anon, "GET", "/", http.StatusSeeOther},
				{anon, "GET", "/login", http.StatusOK},
				{anon, "GET", "/accounts", http.StatusSeeOther},
				{anon, "GET", "/no/such/page", http.StatusNotFound},
				{anon, "POST", "/login", http.StatusForbidden},
				{anon, "GET", "/static/style.css", http.StatusOK},
				{anon, "GET", "/console/login", http.StatusOK},
				{cust, "GET", "/accounts", http.StatusOK},
				{cust, "GET", fmt.Sprintf("/accounts/%d", acct.ID), http.StatusOK},
				{cust, "GET", "/accounts/999999", http.StatusNotFound},
				{cust, "GET", "/transfer", http.StatusOK},
				{cust, "GET", "/security", http.StatusOK},
				{cust, "POST", "/transfer", http.StatusForbidden},
				{staff, "GET", "/console/", http.StatusOK},
				{staff, "GET", fmt.Sprintf("/console/customers/%d", c.ID), http.StatusOK},
			}
			for _, r := range routes {
				res := r.br.do(r.method, r.path, url.Values{})
				if r.method == "GET" {
					res = r.br.get(r.path)
				}
				if res.status != r.status {
					t.Errorf("%s %s: status %d, want %d", r.method, r.path, res.status, r.status)
				}
				want := map[string]string{
					"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
					"X-Content-Type-Options":  "nosniff",
					"Referrer-Policy":         "no-referrer",
					"X-Frame-Options":         "DENY",
					"Cache-Control":           "no-store",
				}
				if strings.HasPrefix(r.path, "/static/") {
					want["Cache-Control"] = "public, max-age=3600"
				}
				if secure {
					want["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
				}
				got := map[string]string{}
				for k := range want {
					got[k] = res.header.Get(k)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s %s headers (-want +got):\n%s", r.method, r.path, diff)
				}
				if res.header.Get("Permissions-Policy") == "" {
					t.Errorf("%s %s: no Permissions-Policy", r.method, r.path)
				}
				if !secure && res.header.Get("Strict-Transport-Security") != "" {
					t.Errorf("%s %s: HSTS without TLS", r.method, r.path)
				}
				if strings.Contains(res.body, "<script") || strings.Contains(res.body, " style=") {
					t.Errorf("%s %s: inline script or style", r.method, r.path)
				}
			}
		})
	}
}

func TestCookies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		secure   bool
		prefix   string
		cookie   string
		path     string
		sameSite http.SameSite
	}{
		{"Customer", false, "", "bb_session", "/", http.SameSiteLaxMode},
		{"CustomerOverTLS", true, "", "__Host-bb_session", "/", http.SameSiteLaxMode},
		{"Staff", false, "/console", "bb_console", "/console", http.SameSiteStrictMode},
		{"StaffOverTLS", true, "/console", "__Secure-bb_console", "/console", http.SameSiteStrictMode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBank(t, bankOptions{secure: tt.secure})
			b.customer("Ada Lovelace", "ada@example.com")
			b.staff("admin@bank.test", identity.Administrator)
			email := "ada@example.com"
			if tt.prefix != "" {
				email = "admin@bank.test"
			}
			br := b.browser()
			br.login(tt.prefix, email)
			c, ok := br.cookies[tt.cookie+tt.path]
			if !ok {
				t.Fatalf("no cookie %s for %s; have %v", tt.cookie, tt.path, br.cookies)
			}
			got := struct {
				HttpOnly, Secure bool
				SameSite         http.SameSite
				Domain           string
			}{c.HttpOnly, c.Secure, c.SameSite, c.Domain}
			want := got
			want.HttpOnly, want.Secure, want.SameSite, want.Domain = true, tt.secure, tt.sameSite, ""
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("cookie (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	b.customer("Ada Lovelace", "ada@example.com")
	br := b.browser()
	br.login("", "ada@example.com")
	stolen := map[string]string{}
	for _, c := range br.cookies {
		stolen[c.Name] = c.Value
	}
	res := br.post("/logout", url.Values{"csrf": {br.csrf("/accounts")}})
	if res.status != http.StatusSeeOther || res.loc != "/login" {
		t.Fatalf("logout: %d %s", res.status, res.loc)
	}
	if res := br.get("/accounts"); res.status != http.StatusSeeOther {
		t.Fatalf("after logout: %d", res.status)
	}
	// The old token is dead on the server, not only forgotten by the browser.
	replay := b.browser()
	for name, v := range stolen {
		replay.cookies[name+"/"] = &http.Cookie{Name: name, Value: v, Path: "/"}
	}
	if res := replay.get("/accounts"); res.status != http.StatusSeeOther {
		t.Fatalf("stolen cookie still works: %d", res.status)
	}
}
