package rails

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/moov-io/ach"
)

// Client is the ledger client every rails transfer is booked under; the
// keys under it are derived from payment ids and inbound traces.
const Client = "rails"

// SettlementNumber is the account number of the ACH settlement account the
// service opens when it does not exist: the bank's position with the ACH
// operator, an internal account that may go below zero.
const SettlementNumber ledger.AccountNumber = "900000000020"

// Transport is how files reach the ACH operator and come back: the four
// calls of an SFTP-style exchange. Send must be idempotent by name: the same
// name and body sent again (after a crash between sending and recording) is
// accepted and not processed twice; another body under a sent name is an
// error.
type Transport interface {
	Send(ctx context.Context, name string, body []byte) error
	// Settled reports whether the operator has settled a file sent.
	Settled(ctx context.Context, name string) (bool, error)
	// Inbox lists the files the operator holds for the bank.
	Inbox(ctx context.Context) ([]string, error)
	Get(ctx context.Context, name string) ([]byte, error)
	// Ack tells the operator a file was taken; it leaves the inbox.
	Ack(ctx context.Context, name string) error
}

// Options configure a Service.
type Options struct {
	Origin   Origin
	Schedule Schedule
	// Screener screens payee names; nil screens nothing (tests only:
	// serve always loads a list).
	Screener *Screener
	Now      func() time.Time
	Logger   *slog.Logger
	// Instant sends instant payments (PayInstant); nil: none are taken.
	Instant InstantTransport
	// OnChange is told each payment whose status changed, after the change
	// is stored (alerts, metrics). Optional; it must not block.
	OnChange func(Payment)
	// CoreOutbox, in mirror mode, is the folder the core takes payment
	// initiations from: credits leave there as pain.001 (ToCore) and not
	// in ACH files. Empty: own mode.
	CoreOutbox string
	// RetellAfter is how old an untold change must be before Retell tells
	// it (0: 30 s).
	RetellAfter time.Duration
}

// Service runs payments over the rails.
type Service struct {
	st  Store
	led *ledger.Service
	o   Options
}

// New returns a Service over st and the ledger.
func New(st Store, led *ledger.Service, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.RetellAfter <= 0 {
		o.RetellAfter = retellAfter
	}
	o.Origin = o.Origin.withDefaults()
	return &Service{st: st, led: led, o: o}
}

// Options returns the service's options.
func (s *Service) Options() Options { return s.o }

// Store returns the service's store.
func (s *Service) Store() Store { return s.st }

// Payees lists a customer's payees at other banks.
func (s *Service) Payees(ctx context.Context, c bankbridge.CustomerID) ([]Payee, error) {
	return s.st.Payees(ctx, c)
}

// PaymentByKey returns the payment a customer made on a channel under an
// idempotency key; ErrPaymentNotFound when none.
func (s *Service) PaymentByKey(ctx context.Context, c bankbridge.CustomerID, channel, key string) (Payment, error) {
	return s.st.PaymentByKey(ctx, c, channel, key)
}

// Origin returns who the bank is in its files.
func (s *Service) Origin() Origin { return s.o.Origin }

// Screener returns the sanctions screener.
func (s *Service) Screener() *Screener { return s.o.Screener }

// Settlement finds the ACH settlement account, opening it the first time.
// Instances opening it together are safe: the number is unique, and the
// loser finds the winner's.
func (s *Service) Settlement(ctx context.Context) (ledger.Account, error) {
	return s.internal(ctx, SettlementNumber, "ACH settlement")
}

// internal finds the bank's internal account of number, opening it under
// name the first time; of instances opening it together, the loser finds
// the winner's (the number is unique).
func (s *Service) internal(ctx context.Context, number ledger.AccountNumber, name string) (ledger.Account, error) {
	a, err := s.st.AccountByNumber(ctx, number)
	if err == nil || !errors.Is(err, ledger.ErrAccountNotFound) {
		return a, err
	}
	a, err = s.led.Store().CreateAccount(ctx, ledger.Account{Kind: ledger.Internal, Name: name, Currency: "USD",
		Status: ledger.Open, Number: number, Routing: s.o.Origin.Routing, Unbounded: true, OpenedAt: s.o.Now()})
	if errors.Is(err, ledger.ErrDuplicate) {
		return s.st.AccountByNumber(ctx, number)
	}
	return a, err
}

