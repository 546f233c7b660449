package rails

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
)

// Instant returns and requests for return, both ways (iso.go has the
// messages; docs/rails.md, "Instant returns and recalls").
//
// Out: the bank asks the receiving bank to give back an instant payment it
// sent (RequestReturn: camt.056); the answer is a camt.029 (CNCL: the money
// follows as a pacs.004; RJCR: refused, with its reason; PDCR: pending). A
// pacs.004 in gives the customer their money back.
//
// In: an instant credit from another bank (pacs.008) is posted to the
// account it names and answered with a pacs.002 (ACSC, or RJCT with AC01
// no account, AC04 closed, AC06 frozen). A request to return one of them
// (camt.056) is answered with the money (pacs.004, reason FOCR) when the
// account still holds it, or with a refusal (camt.029 RJCR: AM04 spent,
// AC04 closed, NOOR no such payment, ARDT already returned). The bank
// returns what the account holds without asking its customer: a policy a
// bank may want to change (a request for CUST reasons needs the customer's
// consent in most schemes).

// Recall states.
const (
	RecallRequested = "requested"
	RecallAccepted  = "accepted"
	RecallRefused   = "refused"
)

// InstantInbox is how the instant service's messages to the bank are taken:
// list, read, acknowledge (the operator's side of FedNow's message queue).
type InstantInbox interface {
	InstantInbox(ctx context.Context) ([]string, error)
	InstantGet(ctx context.Context, id string) ([]byte, error)
	InstantAck(ctx context.Context, id string) error
}

// Errors of recalls.
var (
	ErrNotRecallable = bankbridge.E(bankbridge.Conflict, "payment_not_recallable", "only a settled instant payment can be asked back, once")
	ErrRecallReason  = bankbridge.E(bankbridge.Invalid, "recall_reason_invalid", "the reason must be one of DUPL, FRAD, TECH, CUST, AC03, AM09, UPAY")
)

// EntryInstant is an instant credit another bank sent to an account here.
const EntryInstant EntryKind = "instant"

// RequestReturn asks the receiving bank to give back a settled instant
// payment (customer 0: the bank's staff ask). The answer is applied at once;
// an answer lost leaves the request sent, and the worker asks again with
// the same case id, which the service answers the same way.
func (s *Service) RequestReturn(ctx context.Context, c bankbridge.CustomerID, id PaymentID, reason string) (Payment, error) {
	if RecallReasons[reason] == "" {
		return Payment{}, ErrRecallReason
	}
	p, err := s.st.Payment(ctx, id)
	if err != nil || c != 0 && p.Customer != c {
		return Payment{}, ErrPaymentNotFound
	}
	if p.Kind != KindInstant || p.Status != StatusSettled || p.Recall != "" && p.Recall != RecallRequested {
		return Payment{}, ErrNotRecallable
	}
	if p.Recall == "" {
		ok, err := s.st.SetRecall(ctx, id, "", RecallRequested, reason+": "+RecallReasons[reason])
		if err != nil {
			return Payment{}, err
		}
		if !ok {
			return Payment{}, ErrNotRecallable
		}
		p.Recall, p.RecallNote = RecallRequested, reason+": "+RecallReasons[reason]
	}
	return s.sendRecall(ctx, p)
}

func (s *Service) sendRecall(ctx context.Context, p Payment) (Payment, error) {
	tr := s.o.Instant
	if tr == nil {
		return p, ErrNoInstant
	}
	reason, _, _ := strings.Cut(p.RecallNote, ":")
	msg, err := BuildCamt056(s.o.Origin.Routing, p.Routing, "RQ"+p.Trace, p.Trace, p.Amount, reason, s.o.Now())
	if err != nil {
		return p, err
	}
	b, err := tr.Instant(ctx, msg)
	if err != nil {
		return p, fmt.Errorf("rails: request for return of %d: %w", p.ID, err)
	}
	ans, err := ParseISO(b)
	if err != nil {
		return p, err
	}
	if ans.Type != "camt.029" || ans.EndToEndID != p.Trace {
		return p, ErrMessage.WithMessage("the answer to a camt.056 must be a camt.029 about the same payment")
	}
	switch ans.Status {
	case "CNCL":
		p.Recall, p.RecallNote = RecallAccepted, "the other bank agreed to return it; the money follows"
	case "RJCR":
		p.Recall, p.RecallNote = RecallRefused, "the other bank did not return it: "+refusalReasons[ans.Reason]
	default:
		return p, nil // pending: asked again by the worker
	}
	if _, err := s.st.SetRecall(ctx, p.ID, RecallRequested, p.Recall, p.RecallNote); err != nil {
		return p, err
	}
	return p, nil
}

