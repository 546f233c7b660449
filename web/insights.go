package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/ledger"
)

// Engagement is what the console's engagement page needs of insights:
// *insights.Service implements it. Every number it returns is an aggregate
// already checked against the privacy rules; the page adds none of its own.
type Engagement interface {
	ParseFilter(ctx context.Context, get func(string) string) (insights.Filter, error)
	Dashboard(ctx context.Context, f insights.Filter) (insights.Dashboard, error)
}

// EventRecorder takes the web app's engagement events: *insights.Recorder
// implements it. Record must not block (the Recorder buffers, and drops
// rather than waits).
type EventRecorder interface {
	Record(e insights.Event)
}

// insightRoles may open the engagement page.
var insightRoles = []identity.Role{identity.Administrator, identity.Compliance, identity.Analyst}

// record sends one web event for customer c, when events are recorded.
func (s *server) record(c bankbridge.CustomerID, k insights.Kind, intent string, amt ledger.Amount) {
	if s.Events == nil || c <= 0 {
		return
	}
	s.Events.Record(insights.Event{At: s.Now(), Customer: c, Channel: insights.Web, Kind: k, Intent: intent, Amount: amt})
}

// option is one choice of a filter's select.
type option struct {
	Value, Label string
	Selected     bool
}

// chart is one figure: an inline SVG with its title, and the table a
// screen reader (or anyone) can read instead.
type chart struct {
	ID, Title, Desc string
	SVG             template.HTML
	Table           table
	CSV             string // export URL
}

// table is a data table: a header and rows of cells already formatted.
type table struct {
	Head []string
	Rows [][]string
}

// insightsView is the engagement page.
type insightsView struct {
	Error                              string
	HasData                            bool
	End                                string
	Periods, Bands, Products, Channels []option
	Range                              string
	Summary                            []string
	Charts                             []chart
	Payments, Alerts                   chart
	Query                              string // the filter as a query string, for exports
	Withheld                           bool
}

// channelStyle gives each channel a colour (contrast 4.5:1 on white) and a
// dash pattern, so that lines differ without colour too.
var channelStyle = map[insights.Channel]struct{ color, dash string }{
	insights.Web:        {"#0b5394", ""},
	insights.Messenger:  {"#0f6b3a", "6 3"},
	insights.Telegram:   {"#1a5a8a", "1 2"},
	insights.WhatsApp:   {"#2f5d1a", "8 2 2 2"},
	insights.PartnerAPI: {"#9a4a00", "2 3"},
}

