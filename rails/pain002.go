package rails

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/moov-io/iso20022/pkg/pain_v11"
)

// The core's answer to a pain.001: a customer payment status report,
// pain.002 (CustomerPaymentStatusReportV11, pain.002.001.11; ISO 20022
// Message Definition Report "Payments Initiation", CstmrPmtStsRpt). A
// rejection (status RJCT, ISO 20022 External Code Sets
// ExternalPaymentGroupStatus1Code / ExternalPaymentTransactionStatus1Code)
// may be given for the whole message (OrgnlGrpInfAndSts/GrpSts, naming
// OrgnlMsgId), for the payment information (OrgnlPmtInfAndSts/PmtInfSts,
// OrgnlPmtInfId) or for the transaction (TxInfAndSts/TxSts,
// OrgnlEndToEndId); bankbridge sends one payment a message with the same
// id at each level, so each names the payment. Other statuses (ACTC,
// ACCP, PDNG...) change nothing: the booking settles. The elements read
// are the same in every pain.002.001 version, so any of them is read with
// moov-io/iso20022's pain_v11 types.

// CoreRejection is a payment the core refused.
type CoreRejection struct {
	EndToEnd string
	Reason   string // the ExternalStatusReason1Code (AC04, AM04...), or empty
}

// IsPain002 says whether an XML message is a pain.002, by its namespace.
func IsPain002(body []byte) bool {
	return bytes.Contains(body, []byte("urn:iso:std:iso:20022:tech:xsd:pain.002.001."))
}

// ParsePain002 reads the rejections of a pain.002; a message that is not
// one, or is cut short, is an error naming what is wrong.
func ParsePain002(r io.Reader) ([]CoreRejection, error) {
	var doc struct {
		XMLName xml.Name
		Msg     *pain_v11.CustomerPaymentStatusReportV11 `xml:"CstmrPmtStsRpt"`
	}
	if err := xml.NewDecoder(r).Decode(&doc); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || strings.Contains(err.Error(), "unexpected EOF") {
			return nil, ErrMessage.WithMessage("pain.002: the message is truncated")
		}
		return nil, ErrMessage.WithMessage("pain.002: " + err.Error())
	}
	if doc.XMLName.Local != "Document" || !strings.HasPrefix(doc.XMLName.Space, "urn:iso:std:iso:20022:tech:xsd:pain.002.001.") || doc.Msg == nil {
		return nil, ErrMessage.WithMessage("pain.002: Document/CstmrPmtStsRpt is required")
	}
	m := doc.Msg
	if m.GrpHdr.MsgId == "" {
		return nil, ErrMessage.WithMessage("pain.002: Document/CstmrPmtStsRpt/GrpHdr/MsgId is required")
	}
	reason := func(rs []pain_v11.StatusReasonInformation12) string {
		for _, r := range rs {
			if r.Rsn != nil && r.Rsn.Cd != "" {
				return string(r.Rsn.Cd)
			}
		}
		return ""
	}
	var out []CoreRejection
	seen := map[string]bool{}
	add := func(id, why string) {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, CoreRejection{EndToEnd: id, Reason: why})
		}
	}
	g := m.OrgnlGrpInfAndSts
	if g.GrpSts != nil && *g.GrpSts == "RJCT" {
		add(string(g.OrgnlMsgId), reason(g.StsRsnInf))
	}
	for i, pi := range m.OrgnlPmtInfAndSts {
		if pi.PmtInfSts != nil && *pi.PmtInfSts == "RJCT" {
			add(string(pi.OrgnlPmtInfId), reason(pi.StsRsnInf))
		}
		for j, tx := range pi.TxInfAndSts {
			if tx.TxSts == nil || *tx.TxSts != "RJCT" {
				continue
			}
			if tx.OrgnlEndToEndId == nil || *tx.OrgnlEndToEndId == "" {
				return nil, ErrMessage.WithMessage(fmt.Sprintf("pain.002: Document/CstmrPmtStsRpt/OrgnlPmtInfAndSts[%d]/TxInfAndSts[%d]: OrgnlEndToEndId is required", i+1, j+1))
			}
			add(string(*tx.OrgnlEndToEndId), reason(tx.StsRsnInf))
		}
	}
	return out, nil
}

// RejectedByCore refuses the payments the core rejected: each one still
// sent to it has its hold released (no money left) and is marked refused
// with the core's reason. It returns how many it refused now; run again it
// changes nothing. A rejection of a payment that is not bankbridge's, or
// not waiting for the core, is skipped.
func (s *Service) RejectedByCore(ctx context.Context, rs []CoreRejection) (int, error) {
	n := 0
	for _, r := range rs {
		p, ok, err := s.paymentOfEndToEnd(ctx, r.EndToEnd)
		if err != nil {
			return n, err
		}
		if !ok {
			continue
		}
		if p.Status != StatusSent || p.Trace != EndToEndID(p.ID) {
			continue
		}
		if err := s.void(ctx, p.Hold); err != nil {
			return n, err
		}
		p.Status, p.ReturnCode, p.Reason = StatusRefused, r.Reason, "the bank's core refused it"
		if r.Reason != "" {
			p.Reason += " (" + r.Reason + ")"
		}
		ok, err = s.move(ctx, p, StatusSent)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}
