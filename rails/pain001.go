package rails

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/moov-io/iso20022/pkg/common"
	"github.com/moov-io/iso20022/pkg/pain_v10"
)

// Mirror mode's payments out: a payment to another bank leaves as a
// customer credit transfer initiation to the core, pain.001.001.10
// (CustomerCreditTransferInitiationV10; ISO 20022 Message Definition Report
// "Payments Initiation", CstmrCdtTrfInitn: GrpHdr, PmtInf with PmtMtd TRF,
// ReqdExctnDt, Dbtr, DbtrAcct, DbtrAgt, and one CdtTrfTxInf with PmtId,
// Amt/InstdAmt, CdtrAgt, Cdtr, CdtrAcct, RmtInf). The element types are
// github.com/moov-io/iso20022's pain_v10, except the amounts, written here
// as xs:decimal strings from minor units (the library's float64 would
// write 1e+06 for a million), and the account and agent choices, written
// with their one alternative. One message per payment: its message id,
// payment information id and end-to-end id are the payment's
// (EndToEndID), so the core's camt.053/054 entry for it names it back.

// nsPain001 is the namespace of the message written.
const nsPain001 = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.10"

// EndToEndID is the end-to-end id a payment leaves with to the core, and
// the id the core's booking of it carries back (NtryDtls/TxDtls/Refs/
// EndToEndId, or the entry's reference).
func EndToEndID(id PaymentID) string { return "BB-PAY-" + strconv.FormatInt(int64(id), 10) }

// PaymentOfEndToEnd reads a payment id back from an end-to-end id, false
// when it is not one of bankbridge's.
func PaymentOfEndToEnd(e2e string) (PaymentID, bool) {
	s, ok := strings.CutPrefix(strings.TrimSpace(e2e), "BB-PAY-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return PaymentID(n), true
}

type (
	painDoc struct {
		XMLName xml.Name `xml:"Document"`
		NS      string   `xml:"xmlns,attr"`
		Msg     painMsg  `xml:"CstmrCdtTrfInitn"`
	}
	painMsg struct {
		GrpHdr painGrpHdr `xml:"GrpHdr"`
		PmtInf painPmtInf `xml:"PmtInf"`
	}
	painGrpHdr struct {
		MsgId    common.Max35Text                `xml:"MsgId"`
		CreDtTm  string                          `xml:"CreDtTm"`
		NbOfTxs  common.Max15NumericText         `xml:"NbOfTxs"`
		CtrlSum  string                          `xml:"CtrlSum"`
		InitgPty pain_v10.PartyIdentification135 `xml:"InitgPty"`
	}
	painPmtInf struct {
		PmtInfId    common.Max35Text                `xml:"PmtInfId"`
		PmtMtd      pain_v10.PaymentMethod3Code     `xml:"PmtMtd"`
		NbOfTxs     common.Max15NumericText         `xml:"NbOfTxs"`
		CtrlSum     string                          `xml:"CtrlSum"`
		ReqdExctnDt painDate                        `xml:"ReqdExctnDt"`
		Dbtr        pain_v10.PartyIdentification135 `xml:"Dbtr"`
		DbtrAcct    painAcct                        `xml:"DbtrAcct"`
		DbtrAgt     painAgentT                      `xml:"DbtrAgt"`
		CdtTrfTxInf painTx                          `xml:"CdtTrfTxInf"`
	}
	painDate struct {
		Dt string `xml:"Dt"`
	}
	painTx struct {
		PmtId    pain_v10.PaymentIdentification6   `xml:"PmtId"`
		Amt      painAmt                           `xml:"Amt"`
		CdtrAgt  painAgentT                        `xml:"CdtrAgt"`
		Cdtr     pain_v10.PartyIdentification135   `xml:"Cdtr"`
		CdtrAcct painAcct                          `xml:"CdtrAcct"`
		RmtInf   *pain_v10.RemittanceInformation16 `xml:"RmtInf,omitempty"`
	}
	painAmt struct {
		InstdAmt camtAmt `xml:"InstdAmt"`
	}
)

// painAgentT and painAcct are the choices the message makes, with the one
// alternative taken: the library's choice types would write every
// alternative, the others empty (<IBAN></IBAN>, <Prtry></Prtry>), which
// the schema refuses.
type (
	painAgentT struct {
		FinInstnId struct {
			ClrSysMmbId struct {
				ClrSysId struct {
					Cd string `xml:"Cd"`
				} `xml:"ClrSysId"`
				MmbId common.Max35Text `xml:"MmbId"`
			} `xml:"ClrSysMmbId"`
		} `xml:"FinInstnId"`
	}
	painAcct struct {
		Id struct {
			Othr struct {
				Id common.Max34Text `xml:"Id"`
			} `xml:"Othr"`
		} `xml:"Id"`
	}
)

// painAgent is a bank by its ABA routing number (ClrSysId/Cd USABA, ISO
// 20022 External Code Sets, ExternalClearingSystemIdentification1Code).
func painAgent(routing string) painAgentT {
	var a painAgentT
	a.FinInstnId.ClrSysMmbId.ClrSysId.Cd = "USABA"
	a.FinInstnId.ClrSysMmbId.MmbId = common.Max35Text(routing)
	return a
}

func painAccount(n string) painAcct {
	var a painAcct
	a.Id.Othr.Id = common.Max34Text(n)
	return a
}

// BuildPain001 writes payment p as a pain.001 to the core: debited from
// debtorAccount (the core's number of p.From) in the name of debtor, to the
// payee by ABA routing number (USABA) and account number, on p's
// effective date. The message depends only on its arguments, so a payment
// written again after a crash is the same message.
func BuildPain001(o Origin, p Payment, debtor, debtorAccount string, at time.Time) ([]byte, error) {
	o = o.withDefaults()
	if p.Amount <= 0 {
		return nil, ErrAmount
	}
	id := common.Max35Text(EndToEndID(p.ID))
	amt, _ := decimalOf(p.Amount, p.Currency)
	name := func(s string) *common.Max140Text { v := common.Max140Text(s); return &v }
	tx := painTx{
		PmtId:    pain_v10.PaymentIdentification6{InstrId: &id, EndToEndId: id},
		Amt:      painAmt{InstdAmt: camtAmt{Value: amt, Ccy: common.ActiveOrHistoricCurrencyCode(p.Currency)}},
		CdtrAgt:  painAgent(p.Routing),
		Cdtr:     pain_v10.PartyIdentification135{Nm: name(p.Name)},
		CdtrAcct: painAccount(string(p.Number)),
	}
	if p.Memo != "" {
		tx.RmtInf = &pain_v10.RemittanceInformation16{Ustrd: []common.Max140Text{common.Max140Text(p.Memo)}}
	}
	doc := painDoc{NS: nsPain001, Msg: painMsg{
		GrpHdr: painGrpHdr{MsgId: id, CreDtTm: at.UTC().Format("2006-01-02T15:04:05Z"), NbOfTxs: "1", CtrlSum: amt,
			InitgPty: pain_v10.PartyIdentification135{Nm: name(o.BankName)}},
		PmtInf: painPmtInf{PmtInfId: id, PmtMtd: "TRF", NbOfTxs: "1", CtrlSum: amt,
			ReqdExctnDt: painDate{Dt: p.Effective.Format("2006-01-02")},
			Dbtr:        pain_v10.PartyIdentification135{Nm: name(debtor)},
			DbtrAcct:    painAccount(debtorAccount),
			DbtrAgt:     painAgent(o.Routing),
			CdtTrfTxInf: tx},
	}}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", " ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("pain.001: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}
