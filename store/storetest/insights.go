package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/google/go-cmp/cmp"
)

// InsightsOpener opens a fresh, empty insights store for one test.
type InsightsOpener func(t testing.TB) insights.Store

// Insights runs the insights.Store conformance suite against the engine
// open returns: rollups kept by batches in any order equal the same
// numbers computed from the raw events, an update is all or nothing, and
// the reports the Service builds on top read them back.
func Insights(t *testing.T, open InsightsOpener) {
	t.Run("RollupsMatchRawEventsWhateverTheBatchOrder", func(t *testing.T) { t.Parallel(); insightsModel(t, open) })
	t.Run("UpdateIsAllOrNothing", func(t *testing.T) { t.Parallel(); insightsAtomic(t, open) })
	t.Run("ReportsCountAndSuppress", func(t *testing.T) { t.Parallel(); insightsReports(t, open) })
}

// insT0 is a Monday in December, so a model run crosses a year (age bands
// change) and several weeks.
var insT0 = time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)

// insSegment is customer c's segment on day d: birth year fixed, products
// changing every 20 days, so that segments move within windows.
func insSegment(c bankbridge.CustomerID, d insights.Day) (int, insights.Products) {
	by := 1950 + int(c)*7%50
	if c%5 == 0 {
		by = 2001 // 24 in 2025, 25 in 2026: crosses a band at New Year
	}
	return by, insights.Products(1 + (int(c)+int(d)/20)%7)
}

func insEvent(c bankbridge.CustomerID, at time.Time, ch insights.Channel, k insights.Kind, intent string, amt ledger.Amount) insights.Event {
	e := insights.Event{At: at, Customer: c, Channel: ch, Kind: k, Intent: intent, Amount: amt, Segmented: true}
	e.BirthYear, e.Products = insSegment(c, insights.DayOf(at))
	return e
}

func insRandomEvents(r *rand.Rand, customers, n, days int) []insights.Event {
	intents := []string{"balance", "history", "payment", "card"}
	var out []insights.Event
	for range n {
		c := bankbridge.CustomerID(1 + r.IntN(customers))
		at := insT0.AddDate(0, 0, r.IntN(days)).Add(time.Duration(r.IntN(86400)) * time.Second)
		k := insights.Kinds[r.IntN(len(insights.Kinds))]
		var intent string
		var amt ledger.Amount
		if k == insights.Action || k == insights.Intent || k == insights.Payment {
			intent = intents[r.IntN(len(intents))]
		}
		if k == insights.Payment {
			amt = ledger.Amount(100 + r.IntN(100000))
		}
		out = append(out, insEvent(c, at, insights.Channels[r.IntN(len(insights.Channels))], k, intent, amt))
	}
	return out
}

// insCell names a model cell: facet, day (or cohort Monday), offset, band.
type insCell struct {
	facet  insights.Facet
	w      int
	day    insights.Day
	offset int
	band   insights.Band
	prod   bool // restricted to customers holding the test's product
}

