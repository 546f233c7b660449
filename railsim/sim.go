package railsim

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moov-io/ach"
)

// Routing is the emulator's own routing number: the operator's, in the
// files it sends (the Federal Reserve's FedACH routing number).
const Routing = "011000015"

// Scenario accounts: a payment to one of these account numbers comes back
// with the return (or change) code beside it, as the receiving bank would
// send it. Any other account settles.
var Scenarios = map[string]string{
	"1111111111": "R01", // insufficient funds
	"2222222222": "R02", // account closed
	"3333333333": "R03", // no account / unable to locate
	"4444444444": "R04", // invalid account number structure
	"5555555555": "C01", // notification of change: the account number is 5555555556
	"6666666666": "R10", // debits only: the customer says they never authorised it
}

// isDebit says whether a transaction code debits the receiver's account
// (the ones digit 5-9: NACHA Operating Rules, Appendix Three, Transaction
// Codes).
func isDebit(code int) bool { return code%10 >= 5 }

// NOCCorrection is the corrected account number the C01 scenario sends.
const NOCCorrection = "5555555556"

// Options configure the emulator.
type Options struct {
	// SettleAfter delays settlement of a received file; 0 settles at once.
	SettleAfter time.Duration
	Now         func() time.Time
}

// Sim is the emulator. Safe for concurrent use.
type Sim struct {
	o     Options
	mu    sync.Mutex
	banks map[string]*bank
	seq   int
	// traces numbers the emulator's returns, dishonours and contests,
	// unique across its files (exceptions.go).
	traces int
}

type bank struct {
	files  map[string]*file
	order  []string
	outbox map[string][]byte
	outord []string
	sent   []sentFile // what the emulator sent the bank, for the page
	// instants are the instant payments taken, by message id.
	instants     map[string]*instant
	instantOrder []string
	// iso is the bank's instant inbox (pacs.008 credits to it, pacs.004
	// returns of its payments, camt.056 requests to return), by id.
	iso      map[string][]byte
	isoOrder []string
	// inbound are the instant credits sent to the bank, by end-to-end id;
	// recalls the answers to the bank's requests for return, by case id.
	inbound      map[string]*inbound
	inboundOrder []string
	recalls      map[string][]byte
	// position is the bank's net with the operator: credits it sent and
	// settled, less returns of them, less credits it received.
	position int64
	// exc is the bank's returns, dishonours and contests (exceptions.go).
	exc *exceptions
}

type file struct {
	name     string
	hash     [32]byte
	received time.Time
	settled  time.Time
	entries  []entry
}

type entry struct {
	trace, name, account, routing string
	amount                        int64
	code                          int
	outcome                       string // "settled", "R01", "C01", "returned R03"...
	// ret is a return the bank sends back (of a credit it could not
	// post), its code; scenarios do not apply to it. orig is the entry it
	// returns; dis and con a dishonour or contest the bank sends
	// (exceptions.go), ret their code.
	ret  string
	orig string
	dis  *ach.Addenda99Dishonored
	con  *ach.Addenda99Contested
}

type sentFile struct {
	Name, What string
	At         time.Time
}

// New returns an emulator.
func New(o Options) *Sim {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Sim{o: o, banks: map[string]*bank{}}
}

func (s *Sim) bank(routing string) *bank {
	b := s.banks[routing]
	if b == nil {
		b = &bank{files: map[string]*file{}, outbox: map[string][]byte{}}
		s.banks[routing] = b
	}
	return b
}

// Handler serves the exchange under /ach/ and the page at /.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /ach/{routing}/files/{name}", s.put)
	mux.HandleFunc("GET /ach/{routing}/files/{name}", s.status)
	mux.HandleFunc("GET /ach/{routing}/outbox", s.list)
	mux.HandleFunc("GET /ach/{routing}/outbox/{name}", s.get)
	mux.HandleFunc("DELETE /ach/{routing}/outbox/{name}", s.ack)
	mux.HandleFunc("POST /ach/{routing}/credits", s.credit)
	mux.HandleFunc("POST /ach/{routing}/debits", s.debit)
	mux.HandleFunc("POST /ach/{routing}/returns", s.returnForm)
	mux.HandleFunc("POST /ach/{routing}/dishonors", s.dishonorForm)
	mux.HandleFunc("POST /ach/{routing}/corrections", s.correctionForm)
	mux.HandleFunc("POST /instant/{routing}/messages", s.instantMsg)
	mux.HandleFunc("GET /instant/{routing}/inbox", s.isoList)
	mux.HandleFunc("POST /instant/{routing}/credits", s.instantForm)
	mux.HandleFunc("POST /instant/{routing}/recalls", s.instantForm)
	mux.HandleFunc("GET /instant/{routing}/inbox/{id}", s.isoGet)
	mux.HandleFunc("DELETE /instant/{routing}/inbox/{id}", s.isoAck)
	mux.HandleFunc("GET /{$}", s.page)
	return mux
}

