package rails

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge/ledger"
	"github.com/moov-io/iso20022/pkg/camt_v08"
	"github.com/moov-io/iso20022/pkg/common"
)

// A core banking system reports each account's day as a camt.053
// BankToCustomerStatement (ISO 20022 message definition
// camt.053.001.08, https://www.iso20022.org/catalogue-messages/iso-20022-messages-archive
// "Bank-to-Customer Cash Management"; the field rules below follow its
// Message Definition Report, "AccountStatement9" and "ReportEntry10").
// Each element is decoded into moov-io/iso20022's camt_v08 types; the
// library's whole-message Validate is not used, because its choice types
// (Sts, Acct/Id, Bal/Tp) refuse a choice with one alternative filled, which
// is every valid message (docs/decisions.md). The fields the mirror relies
// on are checked here, each error naming its element.

// nsCamt053 is the namespace of the statements read and written.
const nsCamt053 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"

// camtKind is a message the mirror reads: the end-of-day statement
// (camt.053, BkToCstmrStmt/Stmt) or the intraday debit and credit
// notification (camt.054.001.08, BkToCstmrDbtCdtNtfctn/Ntfctn,
// AccountNotification17: entries, no balances, no order the mirror needs).
type camtKind struct{ name, ns, root, rec string }

var camtKinds = []camtKind{
	{"camt.053", nsCamt053, "BkToCstmrStmt", "Stmt"},
	{"camt.054", nsCamt054, "BkToCstmrDbtCdtNtfctn", "Ntfctn"},
	// The intraday account report (BankToCustomerAccountReportV08,
	// AccountReport25): read as a camt.054 is, its booked entries posted
	// as they come (ISO 20022 Message Definition Report "Bank-to-Customer
	// Cash Management", camt.052.001.08).
	{"camt.052", nsCamt052, "BkToCstmrAcctRpt", "Rpt"},
}

// nsCamt052 is the namespace of the intraday account reports read.
const nsCamt052 = "urn:iso:std:iso:20022:tech:xsd:camt.052.001.08"

// intraday says whether a kind's records are intraday: entries posted as
// they come, no sequence or closing balance needed.
func (k camtKind) intraday() bool { return k.rec == "Ntfctn" || k.rec == "Rpt" }

// nsCamt054 is the namespace of the notifications read and written.
const nsCamt054 = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"

// Statement is one account's statement from the core, as the mirror uses
// it: the balances it opens and closes with (signed, minor units) and its
// booked entries in order.
type Statement struct {
	MsgID    string // GrpHdr/MsgId
	ID       string // Stmt/Id
	Seq      int64  // ElctrncSeqNb (LglSeqNb when absent): the order of the account's statements
	Account  ledger.AccountNumber
	Currency ledger.Currency
	// Opening is the opening (OPBD) or previous closing (PRCD) balance;
	// HasOpening says one was given.
	Opening    ledger.Amount
	HasOpening bool
	Closing    ledger.Amount // CLBD
	Entries    []StatementEntry
	// Hash digests what the mirror imports (account, sequence, balances,
	// entries), so a statement sent again can be told from another one
	// under the same sequence number.
	Hash [32]byte
	// Intraday marks a camt.054 notification's entries: posted as they
	// come, with no balances and no sequence; the day's camt.053 then
	// carries the same entries, which replay.
	Intraday bool

	closingSeen bool
}

// StatementEntry is one booked entry: credits positive, debits negative.
type StatementEntry struct {
	Ref    string // AcctSvcrRef, else NtryRef: the core's reference, unique per account
	Amount ledger.Amount
	Booked time.Time
	Info   string // AddtlNtryInf
	// EndToEnd is the first NtryDtls/TxDtls/Refs/EndToEndId: how the
	// core's booking of a payment bankbridge sent it names the payment.
	EndToEnd string
}

// stmtHeader is the part of a statement before its entries.
type stmtHeader struct {
	ID       common.Max35Text
	Seq, Lgl float64
	Acct     *camt_v08.CashAccount39
	Bals     []camt_v08.CashBalance8
}

