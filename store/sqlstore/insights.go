package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/insights"
)

// InsightsStore implements insights.Store, once for both engines. Updates
// take turns (Dialect.turns: a transaction-level advisory lock on
// PostgreSQL, so that instances folding batches at the same time do not
// interleave, since a fold reads spans and writes what they imply; SQLite's
// single writer serialises them already); reads never wait. Each table's
// rows are written by one bulk upsert per statement chunk (DB.Upsert:
// arrays on PostgreSQL, multi-row VALUES on SQLite).
type InsightsStore struct{ db *DB }

var _ insights.Store = (*InsightsStore)(nil)

// Insights returns the insights store of db.
func (s Stores) Insights() *InsightsStore { return &InsightsStore{db: s.db} }

// insightsLock is the advisory lock of insights updates ("insi").
const insightsLock = 0x696e7369

type insightsTx struct {
	db     *DB
	tx     *Tx
	facets map[insights.Facet]insights.FacetID // loaded on first use
}

// Update implements insights.Store.
func (s *InsightsStore) Update(ctx context.Context, fn func(insights.Tx) error) error {
	const op = "sqlstore.Insights.Update"
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	defer tx.Rollback()
	if err := s.db.takeTurn(ctx, tx, insightsLock); err != nil {
		return s.db.Err(op, err, nil)
	}
	if err := fn(&insightsTx{db: s.db, tx: tx}); err != nil {
		return err
	}
	return s.db.Err(op, tx.Commit(), nil)
}

// FacetIDs implements insights.Tx.
func (t *insightsTx) FacetIDs(ctx context.Context, fs []insights.Facet) (map[insights.Facet]insights.FacetID, error) {
	const op = "sqlstore.Insights.FacetIDs"
	if t.facets == nil {
		// A few hundred rows at most: reading them all is cheaper than
		// asking one by one, and needs no cache to invalidate.
		rows, err := t.tx.Query(ctx, `SELECT id, metric, channel, detail FROM insights_facets`)
		if err != nil {
			return nil, t.db.Err(op, err, nil)
		}
		if t.facets, err = scanFacets(rows); err != nil {
			return nil, t.db.Err(op, err, nil)
		}
	}
	out := make(map[insights.Facet]insights.FacetID, len(fs))
	for _, f := range fs {
		if id, ok := t.facets[f]; ok {
			out[f] = id
			continue
		}
		// Updates take turns: nobody else inserts facets now.
		var id insights.FacetID
		err := t.tx.QueryRow(ctx, `INSERT INTO insights_facets (metric, channel, detail) VALUES ($1, $2, $3) RETURNING id`,
			f.Metric, f.Channel, f.Detail).Scan(&id)
		if err != nil {
			return nil, t.db.Err(op, err, nil)
		}
		if id <= 0 || int64(id) >= 1<<16 {
			return nil, fmt.Errorf("%s: facet id %d out of range", op, id)
		}
		t.facets[f] = id
		out[f] = id
	}
	return out, nil
}

// inChunk bounds the values of one IN list.
const inChunk = 1000

// Spans implements insights.Tx. Keys are primary keys: each chunk is a set
// of point lookups.
func (t *insightsTx) Spans(ctx context.Context, keys []insights.SpanKey) ([]insights.Span, error) {
	const op = "sqlstore.Insights.Spans"
	var out []insights.Span
	for chunk := range slices.Chunk(keys, inChunk) {
		in, args := In(1, chunk)
		rows, err := t.tx.Query(ctx, `SELECT k, origin, first_day, last_day, band, products, days FROM insights_spans WHERE k IN (`+in+`)`, args...)
		if err != nil {
			return nil, t.db.Err(op, err, nil)
		}
		got, err := Collect(rows, func(r Scanner) (insights.Span, error) {
			var s insights.Span
			return s, r.Scan(&s.Key, &s.Origin, &s.First, &s.Last, &s.Segment.Band, &s.Segment.Products, &s.Bits)
		})
		if err != nil {
			return nil, t.db.Err(op, err, nil)
		}
		out = append(out, got...)
	}
	return out, nil
}

// DaySegments implements insights.Tx: per day, the customers' rows in
// chunks, each a range of the primary key (day, customer, channel) per
// customer. A customer's rows of one day share a segment; the first is kept.
func (t *insightsTx) DaySegments(ctx context.Context, keys []insights.CustomerDay) (map[insights.CustomerDay]insights.Segment, error) {
	const op = "sqlstore.Insights.DaySegments"
	byDay := map[insights.Day][]int64{}
	for _, k := range keys {
		byDay[k.Day] = append(byDay[k.Day], int64(k.Customer))
	}
	out := map[insights.CustomerDay]insights.Segment{}
	for day, custs := range byDay {
		slices.Sort(custs)
		for chunk := range slices.Chunk(slices.Compact(custs), inChunk) {
			in, args := In(2, chunk)
			rows, err := t.tx.Query(ctx, `SELECT customer, band, products FROM insights_activity WHERE day = $1 AND customer IN (`+in+`)`,
				append([]any{day}, args...)...)
			if err != nil {
				return nil, t.db.Err(op, err, nil)
			}
			err = each(rows, func(r Scanner) error {
				var c int64
				var s insights.Segment
				if err := r.Scan(&c, &s.Band, &s.Products); err != nil {
					return err
				}
				k := insights.CustomerDay{Customer: bankbridge.CustomerID(c), Day: day}
				if _, ok := out[k]; !ok {
					out[k] = s
				}
				return nil
			})
			if err != nil {
				return nil, t.db.Err(op, err, nil)
			}
		}
	}
	return out, nil
}

