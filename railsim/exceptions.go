package railsim

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/moov-io/ach"
	"github.com/moov-io/base"
)

// Dishonoured and contested returns, the other side's part (NACHA
// Operating Rules, Article Two, Subsection 2.13.6 and Appendix Four: an ODFI
// dishonours a return within five banking days after the return's
// Settlement Date, R61-R70; the RDFI contests within two banking days after
// the dishonour's, R71-R77; a contest is final in the network).
//
// The emulator plays the receiving banks behind the operator:
//
//   - Scenario account 8888888888: the entry settles, and the receiving bank
//     returns it R03 late, once its return window (two banking days after
//     settlement) has closed by the emulator's clock.
//   - Scenario account 9999999999: the entry is returned R03 twice, in two
//     files (a duplicate return); 9999999990 twice in one file.
//   - SendReturn (POST /ach/{routing}/returns, and the page) returns any
//     entry the bank sent, now, with any code, or a trace the bank never
//     sent (a misrouted return), or with another amount (a field error).
//   - Dishonor (POST /ach/{routing}/dishonors, and the page) dishonours a
//     return the bank sent; a return of the emulator's credit or debit
//     that reaches it after its window is dishonoured R68 by itself.
//   - Correct (POST /ach/{routing}/corrections, and the page) answers the
//     bank's dishonour R69 of a return the emulator sent with a wrong
//     amount, which it accepted, with a corrected return: R74, in the
//     format of a contested dishonoured return (Addenda99Contested), within
//     two banking days after the dishonour settled, carrying the entry's
//     amount (or another, a correction still wrong), once.
//
// It takes the bank's dishonours and contests strictly: each must name a
// return (or dishonour) the emulator sent to that bank, with its original
// trace, amount, transaction code, return code and receiving DFI, once,
// and an R69 must name the fields its return got wrong by NACHA's
// field-error codes (checkR69Fields); anything else refuses the whole file
// (400, naming the entry and field),
// as the operator's edits would. A dishonour it finds justified it accepts
// (the money moves); one that is not, it contests: R72 past five banking
// days, R73 a timely return, R75 not a duplicate, R76 no error, R77 R62.

// Scenario accounts of late and duplicate returns.
const (
	LateAccount            = "8888888888"
	DuplicateAccount       = "9999999999"
	DuplicateInFileAccount = "9999999990"
)

// exceptions is one bank's returns, dishonours and contests, both ways.
type exceptions struct {
	returns     map[string]*simReturn // the emulator's returns to the bank, by their trace
	byOrig      map[string][]string   // their traces by the original entry's
	dishonors   map[string]*simReturn // the emulator's dishonours of the bank's returns, by trace
	bankReturns map[string]*simReturn // the bank's returns of the emulator's entries, by trace
	received    map[string]*received  // the bank's dishonours of the emulator's returns, by trace
	forward     map[string]time.Time  // the emulator's credits and debits to the bank, by trace: when sent
	late        []lateReturn          // scenario returns waiting for their window to close
	queue       []xitem               // entries for the next file to the bank
	log         []string              // what happened, for the page
}

// simReturn is a return (or a dishonour) one side sent.
type simReturn struct {
	trace, orig, code string
	amount            int64
	tx                int
	account, name     string
	rdfi              string // the original entry's receiving bank (routing)
	sent              time.Time
	entryAmount       int64     // the returned entry's amount
	origSettled       time.Time // zero: no such original entry (misrouted)
	fieldError        bool      // sent with another amount than the entry's
	returnTrace       string    // a dishonour: the return it dishonours
	returnCode        string
	answered          bool // dishonoured (a return) or contested (a dishonour) already
}

// received is a dishonour the bank sent of a return of the emulator's.
type received struct {
	trace, code string
	r           *simReturn // the return it dishonoured
	settled     time.Time
	answered    bool            // contested, or corrected
	fields      map[string]bool // an R69: the field-error codes it named
}

type lateReturn struct {
	due time.Time
	it  xitem
	r   *simReturn
}

// xitem is one entry of an exception file to the bank.
type xitem struct {
	tx            int
	account, name string
	amount        int64
	a99           *ach.Addenda99
	dis           *ach.Addenda99Dishonored
	con           *ach.Addenda99Contested
	what          string
}

