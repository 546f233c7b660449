package rails

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/moov-io/ach"
	"github.com/moov-io/base"
)

// Origin is who the bank is in the files it sends: the ODFI and the
// originating company of its customers' payments.
type Origin struct {
	Routing     string // the bank's ABA routing number (ODFI)
	BankName    string // Immediate Origin Name, at most 23 characters
	CompanyName string // Company Name in each batch, at most 16 characters
	CompanyID   string // Company Identification, 10 characters ("1" and the EIN)
	// Operator is the ACH operator's routing number (Immediate Destination)
	// and OperatorName its name.
	Operator     string
	OperatorName string
}

// DefaultOrigin fills what Origin leaves empty.
func (o Origin) withDefaults() Origin {
	if o.BankName == "" {
		o.BankName = "BANKBRIDGE"
	}
	if o.CompanyName == "" {
		o.CompanyName = o.BankName
	}
	if len(o.CompanyName) > 16 {
		o.CompanyName = o.CompanyName[:16]
	}
	if o.CompanyID == "" {
		o.CompanyID = "1" + fmt.Sprintf("%09s", o.Routing)[:9]
	}
	if o.Operator == "" {
		o.Operator = "011000015" // the Federal Reserve Bank's FedACH routing number
	}
	if o.OperatorName == "" {
		o.OperatorName = "FEDERAL RESERVE BANK"
	}
	return o
}

// FileID identifies a NACHA file sent or received.
type FileID int64

// Trace returns the trace number of the entry of payment id sent by the
// ODFI routing: the ODFI's first eight digits and a seven-digit sequence
// (NACHA Operating Rules, Appendix Three, Entry Detail Record, field 11).
// It is derived from the payment id alone, so a file built again after a
// crash carries the same traces, and a return finds its payment by it.
func Trace(routing string, id PaymentID) string {
	return routing[:8] + fmt.Sprintf("%07d", int64(id)%10_000_000)
}

// ErrFile is a NACHA file that cannot be read or fails its checks; the
// message names the line and record.
var ErrFile = bankbridge.E(bankbridge.Invalid, "nacha_file_invalid", "the NACHA file is not valid")

