package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
)

// Account slots of a customer, in the order they are opened.
const (
	slotChecking = iota
	slotSavings
	slotCredit
	nSlots
)

// Pay schedules.
const (
	payBiweekly    = iota // every other Friday
	paySemimonthly        // the 15th and the last day of the month
	payMonthly            // the last day of the month
	payRetiree            // Social Security on a Wednesday, a pension on the 1st
)

// recurring is a monthly charge: a bill by ACH or a subscription by card.
type recurring struct {
	merchant int // index in merchantSeeds
	day      int // day of the month, 1..28
	amount   ledger.Amount
}

// payeeSeed is a payee to create: another customer of the same chunk.
type payeeSeed struct {
	to       int // global customer index
	nickname string
}

// profile is everything the generator decides about one customer before
// writing anything: who they are, what they hold, how they earn and spend.
// It is a pure function of (seed, index, chunk bounds).
type profile struct {
	idx     int
	cust    identity.Customer
	first   string
	last    string
	age     int
	place   int
	has     [nSlots]bool
	opened  [nSlots]time.Time
	limit   [nSlots]ledger.Amount // overdraft of checking, credit limit of the card
	open    [nSlots]ledger.Amount // opening balance (for the card: the balance owed)
	network string                // of the credit card
	last4   [nSlots]string        // debit card on checking, credit card on the card account

	pay       int
	net       ledger.Amount // per paycheck (retirees: Social Security)
	pension   ledger.Amount // retirees, monthly
	employer  string
	payParity int64 // biweekly: which Fridays
	ssWeek    int   // retirees: 2nd, 3rd or 4th Wednesday

	housing     ledger.Amount
	housingDesc string
	housingDay  int

	bills []recurring
	subs  []recurring

	savingsMonthly ledger.Amount
	savingsDay     int
	ccDue          int
	ccFull         bool
	ccShare        float64 // partial payers pay this share of what is owed
	fee            bool

	rate        float64   // card purchases a day
	weights     []float64 // per cardCategories
	favorite    []int     // per cardCategories: index in merchantSeeds
	creditShare float64   // share of purchases on the credit card
	atmWeekly   float64
	p2pMonthly  float64

	payees []payeeSeed
}

// cardCategories orders the card spending categories; weights index it.
var cardCategories = []string{
	"groceries", "restaurants", "fast_food", "coffee", "fuel", "pharmacy", "department_store",
	"online_retail", "rideshare", "transit", "food_delivery", "travel_air", "lodging", "medical",
	"home_improvement", "electronics", "clothing", "entertainment", "pets", "books", "personal_care",
	"convenience",
}

// Spending mixes per life stage, aligned with cardCategories. Older
// customers shop more for groceries and at the pharmacy and ride less;
// younger ones order more food and ride more.
var (
	weightsYoung = []float64{12, 8, 12, 11, 7, 2, 3, 12, 6, 5, 9, 0.4, 0.3, 0.7, 0.8, 1.2, 4, 3.5, 1.5, 1, 2, 6}
	weightsMid   = []float64{18, 9, 9, 8, 9, 4, 4, 9, 2, 2, 4, 0.3, 0.3, 1.5, 2, 0.8, 3, 2, 2, 1, 2, 5}
	weightsOld   = []float64{24, 10, 5, 6, 8, 9, 6, 6, 0.6, 1, 1.2, 0.6, 0.6, 3.5, 3, 0.5, 2, 1.5, 2, 2, 2, 3}
	weightsElder = []float64{28, 9, 3, 5, 5, 13, 5, 3, 0.3, 0.8, 0.5, 0.3, 0.4, 5, 1.5, 0.3, 1.5, 1, 1.5, 2, 2, 3}
)

// merchantsByCategory lists merchantSeeds indices per category.
var merchantsByCategory = func() map[string][]int {
	m := map[string][]int{}
	for i, s := range merchantSeeds {
		m[s.Category] = append(m[s.Category], i)
	}
	return m
}()