func (b *bank) x() *exceptions {
	if b.exc == nil {
		b.exc = &exceptions{returns: map[string]*simReturn{}, byOrig: map[string][]string{}, dishonors: map[string]*simReturn{},
			bankReturns: map[string]*simReturn{}, received: map[string]*received{}, forward: map[string]time.Time{}}
	}
	return b.exc
}

// nextTrace is a trace number of the emulator's, unique across its files.
func (s *Sim) nextTrace() string {
	s.traces++
	return Routing[:8] + fmt.Sprintf("%07d", s.traces)
}

// eastern is the time zone of the NACHA deadlines.
var eastern = func() *time.Location {
	l, err := time.LoadLocation("America/New_York")
	if err != nil {
		return time.FixedZone("EST", -5*3600)
	}
	return l
}()

// afterBankingDays is the end (Eastern) of the n-th banking day after t.
func afterBankingDays(t time.Time, n int) time.Time {
	et := t.In(eastern)
	day := base.NewTime(time.Date(et.Year(), et.Month(), et.Day(), 0, 0, 0, 0, eastern)).AddBankingDay(n).Time
	return time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, eastern).AddDate(0, 0, 1).Add(-time.Nanosecond)
}

// returnDeadline is when a return of code of an entry settled at t must
// have reached the originator: two banking days, or sixty calendar days
// for the unauthorised codes (NACHA Operating Rules, Appendix Four).
func returnDeadline(code string, t time.Time) time.Time {
	switch code {
	case "R05", "R07", "R10", "R11", "R29", "R51":
		et := t.In(eastern)
		return time.Date(et.Year(), et.Month(), et.Day(), 0, 0, 0, 0, eastern).AddDate(0, 0, 61).Add(-time.Nanosecond)
	}
	return afterBankingDays(t, 2)
}

func julian(t time.Time) string { return fmt.Sprintf("%03d", t.In(eastern).YearDay()) }

// returnCodeOf is the Transaction Code of the return (or notification of
// change) of an entry of code (NACHA Operating Rules, Appendix Three).
func returnCodeOf(code int) int {
	switch {
	case code == ach.SavingsDebit:
		return ach.SavingsReturnNOCDebit
	case isDebit(code):
		return ach.CheckingReturnNOCDebit
	case code == ach.SavingsCredit || code == ach.SavingsPrenoteCredit:
		return ach.SavingsReturnNOCCredit
	}
	return ach.CheckingReturnNOCCredit
}

// sentBy is how an entry the emulator sends moves the bank's position: a
// credit's return (21, 31) pays the bank, a debit's (26, 36) takes from it.
func sentBy(tx int, amount int64) int64 {
	if isDebit(tx) {
		return amount
	}
	return -amount
}

// returnItem makes a return of entry e (settled at settled) with code,
// for sendReturn to record and queue. Called with s.mu held.
func (s *Sim) returnItem(b *bank, e entry, settled time.Time, code string, amount int64) (xitem, *simReturn) {
	r := &simReturn{trace: s.nextTrace(), orig: e.trace, code: code, amount: amount, tx: returnCodeOf(e.code), account: e.account,
		name: e.name, rdfi: e.routing, entryAmount: e.amount, origSettled: settled, fieldError: amount != e.amount}
	a := ach.NewAddenda99()
	a.ReturnCode, a.OriginalTrace, a.OriginalDFI, a.TraceNumber = code, e.trace, e.routing[:8], r.trace
	return xitem{tx: r.tx, account: e.account, name: e.name, amount: amount, a99: a, what: "return " + code + " of " + e.trace}, r
}

// sendReturn queues a return for the next file to the bank now. Called
// with s.mu held.
func (s *Sim) sendReturn(b *bank, it xitem, r *simReturn) {
	x := b.x()
	r.sent = s.o.Now()
	x.returns[r.trace] = r
	x.byOrig[r.orig] = append(x.byOrig[r.orig], r.trace)
	b.position += sentBy(r.tx, r.amount)
	x.queue = append(x.queue, it)
}

