package insights

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// Service answers the engagement reports from the rollups, with every cell
// checked against the privacy rules (privacy.go) before it leaves. It also
// folds batches of events (it is the Recorder's Ingester).
type Service struct {
	st  Store
	now func() time.Time
}

// Options tune a Service.
type Options struct {
	// Now returns the time; default time.Now.
	Now func() time.Time
}

// New returns a Service over st.
func New(st Store, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{st: st, now: o.Now}
}

// Ingester folds batches of events into the rollups. The Service is one;
// the Recorder writes through one; the demo seed loads through one.
type Ingester interface {
	Ingest(ctx context.Context, events []Event) error
}

var _ Ingester = (*Service)(nil)

// Ingest folds events into the rollups in one transaction: all or nothing.
// Every event must be valid (ErrEvent) and carry its segment (Segmented).
func (s *Service) Ingest(ctx context.Context, events []Event) error {
	return Fold(ctx, s.st, events)
}

// Periods are the period lengths, in days, a report may cover.
var Periods = []int{7, 30, 90, 180}

// DefaultPeriod is the period length of a report unless asked otherwise.
const DefaultPeriod = 90

// Filter selects what a report covers. The zero Band, Product and Channel
// mean "all".
type Filter struct {
	End     Day // the period's last day, included
	Days    int // the period's length: one of Periods
	Band    Band
	Product Product
	Channel Channel
}

// From is the period's first day.
func (f Filter) From() Day { return f.End - Day(f.Days) + 1 }

// Validate reports a filter out of range as ErrFilter.
func (f Filter) Validate() error {
	switch {
	case !slices.Contains(Periods, f.Days):
		return ErrFilter.WithMessage("the period must be 7, 30, 90 or 180 days")
	case f.Band != 0 && !offered(f.Band) || int(f.Band) >= nBands:
		return ErrFilter.WithMessage("unknown age band")
	case f.Product != 0 && !slices.Contains(ProductList, f.Product):
		return ErrFilter.WithMessage("unknown product")
	case f.Channel != "" && !f.Channel.Known():
		return ErrFilter.WithMessage("unknown channel")
	}
	return nil
}

// ParseFilter reads a filter from named values (a query string): end
// (2006-01-02), days, band, product, channel. Missing values take the
// defaults: the last day with data (else today) and DefaultPeriod days.
func (s *Service) ParseFilter(ctx context.Context, get func(string) string) (Filter, error) {
	f := Filter{Days: DefaultPeriod}
	if v := get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return f, ErrFilter.WithMessage("the period must be a number of days")
		}
		f.Days = n
	}
	if v := get("end"); v != "" {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return f, ErrFilter.WithMessage("the end date is not a date such as 2026-01-31")
		}
		f.End = DayOf(t)
	} else {
		_, last, ok, err := s.st.Span(ctx)
		if err != nil {
			return f, err
		}
		f.End = DayOf(s.now())
		if ok && last < f.End {
			f.End = last
		}
	}
	var err error
	if f.Band, err = ParseBand(get("band")); err != nil {
		return f, err
	}
	if f.Product, err = ParseProduct(get("product")); err != nil {
		return f, err
	}
	if v := get("channel"); v != "" {
		f.Channel = Channel(v)
	}
	return f, f.Validate()
}

// channels returns the channels a report shows under f.
func (f Filter) channels() []Channel {
	if f.Channel != "" {
		return []Channel{f.Channel}
	}
	return Channels
}

// MinDay is before any day with data.
const MinDay Day = math.MinInt32

// ids resolves facets to ids; a facet never stored is absent.
func (s *Service) ids(ctx context.Context, fs ...Facet) (map[Facet]FacetID, []FacetID, error) {
	all, err := s.st.Facets(ctx)
	if err != nil {
		return nil, nil, err
	}
	m := map[Facet]FacetID{}
	var ids []FacetID
	for _, f := range fs {
		if id, ok := all[f]; ok {
			m[f] = id
			ids = append(ids, id)
		}
	}
	return m, ids, nil
}

// famKey names a family: a facet on a day (or a cohort cell).
type famKey struct {
	facet  FacetID
	day    Day
	offset int
}

type families map[famKey]*family