// BuildFile writes the NACHA file that carries ps: one PPD batch per
// effective date and window (same day or not), entries in trace order. ps
// must have their traces set. modifier is the File ID Modifier (A-Z, 0-9)
// that tells apart files of one day.
func BuildFile(o Origin, created time.Time, modifier string, ps []Payment) ([]byte, error) {
	o = o.withDefaults()
	if len(ps) == 0 {
		return nil, errors.New("rails: a file needs at least one entry")
	}
	et := created.In(eastern)
	fh := ach.NewFileHeader()
	fh.ImmediateDestination = o.Operator
	fh.ImmediateOrigin = o.Routing
	fh.FileCreationDate = et.Format("060102")
	fh.FileCreationTime = et.Format("1504")
	fh.FileIDModifier = modifier
	fh.ImmediateDestinationName = o.OperatorName
	fh.ImmediateOriginName = strings.ToUpper(o.BankName)
	f := ach.NewFile()
	f.SetHeader(fh)

	type group struct {
		date    time.Time
		sameDay bool
		ret     bool   // returns go in batches of their own
		sec     string // debits go in batches of their Standard Entry Class
	}
	groups := map[group][]Payment{}
	for _, p := range ps {
		g := group{p.Effective, p.SameDay, p.Kind == KindReturn || p.Kind == KindDebitReturn, ""}
		if p.Kind == KindDebit {
			g.sec = p.SEC
		}
		if p.Kind == KindDebitReturn {
			g.sec = "R"
		}
		if isException(p.Kind) {
			// Dishonoured and contested returns in batches of their own,
			// one per direction (dishonor.go).
			g.ret, g.sec = true, fmt.Sprintf("X%d", transactionCode(p)%10)
		}
		groups[g] = append(groups[g], p)
	}
	keys := make([]group, 0, len(groups))
	for g := range groups {
		keys = append(keys, g)
	}
	sort.Slice(keys, func(i, j int) bool {
		if !keys[i].date.Equal(keys[j].date) {
			return keys[i].date.Before(keys[j].date)
		}
		if keys[i].ret != keys[j].ret {
			return !keys[i].ret
		}
		if keys[i].sec != keys[j].sec {
			return keys[i].sec < keys[j].sec
		}
		return !keys[i].sameDay && keys[j].sameDay
	})
	for n, g := range keys {
		entries := groups[g]
		bh := ach.NewBatchHeader()
		// Service class 220 credits only, 225 debits only (NACHA Operating
		// Rules, Appendix Three, Company/Batch Header Record, field 2).
		bh.ServiceClassCode = ach.CreditsOnly
		if transactionCode(entries[0])%10 >= 5 {
			bh.ServiceClassCode = ach.DebitsOnly
		}
		bh.CompanyName = strings.ToUpper(o.CompanyName)
		bh.CompanyIdentification = o.CompanyID
		bh.StandardEntryClassCode = ach.PPD
		bh.CompanyEntryDescription = "PAYMENT"
		if g.sec == ach.WEB {
			bh.StandardEntryClassCode = ach.WEB
		}
		if g.sec == ach.PPD || g.sec == ach.WEB {
			bh.CompanyEntryDescription = "COLLECTION"
		}
		if g.ret {
			bh.CompanyEntryDescription = "RETURN"
		}
		if g.sameDay {
			// "SD" and the hour the window settles tells the RDFI the
			// intent (NACHA Operating Rules, Appendix Three, Company
			// Descriptive Date: "SDHHMM" for Same Day ACH).
			bh.CompanyDescriptiveDate = "SD1700"
		}
		bh.EffectiveEntryDate = g.date.Format("060102")
		bh.ODFIIdentification = o.Routing[:8]
		bh.BatchNumber = n + 1
		b, err := ach.NewBatch(bh)
		if err != nil {
			return nil, fmt.Errorf("rails: build batch %d: %w", n+1, err)
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].Trace < entries[j].Trace })
		for _, p := range entries {
			e := ach.NewEntryDetail()
			e.TransactionCode = transactionCode(p)
			e.SetRDFI(p.Routing)
			e.DFIAccountNumber = string(p.Number)
			e.Amount = int(p.Amount)
			e.IdentificationNumber = strconv.FormatInt(int64(p.ID), 10)
			e.IndividualName = strings.ToUpper(p.Name)
			e.TraceNumber = p.Trace
			e.Category = ach.CategoryForward
			if bh.StandardEntryClassCode == ach.WEB {
				// A WEB entry's Payment Type Code: "S" single entry (NACHA
				// Operating Rules, Appendix Three, WEB Entry Detail Record).
				e.SetPaymentType("S")
			}
			if isException(p.Kind) {
				if err := exceptionAddenda(e, p); err != nil {
					return nil, fmt.Errorf("rails: build batch %d: %w", n+1, err)
				}
			} else if p.Kind == KindReturn || p.Kind == KindDebitReturn {
				// The return names the entry it returns (NACHA Operating
				// Rules, Appendix Three, Addenda Record for Returns).
				a := ach.NewAddenda99()
				a.ReturnCode, a.OriginalTrace, a.OriginalDFI, a.TraceNumber = p.ReturnCode, p.Memo, o.Routing[:8], p.Trace
				e.Addenda99, e.AddendaRecordIndicator, e.Category = a, 1, ach.CategoryReturn
			}
			b.AddEntry(e)
		}
		if err := b.Create(); err != nil {
			return nil, fmt.Errorf("rails: build batch %d: %w", n+1, err)
		}
		f.AddBatch(b)
	}
	if err := f.Create(); err != nil {
		return nil, fmt.Errorf("rails: build file: %w", err)
	}
	var buf bytes.Buffer
	if err := ach.NewWriter(&buf).Write(f); err != nil {
		return nil, fmt.Errorf("rails: write file: %w", err)
	}
	return buf.Bytes(), nil
}

