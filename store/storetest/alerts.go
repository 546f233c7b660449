package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/google/go-cmp/cmp"
)

// AlertsOpener opens a fresh, empty alerts store for one test.
type AlertsOpener func(t testing.TB) alerts.Store

// Alerts runs the alerts store conformance suite.
func Alerts(t *testing.T, open AlertsOpener) {
	t.Run("CommitSkipsExistingAndMovesCursorForward", func(t *testing.T) { t.Parallel(); testAlertCommit(t, open(t)) })
	t.Run("ClaimLeasesRetriesAndDeadLetters", func(t *testing.T) { t.Parallel(); testAlertClaim(t, open(t)) })
	t.Run("ClaimTakesOwnChannelsFirst", func(t *testing.T) { t.Parallel(); testAlertClaimOwn(t, open(t)) })
	t.Run("AnswerOnceAndCases", func(t *testing.T) { t.Parallel(); testAlertAnswer(t, open(t)) })
	t.Run("SettingsProfilesTrust", func(t *testing.T) { t.Parallel(); testAlertSettings(t, open(t)) })
	t.Run("NotificationPagesFilterAndStayPut", func(t *testing.T) { t.Parallel(); testAlertPages(t, open(t)) })
	t.Run("CaseQueueAssignNotes", func(t *testing.T) { t.Parallel(); testCaseQueue(t, open(t)) })
}

var at0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func mkAlert(seq ledger.EventSeq, r alerts.Rule, c bankbridge.CustomerID, ask bool) alerts.Alert {
	return alerts.Alert{ID: alerts.NewAlertID(seq, r, c), Seq: seq, Customer: c, Rule: r, Transfer: ledger.TransferID(seq), Account: 7,
		Merchant: 3, Amount: 1234, Currency: "USD", Title: string(r), Body: "body " + string(r), Ask: ask, Created: at0.Add(time.Duration(seq) * time.Second)}
}

func mkDelivery(a alerts.Alert, ch string) alerts.Delivery {
	return alerts.Delivery{ID: alerts.DeliveryID(a.ID, ch), Alert: a.ID, Customer: a.Customer, Channel: ch, Rule: a.Rule, Full: true,
		Title: a.Title, Body: a.Body, Ask: a.Ask, Status: alerts.Pending, NextAt: a.Created, Created: a.Created}
}

func testAlertCommit(t *testing.T, st alerts.Store) {
	ctx := context.Background()
	if c, err := st.Cursor(ctx, "alerts"); err != nil || c != 0 {
		t.Fatalf("fresh cursor = %d, %v", c, err)
	}
	a1, a2 := mkAlert(1, alerts.CardPurchase, 5, false), mkAlert(2, alerts.Deposit, 5, false)
	b := alerts.Batch{Alerts: []alerts.Alert{a1, a2}, Deliveries: []alerts.Delivery{mkDelivery(a1, "fake"), mkDelivery(a2, "fake")}}
	noErr(t, st.Commit(ctx, "alerts", 2, b, at0))
	// The same batch again, with changed text: nothing is replaced.
	changed := b
	changed.Alerts = []alerts.Alert{a1, a2}
	changed.Alerts[0].Body = "another body"
	noErr(t, st.Commit(ctx, "alerts", 1, changed, at0))
	if c, err := st.Cursor(ctx, "alerts"); err != nil || c != 2 {
		t.Errorf("cursor = %d, %v; want 2 (never backwards)", c, err)
	}
	noErr(t, st.Commit(ctx, "alerts", 0, alerts.Batch{}, at0))
	if c, _ := st.Cursor(ctx, "alerts"); c != 2 {
		t.Errorf("cursor moved by upto 0: %d", c)
	}
	got, unread, err := st.Notifications(ctx, 5, 10)
	if err != nil || unread != 2 {
		t.Fatalf("Notifications: %d unread, %v", unread, err)
	}
	if d := cmp.Diff([]alerts.Alert{a2, a1}, got); d != "" {
		t.Errorf("notifications (-want +got):\n%s", d)
	}
	if other, _, _ := st.Notifications(ctx, 6, 10); len(other) != 0 {
		t.Errorf("another customer sees %d alerts", len(other))
	}
	noErr(t, st.MarkRead(ctx, 5, at0.Add(time.Hour)))
	if _, unread, _ := st.Notifications(ctx, 5, 10); unread != 0 {
		t.Errorf("%d unread after MarkRead", unread)
	}
	ds, err := st.Deliveries(ctx, a1.ID)
	if err != nil || len(ds) != 1 || ds[0].Body != a1.Body || ds[0].Status != alerts.Pending {
		t.Errorf("Deliveries = %+v, %v", ds, err)
	}
	if _, err := st.Alert(ctx, "nope"); !errors.Is(err, alerts.ErrAlertNotFound) {
		t.Errorf("Alert(nope) = %v", err)
	}
}

