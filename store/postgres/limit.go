package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Budgets keeps rate budgets (the data API's per partner and per customer,
// a platform's Send API pacing) in the database, so that a budget holds for
// the fleet rather than for each instance: N instances behind a balancer
// share one budget, not N. It satisfies dataapi.Turns and messenger.Turns.
//
// Each budget is one row holding GCRA's state (the generic cell rate
// algorithm: a theoretical arrival time, TAT), and each decision is one
// INSERT ... ON CONFLICT DO UPDATE ... RETURNING: the row lock serialises
// deciders across instances, so the budget is exact, and no lock outlives
// the statement, so an instance that dies mid-decision leaves either a
// taken turn or nothing, never a held lock. Why this and not leased token
// chunks or NATS KV: docs/decisions.md, "Fleet rate limits".
//
// SQLite has no counterpart: it serves one process, whose in-memory
// limiters (golang.org/x/time/rate) are already exact.
type Budgets struct {
	pool *pgxpool.Pool
	now  func() time.Time
	// swept is when this handle last dropped rows that are full buckets
	// (Unix seconds).
	swept atomic.Int64
}

// Budgets returns the fleet's rate budgets. now is for tests; nil (as in
// production) reads the database server's clock, so that instances whose
// clocks disagree still share one timeline.
func (db *DB) Budgets(now func() time.Time) *Budgets {
	return &Budgets{pool: db.pool, now: now}
}

// nowExpr is the decision's time in Unix nanoseconds: the parameter p
// when a test sets it, otherwise the server's clock_timestamp(). In the
// upsert's DO UPDATE it is read after the row lock is held, so a decision
// that queued behind others under contention decides at the time it is
// really made; statement_timestamp() (the time the statement began) made
// queued decisions early and refused turns the budget had, so a busy
// fleet got less than its budget. Read a few microseconds apart within
// one statement, the later reading only ever moves tat later: it may
// refuse, never allow, a turn too many.
func nowExpr(p int) string {
	return fmt.Sprintf(`coalesce($%d::bigint, (extract(epoch FROM clock_timestamp()) * 1000000000)::bigint)`, p)
}

// decide is GCRA with a wait, as one upsert of the key in parameter k:
// with one turn every $e ns and $b ns of saved-up turns (burst x
// interval), a turn is granted when its time, greatest(tat, now) +
// interval - burst window, is at most now + maxWait (an SQL expression);
// granting moves tat on by one interval. A refusal leaves tat as it was,
// so refused calls cost the budget nothing. A new key is a full bucket:
// its first turn is always granted. where, if not empty, decides whether
// the key is asked at all. Nanoseconds (a bigint holds them until 2262),
// so that even a budget too large to bind, like the benchmarks'
// per-customer one, is still decided here and costs what a real one costs.
func decide(now string, k, e, b int, maxWait, where string) string {
	grant := fmt.Sprintf(`greatest(r.tat, %[1]s) + $%[2]d::bigint - $%[3]d::bigint <= %[1]s + %[4]s`, now, e, b, maxWait)
	return fmt.Sprintf(`INSERT INTO rate_limits AS r (key, tat, allowed) SELECT $%[2]d::text, %[1]s + $%[3]d::bigint, true %[6]s
ON CONFLICT (key) DO UPDATE SET allowed = %[4]s,
  tat = CASE WHEN %[4]s THEN greatest(r.tat, %[1]s) + $%[3]d::bigint ELSE r.tat END
RETURNING allowed, tat, %[1]s AS at`, now, k, e, grant, b, where)
}

// takeSQL decides one key: $1 key, $2 test time or NULL, $3 interval, $4
// burst window, $5 maxWait.
var takeSQL = decide(nowExpr(2), 1, 3, 4, "$5::bigint", "")

// Take takes one turn of the budget called key, which grants one turn
// every `every` with up to burst turns saved up, provided the turn comes
// within maxWait. Granted, it returns how long until the turn (0: now) and
// ok; the caller waits that long, or gives the turn back with Give.
// Refused, nothing is taken, and wait is how long until a turn would come
// within maxWait. An every of zero or less is no limit. It fails only
// when the database does.
func (l *Budgets) Take(ctx context.Context, key string, every time.Duration, burst int, maxWait time.Duration) (wait time.Duration, ok bool, err error) {
	const op = "postgres.Budgets.Take"
	interval := every.Nanoseconds()
	if interval <= 0 {
		return 0, true, nil
	}
	burst = max(burst, 1)
	var now any // NULL: the server's clock
	if l.now != nil {
		now = l.now().UnixNano()
	}
	var tat, at int64
	if err := l.pool.QueryRow(ctx, takeSQL, key, now, interval, int64(burst)*interval, max(maxWait, 0).Nanoseconds()).Scan(&ok, &tat, &at); err != nil {
		return 0, false, mapErr(op, err, nil)
	}
	l.sweep(ctx, at)
	if ok {
		// The turn granted is at (new tat) - burst window.
		return time.Duration(max(0, tat-int64(burst)*interval-at)), true, nil
	}
	// The next turn would be at greatest(tat, now) + interval - burst
	// window; it is within reach maxWait before that.
	next := max(tat, at) + interval - int64(burst)*interval - max(maxWait, 0).Nanoseconds()
	return time.Duration(max(1, next-at)), false, nil
}

// TakeAll takes one turn now from each budget keys[i] (one turn every
// every[i], burst[i] saved up), in order and in one statement, one round
// trip: the data API's two budgets per call (partner, then customer) cost
// one. It stops at the first budget that refuses, and returns how long
// until that one has a turn; the turns taken before it stay taken, as
// they would with one Take after the other. Rows are locked in the order
// given, so callers name budgets in one order (the data API: partner
// before customer) and no two decisions wait for each other in a cycle.
// An every of zero or less is no limit. It fails only when the database
// does.
func (l *Budgets) TakeAll(ctx context.Context, keys []string, every []time.Duration, burst []int) (retryAfter time.Duration, ok bool, err error) {
	const op = "postgres.Budgets.TakeAll"
	if len(every) != len(keys) || len(burst) != len(keys) {
		return 0, false, fmt.Errorf("%s: %d keys, %d intervals, %d bursts", op, len(keys), len(every), len(burst))
	}
	var now any // NULL: the server's clock
	if l.now != nil {
		now = l.now().UnixNano()
	}
	args := make([]any, 1, 1+3*len(keys))
	args[0] = now
	intervals, windows := make([]int64, 0, len(keys)), make([]int64, 0, len(keys))
	for i, key := range keys {
		interval := every[i].Nanoseconds()
		if interval <= 0 {
			continue
		}
		b := int64(max(burst[i], 1))
		args = append(args, key, interval, b*interval)
		intervals, windows = append(intervals, interval), append(windows, b*interval)
	}
	if len(intervals) == 0 {
		return 0, true, nil
	}
	rows, err := l.pool.Query(ctx, takeAllSQL(len(intervals)), args...)
	if err != nil {
		return 0, false, mapErr(op, err, nil)
	}
	defer rows.Close()
	var i int
	var allowed bool
	var tat, at int64
	n := 0
	for rows.Next() {
		if err := rows.Scan(&i, &allowed, &tat, &at); err != nil {
			return 0, false, mapErr(op, err, nil)
		}
		n++
		if !allowed {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return 0, false, mapErr(op, err, nil)
	}
	if n == 0 {
		return 0, false, fmt.Errorf("%s: no decision returned", op)
	}
	l.sweep(ctx, at)
	if allowed && n == len(intervals) {
		return 0, true, nil
	}
	// Budget i refused: its next turn is at greatest(tat, now) + interval
	// - burst window.
	return time.Duration(max(1, max(tat, at)+intervals[i]-windows[i]-at)), false, nil
}

// takeAllSQLs holds takeAllSQL's statements for up to 4 budgets (the data
// API asks for 2 on every call), built once rather than on each call.
var takeAllSQLs = func() (q [5]string) {
	for n := 1; n < len(q); n++ {
		q[n] = buildTakeAllSQL(n)
	}
	return q
}()

// takeAllSQL is TakeAll's statement for n budgets.
func takeAllSQL(n int) string {
	if n < len(takeAllSQLs) {
		return takeAllSQLs[n]
	}
	return buildTakeAllSQL(n)
}

// buildTakeAllSQL writes TakeAll's statement for n budgets: $1 the test
// time or NULL, then key, interval and burst window for each. Each budget
// is a data-modifying CTE that runs only if the one before it granted; the
// SELECT at the end reads what each decided, in order.
func buildTakeAllSQL(n int) string {
	var ctes, reads []string
	for i := range n {
		p := 1 + 3*(i+1) // the burst window's parameter
		where := ""
		if i > 0 {
			where = fmt.Sprintf("WHERE (SELECT allowed FROM t%d)", i-1)
		}
		ctes = append(ctes, fmt.Sprintf("t%d AS (%s)", i, decide(nowExpr(1), p-2, p-1, p, "0", where)))
		reads = append(reads, fmt.Sprintf("SELECT %d AS i, allowed, tat, at FROM t%[1]d", i))
	}
	return "WITH " + strings.Join(ctes, ",\n") + "\n" + strings.Join(reads, " UNION ALL ") + " ORDER BY i"
}

// Give gives back a turn taken with Take but not used (its caller stopped
// waiting), so that abandoned turns do not push later ones out. every is
// the interval the turn was taken with.
func (l *Budgets) Give(ctx context.Context, key string, every time.Duration) error {
	if every <= 0 {
		return nil
	}
	_, err := l.pool.Exec(ctx, `UPDATE rate_limits SET tat = tat - $2 WHERE key = $1`, key, every.Nanoseconds())
	return mapErr("postgres.Budgets.Give", err, nil)
}

// sweepEvery is how often a handle drops the rows of full buckets. A row
// whose tat has passed says the same as no row, so dropping it changes no
// decision; without it every customer ever seen would keep a row.
const sweepEvery = time.Minute

// sweep drops full buckets when this handle has not for sweepEvery. It
// runs inline, on the decision that found it due, so it needs no goroutine
// of its own. It locks the rows it drops with SKIP LOCKED, so it never
// waits for a decision: a DELETE taking its locks in scan order could
// otherwise hold a customer's row while waiting for its partner's, which
// a TakeAll holds while waiting for the customer's (PostgreSQL would end
// one with "deadlock detected"). The lock re-checks tat on the row's
// newest version, so it never drops a row that a concurrent decision has
// just moved into the future. A failed sweep is tried again on the next
// decision.
func (l *Budgets) sweep(ctx context.Context, nowNanos int64) {
	nowSec := nowNanos / 1e9
	last := l.swept.Load()
	if nowSec-last < int64(sweepEvery/time.Second) || !l.swept.CompareAndSwap(last, nowSec) {
		return
	}
	if _, err := l.pool.Exec(ctx, `DELETE FROM rate_limits WHERE key IN (SELECT key FROM rate_limits WHERE tat < $1 FOR UPDATE SKIP LOCKED)`, nowNanos); err != nil {
		l.swept.Store(last)
	}
}
