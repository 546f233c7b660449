package postgres

import (
	"context"
	"fmt"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/store/sqlstore"
	"github.com/jackc/pgx/v5"
)

// InsightsStore implements insights.Store. Updates take a transaction-level
// advisory lock, so that instances folding batches at the same time take
// turns (fold reads spans and writes what they imply); reads never wait.
type InsightsStore struct {
	*sqlstore.InsightsReads // the reads, the same SQL on both engines
	db                      *DB
}

var _ insights.Store = (*InsightsStore)(nil)

// Insights returns the insights store over db.
func (db *DB) Insights() *InsightsStore {
	return &InsightsStore{InsightsReads: db.sql.InsightsReads(), db: db}
}

// insightsLock is the advisory lock of insights updates ("insi").
const insightsLock = 0x696e7369

type insightsTx struct {
	tx     pgx.Tx
	facets map[insights.Facet]insights.FacetID
}

// Update implements insights.Store.
func (s *InsightsStore) Update(ctx context.Context, fn func(insights.Tx) error) error {
	const op = "postgres.Insights.Update"
	tx, err := s.db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return mapErr(op, err, nil)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, insightsLock); err != nil {
		return mapErr(op, err, nil)
	}
	if err := fn(&insightsTx{tx: tx}); err != nil {
		return err
	}
	return mapErr(op, tx.Commit(ctx), nil)
}

func scanFacets(rows pgx.Rows) (map[insights.Facet]insights.FacetID, error) {
	defer rows.Close()
	out := map[insights.Facet]insights.FacetID{}
	for rows.Next() {
		var id int32
		var f insights.Facet
		if err := rows.Scan(&id, &f.Metric, &f.Channel, &f.Detail); err != nil {
			return nil, err
		}
		out[f] = insights.FacetID(id)
	}
	return out, rows.Err()
}

// FacetIDs implements insights.Tx.
func (t *insightsTx) FacetIDs(ctx context.Context, fs []insights.Facet) (map[insights.Facet]insights.FacetID, error) {
	const op = "postgres.Insights.FacetIDs"
	if t.facets == nil {
		rows, err := t.tx.Query(ctx, `SELECT id, metric, channel, detail FROM insights_facets`)
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
		// Updates hold the advisory lock: nobody else inserts facets now.
		var id int32
		err := t.tx.QueryRow(ctx, `INSERT INTO insights_facets (metric, channel, detail) VALUES ($1, $2, $3) RETURNING id`,
			f.Metric, f.Channel, f.Detail).Scan(&id)
		if err != nil {
			return nil, mapErr(op, err, nil)
		}
		if id <= 0 || id >= 1<<16 {
			return nil, fmt.Errorf("%s: facet id %d out of range", op, id)
		}
		t.facets[f] = insights.FacetID(id)
		out[f] = insights.FacetID(id)
	}
	return out, nil
}

// Spans implements insights.Tx.
func (t *insightsTx) Spans(ctx context.Context, keys []insights.SpanKey) ([]insights.Span, error) {
	const op = "postgres.Insights.Spans"
	ks := make([]int64, len(keys))
	for i, k := range keys {
		ks[i] = int64(k)
	}
	rows, err := t.tx.Query(ctx, `SELECT k, origin, first_day, last_day, band, products, days FROM insights_spans WHERE k = ANY($1)`, ks)
	if err != nil {
		return nil, mapErr(op, err, nil)
	}
	defer rows.Close()
	var out []insights.Span
	for rows.Next() {
		var s insights.Span
		var k int64
		var origin, first, last int32
		var band, prods int16
		if err := rows.Scan(&k, &origin, &first, &last, &band, &prods, &s.Bits); err != nil {
			return nil, mapErr(op, err, nil)
		}
		s.Key, s.Origin, s.First, s.Last = insights.SpanKey(k), insights.Day(origin), insights.Day(first), insights.Day(last)
		s.Segment = insights.Segment{Band: insights.Band(band), Products: insights.Products(prods)}
		out = append(out, s)
	}
	return out, mapErr(op, rows.Err(), nil)
}

// DaySegments implements insights.Tx.
func (t *insightsTx) DaySegments(ctx context.Context, keys []insights.CustomerDay) (map[insights.CustomerDay]insights.Segment, error) {
	const op = "postgres.Insights.DaySegments"
	days := make([]int32, len(keys))
	custs := make([]int64, len(keys))
	for i, k := range keys {
		days[i], custs[i] = int32(k.Day), int64(k.Customer)
	}
	rows, err := t.tx.Query(ctx, `SELECT DISTINCT ON (a.day, a.customer) a.day, a.customer, a.band, a.products
FROM unnest($1::integer[], $2::bigint[]) q(day, customer)
JOIN insights_activity a ON a.day = q.day AND a.customer = q.customer
ORDER BY a.day, a.customer`, days, custs)
	if err != nil {
		return nil, mapErr(op, err, nil)
	}
	defer rows.Close()
	out := map[insights.CustomerDay]insights.Segment{}
	for rows.Next() {
		var d int32
		var c int64
		var band, prods int16
		if err := rows.Scan(&d, &c, &band, &prods); err != nil {
			return nil, mapErr(op, err, nil)
		}
		out[insights.CustomerDay{Customer: insightsCustomer(c), Day: insights.Day(d)}] = insights.Segment{Band: insights.Band(band), Products: insights.Products(prods)}
	}
	return out, mapErr(op, rows.Err(), nil)
}

