package rails_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/rails"
)

var isoAt = time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)

// isoSamples are one valid message of each exception type the bank reads.
func isoSamples(t testing.TB) map[string][]byte {
	t.Helper()
	c056, err := rails.BuildCamt056("021000089", "231380104", "RQ1", "E2E1", 12_34, "DUPL", isoAt)
	if err != nil {
		t.Fatal(err)
	}
	c029, err := rails.BuildCamt029("231380104", "021000089", "RQ1", "E2E1", "RJCR", "AM04", isoAt)
	if err != nil {
		t.Fatal(err)
	}
	p004, err := rails.BuildPacs004("231380104", "021000089", "RT1", "E2E1", 12_34, "FOCR", isoAt)
	if err != nil {
		t.Fatal(err)
	}
	p002, err := rails.BuildPacs002("M1", "E2E1", "ACSC", "", isoAt)
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{"camt.056": c056, "camt.029": c029, "pacs.004": p004, "pacs.002": p002}
}

func TestParseISORoundTrips(t *testing.T) {
	t.Parallel()
	for typ, b := range isoSamples(t) {
		m, err := rails.ParseISO(b)
		if err != nil {
			t.Fatalf("%s: %v\n%s", typ, err, b)
		}
		if m.Type != typ || m.EndToEndID != "E2E1" {
			t.Errorf("%s: %+v", typ, m)
		}
		if typ == "pacs.004" && (m.Amount != 12_34 || m.Reason != "FOCR" || m.From != "231380104" || m.To != "021000089") {
			t.Errorf("pacs.004: %+v", m)
		}
		if typ == "camt.029" && (m.Status != "RJCR" || m.Reason != "AM04") {
			t.Errorf("camt.029: %+v", m)
		}
		if bytes.Contains(b, []byte("<Prtry></Prtry>")) {
			t.Errorf("%s carries an empty Prtry choice", typ)
		}
	}
}

func TestParseISONamesTheElement(t *testing.T) {
	t.Parallel()
	s := isoSamples(t)
	for _, tc := range []struct{ name, body, want string }{
		{"NotXML", "hello", "no Document"},
		{"OtherNamespace", `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"/>`, "is not a message the bank takes"},
		{"ReturnWithoutReason", strings.Replace(string(s["pacs.004"]), "<Cd>FOCR</Cd>", "<Cd>ZZZZ</Cd>", 1), "RtrRsnInf/Rsn/Cd"},
		{"RequestWithoutReason", strings.Replace(string(s["camt.056"]), "<Cd>DUPL</Cd>", "<Cd>ZZZZ</Cd>", 1), "CxlRsnInf/Rsn/Cd"},
		{"AnswerWithoutStatus", strings.Replace(string(s["camt.029"]), "<Conf>RJCR</Conf>", "<Conf>XXXX</Conf>", 1), "Sts/Conf"},
		{"Truncated", string(s["camt.056"][:len(s["camt.056"])/2]), "camt.056"},
		{"AmountWithThreeDecimals", strings.Replace(string(s["pacs.004"]), ">12.34<", ">12.345<", 1), "RtrdIntrBkSttlmAmt"},
	} {
		_, err := rails.ParseISO([]byte(tc.body))
		if bankbridge.ErrorCode(err) != "iso20022_message_invalid" || !strings.Contains(bankbridge.ErrorMessage(err), tc.want) {
			t.Errorf("%s: %v (%s), want it to name %q", tc.name, err, bankbridge.ErrorMessage(err), tc.want)
		}
	}
}

// FuzzParseISO: any bytes either parse into a message whose amounts are
// positive, or fail with the message error; never a panic.
func FuzzParseISO(f *testing.F) {
	for _, b := range isoSamples(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := rails.ParseISO(b)
		if err != nil {
			if bankbridge.ErrorCode(err) != "iso20022_message_invalid" {
				t.Fatalf("an error of another kind: %v", err)
			}
			return
		}
		if m.Amount < 0 || m.Type == "" {
			t.Fatalf("parsed into %+v", m)
		}
	})
}