// transactionCode is the entry's code: 22/32 credit a checking/savings
// account, 23/33 their prenotes, 27/37 debit it, 21/31 and 26/36 return a
// credit or a debit (NACHA Operating Rules, Appendix Three, Transaction
// Codes).
func transactionCode(p Payment) int {
	switch {
	case isException(p.Kind):
		return exceptionTxCode(p)
	case p.Kind == KindDebit && p.Type == Savings:
		return ach.SavingsDebit
	case p.Kind == KindDebit:
		return ach.CheckingDebit
	case p.Kind == KindDebitReturn && p.Type == Savings:
		return ach.SavingsReturnNOCDebit
	case p.Kind == KindDebitReturn:
		return ach.CheckingReturnNOCDebit
	case p.Kind == KindReturn && p.Type == Savings:
		return ach.SavingsReturnNOCCredit
	case p.Kind == KindReturn:
		return ach.CheckingReturnNOCCredit
	case p.Kind == KindPrenote && p.Type == Savings:
		return ach.SavingsPrenoteCredit
	case p.Kind == KindPrenote:
		return ach.CheckingPrenoteCredit
	case p.Type == Savings:
		return ach.SavingsCredit
	}
	return ach.CheckingCredit
}

// Inbound is what an inbound file asks of the bank, read whole before
// anything is posted.
type Inbound struct {
	Origin  string // Immediate Origin of the file
	Returns []Return
	Changes []Change
	Credits []Credit
	// Debits are debits other banks' customers originated against
	// accounts here (27, 37).
	Debits  []Credit
	Refused []Credit // entries of kinds the bank does not take
	// Dishonors are dishonoured returns (R61-R70) of returns the bank
	// sent; Contests contested dishonoured returns (R71-R77) of
	// dishonours the bank sent (dishonor.go).
	Dishonors []Exception
	Contests  []Exception
	Entries   int
	Total     ledger.Amount
	Modifier  string
}

// Return is a returned entry: the receiving bank sent one of ours back.
type Return struct {
	Trace  string // the original entry's trace number
	Code   string // R01...
	Amount ledger.Amount
	// The return entry as it came, for a dishonour (dishonor.go): its own
	// trace, transaction code (21/31 a credit's return, 26/36 a debit's),
	// the RDFI it names (this bank, unless misrouted), the account and
	// name, the Original Receiving DFI of the addenda, and the batch's
	// settlement date (Julian day, as the operator wrote it).
	ReturnTrace string
	TxCode      int
	Routing     string
	Account     string
	Name        string
	OriginalDFI string
	Settlement  string
	// Nth is 1 for the first return of Trace in its file, 2 for a second
	// (a duplicate inside the file) and so on: the file's own order, so a
	// file read again numbers its returns the same (dishonor.go).
	Nth int
}

// Key is what the return's entry and bookings are keyed by within its
// file: the original trace for the first return of it, the trace and "#n"
// for the n-th, so a duplicate inside the file never takes the first's
// keys (`dishonor:<file>:<trace>#2`).
func (r Return) Key() string {
	if r.Nth <= 1 {
		return r.Trace
	}
	return r.Trace + "#" + strconv.Itoa(r.Nth)
}

// Change is a notification of change: the receiving bank posted the entry
// but says a detail of the receiver must be corrected for the next ones.
type Change struct {
	Trace     string
	Code      string // C01...
	Corrected string // the corrected data, as the addenda carries it
}

// Credit is an entry that credits an account here (payroll and other
// credits), or, in Inbound.Refused, one the bank does not take.
type Credit struct {
	Trace   string
	Routing string // the RDFI: this bank
	Account string
	Name    string
	Company string
	Amount  ledger.Amount
	Code    int
	SEC     string // the batch's Standard Entry Class code
}

