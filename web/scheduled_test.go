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

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/scheduled"
)

var orderRowRe = regexp.MustCompile(`data-order="(\d+)"`)

func (br *browser) schedule(form url.Values) page {
	br.b.t.Helper()
	form.Set("csrf", br.csrf("/scheduled"))
	return br.post("/scheduled", form)
}

func TestScheduledPayments(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, pg bool) {
		b := newBank(t, bankOptions{postgres: pg})
		ctx := context.Background()
		ada := b.customer("Ada Lovelace", "ada@example.com")
		b.customer("Eve Other", "eve@example.com")
		checking := b.account(ada.ID, "Everyday", ledger.Checking, 100_00)
		savings := b.account(ada.ID, "Rainy day", ledger.Savings, 0)
		br := b.browser()
		br.login("", "ada@example.com")
		today := b.clock.Now().Format(time.DateOnly)

		// Bad input: a date in the past, a regular payment without an end.
		res := br.schedule(url.Values{"from": {fmt.Sprint(checking.ID)}, "to": {fmt.Sprintf("a:%d", savings.ID)}, "amount": {"10"},
			"every": {"once"}, "start": {"2026-03-01"}})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "Choose a date from today on") {
			t.Fatalf("a date in the past: %d\n%s", res.status, res.body)
		}
		res = br.schedule(url.Values{"from": {fmt.Sprint(checking.ID)}, "to": {fmt.Sprintf("a:%d", savings.ID)}, "amount": {"10"},
			"every": {"weekly"}, "start": {today}})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "when the payments end") {
			t.Fatalf("no end: %d\n%s", res.status, res.body)
		}

		// 10.00 weekly for three weeks, from today; and 500.00 once, which
		// would overdraw.
		if res := br.schedule(url.Values{"from": {fmt.Sprint(checking.ID)}, "to": {fmt.Sprintf("a:%d", savings.ID)}, "amount": {"10"},
			"every": {"weekly"}, "start": {today}, "count": {"3"}, "memo": {"pocket money"}}); res.status != http.StatusSeeOther {
			t.Fatalf("schedule: %d\n%s", res.status, res.body)
		}
		if res := br.schedule(url.Values{"from": {fmt.Sprint(checking.ID)}, "to": {fmt.Sprintf("a:%d", savings.ID)}, "amount": {"500"},
			"every": {"once"}, "start": {today}}); res.status != http.StatusSeeOther {
			t.Fatalf("schedule: %d\n%s", res.status, res.body)
		}
		list := br.get("/scheduled?done=created")
		if !strings.Contains(list.body, "Payment scheduled") || !strings.Contains(list.body, "Every week, 3 payments") || !strings.Contains(list.body, "pocket money") {
			t.Fatalf("the list:\n%s", list.body)
		}
		ids := orderRowRe.FindAllStringSubmatch(list.body, -1)
		if len(ids) != 2 {
			t.Fatalf("%d orders listed, want 2", len(ids))
		}

		// The worker runs (09:30, after 06:00): the weekly one is paid, the
		// large one is not, and the page says why in plain words.
		if _, err := b.sched.Cycle(ctx); err != nil {
			t.Fatal(err)
		}
		if got := b.get(savings.ID).Available(); got != 10_00 {
			t.Fatalf("savings hold %d, want 1000", got)
		}
		list = br.get("/scheduled")
		if !strings.Contains(list.body, "not made, there was not enough money") || !strings.Contains(list.body, "Finished") {
			t.Fatalf("the refused payment is not explained:\n%s", list.body)
		}

		// Eve cannot skip or cancel Ada's order.
		weekly := ids[0][1]
		eve := b.browser()
		eve.login("", "eve@example.com")
		if res := eve.post("/scheduled/"+weekly+"/cancel", url.Values{"csrf": {eve.csrf("/scheduled")}}); res.status != http.StatusNotFound {
			t.Fatalf("Eve cancelling Ada's order: %d", res.status)
		}

		// Skip the next (week 2), then a week on the worker pays nothing;
		// cancel, and week 3 is not paid either.
		csrf := br.csrf("/scheduled")
		if res := br.post("/scheduled/"+weekly+"/skip", url.Values{"csrf": {csrf}}); res.status != http.StatusSeeOther {
			t.Fatalf("skip: %d\n%s", res.status, res.body)
		}
		b.clock.Add(7 * 24 * time.Hour)
		if _, err := b.sched.Cycle(ctx); err != nil {
			t.Fatal(err)
		}
		if got := b.get(savings.ID).Available(); got != 10_00 {
			t.Fatalf("after a skip savings hold %d, want 1000", got)
		}
		br.login("", "ada@example.com") // a week on, the session has ended
		csrf = br.csrf("/scheduled")
		if res := br.post("/scheduled/"+weekly+"/cancel", url.Values{"csrf": {csrf}}); res.status != http.StatusSeeOther {
			t.Fatalf("cancel: %d\n%s", res.status, res.body)
		}
		if res := br.post("/scheduled/"+weekly+"/cancel", url.Values{"csrf": {csrf}}); res.status != http.StatusConflict {
			t.Fatalf("cancel twice: %d %s\n%s", res.status, res.loc, res.body)
		}
		b.clock.Add(7 * 24 * time.Hour)
		if _, err := b.sched.Cycle(ctx); err != nil {
			t.Fatal(err)
		}
		br.login("", "ada@example.com")
		if got := b.get(savings.ID).Available(); got != 10_00 {
			t.Fatalf("after cancelling savings hold %d, want 1000", got)
		}
		if body := br.get("/scheduled").body; !strings.Contains(body, "Cancelled") || !strings.Contains(body, "skipped") {
			t.Fatalf("the list after skip and cancel:\n%s", body)
		}
	})
}