// customerRand returns the random stream of customer idx for one purpose, so
// that what one customer draws never shifts another's.
func customerRand(seed uint64, idx int, purpose uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(idx)<<8|purpose))
}

// either returns a when c holds, else b.
func either[T any](c bool, a, b T) T {
	if c {
		return a
	}
	return b
}

// pick returns a random element of s.
func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// lognormal draws around median (cents) with spread sigma, at least 1 dollar.
func lognormal(r *rand.Rand, median, sigma float64) ledger.Amount {
	v := math.Round(median * math.Exp(sigma*r.NormFloat64()))
	return ledger.Amount(max(v, 100))
}

// dollars rounds cents to whole dollars.
func dollars(c float64) ledger.Amount { return ledger.Amount(math.Round(c/100) * 100) }

// drawAge gives the bank's age mix: about 35% aged 55 to 75, 4% older, the
// rest spread over 18 to 54.
func drawAge(r *rand.Rand) int {
	switch u := r.Float64(); {
	case u < 0.12:
		return 18 + r.IntN(7) // 18-24
	case u < 0.30:
		return 25 + r.IntN(10) // 25-34
	case u < 0.46:
		return 35 + r.IntN(10) // 35-44
	case u < 0.61:
		return 45 + r.IntN(10) // 45-54
	case u < 0.96:
		return 55 + r.IntN(21) // 55-75
	default:
		return 76 + r.IntN(15) // 76-90
	}
}

// emailLocal folds a name to the ASCII letters an email address takes.
func emailLocal(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		case asciiFold[c] != "":
			b.WriteString(asciiFold[c])
		}
	}
	return b.String()
}

// fixed names the first customers so the demo login has a coherent story:
// the demo customer pays Sam, mom and the landlord.
var fixed = []struct{ first, last string }{
	{"Alex", "Morgan"}, {"Sam", "Rivera"}, {"Linda", "Morgan"}, {"Priya", "Shah"},
}

// newProfile decides customer idx of the chunk [lo, hi). Every draw comes
// from the customer's own stream, in the order of the steps below: a step
// that draws more or less shifts every later one, and so the whole demo.
func newProfile(o Options, idx, lo, hi int) *profile {
	r := customerRand(o.Seed, idx, 1)
	p := &profile{idx: idx}
	since, latest := p.drawPerson(r, o)
	p.drawProducts(r, since, latest)
	monthly := p.drawIncome(r) // cents
	p.drawHousing(r, monthly)
	p.drawBills(r)
	p.drawSubscriptions(r)
	p.drawSavingAndCard(r, monthly)
	p.drawSpending(r)
	if hi-lo > 1 {
		p.drawPayees(r, o.Seed, lo, hi)
	}
	return p
}

// Life stages, which most draws depend on.
func (p *profile) young() bool { return p.age < 35 }
func (p *profile) old() bool   { return p.age >= 55 }
func (p *profile) elder() bool { return p.age >= 76 }

// dayOfMonth draws the day of a monthly charge, 1..28 so it is in every month.
func dayOfMonth(r *rand.Rand) int { return 1 + r.IntN(28) }