// Apply implements insights.Tx: one statement per table over arrays, sent
// in one round trip.
func (t *insightsTx) Apply(ctx context.Context, c *insights.Changes) error {
	const op = "postgres.Insights.Apply"
	b := &pgx.Batch{}
	if n := len(c.Spans); n > 0 {
		k, o, f, l := make([]int64, n), make([]int32, n), make([]int32, n), make([]int32, n)
		band, prods, bits := make([]int16, n), make([]int16, n), make([][]byte, n)
		for i, s := range c.Spans {
			k[i], o[i], f[i], l[i] = int64(s.Key), int32(s.Origin), int32(s.First), int32(s.Last)
			band[i], prods[i], bits[i] = int16(s.Segment.Band), int16(s.Segment.Products), s.Bits
		}
		b.Queue(`INSERT INTO insights_spans (k, origin, first_day, last_day, band, products, days)
SELECT * FROM unnest($1::bigint[], $2::integer[], $3::integer[], $4::integer[], $5::smallint[], $6::smallint[], $7::bytea[])
ON CONFLICT (k) DO UPDATE SET origin = excluded.origin, first_day = excluded.first_day, last_day = excluded.last_day,
  band = excluded.band, products = excluded.products, days = excluded.days`, k, o, f, l, band, prods, bits)
	}
	if n := len(c.Activity); n > 0 {
		day, cust, ch := make([]int32, n), make([]int64, n), make([]string, n)
		band, prods := make([]int16, n), make([]int16, n)
		var counts [7][]int64
		for j := range counts {
			counts[j] = make([]int64, n)
		}
		amt := make([]int64, n)
		for i, a := range c.Activity {
			day[i], cust[i], ch[i], band[i], prods[i] = int32(a.Day), int64(a.Customer), string(a.Channel), int16(a.Segment.Band), int16(a.Segment.Products)
			for j := range counts {
				counts[j][i] = a.Counts[j]
			}
			amt[i] = int64(a.Amount)
		}
		b.Queue(`INSERT INTO insights_activity (day, customer, channel, band, products, sessions, actions, intents, payments,
  alerts_sent, alerts_opened, alerts_answered, payment_value)
SELECT * FROM unnest($1::integer[], $2::bigint[], $3::text[], $4::smallint[], $5::smallint[], $6::integer[], $7::integer[],
  $8::integer[], $9::integer[], $10::integer[], $11::integer[], $12::integer[], $13::bigint[])
ON CONFLICT (day, customer, channel) DO UPDATE SET sessions = insights_activity.sessions + excluded.sessions,
  actions = insights_activity.actions + excluded.actions, intents = insights_activity.intents + excluded.intents,
  payments = insights_activity.payments + excluded.payments, alerts_sent = insights_activity.alerts_sent + excluded.alerts_sent,
  alerts_opened = insights_activity.alerts_opened + excluded.alerts_opened,
  alerts_answered = insights_activity.alerts_answered + excluded.alerts_answered,
  payment_value = insights_activity.payment_value + excluded.payment_value`,
			day, cust, ch, band, prods, counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], counts[6], amt)
	}
	queueCells(b, "insights_daily", "day", c.Daily, true)
	queueCells(b, "insights_window", "day", c.Window, false)
	queueCells(b, "insights_cohorts", "cohort", c.Cohort, false)
	if b.Len() == 0 {
		return nil
	}
	return mapErr(op, t.tx.SendBatch(ctx, b).Close(), nil)
}

// queueCells adds the upsert of one rollup table to b.
func queueCells(b *pgx.Batch, table, dayCol string, cells []insights.Cell, sums bool) {
	n := len(cells)
	if n == 0 {
		return
	}
	facet, day, band, prods := make([]int32, n), make([]int32, n), make([]int16, n), make([]int16, n)
	x, y, z := make([]int64, n), make([]int64, n), make([]int64, n)
	w := make([]int16, n)
	for i, c := range cells {
		facet[i], day[i], band[i], prods[i] = int32(c.Facet), int32(c.Day), int16(c.Segment.Band), int16(c.Segment.Products)
		x[i], y[i], z[i] = c.Customers, c.Events, c.Amount
		w[i] = int16(c.W)
		if table == "insights_cohorts" {
			w[i] = int16(c.Offset)
		}
	}
	switch table {
	case "insights_daily":
		b.Queue(`INSERT INTO insights_daily (facet, day, band, products, customers, events, amount)
SELECT * FROM unnest($1::integer[], $2::integer[], $3::smallint[], $4::smallint[], $5::bigint[], $6::bigint[], $7::bigint[])
ON CONFLICT (facet, day, band, products) DO UPDATE SET customers = insights_daily.customers + excluded.customers,
  events = insights_daily.events + excluded.events, amount = insights_daily.amount + excluded.amount`,
			facet, day, band, prods, x, y, z)
	case "insights_window":
		b.Queue(`INSERT INTO insights_window (facet, w, day, band, products, delta)
SELECT * FROM unnest($1::integer[], $2::smallint[], $3::integer[], $4::smallint[], $5::smallint[], $6::bigint[])
ON CONFLICT (facet, w, day, band, products) DO UPDATE SET delta = insights_window.delta + excluded.delta`,
			facet, w, day, band, prods, x)
	case "insights_cohorts":
		b.Queue(`INSERT INTO insights_cohorts (facet, cohort, week_offset, band, products, customers)
SELECT * FROM unnest($1::integer[], $2::integer[], $3::smallint[], $4::smallint[], $5::smallint[], $6::bigint[])
ON CONFLICT (facet, cohort, week_offset, band, products) DO UPDATE SET customers = insights_cohorts.customers + excluded.customers`,
			facet, day, w, band, prods, x)
	}
}

func insightsCustomer(c int64) bankbridge.CustomerID { return bankbridge.CustomerID(c) }
