package rails

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/moov-io/ach"
	"github.com/moov-io/base"
)

// Dishonoured and contested returns (docs/rails.md, "Dishonoured and
// contested returns").
//
// The rules are the NACHA Operating Rules': Article Two, Subsection 2.13.6
// (the ODFI may dishonour a Return Entry) and Appendix Four, Return Entries
// (Dishonored Return Entries, Contested Dishonored Return Entries, and the
// Table of Return Reason Codes: R61-R70 are the ODFI's dishonour codes,
// R71-R77 the RDFI's contest codes). The ODFI transmits a dishonoured return
// within five banking days after the Settlement Date of the Return Entry;
// the RDFI contests (or corrects) within two banking days after the
// Settlement Date of the dishonoured return, and a contested dishonoured
// return cannot itself be dishonoured: anything left is for the two banks
// to settle outside the network. The records are Appendix Three's Addenda
// Records for Dishonored Returns and Contested Dishonored Returns, written
// and read with moov-io/ach (Addenda99Dishonored, Addenda99Contested); a
// dishonour or a contest carries the return's Transaction Code (21/31 a
// credit's return, 26/36 a debit's).
//
// As the originator (ODFI) of a return it receives, the bank dishonours:
//
//	R61 misrouted: no entry was sent with the trace, or the return names another bank;
//	R69 field errors: the return's amount or Original Receiving DFI is not the entry's,
//	    naming the fields by their codes (r69Fields);
//	R70 not requested: a return "at the ODFI's request" (R06, R31) the bank never asked for;
//	R67 duplicate: the entry was returned before, by another return (of another
//	    file, or earlier in the same file: each return is keyed by its place,
//	    Return.Key) or by a contest that applied one;
//	R68 untimely: received past rails.ReturnDeadline of its code.
//
// A dishonoured return is not applied: the customer's payment stands as it
// was. As the receiver (RDFI) of a dishonour of a return it sent, the bank
// checks the dishonour against its records and contests it when its return
// was right (R73 timely, R75 not a duplicate, R76 no errors, R77 for R62,
// R71 when it sent no such return, R72 when the dishonour itself is late),
// or accepts it: the returned entry stands after all (an inbound debit is
// taken from the account, a credit's money waits for an operator).
// As the originator again, it takes the RDFI's contest of its dishonour as
// final: an R73 of its R68 (the return was timely) and an R74 of its R69
// (the return, corrected) apply the return once (contestApplies); any
// other, or one whose correction still does not match, waits for an
// operator.
//
// The money. Each of these entries moves money with the operator that no
// customer's account takes at once, so it is booked between the ACH
// settlement account and the ACH return exceptions account (an internal
// account, unbounded, opened on first use): the settlement account keeps
// following the operator's position, and the exceptions account holds what
// is in dispute until the other side's entry settles it back. Every booking
// is keyed by the inbound file and trace (or the outbound payment), every
// decision is a payment or an entry recorded under a key of its own, and
// timeliness is judged on when the file was first received, so a file
// processed twice, or resumed after a crash, decides and books the same once.

// Kinds of outbound entry that answer a return.
const (
	// KindDishonor is a return the bank dishonours (R61-R70).
	KindDishonor Kind = "dishonor"
	// KindContest is a dishonour of the bank's return that it contests (R71-R77).
	KindContest Kind = "contest"
)

// Inbound entry kinds and outcomes of dishonours.
const (
	// EntryDishonor is a dishonoured return of a return the bank sent.
	EntryDishonor EntryKind = "dishonor"
	// EntryContest is a contested dishonoured return of a dishonour the
	// bank sent.
	EntryContest EntryKind = "contest"
	// EntryDishonored is a return the bank dishonoured: not applied.
	EntryDishonored EntryStatus = "dishonored"
	// EntryContested is a dishonour the bank contested.
	EntryContested EntryStatus = "contested"
)

// ExceptionsNumber is the account number of the ACH return exceptions
// account: money moved by returns the bank dishonoured, dishonours it
// contested, and the like, until the other side's entry settles it.
const ExceptionsNumber ledger.AccountNumber = "900000000022"

// Exceptions finds the ACH return exceptions account, opening it the first time.
func (s *Service) Exceptions(ctx context.Context) (ledger.Account, error) {
	return s.internal(ctx, ExceptionsNumber, "ACH return exceptions")
}