// flush sends the queued exception entries to the bank in one file.
// Called with s.mu held.
func (s *Sim) flush(routing string, b *bank) {
	x := b.x()
	if len(x.queue) == 0 {
		return
	}
	items := x.queue
	x.queue = nil
	body, err := s.exceptionFile(routing, s.o.Now(), items)
	whats := make([]string, len(items))
	for i, it := range items {
		whats[i] = it.what
	}
	s.queue(routing, b, "EXC", strings.Join(whats, "; "), body, err)
}

// exceptionFile builds a file of returns, dishonours and contests to the
// bank: one PPD batch, service class 200 (mixed), each entry with its
// addenda, traces ascending.
func (s *Sim) exceptionFile(to string, at time.Time, items []xitem) ([]byte, error) {
	f := fileFor(to, at)
	bh := ach.NewBatchHeader()
	bh.ServiceClassCode = ach.MixedDebitsAndCredits
	bh.CompanyName = "RAILSIM RDFI"
	bh.CompanyIdentification = "9" + Routing
	bh.CompanyEntryDescription = "RETURN"
	bh.StandardEntryClassCode = ach.PPD
	bh.EffectiveEntryDate = at.Format("060102")
	bh.ODFIIdentification = Routing[:8]
	b := ach.NewBatchPPD(bh)
	for _, it := range items {
		ed := ach.NewEntryDetail()
		ed.TransactionCode = it.tx
		ed.SetRDFI(to)
		ed.DFIAccountNumber, ed.Amount, ed.IndividualName = it.account, int(it.amount), it.name
		ed.AddendaRecordIndicator = 1
		switch {
		case it.a99 != nil:
			ed.TraceNumber, ed.Addenda99, ed.Category = it.a99.TraceNumber, it.a99, ach.CategoryReturn
		case it.dis != nil:
			ed.TraceNumber, ed.Addenda99Dishonored, ed.Category = it.dis.TraceNumber, it.dis, ach.CategoryDishonoredReturn
		default:
			ed.TraceNumber, ed.Addenda99Contested, ed.Category = it.con.TraceNumber, it.con, ach.CategoryDishonoredReturnContested
		}
		b.AddEntry(ed)
	}
	return write(f, b)
}

// released queues the late scenario returns whose time has come. Called
// with s.mu held.
func (s *Sim) released(routing string, b *bank) {
	if b.exc == nil {
		return
	}
	x, now := b.exc, s.o.Now()
	var wait []lateReturn
	for _, l := range x.late {
		if now.After(l.due) {
			s.sendReturn(b, l.it, l.r)
			x.log = append(x.log, "late return "+l.r.code+" of "+l.r.orig+" sent")
		} else {
			wait = append(wait, l)
		}
	}
	x.late = wait
	s.flush(routing, b)
}

// scenario applies the late and duplicate scenarios to an entry that
// settled; false when the account is not one of theirs. Called with s.mu
// held.
func (s *Sim) scenario(routing string, b *bank, f *file, e *entry) bool {
	switch e.account {
	case LateAccount:
		it, r := s.returnItem(b, *e, f.settled, "R03", e.amount)
		// The window closes at the end of the second banking day after
		// settlement; the return comes an hour later.
		b.x().late = append(b.x().late, lateReturn{due: returnDeadline("R03", f.settled).Add(time.Hour), it: it, r: r})
		e.outcome = "settled; returned R03 late"
	case DuplicateAccount:
		for range 2 { // in two files
			it, r := s.returnItem(b, *e, f.settled, "R03", e.amount)
			s.sendReturn(b, it, r)
			s.flush(routing, b)
		}
		e.outcome = "returned R03 twice"
	case DuplicateInFileAccount:
		for range 2 { // in one file: settle flushes them together
			it, r := s.returnItem(b, *e, f.settled, "R03", e.amount)
			s.sendReturn(b, it, r)
		}
		e.outcome = "returned R03 twice in one file"
	default:
		return false
	}
	b.position += sign(e.code) * e.amount // it settled before it came back
	return true
}

func sign(code int) int64 {
	if isDebit(code) {
		return -1
	}
	return 1
}