// insModel computes from raw events what the rollups must hold: customers
// and events per facet, day and band; customers in each window ending on
// each day; cohorts. A customer-day's segment is the one every event of that
// day carries (insSegment depends on the day only).
func insModel(events []insights.Event, p insights.Product, lastDay insights.Day) (daily map[insCell]insights.Sums, window, cohort map[insCell]int64) {
	type cf struct {
		c bankbridge.CustomerID
		f insights.Facet
	}
	days := map[cf]map[insights.Day]bool{}
	daily = map[insCell]insights.Sums{}
	seg := func(c bankbridge.CustomerID, d insights.Day) insights.Segment {
		by, pr := insSegment(c, d)
		return insights.Segment{Band: insights.BandOf(by, d.Time()), Products: pr}
	}
	var buf []insights.Facet
	for _, e := range events {
		d := insights.DayOf(e.At)
		s := seg(e.Customer, d)
		for _, f := range insights.FacetsOf(e, buf[:0]) {
			k := cf{e.Customer, f}
			if days[k] == nil {
				days[k] = map[insights.Day]bool{}
			}
			for _, only := range []bool{false, true} {
				if only && !s.Products.Has(p) {
					continue
				}
				c := insCell{facet: f, day: d, band: s.Band, prod: only}
				v := daily[c]
				v.Events++
				if f.Metric == insights.MetricPayment {
					v.Amount += int64(e.Amount)
				}
				if !days[k][d] {
					v.Customers++
				}
				daily[c] = v
			}
			days[k][d] = true
		}
	}
	window, cohort = map[insCell]int64{}, map[insCell]int64{}
	for k, ds := range days {
		sorted := slices.Sorted(func(yield func(insights.Day) bool) {
			for d := range ds {
				if !yield(d) {
					return
				}
			}
		})
		for _, w := range insights.Windows {
			for t := sorted[0]; t <= lastDay+insights.Day(w); t++ {
				// The first day in (t-w, t] decides the segment.
				var latest insights.Day
				found := false
				for _, d := range sorted {
					if d > t-insights.Day(w) && d <= t {
						latest, found = d, true
						break
					}
				}
				if !found {
					continue
				}
				s := seg(k.c, latest)
				window[insCell{facet: k.f, w: w, day: t, band: s.Band}]++
				if s.Products.Has(p) {
					window[insCell{facet: k.f, w: w, day: t, band: s.Band, prod: true}]++
				}
			}
		}
		if k.f.Metric != insights.MetricActive {
			continue
		}
		first := sorted[0].Week()
		s := seg(k.c, sorted[0])
		weeks := map[insights.Week]bool{}
		for _, d := range sorted {
			weeks[d.Week()] = true
		}
		for w := range weeks {
			cohort[insCell{facet: k.f, day: first.Start(), offset: int(w - first), band: s.Band}]++
			if s.Products.Has(p) {
				cohort[insCell{facet: k.f, day: first.Start(), offset: int(w - first), band: s.Band, prod: true}]++
			}
		}
	}
	return daily, window, cohort
}

func insightsModel(t *testing.T, open InsightsOpener) {
	ctx, st := context.Background(), open(t)
	r := rand.New(rand.NewPCG(7, 11))
	const days = 50
	events := insRandomEvents(r, 30, 3000, days)
	// Batches of random sizes, written in a shuffled order: days arrive
	// before, between and after days already folded.
	var batches [][]insights.Event
	for rest := events; len(rest) > 0; {
		n := min(len(rest), 1+r.IntN(400))
		batches = append(batches, rest[:n])
		rest = rest[n:]
	}
	r.Shuffle(len(batches), func(i, j int) { batches[i], batches[j] = batches[j], batches[i] })
	svc := insights.New(st, insights.Options{})
	for _, b := range batches {
		if err := svc.Ingest(ctx, b); err != nil {
			t.Fatalf("Ingest: %v", err)
		}
	}
	const p = insights.Savings
	last := insights.DayOf(insT0) + days - 1
	wantDaily, wantWindow, wantCohort := insModel(events, p, last)

	ids, err := st.Facets(ctx)
	noErr(t, err)
	byID := map[insights.FacetID]insights.Facet{}
	var all []insights.FacetID
	for f, id := range ids {
		byID[id] = f
		all = append(all, id)
	}
	if len(ids) != len(facetSet(events)) {
		t.Errorf("%d facets stored, want %d", len(ids), len(facetSet(events)))
	}
	first := insights.DayOf(insT0)
	rows, err := st.Daily(ctx, insights.Query{Facets: all, From: first, To: last + 400, ByDay: true, Product: p})
	noErr(t, err)
	gotDaily := map[insCell]insights.Sums{}
	for _, row := range rows {
		if row.All != (insights.Sums{}) {
			gotDaily[insCell{facet: byID[row.Facet], day: row.Day, band: row.Band}] = row.All
		}
		if row.Prod != (insights.Sums{}) {
			gotDaily[insCell{facet: byID[row.Facet], day: row.Day, band: row.Band, prod: true}] = row.Prod
		}
	}
	if d := cmp.Diff(wantDaily, gotDaily); d != "" {
		t.Errorf("daily cells differ from the model (-want +got):\n%s", d)
	}

	gotWindow := map[insCell]int64{}
	for _, w := range insights.Windows {
		rows, err := st.Window(ctx, insights.Query{Facets: all, W: w, From: insights.MinDay, To: last + 400, ByDay: true, Product: p})
		noErr(t, err)
		slices.SortFunc(rows, func(a, b insights.Row) int { return int(a.Day - b.Day) })
		type fb struct {
			f insights.FacetID
			b insights.Band
		}
		run, runP := map[fb]int64{}, map[fb]int64{}
		byDay := map[insights.Day][]insights.Row{}
		for _, row := range rows {
			byDay[row.Day] = append(byDay[row.Day], row)
		}
		for d := first; d <= last+insights.Day(w); d++ {
			for _, row := range byDay[d] {
				run[fb{row.Facet, row.Band}] += row.All.Customers
				runP[fb{row.Facet, row.Band}] += row.Prod.Customers
			}
			for k, n := range run {
				if n != 0 {
					gotWindow[insCell{facet: byID[k.f], w: w, day: d, band: k.b}] = n
				}
				if n := runP[k]; n != 0 {
					gotWindow[insCell{facet: byID[k.f], w: w, day: d, band: k.b, prod: true}] = n
				}
			}
		}
		// Every window closes: the deltas sum to zero past the last day.
		for k, n := range run {
			if n != 0 {
				t.Errorf("window %d of facet %v band %d: deltas sum to %d, want 0", w, byID[k.f], k.b, n)
			}
		}
	}
	if d := cmp.Diff(wantWindow, gotWindow); d != "" {
		t.Errorf("customers per window differ from the model (-want +got):\n%s", d)
	}

	rows, err = st.Cohorts(ctx, insights.Query{Facets: all, From: first - 7, To: last + 7, Product: p})
	noErr(t, err)
	gotCohort := map[insCell]int64{}
	for _, row := range rows {
		if row.All.Customers != 0 {
			gotCohort[insCell{facet: byID[row.Facet], day: row.Day, offset: row.Offset, band: row.Band}] = row.All.Customers
		}
		if row.Prod.Customers != 0 {
			gotCohort[insCell{facet: byID[row.Facet], day: row.Day, offset: row.Offset, band: row.Band, prod: true}] = row.Prod.Customers
		}
	}
	if d := cmp.Diff(wantCohort, gotCohort); d != "" {
		t.Errorf("cohorts differ from the model (-want +got):\n%s", d)
	}

	f, l, ok, err := st.Span(ctx)
	if err != nil || !ok || f != first || l != last {
		t.Errorf("Span() = %v, %v, %v, %v; want %v, %v, true", f, l, ok, err, first, last)
	}
}