func testAlertClaim(t *testing.T, st alerts.Store) {
	ctx := context.Background()
	var b alerts.Batch
	for i := range 5 {
		a := mkAlert(ledger.EventSeq(i+1), alerts.PaymentSent, 9, false)
		b.Alerts = append(b.Alerts, a)
		b.Deliveries = append(b.Deliveries, mkDelivery(a, "fake"))
	}
	noErr(t, st.Commit(ctx, "alerts", 5, b, at0))
	now := at0.Add(time.Minute)
	first, err := st.Claim(ctx, now, 30*time.Second, 3, nil, now)
	if err != nil || len(first) != 3 {
		t.Fatalf("Claim = %d, %v", len(first), err)
	}
	for _, d := range first {
		if d.Attempts != 1 {
			t.Errorf("claimed %s with %d attempts, want 1", d.ID, d.Attempts)
		}
	}
	rest, err := st.Claim(ctx, now, 30*time.Second, 10, nil, now)
	if err != nil || len(rest) != 2 {
		t.Fatalf("second Claim = %d, %v; leased ones must not come back", len(rest), err)
	}
	if again, _ := st.Claim(ctx, now.Add(10*time.Second), 30*time.Second, 10, nil, now.Add(10*time.Second)); len(again) != 0 {
		t.Errorf("%d claimed within the lease", len(again))
	}
	// Outcomes: delivered, retry later, dead.
	noErr(t, st.Delivered(ctx, first[0].ID, now))
	noErr(t, st.Failed(ctx, first[1].ID, "timeout", now.Add(5*time.Second), false, now))
	noErr(t, st.Failed(ctx, first[2].ID, "refused", time.Time{}, true, now))
	// A late failure report never undoes a delivery.
	noErr(t, st.Failed(ctx, first[0].ID, "late", now, true, now))
	retry, err := st.Claim(ctx, now.Add(6*time.Second), 30*time.Second, 10, nil, now.Add(6*time.Second))
	if err != nil || len(retry) != 1 || retry[0].ID != first[1].ID || retry[0].Attempts != 2 || retry[0].LastError != "timeout" {
		t.Fatalf("retry claim = %+v, %v", retry, err)
	}
	// After the lease the unfinished ones come back (a dispatcher died).
	back, err := st.Claim(ctx, now.Add(time.Minute), 30*time.Second, 10, nil, now.Add(time.Minute))
	if err != nil || len(back) != 3 {
		t.Errorf("after the lease: %d back, want 3 (2 never finished + 1 retried), %v", len(back), err)
	}
	dead, err := st.DeadLetters(ctx, 10)
	if err != nil || len(dead) != 1 || dead[0].ID != first[2].ID || dead[0].LastError != "refused" || dead[0].Status != alerts.Dead {
		t.Fatalf("DeadLetters = %+v, %v", dead, err)
	}
	ds, _ := st.Deliveries(ctx, first[0].Alert)
	if len(ds) != 1 || ds[0].Status != alerts.Delivered || ds[0].Done.IsZero() {
		t.Errorf("delivered one = %+v", ds)
	}
	noErr(t, st.Requeue(ctx, dead[0].ID, now.Add(2*time.Minute)))
	if err := st.Requeue(ctx, dead[0].ID, now); !errors.Is(err, alerts.ErrDeliveryGone) {
		t.Errorf("requeue twice: %v", err)
	}
	got, _ := st.Claim(ctx, now.Add(2*time.Minute), time.Second, 10, nil, now.Add(2*time.Minute))
	found := false
	for _, d := range got {
		if d.ID == dead[0].ID {
			found = d.Attempts == 1 && d.Status == alerts.Pending
		}
	}
	if !found {
		t.Errorf("the requeued letter was not claimed afresh: %+v", got)
	}
}