// AddPayee validates and saves an external payee, unverified.
func (s *Service) AddPayee(ctx context.Context, p Payee) (Payee, error) {
	if p.Type == "" {
		p.Type = Checking
	}
	if err := p.Validate(); err != nil {
		return Payee{}, err
	}
	p.Status, p.Created = PayeeUnverified, s.o.Now()
	return s.st.AddPayee(ctx, p)
}

// Verify sends a prenote to the payee's account: a zero-amount entry the
// receiving bank returns (R03, R04...) if the account is not good. The payee
// is verified once the file carrying it is settled without a return; the
// NACHA rules let the originator send live entries three banking days after
// a prenote (Operating Rules, Article Two, Subsection 2.6), which this bank
// shortens to the operator's confirmation because the emulator returns at
// once; with a real operator, set the payee's verification to wait.
func (s *Service) Verify(ctx context.Context, c bankbridge.CustomerID, id ledger.PayeeID) (Payment, error) {
	p, err := s.st.Payee(ctx, c, id)
	if err != nil {
		return Payment{}, err
	}
	if p.Status == PayeeVerifying {
		return Payment{}, ErrAlreadyPending
	}
	now := s.o.Now()
	pay := Payment{Customer: c, Payee: p.ID, Kind: KindPrenote, Channel: "rails", Key: fmt.Sprintf("prenote-%d-%d", p.ID, now.UnixMicro()),
		Currency: "USD", Name: p.Name, Routing: p.Routing, Number: p.Number, Type: p.Type, Status: StatusNew, Created: now, Updated: now}
	pay.Effective, pay.SameDay = s.o.Schedule.Effective(now, false)
	pay, _, err = s.st.CreatePayment(ctx, pay)
	if err != nil {
		return Payment{}, err
	}
	if err := s.st.UpdatePayee(ctx, p.ID, PayeeVerifying, "", "", "", ""); err != nil {
		return Payment{}, err
	}
	pay.Status = StatusAccepted
	if _, err := s.move(ctx, pay, StatusNew); err != nil {
		return Payment{}, err
	}
	return pay, nil
}

// PayRequest asks for a payment to an external payee.
type PayRequest struct {
	Customer bankbridge.CustomerID
	Payee    ledger.PayeeID
	From     ledger.AccountID
	Amount   ledger.Amount
	Memo     string
	SameDay  bool
	Channel  string // "web", "api", a chat platform
	Key      string // idempotency key, unique per customer and channel
}

// Pay accepts a payment: the payee's name is screened, the funds are held
// (a pending transfer to the settlement account), and the payment waits
// for the next file, or, on a sanctions hit, for a compliance officer. The
// same request again (same channel and key) returns the same payment and
// holds nothing more; the same key with another request is ErrKeyReused. A
// payment the ledger refuses (funds short, account frozen) is recorded as
// refused and its error returned. Limits and step-up are the channel's to
// apply before, as for transfers.
func (s *Service) Pay(ctx context.Context, r PayRequest) (Payment, error) {
	return s.pay(ctx, r, KindCredit)
}