// path tracks where the decoder is, to name the element at fault.
// Its first element is the message's name (camt.053, camt.054).
type path []string

func (p path) String() string {
	if len(p) == 1 {
		return p[0] + ": Document"
	}
	return p[0] + ": " + strings.Join(p[1:], "/")
}

func camtErr(p path, format string, a ...any) error {
	return ErrMessage.WithMessage(p.String() + ": " + fmt.Sprintf(format, a...))
}

// signed reads an amount with its credit/debit indicator into signed minor
// units of ccy, refusing more decimals than the currency has.
func signed(p path, v float64, ccy ledger.Currency, ind common.CreditDebitCode, positive bool) (ledger.Amount, error) {
	if !ccy.Valid() {
		return 0, camtErr(p, "currency %q is not one the bank books", string(ccy))
	}
	if err := ind.Validate(); err != nil {
		return 0, camtErr(p, "CdtDbtInd must be CRDT or DBIT")
	}
	scale := math.Pow10(ccy.Exponent())
	c := math.Round(v * scale)
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || (positive && v == 0) || c > 1<<53 || math.Abs(v*scale-c) > 1e-6 {
		return 0, camtErr(p, "Amt must be a positive amount with at most %d decimals", ccy.Exponent())
	}
	a := ledger.Amount(c)
	if ind == "DBIT" {
		a = -a
	}
	return a, nil
}

// ParseCamt053 reads every statement of a camt.053 message. It reads all of
// it before it returns: a message malformed or truncated anywhere returns
// an error naming the element and no statement, so nothing is posted from
// it. Entries not booked (Sts other than BOOK) are left out.
func ParseCamt053(r io.Reader) ([]Statement, error) { return parseCamt(r, camtKinds[:1]) }

// ParseCamt054 reads every notification of a camt.054 message, as
// ParseCamt053 reads statements; each comes back as a Statement with
// Intraday set, its entries only.
func ParseCamt054(r io.Reader) ([]Statement, error) { return parseCamt(r, camtKinds[1:]) }

// ParseCamt052 reads every report of a camt.052 intraday account report,
// as ParseCamt054 reads notifications: each comes back with Intraday set,
// its booked entries only.
func ParseCamt052(r io.Reader) ([]Statement, error) { return parseCamt(r, camtKinds[2:]) }

// ParseCore reads a camt.053, camt.054 or camt.052 message, whichever its
// namespace says.
func ParseCore(r io.Reader) ([]Statement, error) { return parseCamt(r, camtKinds) }

func camtNames(kinds []camtKind) string {
	var n []string
	for _, k := range kinds {
		n = append(n, k.name)
	}
	return strings.Join(n, " or ")
}