// TestScheduledRefusalIsAnAlert: a scheduled payment that would overdraw is
// not made, and the customer finds why, in plain words, in Alerts, once
// however many times the worker passes.
func TestScheduledRefusalIsAnAlert(t *testing.T) {
	t.Parallel()
	ab := newAlertsBank(t)
	ctx := context.Background()
	svc := scheduled.New(ab.db.Scheduled(), ab.ledger, scheduled.Options{Teller: teller{ab.svc}, Limits: ab.limits, Now: ab.clock.Now})
	checking := ab.checking(ab.ada.ID)
	savings := ab.account(ab.ada.ID, "Savings", ledger.Savings, 0)
	if _, err := svc.Create(ctx, scheduled.Order{Customer: ab.ada.ID, From: checking.ID, To: savings.ID, Label: "Savings",
		Amount: 5_000_00, Currency: "USD", Every: scheduled.Once, Start: ab.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := svc.Cycle(ctx); err != nil {
			t.Fatal(err)
		}
	}
	as, _, err := ab.svc.Notifications(ctx, ab.ada.ID, 50)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range as {
		if a.Rule == alerts.Scheduled {
			n++
			if !strings.Contains(a.Body, "5,000.00 USD") || !strings.Contains(a.Body, "not enough money") {
				t.Errorf("the alert says %q", a.Body)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d scheduled-payment alerts, want 1", n)
	}
	if got := ab.get(savings.ID).Available(); got != 0 {
		t.Fatalf("a refused payment moved %d", got)
	}
}

// teller tells scheduled payments' notices through the alerts service, as
// internal/app wires it.
type teller struct{ al *alerts.Service }

func (t teller) Tell(ctx context.Context, c bankbridge.CustomerID, key string, n scheduled.Notice) error {
	return t.al.Tell(ctx, c, key, alerts.Notice(n))
}

var versionRe = regexp.MustCompile(`name="version" value="(\d+)"`)

// TestScheduledEditAndStepUp: an order to a payee above the step-up amount
// asks for the authenticator's code when it is set up, and is then paid on
// its date (it was refused before); an edit made on a version the worker
// moved on changes nothing and says so; a fresh edit lands, with its
// history; another customer gets 404. Both engines.
func TestScheduledEditAndStepUp(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, pg bool) {
		ctx := context.Background()
		known := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		b, br, from, to, payee := limitsBank(t, pg, limits.Policy{Daily: 5_000_00, PerPayee: 5_000_00, NewPayee: 5_000_00, StepUp: 1_000_00}, known)
		today := b.clock.Now().Format(time.DateOnly)
		big := url.Values{"from": {fmt.Sprint(from.ID)}, "to": {fmt.Sprintf("p:%d", payee.ID)}, "amount": {"1500"}, "every": {"once"}, "start": {today}}
		if res := br.schedule(big); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "authenticator app") {
			t.Fatalf("without an authenticator: %d\n%s", res.status, res.body)
		}
		secret := enrol(t, b, br)
		b.clock.Add(11 * time.Minute)
		if res := br.schedule(big); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `id="code-error"`) {
			t.Fatalf("no code: %d\n%s", res.status, res.body)
		}
		big.Set("code", "000000")
		if identity.TOTPCode(secret, b.clock.Now()) != "000000" {
			if res := br.schedule(big); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "did not match") {
				t.Fatalf("a wrong code: %d\n%s", res.status, res.body)
			}
		}
		big.Set("code", identity.TOTPCode(secret, b.clock.Now()))
		if res := br.schedule(big); res.status != http.StatusSeeOther {
			t.Fatalf("with the code: %d\n%s", res.status, res.body)
		}
		if list := br.get("/scheduled"); !strings.Contains(list.body, "Authorised with your code up to 1,500.00 USD") {
			t.Fatalf("the list does not say it is authorised:\n%s", list.body)
		}
		b.clock.Add(20 * time.Minute) // the session's step-up is long gone; the order's stands
		if _, err := b.sched.Cycle(ctx); err != nil {
			t.Fatal(err)
		}
		if got := b.get(to.ID).Available(); got != 1_500_00 {
			t.Fatalf("Bob holds %d, want 150000: the authorised order was not paid", got)
		}

		// An edit racing the worker.
		savings := b.account(payee.Customer, "Rainy day", ledger.Savings, 0)
		if res := br.schedule(url.Values{"from": {fmt.Sprint(from.ID)}, "to": {fmt.Sprintf("a:%d", savings.ID)}, "amount": {"10"},
			"every": {"weekly"}, "start": {b.clock.Now().Format(time.DateOnly)}, "count": {"4"}}); res.status != http.StatusSeeOther {
			t.Fatalf("schedule weekly: %d\n%s", res.status, res.body)
		}
		ids := orderRowRe.FindAllStringSubmatch(br.get("/scheduled").body, -1)
		weekly := ids[0][1]
		edit := br.get("/scheduled/" + weekly + "/edit")
		m := versionRe.FindStringSubmatch(edit.body)
		if edit.status != http.StatusOK || m == nil {
			t.Fatalf("edit page: %d\n%s", edit.status, edit.body)
		}
		if _, err := b.sched.Cycle(ctx); err != nil { // pays week 1 meanwhile
			t.Fatal(err)
		}
		next := b.clock.Now().AddDate(0, 0, 10).Format(time.DateOnly)
		form := url.Values{"csrf": {br.csrf("/scheduled")}, "version": {m[1]}, "amount": {"25"}, "next": {next}, "count": {"4"}}
		res := br.post("/scheduled/"+weekly+"/edit", form)
		if res.status != http.StatusConflict || !strings.Contains(res.body, "changed while you were editing") {
			t.Fatalf("a stale edit: %d\n%s", res.status, res.body)
		}
		m = versionRe.FindStringSubmatch(res.body)
		form.Set("version", m[1])
		if res := br.post("/scheduled/"+weekly+"/edit", form); res.status != http.StatusSeeOther {
			t.Fatalf("edit: %d\n%s", res.status, res.body)
		}
		edit = br.get("/scheduled/" + weekly + "/edit")
		if !strings.Contains(edit.body, "amount 10.00 USD -&gt; 25.00 USD") || !strings.Contains(edit.body, `value="`+next+`"`) {
			t.Fatalf("the edit page after the change:\n%s", edit.body)
		}
		// In Spanish, the history reads in Spanish.
		br.get("/language?lang=es&next=/accounts")
		if edit := br.get("/scheduled/" + weekly + "/edit"); !strings.Contains(edit.body, "importe 10.00 USD -&gt; 25.00 USD; próxima fecha") ||
			strings.Contains(edit.body, "next date") {
			t.Fatalf("the history is not in Spanish:\n%s", edit.body)
		}
		br.get("/language?lang=en&next=/accounts")
		eve := b.browser()
		b.customer("Eve Other", "eve@example.com")
		eve.login("", "eve@example.com")
		if res := eve.get("/scheduled/" + weekly + "/edit"); res.status != http.StatusNotFound {
			t.Fatalf("Eve opening Ada's order: %d", res.status)
		}
		b.clock.Add(10*24*time.Hour + time.Hour)
		if _, err := b.sched.Cycle(ctx); err != nil {
			t.Fatal(err)
		}
		if got := b.get(savings.ID).Available(); got != 35_00 {
			t.Fatalf("savings hold %d, want 3500 (10.00, then 25.00 on the moved date)", got)
		}
	})
}

