package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/bankbridge/bankbridge/insights"
)

// InsightsReads implements the reads of insights.Store, which are the same
// SQL on both engines. The updates are the engines' own (store/sqlite and
// store/postgres insights.go): set-oriented over arrays under an advisory
// lock on PostgreSQL, multi-row statements on SQLite's single writer.
type InsightsReads struct{ db *DB }

// InsightsReads returns the insights reads of db.
func (db *DB) InsightsReads() *InsightsReads { return &InsightsReads{db: db} }

// Facets implements insights.Store.
func (s *InsightsReads) Facets(ctx context.Context) (map[insights.Facet]insights.FacetID, error) {
	const op = "sqlstore.Insights.Facets"
	rows, err := s.db.R().Query(ctx, `SELECT id, metric, channel, detail FROM insights_facets`)
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	out, err := ScanFacets(rows)
	return out, s.db.Err(op, err, nil)
}

// ScanFacets reads rows of id, metric, channel, detail.
func ScanFacets(rows Rows) (map[insights.Facet]insights.FacetID, error) {
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
func (s *InsightsReads) Daily(ctx context.Context, q insights.Query) ([]insights.Row, error) {
	return s.read(ctx, "sqlstore.Insights.Daily", q, "insights_daily", "day", "", []string{"customers", "events", "amount"})
}

// Window implements insights.Store.
func (s *InsightsReads) Window(ctx context.Context, q insights.Query) ([]insights.Row, error) {
	return s.read(ctx, "sqlstore.Insights.Window", q, "insights_window", "day", fmt.Sprintf(" AND w = %d", q.W), []string{"delta"})
}

// Cohorts implements insights.Store.
func (s *InsightsReads) Cohorts(ctx context.Context, q insights.Query) ([]insights.Row, error) {
	q.ByDay = true
	return s.read(ctx, "sqlstore.Insights.Cohorts", q, "insights_cohorts", "cohort", "", []string{"customers"})
}

// read sums cols of table grouped by facet, band and (when q.ByDay) the
// day column (and, for cohorts, the week offset).
func (s *InsightsReads) read(ctx context.Context, op string, q insights.Query, table, dayCol, extra string, cols []string) ([]insights.Row, error) {
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
func (s *InsightsReads) Span(ctx context.Context) (first, last insights.Day, ok bool, err error) {
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
