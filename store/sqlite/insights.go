package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/store/sqlstore"
)

// InsightsStore implements insights.Store. Updates run on the single
// writer connection (so they are serialised); the reads, the same SQL on
// both engines, are sqlstore's, on the read pool.
type InsightsStore struct {
	*sqlstore.InsightsReads
	db *DB
}

var _ insights.Store = (*InsightsStore)(nil)

// Insights returns the insights store over db.
func (db *DB) Insights() *InsightsStore {
	return &InsightsStore{InsightsReads: db.sql.InsightsReads(), db: db}
}

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
		if t.facets, err = sqlstore.ScanFacets(rows); err != nil {
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
