package insights

import (
	"cmp"
	"context"
	"slices"
)

// Point is one day of a channel's activity: daily, weekly (7 days) and
// monthly (30 days) active customers, and stickiness (DAU/MAU).
type Point struct {
	Day           Day
	DAU, WAU, MAU Count
	Stickiness    Ratio
}

// Trend is a channel's activity over the period, one Point a day.
type Trend struct {
	Channel Channel
	Points  []Point
}

// Trends returns DAU, WAU, MAU and stickiness per channel for every day of
// the period.
func (s *Service) Trends(ctx context.Context, f Filter) ([]Trend, error) {
	const op = "insights.Trends"
	if err := f.Validate(); err != nil {
		return nil, err
	}
	chans := f.channels()
	var fs []Facet
	for _, c := range chans {
		fs = append(fs, Facet{MetricActive, string(c), ""})
	}
	m, ids, err := s.ids(ctx, fs...)
	if err != nil {
		return nil, check(op, err)
	}
	dau, err := s.daily(ctx, ids, f, true)
	if err != nil {
		return nil, check(op, err)
	}
	wau, err := s.reachFiltered(ctx, ids, 7, f)
	if err != nil {
		return nil, check(op, err)
	}
	mau, err := s.reachFiltered(ctx, ids, 30, f)
	if err != nil {
		return nil, check(op, err)
	}
	var out []Trend
	for i, c := range chans {
		id, ok := m[fs[i]]
		t := Trend{Channel: c}
		for d := f.From(); d <= f.End; d++ {
			p := Point{Day: d}
			if ok {
				k := famKey{facet: id, day: d}
				p.DAU = dau.pick(k, f).Customers
				p.WAU = wau.pick(k, f).Customers
				p.MAU = mau.pick(k, f).Customers
				p.Stickiness = ratio(p.DAU, p.MAU)
			}
			t.Points = append(t.Points, p)
		}
		out = append(out, t)
	}
	return out, nil
}

// Reach is a channel's engagement over the whole period.
type Reach struct {
	Channel   Channel
	Customers Count // customers active at least once
	Events    Count // everything they did there (alerts sent excluded)
}

// Reach returns each channel's customers and events over the period.
func (s *Service) Reach(ctx context.Context, f Filter) ([]Reach, error) {
	const op = "insights.Reach"
	if err := f.Validate(); err != nil {
		return nil, err
	}
	chans := f.channels()
	var fs []Facet
	for _, c := range chans {
		fs = append(fs, Facet{MetricActive, string(c), ""})
	}
	m, ids, err := s.ids(ctx, fs...)
	if err != nil {
		return nil, check(op, err)
	}
	fams, err := s.period(ctx, ids, f)
	if err != nil {
		return nil, check(op, err)
	}
	var out []Reach
	for i, c := range chans {
		r := Reach{Channel: c, Customers: Suppressed, Events: Suppressed}
		if id, ok := m[fs[i]]; ok {
			fig := fams.pick(famKey{facet: id}, f)
			r.Customers, r.Events = fig.Customers, fig.Events
		}
		out = append(out, r)
	}
	return out, nil
}

// PaymentStats are a channel's payments over the period.
type PaymentStats struct {
	Channel   Channel // "" for every channel together
	Customers Count   // customers who paid
	Payments  Count   // how many payments
	Value     Count   // their total, minor units of the bank's currency
}

// Payments returns payment count and value per channel, and for all
// channels together, over the period.
func (s *Service) Payments(ctx context.Context, f Filter) ([]PaymentStats, error) {
	const op = "insights.Payments"
	if err := f.Validate(); err != nil {
		return nil, err
	}
	chans := f.channels()
	fs := []Facet{}
	for _, c := range chans {
		fs = append(fs, Facet{MetricPayment, string(c), ""})
	}
	if f.Channel == "" {
		fs = append(fs, Facet{MetricPayment, GroupAll, ""})
	}
	m, ids, err := s.ids(ctx, fs...)
	if err != nil {
		return nil, check(op, err)
	}
	fams, err := s.period(ctx, ids, f)
	if err != nil {
		return nil, check(op, err)
	}
	var out []PaymentStats
	for _, fc := range fs {
		ps := PaymentStats{Channel: Channel(fc.Channel)}
		if fc.Channel == GroupAll {
			ps.Channel = ""
		}
		if id, ok := m[fc]; ok {
			fig := fams.pick(famKey{facet: id}, f)
			ps.Customers, ps.Payments, ps.Value = fig.Customers, fig.Events, fig.Amount
		}
		out = append(out, ps)
	}
	return out, nil
}

// AlertStats are the alerts of one channel over the period.
type AlertStats struct {
	Channel                Channel // "" for every channel together
	Sent, Opened, Answered Count   // alerts
	OpenRate, AnswerRate   Ratio   // opened / sent, answered / sent
	Recipients             Count   // customers sent at least one
}