// Exception is a dishonoured (R61-R70) or contested dishonoured (R71-R77)
// return as received.
type Exception struct {
	Code          string // R61...R77
	Trace         string // the original entry's trace
	ReturnTrace   string // the return's trace
	ReturnCode    string // the return's code (R01...)
	DishonorTrace string // contests: the dishonour's trace
	DishonorCode  string // contests: the dishonour's code
	Amount        ledger.Amount
	TxCode        int
	EntryTrace    string // this entry's own trace
	Routing       string // the RDFI it names
	OriginalDFI   string // contests: the Original Receiving DFI Identification
	Account       string
	Name          string
	Settlement    string // the batch's settlement date (Julian day)
}

func isException(k Kind) bool { return k == KindDishonor || k == KindContest }

// originated says whether the bank originated entries of kind k (whose
// returns it may receive).
func originated(k Kind) bool { return k == KindCredit || k == KindPrenote || k == KindDebit }

func dishonorOf(e *ach.EntryDetail, bh *ach.BatchHeader) Exception {
	a := e.Addenda99Dishonored
	return Exception{Code: a.DishonoredReturnReasonCode, Trace: strings.TrimSpace(a.OriginalEntryTraceNumber),
		ReturnTrace: strings.TrimSpace(a.ReturnTraceNumber), ReturnCode: "R" + strings.TrimSpace(a.ReturnReasonCode),
		Amount: ledger.Amount(e.Amount), TxCode: e.TransactionCode, EntryTrace: e.TraceNumberField(), Routing: e.RDFIIdentification + e.CheckDigit,
		Account: strings.TrimSpace(e.DFIAccountNumber), Name: strings.TrimSpace(e.IndividualName), Settlement: strings.TrimSpace(bh.SettlementDate)}
}

func contestOf(e *ach.EntryDetail, bh *ach.BatchHeader) Exception {
	a := e.Addenda99Contested
	return Exception{Code: a.ContestedReturnCode, Trace: strings.TrimSpace(a.OriginalEntryTraceNumber),
		ReturnTrace: strings.TrimSpace(a.ReturnTraceNumber), ReturnCode: "R" + strings.TrimSpace(a.ReturnReasonCode),
		DishonorTrace: strings.TrimSpace(a.DishonoredReturnTraceNumber), DishonorCode: "R" + strings.TrimSpace(a.DishonoredReturnReasonCode),
		OriginalDFI: strings.TrimSpace(a.OriginalReceivingDFIIdentification), Amount: ledger.Amount(e.Amount), TxCode: e.TransactionCode, EntryTrace: e.TraceNumberField(), Routing: e.RDFIIdentification + e.CheckDigit,
		Account: strings.TrimSpace(e.DFIAccountNumber), Name: strings.TrimSpace(e.IndividualName), Settlement: strings.TrimSpace(bh.SettlementDate)}
}

// DishonorWords says a dishonour or contest code in plain words
// (moov-io/ach's titles of the NACHA table).
func DishonorWords(code string) string {
	if rc := ach.LookupReturnCode(code); rc != nil {
		return rc.Reason
	}
	return code
}

// julian is the three-digit Julian day of t (Eastern), as the settlement
// date fields carry it.
func julian(t time.Time) string { return fmt.Sprintf("%03d", t.In(eastern).YearDay()) }

// afterBankingDays is the end (Eastern) of the n-th banking day after t's day.
func afterBankingDays(t time.Time, n int) time.Time {
	et := t.In(eastern)
	day := base.NewTime(time.Date(et.Year(), et.Month(), et.Day(), 0, 0, 0, 0, eastern)).AddBankingDay(n).Time
	return time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, eastern).AddDate(0, 0, 1).Add(-time.Nanosecond)
}

// withCheck is an eight-digit DFI identification with its check digit.
func withCheck(dfi string) string {
	if len(dfi) != 8 {
		return ""
	}
	return dfi + strconv.Itoa(ach.CalculateCheckDigit(dfi))
}

// operatorSign is how an entry of transaction code tx moves the ACH
// settlement account: what the bank receives of a credit's return (21, 31)
// the operator pays it (the account falls, as a return of a credit does);
// of a debit's return (26, 36), the bank pays. What it sends, the reverse.
func operatorSign(tx int, received bool) ledger.Amount {
	if (tx%10 < 5) == received {
		return -1
	}
	return 1
}

