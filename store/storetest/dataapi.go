package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/dataapi/records"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/google/go-cmp/cmp"
)

// DataAPIOpener opens a fresh, empty database for one test and returns its
// data API store.
type DataAPIOpener func(t testing.TB) records.Store

// DataAPI runs the records.Store conformance suite against the engine open
// returns.
func DataAPI(t *testing.T, open DataAPIOpener) {
	t.Run("PaymentCreatedOncePerKey", func(t *testing.T) { t.Parallel(); dataPaymentOnce(t, open) })
	t.Run("PaymentStatusMovesOnce", func(t *testing.T) { t.Parallel(); dataPaymentStatus(t, open) })
	t.Run("PaymentExpiry", func(t *testing.T) { t.Parallel(); dataPaymentExpiry(t, open) })
	t.Run("SubscriptionsScopedToPartner", func(t *testing.T) { t.Parallel(); dataSubscriptions(t, open) })
	t.Run("OutboxDueAndUpdated", func(t *testing.T) { t.Parallel(); dataOutbox(t, open) })
	t.Run("PerformanceAddsUp", func(t *testing.T) { t.Parallel(); dataPerformance(t, open) })
}

var dT0 = time.Date(2026, 5, 6, 7, 8, 9, 123456000, time.UTC)

func dPayment(id, partner, key string, amt ledger.Amount) records.Payment {
	return records.Payment{ID: id, Partner: partner, Grant: "g-" + partner, Customer: 7, From: 11, To: 12, ToRef: "ref-" + id,
		Amount: amt, Currency: "USD", Memo: "rent", Key: key, Hash: sha256.Sum256([]byte(id)), Status: records.PaymentPosted,
		Transfer: 99, Created: dT0, Updated: dT0}
}

