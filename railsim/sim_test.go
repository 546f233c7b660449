package railsim_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bankbridge/bankbridge/railsim"
	"github.com/moov-io/ach"
)

const bank = "021000089"

func TestSimRefusesWhatFedACHWouldRefuse(t *testing.T) {
	t.Parallel()
	sim := railsim.New(railsim.Options{})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	c := &railsim.Client{Base: srv.URL, Routing: bank}
	ctx := context.Background()
	for _, tc := range []struct{ name, body, want string }{
		{"NotAFile", "hello", "400"},
		{"Truncated", "101 011000015 0210000892612041500A094101FEDERAL RESERVE BANK   BANKBRIDGE             \n", "400"},
	} {
		if err := c.Send(ctx, tc.name+".ach", []byte(tc.body)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
	}
	bad := &railsim.Client{Base: srv.URL, Routing: "021000088"}
	if err := bad.Send(ctx, "x.ach", []byte("x")); err == nil {
		t.Error("a routing number with a bad check digit was taken")
	}
}

func TestSimCreditsAndPage(t *testing.T) {
	t.Parallel()
	sim := railsim.New(railsim.Options{})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	c := &railsim.Client{Base: srv.URL, Routing: bank}
	ctx := context.Background()
	res, err := http.PostForm(srv.URL+"/ach/"+bank+"/credits", map[string][]string{"account": {"100000000077"}, "cents": {"250000"}})
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("credit: %v %v", res, err)
	}
	names, err := c.Inbox(ctx)
	if err != nil || len(names) != 1 {
		t.Fatalf("inbox %v %v", names, err)
	}
	body, err := c.Get(ctx, names[0])
	if err != nil || !strings.HasPrefix(string(body), "101 021000089") {
		t.Fatalf("file: %.100s %v", body, err)
	}
	// The bank's file back under another name is refused: its origin is
	// the operator, not the bank.
	if err := c.Send(ctx, "echo.ach", body); err == nil {
		t.Error("a file whose Immediate Origin is not the sender was taken")
	}
	if err := c.Ack(ctx, names[0]); err != nil {
		t.Fatal(err)
	}
	if err := c.Ack(ctx, names[0]); err != nil {
		t.Fatalf("a second acknowledgement: %v", err)
	}
	if sim.Position(bank) != -250000 {
		t.Fatalf("position %d", sim.Position(bank))
	}
	page, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if !strings.Contains(string(b), "Bank 021000089") || !strings.Contains(string(b), "-$2500.00") {
		t.Fatalf("page: %s", b)
	}
}

func TestSimDebitAndInstantForms(t *testing.T) {
	t.Parallel()
	sim := railsim.New(railsim.Options{})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	post := func(path, form string) int {
		res, err := http.Post(srv.URL+path, "application/x-www-form-urlencoded", strings.NewReader(form))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, tc := range []struct {
		path, form string
		want       int
	}{
		{"/ach/" + bank + "/debits", "account=100000000016&cents=4500&sec=WEB", http.StatusCreated},
		{"/ach/" + bank + "/debits", "account=100000000016&cents=4500&sec=CCD", http.StatusBadRequest},
		{"/ach/" + bank + "/debits", "account=100000000016&cents=-1", http.StatusBadRequest},
		{"/instant/" + bank + "/credits", "account=100000000016&cents=15000", http.StatusCreated},
		{"/instant/" + bank + "/credits", "account=100000000016&cents=x", http.StatusBadRequest},
		{"/instant/" + bank + "/recalls", "e2e=nothing&reason=DUPL", http.StatusBadRequest},
		{"/instant/" + bank + "/recalls", "e2e=nothing&reason=XXXX", http.StatusBadRequest},
	} {
		if got := post(tc.path, tc.form); got != tc.want {
			t.Errorf("POST %s %s: %d, want %d", tc.path, tc.form, got, tc.want)
		}
	}
	c := &railsim.Client{Base: srv.URL, Routing: bank}
	ctx := context.Background()
	if names, err := c.Inbox(ctx); err != nil || len(names) != 1 || !strings.HasPrefix(names[0], "DR-") {
		t.Fatalf("ACH inbox: %v %v", names, err)
	}
	ids, err := c.InstantInbox(ctx)
	if err != nil || len(ids) != 1 || !strings.HasPrefix(ids[0], "PACS008-") {
		t.Fatalf("instant inbox: %v %v", ids, err)
	}
	if sim.Position(bank) != 4500 {
		t.Fatalf("position %d: the debit is settled against the bank at once", sim.Position(bank))
	}
	// Anything but an instant message the service takes is refused.
	if _, err := c.Instant(ctx, []byte(`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"/>`)); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("a pain.001 to the instant service: %v", err)
	}
}