// bookException books the operator's side of an exception: amt with sign
// (operatorSign) on the settlement account, the other way on the
// exceptions account, under key.
func (s *Service) bookException(ctx context.Context, key, what string, sign, amt ledger.Amount) (ledger.TransferID, error) {
	if amt == 0 {
		return 0, nil
	}
	settle, err := s.Settlement(ctx)
	if err != nil {
		return 0, err
	}
	x, err := s.Exceptions(ctx)
	if err != nil {
		return 0, err
	}
	t, _, err := s.led.Transfer(ctx, ledger.Request{Client: Client, Key: key, Currency: "USD", Description: what, Category: "transfer",
		Postings: []ledger.Posting{{Account: settle.ID, Amount: sign * amt}, {Account: x.ID, Amount: -sign * amt}}})
	return t.ID, err
}

// dishonorFor decides whether a return received in f must be dishonoured:
// its code and why, or "" to apply it. p is the payment its trace names
// (found false: none).
func (s *Service) dishonorFor(ctx context.Context, f File, r Return, p Payment, found bool) (string, string, error) {
	switch {
	case !found || !originated(p.Kind):
		return "R61", "misrouted: the bank sent no entry with this trace number", nil
	case r.Routing != "" && r.Routing != s.o.Origin.Routing:
		return "R61", "misrouted: the return names another bank (" + r.Routing + ")", nil
	case r69Fields(r, p) != "":
		var why []string
		if r.OriginalDFI != "" && len(p.Routing) == 9 && r.OriginalDFI != p.Routing[:8] {
			why = append(why, "the return's Original Receiving DFI "+r.OriginalDFI+" is not the entry's")
		}
		if r.Amount != p.Amount {
			why = append(why, fmt.Sprintf("the return's amount %s is not the entry's %s", r.Amount.Display("USD"), p.Amount.Display("USD")))
		}
		return "R69", "field error (" + r69Fields(r, p) + "): " + strings.Join(why, "; "), nil
	case r.Code == "R06" || r.Code == "R31":
		return "R70", "the bank neither asked for nor agreed to this return (" + r.Code + ")", nil
	}
	if p.Kind == KindPrenote {
		return "", "", nil // no money: its information is used, never dishonoured
	}
	es, err := s.st.EntriesOf(ctx, p.ID)
	if err != nil {
		return "", "", err
	}
	for _, e := range es {
		// Another return applied, in another file or earlier in this one
		// (its own entry, found again when the file is resumed, is not
		// another), or a contest that applied one (R73, R74): the ODFI
		// "has received more than one Return for the same Entry".
		other := e.File != f.ID || e.Trace != r.Key()
		switch {
		case e.Kind == EntryReturn && e.Status == EntryPosted && other && e.File == f.ID:
			return "R67", "duplicate: the entry was returned before, by an earlier return in this file", nil
		case e.Kind == EntryReturn && e.Status == EntryPosted && other:
			return "R67", "duplicate: the entry was returned before", nil
		case e.Kind == EntryContest && e.Status == EntryPosted:
			return "R67", "duplicate: the entry was returned before, by a contested dishonour", nil
		}
	}
	if p.Status == StatusSettled && !p.Settled.IsZero() && f.Created.After(ReturnDeadline(r.Code, p.Settled)) {
		return "R68", "untimely: received after the return window of " + r.Code + " closed (" +
			ReturnDeadline(r.Code, p.Settled).In(eastern).Format("2006-01-02 15:04 MST") + ")", nil
	}
	return "", "", nil
}

// R69's field-error codes: an ODFI that dishonours a return R69 names
// each field of the return it found wrong, two digits each, in the
// Addenda Information of the dishonour's addenda, separated by asterisks
// ("01*03*06") (NACHA Operating Rules, Appendix Four, Dishonored Return
// Entries; NACHA Operations Bulletin "Proper Use of Return Reason Code
// R69 (Field Errors)", September 15, 2006, which lists 01-06; 07 was added
// by a later amendment).
const (
	FieldDFIAccount     = "01" // Incorrect DFI Account Number
	FieldTrace          = "02" // Incorrect Original Entry Trace Number
	FieldAmount         = "03" // Incorrect Dollar Amount
	FieldIndividualID   = "04" // Incorrect Individual Identification Number/Individual Identification
	FieldTxCode         = "05" // Incorrect Transaction Code
	FieldCompanyID      = "06" // Incorrect Company Identification Number
	FieldEffectiveEntry = "07" // Incorrect Effective Entry Date
)

