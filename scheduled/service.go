package scheduled

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/rails"
)

// Client is the ledger client name of scheduled payments' transfers; with
// Run.Key it makes each occurrence's transfer idempotent.
const Client = "scheduled"

// Grace is how late an occurrence may still be paid unless Options say
// otherwise: one found later (every instance was down over its date) is
// reported to the customer as missed instead, so that nobody is paid days
// late without being asked.
const Grace = 72 * time.Hour

// Payer sends payments to external payees (rails.Service).
type Payer interface {
	Pay(ctx context.Context, r rails.PayRequest) (rails.Payment, error)
}

// Limits is the fleet's payment limits (limits.Guard).
type Limits interface {
	Reserve(ctx context.Context, p limits.Payment) error
	Release(ctx context.Context, p limits.Payment) error
}

// Teller tells a customer something: in the bank's notification centre,
// and by e-mail and chat as their alert settings say (alerts.Service.Tell,
// through internal/app). key makes telling idempotent.
type Teller interface {
	Tell(ctx context.Context, c bankbridge.CustomerID, key string, n Notice) error
}

// Notice is what the customer is told, in each language the bank speaks:
// the channel that delivers it picks the customer's at the time it sends.
type Notice struct {
	Title, Body     string // English
	TitleES, BodyES string // Spanish
}

// Options are the service's collaborators; Payer, Limits and Teller may be
// nil (no rails: external orders are refused; no limits; nobody told).
type Options struct {
	Payer  Payer
	Limits Limits
	Teller Teller
	Now    func() time.Time
	Logger *slog.Logger
	Grace  time.Duration // 0 means Grace
	// Location is the bank's time zone: "today", and the hour an
	// occurrence is due (RunHour), are read there. Nil means UTC.
	Location *time.Location
}

// Service creates, lists and runs scheduled payments.
type Service struct {
	st  Store
	led *ledger.Service
	o   Options
}

