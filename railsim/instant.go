package railsim

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/moov-io/ach"
	"github.com/moov-io/iso20022/pkg/common"
	"github.com/moov-io/iso20022/pkg/pacs_v08"
	"github.com/moov-io/iso20022/pkg/pacs_v10"
)

// InstantScenarios are the instant rejections by creditor account: the
// status reason codes of ISO 20022's ExternalStatusReason1Code a receiving
// bank answers with. Any other account is accepted and settled (ACSC).
var InstantScenarios = map[string]string{
	"1111111111": "AG01", // transaction forbidden on this account
	"2222222222": "AC04", // closed account number
	"3333333333": "AC01", // incorrect account number
	"4444444444": "AC03", // invalid creditor account number
}

type pacs008In struct {
	XMLName xml.Name                                 `xml:"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08 Document"`
	Msg     pacs_v08.FIToFICustomerCreditTransferV08 `xml:"FIToFICstmrCdtTrf"`
}

type pacs002Out struct {
	XMLName xml.Name                              `xml:"urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10 Document"`
	Msg     pacs_v10.FIToFIPaymentStatusReportV10 `xml:"FIToFIPmtStsRpt"`
}

type instant struct {
	msgID, creditor, account, status, reason string
	agent                                    string // the creditor agent: the bank paid
	amount                                   int64
	at                                       time.Time
	report                                   []byte
}

// instantMsg takes a pacs.008 and answers its pacs.002 at once, as the
// instant service does within seconds: the message is checked whole (one
// transaction, USABA agents with valid routing numbers, the sender the
// debtor agent, an amount in USD with at most two decimals), refused with a
// 400 naming the element otherwise. The same MsgId again answers the same
// report and settles nothing more.
func (s *Sim) instantMsg(w http.ResponseWriter, r *http.Request) {
	routing := r.PathValue("routing")
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if ns := namespace(body); ns != "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08" {
		s.exception(w, routing, ns, body)
		return
	}
	var doc pacs008In
	if err := xml.Unmarshal(body, &doc); err != nil {
		http.Error(w, "pacs.008: "+err.Error(), http.StatusBadRequest)
		return
	}
	m := doc.Msg
	if err := m.Validate(); err != nil {
		http.Error(w, "pacs.008: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(m.CdtTrfTxInf) != 1 || m.GrpHdr.NbOfTxs != "1" {
		http.Error(w, "pacs.008: CdtTrfTxInf: exactly one transaction", http.StatusBadRequest)
		return
	}
	tx := m.CdtTrfTxInf[0]
	member := func(a pacs_v08.BranchAndFinancialInstitutionIdentification6) string {
		if a.FinInstnId.ClrSysMmbId == nil || a.FinInstnId.ClrSysMmbId.ClrSysId == nil || a.FinInstnId.ClrSysMmbId.ClrSysId.Cd != "USABA" {
			return ""
		}
		return string(a.FinInstnId.ClrSysMmbId.MmbId)
	}
	switch {
	case member(tx.DbtrAgt) != routing:
		http.Error(w, "pacs.008: DbtrAgt: not the sender's USABA routing number", http.StatusBadRequest)
		return
	case ach.CheckRoutingNumber(member(tx.CdtrAgt)) != nil:
		http.Error(w, "pacs.008: CdtrAgt: not a valid USABA routing number", http.StatusBadRequest)
		return
	case tx.CdtrAcct == nil || tx.CdtrAcct.Id.Othr.Id == "":
		http.Error(w, "pacs.008: CdtrAcct: required", http.StatusBadRequest)
		return
	case tx.IntrBkSttlmAmt.Ccy != "USD":
		http.Error(w, "pacs.008: IntrBkSttlmAmt: USD only", http.StatusBadRequest)
		return
	}
	cents := math.Round(tx.IntrBkSttlmAmt.Value * 100)
	if tx.IntrBkSttlmAmt.Value <= 0 || math.Abs(tx.IntrBkSttlmAmt.Value*100-cents) > 1e-6 {
		http.Error(w, "pacs.008: IntrBkSttlmAmt: a positive amount with at most two decimals", http.StatusBadRequest)
		return
	}
	msgID := string(m.GrpHdr.MsgId)
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bank(routing)
	if b.instants == nil {
		b.instants = map[string]*instant{}
	}
	if in, ok := b.instants[msgID]; ok {
		w.Header().Set("Content-Type", "application/xml")
		w.Write(in.report)
		return
	}
	in := &instant{msgID: msgID, account: string(tx.CdtrAcct.Id.Othr.Id), amount: int64(cents), at: s.o.Now(), status: "ACSC", agent: member(tx.CdtrAgt)}
	if tx.Cdtr.Nm != nil {
		in.creditor = string(*tx.Cdtr.Nm)
	}
	if code, ok := InstantScenarios[in.account]; ok {
		in.status, in.reason = "RJCT", code
	} else {
		b.position += in.amount
	}
	in.report, err = statusReport(routing, string(tx.PmtId.EndToEndId), in, s.o.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	b.instants[msgID] = in
	b.instantOrder = append(b.instantOrder, msgID)
	w.Header().Set("Content-Type", "application/xml")
	w.Write(in.report)
}

func statusReport(routing, e2e string, in *instant, at time.Time) ([]byte, error) {
	id := common.Max35Text("RS" + strings.TrimPrefix(in.msgID, ""))
	if len(id) > 35 {
		id = id[:35]
	}
	oe := common.Max35Text(e2e)
	om := common.Max35Text(in.msgID)
	sts := pacs_v10.ExternalPaymentTransactionStatus1Code(in.status)
	tx := pacs_v10.PaymentTransaction110{OrgnlEndToEndId: &oe, OrgnlTxId: &om, TxSts: &sts}
	if in.reason != "" {
		cd := pacs_v10.ExternalStatusReason1Code(in.reason)
		tx.StsRsnInf = []pacs_v10.StatusReasonInformation12{{Rsn: &pacs_v10.StatusReason6Choice{Cd: &cd}}}
	}
	msg := pacs_v10.FIToFIPaymentStatusReportV10{GrpHdr: pacs_v10.GroupHeader91{MsgId: id, CreDtTm: common.ISODateTime(at.UTC().Truncate(time.Second))},
		TxInfAndSts: []pacs_v10.PaymentTransaction110{tx}}
	if err := msg.Validate(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	err := xml.NewEncoder(&buf).Encode(pacs002Out{Msg: msg})
	return buf.Bytes(), err
}
