package demo

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/bankbridge/bankbridge/ledger"
)

// Kinds of history event.
const (
	evOpen     = iota // opening balance (card: balance carried forward)
	evSalary          // payroll, Social Security
	evPension         // pension
	evHousing         // rent or mortgage by ACH
	evBill            // utility, telecom, insurance by ACH
	evCard            // card purchase at a merchant (subscriptions too)
	evATM             // cash withdrawal
	evP2P             // transfer to a payee
	evSavings         // checking to savings
	evCardPay         // checking to the credit card: amount decided when applied
	evInterest        // interest on savings: amount decided when applied
	evFee             // monthly maintenance fee
)

// event is one thing that happens to a customer, before the balance check
// that may drop it. It is small on purpose: a chunk holds a few hundred
// thousand of them.
type event struct {
	at       int64 // Unix microseconds
	pos      int32 // customer's position in the chunk
	seq      int32 // order among the customer's events
	kind     uint8
	slot     uint8 // account debited (evCard), credited (evOpen)
	merchant int16 // index in merchantSeeds, -1 for none
	payee    int16 // index in profile.payees (evP2P); memo index otherwise
	amount   ledger.Amount
}

// remote lists the categories bought from afar (online, travel), whose
// purchases show the merchant's city rather than the customer's.
var remote = map[string]bool{"online_retail": true, "streaming": true, "food_delivery": true, "travel_air": true, "lodging": true}

// savingsAPY is the interest rate of savings accounts, in basis points.
const savingsAPY = 400

// events lists everything that happens to p in the history window, in no
// particular order. Random draws come from the customer's own stream.
func events(o Options, p *profile, pos int32) []event {
	r := customerRand(o.Seed, p.idx, 2)
	start, end := o.start(), o.Now
	off := time.Duration(places[p.place].UTCOffset) * time.Hour
	var out []event
	add := func(at time.Time, e event) {
		if at.Before(start) || !at.Before(end) {
			return
		}
		e.at, e.pos, e.seq = at.UnixMicro(), pos, int32(len(out))
		out = append(out, e)
	}
	// local returns the instant of a local hour:minute on day d.
	local := func(d time.Time, hour, minute int) time.Time {
		return d.Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute + off)
	}
	// Opening balances, in the first minutes of the window.
	for s := range nSlots {
		if p.has[s] && p.open[s] > 0 {
			add(start.Add(time.Duration(s+1)*time.Second), event{kind: evOpen, slot: uint8(s), merchant: -1, amount: p.open[s]})
		}
	}
	rates := make([]float64, len(p.weights))
	var total float64
	for i, w := range p.weights {
		total += w
		rates[i] = total
	}
	for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
		dom, wd := d.Day(), d.Weekday()
		lastDay := d.AddDate(0, 0, 1).Day() == 1
		// Income, early in the morning.
		switch p.pay {
		case payBiweekly:
			if wd == time.Friday && (d.Unix()/86400/7+p.payParity)%2 == 0 {
				add(local(d, 6, 0), event{kind: evSalary, merchant: -1, amount: p.net})
			}
		case paySemimonthly:
			if dom == 15 || lastDay {
				add(local(d, 6, 0), event{kind: evSalary, merchant: -1, amount: p.net})
			}
		case payMonthly:
			if lastDay {
				add(local(d, 6, 0), event{kind: evSalary, merchant: -1, amount: p.net})
			}
		case payRetiree:
			if wd == time.Wednesday && (dom-1)/7+1 == p.ssWeek {
				add(local(d, 6, 0), event{kind: evSalary, merchant: -1, amount: p.net})
			}
			if dom == 1 && p.pension > 0 {
				add(local(d, 6, 30), event{kind: evPension, merchant: -1, amount: p.pension})
			}
		}
		if p.housing > 0 && dom == p.housingDay {
			add(local(d, 7, 0), event{kind: evHousing, merchant: -1, amount: p.housing})
		}
		for _, b := range p.bills {
			if dom == b.day {
				amt := b.amount
				if merchantSeeds[b.merchant].Category == "utilities" {
					amt = ledger.Amount(float64(amt) * (0.8 + r.Float64()*0.4))
				}
				add(local(d, 7, 30), event{kind: evBill, merchant: int16(b.merchant), amount: amt})
			}
		}
		for _, s := range p.subs {
			if dom == s.day {
				add(local(d, 3, r.IntN(60)), event{kind: evCard, slot: p.cardSlot(r), merchant: int16(s.merchant), amount: s.amount})
			}
		}
		if p.savingsMonthly > 0 && dom == p.savingsDay {
			add(local(d, 9, 0), event{kind: evSavings, merchant: -1, amount: p.savingsMonthly})
		}
		if p.has[slotCredit] && dom == p.ccDue {
			add(local(d, 8, 0), event{kind: evCardPay, merchant: -1})
		}
		if p.has[slotSavings] && lastDay {
			add(local(d, 22, 0), event{kind: evInterest, merchant: -1})
		}
		if p.fee && dom == 28 {
			add(local(d, 5, 0), event{kind: evFee, merchant: -1, amount: 1200})
		}
		if r.Float64() < p.atmWeekly/7 {
			add(local(d, 9+r.IntN(10), r.IntN(60)), event{kind: evATM, merchant: -1,
				amount: ledger.Amount(pick(r, []int64{40, 60, 60, 80, 100, 100, 200})) * 100})
		}
		if len(p.payees) > 0 && r.Float64() < p.p2pMonthly/30 {
			amt := ledger.Amount(pick(r, []int64{15, 20, 20, 25, 40, 50, 60, 75, 100, 150})) * 100
			add(local(d, 8+r.IntN(14), r.IntN(60)), event{kind: evP2P, merchant: -1,
				payee: int16(r.IntN(len(p.payees))), amount: amt})
		}
		// Card purchases: a Poisson number a day, a little more at weekends.
		lambda := p.rate
		if wd == time.Saturday || wd == time.Sunday {
			lambda *= 1.25
		}
		for range poisson(r, lambda) {
			ci, _ := slices.BinarySearch(rates, r.Float64()*total)
			ci = min(ci, len(cardCategories)-1)
			c := categories[cardCategories[ci]]
			m := p.favorite[ci]
			if r.Float64() < 0.3 {
				m = pick(r, merchantsByCategory[c.Name])
			}
			h := pick(r, c.Hours)
			hour := h[0] + r.IntN(h[1]-h[0])
			add(local(d, hour, r.IntN(60)), event{kind: evCard, slot: p.cardSlot(r), merchant: int16(m),
				amount: lognormal(r, c.Median, c.Sigma)})
		}
	}
	return out
}

