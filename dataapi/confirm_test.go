package dataapi_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/bankbridge/bankbridge/dataapi"
	"github.com/bankbridge/bankbridge/dataapi/records"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/rails"
)

// TestConfirmationRechecksTheStepUp: two collections of 600.00, each below
// the step-up amount alone, wait for the customer's authorisation, and
// the page asked no code for either. Confirmed at once without a code on
// two instances, one is booked and the other is refused with
// step_up_required and still waits (the day's 1,200.00 needs a code), as
// the limits decide it under the customer's lock when booking, not when the
// page was shown; with the code it is booked. Both engines.
func TestConfirmationRechecksTheStepUp(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			// A new payee may take up to the per-payee limit, so that only
			// the step-up stands between the two collections.
			pol := limits.DefaultPolicy
			pol.NewPayee = pol.PerPayee
			b := newBank(t, bankOptions{postgres: engine == "postgres", limits: pol})
			ctx := context.Background()
			own, err := b.rails.AddPayee(ctx, rails.Payee{Customer: b.ada.id.ID, Name: "Ada Lovelace", Nickname: "Ada savings", Routing: "231380104", Number: "123456789"})
			if err != nil {
				t.Fatal(err)
			}
			if err := b.rails.Store().UpdatePayee(ctx, own.ID, rails.PayeeVerified, "", "", "", ""); err != nil {
				t.Fatal(err)
			}
			tok, _ := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID}, allClusters())
			chk := b.accountID(tok, b.ada.checking.Name)
			from := ""
			for _, p := range decode[dataapi.Payees](t, b.call(b.budget, tok, "GET", P+"/payees", nil, nil)).Payees {
				if p.Nickname == "Ada savings" {
					from = p.PayeeID
				}
			}
			var ids [2]string
			for i := range ids {
				res := b.call(b.budget, tok, "POST", P+"/payments", map[string]any{"fromPayeeId": from, "toAccountId": chk, "amount": 600},
					map[string]string{"Idempotency-Key": fmt.Sprint("col-", i)})
				c := decode[dataapi.Payment](t, res)
				if res.Status != 201 || c.Status != "PENDING" || c.ConfirmationURL == "" {
					t.Fatalf("collection %d: %d %s; want PENDING with a confirmationUrl", i, res.Status, res.Body)
				}
				ids[i] = c.PaymentID
			}
			auth := rails.Authorized(rails.SECWEB, "web", b.clock.Now(), "en", "I authorise Test Bank to debit 600.00 USD")
			var (
				wg   sync.WaitGroup
				got  [2]records.Payment
				errs [2]error
			)
			for i, api := range []*dataapi.Server{b.api, b.api2} {
				wg.Go(func() { got[i], errs[i] = api.ConfirmCollection(ctx, b.ada.id.ID, ids[i], auth, false) })
			}
			wg.Wait()
			posted, refused := -1, -1
			for i := range got {
				switch {
				case errs[i] == nil && got[i].Status == records.PaymentPosted:
					posted = i
				case errors.Is(errs[i], limits.ErrStepUp) && got[i].Status == records.PaymentPending:
					refused = i
				}
			}
			if posted < 0 || refused < 0 {
				t.Fatalf("confirmed together without a code: %s %v / %s %v; want one POSTED and one step_up_required, still PENDING",
					got[0].Status, errs[0], got[1].Status, errs[1])
			}
			if p, _, err := b.api.PaymentForCustomer(ctx, b.ada.id.ID, ids[refused]); err != nil || p.Status != records.PaymentPending || !p.NeedsConfirmation {
				t.Fatalf("the refused one: %+v %v; want it still waiting", p, err)
			}
			ps, err := b.rails.Store().Payments(ctx, rails.PaymentQuery{Customer: b.ada.id.ID, Kinds: []rails.Kind{rails.KindDebit}})
			if err != nil || len(ps) != 1 {
				t.Fatalf("debits after the race: %d %v; want 1", len(ps), err)
			}
			if p, err := b.api2.ConfirmCollection(ctx, b.ada.id.ID, ids[refused], auth, true); err != nil || p.Status != records.PaymentPosted {
				t.Fatalf("confirmed with the code: %+v %v", p, err)
			}
		})
	}
}
