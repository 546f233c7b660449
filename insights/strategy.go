package insights

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/bankbridge/bankbridge/ledger"
)

// Overlap is how the customers engaged in the period split between the
// bank's own channel and the platforms, and what each channel reaches that
// no other does: the numbers behind "own, partner or both".
type Overlap struct {
	// Withheld says the whole block is withheld: some group it would let a
	// reader work out (see doc.go) is smaller than MinCustomers.
	Withheld     bool
	Any          Count // engaged on at least one channel
	OwnOnly      Count // only on the bank's own channels
	PlatformOnly Count // only on platforms: what partnering added
	Both         Count // on both
	Unique       []UniqueReach
}

// UniqueReach is the customers only one channel reached in the period.
type UniqueReach struct {
	Channel   Channel
	Reach     Count // customers the channel reached
	Customers Count // of them, reached by no other channel
}

// Overlap returns the channel overlap over the period. The channel filter
// does not apply: the overlap is across channels by nature.
func (s *Service) Overlap(ctx context.Context, f Filter) (Overlap, error) {
	const op = "insights.Overlap"
	if err := f.Validate(); err != nil {
		return Overlap{}, err
	}
	cs := newChannelSets()
	union, err := s.unions(ctx, cs, f)
	if err != nil {
		return Overlap{}, check(op, err)
	}
	withheld, split, detail := cs.detail(union, f.Band)

	// What the block shows, as vectors over the bands.
	anyV := union[cs.full]
	ownOnly := minus(anyV, union[cs.platform])
	platOnly := minus(anyV, union[cs.own])
	var both vec
	for i := range both {
		both[i] = max(union[cs.own][i]+union[cs.platform][i]-anyV[i], 0)
	}
	out := Overlap{Withheld: withheld}
	show := func(v vec) Count {
		if withheld {
			return Suppressed
		}
		x := v.sum()
		if f.Band != 0 {
			x = v[f.Band]
		}
		if x < MinCustomers {
			return Suppressed
		}
		return published(x)
	}
	out.Any, out.PlatformOnly = show(anyV), show(platOnly)
	out.OwnOnly, out.Both = Suppressed, Suppressed
	if split {
		out.OwnOnly, out.Both = show(ownOnly), show(both)
	}
	reach, err := s.Reach(ctx, Filter{End: f.End, Days: f.Days, Band: f.Band, Product: f.Product})
	if err != nil {
		return Overlap{}, err
	}
	for i, c := range Channels {
		u := UniqueReach{Channel: c, Reach: reach[i].Customers, Customers: Suppressed}
		if detail[i] && !withheld {
			u.Customers = show(minus(anyV, union[cs.full&^(1<<i)]))
		}
		out.Unique = append(out.Unique, u)
	}
	return out, nil
}

// channelSets names sets of channels as bit masks over Channels (bit i is
// Channels[i]), and the stored union facet of each set the overlap reads:
// each channel, all but each channel, all, the own and the platform ones.
type channelSets struct {
	n                   int
	full, own, platform uint
	facetOf             map[uint]Facet
}

func newChannelSets() channelSets {
	n := len(Channels)
	full := uint(1)<<n - 1
	facetOf := map[uint]Facet{full: {MetricActive, GroupAll, ""}}
	var own uint
	for i, c := range Channels {
		facetOf[1<<i] = Facet{MetricActive, string(c), ""}
		facetOf[full&^(1<<i)] = Facet{MetricActive, GroupExcept(c), ""}
		if c.Own() {
			own |= 1 << i
		}
	}
	platform := full &^ own
	if _, ok := facetOf[own]; !ok && own != 0 {
		facetOf[own] = Facet{MetricActive, GroupOwn, ""}
	}
	if _, ok := facetOf[platform]; !ok && platform != 0 {
		facetOf[platform] = Facet{MetricActive, GroupPlatform, ""}
	}
	return channelSets{n: n, full: full, own: own, platform: platform, facetOf: facetOf}
}

// unions reads the customers in each set's union over the period, per
// band: of every product, or of f.Product's holders. A set nobody was in
// reads as zero, as does the empty set.
func (s *Service) unions(ctx context.Context, cs channelSets, f Filter) (map[uint]vec, error) {
	var fs []Facet
	for _, fc := range cs.facetOf {
		fs = append(fs, fc)
	}
	m, ids, err := s.ids(ctx, fs...)
	if err != nil {
		return nil, err
	}
	fams, err := s.periodReach(ctx, ids, f)
	if err != nil {
		return nil, err
	}
	union := map[uint]vec{0: {}}
	for mask, fc := range cs.facetOf {
		var v vec
		if id, ok := m[fc]; ok {
			if fam := fams[famKey{facet: id}]; fam != nil {
				v = fam.all
				if f.Product != 0 {
					v = fam.prod
				}
			}
		}
		union[mask] = v
	}
	return union, nil
}