func parseCamt(r io.Reader, kinds []camtKind) ([]Statement, error) {
	d := xml.NewDecoder(r)
	var (
		k       camtKind
		p       = path{camtNames(kinds)}
		out     []Statement
		msgID   string
		sawRoot bool
		cur     *Statement
		hdr     stmtHeader
		refs    map[string]bool
		h       = sha256.New()
		nStmt   int
		nEntry  int
	)
	finish := func() error {
		s := cur
		switch {
		case hdr.ID == "":
			return camtErr(p, "Id is required")
		case hdr.Acct == nil:
			return camtErr(p, "Acct is required")
		}
		if s.Intraday {
			s.Seq = 0 // intraday entries need no order
		}
		if s.Seq == 0 && !s.Intraday {
			return camtErr(p, "ElctrncSeqNb (or LglSeqNb) is required: the mirror imports an account's statements in its order")
		}
		if !s.HasClosingBalance() && !s.Intraday {
			return camtErr(p, "Bal: a closing balance (CLBD) is required")
		}
		// An intraday report may carry the day's opening balance and only
		// the entries since the last report: its balances are not summed.
		if s.HasOpening && !s.Intraday {
			sum := s.Opening
			for _, e := range s.Entries {
				var ok bool
				if sum, ok = sum.Add(e.Amount); !ok {
					return camtErr(p, "Ntry: the entries overflow the balance")
				}
			}
			if sum != s.Closing {
				return camtErr(p, "Bal: the opening balance %s plus the booked entries is %s, but the closing balance (CLBD) is %s",
					s.Opening.Display(s.Currency), sum.Display(s.Currency), s.Closing.Display(s.Currency))
			}
		}
		var b [8]byte
		put := func(v int64) { binary.BigEndian.PutUint64(b[:], uint64(v)); h.Write(b[:]) }
		put(s.Seq)
		h.Write([]byte(s.Account + "\x00" + ledger.AccountNumber(s.Currency) + "\x00"))
		put(int64(s.Opening))
		put(int64(s.Closing))
		put(int64(len(s.Entries)))
		s.Hash = [32]byte(h.Sum(nil))
		out = append(out, *s)
		cur = nil
		return nil
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, xmlErr(p, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			switch {
			case len(p) == 1:
				k = camtKind{}
				for _, c := range kinds {
					if c.ns == t.Name.Space {
						k = c
					}
				}
				if name != "Document" || k.ns == "" {
					var want []string
					for _, c := range kinds {
						want = append(want, c.ns)
					}
					return nil, camtErr(append(p, name), "not a Document of namespace %s", strings.Join(want, " or "))
				}
				p = path{k.name, name}
				continue
			case len(p) == 2:
				if name != k.root {
					return nil, camtErr(append(p, name), "expected %s", k.root)
				}
				sawRoot = true
				p = append(p, name)
				continue
			case len(p) == 3 && name == "GrpHdr":
				var g camt_v08.GroupHeader81
				if err := d.DecodeElement(&g, &t); err != nil {
					return nil, xmlErr(append(p, name), err)
				}
				if err := g.MsgId.Validate(); err != nil {
					return nil, camtErr(append(p, name, "MsgId"), "1 to 35 characters are required")
				}
				msgID = string(g.MsgId)
				continue
			case len(p) == 3 && name == k.rec:
				nStmt++
				nEntry = 0
				p = append(p, k.rec+"["+strconv.Itoa(nStmt)+"]")
				cur = &Statement{MsgID: msgID, Intraday: k.intraday()}
				hdr = stmtHeader{}
				refs = map[string]bool{}
				h.Reset()
				if msgID == "" {
					return nil, camtErr(p, "GrpHdr with MsgId must come first")
				}
				continue
			case len(p) == 4 && cur != nil:
				ep := append(p[:len(p):len(p)], name)
				var err error
				switch name {
				case "Id":
					err = d.DecodeElement(&hdr.ID, &t)
					if err == nil && hdr.ID.Validate() != nil {
						err = errors.New("1 to 35 characters are required")
					}
					cur.ID = string(hdr.ID)
				case "ElctrncSeqNb", "LglSeqNb":
					var v float64
					if err = d.DecodeElement(&v, &t); err == nil && (v < 1 || v != math.Trunc(v) || v > 1<<53) {
						err = errors.New("a whole number from 1 is required")
					}
					if cur.Seq == 0 || name == "ElctrncSeqNb" {
						cur.Seq = int64(v)
					}
				case "Acct":
					hdr.Acct = new(camt_v08.CashAccount39)
					if err = d.DecodeElement(hdr.Acct, &t); err == nil {
						id := string(hdr.Acct.Id.Othr.Id)
						if id == "" {
							id = string(hdr.Acct.Id.IBAN)
						}
						if id == "" || len(id) > 34 {
							err = errors.New("Id/Othr/Id or Id/IBAN is required")
						}
						cur.Account = ledger.AccountNumber(id)
						if hdr.Acct.Ccy != nil {
							cur.Currency = ledger.Currency(*hdr.Acct.Ccy)
						}
					}
				case "Bal":
					var b camt_v08.CashBalance8
					if err = d.DecodeElement(&b, &t); err == nil {
						err = cur.balance(ep, b)
					}
				case "Ntry":
					nEntry++
					ep[len(ep)-1] = "Ntry[" + strconv.Itoa(nEntry) + "]"
					var e camt_v08.ReportEntry10
					if err = d.DecodeElement(&e, &t); err == nil {
						err = cur.entry(ep, e, refs, h)
					}
				default:
					err = d.Skip()
				}
				if err != nil {
					if errors.Is(err, ErrMessage) {
						return nil, err
					}
					return nil, xmlErr(ep, err)
				}
				continue
			}
			if err := d.Skip(); err != nil {
				return nil, xmlErr(append(p, name), err)
			}
		case xml.EndElement:
			if len(p) == 4 && cur != nil {
				if err := finish(); err != nil {
					return nil, err
				}
			}
			if len(p) > 1 {
				p = p[:len(p)-1]
			}
		}
	}
	if !sawRoot || len(p) != 1 {
		return nil, camtErr(p, "the message is truncated")
	}
	if len(out) == 0 {
		return nil, camtErr(path{k.name, "Document", k.root}, "no %s", k.rec)
	}
	return out, nil
}

