package demo

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/insights"
)

type keep struct{ evs []insights.Event }

func (k *keep) Ingest(_ context.Context, evs []insights.Event) error {
	k.evs = append(k.evs, evs...)
	return nil
}

func engagementCustomers(n int) []EngagementCustomer {
	out := make([]EngagementCustomer, n)
	for i := range out {
		out[i] = EngagementCustomer{ID: bankbridge.CustomerID(i + 1), BirthYear: 1946 + i%60,
			Products: insights.Products(insights.Checking) | insights.Products(i%2)*insights.Products(insights.Savings)}
	}
	return out
}

func TestSeedEngagementIsDeterministicValidAndInOrder(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	o := EngagementOptions{Days: 60, Seed: 9, Now: now, Batch: 997}
	var a, b keep
	cs := engagementCustomers(300)
	if err := SeedEngagement(context.Background(), &a, cs, o); err != nil {
		t.Fatal(err)
	}
	if err := SeedEngagement(context.Background(), &b, cs, o); err != nil {
		t.Fatal(err)
	}
	if len(a.evs) == 0 || !slices.EqualFunc(a.evs, b.evs, func(x, y insights.Event) bool { return x == y }) {
		t.Fatalf("two runs differ (%d and %d events)", len(a.evs), len(b.evs))
	}
	start := now.AddDate(0, 0, -60)
	for i, e := range a.evs {
		if err := e.Validate(); err != nil || !e.Segmented {
			t.Fatalf("event %d %+v: %v", i, e, err)
		}
		if e.At.Before(start) || !e.At.Before(now) {
			t.Fatalf("event %d at %v outside [%v, %v)", i, e.At, start, now)
		}
		if i > 0 && insights.DayOf(e.At) < insights.DayOf(a.evs[i-1].At) {
			t.Fatalf("event %d goes back a day", i)
		}
	}
	o.Seed = 10
	var c keep
	SeedEngagement(context.Background(), &c, cs, o)
	if slices.EqualFunc(a.evs, c.evs, func(x, y insights.Event) bool { return x == y }) {
		t.Error("another seed gives the same events")
	}
}

// TestSeedEngagementTellsTheStory checks the story the page should show:
// customers over 55 move to the messenger, younger ones stay on the app.
func TestSeedEngagementTellsTheStory(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var k keep
	cs := engagementCustomers(3000)
	if err := SeedEngagement(context.Background(), &k, cs, EngagementOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	first, last := insights.DayOf(now)-180, insights.DayOf(now)-30
	type key struct {
		old, late bool
		ch        insights.Channel
	}
	active := map[key]map[bankbridge.CustomerID]bool{}
	kinds := map[insights.Kind]int{}
	for _, e := range k.evs {
		kinds[e.Kind]++
		d := insights.DayOf(e.At)
		if !e.Kind.Engaged() || (d >= first+30 && d < last) {
			continue
		}
		kk := key{now.Year()-e.BirthYear >= 55, d >= last, e.Channel}
		if active[kk] == nil {
			active[kk] = map[bankbridge.CustomerID]bool{}
		}
		active[kk][e.Customer] = true
	}
	n := func(old, late bool, ch insights.Channel) int { return len(active[key{old, late, ch}]) }
	if !(n(true, true, insights.Messenger) > 2*n(true, false, insights.Messenger)) {
		t.Errorf("older customers on the messenger: first month %d, last month %d; want it to more than double",
			n(true, false, insights.Messenger), n(true, true, insights.Messenger))
	}
	if !(n(true, true, insights.Web) < n(true, false, insights.Web)) {
		t.Errorf("older customers on the web app: first month %d, last month %d; want fewer", n(true, false, insights.Web), n(true, true, insights.Web))
	}
	if !(n(false, true, insights.Web) > 2*n(false, true, insights.Messenger)) {
		t.Errorf("younger customers last month: web %d, messenger %d; want the app well ahead", n(false, true, insights.Web), n(false, true, insights.Messenger))
	}
	if n(false, true, insights.PartnerAPI) < 3*n(true, true, insights.PartnerAPI) {
		t.Errorf("partner apps: younger %d, older %d; want mostly younger", n(false, true, insights.PartnerAPI), n(true, true, insights.PartnerAPI))
	}
	for _, kind := range insights.Kinds {
		if kinds[kind] == 0 {
			t.Errorf("no %s event", kind)
		}
	}
}
