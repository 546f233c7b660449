package alerts_test

import (
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
)

// TestOnSent/BacklogCountsOnItsOwnDays: alerts made from ledger events the
// service catches up on (the demo's seeded history on first start) reach
// OnSent with the dates of their events, not the day they were evaluated,
// so the engagement reports do not show a backlog as sent today.
func TestOnSentBacklogCountsOnItsOwnDays(t *testing.T) {
	t.Parallel()
	type sent struct {
		ch string
		at time.Time
	}
	var mu sync.Mutex
	var got []sent
	b := newBank(t, alerts.Options{OnSent: func(_ bankbridge.CustomerID, ch string, _ alerts.Rule, at time.Time) {
		mu.Lock()
		got = append(got, sent{ch, at})
		mu.Unlock()
	}})
	b.move(b.settle, b.alice, 500_000, "Salary") // a large deposit: alerted
	moved := b.clk.now()
	b.clk.add(30 * 24 * time.Hour) // the worker runs a month later
	b.run()
	mu.Lock()
	defer mu.Unlock()
	var web int
	for _, s := range got {
		if s.ch != "web" {
			continue
		}
		web++
		if !s.at.Equal(moved) {
			t.Errorf("the notification centre's alert is dated %s, want its event's %s", s.at, moved)
		}
	}
	if web == 0 {
		t.Fatalf("no alert reached the notification centre: %+v", got)
	}
}