func facetSet(events []insights.Event) map[insights.Facet]bool {
	m := map[insights.Facet]bool{}
	for _, e := range events {
		for _, f := range insights.FacetsOf(e, nil) {
			m[f] = true
		}
	}
	return m
}

func insightsAtomic(t *testing.T, open InsightsOpener) {
	ctx, st := context.Background(), open(t)
	if _, _, ok, err := st.Span(ctx); err != nil || ok {
		t.Fatalf("empty store: Span ok=%v err=%v, want false, nil", ok, err)
	}
	boom := errors.New("boom")
	err := st.Update(ctx, func(tx insights.Tx) error {
		ids, err := tx.FacetIDs(ctx, []insights.Facet{{Metric: insights.MetricActive, Channel: "web"}})
		if err != nil {
			return err
		}
		id := ids[insights.Facet{Metric: insights.MetricActive, Channel: "web"}]
		c := &insights.Changes{
			Spans:    []insights.Span{{Key: insights.KeyOf(1, id), Bits: []byte{1}, First: 10, Last: 10}},
			Activity: []insights.Activity{{Day: 10, Customer: 1, Channel: insights.Web}},
			Daily:    []insights.Cell{{Facet: id, Day: 10, Sums: insights.Sums{Customers: 1, Events: 1}}},
			Window:   []insights.Cell{{Facet: id, W: 7, Day: 10, Sums: insights.Sums{Customers: 1}}},
			Cohort:   []insights.Cell{{Facet: id, Day: 6, Sums: insights.Sums{Customers: 1}}},
		}
		if err := tx.Apply(ctx, c); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want the function's error", err)
	}
	ids, err := st.Facets(ctx)
	if err != nil || len(ids) != 0 {
		t.Errorf("after a failed update: facets %v, %v; want none", ids, err)
	}
	if _, _, ok, err := st.Span(ctx); err != nil || ok {
		t.Errorf("after a failed update: Span ok=%v err=%v, want nothing stored", ok, err)
	}
	// A facet created in a failed update gets a working id next time, and
	// ids stay the same afterwards.
	svc := insights.New(st, insights.Options{})
	e := insEvent(1, insT0, insights.Web, insights.Session, "", 0)
	noErr(t, svc.Ingest(ctx, []insights.Event{e}))
	before, _ := st.Facets(ctx)
	noErr(t, svc.Ingest(ctx, []insights.Event{insEvent(2, insT0, insights.Messenger, insights.Intent, "balance", 0)}))
	after, _ := st.Facets(ctx)
	for f, id := range before {
		if after[f] != id {
			t.Errorf("facet %v changed id from %d to %d", f, id, after[f])
		}
	}
	// Invalid and unsegmented events are refused whole.
	bad := insEvent(3, insT0, "fax", insights.Session, "", 0)
	if err := svc.Ingest(ctx, []insights.Event{e, bad}); !errors.Is(err, insights.ErrEvent) {
		t.Errorf("Ingest with an unknown channel: %v, want ErrEvent", err)
	}
	e.Segmented = false
	if err := svc.Ingest(ctx, []insights.Event{e}); !errors.Is(err, insights.ErrEvent) {
		t.Errorf("Ingest of an unsegmented event: %v, want ErrEvent", err)
	}
}

// insightsReports builds a small bank whose numbers are known: 40 customers
// on the web only, 25 on the messenger only, 15 on both, 12 on the partner
// API too (of the web-only ones), all aged 25-34 except 3 web-only ones aged
// 65+; and checks what the reports publish and withhold.
func insightsReports(t *testing.T, open InsightsOpener) {
	ctx, st := context.Background(), open(t)
	svc := insights.New(st, insights.Options{})
	var events []insights.Event
	day := insT0.AddDate(0, 1, 0) // 2026-01-01: every band as of 2026
	add := func(c bankbridge.CustomerID, ch insights.Channel, k insights.Kind, intent string, amt ledger.Amount, by int) {
		e := insights.Event{At: day.Add(time.Duration(c) * time.Minute), Customer: c, Channel: ch, Kind: k, Intent: intent,
			Amount: amt, BirthYear: by, Products: insights.Products(insights.Checking), Segmented: true}
		events = append(events, e)
	}
	for c := bankbridge.CustomerID(1); c <= 95; c++ {
		by := 1996 // 30 in 2026
		if c <= 3 {
			by = 1950 // 76: 65+
		}
		switch {
		case c <= 40:
			add(c, insights.Web, insights.Session, "", 0, by)
			add(c, insights.Web, insights.Payment, "payment", 1000, by)
			if c > 28 {
				add(c, insights.PartnerAPI, insights.Action, "balance", 0, by)
			}
		case c <= 65:
			add(c, insights.Messenger, insights.Intent, "balance", 0, by)
			add(c, insights.Messenger, insights.AlertSent, "", 0, by)
			add(c, insights.Messenger, insights.AlertOpened, "", 0, by)
		default:
			add(c, insights.Web, insights.Session, "", 0, by)
			add(c, insights.Messenger, insights.Intent, "history", 0, by)
			if c <= 70 {
				add(c, insights.Messenger, insights.Intent, "card", 0, by)
			}
		}
	}
	noErr(t, svc.Ingest(ctx, events))
	f := insights.Filter{End: insights.DayOf(day), Days: 30}
	num := func(c insights.Count) string { return c.String() }

	reach, err := svc.Reach(ctx, f)
	noErr(t, err)
	var got []string
	for _, r := range reach {
		got = append(got, fmt.Sprintf("%s %s %s", r.Channel, num(r.Customers), num(r.Events)))
	}
	// Telegram and WhatsApp, where nobody was, are shown suppressed (zero
	// is a small group too).
	want := []string{"web 70 110", "messenger 55 85", "telegram suppressed suppressed", "whatsapp suppressed suppressed", "partner_api 12 12"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Reach (-want +got):\n%s", d)
	}

	// 65+ has 3 customers: withheld, and so is one more band (25-34 is the
	// only other one with customers), so that "all ages" minus the shown
	// bands cannot give the 3 back; the total stays.
	f65 := f
	f65.Band, _ = insights.ParseBand("65+")
	r65, err := svc.Reach(ctx, f65)
	noErr(t, err)
	f25 := f
	f25.Band, _ = insights.ParseBand("25-34")
	r25, err := svc.Reach(ctx, f25)
	noErr(t, err)
	if !r65[0].Customers.Suppressed() || !r65[0].Events.Suppressed() {
		t.Errorf("web reach of 65+ (3 customers) published: %v, %v", r65[0].Customers, r65[0].Events)
	}
	if !r25[0].Customers.Suppressed() {
		t.Errorf("web reach of 25-34 published as %v: with the all-ages total it gives back the 3 customers of 65+", r25[0].Customers)
	}
	if v, ok := r25[1].Customers.Value(); !ok || v != 55 {
		t.Errorf("messenger reach of 25-34 = %v, want 55 (no small band there)", r25[1].Customers)
	}

	o, err := svc.Overlap(ctx, f)
	noErr(t, err)
	gotO := fmt.Sprintf("withheld=%v any=%s own=%s platform=%s both=%s", o.Withheld, num(o.Any), num(o.OwnOnly), num(o.PlatformOnly), num(o.Both))
	if want := "withheld=false any=95 own=28 platform=25 both=42"; gotO != want {
		t.Errorf("Overlap = %s, want %s", gotO, want)
	}
	var uniq []string
	for _, u := range o.Unique {
		uniq = append(uniq, fmt.Sprintf("%s %s/%s", u.Channel, num(u.Customers), num(u.Reach)))
	}
	if d := cmp.Diff([]string{"web 28/70", "messenger 25/55", "telegram suppressed/suppressed", "whatsapp suppressed/suppressed", "partner_api suppressed/12"}, uniq); d != "" {
		t.Errorf("unique reach (-want +got):\n%s", d)
	}

	in, err := svc.Intents(ctx, f)
	noErr(t, err)
	var gotI []string
	for _, i := range in {
		gotI = append(gotI, fmt.Sprintf("%s %s %s %s", i.Intent, num(i.Customers), num(i.Events), i.Share))
	}
	// "card": 5 customers, withheld, and left out of the shares.
	if d := cmp.Diff([]string{"payment 40 40 37.4%", "balance 37 37 34.6%", "history 30 30 28.0%", "card suppressed suppressed suppressed"}, gotI); d != "" {
		t.Errorf("Intents (-want +got):\n%s", d)
	}

	pay, err := svc.Payments(ctx, f)
	noErr(t, err)
	if v, ok := pay[0].Value.Value(); !ok || v != 40000 || pay[0].Channel != insights.Web {
		t.Errorf("web payments value = %v, want 40000", pay[0].Value)
	}
	al, err := svc.Alerts(ctx, f)
	noErr(t, err)
	if al[1].Channel != insights.Messenger || al[1].OpenRate.String() != "100.0%" || !al[1].AnswerRate.Suppressed() {
		t.Errorf("messenger alerts = %+v, want open rate 100%% and the answer rate withheld (nobody answered)", al[1])
	}

	tr, err := svc.Trends(ctx, f)
	noErr(t, err)
	lastP := tr[0].Points[len(tr[0].Points)-1]
	if lastP.Day != f.End || num(lastP.DAU) != "70" || num(lastP.MAU) != "70" || lastP.Stickiness.String() != "100.0%" {
		t.Errorf("web trend on the last day = %+v", lastP)
	}
	if !tr[0].Points[0].DAU.Suppressed() {
		t.Errorf("web DAU on a day without activity = %v, want suppressed (0 is fewer than %d)", tr[0].Points[0].DAU, insights.MinCustomers)
	}

	co, err := svc.Cohorts(ctx, insights.Filter{End: insights.DayOf(day).Week().Start() + 6, Days: 7})
	noErr(t, err)
	if len(co) != 1 || num(co[0].Size) != "95" || co[0].Week != insights.DayOf(day).Week().Start() {
		t.Errorf("Cohorts = %+v, want one cohort of 95 starting %v", co, insights.DayOf(day).Week().Start())
	}
}