// drawPerson decides who the customer is: name, age, place, address, and
// when they joined (since), before the history starts (latest at most).
func (p *profile) drawPerson(r *rand.Rand, o Options) (since, latest time.Time) {
	idx, now := p.idx, o.Now
	p.first, p.last = pick(r, firstNames), pick(r, lastNames)
	p.age = drawAge(r)
	if idx < len(fixed) {
		p.first, p.last = fixed[idx].first, fixed[idx].last
	}
	p.place = r.IntN(len(places))
	email := fmt.Sprintf("%s.%s%d@example.com", emailLocal(p.first), emailLocal(p.last), idx)
	switch idx {
	case 0:
		p.age, email, p.place = 61, CustomerEmail, 0
	case 2:
		p.age = 84 // mom
	}
	pl := places[p.place]

	// Joined at 18 at the earliest, within the last 30 years, and before the
	// history starts.
	birth := now.Year() - p.age
	earliest := time.Date(birth+18, 1, 1, 0, 0, 0, 0, time.UTC)
	if lim := now.AddDate(-30, 0, 0); earliest.Before(lim) {
		earliest = lim
	}
	latest = o.start().AddDate(0, 0, -30)
	if !earliest.Before(latest) {
		earliest = latest.AddDate(0, 0, -60)
	}
	since = earliest.Add(time.Duration(r.Int64N(int64(latest.Sub(earliest))))).Truncate(time.Second)
	line2 := ""
	if r.IntN(4) == 0 {
		line2 = fmt.Sprintf("Apt %d%c", 1+r.IntN(12), 'A'+rune(r.IntN(6)))
	}
	p.cust = identity.Customer{
		Name:  p.first + " " + p.last,
		Email: email,
		Phone: fmt.Sprintf("+1 %s 555 01%02d", pl.AreaCode, r.IntN(100)),
		Address: identity.Address{
			Line1:      fmt.Sprintf("%d %s %s", 10+r.IntN(9900), pick(r, streets), pick(r, streetSuffixes)),
			Line2:      line2,
			City:       pl.City,
			Region:     pl.State,
			PostalCode: pick(r, pl.ZIPs),
			Country:    "US",
		},
		BirthYear: birth,
		Since:     since,
	}
	return since, latest
}

// drawProducts decides the accounts held, when each was opened, the
// overdraft, and the cards.
func (p *profile) drawProducts(r *rand.Rand, since, latest time.Time) {
	p.has[slotChecking] = true
	p.has[slotSavings] = r.Float64() < either(p.old(), 0.8, 0.55)
	p.has[slotCredit] = r.Float64() < 0.6
	if !p.has[slotSavings] && !p.has[slotCredit] {
		p.has[slotSavings] = true // everyone holds two or three products
	}
	if p.idx == 0 {
		p.has = [nSlots]bool{true, true, true}
	}
	p.opened[slotChecking] = since
	for s := slotSavings; s < nSlots; s++ {
		p.opened[s] = since.Add(time.Duration(r.Int64N(int64(latest.Sub(since)) + 1))).Truncate(time.Second)
	}
	if r.Float64() < 0.4 || p.idx == 0 {
		p.limit[slotChecking] = ledger.Amount(pick(r, []int64{250, 500, 500, 1000})) * 100
	}
	p.network = pick(r, []string{"visa", "mastercard"})
	for s := range p.last4 {
		p.last4[s] = fmt.Sprintf("%04d", r.IntN(10000))
	}
}

// drawIncome decides how and how much the customer is paid, and returns
// their monthly net income in cents.
func (p *profile) drawIncome(r *rand.Rand) float64 {
	var annual float64 // net, dollars
	switch {
	case p.age < 25:
		annual = 24000 + r.Float64()*14000
	case p.age < 35:
		annual = 36000 + r.Float64()*30000
	case p.age < 55:
		annual = 44000 + r.Float64()*50000
	case p.age < 67 && r.Float64() < 0.7:
		annual = 42000 + r.Float64()*45000
	default:
		annual = 0 // retired
	}
	p.employer = pick(r, employers)
	p.payParity = int64(r.IntN(2))
	switch {
	case annual == 0:
		p.pay = payRetiree
		p.net = dollars((1400 + r.Float64()*1900) * 100)
		if r.Float64() < 0.5 {
			p.pension = dollars((300 + r.Float64()*2200) * 100)
		}
		p.ssWeek = 2 + r.IntN(3)
		annual = float64(p.net+p.pension) / 100 * 12
	default:
		p.pay = pick(r, []int{payBiweekly, payBiweekly, paySemimonthly, payMonthly})
		per := map[int]float64{payBiweekly: 26, paySemimonthly: 24, payMonthly: 12}[p.pay]
		p.net = ledger.Amount(math.Round(annual / per * 100))
	}
	if p.idx == 0 {
		p.pay, p.net, p.employer = payBiweekly, 245000, "Northwind Health"
		annual = 2450 * 26
	}
	return annual / 12 * 100
}

