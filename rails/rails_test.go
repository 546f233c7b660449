package rails_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/rails"
)

func TestCheckRouting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"021000089", true}, {"231380104", true}, {"011000015", true},
		{"021000088", false}, {"02100008", false}, {"0210000890", false}, {"02100008a", false}, {"", false},
	} {
		if err := rails.CheckRouting(tc.in); (err == nil) != tc.ok {
			t.Errorf("CheckRouting(%q) = %v, want ok %v", tc.in, err, tc.ok)
		}
	}
}

func TestEffective(t *testing.T) {
	t.Parallel()
	et, _ := time.LoadLocation("America/New_York")
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	var s rails.Schedule
	for _, tc := range []struct {
		name    string
		at      time.Time
		sameDay bool
		want    time.Time
		sd      bool
	}{
		{"SameDayBeforeTheLastCutoffSettlesToday", time.Date(2026, 12, 4, 16, 0, 0, 0, et), true, day(2026, 12, 4), true},
		{"SameDayAfterTheLastCutoffSettlesNextBankingDay", time.Date(2026, 12, 4, 17, 0, 0, 0, et), true, day(2026, 12, 7), false},
		{"StandardSettlesNextBankingDay", time.Date(2026, 12, 3, 9, 0, 0, 0, et), false, day(2026, 12, 4), false},
		{"WeekendWaitsForMonday", time.Date(2026, 12, 5, 9, 0, 0, 0, et), true, day(2026, 12, 7), false},
		{"ChristmasIsNoBankingDay", time.Date(2026, 12, 24, 18, 0, 0, 0, et), false, day(2026, 12, 28), false},
	} {
		got, sd := s.Effective(tc.at, tc.sameDay)
		if !got.Equal(tc.want) || sd != tc.sd {
			t.Errorf("%s: Effective = %s %v, want %s %v", tc.name, got, sd, tc.want, tc.sd)
		}
	}
}

func TestScreen(t *testing.T) {
	t.Parallel()
	s := rails.MustSample()
	for _, tc := range []struct {
		name string
		hit  bool
	}{
		{"Dmitri Kovalenko", true}, {"KOVALENKO, DMITRI A.", true}, {"Dmitri Kovalenkov", false},
		{"Northwind Trading FZE", true}, {"Northwind", false}, {"Blue Horizon", false}, {"Sam Lee", false},
	} {
		if _, ok := s.Screen(tc.name); ok != tc.hit {
			t.Errorf("Screen(%q) = %v, want %v", tc.name, ok, tc.hit)
		}
	}
	if _, err := rails.ParseSDN(strings.NewReader("1,\"-0-\",\"individual\"\n")); err == nil {
		t.Error("a row without a name was taken")
	}
}

func TestBuildAndParse(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	o := rails.Origin{Routing: "021000089"}
	ps := []rails.Payment{
		{ID: 1, Kind: rails.KindCredit, Amount: 12_34, Name: "Sam Lee", Routing: "231380104", Number: "123456789", Type: rails.Checking, Effective: now, SameDay: true},
		{ID: 2, Kind: rails.KindPrenote, Name: "Ann", Routing: "231380104", Number: "987654321", Type: rails.Savings, Effective: now.AddDate(0, 0, 1)},
	}
	for i := range ps {
		ps[i].Trace = rails.Trace(o.Routing, ps[i].ID)
	}
	b, err := rails.BuildFile(o, now, "A", ps)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte("\n")); n%10 != 0 {
		t.Errorf("%d lines: a NACHA file is blocked by 10 records", n)
	}
	// Our own file, read as an inbound one, has two forward entries: a
	// credit (taken) and a prenote (not a credit to post).
	in, err := rails.ParseFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if in.Entries != 2 || in.Total != 12_34 || len(in.Credits) != 1 || len(in.Refused) != 1 || in.Credits[0].Trace != "021000080000001" {
		t.Fatalf("parsed: %+v", in)
	}
}

func TestParseFileRefusesNamingTheRecord(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, body, want string }{
		{"Empty", "", "empty"},
		{"NotNACHA", "hello\n", "line 1"},
		{"HeaderOnly", "101 011000015 0210000892612041500A094101FEDERAL RESERVE BANK   BANKBRIDGE             \n", "File Control"},
	} {
		_, err := rails.ParseFile([]byte(tc.body))
		if bankbridge.ErrorCode(err) != "nacha_file_invalid" || !strings.Contains(bankbridge.ErrorMessage(err), tc.want) {
			t.Errorf("%s: %v (%s), want a message with %q", tc.name, err, bankbridge.ErrorMessage(err), tc.want)
		}
	}
}

