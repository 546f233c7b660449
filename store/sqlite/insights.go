package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/bankbridge/bankbridge/insights"
)

// InsightsStore implements insights.Store. Updates run on the single
// writer connection (so they are serialised); reads on the read pool.
type InsightsStore struct{ db *DB }

var _ insights.Store = (*InsightsStore)(nil)

// Insights returns the insights store over db.
func (db *DB) Insights() *InsightsStore { return &InsightsStore{db: db} }

// maxParams bounds the parameters of one statement, well under SQLite's
// 32766.
const maxParams = 30000

type insightsTx struct {
	tx     *sql.Tx
	facets map[insights.Facet]insights.FacetID // loaded on first use
}

// Update implements insights.Store.
func (s *InsightsStore) Update(ctx context.Context, fn func(insights.Tx) error) error {
	const op = "sqlite.Insights.Update"
	s.db.applyMu.Lock()
	defer s.db.applyMu.Unlock()
	tx, err := s.db.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(op, err, nil)
	}
	defer tx.Rollback()
	if err := fn(&insightsTx{tx: tx}); err != nil {
		return err
	}
	return mapErr(op, tx.Commit(), nil)
}

// FacetIDs implements insights.Tx.
func (t *insightsTx) FacetIDs(ctx context.Context, fs []insights.Facet) (map[insights.Facet]insights.FacetID, error) {
	const op = "sqlite.Insights.FacetIDs"
	if t.facets == nil {
		// A few hundred rows at most: reading them all is cheaper than
		// asking one by one, and needs no cache to invalidate.
		rows, err := t.tx.QueryContext(ctx, `SELECT id, metric, channel, detail FROM insights_facets`)
		if err != nil {
			return nil, mapErr(op, err, nil)
		}
		if t.facets, err = scanFacets(rows); err != nil {
			return nil, mapErr(op, err, nil)
		}
	}
	out := make(map[insights.Facet]insights.FacetID, len(fs))
	for _, f := range fs {
		if id, ok := t.facets[f]; ok {
			out[f] = id
			continue
		}
		var id insights.FacetID
		err := t.tx.QueryRowContext(ctx, `INSERT INTO insights_facets (metric, channel, detail) VALUES (?, ?, ?) RETURNING id`,
			f.Metric, f.Channel, f.Detail).Scan(&id)
		if err != nil {
			return nil, mapErr(op, err, nil)
		}
		if id <= 0 || id >= 1<<16 {
			return nil, fmt.Errorf("%s: facet id %d out of range", op, id)
		}
		t.facets[f] = id
		out[f] = id
	}
	return out, nil
}

// Spans implements insights.Tx. Keys are rowids: each chunk is a set of
// point lookups.
func (t *insightsTx) Spans(ctx context.Context, keys []insights.SpanKey) ([]insights.Span, error) {
	const op = "sqlite.Insights.Spans"
	var out []insights.Span
	const chunk = 1000
	for lo := 0; lo < len(keys); lo += chunk {
		hi := min(lo+chunk, len(keys))
		args := make([]any, hi-lo)
		for i, k := range keys[lo:hi] {
			args[i] = int64(k)
		}
		rows, err := t.tx.QueryContext(ctx, `SELECT k, origin, first_day, last_day, band, products, days FROM insights_spans WHERE k IN (`+
			qmarks(hi-lo)+`)`, args...)
		if err != nil {
			return nil, mapErr(op, err, nil)
		}
		for rows.Next() {
			var s insights.Span
			if err := rows.Scan(&s.Key, &s.Origin, &s.First, &s.Last, &s.Segment.Band, &s.Segment.Products, &s.Bits); err != nil {
				rows.Close()
				return nil, mapErr(op, err, nil)
			}
			out = append(out, s)
		}
		if err := rows.Close(); err != nil {
			return nil, mapErr(op, err, nil)
		}
	}
	return out, nil
}