// r69Fields is the field-error codes of the fields of the return r that
// are not those of the entry p it names, in the rules' order, joined by
// asterisks; "" when none is. The bank compares two:
//
//	the amount: 03;
//	the Original Receiving DFI Identification: 02. The rules have no code
//	of its own for it: with the Original Entry Trace Number it is what
//	identifies, in the return's addenda, the entry returned, and 02 is the
//	code of a return that misidentifies it.
//
// It does not compare the return's Transaction Code with the entry's, so
// it never names 05.
func r69Fields(r Return, p Payment) string {
	var codes []string
	if r.OriginalDFI != "" && len(p.Routing) == 9 && r.OriginalDFI != p.Routing[:8] {
		codes = append(codes, FieldTrace)
	}
	if r.Amount != p.Amount {
		codes = append(codes, FieldAmount)
	}
	return strings.Join(codes, "*")
}

// dishonorReturn does not apply a return: it books the operator's money to
// the exceptions account and records the dishonour for the next file.
func (s *Service) dishonorReturn(ctx context.Context, f File, r Return, p Payment, found bool, code, why string, sum *Summary) error {
	e := Entry{File: f.ID, Trace: r.Key(), Kind: EntryReturn, Status: EntryDishonored, Amount: r.Amount, Code: r.Code, At: s.o.Now()}
	if found {
		e.Customer, e.Account, e.Payment = p.Customer, p.From, p.ID
	}
	t, err := s.bookException(ctx, "xret:"+f.Name+":"+r.Key(), "Return dishonoured ("+code+"): trace "+r.Trace, operatorSign(r.TxCode, true), r.Amount)
	if err != nil {
		return err
	}
	e.Transfer = t
	rdfi := withCheck(r.OriginalDFI)
	if CheckRouting(rdfi) != nil && len(r.ReturnTrace) == 15 {
		rdfi = withCheck(r.ReturnTrace[:8])
	}
	a := ach.NewAddenda99Dishonored()
	a.DishonoredReturnReasonCode, a.OriginalEntryTraceNumber, a.OriginalReceivingDFIIdentification = code, r.Trace, r.OriginalDFI
	a.ReturnTraceNumber, a.ReturnSettlementDate, a.ReturnReasonCode = r.ReturnTrace, orJulian(r.Settlement, f.Created), strings.TrimPrefix(r.Code, "R")
	if code == "R69" {
		a.AddendaInformation = r69Fields(r, p)
	}
	d, err := s.exceptionEntry(ctx, KindDishonor, "dishonor:"+f.Name+":"+r.Key(), code, r.TxCode, r.Amount, rdfi, r.Account, r.Name, a.String())
	if err != nil {
		return err
	}
	e.Detail = why + "; dishonoured " + code + " as ACH-" + strconv.FormatInt(int64(d.ID), 10)
	sum.Dishonored++
	_, err = s.st.AddEntry(ctx, e)
	return err
}

func orJulian(s string, t time.Time) string {
	if len(s) == 3 {
		return s
	}
	return julian(t)
}

// exceptionEntry records a dishonour or a contest for the next file, once
// per key. Its Memo carries the entry's transaction code and its addenda
// record as they will be written (the trace number is set with the file).
func (s *Service) exceptionEntry(ctx context.Context, kind Kind, key, code string, tx int, amt ledger.Amount, routing, account, name, addenda string) (Payment, error) {
	now := s.o.Now()
	if CheckName(name) != nil {
		name = "RECEIVER"
	}
	if CheckAccountNumber(account) != nil {
		account = "UNKNOWN"
	}
	p := Payment{Kind: kind, Channel: Client, Key: key, Amount: amt, Currency: "USD", Name: name, Routing: routing,
		Number: ledger.AccountNumber(account), Type: Checking, Memo: fmt.Sprintf("%02d", tx) + addenda,
		ReturnCode: code, Reason: DishonorWords(code), Status: StatusNew, Created: now, Updated: now}
	if tx/10 == 3 {
		p.Type = Savings
	}
	return s.queueEntry(ctx, p, now)
}