// TestSimTakesDishonoursStrictly: a dishonoured return that names no
// return the operator sent refuses the whole file, naming the field.
func TestSimTakesDishonoursStrictly(t *testing.T) {
	t.Parallel()
	sim := railsim.New(railsim.Options{})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	c := &railsim.Client{Base: srv.URL, Routing: bank}
	ed := ach.NewEntryDetail()
	ed.TransactionCode = ach.CheckingReturnNOCCredit
	ed.SetRDFI("231380104")
	ed.DFIAccountNumber, ed.Amount, ed.IndividualName = "123456789", 5_00, "NOBODY"
	ed.SetTraceNumber("02100008", 1)
	a := ach.NewAddenda99Dishonored()
	a.DishonoredReturnReasonCode, a.OriginalEntryTraceNumber, a.OriginalReceivingDFIIdentification = "R68", "021000080000001", "23138010"
	a.ReturnTraceNumber, a.ReturnSettlementDate, a.ReturnReasonCode, a.TraceNumber = "011000010000009", "061", "03", ed.TraceNumber
	ed.Addenda99Dishonored, ed.AddendaRecordIndicator, ed.Category = a, 1, ach.CategoryDishonoredReturn
	err := c.Send(context.Background(), "dishonor.ach", bankFile(t, ed, "A"))
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "Return Trace Number 011000010000009 names no return") {
		t.Fatalf("a dishonour of no return: %v", err)
	}
	if err := sim.Dishonor(bank, "011000010000009", "R68"); err == nil {
		t.Fatal("the emulator dishonoured a return the bank never sent")
	}
	if _, err := sim.SendReturn(bank, "021000080000001", "R03", 0); err == nil {
		t.Fatal("a return of no entry, without an amount, was sent")
	}
	// A corrected return (R74) answers only a dishonour R69 the bank sent.
	if _, err := sim.Correct(bank, "021000080000001", 0); !errors.Is(err, railsim.ErrNoEntry) {
		t.Fatalf("a correction of no dishonour: %v", err)
	}
	res, err := http.PostForm(srv.URL+"/ach/"+bank+"/corrections", map[string][]string{"trace": {"021000080000001"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("the corrections form, of no dishonour: %d", res.StatusCode)
	}
}

// bankFile is a file of the bank's with the one entry ed (a credit, or a
// dishonour with its addenda, in a batch described RETURN), modifier its
// File ID Modifier.
func bankFile(t *testing.T, ed *ach.EntryDetail, modifier string) []byte {
	t.Helper()
	fh := ach.NewFileHeader()
	fh.ImmediateDestination, fh.ImmediateOrigin = railsim.Routing, bank
	fh.FileCreationDate, fh.FileCreationTime, fh.FileIDModifier = "260302", "1200", modifier
	fh.ImmediateDestinationName, fh.ImmediateOriginName = "FEDERAL RESERVE BANK", "BANKBRIDGE"
	bh := ach.NewBatchHeader()
	bh.ServiceClassCode, bh.CompanyName, bh.CompanyIdentification = ach.CreditsOnly, "BANKBRIDGE", "1021000089"
	bh.StandardEntryClassCode, bh.CompanyEntryDescription, bh.EffectiveEntryDate, bh.ODFIIdentification = ach.PPD, "PAYMENT", "260303", "02100008"
	if ed.Category == ach.CategoryDishonoredReturn {
		bh.CompanyEntryDescription = "RETURN"
	}
	b := ach.NewBatchPPD(bh)
	b.AddEntry(ed)
	f := ach.NewFile()
	f.SetHeader(fh)
	if err := b.Create(); err != nil {
		t.Fatal(err)
	}
	f.AddBatch(b)
	if err := f.Create(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ach.NewWriter(&buf).Write(f); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSimTakesR69FieldCodesStrictly: the bank's R69 of a return the
// emulator sent with a wrong amount must name that field, 03, in its
// Addenda Information (NACHA Operations Bulletin "Proper Use of Return
// Reason Code R69"); without codes, with an invalid one, or naming a field
// the return got right, the file is refused (400, naming the entry and
// field). The R69 that names 03 is taken.
func TestSimTakesR69FieldCodesStrictly(t *testing.T) {
	t.Parallel()
	sim := railsim.New(railsim.Options{})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	c := &railsim.Client{Base: srv.URL, Routing: bank}
	ctx := context.Background()
	ed := ach.NewEntryDetail()
	ed.TransactionCode = ach.CheckingCredit
	ed.SetRDFI("231380104")
	ed.DFIAccountNumber, ed.Amount, ed.IndividualName = "123456789", 40_00, "ANN SHORT"
	ed.SetTraceNumber("02100008", 1)
	if err := c.Send(ctx, "credit.ach", bankFile(t, ed, "A")); err != nil {
		t.Fatal(err)
	}
	ret, err := sim.SendReturn(bank, ed.TraceNumber, "R02", 4_00) // a field error: the amount
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct{ info, refusal string }{
		{"", "Addenda Information of the R69 names no field in error"},
		{"3", `"3" is not a field-error code`},
		{"08", `"08" is not a field-error code`},
		{"03/02", `"03/02" is not a field-error code`},
		{"03*03", "names 03 twice"},
		{"02", "names 02 (Original Entry Trace Number), which the return " + ret + " carried right"},
		{"01*03", "names 01 (DFI Account Number), which the return " + ret + " carried right"},
		{"03", ""},
	} {
		d := ach.NewEntryDetail()
		d.TransactionCode = ach.CheckingReturnNOCCredit
		d.SetRDFI("231380104")
		d.DFIAccountNumber, d.Amount, d.IndividualName = "123456789", 4_00, "ANN SHORT"
		d.SetTraceNumber("02100008", 10+i)
		a := ach.NewAddenda99Dishonored()
		a.DishonoredReturnReasonCode, a.OriginalEntryTraceNumber, a.OriginalReceivingDFIIdentification = "R69", ed.TraceNumber, "23138010"
		a.ReturnTraceNumber, a.ReturnSettlementDate, a.ReturnReasonCode, a.TraceNumber = ret, "061", "02", d.TraceNumber
		a.AddendaInformation = tc.info
		d.Addenda99Dishonored, d.AddendaRecordIndicator, d.Category = a, 1, ach.CategoryDishonoredReturn
		err := c.Send(ctx, fmt.Sprintf("r69-%d.ach", i), bankFile(t, d, string(rune('B'+i))))
		if tc.refusal == "" {
			if err != nil {
				t.Fatalf("the R69 naming %q: %v", tc.info, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "entry "+d.TraceNumber) || !strings.Contains(err.Error(), tc.refusal) {
			t.Fatalf("the R69 naming %q: %v", tc.info, err)
		}
	}
}