func qmarks(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

// DaySegments implements insights.Tx.
func (t *insightsTx) DaySegments(ctx context.Context, keys []insights.CustomerDay) (map[insights.CustomerDay]insights.Segment, error) {
	const op = "sqlite.Insights.DaySegments"
	out := map[insights.CustomerDay]insights.Segment{}
	stmt, err := t.tx.PrepareContext(ctx, `SELECT band, products FROM insights_activity WHERE day = ? AND customer = ? LIMIT 1`)
	if err != nil {
		return nil, mapErr(op, err, nil)
	}
	defer stmt.Close()
	for _, k := range keys {
		if _, ok := out[k]; ok {
			continue
		}
		var s insights.Segment
		switch err := stmt.QueryRowContext(ctx, k.Day, int64(k.Customer)).Scan(&s.Band, &s.Products); {
		case err == nil:
			out[k] = s
		case !errors.Is(err, sql.ErrNoRows):
			return nil, mapErr(op, err, nil)
		}
	}
	return out, nil
}

// Apply implements insights.Tx with multi-row upserts.
func (t *insightsTx) Apply(ctx context.Context, c *insights.Changes) error {
	const op = "sqlite.Insights.Apply"
	err := bulk(ctx, t.tx, `INSERT INTO insights_spans (k, origin, first_day, last_day, band, products, days) VALUES `,
		` ON CONFLICT (k) DO UPDATE SET origin = excluded.origin, first_day = excluded.first_day, last_day = excluded.last_day,
		  band = excluded.band, products = excluded.products, days = excluded.days`, 7, len(c.Spans),
		func(i int, a []any) []any {
			s := c.Spans[i]
			return append(a, int64(s.Key), s.Origin, s.First, s.Last, s.Segment.Band, s.Segment.Products, s.Bits)
		})
	if err == nil {
		err = bulk(ctx, t.tx, `INSERT INTO insights_activity (day, customer, channel, band, products, sessions, actions, intents,
		  payments, alerts_sent, alerts_opened, alerts_answered, payment_value) VALUES `,
			` ON CONFLICT (day, customer, channel) DO UPDATE SET sessions = sessions + excluded.sessions,
			  actions = actions + excluded.actions, intents = intents + excluded.intents, payments = payments + excluded.payments,
			  alerts_sent = alerts_sent + excluded.alerts_sent, alerts_opened = alerts_opened + excluded.alerts_opened,
			  alerts_answered = alerts_answered + excluded.alerts_answered, payment_value = payment_value + excluded.payment_value`,
			13, len(c.Activity), func(i int, a []any) []any {
				x := c.Activity[i]
				a = append(a, x.Day, int64(x.Customer), string(x.Channel), x.Segment.Band, x.Segment.Products)
				for _, n := range x.Counts {
					a = append(a, n)
				}
				return append(a, int64(x.Amount))
			})
	}
	if err == nil {
		err = bulk(ctx, t.tx, `INSERT INTO insights_daily (facet, day, band, products, customers, events, amount) VALUES `,
			` ON CONFLICT (facet, day, band, products) DO UPDATE SET customers = customers + excluded.customers,
			  events = events + excluded.events, amount = amount + excluded.amount`, 7, len(c.Daily),
			func(i int, a []any) []any {
				x := c.Daily[i]
				return append(a, x.Facet, x.Day, x.Segment.Band, x.Segment.Products, x.Customers, x.Events, x.Amount)
			})
	}
	if err == nil {
		err = bulk(ctx, t.tx, `INSERT INTO insights_window (facet, w, day, band, products, delta) VALUES `,
			` ON CONFLICT (facet, w, day, band, products) DO UPDATE SET delta = delta + excluded.delta`, 6, len(c.Window),
			func(i int, a []any) []any {
				x := c.Window[i]
				return append(a, x.Facet, x.W, x.Day, x.Segment.Band, x.Segment.Products, x.Customers)
			})
	}
	if err == nil {
		err = bulk(ctx, t.tx, `INSERT INTO insights_cohorts (facet, cohort, week_offset, band, products, customers) VALUES `,
			` ON CONFLICT (facet, cohort, week_offset, band, products) DO UPDATE SET customers = customers + excluded.customers`, 6, len(c.Cohort),
			func(i int, a []any) []any {
				x := c.Cohort[i]
				return append(a, x.Facet, x.Day, x.Offset, x.Segment.Band, x.Segment.Products, x.Customers)
			})
	}
	return mapErr(op, err, nil)
}

// bulk runs head VALUES (...),(...) tail over n rows in chunks, with the
// statement of a full chunk prepared once.
func bulk(ctx context.Context, tx *sql.Tx, head, tail string, cols, n int, row func(i int, a []any) []any) error {
	if n == 0 {
		return nil
	}
	per := maxParams / cols
	one := "(" + qmarks(cols) + ")"
	text := func(rows int) string {
		return head + strings.TrimSuffix(strings.Repeat(one+",", rows), ",") + tail
	}
	var full *sql.Stmt
	args := make([]any, 0, min(n, per)*cols)
	for lo := 0; lo < n; lo += per {
		hi := min(lo+per, n)
		args = args[:0]
		for i := lo; i < hi; i++ {
			args = row(i, args)
		}
		var err error
		if hi-lo == per {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, text(per)); err != nil {
					return err
				}
				defer full.Close()
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, text(hi-lo), args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Facets implements insights.Store.
func (s *InsightsStore) Facets(ctx context.Context) (map[insights.Facet]insights.FacetID, error) {
	const op = "sqlite.Insights.Facets"
	rows, err := s.db.r.QueryContext(ctx, `SELECT id, metric, channel, detail FROM insights_facets`)
	if err != nil {
		return nil, mapErr(op, err, nil)
	}
	out, err := scanFacets(rows)
	return out, mapErr(op, err, nil)
}

func scanFacets(rows *sql.Rows) (map[insights.Facet]insights.FacetID, error) {
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
func sumCols(cols ...string) string {
	var b strings.Builder
	for _, c := range cols {
		fmt.Fprintf(&b, ", SUM(%s)", c)
	}
	for _, c := range cols {
		fmt.Fprintf(&b, ", SUM(CASE WHEN products & ?1 <> 0 THEN %s ELSE 0 END)", c)
	}
	return b.String()
}

// Daily implements insights.Store.
func (s *InsightsStore) Daily(ctx context.Context, q insights.Query) ([]insights.Row, error) {
	return s.read(ctx, "sqlite.Insights.Daily", q, "insights_daily", "day", "", []string{"customers", "events", "amount"})
}

// Window implements insights.Store.
func (s *InsightsStore) Window(ctx context.Context, q insights.Query) ([]insights.Row, error) {
	return s.read(ctx, "sqlite.Insights.Window", q, "insights_window", "day", fmt.Sprintf(" AND w = %d", q.W), []string{"delta"})
}

// Cohorts implements insights.Store.
func (s *InsightsStore) Cohorts(ctx context.Context, q insights.Query) ([]insights.Row, error) {
	q.ByDay = true
	return s.read(ctx, "sqlite.Insights.Cohorts", q, "insights_cohorts", "cohort", "", []string{"customers"})
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
		` AND ` + dayCol + ` BETWEEN ?2 AND ?3 GROUP BY ` + group
	rows, err := s.db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(op, err, nil)
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
			return nil, mapErr(op, err, nil)
		}
		r.All, r.Prod = toSums(all), toSums(prod)
		if q.Product == 0 {
			r.Prod = r.All
		}
		out = append(out, r)
	}
	return out, mapErr(op, rows.Err(), nil)
}

func toSums(v []int64) insights.Sums {
	var s insights.Sums
	s.Customers = v[0]
	if len(v) == 3 {
		s.Events, s.Amount = v[1], v[2]
	}
	return s
}

// Span implements insights.Store.
func (s *InsightsStore) Span(ctx context.Context) (first, last insights.Day, ok bool, err error) {
	const op = "sqlite.Insights.Span"
	err = s.db.r.QueryRowContext(ctx, `SELECT day FROM insights_activity ORDER BY day LIMIT 1`).Scan(&first)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, false, nil
	}
	if err == nil {
		err = s.db.r.QueryRowContext(ctx, `SELECT day FROM insights_activity ORDER BY day DESC LIMIT 1`).Scan(&last)
	}
	if err != nil {
		return 0, 0, false, mapErr(op, err, nil)
	}
	return first, last, true, nil
}