// exceptionTxCode is a dishonour's or contest's transaction code, kept in
// its Memo.
func exceptionTxCode(p Payment) int {
	if len(p.Memo) < 2 {
		return ach.CheckingReturnNOCCredit
	}
	n, err := strconv.Atoi(p.Memo[:2])
	if err != nil {
		return ach.CheckingReturnNOCCredit
	}
	return n
}

// exceptionAddenda writes p's addenda record into the entry e.
func exceptionAddenda(e *ach.EntryDetail, p Payment) error {
	if len(p.Memo) != 2+94 {
		return fmt.Errorf("payment %d: no addenda record for its %s", p.ID, p.Kind)
	}
	rec := p.Memo[2:]
	e.AddendaRecordIndicator = 1
	e.IdentificationNumber = ""
	if p.Kind == KindDishonor {
		a := ach.NewAddenda99Dishonored()
		a.Parse(rec)
		a.TraceNumber = p.Trace
		e.Addenda99Dishonored, e.Category = a, ach.CategoryDishonoredReturn
		return a.Validate()
	}
	a := ach.NewAddenda99Contested()
	a.Parse(rec)
	a.TraceNumber = p.Trace
	e.Addenda99Contested, e.Category = a, ach.CategoryDishonoredReturnContested
	return a.Validate()
}

// settleException books the operator's settlement of a dishonour or a
// contest the bank sent: the money in dispute goes back the other way.
func (s *Service) settleException(ctx context.Context, p Payment) error {
	_, err := s.bookException(ctx, fmt.Sprintf("xsent:%d", p.ID), string(p.Kind)+" "+p.ReturnCode+" settled: ACH-"+strconv.FormatInt(int64(p.ID), 10),
		operatorSign(exceptionTxCode(p), false), p.Amount)
	return err
}

// applyDishonor takes a dishonour of a return the bank sent: it contests
// it when the bank's records show the return was right, else accepts it.
func (s *Service) applyDishonor(ctx context.Context, f File, d Exception, sum *Summary) error {
	e := Entry{File: f.ID, Trace: d.Trace, Kind: EntryDishonor, Status: EntryContested, Amount: d.Amount, Code: d.Code, At: s.o.Now()}
	t, err := s.bookException(ctx, "xdis:"+f.Name+":"+d.Trace, "Dishonoured return ("+d.Code+"): trace "+d.Trace, operatorSign(d.TxCode, true), d.Amount)
	if err != nil {
		return err
	}
	e.Transfer = t
	ret, err := s.st.PaymentByTrace(ctx, d.ReturnTrace)
	if err != nil && !errors.Is(err, ErrPaymentNotFound) {
		return err
	}
	var orig Entry // the inbound entry the bank's return answered
	if err == nil {
		e.Payment = ret.ID
		es, err := s.st.EntriesOf(ctx, ret.ID)
		if err != nil {
			return err
		}
		for _, x := range es {
			if x.Kind == EntryCredit || x.Kind == EntryDebit {
				orig = x
			}
		}
		e.Customer, e.Account = orig.Customer, orig.Account
	}
	contest, why, err := s.contestFor(ctx, f, d, ret, err == nil, orig)
	if err != nil {
		return err
	}
	if contest != "" {
		a := ach.NewAddenda99Contested()
		a.ContestedReturnCode, a.OriginalEntryTraceNumber, a.OriginalReceivingDFIIdentification = contest, d.Trace, s.o.Origin.Routing[:8]
		a.DateOriginalEntryReturned, a.OriginalSettlementDate = ret.Created.In(eastern).Format("060102"), julian(orig.At)
		a.ReturnTraceNumber, a.ReturnSettlementDate, a.ReturnReasonCode = d.ReturnTrace, julian(ret.Settled), strings.TrimPrefix(ret.ReturnCode, "R")
		a.DishonoredReturnTraceNumber, a.DishonoredReturnSettlementDate = d.EntryTrace, orJulian(d.Settlement, f.Created)
		a.DishonoredReturnReasonCode = strings.TrimPrefix(d.Code, "R")
		if ret.ID == 0 {
			a.DateOriginalEntryReturned, a.OriginalSettlementDate, a.ReturnSettlementDate = f.Created.In(eastern).Format("060102"), julian(f.Created), julian(f.Created)
			a.ReturnReasonCode = strings.TrimPrefix(d.ReturnCode, "R")
		}
		odfi := ""
		if len(d.Trace) == 15 {
			odfi = withCheck(d.Trace[:8])
		}
		c, err := s.exceptionEntry(ctx, KindContest, "contest:"+f.Name+":"+d.Trace, contest, d.TxCode, d.Amount, odfi, d.Account, d.Name, a.String())
		if err != nil {
			return err
		}
		e.Detail = why + "; contested " + contest + " as ACH-" + strconv.FormatInt(int64(c.ID), 10)
	} else {
		// Accepted: the money waits for an operator (unmatched), unless
		// the account pays an inbound debit that stands (posted).
		e.Status, e.Detail = EntryUnmatched, "accepted: "+why
		if ret.Kind == KindDebitReturn && orig.Account != 0 {
			// The inbound debit stands after all: the account pays it,
			// and the money leaves the exceptions account's hold.
			x, err := s.Exceptions(ctx)
			if err != nil {
				return err
			}
			t, _, terr := s.led.Transfer(ctx, ledger.Request{Client: Client, Key: "xacc:" + f.Name + ":" + d.Trace, Currency: "USD",
				Description: "ACH debit by " + orig.Name + " (its return was dishonoured: " + DishonorWords(d.Code) + ")", Category: "transfer",
				Postings: []ledger.Posting{{Account: orig.Account, Amount: -d.Amount}, {Account: x.ID, Amount: d.Amount}}})
			switch k := bankbridge.ErrorKind(terr); {
			case terr == nil:
				e.Status, e.Transfer = EntryPosted, t.ID
				e.Detail += "; the debit is taken from the account"
			case k == bankbridge.Unprocessable || k == bankbridge.Conflict:
				e.Detail += "; the account could not pay (" + bankbridge.ErrorMessage(terr) + "): held in ACH return exceptions for an operator"
			default:
				return terr
			}
		} else {
			e.Detail += "; the money is held in ACH return exceptions for an operator"
		}
	}
	sum.Dishonored++
	_, err = s.st.AddEntry(ctx, e)
	return err
}