// drawHousing decides rent or mortgage: younger people rent; many older
// people own outright.
func (p *profile) drawHousing(r *rand.Rand, monthly float64) {
	young, old := p.young(), p.old()
	p.housingDay = 1
	switch {
	case young || (!old && r.Float64() < 0.35):
		p.housing = dollars(monthly * (0.25 + r.Float64()*0.1))
		p.housingDesc = "Rent - " + pick(r, []string{"Oakwood Apartments", "Riverside Lofts", "Parkview Residences", "Maple Court Homes"})
	case p.elder() || (old && r.Float64() < 0.5):
		p.housing = 0
	default:
		p.housing = dollars(monthly * (0.2 + r.Float64()*0.1))
		p.housingDesc = "Mortgage payment - BankBridge Home Loans"
		p.housingDay = 1 + r.IntN(15)
	}
}

// drawBills decides the bills paid by ACH: utilities, telecom, insurance.
func (p *profile) drawBills(r *rand.Rand) {
	p.bills = append(p.bills, recurring{pick(r, merchantsByCategory["utilities"][:2]), dayOfMonth(r), lognormal(r, 11000, 0.3)})
	if p.housing == 0 || p.housingDesc[0] == 'M' {
		p.bills = append(p.bills, recurring{merchantsByCategory["utilities"][2], dayOfMonth(r), lognormal(r, 5500, 0.25)})
	}
	tele := merchantsByCategory["telecom"]
	p.bills = append(p.bills, recurring{tele[0], dayOfMonth(r), lognormal(r, 7000, 0.3)})
	if p.old() && r.Float64() < 0.6 {
		p.bills = append(p.bills, recurring{tele[2], dayOfMonth(r), lognormal(r, 12000, 0.2)}) // cable
	} else if r.Float64() < 0.8 {
		p.bills = append(p.bills, recurring{tele[1], dayOfMonth(r), lognormal(r, 6500, 0.15)})
	}
	if r.Float64() < 0.75 {
		p.bills = append(p.bills, recurring{pick(r, merchantsByCategory["insurance"]), dayOfMonth(r), lognormal(r, 14000, 0.35)})
	}
}

// drawSubscriptions decides the subscriptions paid by card.
func (p *profile) drawSubscriptions(r *rand.Rand) {
	subs := merchantsByCategory["streaming"]
	nsub := r.IntN(3)
	if p.young() {
		nsub = 1 + r.IntN(3)
	} else if p.old() {
		nsub = r.IntN(2)
	}
	prices := map[int]ledger.Amount{subs[0]: 1549, subs[1]: 1099, subs[2]: 999}
	for _, j := range r.Perm(len(subs))[:nsub] {
		p.subs = append(p.subs, recurring{subs[j], dayOfMonth(r), prices[subs[j]]})
	}
	if r.Float64() < either(p.young(), 0.3, 0.15) {
		p.subs = append(p.subs, recurring{merchantsByCategory["fitness"][0], dayOfMonth(r), 3999})
	}
}