// xmlErr names the element where the decoder failed; a message that ends
// early says so in words.
func xmlErr(p path, err error) error {
	var se *xml.SyntaxError
	if errors.Is(err, io.ErrUnexpectedEOF) || (errors.As(err, &se) && strings.Contains(se.Msg, "unexpected EOF")) {
		return camtErr(p, "the message is truncated")
	}
	return camtErr(p, "%v", err)
}

// HasClosingBalance reports whether the statement's closing balance was read.
func (s *Statement) HasClosingBalance() bool { return s.closingSeen }

func (s *Statement) balance(p path, b camt_v08.CashBalance8) error {
	ccy := ledger.Currency(b.Amt.Ccy)
	if s.Currency == "" {
		s.Currency = ccy
	}
	if ccy != s.Currency {
		return camtErr(p, "Amt is in %s, the account in %s", string(ccy), string(s.Currency))
	}
	a, err := signed(p, b.Amt.Value, ccy, b.CdtDbtInd, false)
	if err != nil {
		return err
	}
	switch b.Tp.CdOrPrtry.Cd {
	case "OPBD", "PRCD":
		s.Opening, s.HasOpening = a, true
	case "CLBD":
		s.Closing, s.closingSeen = a, true
	}
	return nil
}

func (s *Statement) entry(p path, e camt_v08.ReportEntry10, refs map[string]bool, h interface{ Write([]byte) (int, error) }) error {
	if e.Sts.Cd != "BOOK" {
		if e.Sts.Cd == "" && e.Sts.Prtry == "" {
			return camtErr(p, "Sts is required")
		}
		return nil // pending or information only: not on the balance
	}
	ccy := ledger.Currency(e.Amt.Ccy)
	if s.Currency == "" {
		s.Currency = ccy
	}
	if ccy != s.Currency {
		return camtErr(p, "Amt is in %s, the account in %s", string(ccy), string(s.Currency))
	}
	a, err := signed(p, e.Amt.Value, ccy, e.CdtDbtInd, true)
	if err != nil {
		return err
	}
	var ref string
	switch {
	case e.AcctSvcrRef != nil && *e.AcctSvcrRef != "":
		ref = string(*e.AcctSvcrRef)
	case e.NtryRef != nil && *e.NtryRef != "":
		ref = string(*e.NtryRef)
	default:
		return camtErr(p, "AcctSvcrRef or NtryRef is required: the mirror imports each entry once by it")
	}
	if len(ref) > 35 {
		return camtErr(p, "AcctSvcrRef is longer than 35 characters")
	}
	if refs[ref] {
		return camtErr(p, "AcctSvcrRef %q appears twice in the statement", ref)
	}
	refs[ref] = true
	en := StatementEntry{Ref: ref, Amount: a}
	if e.BookgDt != nil {
		en.Booked = time.Time(e.BookgDt.DtTm)
		if en.Booked.IsZero() {
			en.Booked = time.Time(e.BookgDt.Dt)
		}
	}
	if e.AddtlNtryInf != nil {
		en.Info = string(*e.AddtlNtryInf)
	}
	for _, d := range e.NtryDtls {
		for _, tx := range d.TxDtls {
			if en.EndToEnd == "" && tx.Refs != nil && tx.Refs.EndToEndId != nil {
				en.EndToEnd = string(*tx.Refs.EndToEndId)
			}
		}
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(a))
	h.Write(b[:])
	h.Write([]byte(ref + "\x00"))
	s.Entries = append(s.Entries, en)
	return nil
}

