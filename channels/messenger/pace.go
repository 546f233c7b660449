package messenger

import (
	"context"
	"time"

	"golang.org/x/time/rate"
)

// Pacer keeps the adapter's calls to the platform within the bank's send
// budget. Wait returns when one more call may go, ErrThrottled at once when
// its turn is further away than maxWait, or ctx's error; a turn abandoned
// (refused or cancelled) is given back, so it costs the budget nothing.
//
// The default keeps the budget in this instance's memory; one over shared
// storage makes the budget hold for the fleet, as the platform counts it
// per page, not per instance.
type Pacer interface {
	Wait(ctx context.Context, maxWait time.Duration) error
}

var _ Pacer = (*localPacer)(nil)

// localPacer is a token bucket (golang.org/x/time/rate) in memory.
type localPacer struct {
	lim *rate.Limiter
	now func() time.Time
}

// NewPacer returns the in-memory Pacer: perSecond calls a second, at most
// burst saved up, reading the time from now (time.Now when nil).
func NewPacer(perSecond float64, burst int, now func() time.Time) Pacer {
	if now == nil {
		now = time.Now
	}
	return &localPacer{lim: rate.NewLimiter(rate.Limit(perSecond), burst), now: now}
}

// Wait implements Pacer.
func (p *localPacer) Wait(ctx context.Context, maxWait time.Duration) error {
	now := p.now()
	r := p.lim.ReserveN(now, 1)
	if !r.OK() {
		return ErrThrottled
	}
	need := r.DelayFrom(now)
	if need > maxWait {
		r.CancelAt(now)
		return ErrThrottled
	}
	if need == 0 {
		return nil
	}
	t := time.NewTimer(need)
	defer t.Stop()
	select {
	case <-ctx.Done():
		// The caller gave up: the turn goes back, or every cancelled send
		// would push the next ones further out.
		r.CancelAt(p.now())
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