// contestFor decides whether the bank contests a dishonour of its return
// ret (found false: it sent none with that trace) and why; "" accepts it.
func (s *Service) contestFor(ctx context.Context, f File, d Exception, ret Payment, found bool, orig Entry) (string, string, error) {
	if !found || ret.Kind != KindReturn && ret.Kind != KindDebitReturn {
		return "R71", "the bank sent no return with the trace " + d.ReturnTrace, nil
	}
	settled := ret.Settled
	if settled.IsZero() {
		settled = ret.Updated
	}
	if f.Created.After(afterBankingDays(settled, 5)) {
		return "R72", "the dishonour came more than five banking days after the return settled", nil
	}
	switch d.Code {
	case "R68":
		if orig.At.IsZero() {
			return "R73", "the return answered an entry the bank recorded as it came", nil
		}
		sent := ret.Updated
		if ret.File != 0 {
			rf, err := s.st.File(ctx, ret.File)
			if err != nil {
				return "", "", err
			}
			sent = rf.Sent
		}
		if deadline := ReturnDeadline(ret.ReturnCode, orig.At); sent.After(deadline) {
			return "", "the bank's return left after its window closed", nil
		}
		return "R73", "the bank's return left within its window", nil
	case "R67":
		return "R75", "the bank returns each entry once, under a key of its own", nil
	case "R69":
		if d.Amount != ret.Amount || d.Trace != ret.Memo {
			return "", "the return's amount or trace was not the entry's", nil
		}
		return "R76", "the return carried the entry's amount and trace", nil
	case "R61":
		if len(ret.Routing) == 9 && len(ret.Memo) == 15 && ret.Routing[:8] != ret.Memo[:8] {
			return "", "the return went to another bank than the entry's originator", nil
		}
		return "R76", "the return went to the originator the entry's trace names", nil
	case "R70":
		if ret.ReturnCode == "R06" || ret.ReturnCode == "R31" {
			return "", "the return needed the originator's permission", nil
		}
		return "R76", "the return (" + ret.ReturnCode + ") needs no permission of the originator", nil
	case "R62":
		return "R77", "the bank does not take back an entry dishonoured R62", nil
	}
	return "R76", "no error found in the return", nil
}

