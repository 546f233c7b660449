package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
)

// payPayee posts the transfer form to payee p and, when the confirmation
// page comes, confirms it with code ("" for none): the final page.
func (br *browser) payPayee(from ledger.AccountID, p ledger.Payee, amount, code string) page {
	br.b.t.Helper()
	rev := br.post("/transfer", url.Values{"csrf": {br.csrf("/transfer")}, "from": {fmt.Sprint(from)},
		"to": {fmt.Sprintf("p:%d", p.ID)}, "amount": {amount}})
	if rev.status != http.StatusOK {
		return rev
	}
	f := br.confirmForm(rev)
	if code != "" {
		f.Set("code", code)
	}
	return br.post("/transfer/confirm", f)
}

// limitsBank is a bank on engine with Ada (10,000.00, no authenticator
// unless enrolled) and a payee, Bob, another customer of the bank.
func limitsBank(t *testing.T, pg bool, p limits.Policy, payeeSaved time.Time) (*bank, *browser, ledger.Account, ledger.Account, ledger.Payee) {
	b := newBank(t, bankOptions{postgres: pg, limits: p})
	ada := b.customer("Ada Lovelace", "ada@example.com")
	bob := b.customer("Bob Payee", "bob@example.com")
	from := b.account(ada.ID, "Checking", ledger.Checking, 10_000_00)
	to := b.account(bob.ID, "Checking", ledger.Checking, 0)
	payee, err := b.ledger.Store().CreatePayee(context.Background(), ledger.Payee{Customer: ada.ID, Name: "Bob Payee", Nickname: "Bob",
		Account: to.ID, Created: payeeSaved})
	if err != nil {
		t.Fatal(err)
	}
	br := b.browser()
	br.login("", "ada@example.com")
	return b, br, from, to, payee
}

func engines(t *testing.T, f func(t *testing.T, pg bool)) {
	t.Run("SQLite", func(t *testing.T) { t.Parallel(); f(t, false) })
	t.Run("Postgres", func(t *testing.T) { t.Parallel(); f(t, true) })
}

