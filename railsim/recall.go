package railsim

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/moov-io/ach"
	"github.com/moov-io/iso20022/pkg/camt_v08"
	"github.com/moov-io/iso20022/pkg/camt_v09"
	"github.com/moov-io/iso20022/pkg/common"
	"github.com/moov-io/iso20022/pkg/pacs_v08"
	"github.com/moov-io/iso20022/pkg/pacs_v10"
)

// The instant service's exceptions (FedNow Service ISO 20022
// Implementation Guide: "Return Request" camt.056.001.08, "Return Request
// Response" camt.029.001.09, "Payment Return" pacs.004.001.10), as the
// emulator plays them:
//
//   - the bank asks back a payment it sent (camt.056): the emulator, as the
//     receiving bank, answers a camt.029: RJCR CUST for creditor account
//     7777777777 (the person paid refuses), RJCR ARDT if it was returned
//     before, RJCR NOOR if it never settled; otherwise CNCL, and a pacs.004
//     (FOCR) waits in the bank's instant inbox;
//   - SendInstant puts a pacs.008 from another bank in the bank's inbox, and
//     the bank answers it with a pacs.002; RequestReturn puts a camt.056
//     about one of them, and the bank answers it with a pacs.004 or a
//     camt.029.
//
// Every message from the bank is checked whole, as for the pacs.008: a 400
// names the element otherwise.

const nsPacs002 = "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"

// RecallRefusedAccount is the creditor account whose payee refuses to give
// a payment back.
const RecallRefusedAccount = "7777777777"

type docPacs004 struct {
	XMLName xml.Name                  `xml:"urn:iso:std:iso:20022:tech:xsd:pacs.004.001.10 Document"`
	Msg     pacs_v10.PaymentReturnV10 `xml:"PmtRtr"`
}

type docCamt056 struct {
	XMLName xml.Name                                     `xml:"urn:iso:std:iso:20022:tech:xsd:camt.056.001.08 Document"`
	Msg     camt_v08.FIToFIPaymentCancellationRequestV08 `xml:"FIToFIPmtCxlReq"`
}

type docCamt029 struct {
	XMLName xml.Name                              `xml:"urn:iso:std:iso:20022:tech:xsd:camt.029.001.09 Document"`
	Msg     camt_v09.ResolutionOfInvestigationV09 `xml:"RsltnOfInvstgtn"`
}

// inbound is an instant credit the emulator sent a bank.
type inbound struct {
	e2e, account, debtor string
	amount               int64
	status               string // sent, ACSC, RJCT <code>, returned, return refused <code>
	at                   time.Time
}

func namespace(b []byte) string {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Space
		}
	}
}

func (s *Sim) queueISO(b *bank, id string, body []byte, what string) {
	if b.iso == nil {
		b.iso = map[string][]byte{}
	}
	b.iso[id] = body
	b.isoOrder = append(b.isoOrder, id)
	b.sent = append(b.sent, sentFile{Name: id, What: what, At: s.o.Now()})
}

func usaba(routing string) common.Max35Text { return common.Max35Text(routing) }

func agt08(routing string) *pacs_v08.BranchAndFinancialInstitutionIdentification6 {
	return &pacs_v08.BranchAndFinancialInstitutionIdentification6{FinInstnId: pacs_v08.FinancialInstitutionIdentification18{
		ClrSysMmbId: &pacs_v08.ClearingSystemMemberIdentification2{ClrSysId: &pacs_v08.ClearingSystemIdentification2Choice{Cd: "USABA"}, MmbId: usaba(routing)}}}
}