// ParseFile reads an inbound NACHA file whole with moov-io/ach and
// validates it (record lengths, totals, entry hash, trace order). An error
// names the line and record it found first, and nothing is returned to post.
func ParseFile(b []byte) (Inbound, error) {
	if len(b) == 0 {
		return Inbound{}, ErrFile.WithMessage("the file is empty")
	}
	r := ach.NewReader(bytes.NewReader(b))
	r.SetMaxLines(1_000_000)
	f, err := r.Read()
	if err != nil {
		return Inbound{}, fileError(err)
	}
	if err := f.Validate(); err != nil {
		return Inbound{}, fileError(err)
	}
	in := Inbound{Origin: strings.TrimSpace(f.Header.ImmediateOrigin), Modifier: f.Header.FileIDModifier}
	nth := map[string]int{} // returns of each original trace so far
	for _, bt := range f.Batches {
		bh := bt.GetHeader()
		for _, e := range bt.GetEntries() {
			in.Entries++
			in.Total += ledger.Amount(e.Amount)
			switch {
			case e.Addenda99Dishonored != nil:
				in.Dishonors = append(in.Dishonors, dishonorOf(e, bh))
			case e.Addenda99Contested != nil:
				in.Contests = append(in.Contests, contestOf(e, bh))
			case e.Addenda99 != nil:
				orig := e.Addenda99.OriginalTraceField()
				nth[orig]++
				in.Returns = append(in.Returns, Return{Trace: orig, Code: e.Addenda99.ReturnCode, Amount: ledger.Amount(e.Amount),
					ReturnTrace: e.TraceNumberField(), TxCode: e.TransactionCode, Routing: e.RDFIIdentification + e.CheckDigit,
					Account: strings.TrimSpace(e.DFIAccountNumber), Name: strings.TrimSpace(e.IndividualName),
					OriginalDFI: strings.TrimSpace(e.Addenda99.OriginalDFI), Settlement: strings.TrimSpace(bh.SettlementDate), Nth: nth[orig]})
			case e.Addenda98 != nil:
				in.Changes = append(in.Changes, Change{Trace: e.Addenda98.OriginalTraceField(), Code: e.Addenda98.ChangeCode,
					Corrected: strings.TrimSpace(e.Addenda98.CorrectedData)})
			default:
				c := Credit{Trace: e.TraceNumberField(), Routing: e.RDFIIdentification + e.CheckDigit, Account: strings.TrimSpace(e.DFIAccountNumber),
					Name: strings.TrimSpace(e.IndividualName), Company: strings.TrimSpace(bh.CompanyName), Amount: ledger.Amount(e.Amount), Code: e.TransactionCode,
					SEC: bh.StandardEntryClassCode}
				switch {
				case (c.Code == ach.CheckingCredit || c.Code == ach.SavingsCredit) && c.Amount > 0:
					in.Credits = append(in.Credits, c)
				case (c.Code == ach.CheckingDebit || c.Code == ach.SavingsDebit) && c.Amount > 0 && (c.SEC == ach.PPD || c.SEC == ach.WEB):
					in.Debits = append(in.Debits, c)
				default:
					in.Refused = append(in.Refused, c)
				}
			}
		}
	}
	return in, nil
}

// fileError names the first problem moov-io/ach found: its line and record.
func fileError(err error) error {
	var list base.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		err = list[0]
	}
	switch {
	case errors.Is(err, ach.ErrFileControl):
		return ErrFile.WithMessage("the file ends without its File Control record (type 9): it is truncated")
	case errors.Is(err, ach.ErrFileHeader):
		return ErrFile.WithMessage("the file does not start with a File Header record (type 1)")
	}
	var pe *base.ParseError
	if errors.As(err, &pe) {
		rec := pe.Record
		if rec == "" {
			rec = "record"
		}
		return ErrFile.WithMessage(fmt.Sprintf("line %d (%s): %v", pe.Line, rec, pe.Err))
	}
	var fe *ach.FileError
	if errors.As(err, &fe) {
		return ErrFile.WithMessage(fmt.Sprintf("file control (%s): %s", fe.FieldName, fe.Msg))
	}
	var be *ach.BatchError
	if errors.As(err, &be) {
		return ErrFile.WithMessage(fmt.Sprintf("batch %d (%s): %v", be.BatchNumber, be.FieldName, be.Err))
	}
	return ErrFile.WithMessage(err.Error())
}
