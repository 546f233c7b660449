package demo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/ledger"
)

// EngagementCustomer is what SeedEngagement needs to know of a customer.
type EngagementCustomer struct {
	ID        bankbridge.CustomerID
	BirthYear int
	Products  insights.Products
}

// EngagementOptions shape the engagement history. The zero value gives the
// defaults.
type EngagementOptions struct {
	// Days of engagement before Now; default 180.
	Days int
	// Seed of the random generator; default 1. The same options and
	// customers give the same events.
	Seed uint64
	// Now is the end of the history; default today 00:00 UTC.
	Now time.Time
	// Batch is how many events go to one Ingest call; default 20,000.
	Batch int
	// Progress, when set, is told how many days are done.
	Progress func(done, total int)
}

// engagementCustomer is the EngagementCustomer of a generated profile, for
// Seed to pass its customers on.
func engagementCustomer(id bankbridge.CustomerID, p *profile) EngagementCustomer {
	var ps insights.Products
	for s, has := range p.has {
		if has {
			ps |= insights.Products([nSlots]insights.Product{insights.Checking, insights.Savings, insights.CreditCard}[s])
		}
	}
	return EngagementCustomer{ID: id, BirthYear: p.cust.BirthYear, Products: ps}
}

// habit is how one customer engages, drawn once from their own stream.
type habit struct {
	c        EngagementCustomer
	r        *rand.Rand
	age      int
	web      float64 // chance of a web session on a day
	adopt    int     // day they start on the messenger; past the end: never
	msg      float64 // chance of a messenger conversation on a day, once adopted
	webAfter float64 // web's chance once on the messenger (older customers move)
	partner  float64 // chance a partner app calls for them on a day; 0: none
	start    int     // first day they engage at all (new customers join)
	stop     int     // day they go quiet (some churn)
	alertGap float64 // mean days between alerts
}