// pay records, screens and holds a payment of kind.
func (s *Service) pay(ctx context.Context, r PayRequest, kind Kind) (Payment, error) {
	if r.Amount <= 0 {
		return Payment{}, ErrAmount
	}
	if r.SameDay && r.Amount > SameDayLimit {
		return Payment{}, ErrSameDayLimit
	}
	if len(r.Memo) > 80 {
		return Payment{}, bankbridge.E(bankbridge.Invalid, "memo_too_long", "the note is at most 80 characters")
	}
	p, err := s.st.Payee(ctx, r.Customer, r.Payee)
	if err != nil {
		return Payment{}, err
	}
	if p.Status == PayeeFailed {
		return Payment{}, ErrPayeeFailed
	}
	// Checked again here, not only when saved: a payee written another
	// way (a notification of change, an import) must not reach a file,
	// where one bad entry would stop the whole file.
	if err := errors.Join(CheckName(p.Name), CheckRouting(p.Routing), CheckAccountNumber(string(p.Number))); err != nil {
		return Payment{}, ErrPayeeFailed.WithMessage("the payee's details are not valid; check them, or add the payee again")
	}
	from, err := s.led.Store().Account(ctx, r.From)
	if err != nil || from.Customer != r.Customer {
		return Payment{}, ledger.ErrAccountNotFound
	}
	if from.Currency != "USD" {
		return Payment{}, ErrCurrency
	}
	settle, err := s.Settlement(ctx)
	if err != nil {
		return Payment{}, err
	}
	now := s.o.Now()
	pay := Payment{Customer: r.Customer, Payee: p.ID, Kind: kind, Channel: r.Channel, Key: r.Key, From: r.From, Amount: r.Amount,
		Currency: from.Currency, Name: p.Name, Routing: p.Routing, Number: p.Number, Type: p.Type, Memo: r.Memo, Status: StatusNew,
		Created: now, Updated: now}
	pay.Effective, pay.SameDay = s.o.Schedule.Effective(now, r.SameDay)
	if kind == KindInstant {
		pay.Effective, pay.SameDay = dateOf(now.In(eastern)), false // instant payments settle at once, any day
	}
	got, existed, err := s.st.CreatePayment(ctx, pay)
	if err != nil {
		return Payment{}, err
	}
	if existed && (got.Payee != pay.Payee || got.From != pay.From || got.Amount != pay.Amount || got.Memo != pay.Memo || got.Kind != kind) {
		return Payment{}, ErrKeyReused
	}
	pay = got
	if pay.Status != StatusNew {
		return pay, nil // a retry of a payment already accepted (or refused)
	}
	// The screen runs before money is held: a hit holds the funds too,
	// while a person looks.
	next := StatusAccepted
	if hit, ok := s.o.Screener.Screen(pay.Name); ok {
		next, pay.Screen = StatusHeld, fmt.Sprintf("SDN %s: %s", hit.Entry, hit.Name)
	}
	req := ledger.Request{Client: Client, Key: fmt.Sprintf("pay:%d", pay.ID), Currency: pay.Currency, Pending: true,
		Description: map[Kind]string{KindCredit: "ACH payment to ", KindInstant: "Instant payment to "}[kind] + pay.Name, Category: "transfer",
		Postings: []ledger.Posting{{Account: pay.From, Amount: -pay.Amount}, {Account: settle.ID, Amount: pay.Amount}}}
	t, _, err := s.led.Transfer(ctx, req)
	if err != nil {
		if k := bankbridge.ErrorKind(err); k == bankbridge.Unprocessable || k == bankbridge.Conflict || k == bankbridge.Invalid || k == bankbridge.NotFound {
			pay.Status, pay.Reason = StatusRefused, bankbridge.ErrorMessage(err)
			if _, merr := s.move(ctx, pay, StatusNew); merr != nil {
				return Payment{}, merr
			}
		}
		// Unavailable: the payment stays new; the same key again resumes it.
		return pay, err
	}
	pay.Status, pay.Hold = next, t.ID
	if _, err := s.move(ctx, pay, StatusNew); err != nil {
		return Payment{}, err
	}
	return pay, nil
}

// Release lets a payment held by the screen go: a compliance officer found
// the hit false. The funds stay held and the payment leaves with the next file.
func (s *Service) Release(ctx context.Context, id PaymentID) (Payment, error) {
	p, err := s.st.Payment(ctx, id)
	if err != nil {
		return Payment{}, err
	}
	p.Status = StatusAccepted
	ok, err := s.move(ctx, p, StatusHeld)
	if err != nil {
		return Payment{}, err
	}
	if !ok {
		return Payment{}, ErrNotHeld
	}
	return p, nil
}

// Reject refuses a payment held by the screen: the hold is voided and no
// money leaves.
func (s *Service) Reject(ctx context.Context, id PaymentID, reason string) (Payment, error) {
	p, err := s.st.Payment(ctx, id)
	if err != nil {
		return Payment{}, err
	}
	if p.Status != StatusHeld {
		return Payment{}, ErrNotHeld
	}
	if err := s.void(ctx, p.Hold); err != nil {
		return Payment{}, err
	}
	p.Status, p.Reason = StatusRefused, "stopped by the bank's compliance review"
	if reason != "" {
		p.Reason += ": " + reason
	}
	if ok, err := s.move(ctx, p, StatusHeld); err != nil || !ok {
		if err == nil {
			err = ErrNotHeld
		}
		return Payment{}, err
	}
	return p, nil
}

// void releases a hold; one already voided is fine (a retry).
func (s *Service) void(ctx context.Context, id ledger.TransferID) error {
	return s.finish(ctx, id, s.led.Void, ledger.Voided)
}

// post turns a hold into a movement; one already posted is fine (a retry).
func (s *Service) post(ctx context.Context, id ledger.TransferID) error {
	return s.finish(ctx, id, s.led.Post, ledger.Posted)
}