// TestScheduledInTheBanksTimeZone: at 17:30 in Los Angeles on 14 March
// (00:30 UTC on the 15th) "today" is the 14th, times read in Pacific time,
// and a payment the bank wrote reads in Spanish for a Spanish customer.
func TestScheduledInTheBanksTimeZone(t *testing.T) {
	t.Parallel()
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Skip(err)
	}
	b := newBank(t, bankOptions{loc: la})
	ada := b.customer("Ada Lovelace", "ada@example.com")
	checking := b.account(ada.ID, "Everyday", ledger.Checking, 100_00)
	savings := b.account(ada.ID, "Rainy day", ledger.Savings, 0)
	b.clock.Add(15 * time.Hour) // 2026-03-15 00:30 UTC
	br := b.browser()
	br.login("", "ada@example.com")
	page := br.get("/scheduled")
	if !strings.Contains(page.body, `min="2026-03-14"`) || !strings.Contains(page.body, "America/Los_Angeles") {
		t.Fatalf("today in Los Angeles is not the 14th:\n%s", page.body)
	}
	if res := br.schedule(url.Values{"from": {fmt.Sprint(checking.ID)}, "to": {fmt.Sprintf("a:%d", savings.ID)}, "amount": {"10"},
		"every": {"once"}, "start": {"2026-03-14"}, "memo": {"tarro"}}); res.status != http.StatusSeeOther {
		t.Fatalf("a payment for today in Los Angeles: %d\n%s", res.status, res.body)
	}
	if _, err := b.sched.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := b.get(savings.ID).Available(); got != 10_00 {
		t.Fatalf("savings hold %d, want 1000", got)
	}
	br.get("/language?lang=es&next=/accounts")
	acct := br.get(fmt.Sprintf("/accounts/%d", checking.ID))
	if !strings.Contains(acct.body, "Pago programado a Rainy day: tarro") || strings.Contains(acct.body, "Scheduled payment to") {
		t.Fatalf("the description is not in Spanish:\n%s", acct.body)
	}
	if !strings.Contains(acct.body, "14 mar 2026") {
		t.Fatalf("the payment is not dated 14 March, Pacific time:\n%s", acct.body)
	}
}