// TestTransferLimitsAddUp is issue 23's scenario: a session without an
// authenticator was refused one payment of 1,000.01 and allowed six of
// 1,000.00 to another customer. Now the day's total is what needs the
// step-up.
func TestTransferLimitsAddUp(t *testing.T) {
	t.Parallel()
	known := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // a payee saved long ago
	open := limits.Policy{Daily: 5_000_00, PerPayee: 5_000_00, NewPayee: 5_000_00, StepUp: 1_000_00}

	t.Run("SixPaymentsWithoutAnAuthenticator", func(t *testing.T) {
		t.Parallel()
		engines(t, func(t *testing.T, pg bool) {
			b, br, from, to, payee := limitsBank(t, pg, open, known)
			if res := br.payPayee(from.ID, payee, "1000.01", ""); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "authenticator") {
				t.Fatalf("1,000.01: status %d, want 422 asking for an authenticator:\n%s", res.status, res.body)
			}
			paid := 0
			for i := range 6 {
				res := br.payPayee(from.ID, payee, "1000.00", "")
				if res.status == http.StatusSeeOther {
					paid++
					continue
				}
				if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "authenticator") {
					t.Fatalf("payment %d: status %d, want 303 or 422 asking for an authenticator:\n%s", i+1, res.status, res.body)
				}
			}
			if got := b.get(to.ID).Balance; paid != 1 || got != 1_000_00 {
				t.Errorf("%d of six payments of 1,000.00 went, Bob has %d; want one and 100000", paid, got)
			}
		})
	})

	t.Run("SixPaymentsWithAnAuthenticatorStopAtTheDailyLimit", func(t *testing.T) {
		t.Parallel()
		engines(t, func(t *testing.T, pg bool) {
			b, br, from, to, payee := limitsBank(t, pg, open, known)
			secret := enrol(t, b, br)
			b.clock.Add(11 * time.Minute) // past the step-up that enrolling was
			if res := br.payPayee(from.ID, payee, "1000.00", ""); res.status != http.StatusSeeOther {
				t.Fatalf("first 1,000.00: status %d, want 303 without a code:\n%s", res.status, res.body)
			}
			b.clock.Add(time.Minute)
			if res := br.payPayee(from.ID, payee, "1000.00", ""); res.status != http.StatusUnauthorized || !strings.Contains(res.body, `name="code"`) {
				t.Fatalf("second 1,000.00 without a code: status %d, want 401 with a code field:\n%s", res.status, res.body)
			}
			if res := br.payPayee(from.ID, payee, "1000.00", identity.TOTPCode(secret, b.clock.Now())); res.status != http.StatusSeeOther {
				t.Fatalf("second 1,000.00 with a code: status %d, want 303:\n%s", res.status, res.body)
			}
			for i := 3; i <= 5; i++ { // the step-up stays good for a few minutes
				if res := br.payPayee(from.ID, payee, "1000.00", ""); res.status != http.StatusSeeOther {
					t.Fatalf("payment %d: status %d, want 303:\n%s", i, res.status, res.body)
				}
			}
			res := br.payPayee(from.ID, payee, "1000.00", "")
			if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "daily limit of 5,000.00") {
				t.Fatalf("sixth: status %d, want 422 naming the daily limit:\n%s", res.status, res.body)
			}
			if got := b.get(to.ID).Balance; got != 5_000_00 {
				t.Errorf("Bob has %d, want 500000", got)
			}
		})
	})

	t.Run("NewPayeeCoolsOff", func(t *testing.T) {
		t.Parallel()
		engines(t, func(t *testing.T, pg bool) {
			b, br, from, to, payee := limitsBank(t, pg, limits.Policy{}, time.Time{}) // defaults; saved now
			if res := br.payPayee(from.ID, payee, "600.00", ""); res.status != http.StatusSeeOther {
				t.Fatalf("600.00 to a new payee: status %d, want 303:\n%s", res.status, res.body)
			}
			res := br.payPayee(from.ID, payee, "400.01", "")
			if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "This payee is new") {
				t.Fatalf("400.01 more: status %d, want 422 naming the new payee:\n%s", res.status, res.body)
			}
			if got := b.get(to.ID).Balance; got != 600_00 {
				t.Errorf("Bob has %d, want 60000", got)
			}
		})
	})

	t.Run("ADoubleSubmitIsOnePayment", func(t *testing.T) {
		t.Parallel()
		b, br, from, to, payee := limitsBank(t, false, open, known)
		rev := br.post("/transfer", url.Values{"csrf": {br.csrf("/transfer")}, "from": {fmt.Sprint(from.ID)},
			"to": {fmt.Sprintf("p:%d", payee.ID)}, "amount": {"1000.00"}})
		f := br.confirmForm(rev)
		first, again := br.post("/transfer/confirm", f), br.post("/transfer/confirm", f)
		if first.status != http.StatusSeeOther || again.status != http.StatusSeeOther || first.loc != again.loc {
			t.Fatalf("double submit: %d %q then %d %q, want the same receipt twice:\n%s", first.status, first.loc, again.status, again.loc, again.body)
		}
		if got := b.get(to.ID).Balance; got != 1_000_00 {
			t.Errorf("Bob has %d, want 100000", got)
		}
	})

	t.Run("AnotherChannelCrossesTheStepUpBeforeConfirm", func(t *testing.T) {
		t.Parallel()
		b, br, from, to, payee := limitsBank(t, false, open, known)
		rev := br.post("/transfer", url.Values{"csrf": {br.csrf("/transfer")}, "from": {fmt.Sprint(from.ID)},
			"to": {fmt.Sprintf("p:%d", payee.ID)}, "amount": {"600.00"}})
		f := br.confirmForm(rev)
		// Meanwhile 500.00 leaves through the partner API.
		if err := b.limits.Reserve(context.Background(), limits.Payment{Customer: b.get(from.ID).Customer, Payee: to.ID, Amount: 500_00,
			Currency: "USD", SteppedUp: true, Channel: "dataapi", Key: "pay:x"}); err != nil {
			t.Fatal(err)
		}
		res := br.post("/transfer/confirm", f)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "authenticator") {
			t.Fatalf("confirm: status %d, want 422 asking for an authenticator:\n%s", res.status, res.body)
		}
		if got := b.get(to.ID).Balance; got != 0 {
			t.Errorf("Bob has %d, want 0", got)
		}
	})

	t.Run("OwnAccountsAreNotLimited", func(t *testing.T) {
		t.Parallel()
		b, br, from, _, _ := limitsBank(t, false, open, known)
		savings := b.account(b.get(from.ID).Customer, "Savings", ledger.Savings, 0)
		for range 3 {
			rev := br.review(from.ID, savings.ID, "900.00")
			if res := br.post("/transfer/confirm", br.confirmForm(rev)); res.status != http.StatusSeeOther {
				t.Fatalf("to own savings: status %d:\n%s", res.status, res.body)
			}
		}
	})
}