func (fs families) get(k famKey) *family {
	f := fs[k]
	if f == nil {
		f = newFamily()
		fs[k] = f
	}
	return f
}

// pick returns the published figure of k, all suppressed when k has no data.
func (fs families) pick(k famKey, f Filter) figure {
	fam := fs[k]
	if fam == nil {
		fam = newFamily()
	}
	return fam.pick(f.Band, f.Product)
}

// daily loads daily sums: per (facet, day) when byDay, else per facet over
// the period (day 0).
func (s *Service) daily(ctx context.Context, ids []FacetID, f Filter, byDay bool) (families, error) {
	out := families{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.st.Daily(ctx, Query{Facets: ids, From: f.From(), To: f.End, ByDay: byDay, Product: f.Product})
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out.get(famKey{facet: r.Facet, day: r.Day}).add(r.Band, r.All, r.Prod)
	}
	return out, nil
}

func (s *Service) reachByDay(ctx context.Context, ids []FacetID, w int, from, to Day, p Product) (families, error) {
	base, err := s.st.Window(ctx, Query{Facets: ids, W: w, From: MinDay, To: from - 1, Product: p})
	if err != nil {
		return nil, err
	}
	rows, err := s.st.Window(ctx, Query{Facets: ids, W: w, From: from, To: to, ByDay: true, Product: p})
	if err != nil {
		return nil, err
	}
	type run struct{ all, prod [nBands]int64 }
	cur := map[FacetID]*run{}
	for _, id := range ids {
		cur[id] = &run{}
	}
	for _, r := range base {
		c := cur[r.Facet]
		c.all[r.Band] += r.All.Customers
		c.prod[r.Band] += r.Prod.Customers
	}
	// rows are in day order within a facet; walk the days.
	byDay := map[Day][]Row{}
	for _, r := range rows {
		byDay[r.Day] = append(byDay[r.Day], r)
	}
	out := families{}
	for d := from; d <= to; d++ {
		for _, r := range byDay[d] {
			c := cur[r.Facet]
			c.all[r.Band] += r.All.Customers
			c.prod[r.Band] += r.Prod.Customers
		}
		for id, c := range cur {
			fam := out.get(famKey{facet: id, day: d})
			for b := range nBands {
				fam.add(Band(b), Sums{Customers: max(c.all[b], 0)}, Sums{Customers: max(c.prod[b], 0)})
			}
		}
	}
	return out, nil
}

// reachFiltered is reachByDay with f's product.
func (s *Service) reachFiltered(ctx context.Context, ids []FacetID, w int, f Filter) (families, error) {
	if len(ids) == 0 {
		return families{}, nil
	}
	return s.reachByDay(ctx, ids, w, f.From(), f.End, f.Product)
}

// periodReach loads the customers of each facet over f's period, with f's
// product.
func (s *Service) periodReach(ctx context.Context, ids []FacetID, f Filter) (families, error) {
	out := families{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.st.Window(ctx, Query{Facets: ids, W: f.Days, From: MinDay, To: f.End, Product: f.Product})
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		// A running sum is never negative; clamp what a segment change
		// within the window may leave (see doc.go).
		out.get(famKey{facet: r.Facet}).add(r.Band, Sums{Customers: max(r.All.Customers, 0)}, Sums{Customers: max(r.Prod.Customers, 0)})
	}
	return out, nil
}

func check(op string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// period loads, per facet, the customers over f's period (distinct) with
// the events and amounts behind them: one family whose withheld cells
// follow the distinct customers, so that events and money are withheld
// exactly where the customers are.
func (s *Service) period(ctx context.Context, ids []FacetID, f Filter) (families, error) {
	cust, err := s.periodReach(ctx, ids, f)
	if err != nil {
		return nil, err
	}
	sums, err := s.daily(ctx, ids, f, false)
	if err != nil {
		return nil, err
	}
	for k, fam := range cust {
		if sf := sums[k]; sf != nil {
			for b := range nBands {
				c, p := fam.allS[b].Customers, fam.prodS[b].Customers
				fam.allS[b], fam.prodS[b] = sf.allS[b], sf.prodS[b]
				fam.allS[b].Customers, fam.prodS[b].Customers = c, p
			}
		}
	}
	return cust, nil
}