// testAlertClaimOwn: a dispatcher takes the deliveries on its own channels
// as soon as they are due, and those on other channels only once they were
// due at others (overdue: no instance with their channel took them).
func testAlertClaimOwn(t *testing.T, st alerts.Store) {
	ctx := context.Background()
	a := mkAlert(1, alerts.PaymentSent, 9, false) // created (due) at at0+1s
	var b alerts.Batch
	b.Alerts = []alerts.Alert{a}
	for _, ch := range []string{"messenger", alerts.Email, "telegram"} {
		b.Deliveries = append(b.Deliveries, mkDelivery(a, ch))
	}
	noErr(t, st.Commit(ctx, "alerts", 1, b, at0))
	ids := func(ds []alerts.Delivery) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.Channel)
		}
		slices.Sort(out)
		return out
	}
	now := a.Created.Add(5 * time.Second)
	// Due, but not overdue: an instance with no channel takes nothing...
	if got, err := st.Claim(ctx, now, time.Minute, 10, nil, now.Add(-10*time.Second)); err != nil || len(got) != 0 {
		t.Fatalf("Claim with no channel = %v, %v; want none before they are overdue", ids(got), err)
	}
	// ...and one with e-mail and the messenger takes those two only.
	got, err := st.Claim(ctx, now, time.Minute, 10, []string{alerts.Email, "messenger"}, now.Add(-10*time.Second))
	if diff := cmp.Diff([]string{alerts.Email, "messenger"}, ids(got)); err != nil || diff != "" {
		t.Fatalf("Claim of own channels (-want +got):\n%s%v", diff, err)
	}
	// Overdue by more than the hand-over: any instance takes telegram's.
	later := a.Created.Add(20 * time.Second)
	got, err = st.Claim(ctx, later, time.Minute, 10, nil, later.Add(-10*time.Second))
	if diff := cmp.Diff([]string{"telegram"}, ids(got)); err != nil || diff != "" {
		t.Fatalf("Claim of overdue deliveries on other channels (-want +got):\n%s%v", diff, err)
	}
}