func validName(n string) bool {
	return n != "" && len(n) <= 100 && strings.IndexFunc(n, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) < 0
}

// put takes a file. The operator checks it whole, as FedACH edits a file
// before accepting it (FedACH Services Operating Circular 4, file edits):
// an invalid file is refused with the line and record at fault.
func (s *Sim) put(w http.ResponseWriter, r *http.Request) {
	routing, name := r.PathValue("routing"), r.PathValue("name")
	if !validName(name) || ach.CheckRoutingNumber(routing) != nil {
		http.Error(w, "bad routing number or file name", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		http.Error(w, "read: "+err.Error(), http.StatusBadRequest)
		return
	}
	h := sha256.Sum256(body)
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bank(routing)
	if f, ok := b.files[name]; ok {
		if f.hash != h {
			http.Error(w, "a different file of this name was received before", http.StatusConflict)
			return
		}
		w.WriteHeader(http.StatusOK) // the same file again: taken once
		return
	}
	rd := ach.NewReader(bytes.NewReader(body))
	af, err := rd.Read()
	if err == nil {
		err = af.Validate()
	}
	if err != nil {
		http.Error(w, "file refused: "+err.Error(), http.StatusBadRequest)
		return
	}
	if strings.TrimSpace(af.Header.ImmediateOrigin) != routing {
		http.Error(w, "the file's Immediate Origin is not the sender's routing number", http.StatusBadRequest)
		return
	}
	if err := s.checkExceptions(b, af); err != nil {
		http.Error(w, "file refused: "+err.Error(), http.StatusBadRequest)
		return
	}
	f := &file{name: name, hash: h, received: s.o.Now()}
	for _, bt := range af.Batches {
		for _, e := range bt.GetEntries() {
			en := entry{trace: e.TraceNumberField(), name: strings.TrimSpace(e.IndividualName),
				account: strings.TrimSpace(e.DFIAccountNumber), routing: e.RDFIIdentification + e.CheckDigit, amount: int64(e.Amount), code: e.TransactionCode}
			switch {
			case e.Addenda99 != nil:
				en.ret, en.orig = e.Addenda99.ReturnCode, strings.TrimSpace(e.Addenda99.OriginalTrace)
			case e.Addenda99Dishonored != nil:
				en.ret, en.dis = e.Addenda99Dishonored.DishonoredReturnReasonCode, e.Addenda99Dishonored
			case e.Addenda99Contested != nil:
				en.ret, en.con = e.Addenda99Contested.ContestedReturnCode, e.Addenda99Contested
			}
			f.entries = append(f.entries, en)
		}
	}
	b.files[name] = f
	b.order = append(b.order, name)
	if s.o.SettleAfter == 0 {
		s.settle(routing, b, f)
	}
	w.WriteHeader(http.StatusCreated)
}

// settle settles a file and queues the returns and changes its scenario
// accounts draw. Called with s.mu held.
func (s *Sim) settle(routing string, b *bank, f *file) {
	f.settled = s.o.Now()
	var changes []entry
	for i := range f.entries {
		e := &f.entries[i]
		e.outcome = "settled"
		code := Scenarios[e.account]
		if e.ret != "" {
			// The bank gives back an entry it received: a credit's return
			// repays the originator's bank, so its position rises; a
			// debit's return (26, 36) takes back what it paid.
			e.outcome = "returned " + e.ret
			if isDebit(e.code) {
				b.position -= e.amount
			} else {
				b.position += e.amount
			}
			s.answer(b, f, e)
			continue
		}
		if s.scenario(routing, b, f, e) {
			continue
		}
		// A debit the bank originated is paid to it (its position falls);
		// a credit it sent is paid by it.
		sign := int64(1)
		if isDebit(e.code) {
			sign = -1
		} else if code == "R10" {
			code = "" // unauthorised is a debit's return only
		}
		switch {
		case strings.HasPrefix(code, "R"):
			// Settled, and returned at once: a return of the emulator's,
			// which the bank may dishonour (exceptions.go).
			e.outcome = code
			b.position += sign * e.amount
			it, r := s.returnItem(b, *e, f.settled, code, e.amount)
			s.sendReturn(b, it, r)
		case strings.HasPrefix(code, "C"):
			e.outcome = code
			changes = append(changes, *e)
			b.position += sign * e.amount
		default:
			b.position += sign * e.amount
		}
	}
	s.flush(routing, b)
	if len(changes) > 0 {
		body, err := changeFile(routing, s.o.Now(), changes)
		s.queue(routing, b, "COR", "changes for "+f.name, body, err)
	}
}

func (s *Sim) queue(routing string, b *bank, kind, what string, body []byte, err error) {
	if err != nil {
		b.sent = append(b.sent, sentFile{Name: "(failed)", What: what + ": " + err.Error(), At: s.o.Now()})
		return
	}
	s.seq++
	name := fmt.Sprintf("%s-%s-%06d.ach", kind, s.o.Now().UTC().Format("20060102"), s.seq)
	b.outbox[name] = body
	b.outord = append(b.outord, name)
	b.sent = append(b.sent, sentFile{Name: name, What: what, At: s.o.Now()})
}

// Settle settles every file received and not settled yet (SettleAfter > 0
// leaves them waiting until their time, or this call).
func (s *Sim) Settle(force bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	now := s.o.Now()
	for routing, b := range s.banks {
		s.released(routing, b)
		for _, name := range b.order {
			f := b.files[name]
			if f.settled.IsZero() && (force || now.Sub(f.received) >= s.o.SettleAfter) {
				s.settle(routing, b, f)
				n++
			}
		}
	}
	return n
}

func (s *Sim) status(w http.ResponseWriter, r *http.Request) {
	if s.o.SettleAfter > 0 {
		s.Settle(false)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.bank(r.PathValue("routing")).files[r.PathValue("name")]
	if !ok {
		http.Error(w, "no such file", http.StatusNotFound)
		return
	}
	st := "received"
	if !f.settled.IsZero() {
		st = "settled"
	}
	writeJSON(w, map[string]string{"status": st})
}

func (s *Sim) list(w http.ResponseWriter, r *http.Request) {
	if s.o.SettleAfter > 0 {
		s.Settle(false)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bank(r.PathValue("routing"))
	s.released(r.PathValue("routing"), b)
	names := []string{}
	for _, n := range b.outord {
		if _, ok := b.outbox[n]; ok {
			names = append(names, n)
		}
	}
	writeJSON(w, names)
}

func (s *Sim) get(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	body, ok := s.bank(r.PathValue("routing")).outbox[r.PathValue("name")]
	s.mu.Unlock()
	if !ok {
		http.Error(w, "no such file", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Write(body)
}

func (s *Sim) ack(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bank(r.PathValue("routing"))
	if _, ok := b.outbox[r.PathValue("name")]; !ok {
		http.Error(w, "no such file", http.StatusNotFound)
		return
	}
	delete(b.outbox, r.PathValue("name"))
	w.WriteHeader(http.StatusNoContent)
}

// Credit is an inbound credit the emulator sends a bank: payroll from a company.
type Credit struct {
	Account string
	Name    string
	Amount  int64 // cents
	Company string
}

// SendCredits queues a file of PPD credits to accounts at the bank routing.
func (s *Sim) SendCredits(routing string, cs []Credit) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body, err := creditFile(routing, s.o.Now(), cs, s.seq*100)
	if err != nil {
		return "", err
	}
	b := s.bank(routing)
	for i := range cs {
		b.x().forward[fmt.Sprintf("23138010%07d", s.seq*100+i+1)] = s.o.Now()
	}
	s.queue(routing, b, "CR", fmt.Sprintf("%d credit(s) from %s", len(cs), cs[0].Company), body, nil)
	for _, c := range cs {
		b.position -= c.Amount
	}
	return b.outord[len(b.outord)-1], nil
}

func (s *Sim) credit(w http.ResponseWriter, r *http.Request) {
	e, ok := readEntry(w, r, "ACME PAYROLL", "EMPLOYEE")
	if !ok {
		return
	}
	_, err := s.SendCredits(e.routing, []Credit{{Account: e.account, Name: e.name, Amount: e.cents, Company: e.company}})
	entered(w, r, err)
}

// entryForm is an inbound entry asked for on the page or by a test: the
// bank's routing number in the path, the account, cents, the company and
// the name in the form.
type entryForm struct {
	routing, account, company, name string
	cents                           int64
}

// readEntry reads an entryForm, with company and name by default when
// empty; false means it answered 400.
func readEntry(w http.ResponseWriter, r *http.Request, company, name string) (entryForm, bool) {
	e := entryForm{routing: r.PathValue("routing")}
	if ach.CheckRoutingNumber(e.routing) != nil {
		http.Error(w, "bad routing number", http.StatusBadRequest)
		return e, false
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return e, false
	}
	amt, err := strconv.ParseInt(r.PostForm.Get("cents"), 10, 64)
	e.cents, e.account = amt, strings.TrimSpace(r.PostForm.Get("account"))
	if err != nil || amt <= 0 || amt > 99_999_999_99 || e.account == "" || len(e.account) > 17 {
		http.Error(w, "give account (up to 17 characters) and cents (a positive amount)", http.StatusBadRequest)
		return e, false
	}
	e.company = cmp.Or(strings.TrimSpace(r.PostForm.Get("company")), company)
	e.name = cmp.Or(strings.TrimSpace(r.PostForm.Get("name")), name)
	return e, true
}

// entered answers an entry asked for: 400 with err, back to the page when
// the page asked, else 201.
func entered(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.PostForm.Get("page") != "" {
		// Relative, so the page works wherever the emulator is mounted.
		http.Redirect(w, r, "../../../", http.StatusSeeOther)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

// Debit is an inbound debit the emulator sends a bank: a company collecting
// from one of the bank's customers (a utility bill, a gym).
type Debit struct {
	Account string
	Name    string
	Amount  int64 // cents
	Company string
	SEC     string // "PPD" (default) or "WEB"
}

// SendDebits queues a file of debits to accounts at the bank routing; the
// operator settles them against the bank at once (its position rises).
func (s *Sim) SendDebits(routing string, ds []Debit) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body, err := debitFile(routing, s.o.Now(), ds, s.seq*100)
	if err != nil {
		return "", err
	}
	b := s.bank(routing)
	for i := range ds {
		b.x().forward[fmt.Sprintf("23138010%07d", s.seq*100+i+1)] = s.o.Now()
	}
	s.queue(routing, b, "DR", fmt.Sprintf("%d debit(s) by %s", len(ds), ds[0].Company), body, nil)
	for _, d := range ds {
		b.position += d.Amount
	}
	return b.outord[len(b.outord)-1], nil
}

func (s *Sim) debit(w http.ResponseWriter, r *http.Request) {
	e, ok := readEntry(w, r, "CITY POWER", "CUSTOMER")
	if !ok {
		return
	}
	sec := cmp.Or(strings.ToUpper(strings.TrimSpace(r.PostForm.Get("sec"))), ach.PPD)
	if sec != ach.PPD && sec != ach.WEB {
		http.Error(w, "sec is PPD or WEB", http.StatusBadRequest)
		return
	}
	_, err := s.SendDebits(e.routing, []Debit{{Account: e.account, Name: e.name, Amount: e.cents, Company: e.company, SEC: sec}})
	entered(w, r, err)
}

// Position returns the bank's net with the operator, in cents: what it
// sent and was settled less returns, less credits sent to it.
func (s *Sim) Position(routing string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bank(routing).position
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// changeFile builds the operator's file to the ODFI routing of
// notifications of change for es: one COR batch, each entry with its
// Addenda98 naming the original trace (NACHA Operating Rules, Appendix
// Five; record layouts as moov-io/ach writes them). Returns go out as
// exception items (returnItem).
func changeFile(odfi string, at time.Time, es []entry) ([]byte, error) {
	f := ach.NewFile()
	f.SetHeader(header(odfi, at))
	bh := ach.NewBatchHeader()
	bh.ServiceClassCode = ach.MixedDebitsAndCredits
	bh.CompanyName = "RAILSIM RDFI"
	bh.CompanyIdentification = "9" + Routing
	bh.CompanyEntryDescription = "CHANGE"
	bh.StandardEntryClassCode = ach.COR
	bh.ODFIIdentification = Routing[:8]
	b := ach.NewBatchCOR(bh)
	sort.Slice(es, func(i, j int) bool { return es[i].trace < es[j].trace })
	for i, e := range es {
		ed := ach.NewEntryDetail()
		// 21/31 for a credit, 26/36 for a debit (returnCodeOf).
		ed.TransactionCode = returnCodeOf(e.code)
		ed.SetRDFI(odfi)
		ed.DFIAccountNumber = e.account
		ed.IndividualName = e.name
		ed.SetTraceNumber(Routing[:8], i+1)
		ed.AddendaRecordIndicator = 1
		a := ach.NewAddenda98()
		a.ChangeCode = Scenarios[e.account]
		a.OriginalTrace = e.trace
		a.OriginalDFI = e.routing[:8]
		a.CorrectedData = NOCCorrection
		a.TraceNumber = ed.TraceNumber
		ed.Addenda98 = a
		ed.Category = ach.CategoryNOC
		b.AddEntry(ed)
	}
	return write(f, b)
}

func header(to string, at time.Time) ach.FileHeader {
	fh := ach.NewFileHeader()
	fh.ImmediateDestination = to
	fh.ImmediateOrigin = Routing
	fh.FileCreationDate = at.Format("060102")
	fh.FileCreationTime = at.Format("1504")
	fh.FileIDModifier = "A"
	fh.ImmediateDestinationName = "RDFI"
	fh.ImmediateOriginName = "RAILSIM OPERATOR"
	return fh
}

func write(f *ach.File, b ach.Batcher) ([]byte, error) {
	if err := b.Create(); err != nil {
		return nil, err
	}
	f.AddBatch(b)
	if err := f.Create(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := ach.NewWriter(&buf).Write(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// debitFile builds a file of debits (PPD or WEB, by the first's SEC code)
// from companies at other banks to accounts at the bank rdfi: service class
// 225, transaction code 27 (NACHA Operating Rules, Appendix Three); a WEB
// entry carries its Payment Type Code ("S", single).
func debitFile(rdfi string, at time.Time, ds []Debit, seq int) ([]byte, error) {
	if len(ds) == 0 {
		return nil, errors.New("railsim: no debits")
	}
	sec := ach.PPD
	if ds[0].SEC == ach.WEB {
		sec = ach.WEB
	}
	bh := inboundBatch(ach.DebitsOnly, ds[0].Company, "1234567891", sec, "BILL", at)
	b, err := ach.NewBatch(bh)
	if err != nil {
		return nil, err
	}
	for i, d := range ds {
		ed := inboundEntry(rdfi, ach.CheckingDebit, d.Account, d.Name, d.Amount, bh, seq+i+1)
		if sec == ach.WEB {
			ed.SetPaymentType("S")
		}
		b.AddEntry(ed)
	}
	return write(fileFor(rdfi, at), b)
}

// creditFile builds a file of PPD credits (payroll) from companies at other
// banks to accounts at the bank rdfi.
func creditFile(rdfi string, at time.Time, cs []Credit, seq int) ([]byte, error) {
	if len(cs) == 0 {
		return nil, errors.New("railsim: no credits")
	}
	bh := inboundBatch(ach.CreditsOnly, cs[0].Company, "1234567890", ach.PPD, "PAYROLL", at)
	b := ach.NewBatchPPD(bh)
	for i, c := range cs {
		b.AddEntry(inboundEntry(rdfi, ach.CheckingCredit, c.Account, c.Name, c.Amount, bh, seq+i+1))
	}
	return write(fileFor(rdfi, at), b)
}

// fileFor starts a file from the operator to the bank rdfi.
func fileFor(rdfi string, at time.Time) *ach.File {
	f := ach.NewFile()
	f.SetHeader(header(rdfi, at))
	return f
}

// inboundBatch is the header of a batch a company at another bank (ODFI
// 23138010) sends the bank: its name cut to the field's 16 positions
// (NACHA Operating Rules, Appendix Three, Company Batch Header Record).
func inboundBatch(class int, company, id, sec, desc string, at time.Time) *ach.BatchHeader {
	bh := ach.NewBatchHeader()
	bh.ServiceClassCode = class
	bh.CompanyName = strings.ToUpper(company)
	if len(bh.CompanyName) > 16 {
		bh.CompanyName = bh.CompanyName[:16]
	}
	bh.CompanyIdentification = id
	bh.StandardEntryClassCode = sec
	bh.CompanyEntryDescription = desc
	bh.EffectiveEntryDate = at.Format("060102")
	bh.ODFIIdentification = "23138010"
	return bh
}

// inboundEntry is one forward entry of a batch bh to an account at rdfi.
func inboundEntry(rdfi string, code int, account, name string, amount int64, bh *ach.BatchHeader, trace int) *ach.EntryDetail {
	ed := ach.NewEntryDetail()
	ed.TransactionCode = code
	ed.SetRDFI(rdfi)
	ed.DFIAccountNumber = account
	ed.Amount = int(amount)
	ed.IndividualName = strings.ToUpper(name)
	ed.SetTraceNumber(bh.ODFIIdentification, trace)
	ed.Category = ach.CategoryForward
	return ed
}