func dataPaymentOnce(t *testing.T, open DataAPIOpener) {
	ctx := context.Background()
	s := open(t)
	p := dPayment("p1", "acme", "k1", 2050)
	got, created, err := s.CreatePayment(ctx, p)
	if err != nil || !created {
		t.Fatalf("CreatePayment = %v, %v", created, err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	read, err := s.Payment(ctx, "p1")
	noErr(t, err)
	if diff := cmp.Diff(p, read); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	// The same key from the same partner answers the first payment.
	again, created, err := s.CreatePayment(ctx, dPayment("p2", "acme", "k1", 9999))
	if err != nil || created {
		t.Fatalf("second CreatePayment = %v, %v; want not created", created, err)
	}
	if diff := cmp.Diff(p, again); diff != "" {
		t.Errorf("replay (-want +got):\n%s", diff)
	}
	if _, err := s.Payment(ctx, "p2"); !errors.Is(err, records.ErrPaymentNotFound) {
		t.Errorf("Payment(p2) = %v, want ErrPaymentNotFound", err)
	}
	// Another partner's key space is its own.
	if _, created, err := s.CreatePayment(ctx, dPayment("p3", "other", "k1", 100)); err != nil || !created {
		t.Errorf("other partner, same key: created=%v err=%v", created, err)
	}
	// Concurrent creators with one key: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 8 {
		wg.Go(func() {
			_, c, err := s.CreatePayment(ctx, dPayment(fmt.Sprintf("race%d", i), "acme", "race", 100))
			if err != nil {
				t.Error(err)
			}
			if c {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d concurrent creators won, want 1", wins)
	}
}

func dataPaymentStatus(t *testing.T, open DataAPIOpener) {
	ctx := context.Background()
	s := open(t)
	p := dPayment("p1", "acme", "k1", 2050)
	p.Status, p.NeedsConfirmation, p.Transfer, p.ConfirmBy = records.PaymentPending, true, 0, dT0.Add(time.Hour)
	if _, _, err := s.CreatePayment(ctx, p); err != nil {
		t.Fatal(err)
	}
	at := dT0.Add(time.Minute)
	ok, err := s.SetPaymentStatus(ctx, "p1", records.PaymentPending, records.PaymentPosted, 42, "", at)
	if err != nil || !ok {
		t.Fatalf("first move = %v, %v", ok, err)
	}
	ok, err = s.SetPaymentStatus(ctx, "p1", records.PaymentPending, records.PaymentFailed, 0, "declined", at)
	if err != nil || ok {
		t.Fatalf("second move from PENDING = %v, %v; want false", ok, err)
	}
	got, err := s.Payment(ctx, "p1")
	noErr(t, err)
	if got.Status != records.PaymentPosted || got.Transfer != 42 || !got.Updated.Equal(at) {
		t.Errorf("after moves: %+v", got)
	}
	if _, err := s.SetPaymentStatus(ctx, "nope", records.PaymentPending, records.PaymentPosted, 1, "", at); !errors.Is(err, records.ErrPaymentNotFound) {
		t.Errorf("unknown payment: %v", err)
	}
}

func dataPaymentExpiry(t *testing.T, open DataAPIOpener) {
	ctx := context.Background()
	s := open(t)
	mk := func(id string, amt ledger.Amount, st records.PaymentStatus, created time.Time, confirmBy time.Time) {
		p := dPayment(id, "acme", id, amt)
		p.Status, p.Created, p.Updated, p.ConfirmBy, p.NeedsConfirmation = st, created, created, confirmBy, !confirmBy.IsZero()
		if _, _, err := s.CreatePayment(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	mk("old", 1000, records.PaymentPosted, dT0.Add(-25*time.Hour), time.Time{})
	mk("posted", 200, records.PaymentPosted, dT0, time.Time{})
	mk("pending", 30, records.PaymentPending, dT0.Add(time.Minute), dT0.Add(time.Hour))
	mk("failed", 4000, records.PaymentFailed, dT0, time.Time{})
	due, err := s.ExpiredPayments(ctx, dT0.Add(time.Hour), 10)
	if err != nil || len(due) != 1 || due[0].ID != "pending" {
		t.Errorf("ExpiredPayments = %v, %v", due, err)
	}
	if due, err := s.ExpiredPayments(ctx, dT0.Add(time.Hour-time.Microsecond), 10); err != nil || len(due) != 0 {
		t.Errorf("ExpiredPayments before the deadline = %v, %v", due, err)
	}
}

func dataSubscriptions(t *testing.T, open DataAPIOpener) {
	ctx := context.Background()
	s := open(t)
	a := records.Subscription{ID: "s1", Partner: "acme", CallbackURL: "https://acme.example/hook", Secret: []byte("0123456789abcdef"), Created: dT0}
	b := records.Subscription{ID: "s2", Partner: "acme", CallbackURL: "https://acme.example/hook2", Secret: []byte("x"), Created: dT0.Add(time.Second)}
	c := records.Subscription{ID: "s3", Partner: "other", CallbackURL: "https://other.example/hook", Secret: []byte("y"), Created: dT0}
	for _, sub := range []records.Subscription{a, b, c} {
		noErr(t, s.CreateSubscription(ctx, sub))
	}
	got, err := s.Subscriptions(ctx, "acme")
	noErr(t, err)
	if diff := cmp.Diff([]records.Subscription{a, b}, got); diff != "" {
		t.Errorf("Subscriptions (-want +got):\n%s", diff)
	}
	if _, err := s.Subscription(ctx, "acme", "s3"); !errors.Is(err, records.ErrSubscriptionNotFound) {
		t.Errorf("another partner's subscription: %v", err)
	}
	if err := s.DeleteSubscription(ctx, "acme", "s3"); !errors.Is(err, records.ErrSubscriptionNotFound) {
		t.Errorf("deleting another partner's subscription: %v", err)
	}
	if err := s.Enqueue(ctx, []records.Notification{{ID: "n1", Subscription: "s1", Partner: "acme", Type: "CONSENT_REVOKED", Body: []byte(`{}`),
		Status: records.NotificationPending, Next: dT0, Created: dT0}}); err != nil {
		t.Fatal(err)
	}
	noErr(t, s.DeleteSubscription(ctx, "acme", "s1"))
	if due, err := s.DueNotifications(ctx, dT0, 10); err != nil || len(due) != 0 {
		t.Errorf("a deleted subscription's notifications are still due: %v, %v", due, err)
	}
}

func dataOutbox(t *testing.T, open DataAPIOpener) {
	ctx := context.Background()
	s := open(t)
	noErr(t, s.CreateSubscription(ctx, records.Subscription{ID: "s1", Partner: "acme", CallbackURL: "https://acme.example/h", Secret: []byte("k"), Created: dT0}))
	n1 := records.Notification{ID: "n1", Subscription: "s1", Partner: "acme", Type: "CONSENT_REVOKED", Body: []byte(`{"a":1}`),
		Status: records.NotificationPending, Next: dT0, Created: dT0}
	n2 := n1
	n2.ID, n2.Next, n2.Created = "n2", dT0.Add(time.Minute), dT0.Add(time.Second)
	noErr(t, s.Enqueue(ctx, []records.Notification{n1, n2}))
	due, err := s.DueNotifications(ctx, dT0, 10)
	noErr(t, err)
	if diff := cmp.Diff([]records.Notification{n1}, due); diff != "" {
		t.Errorf("due (-want +got):\n%s", diff)
	}
	n1.Attempts, n1.Next, n1.LastError = 1, dT0.Add(2*time.Minute), "503 from partner"
	noErr(t, s.UpdateNotification(ctx, n1))
	due, err = s.DueNotifications(ctx, dT0.Add(time.Minute), 10)
	if err != nil || len(due) != 1 || due[0].ID != "n2" {
		t.Errorf("due after retry scheduled = %v, %v", due, err)
	}
	n2.Status, n2.Attempts = records.NotificationDelivered, 1
	noErr(t, s.UpdateNotification(ctx, n2))
	// The same event queued again (a change told twice) is kept once, as
	// it stands: a delivered one is not delivered again.
	again := n2
	again.Status, again.Attempts, again.Body = records.NotificationPending, 0, []byte(`{"again":true}`)
	noErr(t, s.Enqueue(ctx, []records.Notification{again}))
	all, err := s.Notifications(ctx, "s1", 10)
	noErr(t, err)
	if diff := cmp.Diff([]records.Notification{n1, n2}, all); diff != "" {
		t.Errorf("Notifications (-want +got):\n%s", diff)
	}
}

func dataPerformance(t *testing.T, open DataAPIOpener) {
	ctx := context.Background()
	s := open(t)
	add := []records.Performance{
		{Month: "2025-03", Partner: "acme", Bucket: 0, Responses: 5, Proper: 5},
		{Month: "2026-05", Partner: "acme", Bucket: 0, Responses: 10, Proper: 9},
		{Month: "2026-05", Partner: "acme", Bucket: 3, Responses: 2, Proper: 2},
	}
	noErr(t, s.AddPerformance(ctx, add))
	noErr(t, s.AddPerformance(ctx, []records.Performance{{Month: "2026-05", Partner: "acme", Bucket: 0, Responses: 1, Proper: 0}}))
	got, err := s.Performance(ctx, "2025-05")
	noErr(t, err)
	want := []records.Performance{
		{Month: "2026-05", Partner: "acme", Bucket: 0, Responses: 11, Proper: 9},
		{Month: "2026-05", Partner: "acme", Bucket: 3, Responses: 2, Proper: 2},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Performance (-want +got):\n%s", diff)
	}
	noErr(t, s.PrunePerformance(ctx, "2025-05"))
	if got, err := s.Performance(ctx, "2000-01"); err != nil || len(got) != 2 {
		t.Errorf("after prune: %v, %v", got, err)
	}
}
