package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// TestSeededAlertsCountOnTheirOwnDays: on first start the demo seeds 90
// days of transfers, and the alerts worker then evaluates that backlog.
// Its alerts must count in the engagement reports on the days of their
// transfers: the last 7 days hold a small part of the 90 days' alerts, not
// all of them (as when ~234,000 seeded alerts showed as sent today).
func TestSeededAlertsCountOnTheirOwnDays(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds a demo bank")
	}
	dir := t.TempDir()
	addr, stop := startServer(t, nil, "--data", dir, "--demo-customers", "60")
	// Wait until the engagement events stop growing: the seed's, then the
	// alerts of the backlog.
	re := regexp.MustCompile(`(?m)^bankbridge_insights_events_written (\S+)$`)
	last, same := "", 0
	for deadline := time.Now().Add(2 * time.Minute); same < 3; {
		if time.Now().After(deadline) {
			t.Fatalf("engagement events still growing after 2 minutes (%s)", last)
		}
		time.Sleep(time.Second)
		res, err := http.Get(addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m := re.FindSubmatch(b)
		if m == nil || string(m[1]) == "0" {
			continue
		}
		if string(m[1]) == last {
			same++
		} else {
			last, same = string(m[1]), 0
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "bankbridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ins := insights.New(db.Insights(), insights.Options{})
	today := insights.DayOf(time.Now().UTC())
	sent := func(days int) int64 {
		t.Helper()
		as, err := ins.Alerts(context.Background(), insights.Filter{End: today, Days: days})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			if a.Channel == insights.Web {
				n, ok := a.Sent.Value()
				if !ok {
					t.Fatalf("web alerts over %d days suppressed", days)
				}
				return n
			}
		}
		t.Fatal("no web row")
		return 0
	}
	week, quarter := sent(7), sent(90)
	t.Logf("web alerts sent: %d in the last 7 days, %d in 90", week, quarter)
	if quarter == 0 || week*3 > quarter {
		t.Errorf("web alerts sent: %d in the last 7 days of %d in 90; the backlog is counted as recent", week, quarter)
	}
}
