package insights

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/bankbridge/bankbridge"
)

// This file is the one rulebook of ingestion: what a batch of events adds
// to the rollups. Stores only read spans and write what fold returns.
//
// Distinct customers over a window are not additive, so they are kept as
// deltas that are. For a window of W days, a customer with activity days
// a1 < a2 < ... is in the window ending on day t when some ai is in
// (t-W, t]. The days t covered by ai are [ai, ai+W); the part of them not
// already covered by a(i-1) is [max(ai, a(i-1)+W), ai+W). Adding +1 at the
// start of that part and -1 at its end, for every ai, makes the running sum
// of the deltas up to t the number of customers in the window ending on t,
// exactly, whatever the order the days arrive in (a day that lands between
// two known days shrinks its successor's part, which fold rewrites). The
// parts of one customer are disjoint, and the part covering t is that of
// the customer's first day in (t-W, t]: a customer counts in the segment
// they had on their first active day in the window, once, and the
// per-segment sums add up to the total.

// floor8 rounds d down to a multiple of 8 (bit sets start on a byte).
func floor8(d Day) Day {
	m := d % 8
	if m < 0 {
		m += 8
	}
	return d - m
}

// empty reports whether the span has no day yet.
func (s *Span) empty() bool { return len(s.Bits) == 0 }

func (s *Span) has(d Day) bool {
	i := int(d) - int(s.Origin)
	if i < 0 || i >= len(s.Bits)*8 {
		return false
	}
	return s.Bits[i>>3]&(1<<(i&7)) != 0
}

func (s *Span) set(d Day) {
	if s.empty() {
		s.Origin = floor8(d)
	}
	if d < s.Origin {
		o := floor8(d)
		shift := int(s.Origin-o) / 8
		b := make([]byte, shift+len(s.Bits))
		copy(b[shift:], s.Bits)
		s.Bits, s.Origin = b, o
	}
	i := int(d - s.Origin)
	if n := i/8 + 1; n > len(s.Bits) {
		// Grow by a few weeks at a time rather than a byte per new day.
		b := make([]byte, n, n+4)
		copy(b, s.Bits)
		s.Bits = b
	}
	s.Bits[i>>3] |= 1 << (i & 7)
}

// prev returns the last day before d in the span.
func (s *Span) prev(d Day) (Day, bool) {
	if s.empty() || d <= s.First {
		return 0, false
	}
	if d > s.Last {
		return s.Last, true
	}
	for x := d - 1; x >= s.First; x-- {
		if s.has(x) {
			return x, true
		}
	}
	return 0, false
}

// next returns the first day after d in the span.
func (s *Span) next(d Day) (Day, bool) {
	if s.empty() || d >= s.Last {
		return 0, false
	}
	for x := d + 1; x <= s.Last; x++ {
		if s.has(x) {
			return x, true
		}
	}
	return 0, false
}

// weekActive reports whether any day of w is in the span.
func (s *Span) weekActive(w Week) bool {
	st := w.Start()
	if s.empty() || st+6 < s.First || st > s.Last {
		return false
	}
	for x := st; x < st+7; x++ {
		if s.has(x) {
			return true
		}
	}
	return false
}

// weeks lists the weeks with a day in the span, in order.
func (s *Span) weeks() []Week {
	var out []Week
	if s.empty() {
		return nil
	}
	for w := s.First.Week(); w <= s.Last.Week(); w++ {
		if s.weekActive(w) {
			out = append(out, w)
		}
	}
	return out
}

// hit is one customer in one facet on one day, within a batch.
type hit struct {
	key SpanKey
	day Day
}

type cellKey struct {
	facet  FacetID
	w      int
	day    Day
	offset int
	seg    Segment
}

// folder accumulates one batch's changes.
type folder struct {
	ids    map[Facet]FacetID
	active map[FacetID]bool // facets of MetricActive: they have cohorts
	daily  map[cellKey]*Sums
	window map[cellKey]int64
	cohort map[cellKey]int64
}

func (f *folder) piece(facet FacetID, a, p Day, hasP bool, seg Segment, sign int64) {
	for _, w := range Windows {
		start := a
		if hasP && p+Day(w) > a {
			start = p + Day(w)
		}
		f.window[cellKey{facet: facet, w: w, day: start, seg: seg}] += sign
		f.window[cellKey{facet: facet, w: w, day: a + Day(w), seg: seg}] -= sign
	}
}

func (f *folder) cohortAdd(facet FacetID, first Day, w Week, seg Segment, n int64) {
	c := first.Week()
	f.cohort[cellKey{facet: facet, day: c.Start(), offset: int(w - c), seg: seg}] += n
}

