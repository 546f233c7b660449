package web_test

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/ledger"
)

// TestNotificationPages: 45 alerts read as pages of 20 through the "Older"
// links, each once, filtered by kind and by unread, dated by their event;
// a mangled cursor or an unknown kind says so and shows the newest.
func TestNotificationPages(t *testing.T) {
	t.Parallel()
	ab := newAlertsBank(t)
	ctx := context.Background()
	var b alerts.Batch
	for i := range 45 {
		seq := ledger.EventSeq(100 + i)
		r := alerts.CardPurchase
		if i%5 == 0 {
			r = alerts.Deposit
		}
		b.Alerts = append(b.Alerts, alerts.Alert{ID: alerts.NewAlertID(seq, r, ab.ada.ID), Seq: seq, Customer: ab.ada.ID, Rule: r,
			Amount: 100, Currency: "USD", Title: r.Label(), Body: "alert number " + string(rune('A'+i%26)),
			Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)})
	}
	if err := ab.db.Alerts().Commit(ctx, "test", 0, b, ab.clock.Now()); err != nil {
		t.Fatal(err)
	}
	br := ab.browser()
	br.login("", "ada@example.com")
	older := regexp.MustCompile(`<a href="([^"]+)" rel="next">Older</a>`)
	item := regexp.MustCompile(`data-alert="([0-9a-f]+)"`)
	seen := map[string]bool{}
	path, pages := "/notifications", 0
	for path != "" {
		p := br.get(path)
		if p.status != http.StatusOK {
			t.Fatalf("%s: status %d", path, p.status)
		}
		pages++
		for _, m := range item.FindAllStringSubmatch(p.body, -1) {
			if seen[m[1]] {
				t.Errorf("alert %s shown twice", m[1])
			}
			seen[m[1]] = true
		}
		if pages > 1 && !strings.Contains(p.body, `href="/notifications">Newest</a>`) {
			t.Errorf("page %d has no link to the newest", pages)
		}
		path = ""
		if m := older.FindStringSubmatch(p.body); m != nil {
			path = html.UnescapeString(m[1])
		}
	}
	if len(seen) != 46 || pages != 3 { // 45 and the alert newAlertsBank made
		t.Errorf("saw %d alerts on %d pages, want 46 on 3", len(seen), pages)
	}

	p := br.get("/notifications?rule=deposit")
	if n := len(item.FindAllString(p.body, -1)); n != 9 {
		t.Errorf("deposits only: %d alerts, want 9", n)
	}
	if !strings.Contains(p.body, `<time datetime="2026-01-02">`) && !strings.Contains(p.body, `datetime="2026-01-02`) {
		t.Errorf("alerts are not dated by their event (2026-01-02 expected on the page)")
	}
	for _, bad := range []string{"/notifications?before=bm9wZQ", "/notifications?rule=nonsense"} {
		p := br.get(bad)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, `class="error"`) || len(item.FindAllString(p.body, -1)) == 0 {
			t.Errorf("%s: status %d, want 400 with the newest alerts and a message", bad, p.status)
		}
	}
	if p := br.get("/notifications?unread=1"); len(item.FindAllString(p.body, -1)) != 20 {
		t.Errorf("unread only: want a full first page")
	}
}