// applyContest takes a contested dishonour of a return the bank
// dishonoured. It is final in the network: the bank cannot dishonour it in
// turn. When it shows the return was right after all (contestApplies) and
// the payment still stands, the return is applied as it would have been,
// once; otherwise the money waits in the exceptions account for an
// operator, with why.
func (s *Service) applyContest(ctx context.Context, f File, c Exception, settle ledger.Account, sum *Summary) error {
	e := Entry{File: f.ID, Trace: c.Trace, Kind: EntryContest, Status: EntryUnmatched, Amount: c.Amount, Code: c.Code, At: s.o.Now()}
	p, why, err := s.contestApplies(ctx, f, c)
	if err != nil {
		return err
	}
	if p.ID != 0 {
		e.Customer, e.Account, e.Payment = p.Customer, p.From, p.ID
		if p.Status == StatusSettled {
			if p, err = s.returnLate(ctx, p, c.ReturnCode, settle); err != nil {
				return err
			}
		}
		e.Status, e.Transfer, e.Detail = EntryPosted, p.Reversal, why
		sum.Returned++
		_, err = s.st.AddEntry(ctx, e)
		return err
	}
	t, err := s.bookException(ctx, "xcon:"+f.Name+":"+c.Trace, "Contested dishonour ("+c.Code+"): trace "+c.Trace, operatorSign(c.TxCode, true), c.Amount)
	if err != nil {
		return err
	}
	e.Transfer = t
	e.Detail = "contested " + c.Code + " (" + DishonorWords(c.Code) + "): "
	if why != "" {
		e.Detail += why + "; "
	}
	e.Detail += "final in the network; held in ACH return exceptions for an operator"
	sum.Unmatched++
	_, err = s.st.AddEntry(ctx, e)
	return err
}

// contestApplies decides whether a contest c of one of the bank's
// dishonours applies the return it dishonoured, and returns the payment to
// return (zero: it does not, and why not; "" for the codes that never do).
// Appendix Four of the NACHA Operating Rules, Contested Dishonored Return
// Entries, and moov-io/ach's table of those codes: the RDFI contests within
// two banking days after the Settlement Date of the dishonoured return, and
//
//	R73 "Timely Original Return": the RDFI certifies that the return the
//	    bank dishonoured R68 was sent in time. The return then applies.
//	R74 "Corrected Return": the RDFI corrects a return the bank dishonoured
//	    R69 because it carried incomplete or incorrect information (NACHA
//	    Operations Bulletin, "Proper Use of Return Reason Code R69", 2006:
//	    RDFIs may correct it by a Corrected Return Entry, R74). The entry
//	    carries the return as corrected: it applies when the original
//	    trace, the amount, the Original Receiving DFI and the transaction
//	    code are now the entry's, its return code is one the bank takes
//	    (not R06 or R31, which it never asks for), and the return was
//	    timely when the bank took it. The bank cannot dishonour a contest,
//	    so a correction that still does not match waits for an operator.
//
// Both must answer a dishonour of the bank's with its code, name the return
// it dishonoured, and find the payment still standing: settled, or returned
// by this very contest before a crash (no other return or contest applied).
func (s *Service) contestApplies(ctx context.Context, f File, c Exception) (Payment, string, error) {
	var none Payment
	if c.Code != "R73" && c.Code != "R74" {
		return none, "", nil
	}
	dis, err := s.st.PaymentByTrace(ctx, c.DishonorTrace)
	if errors.Is(err, ErrPaymentNotFound) || err == nil && dis.Kind != KindDishonor {
		return none, "the bank sent no dishonour with the trace " + c.DishonorTrace, nil
	}
	if err != nil {
		return none, "", err
	}
	if want := map[string]string{"R73": "R68", "R74": "R69"}[c.Code]; dis.ReturnCode != want {
		return none, c.Code + " answers a dishonour " + want + ", and the bank's was " + dis.ReturnCode, nil
	}
	if len(dis.Memo) == 2+94 {
		a := ach.NewAddenda99Dishonored()
		a.Parse(dis.Memo[2:])
		if rt := strings.TrimSpace(a.ReturnTraceNumber); rt != c.ReturnTrace {
			return none, "it names the return " + c.ReturnTrace + ", and the bank dishonoured " + rt, nil
		}
	}
	settled := dis.Settled
	if settled.IsZero() {
		settled = dis.Updated
	}
	if f.Created.After(afterBankingDays(settled, 2)) {
		return none, "it came more than two banking days after the dishonour settled", nil
	}
	p, err := s.st.PaymentByTrace(ctx, c.Trace)
	if errors.Is(err, ErrPaymentNotFound) || err == nil && (!originated(p.Kind) || p.Kind == KindPrenote) {
		return none, "the bank sent no entry with the trace " + c.Trace, nil
	}
	if err != nil {
		return none, "", err
	}
	if c.Amount != p.Amount {
		return none, fmt.Sprintf("its amount %s is not the entry's %s", c.Amount.Display("USD"), p.Amount.Display("USD")), nil
	}
	applied := "the other bank showed its return was timely (R73): the return " + c.ReturnCode + " is applied"
	if c.Code == "R74" {
		rc := ach.LookupReturnCode(c.ReturnCode)
		switch {
		case len(p.Routing) != 9 || c.OriginalDFI != p.Routing[:8]:
			return none, "its Original Receiving DFI " + c.OriginalDFI + " is not the entry's", nil
		case c.TxCode != returnTxCode(p):
			return none, fmt.Sprintf("its transaction code %d is not that of a return of the entry (%d)", c.TxCode, returnTxCode(p)), nil
		case rc == nil || ach.IsDishonoredReturnCode(c.ReturnCode) || ach.IsContestedReturnCode(c.ReturnCode):
			return none, "its return code " + c.ReturnCode + " is not a return code", nil
		case c.ReturnCode == "R06" || c.ReturnCode == "R31":
			return none, "the bank neither asked for nor agreed to this return (" + c.ReturnCode + ")", nil
		case p.Status == StatusSettled && !p.Settled.IsZero() && dis.Created.After(ReturnDeadline(c.ReturnCode, p.Settled)):
			return none, "the return was untimely when the bank took it (its window of " + c.ReturnCode + " closed " +
				ReturnDeadline(c.ReturnCode, p.Settled).In(eastern).Format("2006-01-02 15:04 MST") + ")", nil
		}
		applied = "the other bank corrected its return (R74): the return " + c.ReturnCode + " is applied as corrected"
	}
	switch p.Status {
	case StatusSettled:
		return p, applied, nil
	case StatusReturned:
		es, err := s.st.EntriesOf(ctx, p.ID)
		if err != nil {
			return none, "", err
		}
		for _, x := range es {
			if x.Status == EntryPosted && (x.Kind == EntryReturn || x.Kind == EntryContest && (x.File != f.ID || x.Trace != c.Trace)) {
				return none, "the entry was returned before", nil
			}
		}
		return p, applied, nil // by this contest, before the run died
	}
	return none, "the payment is " + string(p.Status), nil
}

