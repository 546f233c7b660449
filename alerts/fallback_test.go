package alerts_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/alerts"
)

// An instance whose links name a channel it cannot deliver on (off here,
// on elsewhere) still stores the delivery; its dispatcher leaves it to the
// instances that have the channel, hands it back when none took it in
// time, and when no instance that claims it has the channel it ends as a
// dead letter saying so: never dropped, always counted.
func TestDeliveryOnAChannelNotHereIsLeftThenDeadLettered(t *testing.T) {
	t.Parallel()
	other := newFake()
	// This instance delivers on "other" only; customer 2 linked "fake".
	b := newBank(t, alerts.Options{Channels: map[string]alerts.Channel{"other": other}, MaxAttempts: 3})
	b.move(b.settle, b.bob, 1000, "gift")
	b.run()
	ctx := context.Background()
	as, _, err := b.svc.Notifications(ctx, 2, 10)
	if err != nil || len(as) != 1 {
		t.Fatalf("alerts of customer 2: %+v, %v", as, err)
	}
	pending := func() alerts.Delivery {
		t.Helper()
		ds, err := b.svc.Deliveries(ctx, as[0].ID)
		if err != nil || len(ds) != 1 || ds[0].Channel != "fake" || ds[0].Status != alerts.Pending {
			t.Fatalf("deliveries %+v, %v: want one pending on fake, for an instance that has it", ds, err)
		}
		return ds[0]
	}
	// Due, on a channel this instance lacks: it does not even claim it,
	// leaving it to the instances that have the channel.
	if d := pending(); d.Attempts != 0 || d.LastError != "" {
		t.Errorf("claimed by an instance without its channel: %+v", d)
	}
	if st := b.svc.Stats(); st.Released != 0 {
		t.Errorf("stats after the first pass: %+v", st)
	}
	// No instance took it for the hand-over time: this one claims it and
	// hands it back, saying why.
	b.clk.add(11 * time.Second)
	b.run()
	if d := pending(); d.Attempts != 1 || !strings.Contains(d.LastError, "not configured on this instance") {
		t.Errorf("handed back as %+v", d)
	}
	if st := b.svc.Stats(); st.Released != 1 || st.Unroutable != 0 {
		t.Errorf("stats after the hand-over: %+v", st)
	}
	// Handed back again each time it is overdue, however often: past
	// 2*MaxAttempts claims but not yet unroutableAge old, it still waits.
	for range 5 {
		b.clk.add(16 * time.Second) // the hand-over plus the longest hand-back delay (5 s +20%)
		b.run()
	}
	if dead, err := b.svc.DeadLetters(ctx, 10); err != nil || len(dead) != 0 {
		t.Fatalf("dead after 6 hand-backs in 91 s: %+v, %v", dead, err)
	}
	// Nobody with the channel claimed it for two minutes: a dead letter
	// that names the channel.
	b.clk.add(2 * time.Minute)
	b.run()
	dead, err := b.svc.DeadLetters(ctx, 10)
	if err != nil || len(dead) != 1 || dead[0].Attempts != 7 || !strings.Contains(dead[0].LastError, "no instance could deliver on the fake channel") {
		t.Fatalf("dead letters %+v, %v", dead, err)
	}
	if st := b.svc.Stats(); st.Released != 6 || st.Unroutable != 1 {
		t.Errorf("stats at the end: %+v", st)
	}
	if len(other.messages()) != 0 || len(b.fake.messages()) != 0 {
		t.Errorf("delivered somewhere: other %d, fake %d", len(other.messages()), len(b.fake.messages()))
	}
	// Once an instance with the channel is there, staff requeue it.
	withFake := alerts.New(b.db.Alerts(), b.db.Ledger(), alerts.Options{Channels: map[string]alerts.Channel{"fake": b.fake}, Now: b.clk.now})
	if err := withFake.Requeue(ctx, dead[0].ID); err != nil {
		t.Fatal(err)
	}
	if n, err := withFake.Dispatch(ctx); err != nil || n != 1 || len(b.fake.messages()) != 1 {
		t.Errorf("requeued on an instance with the channel: claimed %d, %v, delivered %d", n, err, len(b.fake.messages()))
	}
}