// finish ends hold id by do; a hold no longer pending is fine when it
// already ended as want (a retry), an error otherwise. No hold (0) is
// nothing to do.
func (s *Service) finish(ctx context.Context, id ledger.TransferID, do func(context.Context, ledger.TransferID) (ledger.Transfer, error), want ledger.TransferStatus) error {
	if id == 0 {
		return nil
	}
	_, err := do(ctx, id)
	if errors.Is(err, ledger.ErrNotPending) {
		t, terr := s.led.Store().Transfer(ctx, id)
		if terr != nil {
			return terr
		}
		if t.Status == want {
			return nil
		}
	}
	return err
}

// move stores a status change and tells OnChange. The change is stored
// untold and marked told after OnChange: if this instance dies in
// between, Retell tells it later.
func (s *Service) move(ctx context.Context, p Payment, from ...Status) (bool, error) {
	p.Updated = s.o.Now()
	ok, err := s.st.MovePayment(ctx, p, from...)
	if err == nil && ok {
		s.tell(ctx, p)
	}
	return ok, err
}

func (s *Service) tell(ctx context.Context, p Payment) {
	if s.o.OnChange != nil {
		s.o.OnChange(p)
	}
	if err := s.st.Told(context.WithoutCancel(ctx), p.ID, p.Status); err != nil {
		s.o.Logger.Warn("rails: recording a change told", "payment", p.ID, "err", err)
	}
}

// retellAfter is how old an untold change must be before Retell tells it:
// far longer than telling takes, so it is one whose instance died.
const retellAfter = 30 * time.Second

// Retell tells the status changes whose instance died between storing and
// telling them (at most 100 a call), as they are now: a payment that moved
// twice meanwhile is told its latest status. OnChange's hooks are
// idempotent per payment and status (alert ids and partner event ids are
// derived from them), so a change told twice is one alert, one event.
func (s *Service) Retell(ctx context.Context) (int, error) {
	ps, err := s.st.Untold(ctx, s.o.Now().Add(-s.o.RetellAfter), 100)
	if err != nil {
		return 0, err
	}
	for _, p := range ps {
		s.o.Logger.Info("rails: telling a change its instance did not", "payment", p.ID, "status", p.Status)
		s.tell(ctx, p)
	}
	return len(ps), nil
}

// fileName names an outbound file: the date and the file's id, so that a
// file built again after a crash keeps its name.
func fileName(at time.Time, id FileID) string {
	return fmt.Sprintf("ACH-%s-%06d.ach", at.UTC().Format("20060102"), int64(id))
}

// modifier is the File ID Modifier: A-Z then 0-9, by file id (NACHA
// Operating Rules, Appendix Three, File Header Record, field 8).
func modifier(id FileID) string {
	const set = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	return string(set[int64(id)%int64(len(set))])
}

// Originate builds one file of every accepted payment (up to 10,000
// entries) and records it with them, in one transaction. It returns the
// zero File when nothing is due.
func (s *Service) Originate(ctx context.Context) (File, error) {
	kinds := []Kind{KindCredit, KindPrenote, KindReturn, KindDebit, KindDebitReturn, KindDishonor, KindContest}
	if s.o.CoreOutbox != "" {
		kinds = kinds[1:] // credits leave through the core (ToCore)
	}
	due, err := s.st.Payments(ctx, PaymentQuery{Kinds: kinds, Status: []Status{StatusAccepted}, Limit: 10_000})
	if err != nil || len(due) == 0 {
		return File{}, err
	}
	ids := make([]PaymentID, len(due))
	for i, p := range due {
		ids[i] = p.ID
	}
	now := s.o.Now()
	return s.st.CreateFile(ctx, ids, now, func(id FileID, ps []Payment) (File, error) {
		for i := range ps {
			ps[i].Trace = Trace(s.o.Origin.Routing, ps[i].ID)
		}
		body, err := BuildFile(s.o.Origin, now, modifier(id), ps)
		if err != nil {
			return File{}, err
		}
		f := File{ID: id, Direction: DirOut, Name: fileName(now, id), Body: body, Hash: sha256.Sum256(body), Status: FileBuilt, Entries: len(ps), Created: now}
		for _, p := range ps {
			f.Total += p.Amount
		}
		return f, nil
	})
}