// returnTxCode is the transaction code of a return of the bank's entry p:
// 21/31 a credit's, 26/36 a debit's (NACHA Operating Rules, Appendix
// Three, Transaction Codes).
func returnTxCode(p Payment) int {
	switch {
	case p.Kind == KindDebit && p.Type == Savings:
		return ach.SavingsReturnNOCDebit
	case p.Kind == KindDebit:
		return ach.CheckingReturnNOCDebit
	case p.Type == Savings:
		return ach.SavingsReturnNOCCredit
	}
	return ach.CheckingReturnNOCCredit
}

// returnLate applies a return whose dishonour the other bank contested
// successfully, as a timely return is applied (applyReturn): a credit's
// money goes back to the customer, a collection is returned by the
// overdraft-on-return rule.
func (s *Service) returnLate(ctx context.Context, p Payment, code string, settle ledger.Account) (Payment, error) {
	words := ReturnWords(code)
	if p.Kind == KindDebit {
		return s.returnDebit(ctx, p, code, words, settle)
	}
	t, _, err := s.led.Transfer(ctx, ledger.Request{Client: Client, Key: fmt.Sprintf("ret:%d", p.ID), Currency: p.Currency,
		Description: "Returned: payment to " + p.Name + " (" + words + ")", Category: "transfer",
		Postings: []ledger.Posting{{Account: settle.ID, Amount: -p.Amount}, {Account: p.From, Amount: p.Amount}}})
	if err != nil {
		return p, err
	}
	from := p.Status
	p.Status, p.ReturnCode, p.Reason, p.Reversal = StatusReturned, code, words, t.ID
	_, err = s.move(ctx, p, from)
	return p, err
}