// drawSavingAndCard decides the monthly saving, how the credit card is
// paid, the fee, and the balances held before the history starts.
func (p *profile) drawSavingAndCard(r *rand.Rand, monthly float64) {
	if p.has[slotSavings] && r.Float64() < 0.7 {
		p.savingsMonthly = dollars(monthly * (0.03 + r.Float64()*0.08))
		p.savingsDay = 16 + r.IntN(10)
	}
	p.ccDue = dayOfMonth(r)
	p.ccFull = r.Float64() < 0.6
	p.ccShare = 0.1 + r.Float64()*0.3
	p.fee = r.Float64() < 0.1

	// Opening balances: the money held before the history starts.
	p.open[slotChecking] = dollars(monthly * (0.8 + r.Float64()*1.5))
	savingsMedian := either(p.old(), 2500000.0, 400000.0)
	p.open[slotSavings] = dollars(float64(lognormal(r, savingsMedian, 0.9)))
	p.limit[slotCredit] = ledger.Amount(pick(r, []int64{1500, 3000, 5000, 8000, 12000, 20000})) * 100
	if !p.ccFull {
		p.open[slotCredit] = dollars(float64(p.limit[slotCredit]) * r.Float64() * 0.3)
	}
}

// drawSpending decides how often and where the customer uses their cards,
// the ATM and person-to-person payments.
func (p *profile) drawSpending(r *rand.Rand) {
	base := weightsMid
	p.rate = 1.9
	p.atmWeekly = 0.3
	p.p2pMonthly = 1.5
	switch {
	case p.elder():
		base, p.rate, p.atmWeekly, p.p2pMonthly = weightsElder, 1.1, 0.9, 0.4
	case p.old():
		base, p.rate, p.atmWeekly, p.p2pMonthly = weightsOld, 1.5, 0.6, 0.8
	case p.young():
		base, p.rate, p.atmWeekly, p.p2pMonthly = weightsYoung, 2.0, 0.15, 3
	}
	p.rate *= 0.6 + r.Float64()*0.8
	p.weights = make([]float64, len(base))
	p.favorite = make([]int, len(base))
	for i, w := range base {
		p.weights[i] = w * (0.6 + r.Float64()*0.8)
		p.favorite[i] = pick(r, merchantsByCategory[cardCategories[i]])
	}
	p.creditShare = 0.3 + r.Float64()*0.6
}

// drawPayees picks one to three other customers of the chunk [lo, hi) as
// payees, with nicknames unique to the customer. The demo customer (idx 0)
// gets the fixed story's payees instead.
func (p *profile) drawPayees(r *rand.Rand, seed uint64, lo, hi int) {
	idx := p.idx
	n := 1 + r.IntN(3)
	if idx == 0 {
		n = 0
		for j := 1; j < len(fixed) && j < hi; j++ {
			p.payees = append(p.payees, payeeSeed{to: j, nickname: []string{"", "Sam", "mom", "landlord"}[j]})
		}
	}
	rel := relationsYoung
	if p.old() {
		rel = relationsOld
	}
	taken := map[string]bool{}
	for _, ps := range p.payees {
		taken[ps.nickname] = true
	}
	seen := map[int]bool{idx: true}
	for range n {
		if len(seen) == hi-lo {
			break
		}
		to := lo + r.IntN(hi-lo)
		for seen[to] {
			to = lo + r.IntN(hi-lo)
		}
		seen[to] = true
		nick := ""
		if r.IntN(2) == 0 {
			nick = pick(r, rel)
		}
		if nick == "" || taken[nick] {
			// Payee names are drawn in their own profile; nicknames use
			// the recipient's first name, decided independently here.
			nick = nameOf(seed, to)
		}
		for k := 2; taken[nick]; k++ {
			nick = fmt.Sprintf("%s %d", nameOf(seed, to), k)
		}
		taken[nick] = true
		p.payees = append(p.payees, payeeSeed{to: to, nickname: nick})
	}
}

// nameOf returns the first name customer idx gets, without building the
// whole profile (it is the first draw of the customer's stream).
func nameOf(seed uint64, idx int) string {
	if idx < len(fixed) {
		return fixed[idx].first
	}
	return pick(customerRand(seed, idx, 1), firstNames)
}

// initials returns "Alex M." for a profile.
func (p *profile) initials() string {
	r := []rune(p.last)
	return p.first + " " + string(r[0]) + "."
}
