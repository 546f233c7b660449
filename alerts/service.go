package alerts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/backoff"
	"github.com/bankbridge/bankbridge/ledger"
)

// Channel delivers a message to a customer on one platform (a messenger,
// e-mail, a test double). Deliver must treat Message.ID as an idempotency
// key where the platform allows it. An error of kind Invalid, NotFound or
// Forbidden is permanent (the customer unlinked, the address is refused):
// the delivery becomes a dead letter at once; any other error is retried.
type Channel interface {
	Deliver(ctx context.Context, c bankbridge.CustomerID, m Message) error
}

// Link is a channel a customer linked, with the privacy they chose there
// ("" means the alert settings' privacy).
type Link struct {
	Channel string
	Privacy Privacy
}

// Links tells which channels a customer linked (the messenger's account
// links). A link may name a channel this instance cannot deliver on (not in
// Options.Channels: off here, on elsewhere in the fleet): its delivery is
// stored all the same and left to an instance that can (see Dispatch).
type Links interface {
	Links(ctx context.Context, c bankbridge.CustomerID) ([]Link, error)
}

// Ledger is what alerts read from and do to the ledger. ledger.Store
// implements it.
type Ledger interface {
	Account(ctx context.Context, id ledger.AccountID) (ledger.Account, error)
	Merchant(ctx context.Context, id ledger.MerchantID) (ledger.Merchant, error)
	CustomerCards(ctx context.Context, c bankbridge.CustomerID) ([]ledger.Card, error)
	SetCardStatus(ctx context.Context, id ledger.CardID, s ledger.CardStatus) error
}

// Source is the outbox: ledger.Store implements it.
type Source interface {
	Events(ctx context.Context, after ledger.EventSeq, limit int) ([]ledger.Event, error)
}

// Email is the name of the e-mail channel in deliveries.
const Email = "email"

// Options tune a Service. Zero values give the defaults.
type Options struct {
	// Cursor names this consumer's position in the outbox; default "alerts".
	Cursor string
	// Channels are the delivery channels by name ("messenger", "telegram"...).
	// Email, when set, is used for customers who gave an address.
	Channels map[string]Channel
	Email    Channel
	// FleetEmail says another instance of the fleet may send e-mail when
	// this one has no Email: e-mail deliveries are stored all the same and
	// left to an instance that can send them, or end as dead letters saying
	// none could, as chat deliveries are. Without it (one process), an
	// instance without Email makes no e-mail deliveries.
	FleetEmail bool
	// Links says which channels each customer linked. Nil: none.
	Links Links
	// Home is the bank's currency and country; other ones are foreign.
	// Default USD, US.
	Home Home
	// BankName is used in minimised texts; default "your bank's app".
	BankName string
	// Batch is how many outbox events are evaluated per commit; default 500.
	Batch int
	// Poll is how long an idle worker waits before looking again, when
	// nobody calls Notify; default 50ms.
	Poll time.Duration
	// MaxAttempts per delivery before it is a dead letter; default 8.
	// Backoff doubles from BackoffBase (default 1s) up to BackoffMax
	// (default 10 minutes), with ±20% jitter (package backoff), never
	// above BackoffMax.
	MaxAttempts int
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// Lease is how long a claimed delivery is hidden from other
	// dispatchers; default 30s. SendTimeout bounds one Deliver; default 10s.
	Lease       time.Duration
	SendTimeout time.Duration
	// Parallel deliveries in flight; default 16.
	Parallel int
	// Now returns the time; tests inject a clock. Default time.Now.
	Now func() time.Time
	// Logger receives delivery failures; default discards.
	Logger *slog.Logger
	// OnSent is told of every alert delivered (channel "web" when it lands
	// in the notification centre, dated by its ledger event, so that a
	// backlog counts on its own days; other channels at delivery);
	// OnAnswered of every first answer. For
	// engagement metrics (insights AlertSent / AlertAnswered). Must be quick.
	OnSent     func(c bankbridge.CustomerID, channel string, r Rule, at time.Time)
	OnAnswered func(c bankbridge.CustomerID, a Answer, at time.Time)
	// Disclose, when set, is called before a message with account details
	// (privacy full) leaves for a third-party channel; an error stops the
	// delivery (it is retried). Wire it to the disclosure log.
	Disclose func(ctx context.Context, c bankbridge.CustomerID, channel string, m Message) error
	// Language, when set, is the customer's chosen language ("es", "en",
	// or "" for none), read at each delivery: a full-text delivery is then
	// written from the alert's facts in that language (Text).
	Language func(ctx context.Context, c bankbridge.CustomerID) string
}

