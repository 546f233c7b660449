package dataapi

import (
	"math"
	"sync"
	"time"
)

// limiter is a set of token buckets kept in memory, one per key: a partner,
// or a customer within a partner. Each instance keeps its own, so with N
// instances behind a balancer a partner gets up to N times its budget; the
// budget is per minute and the burst a tenth of it (at least 10). Buckets
// idle long enough to be full are dropped, which bounds memory.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
	rate   float64 // tokens per second
	burst  float64
}

func newLimiter() *limiter { return &limiter{buckets: map[string]*bucket{}} }

// take spends one token of key's bucket, refilled at perMinute/60 per
// second up to its burst. It returns 0 when allowed, or how long until a
// token is there.
func (l *limiter) take(key string, perMinute int, now time.Time) time.Duration {
	if perMinute <= 0 {
		return 0
	}
	rate := float64(perMinute) / 60
	burst := math.Max(10, float64(perMinute)/10)
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		l.sweep(now)
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: burst, last: now, rate: rate, burst: burst}
		l.buckets[key] = b
	}
	if b.rate != rate || b.burst != burst { // the partner's limit changed
		b.rate, b.burst = rate, burst
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(b.burst, b.tokens+el*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}

// sweep drops buckets that would be full by now: forgetting them changes
// nothing.
func (l *limiter) sweep(now time.Time) {
	l.swept = now
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*b.rate >= b.burst {
			delete(l.buckets, k)
		}
	}
}
