package dataapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/dataapi"
	"github.com/bankbridge/bankbridge/dataapi/dataapitest"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
)

// TestPaymentsToAnotherBank: a partner pays a payee at another bank over
// loopback HTTP, through the rails and railsim, with the consent's checks,
// the Idempotency-Key, the limits (the new payee's among them) and the
// confirmation of any payment, and follows it: scheduled, settled, returned
// with its reason, an instant payment refused; each change reaches the
// partner's subscription.
func TestPaymentsToAnotherBank(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			paymentsToAnotherBank(t, newBank(t, bankOptions{postgres: engine == "postgres"}))
		})
	}
}

func paymentsToAnotherBank(t *testing.T, b *bank) {
	ctx := context.Background()
	add := func(name, nick, number string) rails.Payee {
		t.Helper()
		p, err := b.rails.AddPayee(ctx, rails.Payee{Customer: b.ada.id.ID, Name: name, Nickname: nick, Routing: "231380104", Number: ledger.AccountNumber(number)})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	add("Sam Lee", "Sam", "123456789")
	add("Ann Short", "Ann", "1111111111")    // returned R01 by the other bank
	add("Carl Nobody", "Carl", "3333333333") // an instant payment is refused AC01
	tok, _ := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID}, allClusters())
	chk := b.accountID(tok, b.ada.checking.Name)
	b.call(b.budget, tok, "POST", P+"/notification-subscriptions", map[string]any{"callbackUrl": b.hooks.srv.URL + "/hook"}, nil)
	ext := map[string]string{}
	for _, p := range decode[dataapi.Payees](t, b.call(b.budget, tok, "GET", P+"/payees", nil, nil)).Payees {
		if p.Destination == "EXTERNAL" {
			ext[p.Nickname] = p.PayeeID
		}
	}
	if len(ext) != 3 {
		t.Fatalf("external payees listed: %v, want Sam, Ann and Carl", ext)
	}
	pay := func(key, to string, amt any, speed string) (dataapitest.Response, dataapi.Payment) {
		t.Helper()
		body := map[string]any{"fromAccountId": chk, "toPayeeId": to, "amount": amt}
		if speed != "" {
			body["speed"] = speed
		}
		res := b.call(b.budget, tok, "POST", P+"/payments", body, map[string]string{"Idempotency-Key": key})
		if res.Status >= 400 {
			return res, dataapi.Payment{}
		}
		return res, decode[dataapi.Payment](t, res)
	}
	get := func(id string) dataapi.Payment {
		t.Helper()
		res := b.call(b.budget, tok, "GET", P+"/payments/"+id, nil, nil)
		if res.Status != 200 {
			t.Fatalf("GET payment: %d %s", res.Status, res.Body)
		}
		return decode[dataapi.Payment](t, res)
	}
	cycle := func() {
		t.Helper()
		for range 2 { // a file leaves and settles; its returns come back
			if err := b.rails.Cycle(ctx, b.railsTr); err != nil {
				t.Fatal(err)
			}
		}
	}

	res, sam := pay("sam-1", ext["Sam"], 50, "")
	if res.Status != 201 || sam.Status != "POSTED" || sam.Rail == nil || sam.Rail.Network != "ACH" || sam.Rail.Status != "SCHEDULED" || sam.Rail.EffectiveDate == "" {
		t.Fatalf("50.00 to Sam: %d %s", res.Status, res.Body)
	}
	if a, _ := b.ledger.Store().Account(ctx, b.ada.checking.ID); a.Held != 50_00 {
		t.Errorf("held %d, want 50.00 while the payment waits", a.Held)
	}
	// The same key and body: the same payment, nothing more held.
	if res, again := pay("sam-1", ext["Sam"], 50, ""); res.Status != 200 || again.PaymentID != sam.PaymentID {
		t.Errorf("the same request again: %d %s", res.Status, res.Body)
	}
	// The same key, another speed: refused.
	if res, _ := pay("sam-1", ext["Sam"], 50, "INSTANT"); res.Status != 409 {
		t.Errorf("the same key at another speed: %d %s", res.Status, res.Body)
	}
	if a, _ := b.ledger.Store().Account(ctx, b.ada.checking.ID); a.Held != 50_00 {
		t.Errorf("held %d after the retries, want 50.00", a.Held)
	}
	// A speed for a payee at this bank is bad input.
	internal := ""
	for _, p := range decode[dataapi.Payees](t, b.call(b.budget, tok, "GET", P+"/payees", nil, nil)).Payees {
		if p.Destination == "INTERNAL" {
			internal = p.PayeeID
		}
	}
	if res, _ := pay("int-1", internal, 5, "INSTANT"); res.Status != 400 {
		t.Errorf("a speed for an internal payee: %d %s", res.Status, res.Body)
	}
	// New-payee cooling-off: 1,000.00 at most while Ann is new (50 to Sam
	// does not count against her).
	if res, _ := pay("ann-big", ext["Ann"], 1000.01, ""); res.Status != 422 || !strings.Contains(string(res.Body), "new_payee_limit_exceeded") {
		t.Errorf("above the new-payee limit: %d %s", res.Status, res.Body)
	}
	res, ann := pay("ann-1", ext["Ann"], 20, "")
	if res.Status != 201 || ann.Status != "POSTED" {
		t.Fatalf("20.00 to Ann: %d %s", res.Status, res.Body)
	}

	cycle()
	if got := get(sam.PaymentID); got.Rail == nil || got.Rail.Status != "SETTLED" {
		t.Errorf("Sam's payment after the file settled: %+v", got.Rail)
	}
	got := get(ann.PaymentID)
	if got.Status != "POSTED" || got.Rail == nil || got.Rail.Status != "RETURNED" || got.Rail.ReturnCode != "R01" || !strings.Contains(got.Rail.Reason, "enough money") {
		t.Errorf("Ann's payment after the return: %s %+v", got.Status, got.Rail)
	}
	if a, _ := b.ledger.Store().Account(ctx, b.ada.checking.ID); a.Balance != 5_000_00-50_00 || a.Held != 0 {
		t.Errorf("balance %d held %d: want 4,950.00 (Ann's 20.00 back), nothing held", a.Balance, a.Held)
	}

	// An instant payment the other bank refuses: FAILED at once, nothing left.
	res, carl := pay("carl-1", ext["Carl"], 10, "INSTANT")
	if res.Status != 201 || carl.Status != "FAILED" || carl.FailureReason != "payment_refused" || carl.Rail == nil || carl.Rail.Network != "INSTANT" ||
		carl.Rail.Status != "REFUSED" || carl.Rail.ReturnCode != "AC01" {
		t.Errorf("an instant payment refused: %d %s", res.Status, res.Body)
	}
	// An instant payment that settles.
	if res, p := pay("sam-2", ext["Sam"], 10, "INSTANT"); res.Status != 201 || p.Status != "POSTED" || p.Rail == nil || p.Rail.Status != "SETTLED" {
		t.Errorf("an instant payment: %d %s", res.Status, res.Body)
	}
	// Past a day's payments' step-up total (1,000.00): the customer confirms
	// on the bank's page, and then it leaves over the rails.
	b.clock.Add(25 * time.Hour) // Sam is not new any more; the token ended
	tok, _ = b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID}, allClusters())
	chk = b.accountID(tok, b.ada.checking.Name)
	for _, p := range decode[dataapi.Payees](t, b.call(b.budget, tok, "GET", P+"/payees", nil, nil)).Payees {
		ext[p.Nickname] = p.PayeeID
	}
	res, big := pay("sam-3", ext["Sam"], 1200, "")
	if res.Status != 201 || big.Status != "PENDING" || big.ConfirmationURL == "" || big.Rail != nil {
		t.Fatalf("1,200.00 to Sam: %d %s; want PENDING with a confirmationUrl", res.Status, res.Body)
	}
	if p, err := b.api.ConfirmPayment(ctx, b.ada.id.ID, big.PaymentID, true); err != nil || p.Status != "POSTED" {
		t.Fatalf("confirm: %+v %v", p, err)
	}
	if got := get(big.PaymentID); got.Rail == nil || got.Rail.Status != "SCHEDULED" {
		t.Errorf("after the confirmation: %+v", got.Rail)
	}

	// The partner heard each change: the rail's among them.
	if _, err := b.api.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, d := range b.hooks.deliveries() {
		for _, want := range []string{`"railStatus":"SETTLED"`, `"railStatus":"RETURNED"`, `"returnCode":"R01"`} {
			if strings.Contains(string(d.body), want) {
				seen = append(seen, want)
			}
		}
	}
	for _, want := range []string{`"railStatus":"SETTLED"`, `"railStatus":"RETURNED"`, `"returnCode":"R01"`} {
		if !strings.Contains(strings.Join(seen, " "), want) {
			t.Errorf("no notification with %s; got %d deliveries", want, len(b.hooks.deliveries()))
		}
	}

	// Every change told again (as the rails' worker retells a change
	// whose instance died before telling it): the partner hears each
	// change once.
	rps, err := b.rails.Store().Payments(ctx, rails.PaymentQuery{Customer: b.ada.id.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, rp := range rps {
		b.api.RailChanged(ctx, rp)
	}
	if _, err := b.api.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	once := map[string]int{}
	for _, d := range b.hooks.deliveries() {
		var e dataapi.Event
		if err := json.Unmarshal(d.body, &e); err != nil || e.Data["railStatus"] == nil {
			continue
		}
		once[fmt.Sprint(e.Data["paymentId"], " ", e.Data["railStatus"])]++
	}
	for change, n := range once {
		if n != 1 {
			t.Errorf("the partner heard %q %d times", change, n)
		}
	}
	if len(once) < 3 {
		t.Errorf("%d rail changes heard, want at least 3", len(once))
	}
}

// TestCollectionsFromAnotherBank: a partner starts a collection (money in
// from the customer's own account at another bank): refused at once for a
// payee the bank has not verified, an instant speed, or a body naming an
// account to pay from; otherwise always PENDING until the customer
// authorises it on the bank's page (ConfirmPayment without the
// authorisation books nothing), then an ACH debit that settles into the
// account, and the partner follows its rail. Both engines.
func TestCollectionsFromAnotherBank(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			b := newBank(t, bankOptions{postgres: engine == "postgres"})
			ctx := context.Background()
			add := func(nick, number string) rails.Payee {
				t.Helper()
				p, err := b.rails.AddPayee(ctx, rails.Payee{Customer: b.ada.id.ID, Name: "Ada Lovelace", Nickname: nick, Routing: "231380104", Number: ledger.AccountNumber(number)})
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			own := add("Ada savings", "123456789")
			add("Ada unverified", "223456789")
			if err := b.rails.Store().UpdatePayee(ctx, own.ID, rails.PayeeVerified, "", "", "", ""); err != nil {
				t.Fatal(err)
			}
			tok, _ := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID}, allClusters())
			chk := b.accountID(tok, b.ada.checking.Name)
			ext := map[string]string{}
			for _, p := range decode[dataapi.Payees](t, b.call(b.budget, tok, "GET", P+"/payees", nil, nil)).Payees {
				ext[p.Nickname] = p.PayeeID
			}
			collect := func(key string, body map[string]any) (dataapitest.Response, dataapi.Payment) {
				t.Helper()
				res := b.call(b.budget, tok, "POST", P+"/payments", body, map[string]string{"Idempotency-Key": key})
				if res.Status >= 400 {
					return res, dataapi.Payment{}
				}
				return res, decode[dataapi.Payment](t, res)
			}
			for _, bad := range []struct {
				name   string
				body   map[string]any
				status int
				code   string
			}{
				{"unverified", map[string]any{"fromPayeeId": ext["Ada unverified"], "toAccountId": chk, "amount": 20}, 422, "payee_not_verified"},
				{"instant", map[string]any{"fromPayeeId": ext["Ada savings"], "toAccountId": chk, "amount": 20, "speed": "INSTANT"}, 400, "body_invalid"},
				{"also from an account", map[string]any{"fromPayeeId": ext["Ada savings"], "fromAccountId": chk, "toAccountId": chk, "amount": 20}, 400, "body_invalid"},
				{"no account", map[string]any{"fromPayeeId": ext["Ada savings"], "amount": 20}, 400, "body_invalid"},
				{"unknown payee", map[string]any{"fromPayeeId": "nope", "toAccountId": chk, "amount": 20}, 404, "not_found"},
				{"over the new payee limit", map[string]any{"fromPayeeId": ext["Ada savings"], "toAccountId": chk, "amount": 1000.01}, 422, "new_payee_limit_exceeded"},
			} {
				if res, _ := collect("bad-"+strings.ReplaceAll(bad.name, " ", "-"), bad.body); res.Status != bad.status || !strings.Contains(string(res.Body), bad.code) {
					t.Errorf("%s: %d %s; want %d %s", bad.name, res.Status, res.Body, bad.status, bad.code)
				}
			}
			res, c := collect("col-1", map[string]any{"fromPayeeId": ext["Ada savings"], "toAccountId": chk, "amount": 75})
			if res.Status != 201 || c.Status != "PENDING" || c.ConfirmationURL == "" || c.FromPayeeID != ext["Ada savings"] || c.ToAccountID != chk || c.FromAccountID != "" {
				t.Fatalf("a collection: %d %s; want PENDING with a confirmationUrl", res.Status, res.Body)
			}
			if p, err := b.api.ConfirmPayment(ctx, b.ada.id.ID, c.PaymentID, true); !errors.Is(err, rails.ErrNoAuthority) || p.Status != "PENDING" {
				t.Fatalf("confirmed without the authorisation: %+v, %v", p, err)
			}
			if ps, _ := b.rails.Store().Payments(ctx, rails.PaymentQuery{Customer: b.ada.id.ID}); len(ps) != 0 {
				t.Fatalf("a debit recorded before the authorisation: %+v", ps)
			}
			auth := rails.Authorized(rails.SECWEB, "web", b.clock.Now(), "en", "I authorise Test Bank to debit 75.00 USD")
			if p, err := b.api.ConfirmCollection(ctx, b.ada.id.ID, c.PaymentID, auth, false); err != nil || p.Status != "POSTED" {
				t.Fatalf("authorised: %+v, %v", p, err)
			}
			ps, err := b.rails.Store().Payments(ctx, rails.PaymentQuery{Customer: b.ada.id.ID, Kinds: []rails.Kind{rails.KindDebit}})
			if err != nil || len(ps) != 1 || ps[0].Authorization != auth || ps[0].SEC != rails.SECWEB || ps[0].From != b.ada.checking.ID || ps[0].Amount != 75_00 {
				t.Fatalf("the debit: %+v, %v", ps, err)
			}
			get := func() dataapi.Payment {
				t.Helper()
				return decode[dataapi.Payment](t, b.call(b.budget, tok, "GET", P+"/payments/"+c.PaymentID, nil, nil))
			}
			if got := get(); got.Rail == nil || got.Rail.Status != "SCHEDULED" || !strings.HasPrefix(got.Rail.Description, "Scheduled: we ask the other bank") {
				t.Fatalf("after the authorisation: %+v", got.Rail)
			}
			before, _ := b.ledger.Store().Account(ctx, b.ada.checking.ID)
			if err := b.rails.Cycle(ctx, b.railsTr); err != nil {
				t.Fatal(err)
			}
			if got := get(); got.Rail == nil || got.Rail.Status != "SETTLED" || !strings.HasPrefix(got.Rail.Description, "Arrived") {
				t.Fatalf("after the file settled: %+v", got.Rail)
			}
			if a, _ := b.ledger.Store().Account(ctx, b.ada.checking.ID); a.Balance != before.Balance+75_00 {
				t.Fatalf("balance %d, want %d", a.Balance, before.Balance+75_00)
			}
		})
	}
}
