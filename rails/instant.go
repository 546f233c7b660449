package rails

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/moov-io/iso20022/pkg/common"
	"github.com/moov-io/iso20022/pkg/pacs_v08"
	"github.com/moov-io/iso20022/pkg/pacs_v10"
)

// Instant payments are ISO 20022 messages in the FedNow shape: the bank
// sends a pacs.008.001.08 credit transfer and the service answers with a
// pacs.002.001.10 status report, accepted and settled (ACSC) or rejected
// (RJCT) with a reason (FedNow Service ISO 20022 Implementation Guide,
// https://www.frbservices.org/resources/financial-services/fednow/iso-20022,
// "Customer Credit Transfer" and "Payment Status Report"). The message types
// and their field checks are moov-io/iso20022's; the Document envelope and
// the conversion of amounts (the library holds them as float64) are ours
// (docs/decisions.md).

// The message namespaces.
const (
	nsPacs008 = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"
	nsPacs002 = "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"
)

// KindInstant is a payment sent as an ISO 20022 instant credit transfer.
const KindInstant Kind = "instant"

// InstantLimit is the largest instant payment the bank sends: FedNow's
// default per-payment limit for a participant ($100,000; FedNow Service
// Operating Procedures, "Transaction Limits").
const InstantLimit ledger.Amount = 100_000_00

// InstantTransport sends a pacs.008 and returns the pacs.002 that answers
// it. The same message again (same MsgId) must answer the same report: a
// send that timed out is sent again.
type InstantTransport interface {
	Instant(ctx context.Context, pacs008 []byte) ([]byte, error)
}

type pacs008Doc struct {
	XMLName xml.Name                                 `xml:"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08 Document"`
	Msg     pacs_v08.FIToFICustomerCreditTransferV08 `xml:"FIToFICstmrCdtTrf"`
}

type pacs002Doc struct {
	XMLName xml.Name                              `xml:"urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10 Document"`
	Msg     pacs_v10.FIToFIPaymentStatusReportV10 `xml:"FIToFIPmtStsRpt"`
}

// ErrMessage is an ISO 20022 message that cannot be read or fails its
// checks; the message names the element.
var ErrMessage = bankbridge.E(bankbridge.Invalid, "iso20022_message_invalid", "the ISO 20022 message is not valid")

// decimal writes minor units as the decimal the message carries. The
// library's amounts are float64: every amount up to 2^53 minor units is
// exact there, and the check on the way back refuses any that is not.
func decimal(a ledger.Amount) float64 { return float64(a) / 100 }

// minor reads a message's decimal amount back into minor units, refusing
// one with more than two decimals or out of range.
func minor(v float64) (ledger.Amount, error) {
	c := math.Round(v * 100)
	if math.IsNaN(v) || v <= 0 || c > 1<<53 || math.Abs(v*100-c) > 1e-6 {
		return 0, ErrMessage.WithMessage("IntrBkSttlmAmt: not a positive amount with at most two decimals")
	}
	return ledger.Amount(c), nil
}

func abaAgent(routing string) pacs_v08.BranchAndFinancialInstitutionIdentification6 {
	return pacs_v08.BranchAndFinancialInstitutionIdentification6{FinInstnId: pacs_v08.FinancialInstitutionIdentification18{
		ClrSysMmbId: &pacs_v08.ClearingSystemMemberIdentification2{
			ClrSysId: &pacs_v08.ClearingSystemIdentification2Choice{Cd: "USABA"}, MmbId: common.Max35Text(routing)}}}
}