// checkExceptions reads the dishonours and contests of a file the bank
// sent, strictly, before the file is taken. Called with s.mu held.
func (s *Sim) checkExceptions(b *bank, af ach.File) error {
	x := b.x()
	seen := map[string]bool{}
	for _, bt := range af.Batches {
		for _, e := range bt.GetEntries() {
			at := "entry " + e.TraceNumberField()
			switch {
			case e.Addenda99Dishonored != nil:
				a := e.Addenda99Dishonored
				r := x.returns[strings.TrimSpace(a.ReturnTraceNumber)]
				switch {
				case r == nil:
					return fmt.Errorf("%s: Return Trace Number %s names no return the operator sent this bank", at, a.ReturnTraceNumber)
				case strings.TrimSpace(a.OriginalEntryTraceNumber) != r.orig:
					return fmt.Errorf("%s: Original Entry Trace Number %s is not the returned entry's (%s)", at, a.OriginalEntryTraceNumber, r.orig)
				case a.OriginalReceivingDFIIdentification != r.rdfi[:8]:
					return fmt.Errorf("%s: Original Receiving DFI Identification %s is not %s", at, a.OriginalReceivingDFIIdentification, r.rdfi[:8])
				case "R"+a.ReturnReasonCode != r.code:
					return fmt.Errorf("%s: Return Reason Code %s is not the return's (%s)", at, a.ReturnReasonCode, r.code)
				case int64(e.Amount) != r.amount:
					return fmt.Errorf("%s: Amount %d is not the return's (%d)", at, e.Amount, r.amount)
				case e.TransactionCode != r.tx:
					return fmt.Errorf("%s: Transaction Code %d is not the return's (%d)", at, e.TransactionCode, r.tx)
				case e.RDFIIdentification+e.CheckDigit != r.rdfi:
					return fmt.Errorf("%s: Receiving DFI %s%s is not the bank that returned the entry (%s)", at, e.RDFIIdentification, e.CheckDigit, r.rdfi)
				case r.answered || seen[r.trace]:
					return fmt.Errorf("%s: the return %s was dishonoured before", at, r.trace)
				}
				if a.DishonoredReturnReasonCode == "R69" {
					if err := checkR69Fields(at, a.AddendaInformation, r); err != nil {
						return err
					}
				}
				seen[r.trace] = true
			case e.Addenda99Contested != nil:
				a := e.Addenda99Contested
				d := x.dishonors[strings.TrimSpace(a.DishonoredReturnTraceNumber)]
				switch {
				case d == nil:
					return fmt.Errorf("%s: Dishonored Return Trace Number %s names no dishonour the operator sent this bank", at, a.DishonoredReturnTraceNumber)
				case strings.TrimSpace(a.OriginalEntryTraceNumber) != d.orig:
					return fmt.Errorf("%s: Original Entry Trace Number %s is not the dishonoured entry's (%s)", at, a.OriginalEntryTraceNumber, d.orig)
				case strings.TrimSpace(a.ReturnTraceNumber) != d.returnTrace:
					return fmt.Errorf("%s: Return Trace Number %s is not the dishonoured return's (%s)", at, a.ReturnTraceNumber, d.returnTrace)
				case "R"+a.DishonoredReturnReasonCode != d.code:
					return fmt.Errorf("%s: Dishonored Return Reason Code %s is not the dishonour's (%s)", at, a.DishonoredReturnReasonCode, d.code)
				case int64(e.Amount) != d.amount || e.TransactionCode != d.tx:
					return fmt.Errorf("%s: Amount %d or Transaction Code %d is not the dishonour's", at, e.Amount, e.TransactionCode)
				case d.answered || seen[d.trace]:
					return fmt.Errorf("%s: the dishonour %s was contested before", at, d.trace)
				}
				seen[d.trace] = true
			}
		}
	}
	return nil
}