// New returns the service over st.
func New(st Store, led *ledger.Service, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Grace <= 0 {
		o.Grace = Grace
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	return &Service{st: st, led: led, o: o}
}

// Location is the time zone the service reads dates in.
func (s *Service) Location() *time.Location { return s.o.Location }

// Today is the current date in the bank's time zone.
func (s *Service) Today() time.Time { return Day(s.o.Now().In(s.o.Location)) }

// Store returns the service's store.
func (s *Service) Store() Store { return s.st }

// Create validates and saves an order for its customer.
func (s *Service) Create(ctx context.Context, o Order) (Order, error) {
	now := s.o.Now()
	o.Start, o.Status, o.Runs, o.Created, o.Anchor = Day(o.Start), Active, 0, now, 1
	if !o.Until.IsZero() {
		o.Until = Day(o.Until)
	}
	if err := o.Validate(now.In(s.o.Location)); err != nil {
		return Order{}, err
	}
	if o.Authorized > 0 && o.AuthorizedAt.IsZero() {
		o.AuthorizedAt = now
	}
	o.Next = o.Start
	return s.st.CreateOrder(ctx, o)
}

// Edit is a change a customer asks of an active order, made on the Version
// they were shown. A zero Next keeps the next date; Count 0 and a zero
// Until remove that end (a regular order needs one of them).
type Edit struct {
	Version int64
	Amount  ledger.Amount
	Next    time.Time
	Until   time.Time
	Count   int
	// Authorized, when above zero, is a new step-up authorisation the
	// caller checked (a fresh authenticator code) for payments up to it.
	Authorized ledger.Amount
	Actor      string // "customer:12"
}

// Edit changes the customer's order: its amount, its next date (later
// dates follow it) and its end. It is made only on e.Version: an
// occurrence the worker claimed since, or another edit, makes it
// ErrChanged and changes nothing, so a payment is made as it was or as
// edited, never a mix. The change is written to the order's history with
// what was before.
func (s *Service) Edit(ctx context.Context, c bankbridge.CustomerID, id OrderID, e Edit) (Order, error) {
	o, err := s.st.Order(ctx, c, id)
	if err != nil {
		return Order{}, err
	}
	if o.Status != Active {
		return Order{}, ErrEnded
	}
	if o.Version != e.Version {
		return Order{}, ErrChanged
	}
	was := o
	now := s.o.Now()
	today := Day(now.In(s.o.Location))
	o.Amount = e.Amount
	if !e.Next.IsZero() {
		next := Day(e.Next)
		if !next.Equal(o.Next) {
			// Re-anchor: the next occurrence is on the chosen date, and the
			// later ones follow it weekly or monthly from there.
			o.Start, o.Anchor, o.Next = next, o.Runs+1, next
		}
	}
	o.Until, o.Count = time.Time{}, 0
	if o.Every != Once {
		if !e.Until.IsZero() {
			o.Until = Day(e.Until)
		}
		o.Count = e.Count
	}
	if e.Authorized > 0 {
		o.Authorized, o.AuthorizedAt = e.Authorized, now
	}
	switch {
	case o.Amount <= 0:
		return Order{}, ErrInvalid.WithMessage("enter an amount above zero")
	case o.Next.Before(today):
		return Order{}, ErrInvalid.WithMessage("choose a date from today on")
	case o.Next.After(today.AddDate(1, 0, 0)):
		return Order{}, ErrInvalid.WithMessage("choose a date within a year")
	case o.Count < 0 || o.Count > 520:
		return Order{}, ErrInvalid.WithMessage("the number of payments is 1 to 520")
	case o.Count > 0 && o.Count <= o.Runs:
		return Order{}, ErrInvalid.WithMessage(fmt.Sprintf("%d payments were already made or skipped: choose a larger number", o.Runs))
	case !o.Until.IsZero() && o.Until.Before(o.Next):
		return Order{}, ErrInvalid.WithMessage("the end date is before the next payment")
	case o.Every != Once && o.Count == 0 && o.Until.IsZero():
		return Order{}, ErrInvalid.WithMessage("choose when the payments end: a date or a number of payments")
	}
	detail := changeDetail(was, o)
	if detail == "" {
		return was, nil
	}
	return s.st.UpdateOrder(ctx, o, Change{Order: o.ID, Version: o.Version + 1, Customer: c, Actor: e.Actor, Detail: detail, At: now})
}

// changeDetail says what an edit changed, before and after, for the
// order's history; "" when nothing did.
func changeDetail(was, now Order) string {
	var parts []string
	add := func(what, a, b string) {
		if a != b {
			parts = append(parts, what+" "+a+" -> "+b)
		}
	}
	date := func(t time.Time) string {
		if t.IsZero() {
			return "none"
		}
		return t.Format(time.DateOnly)
	}
	add("amount", was.Amount.Display(was.Currency), now.Amount.Display(now.Currency))
	add("next date", date(was.Next), date(now.Next))
	add("end date", date(was.Until), date(now.Until))
	add("number of payments", itoa(int64(was.Count)), itoa(int64(now.Count)))
	if now.Authorized != was.Authorized || !now.AuthorizedAt.Equal(was.AuthorizedAt) {
		parts = append(parts, "authorised with the authenticator code up to "+now.Authorized.Display(now.Currency))
	}
	return strings.Join(parts, "; ")
}

// detailWordsES are changeDetail's words in Spanish; the values (amounts,
// ISO dates, counts) read the same in both.
var detailWordsES = []struct{ en, es string }{
	{"authorised with the authenticator code up to ", "autorizado con el código del autenticador hasta "},
	{"number of payments ", "número de pagos "},
	{"next date ", "próxima fecha "},
	{"end date ", "fecha de fin "},
	{"amount ", "importe "},
}

// DetailIn is a Change's Detail in lang ("es" or anything else for
// English). The history keeps the English changeDetail wrote; it is
// translated when shown, as ledger.DescriptionIn translates descriptions,
// so a change made before the customer chose Spanish reads in Spanish too.
// A part it does not know is kept as written.
func DetailIn(lang, detail string) string {
	if lang != "es" || detail == "" {
		return detail
	}
	parts := strings.Split(detail, "; ")
	for i, p := range parts {
		for _, w := range detailWordsES {
			if rest, ok := strings.CutPrefix(p, w.en); ok {
				a, b, two := strings.Cut(rest, " -> ")
				if two {
					rest = noneES(a) + " -> " + noneES(b)
				}
				parts[i] = w.es + rest
				break
			}
		}
	}
	return strings.Join(parts, "; ")
}

func noneES(v string) string {
	if v == "none" {
		return "ninguna"
	}
	return v
}

// Skip skips the order's next occurrence: it is recorded as skipped and the
// order moves to the one after. A worker paying it at the same moment wins
// or loses the same claim, so it is paid or skipped, never both.
func (s *Service) Skip(ctx context.Context, c bankbridge.CustomerID, id OrderID) error {
	o, err := s.st.Order(ctx, c, id)
	if err != nil {
		return err
	}
	if o.Status != Active {
		return ErrEnded
	}
	seq := o.Runs + 1
	next, _ := o.After(seq)
	ok, err := s.st.Claim(ctx, o, Run{Order: o.ID, Seq: seq, Customer: c, Date: o.Next, Status: Skipped, At: s.o.Now()}, next)
	if err != nil {
		return err
	}
	if !ok {
		return ErrEnded.WithMessage("that payment has just been made or the order changed; look again")
	}
	return nil
}

// Cancel ends the order; nothing more is paid.
func (s *Service) Cancel(ctx context.Context, c bankbridge.CustomerID, id OrderID) error {
	return s.st.CancelOrder(ctx, c, id, s.o.Now())
}

// Run pays due occurrences every period until ctx ends. Run it on one
// instance of the fleet (under a lease); Cycle stays correct if two run.
func (s *Service) Run(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		if _, err := s.Cycle(ctx); err != nil && ctx.Err() == nil {
			s.o.Logger.Warn("scheduled: cycle", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Cycle settles runs a dead worker left claimed, then claims and pays every
// due occurrence; it returns how many runs it settled.
func (s *Service) Cycle(ctx context.Context) (int, error) {
	now := s.o.Now()
	n := 0
	// A run claimed a minute ago and still unsettled belongs to no live
	// worker: this pass pays it under the same key, so a payment the dead
	// worker did make is found, not made again.
	left, err := s.st.Unsettled(ctx, now.Add(-time.Minute), 100)
	if err != nil {
		return n, err
	}
	for _, r := range left {
		o, err := s.st.Order(ctx, r.Customer, r.Order)
		if err != nil {
			return n, err
		}
		if err := s.pay(ctx, o, r); err != nil {
			return n, err
		}
		n++
	}
	// Orders may be due more than once (a monthly order whose instance was
	// down for months): each pass of the loop claims one occurrence each.
	for range 1000 {
		due, err := s.st.Due(ctx, Day(now.In(s.o.Location)), 100)
		if err != nil {
			return n, err
		}
		claimed := 0
		for _, o := range due {
			if now.Before(DueAt(o.Next, s.o.Location)) {
				continue
			}
			ok, err := s.claim(ctx, o, now)
			if err != nil {
				return n, err
			}
			if ok {
				claimed++
				n++
			}
		}
		if claimed == 0 {
			return n, nil
		}
	}
	return n, nil
}

// claim takes o's next occurrence and pays it, or reports it missed.
func (s *Service) claim(ctx context.Context, o Order, now time.Time) (bool, error) {
	seq := o.Runs + 1
	next, _ := o.After(seq)
	r := Run{Order: o.ID, Seq: seq, Customer: o.Customer, Date: o.Next, Status: Claimed, At: now}
	late := now.Sub(DueAt(o.Next, s.o.Location)) > s.o.Grace
	if late {
		r.Status = Missed
		r.Reason = fmt.Sprintf("it was due on %s and our systems could not run it in time", o.Next.Format("Monday, January 2"))
	}
	ok, err := s.st.Claim(ctx, o, r, next)
	if err != nil || !ok {
		return false, err
	}
	if late {
		s.tell(ctx, o, r, Notice{
			Title: "Scheduled payment not made",
			Body: fmt.Sprintf("Your scheduled payment of %s to %s was not made: %s. Nothing was taken from your account. You can pay it now from Move money.",
				o.Amount.Display(o.Currency), o.Label, r.Reason),
			TitleES: "Pago programado no realizado",
			BodyES: fmt.Sprintf("Tu pago programado de %s a %s no se realizó: vencía el %s y nuestros sistemas no pudieron hacerlo a tiempo. No se tomó dinero de tu cuenta. Puedes pagarlo ahora desde Mover dinero.",
				o.Amount.Display(o.Currency), o.Label, dateES(o.Next)),
		})
		return true, nil
	}
	return true, s.pay(ctx, o, r)
}

// pay makes run's payment under its key and settles the run. A refusal the
// customer can act on settles it refused and tells them; anything
// transient leaves it claimed for the next pass.
func (s *Service) pay(ctx context.Context, o Order, r Run) error {
	key := r.Key()
	var lim *limits.Payment
	if o.Payee != 0 && s.o.Limits != nil {
		payee := o.To
		if o.Rail {
			payee = rails.Payee{ID: o.Payee}.LimitsPayee()
		}
		// Authorised with the authenticator code at setup (or an edit):
		// the step-up the limits may ask for is already given.
		lim = &limits.Payment{Customer: o.Customer, Payee: payee, Amount: o.Amount, Currency: o.Currency, Channel: Client, Key: key,
			SteppedUp: o.Authorized > 0 && o.Amount <= o.Authorized}
	}
	ref, err := s.send(ctx, o, r, lim)
	switch {
	case err == nil:
		r.Status, r.Ref = Paid, ref
	case refusal(err):
		if lim != nil && !errors.Is(err, limits.ErrDaily) && !errors.Is(err, limits.ErrPayee) && !errors.Is(err, limits.ErrNewPayee) && !errors.Is(err, limits.ErrStepUp) {
			if rerr := s.o.Limits.Release(ctx, *lim); rerr != nil {
				return rerr
			}
		}
		r.Status, r.Reason, r.why = Refused, Words(err, o), err
	default:
		return err
	}
	r.At = s.o.Now()
	if err := s.st.Settle(ctx, r); err != nil {
		return err
	}
	if r.Status == Refused {
		s.tell(ctx, o, r, Notice{
			Title: "Scheduled payment not made",
			Body: fmt.Sprintf("Your scheduled payment of %s to %s on %s was not made: %s. Nothing was taken from your account.",
				o.Amount.Display(o.Currency), o.Label, r.Date.Format("January 2"), r.Reason),
			TitleES: "Pago programado no realizado",
			BodyES: fmt.Sprintf("Tu pago programado de %s a %s del %s no se realizó: %s. No se tomó dinero de tu cuenta.",
				o.Amount.Display(o.Currency), o.Label, dateES(r.Date), WordsES(r.why, o)),
		})
	}
	return nil
}

// send makes the payment and returns what it made ("tx:1", "ach:2").
func (s *Service) send(ctx context.Context, o Order, r Run, lim *limits.Payment) (string, error) {
	from, err := s.led.Store().Account(ctx, o.From)
	if err != nil || from.Customer != o.Customer {
		return "", ledger.ErrAccountNotFound
	}
	if lim != nil {
		if err := s.o.Limits.Reserve(ctx, *lim); err != nil {
			return "", err
		}
	}
	desc := "Scheduled payment to " + o.Label
	if o.Rail {
		if s.o.Payer == nil {
			return "", bankbridge.E(bankbridge.Unprocessable, "rails_off", "payments to other banks are not available")
		}
		p, err := s.o.Payer.Pay(ctx, rails.PayRequest{Customer: o.Customer, Payee: o.Payee, From: o.From, Amount: o.Amount,
			Memo: o.Memo, Channel: Client, Key: r.Key()})
		if err != nil {
			return "", err
		}
		if p.Status == rails.StatusRefused {
			return "", bankbridge.E(bankbridge.Unprocessable, "payment_refused", p.Reason)
		}
		return fmt.Sprintf("ach:%d", p.ID), nil
	}
	if o.Memo != "" {
		desc += ": " + o.Memo
	}
	t, _, err := s.led.Transfer(ctx, ledger.Move(Client, r.Key(), o.From, o.To, o.Amount, o.Currency, desc))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("tx:%d", t.ID), nil
}

// refusal reports whether err is the customer's to fix (not enough money,
// a frozen account, a limit), as opposed to transient.
func refusal(err error) bool {
	switch bankbridge.ErrorKind(err) {
	case bankbridge.Unprocessable, bankbridge.Conflict, bankbridge.Invalid, bankbridge.NotFound, bankbridge.Forbidden:
		return true
	}
	return false
}

// Words says in plain words why a payment of o was refused.
func Words(err error, o Order) string {
	switch {
	case errors.Is(err, ledger.ErrInsufficientFunds):
		return "there was not enough money in the account it is paid from"
	case errors.Is(err, ledger.ErrAccountFrozen):
		return "the account it is paid from is frozen"
	case errors.Is(err, ledger.ErrAccountClosed):
		return "one of the accounts is closed"
	case errors.Is(err, ledger.ErrAccountNotFound), errors.Is(err, rails.ErrPayeeNotFound):
		return "the account or payee no longer exists"
	case errors.Is(err, limits.ErrDaily):
		return "it would have taken your payments of the last 24 hours past your daily limit"
	case errors.Is(err, limits.ErrPayee), errors.Is(err, limits.ErrNewPayee):
		return "it would have taken your payments to " + o.Label + " past the limit for one payee"
	case errors.Is(err, limits.ErrStepUp):
		return "your payments of the last 24 hours passed the amount that needs a code from your authenticator app, and this payment was not authorised with one when it was set up (edit it to authorise it)"
	}
	return bankbridge.ErrorMessage(err)
}

// WordsES is Words in Spanish.
func WordsES(err error, o Order) string {
	switch {
	case errors.Is(err, ledger.ErrInsufficientFunds):
		return "no había suficiente dinero en la cuenta de la que se paga"
	case errors.Is(err, ledger.ErrAccountFrozen):
		return "la cuenta de la que se paga está congelada"
	case errors.Is(err, ledger.ErrAccountClosed):
		return "una de las cuentas está cerrada"
	case errors.Is(err, ledger.ErrAccountNotFound), errors.Is(err, rails.ErrPayeeNotFound):
		return "la cuenta o el beneficiario ya no existe"
	case errors.Is(err, limits.ErrDaily):
		return "habría llevado tus pagos de las últimas 24 horas por encima de tu límite diario"
	case errors.Is(err, limits.ErrPayee), errors.Is(err, limits.ErrNewPayee):
		return "habría llevado tus pagos a " + o.Label + " por encima del límite por beneficiario"
	case errors.Is(err, limits.ErrStepUp):
		return "tus pagos de las últimas 24 horas superaron el importe que necesita un código de tu app de autenticación, y este pago no se autorizó con uno al programarlo (edítalo para autorizarlo)"
	}
	return "el banco no pudo hacerlo"
}

var monthsES = [...]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}

// dateES is "2 de marzo", a date as a Spanish sentence says it.
func dateES(t time.Time) string { return fmt.Sprintf("%d de %s", t.Day(), monthsES[t.Month()-1]) }

func (s *Service) tell(ctx context.Context, o Order, r Run, n Notice) {
	if s.o.Teller == nil {
		return
	}
	if err := s.o.Teller.Tell(ctx, o.Customer, r.Key(), n); err != nil {
		s.o.Logger.Warn("scheduled: could not tell the customer", "order", o.ID, "seq", r.Seq, "err", err)
	}
}