// ISOInbox takes every message the instant service holds for the bank,
// applies it, answers it when it asks for an answer, and acknowledges it;
// then asks again about requests for return still unanswered. A message
// that cannot be read is acknowledged and logged: retrying cannot mend it.
func (s *Service) ISOInbox(ctx context.Context, tr InstantInbox) (int, error) {
	ids, err := tr.InstantInbox(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		b, err := tr.InstantGet(ctx, id)
		if err != nil {
			return n, err
		}
		if err := s.ProcessISO(ctx, b); err != nil {
			if k := bankbridge.ErrorKind(err); k != bankbridge.Invalid {
				return n, err
			}
			s.o.Logger.Warn("rails: instant message refused", "id", id, "err", err)
		}
		if err := tr.InstantAck(ctx, id); err != nil {
			return n, err
		}
		n++
	}
	ps, err := s.st.Payments(ctx, PaymentQuery{Kinds: []Kind{KindInstant}, Recall: RecallRequested, Limit: 100})
	if err != nil {
		return n, err
	}
	var errs []error
	for _, p := range ps {
		if _, err := s.sendRecall(ctx, p); err != nil {
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

// ProcessISO applies one message from the instant service: a pacs.008 (a
// credit to an account here), a pacs.004 (one of the bank's payments
// returned) or a camt.056 (a request to return a credit the bank took).
// Each is applied under keys of its own, so a message taken twice changes
// nothing more and is answered the same way.
func (s *Service) ProcessISO(ctx context.Context, b []byte) error {
	m, err := ParseISO(b)
	if err != nil {
		return err
	}
	if m.To != s.o.Origin.Routing {
		return ErrMessage.WithMessage(m.Type + ": the message is for another bank (" + m.To + ")")
	}
	switch m.Type {
	case "pacs.008":
		return s.instantCredit(ctx, m)
	case "pacs.004":
		return s.instantReturned(ctx, m)
	case "camt.056":
		return s.returnRequested(ctx, m)
	}
	return ErrMessage.WithMessage(m.Type + ": not a message the instant service sends unasked")
}

func (s *Service) reply(ctx context.Context, msg []byte, err error) error {
	if err != nil {
		return err
	}
	if s.o.Instant == nil {
		return ErrNoInstant
	}
	_, err = s.o.Instant.Instant(ctx, msg)
	return err
}

// instantCredit posts an instant credit and answers its pacs.002.
func (s *Service) instantCredit(ctx context.Context, m ISOMessage) error {
	settle, err := s.Settlement(ctx)
	if err != nil {
		return err
	}
	e, err := s.st.Entry(ctx, 0, m.EndToEndID, EntryInstant)
	if errors.Is(err, ErrEntryNotFound) {
		e = Entry{Trace: m.EndToEndID, Kind: EntryInstant, Status: EntryPosted, Amount: m.Amount, Name: m.Debtor, At: s.o.Now()}
		a, aerr := s.st.AccountByNumber(ctx, ledger.AccountNumber(m.Account))
		code := ""
		switch {
		case errors.Is(aerr, ledger.ErrAccountNotFound) || aerr == nil && a.Customer == 0:
			code = "AC01"
		case aerr != nil:
			return aerr
		case a.Status == ledger.Closed:
			code = "AC04"
		case a.Status == ledger.Frozen:
			code = "AC06"
		}
		if aerr == nil {
			e.Customer, e.Account = a.Customer, a.ID
		}
		if code == "" {
			who := m.Debtor
			if who == "" {
				who = "another bank"
			}
			t, _, terr := s.led.Transfer(ctx, ledger.Request{Client: Client, Key: "inst:" + m.EndToEndID, Currency: "USD",
				Description: "Instant payment from " + who, Category: "income",
				Postings: []ledger.Posting{{Account: settle.ID, Amount: -m.Amount}, {Account: a.ID, Amount: m.Amount}}})
			if terr != nil {
				return terr
			}
			e.Transfer = t.ID
		} else {
			e.Status, e.Code, e.Detail = EntryUnmatched, code, "refused: "+InstantWords(code)
		}
		if _, err := s.st.AddEntry(ctx, e); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	status := "ACSC"
	if e.Status == EntryUnmatched {
		status = "RJCT"
	}
	msg, err := BuildPacs002(m.MsgID, m.EndToEndID, status, e.Code, s.o.Now())
	return s.reply(ctx, msg, err)
}

// instantReturned gives the customer back an instant payment the receiving
// bank returned.
func (s *Service) instantReturned(ctx context.Context, m ISOMessage) error {
	e := Entry{Trace: m.MsgID, Kind: EntryReturn, Status: EntryPosted, Amount: m.Amount, Code: m.Reason, At: s.o.Now()}
	p, err := s.st.PaymentByTrace(ctx, m.EndToEndID)
	switch {
	case errors.Is(err, ErrPaymentNotFound) || err == nil && p.Kind != KindInstant:
		e.Status, e.Detail = EntryUnmatched, "no instant payment was sent with this end-to-end id"
	case err != nil:
		return err
	case m.Amount != p.Amount:
		e.Status, e.Detail = EntryUnmatched, "the amount returned is not the payment's"
	}
	if e.Status == EntryPosted {
		e.Customer, e.Account, e.Payment = p.Customer, p.From, p.ID
		if p.Status == StatusSettled {
			settle, err := s.Settlement(ctx)
			if err != nil {
				return err
			}
			words := returnReasons[m.Reason]
			t, _, err := s.led.Transfer(ctx, ledger.Request{Client: Client, Key: fmt.Sprintf("ret:%d", p.ID), Currency: p.Currency,
				Description: "Returned: instant payment to " + p.Name + " (" + words + ")", Category: "transfer",
				Postings: []ledger.Posting{{Account: settle.ID, Amount: -p.Amount}, {Account: p.From, Amount: p.Amount}}})
			if err != nil {
				return err
			}
			p.Status, p.ReturnCode, p.Reason, p.Reversal, e.Transfer = StatusReturned, m.Reason, words, t.ID, t.ID
			if _, err := s.move(ctx, p, StatusSettled); err != nil {
				return err
			}
		}
	}
	_, err = s.st.AddEntry(ctx, e)
	return err
}

// returnRequested answers another bank's request to return an instant
// credit posted here: the money (pacs.004) if the account still holds it,
// a refusal (camt.029 RJCR) otherwise.
func (s *Service) returnRequested(ctx context.Context, m ISOMessage) error {
	refuse := func(code string) error {
		msg, err := BuildCamt029(s.o.Origin.Routing, m.From, m.MsgID, m.EndToEndID, "RJCR", code, s.o.Now())
		return s.reply(ctx, msg, err)
	}
	e, err := s.st.Entry(ctx, 0, m.EndToEndID, EntryInstant)
	if errors.Is(err, ErrEntryNotFound) || err == nil && (e.Status == EntryUnmatched || e.Amount != m.Amount) {
		return refuse("NOOR")
	}
	if err != nil {
		return err
	}
	retID := "RT" + m.MsgID
	if e.Status == EntryReturned {
		if !strings.Contains(e.Detail, retID) {
			return refuse("ARDT")
		}
	} else {
		settle, err := s.Settlement(ctx)
		if err != nil {
			return err
		}
		_, _, err = s.led.Transfer(ctx, ledger.Request{Client: Client, Key: "inst-ret:" + m.EndToEndID, Currency: "USD",
			Description: "Instant payment returned to " + e.Name + " (" + RecallReasons[m.Reason] + ")", Category: "transfer",
			Postings: []ledger.Posting{{Account: e.Account, Amount: -e.Amount}, {Account: settle.ID, Amount: e.Amount}}})
		switch {
		case errors.Is(err, ledger.ErrInsufficientFunds):
			return refuse("AM04")
		case errors.Is(err, ledger.ErrAccountClosed):
			return refuse("AC04")
		case errors.Is(err, ledger.ErrAccountFrozen):
			return refuse("LEGL")
		case err != nil:
			return err
		}
		e.Status, e.Code, e.Detail = EntryReturned, "FOCR", "returned as the sender's bank asked ("+m.Reason+") as "+retID
		if _, err := s.st.MoveEntry(ctx, e, EntryPosted); err != nil {
			return err
		}
	}
	msg, err := BuildPacs004(s.o.Origin.Routing, m.From, retID, m.EndToEndID, e.Amount, "FOCR", s.o.Now())
	return s.reply(ctx, msg, err)
}