func (s *server) insightsPage(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Insights == nil {
		s.failPage(w, r, v, http.StatusNotFound, "Not available", "Engagement reports are not configured on this server.")
		return
	}
	p := s.consolePage(v, "Engagement")
	p.Nav = "insights"
	q := r.URL.Query()
	f, err := s.Insights.ParseFilter(r.Context(), q.Get)
	if err != nil {
		if bankbridge.ErrorKind(err) != bankbridge.Invalid {
			s.fail(w, r, err)
			return
		}
		p.Data = insightsView{Error: bankbridge.ErrorMessage(err) + ".", Periods: periodOptions(insights.DefaultPeriod)}
		s.render(w, r, http.StatusBadRequest, "insights", p)
		return
	}
	d, err := s.Insights.Dashboard(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Data = buildInsightsView(d)
	s.render(w, r, http.StatusOK, "insights", p)
}

func filterQuery(f insights.Filter) url.Values {
	q := url.Values{"end": {f.End.String()}, "days": {strconv.Itoa(f.Days)}}
	if f.Band != 0 {
		q.Set("band", string(f.Band.AgeBand()))
	}
	if f.Product != 0 {
		q.Set("product", f.Product.String())
	}
	if f.Channel != "" {
		q.Set("channel", string(f.Channel))
	}
	return q
}

func periodOptions(days int) []option {
	var out []option
	for _, n := range insights.Periods {
		out = append(out, option{strconv.Itoa(n), fmt.Sprintf("%d days", n), n == days})
	}
	return out
}

func buildInsightsView(d insights.Dashboard) insightsView {
	f := d.Filter
	qs := filterQuery(f).Encode()
	v := insightsView{HasData: d.HasData, End: f.End.String(), Periods: periodOptions(f.Days), Summary: d.Summary,
		Query: qs, Withheld: d.Overlap.Withheld,
		Range: fmt.Sprintf("%s to %s", f.From().Time().Format("2 Jan 2006"), f.End.Time().Format("2 Jan 2006"))}
	v.Bands = []option{{"", "All ages", f.Band == 0}}
	for _, b := range insights.FilterBands() {
		v.Bands = append(v.Bands, option{string(b.AgeBand()), string(b.AgeBand()), b == f.Band})
	}
	v.Products = []option{{"", "Any product", f.Product == 0}}
	for _, p := range insights.ProductList {
		v.Products = append(v.Products, option{p.String(), p.Label(), p == f.Product})
	}
	v.Channels = []option{{"", "Every channel", f.Channel == ""}}
	for _, c := range insights.Channels {
		v.Channels = append(v.Channels, option{string(c), c.Label(), c == f.Channel})
	}
	export := func(name string) string { return "/console/insights.csv?table=" + name + "&" + qs }
	tables := insightsTables(d)

	dau := lineChart("Daily active customers", d.Trends, func(p insights.Point) insights.Count { return p.DAU })
	v.Charts = append(v.Charts, chart{ID: "dau", Title: "Daily active customers by channel",
		Desc: "One line per channel: customers active on each day. Gaps are days withheld for privacy.",
		SVG:  dau, Table: tables["trends"], CSV: export("trends")})
	mau := lineChart("Monthly active customers", d.Trends, func(p insights.Point) insights.Count { return p.MAU })
	v.Charts = append(v.Charts, chart{ID: "mau", Title: "Monthly active customers (last 30 days) by channel",
		Desc: "One line per channel: customers active at least once in the 30 days up to each day.",
		SVG:  mau, Table: tables["trends"], CSV: export("trends")})

	var reachBars []bar
	for _, u := range d.Overlap.Unique {
		reachBars = append(reachBars, bar{Label: u.Channel.Label(), Value: u.Reach, Color: channelStyle[u.Channel].color},
			bar{Label: "… no other channel", Value: u.Customers, Color: channelStyle[u.Channel].color, Light: true})
	}
	v.Charts = append(v.Charts, chart{ID: "reach", Title: "Customers reached in the period, and those no other channel reached",
		Desc: "For each channel, a dark bar for every customer it reached and a light bar for those it alone reached.",
		SVG:  barChart("Customers reached by channel", reachBars), Table: tables["reach"], CSV: export("reach")})

	o := d.Overlap
	v.Charts = append(v.Charts, chart{ID: "overlap", Title: "Own channel, platforms, or both",
		Desc: "Customers engaged in the period: only on the bank's own app, on both, or only on platforms and partner apps.",
		SVG: barChart("Channel overlap", []bar{
			{Label: "Own app only", Value: o.OwnOnly, Color: "#0b5394"},
			{Label: "Both", Value: o.Both, Color: "#4b3b8f"},
			{Label: "Platforms only", Value: o.PlatformOnly, Color: "#0f6b3a"},
		}), Table: tables["overlap"], CSV: export("overlap")})

	var ib []bar
	for _, i := range d.Intents {
		ib = append(ib, bar{Label: i.Intent, Value: i.Events, Color: "#4b3b8f"})
	}
	v.Charts = append(v.Charts, chart{ID: "intents", Title: "What customers came to do (intent mix)",
		Desc: "How often each intent was expressed in the period: app actions, requests to the assistant and payments.",
		SVG:  barChart("Intent mix", ib), Table: tables["intents"], CSV: export("intents")})

	v.Charts = append(v.Charts, chart{ID: "cohorts", Title: "Weekly retention cohorts",
		Desc: "Each row is the customers first active in one week; each cell the share of them active again k weeks later. Darker is higher.",
		SVG:  heatMap(d.Cohorts), Table: tables["cohorts"], CSV: export("cohorts")})

	var pb []bar
	for _, p := range d.Payments {
		if p.Channel != "" {
			pb = append(pb, bar{Label: p.Channel.Label(), Value: p.Value, Color: channelStyle[p.Channel].color, Money: true})
		}
	}
	v.Payments = chart{ID: "payments", Title: "Payments by channel", Desc: "The value of payments made on each channel in the period.",
		SVG: barChart("Payment value by channel", pb), Table: tables["payments"], CSV: export("payments")}
	v.Alerts = chart{ID: "alerts", Title: "Alerts: opened and answered", Table: tables["alerts"], CSV: export("alerts")}
	return v
}

// cell formats a count for a table.
func cell(c insights.Count) string { return c.String() }

func moneyCell(c insights.Count) string {
	if n, ok := c.Value(); ok {
		return ledger.Amount(n).Display("USD")
	}
	return "suppressed"
}

func chName(c insights.Channel) string {
	if c == "" {
		return "All channels"
	}
	return c.Label()
}

// insightsTables is every table of the page, by export name.
func insightsTables(d insights.Dashboard) map[string]table {
	out := map[string]table{}
	t := table{Head: []string{"Date", "Channel", "Daily active", "Weekly active", "Monthly active", "Stickiness (DAU/MAU)"}}
	for _, tr := range d.Trends {
		for _, p := range tr.Points {
			t.Rows = append(t.Rows, []string{p.Day.String(), tr.Channel.Label(), cell(p.DAU), cell(p.WAU), cell(p.MAU), p.Stickiness.String()})
		}
	}
	out["trends"] = t
	t = table{Head: []string{"Channel", "Customers reached", "Reached by no other channel", "Events"}}
	ev := map[insights.Channel]insights.Count{}
	for _, r := range d.Reach {
		ev[r.Channel] = r.Events
	}
	for _, u := range d.Overlap.Unique {
		e, ok := ev[u.Channel]
		if !ok {
			e = insights.Suppressed
		}
		t.Rows = append(t.Rows, []string{u.Channel.Label(), cell(u.Reach), cell(u.Customers), cell(e)})
	}
	out["reach"] = t
	o := d.Overlap
	out["overlap"] = table{Head: []string{"Group", "Customers"}, Rows: [][]string{
		{"Engaged on any channel", cell(o.Any)}, {"Own app only", cell(o.OwnOnly)}, {"Both", cell(o.Both)}, {"Platforms only", cell(o.PlatformOnly)}}}
	t = table{Head: []string{"Intent", "Times", "Customers", "Share"}}
	for _, i := range d.Intents {
		t.Rows = append(t.Rows, []string{i.Intent, cell(i.Events), cell(i.Customers), i.Share.String()})
	}
	out["intents"] = t
	t = table{Head: []string{"Channel", "Payments", "Value", "Customers who paid"}}
	for _, p := range d.Payments {
		t.Rows = append(t.Rows, []string{chName(p.Channel), cell(p.Payments), moneyCell(p.Value), cell(p.Customers)})
	}
	out["payments"] = t
	t = table{Head: []string{"Channel", "Alerts sent", "Opened", "Answered", "Open rate", "Answer rate", "Customers alerted"}}
	for _, a := range d.Alerts {
		t.Rows = append(t.Rows, []string{chName(a.Channel), cell(a.Sent), cell(a.Opened), cell(a.Answered), a.OpenRate.String(), a.AnswerRate.String(), cell(a.Recipients)})
	}
	out["alerts"] = t
	t = table{Head: []string{"Cohort (week of)", "Customers"}}
	weeks := 0
	for _, c := range d.Cohorts {
		weeks = max(weeks, len(c.Retained))
	}
	for k := 1; k < weeks; k++ {
		t.Head = append(t.Head, fmt.Sprintf("Week %d", k))
	}
	for _, c := range d.Cohorts {
		row := []string{c.Week.String(), cell(c.Size)}
		for k := 1; k < weeks; k++ {
			if k < len(c.Retained) {
				row = append(row, c.Retained[k].String())
			} else {
				row = append(row, "")
			}
		}
		t.Rows = append(t.Rows, row)
	}
	out["cohorts"] = t
	return out
}

// insightsCSV exports one table of the page as CSV: the same cells, the
// same suppressions.
func (s *server) insightsCSV(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Insights == nil {
		s.notFound(w, r, v)
		return
	}
	q := r.URL.Query()
	f, err := s.Insights.ParseFilter(r.Context(), q.Get)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.Insights.Dashboard(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name := q.Get("table")
	t, ok := insightsTables(d)[name]
	if !ok {
		s.failPage(w, r, v, http.StatusBadRequest, "Bad request", "There is no table of that name to export.")
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="engagement-%s-%s-%dd.csv"`, name, f.End, f.Days))
	cw := csv.NewWriter(w)
	cw.Write(t.Head)
	for _, row := range t.Rows {
		cw.Write(csvSafe(row))
	}
	cw.Flush()
}

// csvSafe keeps a cell from being read as a formula by a spreadsheet.
func csvSafe(row []string) []string {
	out := make([]string, len(row))
	for i, c := range row {
		if c != "" && strings.ContainsRune("=+-@", rune(c[0])) {
			c = "'" + c
		}
		out[i] = c
	}
	return out
}

// Charts: inline SVG built here, with every piece of text escaped. Styling
// is by presentation attributes (fill, stroke), which the CSP's
// style-src 'self' allows, and by classes of the page's style sheet.

const (
	chartW, chartH         = 640, 260
	padL, padR, padT, padB = 56, 16, 16, 40
)

func esc(s string) string { return template.HTMLEscapeString(s) }

// niceMax rounds v up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 10
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func axisLabel(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// lineChart draws one line per trend; a withheld day breaks the line.
func lineChart(title string, trends []insights.Trend, val func(insights.Point) insights.Count) template.HTML {
	var b strings.Builder
	var top float64
	n := 0
	for _, t := range trends {
		n = max(n, len(t.Points))
		for _, p := range t.Points {
			if x, ok := val(p).Value(); ok {
				top = max(top, float64(x))
			}
		}
	}
	top = niceMax(top)
	iw, ih := float64(chartW-padL-padR), float64(chartH-padT-padB)
	xAt := func(i int) float64 {
		if n <= 1 {
			return padL
		}
		return padL + iw*float64(i)/float64(n-1)
	}
	yAt := func(v float64) float64 { return padT + ih - ih*v/top }
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" focusable="false">`, chartW, chartH+24, esc(title))
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		y := yAt(v)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#d3d9df" stroke-width="1"/>`, padL, chartW-padR, y, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" font-size="11" fill="#4a5663">%s</text>`, padL-6, y+4, esc(axisLabel(v)))
	}
	if len(trends) > 0 && n > 0 {
		pts := trends[0].Points
		for _, i := range []int{0, n / 2, n - 1} {
			anchor := "middle"
			if i == 0 {
				anchor = "start"
			} else if i == n-1 {
				anchor = "end"
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="%s" font-size="11" fill="#4a5663">%s</text>`,
				xAt(i), chartH-padB+16, anchor, esc(pts[i].Day.Time().Format("2 Jan")))
		}
	}
	for _, t := range trends {
		st := channelStyle[t.Channel]
		var path strings.Builder
		pen := false
		for i, p := range t.Points {
			x, ok := val(p).Value()
			if !ok {
				pen = false
				continue
			}
			cmd := "L"
			if !pen {
				cmd = "M"
			}
			fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, xAt(i), yAt(float64(x)))
			pen = true
		}
		if path.Len() > 0 {
			fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="2"`, strings.TrimSpace(path.String()), st.color)
			if st.dash != "" {
				fmt.Fprintf(&b, ` stroke-dasharray="%s"`, st.dash)
			}
			b.WriteString(`/>`)
		}
	}
	// Legend.
	x := padL
	for _, t := range trends {
		st := channelStyle[t.Channel]
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="3"`, x, x+24, chartH+10, chartH+10, st.color)
		if st.dash != "" {
			fmt.Fprintf(&b, ` stroke-dasharray="%s"`, st.dash)
		}
		fmt.Fprintf(&b, `/><text x="%d" y="%d" font-size="12" fill="#14202b">%s</text>`, x+30, chartH+14, esc(t.Channel.Label()))
		x += 40 + 8*len(t.Channel.Label())
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// bar is one bar of a bar chart.
type bar struct {
	Label string
	Value insights.Count
	Color string
	Light bool // drawn paler: a part of the bar above it
	Money bool // Value is minor units
}

// barChart draws horizontal bars; a withheld value shows as a hatched
// stub labelled "suppressed".
func barChart(title string, bars []bar) template.HTML {
	const rowH, labelW = 30, 250
	h := padT + rowH*max(len(bars), 1) + 8
	var top float64
	for _, br := range bars {
		if v, ok := br.Value.Value(); ok {
			top = max(top, float64(v))
		}
	}
	top = niceMax(top)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" focusable="false">`, chartW, h, esc(title))
	fmt.Fprintf(&b, `<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#6b7682" stroke-width="2"/></pattern></defs>`)
	iw := float64(chartW - labelW - padR - 90)
	if len(bars) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13" fill="#4a5663">No data for this filter.</text>`, padL, padT+18)
	}
	for i, br := range bars {
		y := padT + i*rowH
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="12" fill="#14202b">%s</text>`, labelW-8, y+18, esc(br.Label))
		v, ok := br.Value.Value()
		if !ok {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="40" height="20" fill="url(#hatch)" stroke="#6b7682"/>`, labelW, y+4)
			fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" fill="#4a5663">suppressed</text>`, labelW+48, y+18)
			continue
		}
		wd := iw * float64(v) / top
		op := "1"
		if br.Light {
			op = "0.45"
		}
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="20" fill="%s" fill-opacity="%s"/>`, labelW, y+4, max(wd, 1), br.Color, op)
		label := ledger.Grouped(v)
		if br.Money {
			label = ledger.Amount(v).Display("USD")
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="12" fill="#14202b">%s</text>`, float64(labelW)+max(wd, 1)+6, y+18, esc(label))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// heatMap draws the cohorts: a row per cohort week, a cell per week since,
// darker for a higher share retained; withheld cells are hatched.
func heatMap(cs []insights.Cohort) template.HTML {
	const cw, chh, lw = 30, 20, 96
	cols := 0
	for _, c := range cs {
		cols = max(cols, len(c.Retained))
	}
	w := lw + cols*cw + 8
	h := padT + 16 + len(cs)*chh + 8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart heat" viewBox="0 0 %d %d" role="img" aria-label="Weekly retention cohorts" focusable="false">`, max(w, 200), max(h, 60))
	fmt.Fprintf(&b, `<defs><pattern id="hatch2" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#9aa4ae" stroke-width="2"/></pattern></defs>`)
	if len(cs) == 0 {
		fmt.Fprintf(&b, `<text x="8" y="%d" font-size="13" fill="#4a5663">No whole cohort week in this period.</text>`, padT+18)
	}
	for k := 0; k < cols; k++ {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="10" fill="#4a5663">%d</text>`, lw+k*cw+cw/2, padT+8, k)
	}
	for i, c := range cs {
		y := padT + 16 + i*chh
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="11" fill="#14202b">%s</text>`, lw-6, y+14, esc(c.Week.Time().Format("2 Jan")))
		for k, r := range c.Retained {
			x := lw + k*cw
			v, ok := r.Value()
			if !ok {
				fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="url(#hatch2)"/>`, x+1, y+1, cw-2, chh-2)
				continue
			}
			// Light to dark blue by share retained.
			l := 95 - 65*math.Sqrt(v)
			ink := "#14202b"
			if l < 55 {
				ink = "#ffffff"
			}
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="hsl(210,70%%,%.0f%%)"><title>%s, week %d: %s</title></rect>`,
				x+1, y+1, cw-2, chh-2, l, esc(c.Week.String()), k, esc(r.String()))
			if k > 0 {
				fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="9" fill="%s">%.0f</text>`, x+cw/2, y+14, ink, v*100)
			}
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