// cardSlot chooses the account a card purchase draws on.
func (p *profile) cardSlot(r *rand.Rand) uint8 {
	if p.has[slotCredit] && r.Float64() < p.creditShare {
		return slotCredit
	}
	return slotChecking
}

// poisson draws a Poisson variate by Knuth's method (fine for small lambda).
func poisson(r *rand.Rand, lambda float64) int {
	l, k, q := math.Exp(-lambda), 0, 1.0
	for {
		q *= r.Float64()
		if q <= l {
			return k
		}
		k++
	}
}

// sortEvents orders a chunk's events by time, then customer, then the
// customer's own order: a total order, so the history is reproducible.
func sortEvents(evs []event) {
	slices.SortFunc(evs, func(a, b event) int {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.pos, b.pos), cmp.Compare(a.seq, b.seq))
	})
}

// balance is the generator's copy of an account's balances, kept in step
// with what ledger.Decide will compute, so every request it emits is one
// the ledger accepts.
type balance struct {
	id            ledger.AccountID
	bal, held, lm ledger.Amount
	unbounded     bool // the bank's own accounts
}

// avail is what may be debited: balance less holds plus the limit.
func (b *balance) avail() ledger.Amount { return b.bal - b.held + b.lm }

// own is what the holder has without the overdraft.
func (b *balance) own() ledger.Amount { return b.bal - b.held }

