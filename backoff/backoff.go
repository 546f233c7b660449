package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Jitter is how far a wait may stray from its schedule, as a fraction: a
// wait of d is drawn from [d·0.8, d·1.2], then capped at the policy's Max.
// Without it, clients that failed together retry together, and fail
// together again.
const Jitter = 0.2

// Policy is an exponential backoff: attempt n (from 1) waits about
// Base·2^(n-1), never more than Max. Base and Max must be positive.
type Policy struct {
	Base, Max time.Duration
}

// Delay returns the wait before retry n (n=1 after the first failure), with
// Jitter applied and never above Max. n below 1 counts as 1.
func (p Policy) Delay(n int) time.Duration {
	d := p.Base
	// Doubling stops at Max, so no shift can overflow.
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	d += time.Duration(float64(d) * Jitter * (2*rand.Float64() - 1))
	return min(d, p.Max)
}

// Sleep waits for d, or returns ctx's error when ctx ends first.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