// TestCustomerTimeZone: a customer chooses their time zone on the security
// page; their pages then date what happened in it, while the bank's
// calendar ("today" for scheduled payments) stays the bank's. A name that
// is not a time zone is refused in plain words and changes nothing; an
// empty one brings the bank's back.
func TestCustomerTimeZone(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, pg bool) {
		b := newBank(t, bankOptions{postgres: pg}) // the bank's zone: UTC
		ada := b.customer("Ada Lovelace", "ada@example.com")
		checking := b.account(ada.ID, "Everyday", ledger.Checking, 100_00)
		b.clock.Add(15 * time.Hour) // 2026-03-15 00:30 UTC: 14 March, 17:30 in Los Angeles
		b.move(checking.ID, b.funding, 2_00, "Late coffee")
		br := b.browser()
		br.login("", "ada@example.com")
		history := fmt.Sprintf("/accounts/%d", checking.ID)
		if p := br.get(history); !strings.Contains(p.body, "15 Mar 2026") {
			t.Fatalf("in the bank's zone the coffee is not dated the 15th:\n%s", p.body)
		}
		sec := br.get("/security")
		if !strings.Contains(sec.body, `action="/security/time-zone"`) || !strings.Contains(sec.body, "the bank&#39;s time zone, UTC") {
			t.Fatalf("the security page offers no time zone:\n%s", sec.body)
		}
		for _, bad := range []string{"Mars/Olympus", "Local", "../../etc/passwd"} {
			res := br.post("/security/time-zone", url.Values{"csrf": {br.csrf("/security")}, "zone": {bad}})
			if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "not a time zone we know") || !strings.Contains(res.body, `aria-invalid="true"`) {
				t.Fatalf("zone %q: %d\n%s", bad, res.status, res.body)
			}
		}
		if p := br.get(history); !strings.Contains(p.body, "15 Mar 2026") {
			t.Fatal("a refused zone changed the dates")
		}
		res := br.post("/security/time-zone", url.Values{"csrf": {br.csrf("/security")}, "zone": {" America/Los_Angeles "}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("save the zone: %d\n%s", res.status, res.body)
		}
		if z, _ := b.langs.(assistant.TimeZones).TimeZone(context.Background(), ada.ID); z != "America/Los_Angeles" {
			t.Fatalf("stored zone %q", z)
		}
		if p := br.get("/security?done=zone"); !strings.Contains(p.body, "Your time zone is saved.") || !strings.Contains(p.body, "show in America/Los_Angeles") {
			t.Fatalf("after saving:\n%s", p.body)
		}
		p := br.get(history)
		if !strings.Contains(p.body, "14 Mar 2026") || strings.Contains(p.body, "15 Mar 2026") {
			t.Fatalf("in Los Angeles the coffee is not dated the 14th:\n%s", p.body)
		}
		if s := br.get("/scheduled"); !strings.Contains(s.body, `min="2026-03-15"`) {
			t.Fatalf("the scheduler's today moved with the customer's zone:\n%s", s.body)
		}
		br.get("/language?lang=es&next=/accounts")
		if p := br.get(history); !strings.Contains(p.body, "14 mar 2026") {
			t.Fatalf("in Spanish, in Los Angeles:\n%s", p.body)
		}
		// Another customer keeps the bank's zone.
		bob := b.customer("Bob Builder", "bob@example.com")
		bobAcct := b.account(bob.ID, "Bob's", ledger.Checking, 100_00)
		b.move(bobAcct.ID, b.funding, 1_00, "Bob's coffee")
		bb := b.browser()
		bb.login("", "bob@example.com")
		if p := bb.get(fmt.Sprintf("/accounts/%d", bobAcct.ID)); !strings.Contains(p.body, "15 Mar 2026") {
			t.Fatalf("Bob's page follows Ada's zone:\n%s", p.body)
		}
		if res := br.post("/security/time-zone", url.Values{"csrf": {br.csrf("/security")}, "zone": {""}}); res.status != http.StatusSeeOther {
			t.Fatalf("forget the zone: %d", res.status)
		}
		if p := br.get(history); !strings.Contains(p.body, "15 mar 2026") {
			t.Fatalf("the bank's zone is not back:\n%s", p.body)
		}
	})
}