// BuildPacs008 writes the credit transfer of an instant payment: one
// transaction, settled by the clearing system (CLRG), charges shared as the
// scheme says (SLEV), agents by ABA routing number (USABA), the payment's
// trace as MsgId and EndToEndId.
func BuildPacs008(o Origin, p Payment, debtor string, at time.Time) ([]byte, error) {
	o = o.withDefaults()
	id := common.Max35Text(p.Trace)
	name := common.Max140Text(p.Name)
	dname := common.Max140Text(debtor)
	d := common.ISODate(time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC))
	msg := pacs_v08.FIToFICustomerCreditTransferV08{
		GrpHdr: pacs_v08.GroupHeader93{MsgId: id, CreDtTm: common.ISODateTime(at.UTC().Truncate(time.Second)), NbOfTxs: "1",
			IntrBkSttlmDt: &d, SttlmInf: pacs_v08.SettlementInstruction7{SttlmMtd: "CLRG"}},
		CdtTrfTxInf: []pacs_v08.CreditTransferTransaction39{{
			PmtId:          pacs_v08.PaymentIdentification7{EndToEndId: id, TxId: &id},
			IntrBkSttlmAmt: pacs_v08.ActiveCurrencyAndAmount{Value: decimal(p.Amount), Ccy: common.ActiveCurrencyCode(p.Currency)},
			ChrgBr:         "SLEV",
			Dbtr:           pacs_v08.PartyIdentification135{Nm: &dname},
			DbtrAgt:        abaAgent(o.Routing),
			CdtrAgt:        abaAgent(p.Routing),
			Cdtr:           pacs_v08.PartyIdentification135{Nm: &name},
			CdtrAcct:       &pacs_v08.CashAccount38{Id: pacs_v08.AccountIdentification4Choice{Othr: pacs_v08.GenericAccountIdentification1{Id: common.Max34Text(p.Number)}}},
		}},
	}
	if err := msg.Validate(); err != nil {
		return nil, fmt.Errorf("rails: pacs.008: %w", err)
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(pacs008Doc{Msg: msg}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// InstantStatus is what a pacs.002 says of one transaction.
type InstantStatus struct {
	EndToEndID string
	Status     string // ACSC (accepted, settlement completed), RJCT, ACSP (in progress)...
	Reason     string // the status reason code of a rejection (AC04...)
}

// ParsePacs002 reads a status report of one transaction. An error names
// the element at fault; nothing is applied from a report that fails.
func ParsePacs002(b []byte) (InstantStatus, error) {
	var doc pacs002Doc
	if err := xml.Unmarshal(b, &doc); err != nil {
		return InstantStatus{}, ErrMessage.WithMessage("pacs.002: " + err.Error())
	}
	if err := doc.Msg.Validate(); err != nil {
		return InstantStatus{}, ErrMessage.WithMessage("pacs.002: " + err.Error())
	}
	if len(doc.Msg.TxInfAndSts) != 1 {
		return InstantStatus{}, ErrMessage.WithMessage("pacs.002: TxInfAndSts: want one transaction, have " + strconv.Itoa(len(doc.Msg.TxInfAndSts)))
	}
	tx := doc.Msg.TxInfAndSts[0]
	if tx.OrgnlEndToEndId == nil || tx.TxSts == nil {
		return InstantStatus{}, ErrMessage.WithMessage("pacs.002: TxInfAndSts: OrgnlEndToEndId and TxSts are required")
	}
	st := InstantStatus{EndToEndID: string(*tx.OrgnlEndToEndId), Status: string(*tx.TxSts)}
	if len(tx.StsRsnInf) > 0 && tx.StsRsnInf[0].Rsn != nil && tx.StsRsnInf[0].Rsn.Cd != nil {
		st.Reason = string(*tx.StsRsnInf[0].Rsn.Cd)
	}
	if st.Status == "RJCT" && st.Reason == "" {
		return InstantStatus{}, ErrMessage.WithMessage("pacs.002: StsRsnInf: a rejection without a reason")
	}
	return st, nil
}

// InstantWords says a rejection reason in plain words (ISO 20022 External
// Code Sets, ExternalStatusReason1Code).
func InstantWords(code string) string {
	switch code {
	case "AC01":
		return "no account with that number exists at the other bank"
	case "AC03":
		return "the account number is not valid at the other bank"
	case "AC04":
		return "the other account is closed"
	case "AC06":
		return "the other account is blocked"
	case "AG01":
		return "the other account cannot receive this kind of payment"
	case "AM02":
		return "the amount is more than the other bank accepts"
	case "NARR":
		return "the other bank refused it"
	}
	return "the other bank refused it (" + code + ")"
}

// ErrNoInstant is an instant payment asked of a service without an
// instant transport (Options.Instant).
var ErrNoInstant = bankbridge.E(bankbridge.Unavailable, "instant_unavailable", "instant payments are not available")

// ErrInstantLimit is an instant payment above InstantLimit.
var ErrInstantLimit = bankbridge.E(bankbridge.Unprocessable, "instant_limit_exceeded", "an instant payment can be at most 100,000.00")

// PayInstant accepts a payment as Pay does (screen, hold) and sends it at
// once as an instant credit transfer: it settles (the hold is posted) or is
// refused (the hold is voided) before it returns, never half. If the
// service does not answer, the payment stays sent with its funds held,
// and the worker sends the same message again until it has an answer.
func (s *Service) PayInstant(ctx context.Context, r PayRequest) (Payment, error) {
	tr := s.o.Instant
	if tr == nil {
		return Payment{}, ErrNoInstant
	}
	if r.Amount > InstantLimit {
		return Payment{}, ErrInstantLimit
	}
	r.SameDay = false
	p, err := s.pay(ctx, r, KindInstant)
	if err != nil || p.Status != StatusAccepted {
		return p, err
	}
	return s.sendInstant(ctx, tr, p)
}

// sendInstant sends one accepted (or sent, unanswered) instant payment and
// applies the answer.
func (s *Service) sendInstant(ctx context.Context, tr InstantTransport, p Payment) (Payment, error) {
	if p.Trace == "" {
		p.Trace = Trace(s.o.Origin.Routing, p.ID)
	}
	if p.Status == StatusAccepted {
		// Recorded sent before the message leaves: a crash after sending
		// leaves it sent, and the worker asks again with the same MsgId.
		ok, err := s.st.MarkInstantSent(ctx, p.ID, p.Trace, s.o.Now())
		if err == nil && !ok {
			err = fmt.Errorf("rails: instant payment %d moved meanwhile", p.ID)
		}
		if err != nil {
			return p, err
		}
		p.Status = StatusSent
	}
	acct, err := s.led.Store().Account(ctx, p.From)
	if err != nil {
		return p, err
	}
	msg, err := BuildPacs008(s.o.Origin, p, acct.Name, s.o.Now())
	if err != nil {
		return p, err
	}
	b, err := tr.Instant(ctx, msg)
	if err != nil {
		return p, fmt.Errorf("rails: instant payment %d: %w", p.ID, err)
	}
	st, err := ParsePacs002(b)
	if err != nil {
		return p, err
	}
	if st.EndToEndID != p.Trace {
		return p, ErrMessage.WithMessage("pacs.002: OrgnlEndToEndId is not this payment's")
	}
	switch st.Status {
	case "ACSC", "ACCC":
		if err := s.post(ctx, p.Hold); err != nil {
			return p, err
		}
		p.Status = StatusSettled
	case "RJCT":
		if err := s.void(ctx, p.Hold); err != nil {
			return p, err
		}
		p.Status, p.ReturnCode, p.Reason = StatusRefused, st.Reason, InstantWords(st.Reason)
	default:
		return p, nil // in progress: asked again by the worker
	}
	if _, err := s.move(ctx, p, StatusSent); err != nil {
		return p, err
	}
	return p, nil
}

// Instants sends every instant payment accepted (released by compliance)
// or sent without an answer: the worker's part for instant payments.
func (s *Service) Instants(ctx context.Context, tr InstantTransport) (int, error) {
	ps, err := s.st.Payments(ctx, PaymentQuery{Kinds: []Kind{KindInstant}, Status: []Status{StatusAccepted, StatusSent}, Limit: 1000})
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, p := range ps {
		if _, err := s.sendInstant(ctx, tr, p); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}