// SendInstant puts an instant credit from another bank to account at the
// bank routing in its instant inbox, and returns its end-to-end id.
func (s *Sim) SendInstant(routing, account, debtor string, cents int64) (string, error) {
	if ach.CheckRoutingNumber(routing) != nil || account == "" || len(account) > 34 || cents <= 0 {
		return "", fmt.Errorf("railsim: an instant credit needs a routing number, an account and a positive amount")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	now := s.o.Now()
	e2e := fmt.Sprintf("SIM%s%06d", now.UTC().Format("20060102"), s.seq)
	id := common.Max35Text(e2e)
	d := common.ISODate(time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC))
	dn, cn := common.Max140Text(debtor), common.Max140Text("CUSTOMER")
	msg := pacs_v08.FIToFICustomerCreditTransferV08{
		GrpHdr: pacs_v08.GroupHeader93{MsgId: id, CreDtTm: common.ISODateTime(now.UTC().Truncate(time.Second)), NbOfTxs: "1",
			IntrBkSttlmDt: &d, SttlmInf: pacs_v08.SettlementInstruction7{SttlmMtd: "CLRG"}},
		CdtTrfTxInf: []pacs_v08.CreditTransferTransaction39{{
			PmtId:          pacs_v08.PaymentIdentification7{EndToEndId: id, TxId: &id},
			IntrBkSttlmAmt: pacs_v08.ActiveCurrencyAndAmount{Value: float64(cents) / 100, Ccy: "USD"},
			ChrgBr:         "SLEV",
			Dbtr:           pacs_v08.PartyIdentification135{Nm: &dn},
			DbtrAgt:        *agt08("231380104"),
			CdtrAgt:        *agt08(routing),
			Cdtr:           pacs_v08.PartyIdentification135{Nm: &cn},
			CdtrAcct:       &pacs_v08.CashAccount38{Id: pacs_v08.AccountIdentification4Choice{Othr: pacs_v08.GenericAccountIdentification1{Id: common.Max34Text(account)}}},
		}},
	}
	if err := msg.Validate(); err != nil {
		return "", err
	}
	body, err := xmlDoc(pacs008In{Msg: msg})
	if err != nil {
		return "", err
	}
	b := s.bank(routing)
	if b.inbound == nil {
		b.inbound = map[string]*inbound{}
	}
	b.inbound[e2e] = &inbound{e2e: e2e, account: account, debtor: debtor, amount: cents, status: "sent", at: now}
	b.inboundOrder = append(b.inboundOrder, e2e)
	s.queueISO(b, "PACS008-"+e2e, body, fmt.Sprintf("instant credit %s from %s", formatCents(cents), debtor))
	return e2e, nil
}

// RequestReturn puts a request to return an instant credit the emulator
// sent (camt.056, reason a code such as DUPL or FRAD) in the bank's inbox.
func (s *Sim) RequestReturn(routing, e2e, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bank(routing)
	in := b.inbound[e2e]
	if in == nil {
		return fmt.Errorf("railsim: no instant credit %s was sent to %s", e2e, routing)
	}
	s.seq++
	now := s.o.Now()
	cid := common.Max35Text(fmt.Sprintf("CX%s%06d", now.UTC().Format("20060102"), s.seq))
	oe, cd := common.Max35Text(e2e), camt_v08.ExternalCancellationReason1Code(reason)
	agt := func(r string) *camt_v08.BranchAndFinancialInstitutionIdentification6 {
		return &camt_v08.BranchAndFinancialInstitutionIdentification6{FinInstnId: camt_v08.FinancialInstitutionIdentification18{
			ClrSysMmbId: &camt_v08.ClearingSystemMemberIdentification2{MmbId: usaba(r)}}}
	}
	msg := camt_v08.FIToFIPaymentCancellationRequestV08{
		Assgnmt: camt_v08.CaseAssignment5{Id: cid, Assgnr: camt_v08.Party40Choice{Agt: agt("231380104")}, Assgne: camt_v08.Party40Choice{Agt: agt(routing)},
			CreDtTm: common.ISODateTime(now.UTC().Truncate(time.Second))},
		Undrlyg: []camt_v08.UnderlyingTransaction23{{TxInf: []camt_v08.PaymentTransaction106{{CxlId: &cid, OrgnlEndToEndId: &oe,
			OrgnlIntrBkSttlmAmt: &camt_v08.ActiveOrHistoricCurrencyAndAmount{Value: float64(in.amount) / 100, Ccy: "USD"},
			CxlRsnInf:           []camt_v08.PaymentCancellationReason5{{Rsn: &camt_v08.CancellationReason33Choice{Cd: &cd}}}}}}},
	}
	if err := msg.Validate(); err != nil {
		return err
	}
	body, err := xmlDoc(docCamt056{Msg: msg})
	if err != nil {
		return err
	}
	s.queueISO(b, "CAMT056-"+string(cid), body, "request to return "+e2e+" ("+reason+")")
	return nil
}