// r69FieldNames are the field-error codes an R69 names its return's wrong
// fields by, in its Addenda Information, separated by asterisks ("01*03*06")
// (NACHA Operating Rules, Appendix Four, Dishonored Return Entries; NACHA
// Operations Bulletin "Proper Use of Return Reason Code R69 (Field
// Errors)", September 15, 2006, which lists 01-06; 07 came later).
var r69FieldNames = map[string]string{
	"01": "DFI Account Number",
	"02": "Original Entry Trace Number",
	"03": "Dollar Amount",
	"04": "Individual Identification",
	"05": "Transaction Code",
	"06": "Company Identification",
	"07": "Effective Entry Date",
}

// r69Fields reads an R69's Addenda Information: its field-error codes, or
// why they are not. Strict: at least one, each a code of r69FieldNames,
// once, separated by single asterisks, nothing else.
func r69Fields(info string) (map[string]bool, error) {
	s := strings.TrimSpace(info)
	if s == "" {
		return nil, errors.New("names no field in error (an R69 names each by its code, 01-07, separated by asterisks)")
	}
	named := map[string]bool{}
	for _, c := range strings.Split(s, "*") {
		if _, ok := r69FieldNames[c]; !ok {
			return nil, fmt.Errorf("%q: %q is not a field-error code (01-07, separated by asterisks)", s, c)
		}
		if named[c] {
			return nil, fmt.Errorf("%q names %s twice", s, c)
		}
		named[c] = true
	}
	return named, nil
}

// checkR69Fields takes the bank's R69 of the emulator's return r only if
// its field-error codes are well formed and, when r was sent with a field
// wrong, name exactly the fields r got wrong. The emulator's returns can
// be wrong in one field only, the amount (SendReturn with another amount:
// 03). An R69 of a return with no field wrong is let through, to be
// contested R76 (answer), the rules' remedy for a dishonour that found
// errors where there were none.
func checkR69Fields(at, info string, r *simReturn) error {
	named, err := r69Fields(info)
	if err != nil {
		return fmt.Errorf("%s: Addenda Information of the R69 %v", at, err)
	}
	if !r.fieldError {
		return nil
	}
	wrong := map[string]bool{"03": true}
	for c := range named {
		if !wrong[c] {
			return fmt.Errorf("%s: Addenda Information of the R69 names %s (%s), which the return %s carried right", at, c, r69FieldNames[c], r.trace)
		}
	}
	for c := range wrong {
		if !named[c] {
			return fmt.Errorf("%s: Addenda Information of the R69 does not name %s (%s), which the return %s got wrong", at, c, r69FieldNames[c], r.trace)
		}
	}
	return nil
}

// answer judges the bank's dishonour, contest or return e when its file
// settles: accepts it (its money moved with the file) or contests it.
// Called with s.mu held.
func (s *Sim) answer(b *bank, f *file, e *entry) {
	x := b.x()
	switch {
	case e.dis != nil:
		r := x.returns[strings.TrimSpace(e.dis.ReturnTraceNumber)]
		r.answered = true
		code, contest := e.ret, ""
		switch {
		case f.received.After(afterBankingDays(r.sent, 5)):
			contest = "R72"
		case code == "R68" && !r.sent.After(returnDeadline(r.code, r.origSettled)):
			contest = "R73"
		case code == "R67" && (len(x.byOrig[r.orig]) < 2 || x.byOrig[r.orig][0] == r.trace):
			contest = "R75"
		case code == "R61" && !r.origSettled.IsZero(), code == "R69" && !r.fieldError, code == "R70" && r.code != "R06" && r.code != "R31":
			contest = "R76"
		case code == "R62":
			contest = "R77"
		}
		x.received[e.trace] = &received{trace: e.trace, code: code, r: r, settled: f.settled, answered: contest != ""}
		if code == "R69" {
			x.received[e.trace].fields, _ = r69Fields(e.dis.AddendaInformation) // checked with the file
		}
		if contest == "" {
			e.outcome = "dishonoured " + code + ": accepted"
			return
		}
		a := ach.NewAddenda99Contested()
		a.ContestedReturnCode, a.OriginalEntryTraceNumber, a.DateOriginalEntryReturned = contest, r.orig, r.sent.In(eastern).Format("060102")
		a.OriginalReceivingDFIIdentification, a.OriginalSettlementDate = r.rdfi[:8], julian(r.origSettled)
		a.ReturnTraceNumber, a.ReturnSettlementDate, a.ReturnReasonCode = r.trace, julian(r.sent), strings.TrimPrefix(r.code, "R")
		a.DishonoredReturnTraceNumber, a.DishonoredReturnSettlementDate, a.DishonoredReturnReasonCode = e.trace, julian(f.settled), strings.TrimPrefix(code, "R")
		a.TraceNumber = s.nextTrace()
		b.position += sentBy(e.code, e.amount)
		x.queue = append(x.queue, xitem{tx: e.code, account: e.account, name: e.name, amount: e.amount, con: a, what: "contest " + contest + " of dishonour " + e.trace})
		e.outcome = "dishonoured " + code + ": contested " + contest
	case e.con != nil:
		x.dishonors[strings.TrimSpace(e.con.DishonoredReturnTraceNumber)].answered = true
		e.outcome = "contested " + e.ret + ": final"
	case e.orig != "":
		r := &simReturn{trace: e.trace, orig: e.orig, code: e.ret, amount: e.amount, tx: e.code, account: e.account, name: e.name, rdfi: e.routing, sent: f.received}
		x.bankReturns[r.trace] = r
		if sent, ok := x.forward[r.orig]; ok && f.received.After(returnDeadline(r.code, sent)) {
			r.origSettled = sent
			s.dishonor(b, r, "R68")
			e.outcome += "; dishonoured R68 (untimely)"
		}
	}
}