// Fold adds events to the store's rollups in one transaction. Events must
// be valid and segmented (see Event); the Recorder and the Service see to
// it.
func Fold(ctx context.Context, st Store, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	for i, e := range events {
		if err := e.Validate(); err != nil {
			return fmt.Errorf("insights.Fold: event %d: %w", i, err)
		}
		if !e.Segmented {
			return fmt.Errorf("insights.Fold: event %d: %w", i, ErrEvent.WithMessage("the event has no segment"))
		}
	}
	return st.Update(ctx, func(tx Tx) error { return fold(ctx, tx, events) })
}

// fold turns a batch into the rows and cell deltas it adds, in five steps:
// the segment of each customer-day and the facets the batch touches; the
// activity rows and daily sums; the stored spans of the customers touched;
// each new day's window and cohort deltas; the changes, sorted, to apply.
func fold(ctx context.Context, tx Tx, events []Event) error {
	daySeg, facets := segmentsAndFacets(events)
	ids, err := tx.FacetIDs(ctx, facets)
	if err != nil {
		return err
	}
	f := newFolder(ids)
	acts, days := f.count(events, daySeg)

	keys := make([]SpanKey, 0, len(days))
	for k := range days {
		keys = append(keys, k)
		slices.Sort(days[k])
	}
	slices.Sort(keys)
	stored, err := tx.Spans(ctx, keys)
	if err != nil {
		return err
	}
	spans := make(map[SpanKey]*Span, len(keys))
	for i := range stored {
		spans[stored[i].Key] = &stored[i]
	}
	succSeg, err := successorSegments(ctx, tx, keys, spans, days)
	if err != nil {
		return err
	}

	out := &Changes{}
	for _, k := range keys {
		s := spans[k]
		if s == nil {
			s = &Span{Key: k}
		}
		changed := false
		for _, a := range days[k] {
			if !s.has(a) {
				changed = true
				f.addDay(s, a, daySeg[CustomerDay{k.Customer(), a}], succSeg)
			}
		}
		if changed {
			out.Spans = append(out.Spans, *s)
		}
	}
	f.changes(out, acts)
	return tx.Apply(ctx, out)
}

// segmentsAndFacets returns the segment of each customer-day in the batch,
// which is that of its earliest event, and the facets the batch touches in
// a stable order.
func segmentsAndFacets(events []Event) (map[CustomerDay]Segment, []Facet) {
	type firstSeg struct {
		at  int64
		seg Segment
	}
	first := map[CustomerDay]firstSeg{}
	var facets []Facet
	seen := map[Facet]bool{}
	var buf []Facet
	for _, e := range events {
		cd := CustomerDay{e.Customer, DayOf(e.At)}
		at := e.At.UnixMicro()
		if fs, ok := first[cd]; !ok || at < fs.at {
			first[cd] = firstSeg{at, Segment{BandOf(e.BirthYear, e.At), e.Products}}
		}
		buf = FacetsOf(e, buf[:0])
		for _, f := range buf {
			if !seen[f] {
				seen[f] = true
				facets = append(facets, f)
			}
		}
	}
	slices.SortFunc(facets, func(a, b Facet) int {
		return cmp.Or(cmp.Compare(a.Metric, b.Metric), cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.Detail, b.Detail))
	})
	daySeg := make(map[CustomerDay]Segment, len(first))
	for cd, fs := range first {
		daySeg[cd] = fs.seg
	}
	return daySeg, facets
}

func newFolder(ids map[Facet]FacetID) *folder {
	f := &folder{ids: ids, active: map[FacetID]bool{}, daily: map[cellKey]*Sums{},
		window: map[cellKey]int64{}, cohort: map[cellKey]int64{}}
	for fc, id := range ids {
		if fc.Metric == MetricActive {
			f.active[id] = true
		}
	}
	return f
}

// actKey identifies an activity row: one customer on one channel on one day.
type actKey struct {
	day  Day
	cust bankbridge.CustomerID
	ch   Channel
}

// count makes the batch's activity rows and adds its events to the daily
// cells' additive sums. It returns the rows and, per span the batch
// touches, the days it brings (unsorted, each once).
func (f *folder) count(events []Event, daySeg map[CustomerDay]Segment) (map[actKey]*Activity, map[SpanKey][]Day) {
	acts := map[actKey]*Activity{}
	hits := map[hit]bool{}
	var buf []Facet
	for _, e := range events {
		cd := CustomerDay{e.Customer, DayOf(e.At)}
		seg := daySeg[cd]
		ak := actKey{cd.Day, e.Customer, e.Channel}
		a := acts[ak]
		if a == nil {
			a = &Activity{Day: cd.Day, Customer: e.Customer, Channel: e.Channel, Segment: seg}
			acts[ak] = a
		}
		a.Counts[KindIndex(e.Kind)]++
		a.Amount += e.Amount
		buf = FacetsOf(e, buf[:0])
		for _, fc := range buf {
			id := f.ids[fc]
			ck := cellKey{facet: id, day: cd.Day, seg: seg}
			s := f.daily[ck]
			if s == nil {
				s = &Sums{}
				f.daily[ck] = s
			}
			s.Events++
			if fc.Metric == MetricPayment {
				s.Amount += int64(e.Amount)
			}
			hits[hit{KeyOf(e.Customer, id), cd.Day}] = true
		}
	}
	days := map[SpanKey][]Day{}
	for h := range hits {
		days[h.key] = append(days[h.key], h.day)
	}
	return acts, days
}