// minus is a-b per band, never below zero.
func minus(a, b vec) vec {
	var r vec
	for i := range r {
		r[i] = max(a[i]-b[i], 0)
	}
	return r
}

// detail decides how much of the block band (0: all bands) may show:
// withheld, nothing; otherwise the engaged and what partnering added, and
// when split also own only and both; detail[i] says whether channel i's
// "only" customers may show.
//
// Levels of detail. The coarse block shows own only, both and platforms
// only, then each channel's "only" customers that are safe to add; the
// least only the engaged and what partnering added. Each level publishes
// some unions (with the channels' own reach, published on the page
// anyway); every group of customers whose size those unions determine -
// any set of regions in their linear span - must not be a small group, in
// any band shown or in the total.
func (cs channelSets) detail(union map[uint]vec, band Band) (withheld, split bool, detail []bool) {
	n := cs.n
	// Regions of the channels' Venn diagram (customers on exactly the
	// channels of r), per band. The unions are sums of them.
	nr := 1<<n - 1
	region := make([]vec, nr+1)
	for r, v := range regionsAll(union, n) {
		region[r] = v
	}
	anyV := union[cs.full]
	// shown says whether the unions known leave the block's band showing.
	shown := func(known []uint) bool {
		var vs []vec
		for _, set := range derivable(known, n) {
			var v vec
			for r := 1; r <= nr; r++ {
				if set&(1<<(r-1)) != 0 {
					for b := range v {
						v[b] += region[r][b]
					}
				}
			}
			vs = append(vs, v)
		}
		var primary [nBands]bool
		for _, v := range vs {
			for b := range primary {
				if small(v[b]) {
					primary[b] = true
				}
			}
		}
		hide, hideTotal := protect(append([]vec{anyV}, vs...), primary, false)
		if band != 0 {
			return !hide[band]
		}
		return !hideTotal
	}
	singles := []uint{}
	for i := range Channels {
		singles = append(singles, 1<<i)
	}
	coarse := append(slices.Clone(singles), cs.full, cs.own, cs.platform)
	// The least detail: how many engaged at all, and so (with the own
	// channel's reach) how many partnering added.
	minimal := append(slices.Clone(singles), cs.full)
	detail = make([]bool, n)
	switch {
	case shown(coarse):
		// Then each channel's "only" customers, one channel at a time, in
		// the order of Channels: kept when what it adds to the unions
		// published still lets no small group be worked out.
		known := coarse
		for i := range Channels {
			u := cs.full &^ (1 << i)
			if slices.Contains(known, u) {
				detail[i] = true // the own channel's is the coarse block's "own only"
				continue
			}
			if shown(append(slices.Clone(known), u)) {
				known = append(known, u)
				detail[i] = true
			}
		}
		return false, true, detail
	case shown(minimal):
		return false, false, detail
	}
	return true, false, detail
}

// regionsAll returns the Venn regions (customers on exactly the set r of
// the n channels, r from 1 to 2^n-1) by Möbius inversion over the unions:
// |exactly r| = sum over q in r of (-1)^|r\q| g(q), where g(q), the
// customers on no channel outside q, is U(all) - U(all\q). Every union the
// formula needs is stored for n up to three (each channel, all but each,
// all); for more channels the regions it cannot reach are left empty.
func regionsAll(union map[uint]vec, n int) map[int]vec {
	full := uint(1)<<n - 1
	out := map[int]vec{}
	for r := uint(1); r <= full; r++ {
		var v vec
		ok := true
		for q := r; ; q = (q - 1) & r {
			u, known := union[full&^q]
			if !known {
				ok = false
				break
			}
			sign := int64(1)
			if bits.OnesCount(r&^q)%2 == 1 {
				sign = -1
			}
			for b := range v {
				v[b] += sign * (union[full][b] - u[b])
			}
			if q == 0 {
				break
			}
		}
		if ok {
			for b := range v {
				v[b] = max(v[b], 0)
			}
			out[int(r)] = v
		}
	}
	return out
}

