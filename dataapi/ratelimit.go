package dataapi

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter decides whether one more call of key fits a budget of perMinute
// calls a minute. When it does not, it answers how long until it would:
// the Retry-After the partner is sent. A refused call spends nothing.
//
// The data API asks it twice per call: for the partner ("p:" + partner)
// and for one customer within that partner ("c:" + partner + ":" + id).
// The default keeps its budgets in this instance's memory; an
// implementation over shared storage makes the budgets hold for the fleet
// (DESIGN.md: "limits hold for the fleet") without changing the API.
type Limiter interface {
	Allow(ctx context.Context, key string, perMinute int) (ok bool, retryAfter time.Duration)
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

// Allow implements Limiter. A perMinute of zero or less is no limit.
func (l *localLimiter) Allow(_ context.Context, key string, perMinute int) (bool, time.Duration) {
	if perMinute <= 0 {
		return true, 0
	}
	every := rate.Limit(float64(perMinute) / 60)
	burst := max(10, perMinute/10)
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