// each calls fn on every row of rows and closes rows.
func each(rows Rows, fn func(Scanner) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Apply implements insights.Tx: one bulk upsert per table. Spans are
// replaced; every other row is added to.
func (t *insightsTx) Apply(ctx context.Context, c *insights.Changes) error {
	const op = "sqlstore.Insights.Apply"
	up := func(insert, conflict string, n int, row func(i int) []any) error {
		rows := make([][]any, n)
		for i := range rows {
			rows[i] = row(i)
		}
		return t.db.Upsert(ctx, t.tx, insert, conflict, rows)
	}
	err := up(`INSERT INTO insights_spans (k, origin, first_day, last_day, band, products, days)`,
		`ON CONFLICT (k) DO UPDATE SET origin = excluded.origin, first_day = excluded.first_day, last_day = excluded.last_day,
  band = excluded.band, products = excluded.products, days = excluded.days`, len(c.Spans),
		func(i int) []any {
			s := c.Spans[i]
			return []any{int64(s.Key), s.Origin, s.First, s.Last, s.Segment.Band, s.Segment.Products, s.Bits}
		})
	if err == nil {
		err = up(`INSERT INTO insights_activity (day, customer, channel, band, products, sessions, actions, intents,
  payments, alerts_sent, alerts_opened, alerts_answered, payment_value)`,
			`ON CONFLICT (day, customer, channel) DO UPDATE SET sessions = insights_activity.sessions + excluded.sessions,
  actions = insights_activity.actions + excluded.actions, intents = insights_activity.intents + excluded.intents,
  payments = insights_activity.payments + excluded.payments, alerts_sent = insights_activity.alerts_sent + excluded.alerts_sent,
  alerts_opened = insights_activity.alerts_opened + excluded.alerts_opened,
  alerts_answered = insights_activity.alerts_answered + excluded.alerts_answered,
  payment_value = insights_activity.payment_value + excluded.payment_value`, len(c.Activity),
			func(i int) []any {
				x := c.Activity[i]
				a := []any{x.Day, int64(x.Customer), string(x.Channel), x.Segment.Band, x.Segment.Products}
				for _, n := range x.Counts {
					a = append(a, n)
				}
				return append(a, int64(x.Amount))
			})
	}
	if err == nil {
		err = up(`INSERT INTO insights_daily (facet, day, band, products, customers, events, amount)`,
			`ON CONFLICT (facet, day, band, products) DO UPDATE SET customers = insights_daily.customers + excluded.customers,
  events = insights_daily.events + excluded.events, amount = insights_daily.amount + excluded.amount`, len(c.Daily),
			func(i int) []any {
				x := c.Daily[i]
				return []any{x.Facet, x.Day, x.Segment.Band, x.Segment.Products, x.Customers, x.Events, x.Amount}
			})
	}
	if err == nil {
		err = up(`INSERT INTO insights_window (facet, w, day, band, products, delta)`,
			`ON CONFLICT (facet, w, day, band, products) DO UPDATE SET delta = insights_window.delta + excluded.delta`, len(c.Window),
			func(i int) []any {
				x := c.Window[i]
				return []any{x.Facet, x.W, x.Day, x.Segment.Band, x.Segment.Products, x.Customers}
			})
	}
	if err == nil {
		err = up(`INSERT INTO insights_cohorts (facet, cohort, week_offset, band, products, customers)`,
			`ON CONFLICT (facet, cohort, week_offset, band, products) DO UPDATE SET customers = insights_cohorts.customers + excluded.customers`, len(c.Cohort),
			func(i int) []any {
				x := c.Cohort[i]
				return []any{x.Facet, x.Day, x.Offset, x.Segment.Band, x.Segment.Products, x.Customers}
			})
	}
	return t.db.Err(op, err, nil)
}

// Facets implements insights.Store.
func (s *InsightsStore) Facets(ctx context.Context) (map[insights.Facet]insights.FacetID, error) {
	const op = "sqlstore.Insights.Facets"
	rows, err := s.db.R().Query(ctx, `SELECT id, metric, channel, detail FROM insights_facets`)
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	out, err := scanFacets(rows)
	return out, s.db.Err(op, err, nil)
}

// scanFacets reads rows of id, metric, channel, detail.
func scanFacets(rows Rows) (map[insights.Facet]insights.FacetID, error) {
	defer rows.Close()
	out := map[insights.Facet]insights.FacetID{}
	for rows.Next() {
		var id insights.FacetID
		var f insights.Facet
		if err := rows.Scan(&id, &f.Metric, &f.Channel, &f.Detail); err != nil {
			return nil, err
		}
		out[f] = id
	}
	return out, rows.Err()
}

// sumCols is the select list of one summed column and its product share.
// The casts keep the sums 64-bit integers: PostgreSQL sums bigint as numeric.
func sumCols(cols ...string) string {
	var b strings.Builder
	for _, c := range cols {
		fmt.Fprintf(&b, ", CAST(SUM(%s) AS BIGINT)", c)
	}
	for _, c := range cols {
		fmt.Fprintf(&b, ", CAST(SUM(CASE WHEN products & $1 <> 0 THEN %s ELSE 0 END) AS BIGINT)", c)
	}
	return b.String()
}

// Daily implements insights.Store.
func (s *InsightsStore) Daily(ctx context.Context, q insights.Query) ([]insights.Row, error) {
	return s.read(ctx, "sqlstore.Insights.Daily", q, "insights_daily", "day", "", []string{"customers", "events", "amount"})
}

// Window implements insights.Store.
func (s *InsightsStore) Window(ctx context.Context, q insights.Query) ([]insights.Row, error) {
	return s.read(ctx, "sqlstore.Insights.Window", q, "insights_window", "day", fmt.Sprintf(" AND w = %d", q.W), []string{"delta"})
}

// Cohorts implements insights.Store.
func (s *InsightsStore) Cohorts(ctx context.Context, q insights.Query) ([]insights.Row, error) {
	q.ByDay = true
	return s.read(ctx, "sqlstore.Insights.Cohorts", q, "insights_cohorts", "cohort", "", []string{"customers"})
}

// read sums cols of table grouped by facet, band and (when q.ByDay) the
// day column (and, for cohorts, the week offset).
func (s *InsightsStore) read(ctx context.Context, op string, q insights.Query, table, dayCol, extra string, cols []string) ([]insights.Row, error) {
	if len(q.Facets) == 0 {
		return nil, nil
	}
	group := "facet, band"
	sel := "facet, 0, 0, band"
	if q.ByDay {
		group = "facet, " + dayCol + ", band"
		sel = "facet, " + dayCol + ", 0, band"
		if table == "insights_cohorts" {
			group = "facet, cohort, week_offset, band"
			sel = "facet, cohort, week_offset, band"
		}
	}
	args := []any{int64(q.Product), q.From, q.To}
	in := make([]string, len(q.Facets))
	for i, f := range q.Facets {
		in[i] = fmt.Sprint(int32(f))
	}
	query := `SELECT ` + sel + sumCols(cols...) + ` FROM ` + table + ` WHERE facet IN (` + strings.Join(in, ",") + `)` + extra +
		` AND ` + dayCol + ` BETWEEN $2 AND $3 GROUP BY ` + group
	rows, err := s.db.R().Query(ctx, query, args...)
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	defer rows.Close()
	var out []insights.Row
	for rows.Next() {
		var r insights.Row
		all := make([]int64, len(cols))
		prod := make([]int64, len(cols))
		dest := []any{&r.Facet, &r.Day, &r.Offset, &r.Band}
		for i := range cols {
			dest = append(dest, &all[i])
		}
		for i := range cols {
			dest = append(dest, &prod[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, s.db.Err(op, err, nil)
		}
		r.All, r.Prod = toSums(all), toSums(prod)
		if q.Product == 0 {
			r.Prod = r.All
		}
		out = append(out, r)
	}
	return out, s.db.Err(op, rows.Err(), nil)
}

func toSums(v []int64) insights.Sums {
	var s insights.Sums
	s.Customers = v[0]
	if len(v) == 3 {
		s.Events, s.Amount = v[1], v[2]
	}
	return s
}

// Span implements insights.Store, with two queries: each reads one end of
// the primary key on both engines, where SQLite would scan the whole table
// for MIN and MAX together.
func (s *InsightsStore) Span(ctx context.Context) (first, last insights.Day, ok bool, err error) {
	const op = "sqlstore.Insights.Span"
	err = s.db.R().QueryRow(ctx, `SELECT day FROM insights_activity ORDER BY day LIMIT 1`).Scan(&first)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, false, nil
	}
	if err == nil {
		err = s.db.R().QueryRow(ctx, `SELECT day FROM insights_activity ORDER BY day DESC LIMIT 1`).Scan(&last)
	}
	if err != nil {
		return 0, 0, false, s.db.Err(op, err, nil)
	}
	return first, last, true, nil
}
