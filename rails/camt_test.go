package rails_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/rails"
)

func sampleStatements() []rails.Statement {
	return []rails.Statement{
		{ID: "STMT-1", Seq: 7, Account: "CORE000123456", Currency: "USD", Opening: 1_000_00, Closing: 1_000_00 + 2_500_000_00 - 12_34,
			Entries: []rails.StatementEntry{{Ref: "R1", Amount: 2_500_000_00, Info: "payroll"}, {Ref: "R2", Amount: -12_34}}},
		{ID: "STMT-2", Seq: 1, Account: "CORE000999", Currency: "JPY", Opening: -500, Closing: 500,
			Entries: []rails.StatementEntry{{Ref: "J1", Amount: 1000}}},
	}
}

func writeSample(t testing.TB) []byte {
	var buf bytes.Buffer
	if err := rails.WriteCamt053(&buf, "MSG-1", time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC), sampleStatements()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCamt053RoundTrip(t *testing.T) {
	t.Parallel()
	b := writeSample(t)
	if !bytes.Contains(b, []byte("<Amt Ccy=\"USD\">2500000.00</Amt>")) {
		t.Fatalf("amounts are not written as decimals:\n%s", b)
	}
	got, err := rails.ParseCamt053(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	want := sampleStatements()
	if len(got) != len(want) {
		t.Fatalf("%d statements", len(got))
	}
	for i, s := range got {
		w := want[i]
		if s.ID != w.ID || s.Seq != w.Seq || s.Account != w.Account || s.Currency != w.Currency || s.Opening != w.Opening || s.Closing != w.Closing ||
			!s.HasOpening || s.MsgID != "MSG-1" || len(s.Entries) != len(w.Entries) {
			t.Fatalf("statement %d: %+v, want %+v", i, s, w)
		}
		for j, e := range s.Entries {
			if e.Ref != w.Entries[j].Ref || e.Amount != w.Entries[j].Amount || e.Info != w.Entries[j].Info || e.Booked.IsZero() {
				t.Fatalf("entry %d/%d: %+v", i, j, e)
			}
		}
	}
	if got[0].Hash == got[1].Hash {
		t.Fatal("two statements hash alike")
	}
}

func TestCamt053Malformed(t *testing.T) {
	t.Parallel()
	good := string(writeSample(t))
	for _, tc := range []struct {
		name, from, to, want string
		all                  bool
	}{
		{"WrongNamespace", "camt.053.001.08", "camt.053.001.02", "camt.053: Document: not a Document of namespace urn:iso:std:iso:20022:tech:xsd:camt.053.001.08", false},
		{"AmountWithThreeDecimals", ">2500000.00<", ">2500000.001<", "Stmt[1]/Ntry[1]: Amt must be a positive amount with at most 2 decimals", false},
		{"YenWithDecimals", ">1000<", ">1000.5<", "Stmt[2]/Ntry[1]: Amt must be a positive amount with at most 0 decimals", false},
		{"NotANumber", ">2500000.00<", ">lots<", "Stmt[1]/Ntry[1]", false},
		{"BadIndicator", "<CdtDbtInd>DBIT</CdtDbtInd>", "<CdtDbtInd>DEBT</CdtDbtInd>", "CdtDbtInd must be CRDT or DBIT", false},
		{"UnknownCurrency", `JPY`, `XXX`, "Stmt[2]/Bal: currency \"XXX\" is not one the bank books", true},
		{"NoReference", ">R2<", "><", "Stmt[1]/Ntry[2]: AcctSvcrRef or NtryRef is required", true},
		{"DuplicateReference", ">R2<", ">R1<", "Stmt[1]/Ntry[2]: AcctSvcrRef \"R1\" appears twice", true},
		{"NoSequence", "<ElctrncSeqNb>7</ElctrncSeqNb>", "", "Stmt[1]: ElctrncSeqNb (or LglSeqNb) is required", false},
		{"SequenceNotWhole", "<ElctrncSeqNb>7</ElctrncSeqNb>", "<ElctrncSeqNb>7.5</ElctrncSeqNb>", "Stmt[1]/ElctrncSeqNb: a whole number", false},
		{"NoClosingBalance", "<Cd>CLBD</Cd>", "<Cd>ITBD</Cd>", "Stmt[1]: Bal: a closing balance (CLBD) is required", false},
		{"EntriesDoNotSumToClosing", ">12.34<", ">12.35<", "Stmt[1]: Bal: the opening balance", false},
		{"NoAccount", "<Othr><Id>CORE000123456</Id></Othr>", "<Othr></Othr>", "Stmt[1]/Acct: Id/Othr/Id or Id/IBAN is required", false},
		{"MismatchedTag", "</AcctSvcrRef>", "</AcctSvcrRf>", "Stmt[1]/Ntry[1]", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 1
			if tc.all {
				n = -1
			}
			in := strings.Replace(good, tc.from, tc.to, n)
			if in == good {
				t.Fatalf("%q is not in the sample", tc.from)
			}
			got, err := rails.ParseCamt053(strings.NewReader(in))
			if !errors.Is(err, rails.ErrMessage) || !strings.Contains(err.Error(), tc.want) || got != nil {
				t.Fatalf("got %v (%d statements), want an error naming %q", err, len(got), tc.want)
			}
		})
	}
}

// TestCamt053Truncated cuts the message at every length: each prefix is an
// error and yields no statement, so nothing of it can be posted.
func TestCamt053Truncated(t *testing.T) {
	t.Parallel()
	b := writeSample(t)
	for n := range len(b) - 1 {
		got, err := rails.ParseCamt053(bytes.NewReader(b[:n]))
		if err == nil || got != nil {
			t.Fatalf("cut at %d of %d: %v, %d statements", n, len(b), err, len(got))
		}
	}
}

func TestCamt054RoundTrip(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := rails.WriteCamt054(&buf, "N-1", time.Now(), sampleStatements()); err != nil {
		t.Fatal(err)
	}
	if _, err := rails.ParseCamt053(bytes.NewReader(buf.Bytes())); err == nil || !strings.Contains(err.Error(), "camt.053: Document: not a Document of namespace") {
		t.Fatalf("a camt.054 read as a camt.053: %v", err)
	}
	body := bytes.Clone(buf.Bytes())
	got, err := rails.ParseCore(&buf)
	if err != nil || len(got) != 2 {
		t.Fatalf("ParseCore: %v %d", err, len(got))
	}
	for i, s := range got {
		w := sampleStatements()[i]
		if !s.Intraday || s.Seq != 0 || s.HasOpening || s.Account != w.Account || len(s.Entries) != len(w.Entries) || s.Entries[0].Amount != w.Entries[0].Amount {
			t.Fatalf("notification %d: %+v", i, s)
		}
	}
	cut := body[:len(body)/2]
	if _, err := rails.ParseCore(bytes.NewReader(cut)); err == nil || !strings.Contains(err.Error(), "camt.054: ") {
		t.Fatalf("a truncated camt.054: %v", err)
	}
}

func TestCamt052RoundTrip(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := rails.WriteCamt052(&buf, "R-1", time.Now(), sampleStatements()); err != nil {
		t.Fatal(err)
	}
	body := bytes.Clone(buf.Bytes())
	if !bytes.Contains(body, []byte("camt.052.001.08")) || !bytes.Contains(body, []byte("<BkToCstmrAcctRpt>")) || !bytes.Contains(body, []byte("<Rpt>")) {
		t.Fatalf("not a camt.052:\n%s", body)
	}
	if _, err := rails.ParseCamt053(bytes.NewReader(body)); err == nil {
		t.Fatal("a camt.052 read as a camt.053")
	}
	for _, parse := range []func(io.Reader) ([]rails.Statement, error){rails.ParseCamt052, rails.ParseCore} {
		got, err := parse(bytes.NewReader(body))
		if err != nil || len(got) != 2 {
			t.Fatalf("parse: %v %d", err, len(got))
		}
		for i, s := range got {
			w := sampleStatements()[i]
			if !s.Intraday || s.Seq != 0 || s.Account != w.Account || len(s.Entries) != len(w.Entries) || s.Entries[0].Amount != w.Entries[0].Amount {
				t.Fatalf("report %d: %+v", i, s)
			}
		}
	}
	if _, err := rails.ParseCore(bytes.NewReader(body[:len(body)/2])); err == nil || !strings.Contains(err.Error(), "camt.052: ") {
		t.Fatalf("a truncated camt.052: %v", err)
	}
}

func FuzzParseCore(f *testing.F) {
	f.Add(writeSample(f))
	var r bytes.Buffer
	rails.WriteCamt052(&r, "R", time.Now(), sampleStatements())
	f.Add(r.Bytes())
	var n bytes.Buffer
	rails.WriteCamt054(&n, "N", time.Now(), sampleStatements())
	f.Add(n.Bytes())
	f.Add([]byte(`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt></BkToCstmrStmt></Document>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ss, err := rails.ParseCore(bytes.NewReader(b))
		if err != nil {
			if ss != nil || !errors.Is(err, rails.ErrMessage) {
				t.Fatalf("an error with statements, or of another kind: %v", err)
			}
			return
		}
		for _, s := range ss {
			// What is read is whole: a sequence, an account, a known
			// currency, entries with a reference and an amount, and the
			// closing balance their sum when an opening was given.
			if (s.Seq < 1) != s.Intraday || s.Account == "" || !s.Currency.Valid() {
				t.Fatalf("statement %+v", s)
			}
			sum := s.Opening
			for _, e := range s.Entries {
				if e.Ref == "" || e.Amount == 0 {
					t.Fatalf("entry %+v", e)
				}
				sum += e.Amount
			}
			if s.HasOpening && !s.Intraday && sum != s.Closing {
				t.Fatalf("closing %d, entries sum to %d", s.Closing, sum)
			}
			var buf bytes.Buffer
			write := rails.WriteCamt053
			if s.Intraday {
				write = rails.WriteCamt054
			}
			if err := write(&buf, s.MsgID, time.Now(), []rails.Statement{s}); err != nil {
				t.Fatal(err)
			}
			back, err := rails.ParseCore(&buf)
			if err != nil || len(back) != 1 || (!s.Intraday && back[0].Closing != s.Closing) || len(back[0].Entries) != len(s.Entries) {
				t.Fatalf("round trip of %+v: %v", s, err)
			}
		}
	})
}