// successorSegments reads the segments of the stored days that follow a
// new day landing before them. Such a day changes its successor's window
// part, which counts in the successor's segment: read them in one go.
func successorSegments(ctx context.Context, tx Tx, keys []SpanKey, spans map[SpanKey]*Span, days map[SpanKey][]Day) (map[CustomerDay]Segment, error) {
	var need []CustomerDay
	for _, k := range keys {
		s := spans[k]
		if s == nil {
			continue
		}
		for _, d := range days[k] {
			if d < s.Last && !s.has(d) {
				if n, ok := s.next(d); ok {
					need = append(need, CustomerDay{k.Customer(), n})
				}
			}
		}
	}
	if len(need) == 0 {
		return nil, nil
	}
	return tx.DaySegments(ctx, need)
}

// addDay adds day a, in segment seg, to span s, which does not have it:
// the daily customer count, the window parts of a and of the stored day
// after it, and the cohort cells.
func (f *folder) addDay(s *Span, a Day, seg Segment, succSeg map[CustomerDay]Segment) {
	fid, cust := s.Key.Facet(), s.Key.Customer()
	f.daily[cellKey{facet: fid, day: a, seg: seg}].Customers++
	if s.empty() {
		s.set(a)
		s.First, s.Last, s.Segment = a, a, seg
		f.piece(fid, a, 0, false, seg, +1)
		if f.active[fid] {
			f.cohortAdd(fid, a, a.Week(), seg, +1)
		}
		return
	}
	p, hasP := s.prev(a)
	f.piece(fid, a, p, hasP, seg, +1)
	if n, ok := s.next(a); ok {
		// n's predecessor is now a, not p: replace n's window part.
		ns, found := succSeg[CustomerDay{cust, n}]
		if !found {
			ns = s.Segment
		}
		f.piece(fid, n, p, hasP, ns, -1)
		f.piece(fid, n, a, true, ns, +1)
	}
	switch {
	case a < s.First:
		// A new first day: the customer moves to another cohort
		// (and the segment of their first day).
		if f.active[fid] {
			for _, w := range s.weeks() {
				f.cohortAdd(fid, s.First, w, s.Segment, -1)
			}
		}
		s.set(a)
		s.First, s.Segment = a, seg
		if f.active[fid] {
			for _, w := range s.weeks() {
				f.cohortAdd(fid, s.First, w, s.Segment, +1)
			}
		}
	default:
		newWeek := f.active[fid] && !s.weekActive(a.Week())
		s.set(a)
		if newWeek {
			f.cohortAdd(fid, s.First, a.Week(), s.Segment, +1)
		}
	}
	if a > s.Last {
		s.Last = a
	}
}

// changes adds the activity rows and the non-zero cells to out, each list
// in a stable order.
func (f *folder) changes(out *Changes, acts map[actKey]*Activity) {
	for _, a := range acts {
		out.Activity = append(out.Activity, *a)
	}
	slices.SortFunc(out.Activity, func(a, b Activity) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Customer, b.Customer), cmp.Compare(a.Channel, b.Channel))
	})
	for k, s := range f.daily {
		out.Daily = append(out.Daily, Cell{Facet: k.facet, Day: k.day, Segment: k.seg, Sums: *s})
	}
	for k, n := range f.window {
		if n != 0 {
			out.Window = append(out.Window, Cell{Facet: k.facet, W: k.w, Day: k.day, Segment: k.seg, Sums: Sums{Customers: n}})
		}
	}
	for k, n := range f.cohort {
		if n != 0 {
			out.Cohort = append(out.Cohort, Cell{Facet: k.facet, Day: k.day, Offset: k.offset, Segment: k.seg, Sums: Sums{Customers: n}})
		}
	}
	for _, cs := range [][]Cell{out.Daily, out.Window, out.Cohort} {
		slices.SortFunc(cs, compareCells)
	}
}

func compareCells(a, b Cell) int {
	return cmp.Or(cmp.Compare(a.Facet, b.Facet), cmp.Compare(a.W, b.W), cmp.Compare(a.Day, b.Day), cmp.Compare(a.Offset, b.Offset),
		cmp.Compare(a.Segment.Band, b.Segment.Band), cmp.Compare(a.Segment.Products, b.Segment.Products))
}