// request turns an event into a ledger request, or reports false when the
// customer cannot afford it (the event is then dropped). It updates the
// balances as the ledger will.
func (g *generator) request(e event, c *chunkCustomer, key string) (ledger.Request, bool) {
	p := c.p
	at := time.UnixMicro(e.at).UTC()
	chk := &c.acct[slotChecking]
	mk := func(from, to *balance, amt ledger.Amount, desc, cat string, merchant int16) ledger.Request {
		req := ledger.Move(Client, key, from.id, to.id, amt, Currency, desc)
		req.Category, req.At = cat, at
		if merchant >= 0 {
			req.Merchant = g.merchants[merchant].ID
		}
		return req
	}
	move := func(from, to *balance, amt ledger.Amount, desc, cat string, merchant int16) (ledger.Request, bool) {
		if amt <= 0 || (!from.unbounded && from.avail() < amt) {
			return ledger.Request{}, false
		}
		from.bal -= amt
		to.bal += amt
		return mk(from, to, amt, desc, cat, merchant), true
	}
	settle := &g.bank[bankSettlement]
	switch e.kind {
	case evOpen:
		if e.slot == slotCredit {
			return move(&c.acct[slotCredit], settle, e.amount, "Balance carried forward", "opening", -1)
		}
		return move(settle, &c.acct[e.slot], e.amount, "Opening balance", "opening", -1)
	case evSalary:
		desc := "Payroll - " + p.employer
		if p.pay == payRetiree {
			desc = socialSecurity
		}
		return move(settle, chk, e.amount, desc, "income", -1)
	case evPension:
		return move(settle, chk, e.amount, pensionPayer, "income", -1)
	case evHousing:
		return move(chk, settle, e.amount, p.housingDesc, "housing", -1)
	case evBill:
		m := merchantSeeds[e.merchant]
		return move(chk, settle, e.amount, m.Name+" - AutoPay", m.Category, e.merchant)
	case evCard:
		m := merchantSeeds[e.merchant]
		from := &c.acct[e.slot]
		if from.avail() < e.amount {
			other := slotChecking
			if e.slot == slotChecking && p.has[slotCredit] {
				other = slotCredit
			}
			from = &c.acct[other]
		}
		if from.avail() < e.amount {
			return ledger.Request{}, false
		}
		// Shops are chains with a branch where the customer lives; online
		// and travel merchants show their own city.
		pl := places[p.place]
		if remote[m.Category] {
			pl = places[m.Place]
		}
		desc := m.Name + ", " + pl.City + " " + pl.State
		req := mk(from, &g.bank[bankCardClearing], e.amount, desc, m.Category, e.merchant)
		if !at.Before(g.pendingFrom) {
			// The last two days are still card holds: authorised, not settled.
			req.Pending = true
			from.held += e.amount
			return req, true
		}
		from.bal -= e.amount
		g.bank[bankCardClearing].bal += e.amount
		return req, true
	case evATM:
		if chk.own() < e.amount {
			return ledger.Request{}, false
		}
		return move(chk, settle, e.amount, "ATM withdrawal - "+places[p.place].City+" "+places[p.place].State, "cash", -1)
	case evP2P:
		ps := p.payees[e.payee]
		to := g.customer(ps.to)
		if to == nil || chk.own() < e.amount {
			return ledger.Request{}, false
		}
		memo := p2pMemos[(int(e.at/1e6)+int(e.payee))%len(p2pMemos)]
		desc := fmt.Sprintf("Transfer: %s to %s (%s)", p.initials(), to.p.initials(), memo)
		return move(chk, &to.acct[slotChecking], e.amount, desc, "transfer", -1)
	case evSavings:
		if chk.own() < e.amount+50000 {
			return ledger.Request{}, false
		}
		return move(chk, &c.acct[slotSavings], e.amount, "Transfer to savings", "transfer", -1)
	case evCardPay:
		cc := &c.acct[slotCredit]
		owed := -cc.bal
		if owed <= 0 {
			return ledger.Request{}, false
		}
		amt := owed
		if !p.ccFull {
			amt = max(min(owed, 2500), ledger.Amount(math.Round(float64(owed)*p.ccShare)))
		}
		amt = min(amt, chk.own())
		if amt < 100 {
			return ledger.Request{}, false
		}
		return move(chk, cc, amt, "Credit card payment - thank you", "card_payment", -1)
	case evInterest:
		sv := &c.acct[slotSavings]
		amt := sv.bal * savingsAPY / 10000 / 12
		return move(&g.bank[bankInterest], sv, amt, "Interest paid", "interest", -1)
	case evFee:
		return move(chk, &g.bank[bankFees], e.amount, "Monthly maintenance fee", "fees", -1)
	}
	return ledger.Request{}, false
}
