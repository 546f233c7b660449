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
	"github.com/bankbridge/bankbridge/ledger"
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
