package telegram

import (
	"context"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/bankbridge/bankbridge"
)

// The Bot API's send limits (Bot FAQ, "My bot is hitting limits, how do I
// avoid this?", https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
// "avoid sending more than one message per second" in a chat, and "not
// more than 30 messages per second or so" in bulk to many users; beyond
// them the API answers 429 with parameters.retry_after.
const (
	ChatRate   = 1  // messages a second in one chat
	GlobalRate = 30 // messages a second for the bot, all chats together
)

// ErrThrottled reports a message whose turn within the bot's send limits
// (or after a 429's retry_after) is further away than the adapter waits.
var ErrThrottled = bankbridge.E(bankbridge.TooManyRequests, "chat_send_throttled", "the messaging platform's send limit is reached; the message was not sent")

// Turns is a store of rate budgets shared by the fleet
// (store/postgres.Budgets): with it, the bot's limits hold for every
// instance together, as Telegram counts them per bot.
type Turns interface {
	Take(ctx context.Context, key string, every time.Duration, burst int, maxWait time.Duration) (wait time.Duration, ok bool, err error)
	Give(ctx context.Context, key string, every time.Duration) error
}

// pacer keeps sends within ChatRate per chat and GlobalRate for the bot,
// with x/time/rate token buckets in memory, or with Turns for a fleet
// (falling back to memory while the store is away). It also holds the
// "not before" a 429's retry_after set: no call leaves before it.
type pacer struct {
	turns Turns
	now   func() time.Time

	mu        sync.Mutex
	global    *rate.Limiter
	chats     map[int64]*rate.Limiter
	notBefore map[int64]time.Time // per chat (0: calls that are not messages), from 429s
}

func newPacer(turns Turns, now func() time.Time) *pacer {
	return &pacer{turns: turns, now: now, global: rate.NewLimiter(GlobalRate, GlobalRate),
		chats: map[int64]*rate.Limiter{}, notBefore: map[int64]time.Time{}}
}

// floodWait is how long chat must still wait after a 429. p.mu held.
func (p *pacer) floodWait(chat int64, now time.Time) time.Duration {
	t, ok := p.notBefore[chat]
	if !ok {
		return 0
	}
	if !t.After(now) {
		delete(p.notBefore, chat)
		return 0
	}
	return t.Sub(now)
}

// maxChats bounds the per-chat buckets kept; past it, the buckets that are
// full again (their chat quiet for a second) are dropped.
const maxChats = 10_000

// turn returns how long to wait before one more message to chat may go,
// having reserved it, or ErrThrottled (nothing reserved) when that is
// longer than maxWait. give hands the reservation back when the message
// is not sent after all.
func (p *pacer) turn(ctx context.Context, chat int64, maxWait time.Duration) (wait time.Duration, give func(), err error) {
	now := p.now()
	p.mu.Lock()
	flood := p.floodWait(chat, now)
	p.mu.Unlock()
	if flood > maxWait {
		return 0, nil, ErrThrottled
	}
	if p.turns != nil {
		w, g, err := p.fleetTurn(ctx, chat, maxWait)
		if err == nil || err == ErrThrottled || ctx.Err() != nil {
			return max(w, flood), g, err
		}
		// The store is away: pace in memory.
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	cl := p.chats[chat]
	if cl == nil {
		if len(p.chats) >= maxChats {
			for id, l := range p.chats {
				if l.TokensAt(now) >= 1 {
					delete(p.chats, id)
				}
			}
			for id, t := range p.notBefore {
				if !t.After(now) {
					delete(p.notBefore, id)
				}
			}
		}
		cl = rate.NewLimiter(ChatRate, 1)
		p.chats[chat] = cl
	}
	rc, rg := cl.ReserveN(now, 1), p.global.ReserveN(now, 1)
	wait = max(rc.DelayFrom(now), rg.DelayFrom(now), flood)
	give = func() { t := p.now(); rc.CancelAt(t); rg.CancelAt(t) }
	if wait > maxWait {
		give()
		return 0, nil, ErrThrottled
	}
	return wait, give, nil
}

func (p *pacer) fleetTurn(ctx context.Context, chat int64, maxWait time.Duration) (time.Duration, func(), error) {
	const gkey = "telegram:bot"
	ckey := "telegram:chat:" + strconv.FormatInt(chat, 10)
	gevery, cevery := time.Second/GlobalRate, time.Second/ChatRate
	wc, ok, err := p.turns.Take(ctx, ckey, cevery, 1, maxWait)
	if err != nil {
		return 0, nil, err
	}
	if !ok {
		return 0, nil, ErrThrottled
	}
	giveChat := func() {
		gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		p.turns.Give(gctx, ckey, cevery)
	}
	wg, ok, err := p.turns.Take(ctx, gkey, gevery, GlobalRate, maxWait)
	if err != nil || !ok {
		giveChat()
		if err == nil {
			err = ErrThrottled
		}
		return 0, nil, err
	}
	return max(wc, wg), func() {
		giveChat()
		gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		p.turns.Give(gctx, gkey, gevery)
	}, nil
}

// flooded records a 429 for chat: nothing more goes to it before retry
// after now (ResponseParameters.retry_after, "the number of seconds left
// to wait before the request can be repeated",
// https://core.telegram.org/bots/api#responseparameters), whichever
// instance of the adapter's callers asks. A fleet's other instances learn
// it from their own 429s.
func (p *pacer) flooded(chat int64, retry time.Duration) {
	t := p.now().Add(retry)
	p.mu.Lock()
	if t.After(p.notBefore[chat]) {
		p.notBefore[chat] = t
	}
	p.mu.Unlock()
}

// flood reports how long chat must still wait after a 429.
func (p *pacer) flood(chat int64) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.floodWait(chat, p.now())
}