// Service evaluates alerts and delivers them. Run drives it; the other
// methods serve the notification centre, the answer to "was this you?",
// settings, and the staff console.
type Service struct {
	store Store
	led   Ledger
	o     Options
	wake  chan struct{} // a batch committed in the ledger
	send  chan struct{} // deliveries were queued

	own        []string     // the channels this instance delivers on: Claim takes those first
	released   atomic.Int64 // deliveries handed back: their channel is not on this instance
	unroutable atomic.Int64 // of those, dead letters: no instance delivered them

	mu        sync.Mutex
	internal  map[ledger.AccountID]bool // bank-internal accounts: never alert
	merchants map[ledger.MerchantID]ledger.Merchant
}

// New returns a Service; Run starts its work.
func New(st Store, led Ledger, o Options) *Service {
	if o.Cursor == "" {
		o.Cursor = "alerts"
	}
	if o.Home == (Home{}) {
		o.Home = Home{Currency: "USD", Country: "US"}
	}
	if o.BankName == "" {
		o.BankName = "your bank's app"
	}
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.Poll <= 0 {
		o.Poll = 50 * time.Millisecond
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 10 * time.Minute
	}
	if o.Lease <= 0 {
		o.Lease = 30 * time.Second
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 10 * time.Second
	}
	if o.Parallel <= 0 {
		o.Parallel = 16
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	own := slices.Sorted(maps.Keys(o.Channels))
	if o.Email != nil {
		own = append(own, Email)
	}
	return &Service{store: st, led: led, o: o, own: own, wake: make(chan struct{}, 1), send: make(chan struct{}, 1),
		internal: map[ledger.AccountID]bool{}, merchants: map[ledger.MerchantID]ledger.Merchant{}}
}

// Notify tells the worker the ledger committed a batch, so it reads the
// outbox now rather than at its next poll. It never blocks: wire it to
// ledger.Options.OnBatch.
func (s *Service) Notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Service) kick() {
	select {
	case s.send <- struct{}{}:
	default:
	}
}

// Run reads the outbox from src after the persisted cursor, evaluates and
// commits alerts, and delivers them, until ctx ends. It returns ctx's error
// then, or a store error it could not get past after retrying.
func (s *Service) Run(ctx context.Context, src Source) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { s.RunDispatcher(ctx) })
	err := s.consume(ctx, src)
	cancel()
	wg.Wait()
	return err
}