// derivable lists every nonempty set of Venn regions (a bit per region,
// bit r-1 for region r) whose total is a linear combination of the known
// unions: the groups of customers a reader can count from them. Regions
// number 2^n-1, so the sets number 2^(2^n-1); n is at most 4 here (beyond,
// the block is withheld; see doc.go).
func derivable(known []uint, n int) []uint32 {
	nr := 1<<n - 1
	if n > 4 {
		return []uint32{1<<nr - 1} // only the total: callers withhold the rest
	}
	// Row-reduce the unions' indicator vectors over the regions.
	var basis [][]float64
	reduce := func(v []float64) []float64 {
		v = slices.Clone(v)
		for _, row := range basis {
			p := slices.IndexFunc(row, func(x float64) bool { return math.Abs(x) > 1e-9 })
			if math.Abs(v[p]) > 1e-9 {
				k := v[p] / row[p]
				for i := range v {
					v[i] -= k * row[i]
				}
			}
		}
		return v
	}
	zero := func(v []float64) bool {
		return !slices.ContainsFunc(v, func(x float64) bool { return math.Abs(x) > 1e-9 })
	}
	for _, u := range known {
		v := make([]float64, nr)
		for r := 1; r <= nr; r++ {
			if uint(r)&u != 0 {
				v[r-1] = 1
			}
		}
		if v = reduce(v); !zero(v) {
			basis = append(basis, v)
		}
	}
	var out []uint32
	for set := uint32(1); set < 1<<nr; set++ {
		v := make([]float64, nr)
		for r := range nr {
			if set&(1<<r) != 0 {
				v[r] = 1
			}
		}
		if zero(reduce(v)) {
			out = append(out, set)
		}
	}
	return out
}

// Summary says in plain words what the overlap means for the choice between
// owning the channel, partnering, or both.
func Summary(f Filter, o Overlap) []string {
	period := fmt.Sprintf("In the %d days to %s", f.Days, f.End.Time().Format("2 January 2006"))
	if o.Withheld || o.Any.Suppressed() {
		return []string{period + ", too few customers in this segment engaged to compare channels without " +
			"revealing small groups of people. Widen the period or the segment."}
	}
	anyN, _ := o.Any.Value()
	out := []string{fmt.Sprintf("%s, %s customers engaged with the bank on at least one channel.", period, ledger.Grouped(anyN))}
	for _, u := range o.Unique {
		r, rok := u.Reach.Value()
		c, cok := u.Customers.Value()
		switch {
		case rok && cok:
			out = append(out, fmt.Sprintf("%s reached %s customers; %s of them (%s of everyone engaged) were reached by no other channel.",
				u.Channel.Label(), ledger.Grouped(r), ledger.Grouped(c), pct(c, anyN)))
		case rok:
			out = append(out, fmt.Sprintf("%s reached %s customers; how many of them no other channel reached is withheld, "+
				"as it would reveal a small group (fewer than %d, or a figure that gives one away).", u.Channel.Label(), ledger.Grouped(r), MinCustomers))
		default:
			out = append(out, fmt.Sprintf("%s reached fewer than %d customers in this segment, or none.", u.Channel.Label(), MinCustomers))
		}
	}
	if p, ok := o.PlatformOnly.Value(); ok {
		out = append(out, fmt.Sprintf("Partnering added %s customers on top of owning: they used only platforms or partner apps, "+
			"never the bank's own app (%s of everyone engaged).", ledger.Grouped(p), pct(p, anyN)))
	} else {
		out = append(out, "What partnering added on top of owning is withheld in this segment: it would reveal a small group.")
	}
	if b, ok := o.Both.Value(); ok {
		out = append(out, fmt.Sprintf("%s customers used both the bank's own app and a platform.", ledger.Grouped(b)))
	}
	if own, ok := o.OwnOnly.Value(); ok {
		out = append(out, fmt.Sprintf("%s customers used only the bank's own app: no platform reaches them.", ledger.Grouped(own)))
	}
	return out
}

func pct(a, b int64) string {
	if b == 0 {
		return "0%"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(a)/float64(b))
}

// Dashboard is every report of the console page for one filter.
type Dashboard struct {
	Filter   Filter
	First    Day // first day with data (zero when none)
	Last     Day
	HasData  bool
	Trends   []Trend
	Reach    []Reach
	Overlap  Overlap
	Summary  []string
	Cohorts  []Cohort
	Intents  []IntentShare
	Payments []PaymentStats
	Alerts   []AlertStats
}

// Dashboard returns every report for f.
func (s *Service) Dashboard(ctx context.Context, f Filter) (Dashboard, error) {
	d := Dashboard{Filter: f}
	if err := f.Validate(); err != nil {
		return d, err
	}
	var err error
	if d.First, d.Last, d.HasData, err = s.st.Span(ctx); err != nil {
		return d, check("insights.Dashboard", err)
	}
	if d.Trends, err = s.Trends(ctx, f); err != nil {
		return d, err
	}
	if d.Reach, err = s.Reach(ctx, f); err != nil {
		return d, err
	}
	if d.Overlap, err = s.Overlap(ctx, f); err != nil {
		return d, err
	}
	d.Summary = Summary(f, d.Overlap)
	if d.Cohorts, err = s.Cohorts(ctx, f); err != nil {
		return d, err
	}
	if d.Intents, err = s.Intents(ctx, f); err != nil {
		return d, err
	}
	if d.Payments, err = s.Payments(ctx, f); err != nil {
		return d, err
	}
	if d.Alerts, err = s.Alerts(ctx, f); err != nil {
		return d, err
	}
	return d, nil
}
