package insights

import (
	"context"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
)

// Store keeps the rollups. It reads and writes rows; every rule (what a
// batch of events changes) lives in this package (see fold.go), so that the
// engines cannot drift. Its read methods return raw aggregates for the
// Service alone: they are not suppressed, and no edge may call them.
type Store interface {
	// Update runs fn in one write transaction. Updates are serialised (one
	// at a time, across processes too): fold reads spans and writes the
	// rollups they imply, which must not interleave.
	Update(ctx context.Context, fn func(Tx) error) error
	// Facets lists every facet stored, with its id.
	Facets(ctx context.Context) (map[Facet]FacetID, error)
	// Daily sums the daily cells of q.Facets over [q.From, q.To].
	Daily(ctx context.Context, q Query) ([]Row, error)
	// Window sums the window deltas of window q.W for q.Facets over
	// [q.From, q.To]; a running sum of them from the first day is the
	// number of customers seen in the last W days.
	Window(ctx context.Context, q Query) ([]Row, error)
	// Cohorts sums the cohort cells of q.Facets whose cohort week is in
	// [q.From.Week(), q.To.Week()]; Row.Day is the cohort's Monday and
	// Row.Offset the week since.
	Cohorts(ctx context.Context, q Query) ([]Row, error)
	// Span returns the first and last day any event was folded, ok false
	// when none was.
	Span(ctx context.Context) (first, last Day, ok bool, err error)
}

// Tx is an Update's view of the store.
type Tx interface {
	// FacetIDs returns the ids of fs, creating those not stored yet.
	FacetIDs(ctx context.Context, fs []Facet) (map[Facet]FacetID, error)
	// Spans returns the stored spans of keys; keys with none are absent.
	Spans(ctx context.Context, keys []SpanKey) ([]Span, error)
	// DaySegments returns the segment stored in the activity table for each
	// (customer, day) that has one.
	DaySegments(ctx context.Context, keys []CustomerDay) (map[CustomerDay]Segment, error)
	// Apply writes c: spans replaced, every other row added to.
	Apply(ctx context.Context, c *Changes) error
}

// Query selects rollup rows. Rows are grouped by facet and band, and by day
// (or cohort and offset) when ByDay; Day is zero otherwise.
type Query struct {
	Facets   []FacetID
	From, To Day
	W        int  // Window only: one of Windows
	ByDay    bool // Daily and Window: one row per day; Cohorts always are
	// Product, when not zero, asks for a second sum over the customers who
	// held it (Row.Prod); zero makes Prod equal All.
	Product Product
}

// Row is one group of a Query. For Window rows Customers is the delta.
type Row struct {
	Facet  FacetID
	Day    Day
	Offset int // Cohorts: weeks since the cohort's week
	Band   Band
	All    Sums // every customer
	Prod   Sums // customers who held Query.Product
}

// Sums are the additive values of a cell.
type Sums struct {
	Customers int64
	Events    int64
	Amount    int64 // minor units
}

func (s *Sums) add(o Sums) {
	s.Customers += o.Customers
	s.Events += o.Events
	s.Amount += o.Amount
}

// Windows are the window lengths, in days, whose reach is kept: a week and a
// month for WAU and MAU, and every period the page offers.
var Windows = []int{7, 30, 90, 180}

// SpanKey packs a customer and a facet: customer<<16 | facet.
type SpanKey int64

// KeyOf builds a span key.
func KeyOf(c bankbridge.CustomerID, f FacetID) SpanKey { return SpanKey(int64(c)<<16 | int64(f)) }

// Customer returns the key's customer.
func (k SpanKey) Customer() bankbridge.CustomerID { return bankbridge.CustomerID(int64(k) >> 16) }

// Facet returns the key's facet.
func (k SpanKey) Facet() FacetID { return FacetID(int64(k) & (maxFacets - 1)) }

// Span is what is known of one customer in one facet: the days they were
// in it (a bit set from Origin), their first and last day, and their segment
// on the first day (the retention cohort is counted in it).
type Span struct {
	Key         SpanKey
	Origin      Day    // day of bit 0 of Bits; a multiple of 8
	Bits        []byte // bit i (LSB first) set: in the facet on Origin+i
	First, Last Day
	Segment     Segment // on First
}

// Segment is who a customer is, for the filters.
type Segment struct {
	Band     Band
	Products Products
}

// CustomerDay is a customer on a day.
type CustomerDay struct {
	Customer bankbridge.CustomerID
	Day      Day
}

// Changes is what a batch adds to the store.
type Changes struct {
	Spans    []Span // replace (or create)
	Activity []Activity
	Daily    []Cell
	Window   []Cell
	Cohort   []Cell
}

// Cell is an addition to one rollup cell. Daily: (Facet, Day, Segment);
// Window: (Facet, W, Day, Segment) with Customers the delta; Cohort:
// (Facet, Day = the cohort's Monday, Offset, Segment).
type Cell struct {
	Facet   FacetID
	W       int
	Day     Day
	Offset  int
	Segment Segment
	Sums
}

// Activity is an addition to the daily activity table: one customer on one
// channel on one day, with counts per kind. Segment is kept from the first
// batch that wrote the row.
type Activity struct {
	Day      Day
	Customer bankbridge.CustomerID
	Channel  Channel
	Segment  Segment
	Counts   [nKindCounts]int64
	Amount   ledger.Amount
}

// Counts of Activity, in order: session, action, intent, payment,
// alert_sent, alert_opened, alert_answered.
const nKindCounts = 7

// KindIndex is k's position in Activity.Counts.
func KindIndex(k Kind) int {
	for i, x := range Kinds {
		if x == k {
			return i
		}
	}
	return -1
}