// The elements the writer emits with a choice of one alternative: the
// library's choice types would write every alternative, empty.
type (
	camtCode struct {
		Cd string `xml:"Cd"`
	}
	camtDate struct {
		Dt common.ISODate `xml:"Dt"`
	}
	camtBalType struct {
		CdOrPrtry camtCode `xml:"CdOrPrtry"`
	}
	// camtAmt writes an amount as an xs:decimal: the library's float64
	// would write 1e+06 for a million.
	camtAmt struct {
		Value string                              `xml:",chardata"`
		Ccy   common.ActiveOrHistoricCurrencyCode `xml:"Ccy,attr"`
	}
	camtBal struct {
		Tp        camtBalType            `xml:"Tp"`
		Amt       camtAmt                `xml:"Amt"`
		CdtDbtInd common.CreditDebitCode `xml:"CdtDbtInd"`
		Dt        camtDate               `xml:"Dt"`
	}
	camtAcct struct {
		Id struct {
			Othr camt_v08.GenericAccountIdentification1 `xml:"Othr"`
		} `xml:"Id"`
		Ccy common.ActiveOrHistoricCurrencyCode `xml:"Ccy"`
	}
	camtEntry struct {
		NtryRef     common.Max35Text       `xml:"NtryRef"`
		Amt         camtAmt                `xml:"Amt"`
		CdtDbtInd   common.CreditDebitCode `xml:"CdtDbtInd"`
		Sts         camtCode               `xml:"Sts"`
		BookgDt     camtDate               `xml:"BookgDt"`
		AcctSvcrRef common.Max35Text       `xml:"AcctSvcrRef"`
		BkTxCd      struct {
			Prtry camt_v08.ProprietaryBankTransactionCodeStructure1 `xml:"Prtry"`
		} `xml:"BkTxCd"`
		NtryDtls     *camtDtls          `xml:"NtryDtls,omitempty"`
		AddtlNtryInf *common.Max500Text `xml:"AddtlNtryInf,omitempty"`
	}
	// camtDtls carries an entry's end-to-end id (NtryDtls/TxDtls/Refs).
	camtDtls struct {
		TxDtls struct {
			Refs struct {
				EndToEndId common.Max35Text `xml:"EndToEndId"`
			} `xml:"Refs"`
		} `xml:"TxDtls"`
	}
)

func decimalOf(a ledger.Amount, c ledger.Currency) (string, common.CreditDebitCode) {
	ind := common.CreditDebitCode("CRDT")
	if a < 0 {
		a, ind = -a, "DBIT"
	}
	e := c.Exponent()
	if e == 0 {
		return strconv.FormatInt(int64(a), 10), ind
	}
	s := fmt.Sprintf("%0*d", e+1, int64(a))
	return s[:len(s)-e] + "." + s[len(s)-e:], ind
}

// WriteCamt053 writes statements as one camt.053.001.08 message, as a core
// would send them (the emulator, tests and the benchmark use it): each
// statement with its opening and closing balances and its entries as
// booked, each entry's Ref as AcctSvcrRef and NtryRef. Entries are written
// one at a time, so a statement of a million entries streams.
func WriteCamt053(w io.Writer, msgID string, at time.Time, stmts []Statement) error {
	return writeCamt(w, camtKinds[0], msgID, at, stmts)
}

// WriteCamt054 writes entries as one camt.054.001.08 notification message,
// a notification per statement given (its balances and sequence left out).
func WriteCamt054(w io.Writer, msgID string, at time.Time, stmts []Statement) error {
	return writeCamt(w, camtKinds[1], msgID, at, stmts)
}