func testAlertAnswer(t *testing.T, st alerts.Store) {
	ctx := context.Background()
	ask, plain := mkAlert(1, alerts.Suspicious, 5, true), mkAlert(1, alerts.CardPurchase, 5, false)
	noErr(t, st.Commit(ctx, "alerts", 1, alerts.Batch{Alerts: []alerts.Alert{ask, plain}}, at0))
	if _, _, err := st.SetAnswer(ctx, 6, ask.ID, alerts.No, at0); !errors.Is(err, alerts.ErrAlertNotFound) {
		t.Errorf("another customer's answer: %v", err)
	}
	if _, _, err := st.SetAnswer(ctx, 5, plain.ID, alerts.No, at0); !errors.Is(err, alerts.ErrNotAsking) {
		t.Errorf("answer a plain alert: %v", err)
	}
	a, first, err := st.SetAnswer(ctx, 5, ask.ID, alerts.No, at0.Add(time.Minute))
	if err != nil || !first || a.Answer != alerts.No || !a.Answered.Equal(at0.Add(time.Minute)) || a.Read.IsZero() {
		t.Fatalf("first answer = %+v %v %v", a, first, err)
	}
	if _, first, err := st.SetAnswer(ctx, 5, ask.ID, alerts.No, at0.Add(2*time.Minute)); err != nil || first {
		t.Errorf("same answer again = %v %v, want not first, no error", first, err)
	}
	if _, _, err := st.SetAnswer(ctx, 5, ask.ID, alerts.Yes, at0); !errors.Is(err, alerts.ErrAnswered) {
		t.Errorf("another answer: %v", err)
	}
	k := alerts.Case{Alert: ask.ID, Customer: 5, Card: 4, Transfer: ask.Transfer, Merchant: 3, Amount: 1234, Currency: "USD", Status: "open", Opened: at0}
	c1, err := st.OpenCase(ctx, k)
	if err != nil || c1.ID == 0 || c1.Status != "open" || c1.Card != 4 {
		t.Fatalf("OpenCase = %+v, %v", c1, err)
	}
	if c2, err := st.OpenCase(ctx, k); err != nil || c2.ID != c1.ID {
		t.Errorf("OpenCase twice = %+v, %v; want the same case", c2, err)
	}
	if open, err := st.Cases(ctx, "open", 10); err != nil || len(open) != 1 {
		t.Errorf("open cases = %v, %v", open, err)
	}
	noErr(t, st.CloseCase(ctx, c1.ID, 77, "refunded", at0.Add(time.Hour)))
	if err := st.CloseCase(ctx, c1.ID, 77, "again", at0); !errors.Is(err, alerts.ErrCaseNotFound) {
		t.Errorf("close twice: %v", err)
	}
	all, err := st.Cases(ctx, "", 10)
	if err != nil || len(all) != 1 || all[0].Status != "closed" || all[0].ClosedBy != 77 || all[0].Note != "refunded" {
		t.Errorf("cases = %+v, %v", all, err)
	}
}

func testAlertSettings(t *testing.T, st alerts.Store) {
	ctx := context.Background()
	if m, err := st.Settings(ctx, []bankbridge.CustomerID{1, 2}); err != nil || len(m) != 0 {
		t.Fatalf("fresh settings = %v, %v", m, err)
	}
	s := alerts.Settings{Customer: 1, Privacy: alerts.PrivacyFull, LargeDebit: 100, LowBalance: 0, CardPurchases: false, Deposits: true, Email: "a@example.com", Updated: at0}
	for _, v := range []alerts.Settings{s, func() alerts.Settings { s.Privacy = alerts.PrivacyOff; return s }()} {
		noErr(t, st.SaveSettings(ctx, v))
	}
	m, err := st.Settings(ctx, []bankbridge.CustomerID{1, 2})
	noErr(t, err)
	s.Privacy = alerts.PrivacyOff
	if d := cmp.Diff(map[bankbridge.CustomerID]alerts.Settings{1: s}, m); d != "" {
		t.Errorf("settings (-want +got):\n%s", d)
	}
	p := alerts.Profile{LastSeq: 9, Debits: 3, Typical: 500, Largest: 900, Categories: map[string]int{"coffee": 3}, Recent: []time.Time{at0}}
	noErr(t, st.Commit(ctx, "x", 0, alerts.Batch{Profiles: map[bankbridge.CustomerID]alerts.Profile{1: p}}, at0))
	got, err := st.Profiles(ctx, []bankbridge.CustomerID{1, 2})
	noErr(t, err)
	if d := cmp.Diff(map[bankbridge.CustomerID]alerts.Profile{1: p}, got); d != "" {
		t.Errorf("profiles (-want +got):\n%s", d)
	}
	if ok, err := st.Trusted(ctx, 1, 3); err != nil || ok {
		t.Errorf("Trusted before Trust = %v, %v", ok, err)
	}
	for range 2 {
		noErr(t, st.Trust(ctx, 1, 3, at0))
	}
	if ok, err := st.Trusted(ctx, 1, 3); err != nil || !ok {
		t.Errorf("Trusted = %v, %v", ok, err)
	}
	if ok, _ := st.Trusted(ctx, 2, 3); ok {
		t.Error("trust leaked to another customer")
	}
}