func xmlDoc(v any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	err := xml.NewEncoder(&buf).Encode(v)
	return buf.Bytes(), err
}

func cents(v float64) (int64, bool) {
	c := math.Round(v * 100)
	return int64(c), v > 0 && math.Abs(v*100-c) <= 1e-6
}

// exception takes one of the exception messages from the bank; called by
// instantMsg with the body's namespace. It answers 200 with a message, 204
// when none is due, or 400 naming the element.
func (s *Sim) exception(w http.ResponseWriter, routing, ns string, body []byte) {
	fail := func(msg string) { http.Error(w, msg, http.StatusBadRequest) }
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bank(routing)
	switch ns {
	case "urn:iso:std:iso:20022:tech:xsd:camt.056.001.08": // the bank asks a payment back
		var doc docCamt056
		if err := xml.Unmarshal(body, &doc); err != nil {
			fail("camt.056: " + err.Error())
			return
		}
		m := doc.Msg
		if err := m.Validate(); err != nil {
			fail("camt.056: " + err.Error())
			return
		}
		if m.Assgnmt.Assgnr.Agt == nil || m.Assgnmt.Assgnr.Agt.FinInstnId.ClrSysMmbId == nil || string(m.Assgnmt.Assgnr.Agt.FinInstnId.ClrSysMmbId.MmbId) != routing {
			fail("camt.056: Assgnmt/Assgnr: not the sender's USABA routing number")
			return
		}
		if len(m.Undrlyg) != 1 || len(m.Undrlyg[0].TxInf) != 1 || m.Undrlyg[0].TxInf[0].OrgnlEndToEndId == nil {
			fail("camt.056: Undrlyg/TxInf: exactly one transaction, with its OrgnlEndToEndId")
			return
		}
		tx := m.Undrlyg[0].TxInf[0]
		if len(tx.CxlRsnInf) == 0 || tx.CxlRsnInf[0].Rsn == nil || tx.CxlRsnInf[0].Rsn.Cd == nil {
			fail("camt.056: Undrlyg/TxInf/CxlRsnInf/Rsn/Cd: required")
			return
		}
		caseID, e2e := string(m.Assgnmt.Id), string(*tx.OrgnlEndToEndId)
		if ans, ok := b.recalls[caseID]; ok {
			writeXML(w, ans) // the same case again: the same answer
			return
		}
		in := b.instants[e2e]
		status, reason := "CNCL", ""
		switch {
		case in == nil || in.status != "ACSC" && in.status != "returned":
			status, reason = "RJCR", "NOOR"
		case in.status == "returned":
			status, reason = "RJCR", "ARDT"
		case in.account == RecallRefusedAccount:
			status, reason = "RJCR", "CUST"
		}
		from := Routing
		if in != nil {
			from = in.agent
		}
		ans, err := camt029(from, routing, caseID, e2e, status, reason, s.o.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if status == "CNCL" {
			ret, err := pacs004(in.agent, routing, "RT"+caseID, e2e, in.amount, "FOCR", s.o.Now())
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			in.status, in.reason = "returned", "FOCR"
			b.position -= in.amount
			s.queueISO(b, "PACS004-RT"+caseID, ret, "return of "+e2e+" (asked back)")
		}
		if b.recalls == nil {
			b.recalls = map[string][]byte{}
		}
		b.recalls[caseID] = ans
		writeXML(w, ans)
	case nsPacs002: // the bank answers an instant credit
		var doc pacs002Out
		if err := xml.Unmarshal(body, &doc); err != nil {
			fail("pacs.002: " + err.Error())
			return
		}
		if err := doc.Msg.Validate(); err != nil || len(doc.Msg.TxInfAndSts) != 1 || doc.Msg.TxInfAndSts[0].OrgnlEndToEndId == nil || doc.Msg.TxInfAndSts[0].TxSts == nil {
			fail("pacs.002: TxInfAndSts: one transaction with OrgnlEndToEndId and TxSts")
			return
		}
		tx := doc.Msg.TxInfAndSts[0]
		in := b.inbound[string(*tx.OrgnlEndToEndId)]
		if in == nil {
			fail("pacs.002: OrgnlEndToEndId: no instant credit of that id was sent to this bank")
			return
		}
		st := string(*tx.TxSts)
		switch {
		case in.status != "sent": // answered before: the first answer stands
		case st == "ACSC":
			in.status = "ACSC"
			b.position -= in.amount
		case st == "RJCT" && len(tx.StsRsnInf) > 0 && tx.StsRsnInf[0].Rsn != nil && tx.StsRsnInf[0].Rsn.Cd != nil:
			in.status = "RJCT " + string(*tx.StsRsnInf[0].Rsn.Cd)
		default:
			fail("pacs.002: TxSts: ACSC, or RJCT with StsRsnInf/Rsn/Cd")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case "urn:iso:std:iso:20022:tech:xsd:pacs.004.001.10": // the bank returns an instant credit
		var doc docPacs004
		if err := xml.Unmarshal(body, &doc); err != nil {
			fail("pacs.004: " + err.Error())
			return
		}
		m := doc.Msg
		if len(m.TxInf) != 1 || m.TxInf[0].OrgnlEndToEndId == nil || len(m.TxInf[0].RtrRsnInf) == 0 || m.TxInf[0].RtrRsnInf[0].Rsn == nil || m.TxInf[0].RtrRsnInf[0].Rsn.Cd == "" {
			fail("pacs.004: TxInf: one transaction with OrgnlEndToEndId and RtrRsnInf/Rsn/Cd")
			return
		}
		check := m
		check.TxInf = []pacs_v10.PaymentTransaction118{m.TxInf[0]}
		check.TxInf[0].RtrRsnInf = []pacs_v10.PaymentReturnReason6{{Rsn: &pacs_v10.ReturnReason5Choice{Cd: m.TxInf[0].RtrRsnInf[0].Rsn.Cd, Prtry: common.Max35Text(m.TxInf[0].RtrRsnInf[0].Rsn.Cd)}}}
		if err := check.Validate(); err != nil {
			fail("pacs.004: TxInf: one transaction with OrgnlEndToEndId and RtrRsnInf/Rsn")
			return
		}
		tx := m.TxInf[0]
		in := b.inbound[string(*tx.OrgnlEndToEndId)]
		c, ok := cents(tx.RtrdIntrBkSttlmAmt.Value)
		switch {
		case in == nil:
			fail("pacs.004: OrgnlEndToEndId: no instant credit of that id was sent to this bank")
			return
		case !ok || c != in.amount || tx.RtrdIntrBkSttlmAmt.Ccy != "USD":
			fail("pacs.004: TxInf/RtrdIntrBkSttlmAmt: not the amount of the credit")
			return
		case in.status == "ACSC" || strings.HasPrefix(in.status, "return refused"):
			in.status = "returned " + string(tx.RtrRsnInf[0].Rsn.Cd)
			b.position += in.amount
		case strings.HasPrefix(in.status, "returned"): // the same return again
		default:
			fail("pacs.004: the credit was not settled (" + in.status + ")")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case "urn:iso:std:iso:20022:tech:xsd:camt.029.001.09": // the bank refuses to return
		var doc docCamt029
		if err := xml.Unmarshal(body, &doc); err != nil {
			fail("camt.029: " + err.Error())
			return
		}
		m := doc.Msg
		if err := m.Validate(); err != nil || m.Sts.Conf == nil || len(m.CxlDtls) != 1 || len(m.CxlDtls[0].TxInfAndSts) != 1 || m.CxlDtls[0].TxInfAndSts[0].OrgnlEndToEndId == nil {
			fail("camt.029: Sts/Conf and CxlDtls/TxInfAndSts/OrgnlEndToEndId: required, one transaction")
			return
		}
		tx := m.CxlDtls[0].TxInfAndSts[0]
		in := b.inbound[string(*tx.OrgnlEndToEndId)]
		if in == nil {
			fail("camt.029: OrgnlEndToEndId: no instant credit of that id was sent to this bank")
			return
		}
		if string(*m.Sts.Conf) == "RJCR" {
			if len(tx.CxlStsRsnInf) == 0 || tx.CxlStsRsnInf[0].Rsn == nil || tx.CxlStsRsnInf[0].Rsn.Cd == nil {
				fail("camt.029: CxlDtls/TxInfAndSts/CxlStsRsnInf/Rsn/Cd: a refusal needs a reason")
				return
			}
			if in.status == "ACSC" || strings.HasPrefix(in.status, "return refused") {
				in.status = "return refused " + string(*tx.CxlStsRsnInf[0].Rsn.Cd)
			}
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		fail("Document: namespace " + ns + " is not a message the instant service takes")
	}
}

func writeXML(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/xml")
	w.Write(b)
}

func camt029(from, to, caseID, e2e, status, reason string, at time.Time) ([]byte, error) {
	agt := func(r string) *camt_v09.BranchAndFinancialInstitutionIdentification6 {
		return &camt_v09.BranchAndFinancialInstitutionIdentification6{FinInstnId: camt_v09.FinancialInstitutionIdentification18{
			ClrSysMmbId: &camt_v09.ClearingSystemMemberIdentification2{MmbId: usaba(r)}}}
	}
	conf := camt_v09.ExternalInvestigationExecutionConfirmation1Code(status)
	oe := common.Max35Text(e2e)
	tx := camt_v09.PaymentTransaction102{OrgnlEndToEndId: &oe}
	if reason != "" {
		cd := camt_v09.ExternalPaymentCancellationRejection1Code(reason)
		tx.CxlStsRsnInf = []camt_v09.CancellationStatusReason4{{Rsn: &camt_v09.CancellationStatusReason3Choice{Cd: &cd}}}
	}
	id := "RS" + caseID
	if len(id) > 35 {
		id = id[:35]
	}
	msg := camt_v09.ResolutionOfInvestigationV09{
		Assgnmt: camt_v09.CaseAssignment5{Id: common.Max35Text(id), Assgnr: camt_v09.Party40Choice{Agt: agt(from)}, Assgne: camt_v09.Party40Choice{Agt: agt(to)},
			CreDtTm: common.ISODateTime(at.UTC().Truncate(time.Second))},
		Sts:     camt_v09.InvestigationStatus5Choice{Conf: &conf},
		CxlDtls: []camt_v09.UnderlyingTransaction22{{TxInfAndSts: []camt_v09.PaymentTransaction102{tx}}},
	}
	if err := msg.Validate(); err != nil {
		return nil, err
	}
	return xmlDoc(docCamt029{Msg: msg})
}

func pacs004(from, to, msgID, e2e string, amount int64, reason string, at time.Time) ([]byte, error) {
	agt := func(r string) *pacs_v10.BranchAndFinancialInstitutionIdentification6 {
		return &pacs_v10.BranchAndFinancialInstitutionIdentification6{FinInstnId: pacs_v10.FinancialInstitutionIdentification18{
			ClrSysMmbId: &pacs_v10.ClearingSystemMemberIdentification2{MmbId: usaba(r)}}}
	}
	if len(msgID) > 35 {
		msgID = msgID[:35]
	}
	rid, oe := common.Max35Text(msgID), common.Max35Text(e2e)
	d := common.ISODate(time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC))
	msg := pacs_v10.PaymentReturnV10{
		GrpHdr: pacs_v10.GroupHeader90{MsgId: rid, CreDtTm: common.ISODateTime(at.UTC().Truncate(time.Second)), NbOfTxs: "1",
			IntrBkSttlmDt: &d, SttlmInf: pacs_v10.SettlementInstruction7{SttlmMtd: "CLRG"}, InstgAgt: agt(from), InstdAgt: agt(to)},
		TxInf: []pacs_v10.PaymentTransaction118{{RtrId: &rid, OrgnlEndToEndId: &oe, OrgnlTxId: &oe,
			RtrdIntrBkSttlmAmt: pacs_v10.ActiveCurrencyAndAmount{Value: float64(amount) / 100, Ccy: "USD"},
			RtrRsnInf:          []pacs_v10.PaymentReturnReason6{{Rsn: &pacs_v10.ReturnReason5Choice{Cd: pacs_v10.ExternalReturnReason1Code(reason)}}}}},
	}
	// moov-io/iso20022 v0.2.1 wants both branches of the reason choice;
	// the schema one: the checks run with Prtry set, the message goes
	// without it.
	check := msg
	check.TxInf = []pacs_v10.PaymentTransaction118{msg.TxInf[0]}
	check.TxInf[0].RtrRsnInf = []pacs_v10.PaymentReturnReason6{{Rsn: &pacs_v10.ReturnReason5Choice{Cd: pacs_v10.ExternalReturnReason1Code(reason), Prtry: common.Max35Text(reason)}}}
	if err := check.Validate(); err != nil {
		return nil, err
	}
	b, err := xmlDoc(docPacs004{Msg: msg})
	return bytes.ReplaceAll(b, []byte("<Prtry></Prtry>"), nil), err
}

func (s *Sim) isoList(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bank(r.PathValue("routing"))
	ids := []string{}
	for _, id := range b.isoOrder {
		if _, ok := b.iso[id]; ok {
			ids = append(ids, id)
		}
	}
	writeJSON(w, ids)
}

func (s *Sim) isoGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	body, ok := s.bank(r.PathValue("routing")).iso[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		http.Error(w, "no such message", http.StatusNotFound)
		return
	}
	writeXML(w, body)
}

func (s *Sim) isoAck(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bank(r.PathValue("routing"))
	if _, ok := b.iso[r.PathValue("id")]; !ok {
		http.Error(w, "no such message", http.StatusNotFound)
		return
	}
	delete(b.iso, r.PathValue("id"))
	w.WriteHeader(http.StatusNoContent)
}

// instantForm serves the page's forms: an instant credit to the bank, and a
// request to return one.
func (s *Sim) instantForm(w http.ResponseWriter, r *http.Request) {
	routing := r.PathValue("routing")
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var err error
	if strings.HasSuffix(r.URL.Path, "/recalls") {
		reason := r.PostForm.Get("reason")
		if reason != "DUPL" && reason != "FRAD" && reason != "TECH" && reason != "CUST" {
			http.Error(w, "reason: DUPL, FRAD, TECH or CUST", http.StatusBadRequest)
			return
		}
		err = s.RequestReturn(routing, strings.TrimSpace(r.PostForm.Get("e2e")), reason)
	} else {
		c, perr := strconv.ParseInt(r.PostForm.Get("cents"), 10, 64)
		if perr != nil || c <= 0 || c > 99_999_999_99 {
			http.Error(w, "cents: a positive amount", http.StatusBadRequest)
			return
		}
		debtor := strings.TrimSpace(r.PostForm.Get("debtor"))
		if debtor == "" || len(debtor) > 70 {
			debtor = "ACME LTD"
		}
		_, err = s.SendInstant(routing, strings.TrimSpace(r.PostForm.Get("account")), debtor, c)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.PostForm.Get("page") != "" {
		http.Redirect(w, r, "../../../", http.StatusSeeOther)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

// InstantCredit says what became of an instant credit the emulator sent:
// sent, ACSC, "RJCT <code>", "returned <code>", "return refused <code>".
func (s *Sim) InstantCredit(routing, e2e string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in := s.bank(routing).inbound[e2e]; in != nil {
		return in.status
	}
	return ""
}