// FuzzParseFile: whatever arrives, ParseFile answers an Invalid error or
// an Inbound whose sums hold; it never panics.
func FuzzParseFile(f *testing.F) {
	now := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	p := rails.Payment{ID: 1, Kind: rails.KindCredit, Amount: 100, Name: "A", Routing: "231380104", Number: "1234", Type: rails.Checking, Effective: now, Trace: "021000080000001"}
	b, _ := rails.BuildFile(rails.Origin{Routing: "021000089"}, now, "A", []rails.Payment{p})
	f.Add(b)
	f.Add([]byte("101"))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := rails.ParseFile(body)
		if err != nil {
			if bankbridge.ErrorKind(err) != bankbridge.Invalid {
				t.Fatalf("error of kind %v: %v", bankbridge.ErrorKind(err), err)
			}
			return
		}
		if len(in.Returns)+len(in.Changes)+len(in.Credits)+len(in.Refused) != in.Entries {
			t.Fatalf("entries do not add up: %+v", in)
		}
	})
}

func FuzzScreen(f *testing.F) {
	s := rails.MustSample()
	f.Add("Dmitri Kovalenko")
	f.Fuzz(func(t *testing.T, name string) { s.Screen(name) })
}

func TestPacs008AndPacs002(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	p := rails.Payment{ID: 7, Amount: 1234_56, Currency: "USD", Name: "Sam Lee", Routing: "231380104", Number: "123456789", Trace: "021000080000007"}
	b, err := rails.BuildPacs008(rails.Origin{Routing: "021000089"}, p, "Everyday checking", now)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"`, `<IntrBkSttlmAmt Ccy="USD">1234.56</IntrBkSttlmAmt>`,
		"<MmbId>231380104</MmbId>", "<EndToEndId>021000080000007</EndToEndId>", "<SttlmMtd>CLRG</SttlmMtd>"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("pacs.008 lacks %s:\n%s", want, b)
		}
	}
	for _, tc := range []struct{ name, body, want string }{
		{"NotXML", "<", "pacs.002"},
		{"WrongNamespace", `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.03"><FIToFIPmtStsRpt/></Document>`, "pacs.002"},
		{"NoTransaction", `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"><FIToFIPmtStsRpt><GrpHdr><MsgId>1</MsgId><CreDtTm>2026-12-04T15:00:00</CreDtTm></GrpHdr></FIToFIPmtStsRpt></Document>`, "TxInfAndSts"},
		{"RejectWithoutReason", `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"><FIToFIPmtStsRpt><GrpHdr><MsgId>1</MsgId><CreDtTm>2026-12-04T15:00:00</CreDtTm></GrpHdr><TxInfAndSts><OrgnlEndToEndId>x</OrgnlEndToEndId><TxSts>RJCT</TxSts></TxInfAndSts></FIToFIPmtStsRpt></Document>`, "StsRsnInf"},
	} {
		_, err := rails.ParsePacs002([]byte(tc.body))
		if bankbridge.ErrorCode(err) != "iso20022_message_invalid" || !strings.Contains(bankbridge.ErrorMessage(err), tc.want) {
			t.Errorf("%s: %v (%s)", tc.name, err, bankbridge.ErrorMessage(err))
		}
	}
}

func FuzzParsePacs002(f *testing.F) {
	f.Add([]byte(`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"><FIToFIPmtStsRpt><GrpHdr><MsgId>1</MsgId><CreDtTm>2026-12-04T15:00:00</CreDtTm></GrpHdr><TxInfAndSts><OrgnlEndToEndId>x</OrgnlEndToEndId><TxSts>ACSC</TxSts></TxInfAndSts></FIToFIPmtStsRpt></Document>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := rails.ParsePacs002(b)
		if err != nil {
			if bankbridge.ErrorKind(err) != bankbridge.Invalid {
				t.Fatalf("kind %v: %v", bankbridge.ErrorKind(err), err)
			}
			return
		}
		if st.EndToEndID == "" && st.Status == "" {
			t.Fatalf("accepted an empty report: %+v", st)
		}
	})
}

func TestReturnDeadline(t *testing.T) {
	t.Parallel()
	et, _ := time.LoadLocation("America/New_York")
	// Settled Friday 4 December 2026, 13:00 Eastern.
	settled := time.Date(2026, 12, 4, 13, 0, 0, 0, et)
	for _, tc := range []struct {
		code string
		want time.Time // the last moment a return is timely
	}{
		// Two banking days: Monday 7 and Tuesday 8 December.
		{"R01", time.Date(2026, 12, 8, 23, 59, 59, 999999999, et)},
		{"R03", time.Date(2026, 12, 8, 23, 59, 59, 999999999, et)},
		// Sixty calendar days: 2 February 2027.
		{"R10", time.Date(2027, 2, 2, 23, 59, 59, 999999999, et)},
		{"R05", time.Date(2027, 2, 2, 23, 59, 59, 999999999, et)},
	} {
		if got := rails.ReturnDeadline(tc.code, settled); !got.Equal(tc.want) {
			t.Errorf("%s: %v, want %v", tc.code, got.In(et), tc.want)
		}
	}
	// Christmas (a Federal Reserve holiday) and the weekend do not count.
	if got, want := rails.ReturnDeadline("R01", time.Date(2026, 12, 24, 12, 0, 0, 0, et)), time.Date(2026, 12, 29, 23, 59, 59, 999999999, et); !got.Equal(want) {
		t.Errorf("over Christmas: %v, want %v", got.In(et), want)
	}
}
