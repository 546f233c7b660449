package messenger

import (
	"context"
	"log/slog"
	"sync/atomic"
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
	// The caller may give up: the turn goes back, or every cancelled send
	// would push the next ones further out.
	return waitTurn(ctx, need, func() { r.CancelAt(p.now()) })
}

// waitTurn waits need for a turn granted; if ctx ends first it gives the
// turn back and returns ctx's error.
func waitTurn(ctx context.Context, need time.Duration, giveBack func()) error {
	if need <= 0 {
		return nil
	}
	t := time.NewTimer(need)
	defer t.Stop()
	select {
	case <-ctx.Done():
		giveBack()
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Turns is a store of rate budgets shared by the fleet
// (store/postgres.Budgets). Take takes one turn of key's budget (one turn
// every `every`, up to burst saved up) if it comes within maxWait and says
// how long until it does, or takes nothing and refuses; Give hands back a
// turn taken but not used.
type Turns interface {
	Take(ctx context.Context, key string, every time.Duration, burst int, maxWait time.Duration) (wait time.Duration, ok bool, err error)
	Give(ctx context.Context, key string, every time.Duration) error
}

var _ Pacer = (*fleetPacer)(nil)

// fleetPacer keeps the send budget in Turns, so that the fleet together
// keeps to what the platform allows the page. Turns are handed out in
// order of asking across the fleet (GCRA reserves the next free slot), so
// waiting needs no polling. When the store fails it paces with this
// instance's own bucket until the store is back: each instance keeps to the
// budget, the fleet to N times it, and the platform's 429s, which call
// retries, cover the rest. Going to the fallback and back is logged once.
type fleetPacer struct {
	turns Turns
	key   string
	every time.Duration
	burst int
	local Pacer
	log   *slog.Logger
	down  atomic.Bool
}

// NewFleetPacer returns the Pacer over turns for the budget called key:
// perSecond calls a second, at most burst saved up, the in-memory Pacer
// (reading the time from now) as its fallback.
func NewFleetPacer(turns Turns, key string, perSecond float64, burst int, log *slog.Logger, now func() time.Time) Pacer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &fleetPacer{turns: turns, key: key, every: time.Duration(float64(time.Second) / perSecond), burst: burst,
		local: NewPacer(perSecond, burst, now), log: log}
}

// Wait implements Pacer.
func (p *fleetPacer) Wait(ctx context.Context, maxWait time.Duration) error {
	need, ok, err := p.turns.Take(ctx, p.key, p.every, p.burst, maxWait)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !p.down.Swap(true) {
			p.log.Warn("messenger: fleet send budget unavailable; pacing per instance until it is back", "err", err)
		}
		return p.local.Wait(ctx, maxWait)
	}
	if p.down.Swap(false) {
		p.log.Info("messenger: fleet send budget is back")
	}
	if !ok {
		return ErrThrottled
	}
	// As in localPacer, an abandoned turn goes back. If giving it back
	// fails the turn is lost, which slows the fleet by one call, never
	// speeds it.
	return waitTurn(ctx, need, func() {
		gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		if err := p.turns.Give(gctx, p.key, p.every); err != nil {
			p.log.Warn("messenger: could not give back an abandoned send turn", "err", err)
		}
	})
}