// WriteCamt052 writes entries as one camt.052.001.08 intraday account
// report, a report per statement given (its sequence and balances left
// out), as a core sends them during the day.
func WriteCamt052(w io.Writer, msgID string, at time.Time, stmts []Statement) error {
	return writeCamt(w, camtKinds[2], msgID, at, stmts)
}

func writeCamt(w io.Writer, k camtKind, msgID string, at time.Time, stmts []Statement) error {
	intraday := k.intraday()
	enc := xml.NewEncoder(w)
	el := func(n string) xml.StartElement { return xml.StartElement{Name: xml.Name{Local: n}} }
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	doc := xml.StartElement{Name: xml.Name{Local: "Document"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: k.ns}}}
	if err := enc.EncodeToken(doc); err != nil {
		return err
	}
	if err := enc.EncodeToken(el(k.root)); err != nil {
		return err
	}
	if err := enc.EncodeElement(camt_v08.GroupHeader81{MsgId: common.Max35Text(msgID), CreDtTm: common.ISODateTime(at.UTC().Truncate(time.Second))}, el("GrpHdr")); err != nil {
		return err
	}
	day := common.ISODate(time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC))
	for _, s := range stmts {
		if err := enc.EncodeToken(el(k.rec)); err != nil {
			return err
		}
		var acct camtAcct
		acct.Id.Othr.Id, acct.Ccy = common.Max34Text(s.Account), common.ActiveOrHistoricCurrencyCode(s.Currency)
		for _, x := range []struct {
			v any
			n string
		}{{common.Max35Text(s.ID), "Id"}, {s.Seq, "ElctrncSeqNb"}, {common.ISODateTime(at.UTC().Truncate(time.Second)), "CreDtTm"}, {acct, "Acct"}} {
			if intraday && x.n == "ElctrncSeqNb" && s.Seq == 0 {
				continue
			}
			if err := enc.EncodeElement(x.v, el(x.n)); err != nil {
				return err
			}
		}
		bals := []struct {
			cd string
			a  ledger.Amount
		}{{"OPBD", s.Opening}, {"CLBD", s.Closing}}
		if intraday {
			bals = nil // a notification carries entries only
		}
		for _, b := range bals {
			v, ind := decimalOf(b.a, s.Currency)
			if err := enc.EncodeElement(camtBal{Tp: camtBalType{camtCode{b.cd}}, Amt: camtAmt{Value: v, Ccy: common.ActiveOrHistoricCurrencyCode(s.Currency)},
				CdtDbtInd: ind, Dt: camtDate{day}}, el("Bal")); err != nil {
				return err
			}
		}
		var e camtEntry
		e.Sts.Cd = "BOOK"
		e.BkTxCd.Prtry.Cd = "CORE"
		e.Amt.Ccy = common.ActiveOrHistoricCurrencyCode(s.Currency)
		ntry := el("Ntry")
		for _, en := range s.Entries {
			e.NtryRef, e.AcctSvcrRef = common.Max35Text(en.Ref), common.Max35Text(en.Ref)
			e.Amt.Value, e.CdtDbtInd = decimalOf(en.Amount, s.Currency)
			e.BookgDt.Dt = day
			if !en.Booked.IsZero() {
				e.BookgDt.Dt = common.ISODate(en.Booked)
			}
			e.AddtlNtryInf, e.NtryDtls = nil, nil
			if en.EndToEnd != "" {
				e.NtryDtls = &camtDtls{}
				e.NtryDtls.TxDtls.Refs.EndToEndId = common.Max35Text(en.EndToEnd)
			}
			if en.Info != "" {
				info := common.Max500Text(en.Info)
				e.AddtlNtryInf = &info
			}
			if err := enc.EncodeElement(e, ntry); err != nil {
				return err
			}
		}
		if err := enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: k.rec}}); err != nil {
			return err
		}
	}
	if err := enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: k.root}}); err != nil {
		return err
	}
	if err := enc.EncodeToken(xml.EndElement{Name: doc.Name}); err != nil {
		return err
	}
	return enc.Flush()
}