// dishonor queues a dishonour of the bank's return r. Called with s.mu held.
func (s *Sim) dishonor(b *bank, r *simReturn, code string) {
	x := b.x()
	a := ach.NewAddenda99Dishonored()
	a.DishonoredReturnReasonCode, a.OriginalEntryTraceNumber, a.OriginalReceivingDFIIdentification = code, r.orig, r.rdfi[:8]
	a.ReturnTraceNumber, a.ReturnSettlementDate, a.ReturnReasonCode = r.trace, julian(r.sent), strings.TrimPrefix(r.code, "R")
	a.TraceNumber = s.nextTrace()
	r.answered = true
	d := &simReturn{trace: a.TraceNumber, orig: r.orig, code: code, amount: r.amount, tx: r.tx, account: r.account, name: r.name,
		rdfi: r.rdfi, sent: s.o.Now(), returnTrace: r.trace, returnCode: r.code}
	x.dishonors[d.trace] = d
	b.position += sentBy(r.tx, r.amount)
	x.queue = append(x.queue, xitem{tx: r.tx, account: r.account, name: r.name, amount: r.amount, dis: a, what: "dishonour " + code + " of return " + r.trace})
}

// Errors of the exception calls.
var (
	ErrNoEntry  = errors.New("railsim: no such entry")
	ErrBadCode  = errors.New("railsim: not a return code of that kind")
	ErrAnswered = errors.New("railsim: answered before")
	ErrLate     = errors.New("railsim: past the two banking days to answer a dishonour")
)

