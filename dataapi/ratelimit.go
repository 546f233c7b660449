package dataapi

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Limiter decides whether one more call fits each of its budgets, in
// order. When one does not, it stops there and answers how long until it
// would: the Retry-After the partner is sent. The refusing budget and
// those after it spend nothing; those before it have spent their turn, as
// if asked one after the other.
//
// The data API asks it once per call, for the partner ("p:" + partner)
// and then one customer within that partner ("c:" + partner + ":" + id).
// The default keeps its budgets in this instance's memory; NewFleetLimiter
// keeps them in shared storage, so that they hold for the fleet
// (DESIGN.md: "limits hold for the fleet"), deciding both at once.
type Limiter interface {
	Allow(ctx context.Context, budgets ...Budget) (ok bool, retryAfter time.Duration)
}

// Budget is one budget a call spends from: PerMinute calls a minute under
// Key. A PerMinute of zero or less is no limit.
type Budget struct {
	Key       string
	PerMinute int
}

var _ Limiter = (*localLimiter)(nil)

// localLimiter is a set of token buckets (golang.org/x/time/rate) kept in
// memory, one per key. Each instance keeps its own, so with N instances
// behind a balancer a partner gets up to N times its budget. The burst is
// a tenth of the minute's budget, at least 10. Buckets idle long enough to
// be full are dropped, which bounds memory and forgets nothing.
type localLimiter struct {
	now     func() time.Time
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	swept   time.Time
}

// NewLimiter returns the in-memory Limiter, reading the time from now
// (time.Now when nil). It is the default of Deps.Limiter.
func NewLimiter(now func() time.Time) Limiter {
	if now == nil {
		now = time.Now
	}
	return &localLimiter{now: now, buckets: map[string]*rate.Limiter{}}
}

// Allow implements Limiter.
func (l *localLimiter) Allow(_ context.Context, budgets ...Budget) (bool, time.Duration) {
	for _, b := range budgets {
		if ok, wait := l.allow(b.Key, b.PerMinute); !ok {
			return false, wait
		}
	}
	return true, 0
}

// allow decides one budget.
func (l *localLimiter) allow(key string, perMinute int) (bool, time.Duration) {
	if perMinute <= 0 {
		return true, 0
	}
	every := rate.Limit(float64(perMinute) / 60)
	burst := burstOf(perMinute)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		l.sweep(now)
	}
	b, ok := l.buckets[key]
	if !ok {
		b = rate.NewLimiter(every, burst)
		l.buckets[key] = b
	}
	if b.Limit() != every || b.Burst() != burst { // the partner's limit changed
		b.SetLimitAt(now, every)
		b.SetBurstAt(now, burst)
	}
	// A reservation, not AllowN, because the refusal must say how long
	// until a token is there; cancelling it gives the token back, so a
	// refused call costs the partner nothing.
	r := b.ReserveN(now, 1)
	if wait := r.DelayFrom(now); wait > 0 {
		r.CancelAt(now)
		return false, wait
	}
	return true, 0
}

// burstOf is how many calls a budget of perMinute lets a partner save up:
// a tenth of the minute's budget, at least 10. Both limiters use it, so a
// budget means the same on one instance and on a fleet.
func burstOf(perMinute int) int { return max(10, perMinute/10) }

// sweep drops buckets that would be full by now: forgetting them changes
// nothing.
func (l *localLimiter) sweep(now time.Time) {
	l.swept = now
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(b.Burst()) {
			delete(l.buckets, k)
		}
	}
}

// Turns is a store of rate budgets shared by the fleet
// (store/postgres.Budgets). TakeAll takes one turn now from each budget
// keys[i] (one turn every every[i], burst[i] saved up), in order, in one
// round trip, and stops at the first that refuses, answering how long
// until that one has a turn; the refusing budget and those after it lose
// nothing. It fails only when the store does.
type Turns interface {
	TakeAll(ctx context.Context, keys []string, every []time.Duration, burst []int) (retryAfter time.Duration, ok bool, err error)
}

var _ Limiter = (*fleetLimiter)(nil)

// fleetLimiter keeps the budgets in Turns, so that they hold for the fleet
// (DESIGN.md: "limits hold for the fleet"). When the store fails it decides
// with this instance's own buckets instead, which keep each instance to
// the budget (the fleet to N times it) until the store is back; a partner
// is not refused because the limiter's database hiccupped. Going to the
// fallback and coming back are logged once each.
type fleetLimiter struct {
	turns Turns
	local Limiter
	log   *slog.Logger
	down  atomic.Bool
}

// NewFleetLimiter returns the Limiter over turns, with the in-memory one
// (reading the time from now) as its fallback. On PostgreSQL it is
// Deps.Limiter.
func NewFleetLimiter(turns Turns, log *slog.Logger, now func() time.Time) Limiter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &fleetLimiter{turns: turns, local: NewLimiter(now), log: log}
}

// Allow implements Limiter.
func (l *fleetLimiter) Allow(ctx context.Context, budgets ...Budget) (bool, time.Duration) {
	keys, every, burst := make([]string, 0, len(budgets)), make([]time.Duration, 0, len(budgets)), make([]int, 0, len(budgets))
	for _, b := range budgets {
		if b.PerMinute > 0 {
			keys, every, burst = append(keys, b.Key), append(every, time.Minute/time.Duration(b.PerMinute)), append(burst, burstOf(b.PerMinute))
		}
	}
	if len(keys) == 0 {
		return true, 0
	}
	wait, ok, err := l.turns.TakeAll(ctx, keys, every, burst)
	if err != nil {
		if ctx.Err() == nil && !l.down.Swap(true) {
			l.log.Warn("dataapi: fleet rate limits unavailable; limiting per instance until they are back", "err", err)
		}
		return l.local.Allow(ctx, budgets...)
	}
	if l.down.Swap(false) {
		l.log.Info("dataapi: fleet rate limits are back")
	}
	return ok, wait
}