func (s *Service) consume(ctx context.Context, src Source) error {
	var cur ledger.EventSeq
	var err error
	for {
		if cur, err = s.store.Cursor(ctx, s.o.Cursor); err == nil {
			break
		}
		if backoff.Sleep(ctx, time.Second) != nil {
			return ctx.Err()
		}
	}
	fails := 0
	for {
		evs, err := src.Events(ctx, cur, s.o.Batch)
		if err == nil && len(evs) > 0 {
			err = s.Process(ctx, evs, evs[len(evs)-1].Seq)
			if err == nil {
				cur = evs[len(evs)-1].Seq
				fails = 0
				continue // there may be more right away
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fails++
			s.o.Logger.Warn("alerts: reading the outbox", "err", err, "failures", fails)
			if backoff.Sleep(ctx, backoff.Policy{Base: 50 * time.Millisecond, Max: 5 * time.Second}.Delay(fails)) != nil {
				return ctx.Err()
			}
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.wake:
		case <-time.After(s.o.Poll):
		}
	}
}

// Process evaluates events and commits their alerts, deliveries and the
// customers' profiles in one store transaction, moving the cursor to upto
// (0 leaves it: a consumer of a shared stream, where events arrive out of
// order, passes 0). Processing an event again adds nothing.
func (s *Service) Process(ctx context.Context, evs []ledger.Event, upto ledger.EventSeq) error {
	now := s.o.Now()
	accts := map[ledger.AccountID]ledger.Account{}
	var custs []bankbridge.CustomerID
	for _, e := range evs {
		for _, p := range e.Postings {
			if _, ok := accts[p.Account]; ok || s.isInternal(p.Account) {
				continue
			}
			a, err := s.led.Account(ctx, p.Account)
			if err != nil {
				return fmt.Errorf("alerts: account %d: %w", p.Account, err)
			}
			if a.Customer == 0 {
				s.mu.Lock()
				s.internal[a.ID] = true
				s.mu.Unlock()
				continue
			}
			accts[a.ID] = a
			custs = append(custs, a.Customer)
		}
	}
	slices.Sort(custs)
	custs = slices.Compact(custs)
	var b Batch
	// ats[i] is when b.Alerts[i]'s ledger event happened: the date the
	// engagement reports count it on. A backlog (the seeded history on first
	// start, an instance catching up) is counted on its own days, not today.
	var ats []time.Time
	if len(custs) > 0 {
		settings, err := s.store.Settings(ctx, custs)
		if err != nil {
			return err
		}
		profiles, err := s.store.Profiles(ctx, custs)
		if err != nil {
			return err
		}
		b.Profiles = map[bankbridge.CustomerID]Profile{}
		links := map[bankbridge.CustomerID][]Link{}
		for _, e := range evs {
			for c, sides := range customerSides(e, accts) {
				st, ok := settings[c]
				if !ok {
					st = DefaultSettings(c)
				}
				prof, ok := b.Profiles[c]
				if !ok {
					prof = profiles[c]
				}
				for _, sd := range sides {
					if e.Merchant != 0 {
						m, err := s.merchant(ctx, e.Merchant)
						if err != nil {
							return err
						}
						sd.merchant = &m
					}
					trusted := false
					if e.Merchant != 0 && sd.amount < 0 && !e.Settles {
						if trusted, err = s.store.Trusted(ctx, c, e.Merchant); err != nil {
							return err
						}
					}
					for _, cand := range evaluate(e, st, &prof, sd, trusted, s.o.Home) {
						a, err := s.alert(ctx, e, c, cand, now)
						if err != nil {
							return err
						}
						b.Alerts = append(b.Alerts, a)
						ats = append(ats, cmp.Or(e.At, now))
						ls, ok := links[c]
						if !ok {
							if s.o.Links != nil {
								if ls, err = s.o.Links.Links(ctx, c); err != nil {
									return fmt.Errorf("alerts: links of customer %d: %w", c, err)
								}
							}
							links[c] = ls
						}
						b.Deliveries = append(b.Deliveries, s.deliveries(a, st, ls, now)...)
					}
				}
				b.Profiles[c] = prof
			}
		}
	}
	if err := s.store.Commit(ctx, s.o.Cursor, upto, b, now); err != nil {
		return err
	}
	if s.o.OnSent != nil {
		for i, a := range b.Alerts {
			s.o.OnSent(a.Customer, "web", a.Rule, ats[i])
		}
	}
	if len(b.Deliveries) > 0 {
		s.kick()
	}
	return nil
}

func (s *Service) isInternal(id ledger.AccountID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.internal[id]
}

// merchant reads a merchant once: reference data does not change under an
// alert.
func (s *Service) merchant(ctx context.Context, id ledger.MerchantID) (ledger.Merchant, error) {
	s.mu.Lock()
	m, ok := s.merchants[id]
	s.mu.Unlock()
	if ok {
		return m, nil
	}
	m, err := s.led.Merchant(ctx, id)
	if errors.Is(err, ledger.ErrMerchantNotFound) {
		m, err = ledger.Merchant{ID: id}, nil
	}
	if err != nil {
		return m, fmt.Errorf("alerts: merchant %d: %w", id, err)
	}
	s.mu.Lock()
	if len(s.merchants) > 100_000 {
		clear(s.merchants)
	}
	s.merchants[id] = m
	s.mu.Unlock()
	return m, nil
}

// alert writes the alert's full text.
func (s *Service) alert(ctx context.Context, e ledger.Event, c bankbridge.CustomerID, cand candidate, now time.Time) (Alert, error) {
	amt := cand.side.amount
	if amt < 0 {
		amt = -amt
	}
	f := facts{amount: amt, currency: e.Currency, account: cand.side.account, merchant: cand.side.merchant, desc: e.Description, reason: cand.reason}
	if e.Merchant != 0 && cand.side.amount < 0 && (cand.rule == CardPurchase || cand.rule == Suspicious) {
		cards, err := s.led.CustomerCards(ctx, c)
		if err != nil {
			return Alert{}, fmt.Errorf("alerts: cards of customer %d: %w", c, err)
		}
		for _, k := range cards {
			if k.Account == cand.side.account.ID {
				f.last4 = k.Last4
				break
			}
		}
	}
	title, body := fullText(cand.rule, f)
	kept := Facts{Account: f.account.Name, Last4: f.last4, Reason: f.reason}
	if f.merchant != nil {
		kept.Merchant = f.merchant.Name
	}
	if kept.Merchant == "" {
		kept.Desc = f.desc
	}
	if cand.rule == LowBalance {
		kept.Available, kept.AvailIn = f.account.Available(), f.account.Currency
	}
	// An alert is dated by its event, not by when it was evaluated: a
	// replay, a catch-up after downtime or the demo's seeded history would
	// otherwise all read "just now".
	created := e.At
	if created.IsZero() || created.After(now) {
		created = now
	}
	return Alert{ID: NewAlertID(e.Seq, cand.rule, c), Seq: e.Seq, Customer: c, Rule: cand.rule, Transfer: e.Transfer,
		Account: cand.side.account.ID, Merchant: e.Merchant, Amount: amt, Currency: e.Currency,
		Title: title, Body: body, Ask: cand.rule == Suspicious, Created: created, Facts: kept}, nil
}

// deliveries makes one delivery per linked channel and e-mail, each
// minimised to the privacy that applies there.
func (s *Service) deliveries(a Alert, st Settings, links []Link, now time.Time) []Delivery {
	var out []Delivery
	add := func(channel string, p Privacy) {
		if p == PrivacyOff {
			if a.Rule != Suspicious {
				return // off keeps accounts out of third-party channels
			}
			p = PrivacyMinimal // the question reveals nothing, and fraud cannot wait
		}
		title, body := a.Title, a.Body
		if p != PrivacyFull {
			title, body = minimalText(s.o.BankName, a.Rule)
		}
		out = append(out, Delivery{ID: DeliveryID(a.ID, channel), Alert: a.ID, Customer: a.Customer, Channel: channel, Rule: a.Rule, Full: p == PrivacyFull,
			Title: title, Body: body, Ask: a.Ask, Status: Pending, NextAt: now, Created: now})
	}
	seen := map[string]bool{}
	for _, l := range links {
		// A channel this instance lacks still gets its delivery: another
		// instance delivers it, or it ends as a dead letter saying why.
		// Skipping it here lost the alert without a trace.
		if l.Channel == "" || l.Channel == Email || seen[l.Channel] {
			continue
		}
		seen[l.Channel] = true
		p := st.Privacy
		if l.Privacy.Valid() && stricter(l.Privacy, p) {
			p = l.Privacy
		}
		add(l.Channel, p)
	}
	if (s.o.Email != nil || s.o.FleetEmail) && st.Email != "" {
		add(Email, st.Privacy)
	}
	return out
}

// stricter reports whether a says less than b.
func stricter(a, b Privacy) bool {
	rank := map[Privacy]int{PrivacyFull: 0, PrivacyMinimal: 1, PrivacyOff: 2}
	return rank[a] > rank[b]
}