// Send hands every built file to the operator and records it sent. A crash
// between the two sends the file again on the next run, which the operator
// takes as the same file (Transport.Send is idempotent by name), so a file
// is neither lost nor doubled.
func (s *Service) Send(ctx context.Context, tr Transport) (int, error) {
	fs, err := s.st.Files(ctx, FileQuery{Direction: DirOut, Status: []FileStatus{FileBuilt}, Limit: 100})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, meta := range fs {
		f, err := s.st.File(ctx, meta.ID)
		if err != nil {
			return n, err
		}
		if err := tr.Send(ctx, f.Name, f.Body); err != nil {
			return n, fmt.Errorf("rails: send %s: %w", f.Name, err)
		}
		if _, err := s.st.MoveFile(ctx, f.ID, FileBuilt, FileSent, s.o.Now()); err != nil {
			return n, err
		}
		if err := s.moveFile(ctx, f.ID, StatusBatched, StatusSent); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// moveFile moves every payment of a file from one status to another.
func (s *Service) moveFile(ctx context.Context, id FileID, from, to Status) error {
	ps, err := s.st.Payments(ctx, PaymentQuery{File: id, Status: []Status{from}, Limit: 10_000})
	if err != nil {
		return err
	}
	for _, p := range ps {
		p.Status = to
		if _, err := s.move(ctx, p, from); err != nil {
			return err
		}
	}
	return nil
}

// Confirm asks the operator about every file sent, and settles those it
// settled: each payment's hold is posted (the money has left), each
// prenote's payee is verified. A crash half-way is finished by the next run:
// the file stays sent until all its payments are settled.
func (s *Service) Confirm(ctx context.Context, tr Transport) (int, error) {
	fs, err := s.st.Files(ctx, FileQuery{Direction: DirOut, Status: []FileStatus{FileSent}, Limit: 100})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range fs {
		ok, err := tr.Settled(ctx, f.Name)
		if err != nil {
			return n, fmt.Errorf("rails: ask about %s: %w", f.Name, err)
		}
		if !ok {
			continue
		}
		if err := s.settleFile(ctx, f.ID); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (s *Service) settleFile(ctx context.Context, id FileID) error {
	ps, err := s.st.Payments(ctx, PaymentQuery{File: id, Status: []Status{StatusBatched, StatusSent}, Limit: 10_000})
	if err != nil {
		return err
	}
	for _, p := range ps {
		if p.Kind == KindPrenote {
			pe, err := s.st.Payee(ctx, p.Customer, p.Payee)
			if err == nil && pe.Status == PayeeVerifying {
				if err := s.st.UpdatePayee(ctx, p.Payee, PayeeVerified, "", "", "", ""); err != nil {
					return err
				}
			}
		} else if isException(p.Kind) {
			if err := s.settleException(ctx, p); err != nil {
				return err
			}
		} else if p.Kind == KindDebit {
			id, err := s.creditDebit(ctx, p)
			if err != nil {
				return err
			}
			p.Hold = id
		} else if err := s.post(ctx, p.Hold); err != nil {
			return err
		}
		from := p.Status
		p.Status = StatusSettled
		if _, err := s.move(ctx, p, from); err != nil {
			return err
		}
	}
	_, err = s.st.MoveFile(ctx, id, FileSent, FileConfirmed, s.o.Now())
	return err
}

// Receive takes every file the operator holds for the bank, processes it
// and acknowledges it. A file that cannot be read is recorded with its error
// and acknowledged: it is for an operator, and retrying cannot mend it.
func (s *Service) Receive(ctx context.Context, tr Transport) (int, error) {
	names, err := tr.Inbox(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		body, err := tr.Get(ctx, name)
		if err != nil {
			return n, err
		}
		if _, err := s.Process(ctx, name, body); err != nil && bankbridge.ErrorKind(err) != bankbridge.Invalid && bankbridge.ErrorKind(err) != bankbridge.Conflict {
			return n, err
		}
		if err := tr.Ack(ctx, name); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Summary is what processing an inbound file did.
type Summary struct {
	File      File
	Duplicate bool // the file was processed before: nothing changed now
	Returned  int
	Changed   int
	Credited  int
	Debited   int // inbound debits posted or returned
	Unmatched int
	// Dishonored counts returns the bank dishonoured and dishonours of
	// its returns it contested or accepted (dishonor.go).
	Dishonored int
}

// Process applies an inbound file: returns give the money back (or release
// the hold), notifications of change correct the payee, credits post to the
// customer's account. The file is read and checked whole first: a file
// that fails is recorded with its error (ErrFile) and nothing is posted.
// Each entry is applied under a key of its own, so a file processed twice
// (or resumed after a crash) changes nothing the second time.
func (s *Service) Process(ctx context.Context, name string, body []byte) (Summary, error) {
	now := s.o.Now()
	f := File{Direction: DirIn, Name: name, Body: body, Hash: sha256.Sum256(body), Status: FileReceived, Created: now}
	in, perr := ParseFile(body)
	if perr != nil {
		f.Status, f.Error = FileProcessed, bankbridge.ErrorMessage(perr)
	} else {
		f.Entries, f.Total = in.Entries, in.Total
	}
	got, existed, err := s.st.ReceiveFile(ctx, f)
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{File: got}
	if perr != nil {
		return sum, perr
	}
	if existed && got.Status == FileProcessed {
		sum.Duplicate = true
		return sum, nil
	}
	settle, err := s.Settlement(ctx)
	if err != nil {
		return sum, err
	}
	for _, r := range in.Returns {
		if err := s.applyReturn(ctx, got, r, settle, &sum); err != nil {
			return sum, err
		}
	}
	for _, c := range in.Changes {
		if err := s.applyChange(ctx, got, c, &sum); err != nil {
			return sum, err
		}
	}
	for _, c := range in.Credits {
		if err := s.applyCredit(ctx, got, c, settle, &sum); err != nil {
			return sum, err
		}
	}
	for _, c := range in.Debits {
		if err := s.applyDebit(ctx, got, c, settle, &sum); err != nil {
			return sum, err
		}
	}
	for _, d := range in.Dishonors {
		if err := s.applyDishonor(ctx, got, d, &sum); err != nil {
			return sum, err
		}
	}
	for _, c := range in.Contests {
		if err := s.applyContest(ctx, got, c, settle, &sum); err != nil {
			return sum, err
		}
	}
	for _, c := range in.Refused {
		e := Entry{File: got.ID, Trace: c.Trace, Kind: EntryCredit, Status: EntryUnmatched, Amount: c.Amount, Name: c.Company,
			Detail: fmt.Sprintf("transaction code %d is not taken here", c.Code), At: now}
		if _, err := s.st.AddEntry(ctx, e); err != nil {
			return sum, err
		}
		sum.Unmatched++
	}
	_, err = s.st.MoveFile(ctx, got.ID, FileReceived, FileProcessed, now)
	sum.File.Status = FileProcessed
	return sum, err
}

func (s *Service) applyReturn(ctx context.Context, f File, r Return, settle ledger.Account, sum *Summary) error {
	now := s.o.Now()
	e := Entry{File: f.ID, Trace: r.Key(), Kind: EntryReturn, Status: EntryPosted, Amount: r.Amount, Code: r.Code, At: now}
	p, err := s.st.PaymentByTrace(ctx, r.Trace)
	if err != nil && !errors.Is(err, ErrPaymentNotFound) {
		return err
	}
	// A return that is misrouted, wrong, unasked for, a duplicate or
	// untimely is dishonoured, not applied (dishonor.go).
	if code, why, derr := s.dishonorFor(ctx, f, r, p, err == nil); derr != nil {
		return derr
	} else if code != "" {
		return s.dishonorReturn(ctx, f, r, p, err == nil, code, why, sum)
	}
	e.Customer, e.Account, e.Payment = p.Customer, p.From, p.ID
	words := ReturnWords(r.Code)
	move := false
	switch p.Status {
	case StatusReturned:
		// Applied before: a run resumed after a crash (dishonorFor found
		// no other return that applied it). The entry names the booking.
		e.Transfer = p.Reversal
	case StatusSettled:
		move = true
		if p.Kind == KindDebit {
			q, err := s.returnDebit(ctx, p, r.Code, words, settle)
			if err != nil {
				return err
			}
			p, move, e.Transfer = q, false, q.Reversal
			break
		}
		if p.Kind == KindPrenote {
			break
		}
		// The money left: give it back from the settlement account.
		t, _, err := s.led.Transfer(ctx, ledger.Request{Client: Client, Key: fmt.Sprintf("ret:%d", p.ID), Currency: p.Currency,
			Description: "Returned: payment to " + p.Name + " (" + words + ")", Category: "transfer",
			Postings: []ledger.Posting{{Account: settle.ID, Amount: -p.Amount}, {Account: p.From, Amount: p.Amount}}})
		if err != nil {
			return err
		}
		p.Reversal, e.Transfer = t.ID, t.ID
	case StatusBatched, StatusSent:
		// Returned before it settled: the hold is released.
		move = true
		if err := s.void(ctx, p.Hold); err != nil {
			return err
		}
	default:
		e.Status, e.Detail = EntryUnmatched, "the payment was not sent (status "+string(p.Status)+")"
	}
	if move {
		from := p.Status
		p.Status, p.ReturnCode, p.Reason = StatusReturned, r.Code, words
		if _, err := s.move(ctx, p, from); err != nil {
			return err
		}
	}
	if p.Kind == KindPrenote && e.Status == EntryPosted {
		if err := s.st.UpdatePayee(ctx, p.Payee, PayeeFailed, "The other bank could not take payments to this account: "+words+".", "", "", ""); err != nil {
			return err
		}
	}
	if e.Status == EntryUnmatched {
		sum.Unmatched++
	} else {
		sum.Returned++
	}
	_, err = s.st.AddEntry(ctx, e)
	return err
}

// applyChange applies a notification of change to the payee: the codes and
// where the corrected data sits in the addenda are those of the NACHA
// Operating Rules, Appendix Five, Table of Change Codes (C01 account number
// in positions 1-17, C02 routing number in 1-9, C03 routing 1-9 and
// account 13-29, C05 transaction code 1-2, C06 account 1-17 and
// transaction code 21-22).
func (s *Service) applyChange(ctx context.Context, f File, c Change, sum *Summary) error {
	now := s.o.Now()
	e := Entry{File: f.ID, Trace: c.Trace, Kind: EntryChange, Status: EntryPosted, Code: c.Code, At: now}
	p, err := s.st.PaymentByTrace(ctx, c.Trace)
	if errors.Is(err, ErrPaymentNotFound) {
		e.Status, e.Detail = EntryUnmatched, "no payment was sent with this trace number"
		sum.Unmatched++
		_, err = s.st.AddEntry(ctx, e)
		return err
	}
	if err != nil {
		return err
	}
	e.Customer, e.Payment = p.Customer, p.ID
	d := fmt.Sprintf("%-29s", c.Corrected)
	var routing, detail string
	var number ledger.AccountNumber
	var typ AccountType
	txType := func(code string) AccountType {
		if code == "32" || code == "33" {
			return Savings
		}
		return Checking
	}
	switch c.Code {
	case "C01":
		number, detail = ledger.AccountNumber(trim(d[0:17])), "The other bank corrected the account number."
	case "C02":
		routing, detail = trim(d[0:9]), "The other bank corrected the routing number."
	case "C03":
		routing, number, detail = trim(d[0:9]), ledger.AccountNumber(trim(d[12:29])), "The other bank corrected the routing and account numbers."
	case "C05":
		typ, detail = txType(trim(d[0:2])), "The other bank corrected the account type."
	case "C06":
		number, typ, detail = ledger.AccountNumber(trim(d[0:17])), txType(trim(d[20:22])), "The other bank corrected the account number and type."
	default:
		e.Detail = "change code " + c.Code + " noted; nothing corrected automatically"
	}
	if routing != "" && CheckRouting(routing) != nil || number != "" && CheckAccountNumber(string(number)) != nil {
		e.Status, e.Detail, detail = EntryUnmatched, "the corrected data is not valid", ""
	}
	if detail != "" {
		pe, err := s.st.Payee(ctx, p.Customer, p.Payee)
		if err == nil {
			if err := s.st.UpdatePayee(ctx, p.Payee, pe.Status, detail, routing, number, typ); err != nil {
				return err
			}
		} else if !errors.Is(err, ErrPayeeNotFound) {
			return err
		}
		e.Detail = detail
	}
	sum.Changed++
	_, err = s.st.AddEntry(ctx, e)
	return err
}

func trim(s string) string {
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	return s
}

func (s *Service) applyCredit(ctx context.Context, f File, c Credit, settle ledger.Account, sum *Summary) error {
	now := s.o.Now()
	e := Entry{File: f.ID, Trace: c.Trace, Kind: EntryCredit, Status: EntryPosted, Amount: c.Amount, Name: c.Company, At: now}
	a, err := s.st.AccountByNumber(ctx, ledger.AccountNumber(c.Account))
	switch {
	case c.Routing != s.o.Origin.Routing:
		e.Status, e.Detail = EntryUnmatched, "the entry is for another bank ("+c.Routing+")"
	case errors.Is(err, ledger.ErrAccountNotFound) || err == nil && (a.Customer == 0 || a.Status == ledger.Closed):
		// Returned to the originator in the next file: R02 for a closed
		// account, R03 for none (NACHA Operating Rules, Appendix Four).
		// Nothing is posted here; the return gives the operator's money back.
		code, why := "R03", "no account has this number"
		if err == nil && a.Status == ledger.Closed {
			code, why = "R02", "the account is closed"
		}
		e.Status, e.Code = EntryUnmatched, code
		ret, rerr := s.returnEntry(ctx, f.Name, c, code, KindReturn)
		if rerr != nil {
			return rerr
		}
		e.Payment, e.Detail = ret.ID, why+"; returned "+code+" as ACH-"+strconv.FormatInt(int64(ret.ID), 10)
	case err != nil:
		return err
	default:
		e.Customer, e.Account = a.Customer, a.ID
		who := c.Company
		if who == "" {
			who = "ACH"
		}
		t, _, err := s.led.Transfer(ctx, ledger.Request{Client: Client, Key: "in:" + f.Name + ":" + c.Trace, Currency: a.Currency,
			Description: "ACH credit from " + who, Category: "income",
			Postings: []ledger.Posting{{Account: settle.ID, Amount: -c.Amount}, {Account: a.ID, Amount: c.Amount}}})
		if err != nil {
			return err
		}
		e.Transfer = t.ID
	}
	if e.Status == EntryUnmatched {
		sum.Unmatched++
	} else {
		sum.Credited++
	}
	_, err = s.st.AddEntry(ctx, e)
	return err
}

// returnEntry records the return of an inbound entry the bank does not
// post (a credit, or with KindDebitReturn a debit), as an outbound entry
// for the next file: to the original ODFI (the first eight digits of the
// entry's trace, with their check digit), naming the original trace, with
// the amount received. It is keyed by the inbound file and trace, so
// processing the file again records it once.
func (s *Service) returnEntry(ctx context.Context, file string, c Credit, code string, kind Kind) (Payment, error) {
	now := s.o.Now()
	odfi := c.Trace[:8]
	name := c.Name
	if CheckName(name) != nil {
		name = "RECEIVER"
	}
	p := Payment{Kind: kind, Channel: Client, Key: "ret:" + file + ":" + c.Trace, Amount: c.Amount, Currency: "USD",
		Name: name, Routing: odfi + strconv.Itoa(ach.CalculateCheckDigit(odfi)), Number: ledger.AccountNumber(c.Account), Type: Checking,
		Memo: c.Trace, ReturnCode: code, Reason: ReturnWords(code), Status: StatusNew, Created: now, Updated: now}
	if c.Code == ach.SavingsCredit || c.Code == ach.SavingsDebit {
		p.Type = Savings
	}
	return s.queueEntry(ctx, p, now)
}

// queueEntry records p, an entry the bank answers an inbound one with (a
// return, a dishonour, a contest), once by its key, and accepts it for the
// next file, effective as soon as the schedule allows after now. A retry
// that finds it recorded and past new returns it as it is.
func (s *Service) queueEntry(ctx context.Context, p Payment, now time.Time) (Payment, error) {
	p.Effective, p.SameDay = s.o.Schedule.Effective(now, false)
	got, existed, err := s.st.CreatePayment(ctx, p)
	if err != nil || existed && got.Status != StatusNew {
		return got, err
	}
	got.Status = StatusAccepted
	_, err = s.move(ctx, got, StatusNew)
	return got, err
}

// Run is the worker: every period it builds a file of what is due, sends
// built files, asks about sent ones and takes the operator's files, until
// ctx ends. It runs on one instance of the fleet (under a lease): files are
// few and ordered, and the store's compare-and-set keeps even two runners
// from doubling anything.
func (s *Service) Run(ctx context.Context, tr Transport, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		if err := s.Cycle(ctx, tr); err != nil && ctx.Err() == nil {
			s.o.Logger.Warn("rails: cycle", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Cycle runs one round of the worker: in mirror mode payments to the
// core first, then originate, send, confirm, receive.
func (s *Service) Cycle(ctx context.Context, tr Transport) error {
	if _, err := s.ToCore(ctx); err != nil {
		return err
	}
	if _, err := s.Originate(ctx); err != nil {
		return err
	}
	if _, err := s.Send(ctx, tr); err != nil {
		return err
	}
	if _, err := s.Confirm(ctx, tr); err != nil {
		return err
	}
	if _, err := s.Receive(ctx, tr); err != nil {
		return err
	}
	if _, err := s.FinishResolutions(ctx); err != nil {
		return err
	}
	if _, err := s.Recover(ctx); err != nil {
		return err
	}
	if _, err := s.Retell(ctx); err != nil {
		return err
	}
	if it, ok := tr.(InstantTransport); ok {
		if _, err := s.Instants(ctx, it); err != nil {
			return err
		}
	}
	if ib, ok := tr.(InstantInbox); ok && s.o.Instant != nil {
		if _, err := s.ISOInbox(ctx, ib); err != nil {
			return err
		}
	}
	return nil
}