// SendReturn returns the entry of trace the bank sent, now, with code
// (R01...), for cents (0: the entry's amount). A trace the bank never sent
// is returned too, for cents (a misrouted return), as a credit's return
// from the receiving bank 231380104. It returns the return's trace.
func (s *Sim) SendReturn(routing, trace, code string, cents int64) (string, error) {
	if rc := ach.LookupReturnCode(code); rc == nil || ach.IsDishonoredReturnCode(code) || ach.IsContestedReturnCode(code) {
		return "", ErrBadCode
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bank(routing)
	var found *entry
	var settled time.Time
	for _, name := range b.order {
		f := b.files[name]
		for i := range f.entries {
			if e := &f.entries[i]; e.trace == trace && e.ret == "" && e.dis == nil && e.con == nil {
				found, settled = e, f.settled
			}
		}
	}
	if found == nil {
		if cents <= 0 || len(trace) != 15 {
			return "", ErrNoEntry
		}
		found = &entry{trace: trace, name: "UNKNOWN", account: "000000000", routing: "231380104", amount: cents, code: ach.CheckingCredit}
	}
	if cents <= 0 {
		cents = found.amount
	}
	it, r := s.returnItem(b, *found, settled, code, cents)
	s.sendReturn(b, it, r)
	b.x().log = append(b.x().log, "return "+code+" of "+trace+" sent")
	s.flush(routing, b)
	return r.trace, nil
}

// Dishonor dishonours a return the bank sent (its trace) with code
// (R61-R70), now.
func (s *Sim) Dishonor(routing, returnTrace, code string) error {
	if !ach.IsDishonoredReturnCode(code) {
		return ErrBadCode
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bank(routing)
	r := b.x().bankReturns[returnTrace]
	if r == nil {
		return ErrNoEntry
	}
	if r.answered {
		return ErrAnswered
	}
	if sent, ok := b.x().forward[r.orig]; ok {
		r.origSettled = sent
	}
	s.dishonor(b, r, code)
	s.flush(routing, b)
	return nil
}

// Correct answers the bank's dishonour R69 (its trace) of a return of the
// emulator's with a corrected return, R74, now: for cents (0: the fields
// the R69 named corrected, its 03 by the entry's amount, which the return
// got wrong; another amount is a correction still wrong, for the bank to
// hold). It refuses a dishonour it did not accept
// (it contested it), one of another code, a second correction, and one
// past two banking days after the dishonour settled (NACHA Operating
// Rules, Appendix Four, Contested Dishonored Return Entries). It returns
// the correction's trace.
func (s *Sim) Correct(routing, dishonorTrace string, cents int64) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bank(routing)
	x := b.x()
	d := x.received[dishonorTrace]
	switch {
	case d == nil:
		return "", ErrNoEntry
	case d.code != "R69":
		return "", ErrBadCode
	case d.answered:
		return "", ErrAnswered
	case s.o.Now().After(afterBankingDays(d.settled, 2)):
		return "", ErrLate
	}
	r := d.r
	if cents <= 0 {
		// The correction fixes the fields the R69 named: of those the
		// emulator can get wrong, the amount (03).
		cents = r.amount
		if d.fields["03"] {
			cents = r.entryAmount
		}
	}
	a := ach.NewAddenda99Contested()
	a.ContestedReturnCode, a.OriginalEntryTraceNumber, a.DateOriginalEntryReturned = "R74", r.orig, r.sent.In(eastern).Format("060102")
	a.OriginalReceivingDFIIdentification, a.OriginalSettlementDate = r.rdfi[:8], julian(r.origSettled)
	a.ReturnTraceNumber, a.ReturnSettlementDate, a.ReturnReasonCode = r.trace, julian(r.sent), strings.TrimPrefix(r.code, "R")
	a.DishonoredReturnTraceNumber, a.DishonoredReturnSettlementDate, a.DishonoredReturnReasonCode = d.trace, julian(d.settled), "69"
	a.TraceNumber = s.nextTrace()
	d.answered = true
	b.position += sentBy(r.tx, cents) // the return again, as corrected
	x.queue = append(x.queue, xitem{tx: r.tx, account: r.account, name: r.name, amount: cents, con: a, what: "corrected return R74 of dishonour " + d.trace})
	x.log = append(x.log, "corrected return R74 of "+r.orig+" sent")
	s.flush(routing, b)
	return a.TraceNumber, nil
}

func (s *Sim) correctionForm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	cents, _ := strconv.ParseInt(r.PostForm.Get("cents"), 10, 64)
	_, err := s.Correct(r.PathValue("routing"), strings.TrimSpace(r.PostForm.Get("trace")), cents)
	entered(w, r, err)
}

func (s *Sim) returnForm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	cents, _ := strconv.ParseInt(r.PostForm.Get("cents"), 10, 64)
	_, err := s.SendReturn(r.PathValue("routing"), strings.TrimSpace(r.PostForm.Get("trace")), strings.ToUpper(strings.TrimSpace(r.PostForm.Get("code"))), cents)
	entered(w, r, err)
}

func (s *Sim) dishonorForm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	err := s.Dishonor(r.PathValue("routing"), strings.TrimSpace(r.PostForm.Get("trace")), strings.ToUpper(strings.TrimSpace(r.PostForm.Get("code"))))
	entered(w, r, err)
}