// Alerts returns alerts sent, opened and answered per channel, and their
// rates.
func (s *Service) Alerts(ctx context.Context, f Filter) ([]AlertStats, error) {
	const op = "insights.Alerts"
	if err := f.Validate(); err != nil {
		return nil, err
	}
	chans := make([]string, 0, 4)
	for _, c := range f.channels() {
		chans = append(chans, string(c))
	}
	if f.Channel == "" {
		chans = append(chans, GroupAll)
	}
	metrics := []string{MetricAlertSent, MetricAlertOpened, MetricAlertAnswered}
	var fs []Facet
	for _, c := range chans {
		for _, mt := range metrics {
			fs = append(fs, Facet{mt, c, ""})
		}
	}
	m, ids, err := s.ids(ctx, fs...)
	if err != nil {
		return nil, check(op, err)
	}
	fams, err := s.period(ctx, ids, f)
	if err != nil {
		return nil, check(op, err)
	}
	// events returns a metric's alerts and customers.
	events := func(mt, c string) (Count, Count) {
		id, ok := m[Facet{mt, c, ""}]
		if !ok {
			return Suppressed, Suppressed
		}
		fig := fams.pick(famKey{facet: id}, f)
		return fig.Events, fig.Customers
	}
	var out []AlertStats
	for _, c := range chans {
		a := AlertStats{Channel: Channel(c)}
		if c == GroupAll {
			a.Channel = ""
		}
		a.Sent, a.Recipients = events(MetricAlertSent, c)
		a.Opened, _ = events(MetricAlertOpened, c)
		a.Answered, _ = events(MetricAlertAnswered, c)
		a.OpenRate, a.AnswerRate = ratio(a.Opened, a.Sent), ratio(a.Answered, a.Sent)
		out = append(out, a)
	}
	return out, nil
}

// IntentShare is one intent over the period.
type IntentShare struct {
	Intent    string
	Customers Count // customers who expressed it
	Events    Count // how often
	// Share is Events over the events of every published intent: withheld
	// intents are left out of the denominator too, so that a total cannot
	// give them back.
	Share Ratio
}

// Intents returns the mix of intents (actions in apps, requests to the
// assistant, payments) on the filter's channel, or on all channels
// together, most frequent first.
func (s *Service) Intents(ctx context.Context, f Filter) ([]IntentShare, error) {
	const op = "insights.Intents"
	if err := f.Validate(); err != nil {
		return nil, err
	}
	ch := GroupAll
	if f.Channel != "" {
		ch = string(f.Channel)
	}
	all, err := s.st.Facets(ctx)
	if err != nil {
		return nil, check(op, err)
	}
	var fs []Facet
	var ids []FacetID
	for fc, id := range all {
		if fc.Metric == MetricIntent && fc.Channel == ch {
			fs = append(fs, fc)
			ids = append(ids, id)
		}
	}
	fams, err := s.period(ctx, ids, f)
	if err != nil {
		return nil, check(op, err)
	}
	var out []IntentShare
	var total int64
	for _, fc := range fs {
		k := famKey{facet: all[fc]}
		fig := fams.pick(k, f)
		is := IntentShare{Intent: fc.Detail, Customers: fig.Customers, Events: fig.Events}
		if v, ok := is.Events.Value(); ok {
			total += v
		}
		out = append(out, is)
	}
	for i := range out {
		out[i].Share = ratio(out[i].Events, published(total))
	}
	slices.SortFunc(out, func(a, b IntentShare) int {
		av, _ := a.Events.Value()
		bv, _ := b.Events.Value()
		return cmp.Or(cmp.Compare(bv, av), cmp.Compare(a.Intent, b.Intent))
	})
	return out, nil
}

// Cohort is the customers whose first activity (on the filter's channel,
// or any) fell in one week, and how many came back in each later week.
type Cohort struct {
	Week     Day     // the Monday
	Size     Count   // customers in the cohort
	Active   []Count // Active[k]: of them, active in week k after (Active[0] is Size)
	Retained []Ratio // Active[k] / Size
}

// Cohorts returns weekly retention cohorts for the cohorts that started in
// the period. The last week may be partial.
func (s *Service) Cohorts(ctx context.Context, f Filter) ([]Cohort, error) {
	const op = "insights.Cohorts"
	if err := f.Validate(); err != nil {
		return nil, err
	}
	ch := GroupAll
	if f.Channel != "" {
		ch = string(f.Channel)
	}
	fc := Facet{MetricActive, ch, ""}
	m, ids, err := s.ids(ctx, fc)
	if err != nil {
		return nil, check(op, err)
	}
	first := f.From().Week()
	if first.Start() < f.From() {
		first++ // only whole cohort weeks inside the period
	}
	last := f.End.Week()
	fams := families{}
	if len(ids) > 0 {
		rows, err := s.st.Cohorts(ctx, Query{Facets: ids, From: first.Start(), To: last.Start(), Product: f.Product})
		if err != nil {
			return nil, check(op, err)
		}
		for _, r := range rows {
			fams.get(famKey{facet: r.Facet, day: r.Day, offset: r.Offset}).add(r.Band, r.All, r.Prod)
		}
	}
	var out []Cohort
	for w := first; w <= last; w++ {
		c := Cohort{Week: w.Start()}
		for k := 0; k <= int(last-w); k++ {
			n := Suppressed
			if id, ok := m[fc]; ok {
				n = fams.pick(famKey{facet: id, day: w.Start(), offset: k}, f).Customers
			}
			c.Active = append(c.Active, n)
		}
		c.Size = c.Active[0]
		for _, n := range c.Active {
			c.Retained = append(c.Retained, ratio(n, c.Size))
		}
		out = append(out, c)
	}
	return out, nil
}