// SeedEngagement writes o.Days of engagement for customers through ing, in
// time order and in batches: web sessions and actions, messenger
// conversations and intents, partner apps' calls, payments on every
// channel, alerts and the answers to them. It tells a plausible story:
// customers over 55 move to the messenger over the period and use the web
// app less once they do; customers under 35 stay on the web app, and more
// of them use a partner's app; some use both; a few join late and a few go
// quiet. Deterministic for (o.Seed, customers).
func SeedEngagement(ctx context.Context, ing insights.Ingester, customers []EngagementCustomer, o EngagementOptions) error {
	if o.Days == 0 {
		o.Days = 180
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Now.IsZero() {
		o.Now = time.Now().UTC().Truncate(24 * time.Hour)
	}
	if o.Batch <= 0 {
		o.Batch = 20000
	}
	if o.Days < 1 || o.Days > 3650 {
		return ErrOptions.WithMessage("days of engagement must be between 1 and 3650")
	}
	if ing == nil {
		return errors.New("demo.SeedEngagement: an Ingester is required")
	}
	start := o.Now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -o.Days)
	hs := make([]habit, len(customers))
	for i, c := range customers {
		hs[i] = newHabit(o, c, start)
	}
	batch := make([]insights.Event, 0, o.Batch+64)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := ing.Ingest(ctx, batch); err != nil {
			return fmt.Errorf("demo: engagement: %w", err)
		}
		batch = batch[:0]
		return nil
	}
	for d := range o.Days {
		day := start.AddDate(0, 0, d)
		for i := range hs {
			batch = hs[i].day(batch, d, day, o.Days)
			if len(batch) >= o.Batch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if o.Progress != nil {
			o.Progress(d+1, o.Days)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return flush()
}

func newHabit(o EngagementOptions, c EngagementCustomer, start time.Time) habit {
	r := rand.New(rand.NewPCG(o.Seed, uint64(c.ID)<<8|7))
	h := habit{c: c, r: r, age: start.Year() - c.BirthYear, adopt: math.MaxInt, start: 0, stop: math.MaxInt}
	if c.BirthYear <= 0 {
		h.age = 45
	}
	// Propensity: some customers bank every day, most a few times a week.
	p := 0.08 + 0.5*r.Float64()*r.Float64()
	var adoptShare, partnerShare float64
	switch {
	case h.age < 25:
		h.web, adoptShare, partnerShare = p*1.3, 0.12, 0.2
	case h.age < 35:
		h.web, adoptShare, partnerShare = p*1.25, 0.15, 0.3
	case h.age < 45:
		h.web, adoptShare, partnerShare = p*1.1, 0.22, 0.25
	case h.age < 55:
		h.web, adoptShare, partnerShare = p, 0.35, 0.12
	case h.age < 65:
		h.web, adoptShare, partnerShare = p*0.8, 0.55, 0.05
	default:
		h.web, adoptShare, partnerShare = p*0.6, 0.65, 0.02
	}
	h.web = min(h.web, 0.9)
	h.webAfter = h.web
	if r.Float64() < adoptShare {
		// Most adopt during the period, at a pace that grows with it; a few
		// were on the messenger already.
		if r.Float64() < 0.12 {
			h.adopt = 0
		} else {
			h.adopt = int(float64(o.Days) * math.Sqrt(r.Float64()))
		}
		h.msg = min(0.9, p*(1.2+0.6*r.Float64()))
		if h.age >= 55 {
			h.msg = min(0.9, h.msg*1.4)
			h.webAfter = h.web * 0.3 // the messenger replaces the app for many...
			if r.Float64() < 0.45 {
				h.webAfter = 0 // ...and entirely for some
			}
		} else if h.age < 35 {
			h.msg *= 0.6
		}
	}
	if r.Float64() < partnerShare {
		h.partner = 0.15 + 0.5*r.Float64()
		if r.Float64() < 0.3 {
			// Some bank only through a partner's app (an aggregator, a
			// budgeting app) and open the bank's own app once in a while.
			h.web, h.webAfter = h.web*0.02, h.webAfter*0.02
		}
	}
	if r.Float64() < 0.15 {
		h.start = r.IntN(o.Days) // joins later: new cohorts every week
	}
	if r.Float64() < 0.1 {
		h.stop = h.start + r.IntN(o.Days-h.start+1) // goes quiet
	}
	h.alertGap = 8 + 10*r.Float64()
	return h
}

// day appends what the customer does on day d (at day) to out.
func (h *habit) day(out []insights.Event, d int, day time.Time, days int) []insights.Event {
	r := h.r
	// Draw everything every day, active or not, so that one customer's
	// choices never shift another's and a day's draws do not depend on the
	// last day's outcome.
	uWeb, uMsg, uPartner, uAlert := r.Float64(), r.Float64(), r.Float64(), r.Float64()
	weekend := day.Weekday() == time.Saturday || day.Weekday() == time.Sunday
	if d < h.start || d >= h.stop {
		return out
	}
	onMsg := d >= h.adopt
	web := h.web
	if onMsg {
		// Older customers drift from the app over the weeks after adopting.
		k := min(1, float64(d-h.adopt)/28)
		web = h.web + (h.webAfter-h.web)*k
	}
	if weekend {
		web *= 0.7
	}
	ev := func(ch insights.Channel, k insights.Kind, intent string, amt ledger.Amount, hour int) insights.Event {
		at := day.Add(time.Duration(hour)*time.Hour + time.Duration(r.IntN(3600))*time.Second)
		return insights.Event{At: at, Customer: h.c.ID, Channel: ch, Kind: k, Intent: intent, Amount: amt,
			BirthYear: h.c.BirthYear, Products: h.c.Products, Segmented: true}
	}
	if uWeb < web {
		hour := 7 + r.IntN(15)
		out = append(out, ev(insights.Web, insights.Session, "", 0, hour))
		for range 1 + r.IntN(4) {
			switch x := r.Float64(); {
			case x < 0.5:
				out = append(out, ev(insights.Web, insights.Action, "balance", 0, hour))
			case x < 0.82:
				out = append(out, ev(insights.Web, insights.Action, "history", 0, hour))
			case x < 0.9:
				out = append(out, ev(insights.Web, insights.Action, "card", 0, hour))
			default:
				out = append(out, ev(insights.Web, insights.Payment, "payment", amount(r), hour))
			}
		}
	}
	if onMsg && uMsg < h.msg*(1+0.3*b2f(weekend)) {
		hour := 8 + r.IntN(14)
		out = append(out, ev(insights.Messenger, insights.Session, "", 0, hour))
		for range 1 + r.IntN(3) {
			switch x := r.Float64(); {
			case x < 0.36:
				out = append(out, ev(insights.Messenger, insights.Intent, "balance", 0, hour))
			case x < 0.52:
				out = append(out, ev(insights.Messenger, insights.Intent, "history", 0, hour))
			case x < 0.66:
				out = append(out, ev(insights.Messenger, insights.Payment, "payment", amount(r), hour))
			case x < 0.71:
				out = append(out, ev(insights.Messenger, insights.Intent, "card", 0, hour))
			case x < 0.88:
				out = append(out, ev(insights.Messenger, insights.Intent, "help", 0, hour))
			default:
				out = append(out, ev(insights.Messenger, insights.Intent, "human", 0, hour))
			}
		}
	}
	if h.partner > 0 && uPartner < h.partner {
		hour := 6 + r.IntN(17)
		for range 1 + r.IntN(2) {
			switch x := r.Float64(); {
			case x < 0.6:
				out = append(out, ev(insights.PartnerAPI, insights.Action, "balance", 0, hour))
			case x < 0.95:
				out = append(out, ev(insights.PartnerAPI, insights.Action, "history", 0, hour))
			default:
				out = append(out, ev(insights.PartnerAPI, insights.Payment, "payment", amount(r), hour))
			}
		}
	}
	if uAlert < 1/h.alertGap {
		// Alerts go to the messenger once linked, else to the web app; on
		// the messenger they are seen and answered far more often.
		ch, open, answer := insights.Web, 0.35, 0.25
		if onMsg {
			ch, open, answer = insights.Messenger, 0.82, 0.45
		}
		if h.age >= 55 {
			open = min(0.95, open+0.06)
		}
		hour := r.IntN(24)
		out = append(out, ev(ch, insights.AlertSent, "", 0, hour))
		if r.Float64() < open {
			out = append(out, ev(ch, insights.AlertOpened, "", 0, hour))
			if r.Float64() < answer {
				out = append(out, ev(ch, insights.AlertAnswered, "", 0, hour))
			}
		}
	}
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// amount draws a payment: median 60.00, most between 10 and 400.
func amount(r *rand.Rand) ledger.Amount {
	return ledger.Amount(max(100, math.Round(6000*math.Exp(0.9*r.NormFloat64()))))
}
