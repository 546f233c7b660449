package rails

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/ledger"
	"github.com/moov-io/iso20022/pkg/pain_v10"
)

// The pain.001 written parses back with moov-io/iso20022's types and
// carries the amount exactly, the debtor's account, the creditor's name,
// routing and account, and the end-to-end id.
func TestPain001RoundTrip(t *testing.T) {
	for _, amt := range []ledger.Amount{1, 1_05, 1_000_000_00, 123_456_789_01} {
		p := Payment{ID: 42, Kind: KindCredit, Amount: amt, Currency: "USD", Name: "Sam Lee", Routing: "231380104", Number: "123456789",
			Memo: "rent", Effective: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), Status: StatusAccepted}
		body, err := BuildPain001(Origin{Routing: "021000021", BankName: "BANKBRIDGE"}, p, "Everyday", "100000000077", time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := decimalOf(amt, "USD")
		if !strings.Contains(string(body), `<InstdAmt Ccy="USD">`+want+`</InstdAmt>`) || strings.Contains(string(body), "e+") {
			t.Fatalf("amount %d not written as %s:\n%s", amt, want, body)
		}
		for _, empty := range []string{"<IBAN>", "<Prtry>", "></"} {
			if strings.Contains(string(body), empty) {
				t.Fatalf("an empty choice alternative or element (%s):\n%s", empty, body)
			}
		}
		var doc struct {
			XMLName xml.Name                                     `xml:"urn:iso:std:iso:20022:tech:xsd:pain.001.001.10 Document"`
			Msg     pain_v10.CustomerCreditTransferInitiationV10 `xml:"CstmrCdtTrfInitn"`
		}
		if err := xml.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Msg.PmtInf) != 1 || len(doc.Msg.PmtInf[0].CdtTrfTxInf) != 1 {
			t.Fatalf("shape: %+v", doc.Msg)
		}
		pi := doc.Msg.PmtInf[0]
		tx := pi.CdtTrfTxInf[0]
		got, err := minor(tx.Amt.InstdAmt.Value)
		if err != nil || got != amt || tx.Amt.InstdAmt.Ccy != "USD" {
			t.Fatalf("amount %d read back as %v %v", amt, got, err)
		}
		if pi.PmtMtd != "TRF" || pi.DbtrAcct.Id.Othr.Id != "100000000077" || pi.DbtrAgt.FinInstnId.ClrSysMmbId.MmbId != "021000021" {
			t.Fatalf("debtor: %+v", pi)
		}
		if tx.Cdtr == nil || *tx.Cdtr.Nm != "Sam Lee" || tx.CdtrAcct == nil || tx.CdtrAcct.Id.Othr.Id != "123456789" ||
			tx.CdtrAgt == nil || tx.CdtrAgt.FinInstnId.ClrSysMmbId.MmbId != "231380104" || tx.CdtrAgt.FinInstnId.ClrSysMmbId.ClrSysId.Cd != "USABA" {
			t.Fatalf("creditor: %+v", tx)
		}
		if tx.PmtId.EndToEndId != "BB-PAY-42" || doc.Msg.GrpHdr.NbOfTxs != "1" || !time.Time(pi.ReqdExctnDt.Dt).Equal(p.Effective) {
			t.Fatalf("ids: %+v %+v", tx.PmtId, doc.Msg.GrpHdr)
		}
		if id, ok := PaymentOfEndToEnd(string(tx.PmtId.EndToEndId)); !ok || id != 42 {
			t.Fatalf("end-to-end id read back as %d %v", id, ok)
		}
	}
	if _, ok := PaymentOfEndToEnd("NOTPROVIDED"); ok {
		t.Fatal("another bank's end-to-end id read as a payment")
	}
}

func TestPain002Rejections(t *testing.T) {
	const doc = `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.11"><CstmrPmtStsRpt>
<GrpHdr><MsgId>CORE-STS-1</MsgId><CreDtTm>2026-12-04T20:00:00Z</CreDtTm></GrpHdr>
<OrgnlGrpInfAndSts><OrgnlMsgId>BB-PAY-7</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.10</OrgnlMsgNmId><GrpSts>RJCT</GrpSts>
<StsRsnInf><Rsn><Cd>AM04</Cd></Rsn></StsRsnInf></OrgnlGrpInfAndSts>
<OrgnlPmtInfAndSts><OrgnlPmtInfId>BB-PAY-8</OrgnlPmtInfId>
<TxInfAndSts><OrgnlEndToEndId>BB-PAY-8</OrgnlEndToEndId><TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>AC04</Cd></Rsn></StsRsnInf></TxInfAndSts>
<TxInfAndSts><OrgnlEndToEndId>BB-PAY-9</OrgnlEndToEndId><TxSts>ACCP</TxSts></TxInfAndSts>
</OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>`
	if !IsPain002([]byte(doc)) {
		t.Fatal("not seen as a pain.002")
	}
	rs, err := ParsePain002(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []CoreRejection{{EndToEnd: "BB-PAY-7", Reason: "AM04"}, {EndToEnd: "BB-PAY-8", Reason: "AC04"}}
	if len(rs) != 2 || rs[0] != want[0] || rs[1] != want[1] {
		t.Fatalf("rejections %+v, want %+v", rs, want)
	}
	if _, err := ParsePain002(strings.NewReader(doc[:200])); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("truncated: %v", err)
	}
	bad := strings.Replace(doc, "<OrgnlEndToEndId>BB-PAY-8</OrgnlEndToEndId>", "", 1)
	if _, err := ParsePain002(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "TxInfAndSts[1]: OrgnlEndToEndId") {
		t.Fatalf("no end-to-end id: %v", err)
	}
	if _, err := ParsePain002(strings.NewReader(`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"/>`)); err == nil {
		t.Fatal("a camt.053 read as a pain.002")
	}
}