// testAlertPages walks a customer's alerts a page at a time, with and
// without filters: every alert once, in order, none of another customer's,
// and a page boundary between alerts of one instant (one event raising two
// rules) loses neither.
func testAlertPages(t *testing.T, st alerts.Store) {
	ctx := context.Background()
	var b alerts.Batch
	for i := range 7 {
		b.Alerts = append(b.Alerts, mkAlert(ledger.EventSeq(i+1), alerts.CardPurchase, 5, false))
	}
	twin := mkAlert(4, alerts.Suspicious, 5, true) // same event, same instant as seq 4's purchase
	b.Alerts = append(b.Alerts, twin, mkAlert(3, alerts.Deposit, 6, false))
	noErr(t, st.Commit(ctx, "alerts", 0, b, at0))
	walk := func(q alerts.NotificationQuery) []alerts.AlertID {
		t.Helper()
		var ids []alerts.AlertID
		for range 20 {
			page, unread, err := st.NotificationPage(ctx, q)
			if err != nil {
				t.Fatalf("NotificationPage(%+v): %v", q, err)
			}
			if unread != 8 {
				t.Errorf("unread = %d, want 8 whatever the filter", unread)
			}
			for _, a := range page {
				ids = append(ids, a.ID)
			}
			if len(page) < q.Limit {
				return ids
			}
			last := page[len(page)-1]
			q.Before = &alerts.NotificationCursor{Created: last.Created, Seq: last.Seq, Rule: last.Rule}
		}
		t.Fatal("paging does not end")
		return nil
	}
	want := []alerts.AlertID{}
	for i := 7; i >= 1; i-- {
		if i == 4 {
			want = append(want, twin.ID) // "suspicious" sorts after "card_purchase", descending
		}
		want = append(want, alerts.NewAlertID(ledger.EventSeq(i), alerts.CardPurchase, 5))
	}
	if d := cmp.Diff(want, walk(alerts.NotificationQuery{Customer: 5, Limit: 3})); d != "" {
		t.Errorf("pages of 3 (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]alerts.AlertID{twin.ID}, walk(alerts.NotificationQuery{Customer: 5, Rule: alerts.Suspicious, Limit: 3})); d != "" {
		t.Errorf("suspicious only (-want +got):\n%s", d)
	}
	if err := st.MarkRead(ctx, 5, at0.Add(5*time.Second)); err != nil { // seq 1-5 read
		t.Fatal(err)
	}
	page, unread, err := st.NotificationPage(ctx, alerts.NotificationQuery{Customer: 5, Unread: true, Limit: 10})
	if err != nil || unread != 2 || len(page) != 2 {
		t.Errorf("unread only: %d alerts, %d unread, %v; want 2, 2", len(page), unread, err)
	}
}

// testCaseQueue: cases of every kind in one queue, filtered, by age;
// assignment only while open; notes in order, only on a case that exists.
func testCaseQueue(t *testing.T, st alerts.Store) {
	ctx := context.Background()
	due := at0.AddDate(0, 4, 0)
	mk := []alerts.Case{
		{Kind: alerts.CaseFraud, Alert: mkAlert(1, alerts.Suspicious, 5, true).ID, Customer: 5, Card: 3, Status: "open", Opened: at0.Add(3 * time.Hour)},
		{Kind: alerts.CaseLost, Alert: "card:3:report:1", Customer: 5, Card: 3, Status: "open", Opened: at0.Add(1 * time.Hour)},
		{Kind: alerts.CaseDispute, Alert: "dispute:44", Customer: 6, Transfer: 44, Amount: 990, Currency: "USD", Reason: "visa 13.1", Due: due, Status: "open", Opened: at0.Add(2 * time.Hour)},
	}
	var ids []alerts.CaseID
	for _, k := range mk {
		got, err := st.OpenCase(ctx, k)
		noErr(t, err)
		k.ID = got.ID
		if d := cmp.Diff(k, got); d != "" {
			t.Errorf("OpenCase (-want +got):\n%s", d)
		}
		ids = append(ids, got.ID)
	}
	kinds := func(q alerts.CaseQuery) []alerts.CaseKind {
		t.Helper()
		q.Limit = 10
		ks, err := st.CaseList(ctx, q)
		noErr(t, err)
		var out []alerts.CaseKind
		for _, k := range ks {
			out = append(out, k.Kind)
		}
		return out
	}
	for name, c := range map[string]struct {
		q    alerts.CaseQuery
		want []alerts.CaseKind
	}{
		"QueueOldestFirst": {alerts.CaseQuery{Oldest: true}, []alerts.CaseKind{alerts.CaseLost, alerts.CaseDispute, alerts.CaseFraud}},
		"NewestFirst":      {alerts.CaseQuery{}, []alerts.CaseKind{alerts.CaseFraud, alerts.CaseDispute, alerts.CaseLost}},
		"ByKind":           {alerts.CaseQuery{Kind: alerts.CaseDispute}, []alerts.CaseKind{alerts.CaseDispute}},
		"ByCustomerCard":   {alerts.CaseQuery{Customer: 5, Card: 3, Oldest: true}, []alerts.CaseKind{alerts.CaseLost, alerts.CaseFraud}},
		"NoneOfACustomer":  {alerts.CaseQuery{Customer: 99}, nil},
	} {
		if d := cmp.Diff(c.want, kinds(c.q)); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
	noErr(t, st.AssignCase(ctx, ids[2], 41))
	if d := cmp.Diff([]alerts.CaseKind{alerts.CaseDispute}, kinds(alerts.CaseQuery{Assignee: 41})); d != "" {
		t.Errorf("assigned to 41 (-want +got):\n%s", d)
	}
	if err := st.AssignCase(ctx, 9999, 41); !errors.Is(err, alerts.ErrCaseNotFound) {
		t.Errorf("AssignCase(unknown) = %v", err)
	}
	noErr(t, st.CloseCase(ctx, ids[1], 41, "new card sent", at0.Add(5*time.Hour)))
	if err := st.AssignCase(ctx, ids[1], 42); !errors.Is(err, alerts.ErrCaseNotFound) {
		t.Errorf("AssignCase(closed) = %v, want ErrCaseNotFound", err)
	}
	if d := cmp.Diff([]alerts.CaseKind{alerts.CaseFraud, alerts.CaseDispute}, kinds(alerts.CaseQuery{Status: "open"})); d != "" {
		t.Errorf("open (-want +got):\n%s", d)
	}
	n1, err := st.AddCaseNote(ctx, alerts.CaseNote{Case: ids[2], Customer: 6, Body: "the parcel never came", Created: at0.Add(6 * time.Hour)})
	noErr(t, err)
	n2, err := st.AddCaseNote(ctx, alerts.CaseNote{Case: ids[2], Staff: 41, Body: "filed with visa", Created: at0.Add(7 * time.Hour)})
	noErr(t, err)
	if _, err := st.AddCaseNote(ctx, alerts.CaseNote{Case: 9999, Staff: 41, Body: "x", Created: at0}); !errors.Is(err, alerts.ErrCaseNotFound) {
		t.Errorf("AddCaseNote(unknown case) = %v", err)
	}
	ns, err := st.CaseNotes(ctx, ids[2])
	noErr(t, err)
	if d := cmp.Diff([]alerts.CaseNote{n1, n2}, ns); d != "" {
		t.Errorf("notes (-want +got):\n%s", d)
	}
	if k, err := st.Case(ctx, ids[2]); err != nil || k.Assignee != 41 || !k.Due.Equal(due) || k.Reason != "visa 13.1" {
		t.Errorf("Case = %+v, %v", k, err)
	}
	if _, err := st.Case(ctx, 9999); !errors.Is(err, alerts.ErrCaseNotFound) {
		t.Errorf("Case(unknown) = %v", err)
	}
}
