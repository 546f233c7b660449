package web_test

import (
	"context"
	"encoding/csv"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/demo"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/web"
)

// events is an EventRecorder that keeps what it is given.
type events struct {
	mu  sync.Mutex
	got []insights.Event
}

func (e *events) Record(ev insights.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, ev)
}

// insightsBank is a test bank whose console has an engagement page over a
// real SQLite insights store filled by the demo's generator, and whose app
// records events into rec.
func insightsBank(t testing.TB, o bankOptions, customers int) (*bank, *insights.Service, *events) {
	t.Helper()
	b := newBank(t, o)
	svc := insights.New(b.db.Insights(), insights.Options{Now: b.clock.Now})
	if o.now {
		svc = insights.New(b.db.Insights(), insights.Options{})
	}
	end := b.clock.Now().UTC().Truncate(24 * time.Hour)
	if o.now {
		end = time.Now().UTC().Truncate(24 * time.Hour)
	}
	var cs []demo.EngagementCustomer
	for i := range customers {
		p := insights.Products(insights.Checking)
		if i%3 == 0 {
			p |= insights.Products(insights.Savings)
		}
		cs = append(cs, demo.EngagementCustomer{ID: bankbridge.CustomerID(100000 + i), BirthYear: end.Year() - 19 - i*53%60, Products: p})
	}
	if err := demo.SeedEngagement(context.Background(), svc, cs, demo.EngagementOptions{Days: 180, Now: end, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	rec := &events{}
	now := b.clock.Now
	if o.now {
		now = time.Now
	}
	b.handler = web.New(web.Deps{Auth: b.ids, Ledger: b.ledger, Logger: slog.New(slog.DiscardHandler), Now: now,
		BankName: "Test Bank", Insights: svc, Events: rec})
	return b, svc, rec
}

func TestInsightsPage(t *testing.T) {
	t.Parallel()
	b, _, _ := insightsBank(t, bankOptions{}, 400)
	for _, role := range []identity.Role{identity.Analyst, identity.Administrator, identity.Compliance, identity.Support} {
		b.staff(string(role)+"@bank.test", role)
	}
	t.Run("RolesThatMayView", func(t *testing.T) {
		for _, tc := range []struct {
			role identity.Role
			want int
		}{{identity.Analyst, 200}, {identity.Administrator, 200}, {identity.Compliance, 200}, {identity.Support, 403}} {
			br := b.browser()
			br.login("/console", string(tc.role)+"@bank.test")
			if got := br.get("/console/insights").status; got != tc.want {
				t.Errorf("%s: status %d, want %d", tc.role, got, tc.want)
			}
		}
		if p := b.browser().get("/console/insights"); p.status != http.StatusSeeOther || p.loc != "/console/login" {
			t.Errorf("signed out: %d %q, want a redirect to the login", p.status, p.loc)
		}
	})
	br := b.browser()
	br.login("/console", "analyst@bank.test")
	t.Run("ChartsWithTitlesAndTables", func(t *testing.T) {
		p := br.get("/console/insights?days=90")
		if p.status != 200 {
			t.Fatalf("status %d\n%s", p.status, p.body)
		}
		for _, want := range []string{
			"Daily active customers by channel", "Monthly active customers", "Weekly retention cohorts", "Own, partner or both",
			`role="img"`, "<details>", "Data table", "Download CSV", "<svg", "Partnering added", "Messenger",
			`href="/static/insights.css"`, "table=cohorts",
		} {
			if !strings.Contains(p.body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if strings.Contains(p.body, "<script") || strings.Contains(p.body, "style=\"") {
			t.Error("the page has a script or an inline style attribute, which the CSP refuses")
		}
	})
	t.Run("FiltersAndErrors", func(t *testing.T) {
		for _, tc := range []struct {
			query string
			want  int
		}{
			{"days=30&band=65%2B&product=savings&channel=messenger", 200},
			{"days=31", 400},
			{"band=12-17", 400},
			{"end=yesterday", 400},
			{"channel=fax", 400},
			{"product=gold", 400},
		} {
			if got := br.get("/console/insights?" + tc.query).status; got != tc.want {
				t.Errorf("%s: status %d, want %d", tc.query, got, tc.want)
			}
		}
	})
	t.Run("CSVExportOfEveryTable", func(t *testing.T) {
		for _, name := range []string{"trends", "reach", "overlap", "intents", "payments", "alerts", "cohorts"} {
			p := br.get("/console/insights.csv?days=30&table=" + name)
			if p.status != 200 || !strings.HasPrefix(p.header.Get("Content-Type"), "text/csv") {
				t.Errorf("%s: status %d, type %q", name, p.status, p.header.Get("Content-Type"))
				continue
			}
			rows, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
			if err != nil || len(rows) < 2 {
				t.Errorf("%s: %d rows, %v", name, len(rows), err)
			}
		}
		if p := br.get("/console/insights.csv?table=secrets"); p.status != http.StatusBadRequest {
			t.Errorf("unknown table: status %d, want 400", p.status)
		}
	})
	t.Run("SmallGroupsAreSuppressedNotShown", func(t *testing.T) {
		// 400 customers over six bands and two products: some cells of
		// the 7-day messenger view of one band are small.
		p := br.get("/console/insights.csv?days=7&band=18-24&product=savings&channel=partner_api&table=trends")
		if !strings.Contains(p.body, "suppressed") {
			t.Errorf("no suppressed cell in a tiny segment:\n%s", p.body)
		}
		rows, _ := csv.NewReader(strings.NewReader(p.body)).ReadAll()
		for _, row := range rows[1:] {
			for _, c := range row[2:5] {
				if c != "suppressed" && len(c) == 1 {
					t.Errorf("a count below 10 was published: %v", row)
				}
			}
		}
	})
}

func TestWebRecordsEngagement(t *testing.T) {
	t.Parallel()
	b, _, rec := insightsBank(t, bankOptions{}, 0)
	c := b.customer("Ada Lovelace", "ada@example.com")
	from := b.account(c.ID, "Everyday", ledger.Checking, 100000)
	to := b.account(c.ID, "Savings", ledger.Savings, 0)
	br := b.browser()
	br.login("", "ada@example.com")
	br.get("/accounts")
	br.get("/accounts/" + itoa(int64(from.ID)))
	conf := br.review(from.ID, to.ID, "12.34")
	form := br.confirmForm(conf)
	if p := br.post("/transfer/confirm", form); p.status != http.StatusSeeOther {
		t.Fatalf("confirm: %d", p.status)
	}
	br.post("/transfer/confirm", form) // a double submit: one payment
	var got []string
	for _, e := range rec.got {
		if e.Customer != c.ID || e.Channel != insights.Web || e.Validate() != nil {
			t.Errorf("bad event %+v", e)
		}
		got = append(got, string(e.Kind)+":"+e.Intent+":"+itoa(int64(e.Amount)))
	}
	want := []string{"session::0", "action:balance:0", "action:history:0", "payment:payment:1234"}
	if !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	// Staff logins are not customer engagement.
	b.staff("an@bank.test", identity.Analyst)
	n := len(rec.got)
	b.browser().login("/console", "an@bank.test")
	if len(rec.got) != n {
		t.Errorf("a staff login was recorded: %+v", rec.got[n:])
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
