package alerts

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
)

// Outcome is what answering "was this you?" did, and what to tell the
// customer (Text, safe to show on any channel: it names no amount).
type Outcome struct {
	Alert  Alert
	Frozen []ledger.Card // No: the cards frozen
	Case   *Case         // No: the case staff follow
	Text   string
}

// Answer records a customer's answer to a suspicious-activity alert and
// acts on it. Yes: the merchant is trusted for this customer from then on.
// No: every card on the account is frozen at once, a case opens for staff,
// and Text tells the customer what happens next. Answering again with the
// same answer repeats the (idempotent) actions and returns the same
// outcome; another answer is ErrAnswered; an alert that is not the
// customer's is ErrAlertNotFound.
func (s *Service) Answer(ctx context.Context, c bankbridge.CustomerID, id AlertID, a Answer) (Outcome, error) {
	if a != Yes && a != No {
		return Outcome{}, bankbridge.E(bankbridge.Invalid, "alert_answer_invalid", "answer yes or no")
	}
	now := s.o.Now()
	al, first, err := s.store.SetAnswer(ctx, c, id, a, now)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{Alert: al}
	if a == Yes {
		if al.Merchant != 0 {
			if err := s.store.Trust(ctx, c, al.Merchant, now); err != nil {
				return out, err
			}
		}
		out.Text = "Thanks for confirming. We won't ask again about payments at this merchant."
	} else {
		// Freeze first: it is what stops the money.
		cards, err := s.led.CustomerCards(ctx, c)
		if err != nil {
			return out, fmt.Errorf("alerts: cards of customer %d: %w", c, err)
		}
		for _, k := range cards {
			if k.Account != al.Account {
				continue
			}
			if k.Status != ledger.CardFrozen {
				if err := s.led.SetCardStatus(ctx, k.ID, ledger.CardFrozen); err != nil {
					return out, fmt.Errorf("alerts: freeze card %d: %w", k.ID, err)
				}
				k.Status = ledger.CardFrozen
			}
			out.Frozen = append(out.Frozen, k)
		}
		k := Case{Alert: al.ID, Customer: c, Transfer: al.Transfer, Merchant: al.Merchant, Amount: al.Amount,
			Currency: al.Currency, Status: "open", Opened: now}
		if len(out.Frozen) > 0 {
			k.Card = out.Frozen[0].ID
		}
		if k, err = s.store.OpenCase(ctx, k); err != nil {
			return out, err
		}
		out.Case = &k
		out.Text = nextSteps(out)
	}
	if first && s.o.OnAnswered != nil {
		s.o.OnAnswered(c, a, now)
	}
	return out, nil
}

// Spanish is Text in Spanish, for customers who chose Spanish on a chat.
func (o Outcome) Spanish() string {
	if o.Case == nil {
		return "Gracias por confirmar. No volveremos a preguntarte por pagos en este comercio."
	}
	var b strings.Builder
	switch len(o.Frozen) {
	case 0:
		b.WriteString("Gracias por avisarnos. ")
	case 1:
		fmt.Fprintf(&b, "Congelamos tu tarjeta terminada en %s, así que no se puede usar. ", o.Frozen[0].Last4)
	default:
		b.WriteString("Congelamos las tarjetas de esta cuenta, así que no se pueden usar. ")
	}
	fmt.Fprintf(&b, "Nuestro equipo de fraudes abrió el caso %d y te contactará en un día hábil para revisar el pago, "+
		"disputarlo por ti y enviarte una tarjeta nueva. No necesitas hacer nada ahora; nunca compartas un código nuestro con nadie que te llame.", o.Case.ID)
	return b.String()
}

// Report opens the fraud case of a card payment a customer reported on a
// channel without an alert (a chat's "I didn't make this"), after the
// channel froze the card, or returns the case already open for it: its
// alert id is "report-" and the transfer, so a report made twice, on any
// channel or instance, opens one case. Staff follow it among the other
// cases.
func (s *Service) Report(ctx context.Context, c bankbridge.CustomerID, tr ledger.TransferID, card ledger.CardID, amount ledger.Amount, cur ledger.Currency) (Case, error) {
	if c <= 0 || tr <= 0 || amount <= 0 {
		return Case{}, bankbridge.E(bankbridge.Invalid, "fraud_report_invalid", "a report names a customer, a payment and its amount")
	}
	k := Case{Alert: AlertID(fmt.Sprintf("report-%d", tr)), Customer: c, Card: card, Transfer: tr, Amount: amount, Currency: cur,
		Status: "open", Opened: s.o.Now()}
	return s.store.OpenCase(ctx, k)
}

func nextSteps(o Outcome) string {
	var b strings.Builder
	switch len(o.Frozen) {
	case 0:
		b.WriteString("Thanks for telling us. ")
	case 1:
		fmt.Fprintf(&b, "We froze your card %s, so it can't be used. ", ledger.MaskLast4(o.Frozen[0].Last4))
	default:
		b.WriteString("We froze your cards on this account, so they can't be used. ")
	}
	fmt.Fprintf(&b, "Our fraud team opened case %d and will contact you within one business day to review the payment, "+
		"dispute it for you and send a new card. You don't need to do anything now; never share a code from us with anyone who calls you.", o.Case.ID)
	return b.String()
}

// Notifications lists a customer's alerts, newest first, with the number
// unread.
func (s *Service) Notifications(ctx context.Context, c bankbridge.CustomerID, limit int) ([]Alert, int, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	return s.store.Notifications(ctx, c, limit)
}

// NotificationPage returns one page of the customer's alerts that match q
// (its Limit defaulted to 25, at most 200), the cursor of the next page
// (nil on the last) and how many alerts are unread. A Rule that is not one
// of Rules() is Invalid.
func (s *Service) NotificationPage(ctx context.Context, q NotificationQuery) ([]Alert, *NotificationCursor, int, error) {
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 25
	}
	if q.Rule != "" && !slices.Contains(Rules(), q.Rule) {
		return nil, nil, 0, bankbridge.E(bankbridge.Invalid, "alert_rule_invalid", "there is no such kind of alert")
	}
	want := q.Limit
	q.Limit++ // one more says whether there is a next page
	as, unread, err := s.store.NotificationPage(ctx, q)
	if err != nil {
		return nil, nil, 0, err
	}
	var next *NotificationCursor
	if len(as) > want {
		as = as[:want]
		last := as[want-1]
		next = &NotificationCursor{Created: last.Created, Seq: last.Seq, Rule: last.Rule}
	}
	return as, next, unread, nil
}

// MarkRead marks all of a customer's alerts read (opened).
func (s *Service) MarkRead(ctx context.Context, c bankbridge.CustomerID) error {
	return s.store.MarkRead(ctx, c, s.o.Now())
}

// Settings returns a customer's alert settings, or the defaults.
func (s *Service) Settings(ctx context.Context, c bankbridge.CustomerID) (Settings, error) {
	m, err := s.store.Settings(ctx, []bankbridge.CustomerID{c})
	if err != nil {
		return Settings{}, err
	}
	if st, ok := m[c]; ok {
		return st, nil
	}
	return DefaultSettings(c), nil
}

// SaveSettings validates and stores a customer's alert settings.
func (s *Service) SaveSettings(ctx context.Context, st Settings) error {
	st.Email = strings.TrimSpace(st.Email)
	if st.Email != "" && (!strings.Contains(st.Email, "@") || strings.ContainsAny(st.Email, " \r\n<>,;")) {
		return ErrSettings.WithMessage("that is not an e-mail address")
	}
	if err := st.Validate(); err != nil {
		return err
	}
	st.Updated = s.o.Now()
	return s.store.SaveSettings(ctx, st)
}

// DeadLetters lists deliveries that gave up, newest first, for staff.
func (s *Service) DeadLetters(ctx context.Context, limit int) ([]Delivery, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	return s.store.DeadLetters(ctx, limit)
}

// Requeue sends a dead letter again, now.
func (s *Service) Requeue(ctx context.Context, id string) error {
	if err := s.store.Requeue(ctx, id, s.o.Now()); err != nil {
		return err
	}
	s.kick()
	return nil
}

// Cases lists fraud cases ("open", "closed" or "" for all), newest first.
func (s *Service) Cases(ctx context.Context, status string, limit int) ([]Case, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	return s.store.Cases(ctx, status, limit)
}

// CloseCase closes a case with staff's note.
func (s *Service) CloseCase(ctx context.Context, id CaseID, staff bankbridge.StaffID, note string) error {
	note = strings.TrimSpace(note)
	if note == "" || len(note) > 2000 {
		return bankbridge.E(bankbridge.Invalid, "case_note_required", "write a note of 1 to 2,000 characters")
	}
	return s.store.CloseCase(ctx, id, staff, note, s.o.Now())
}

// Deliveries lists an alert's deliveries, for staff.
func (s *Service) Deliveries(ctx context.Context, id AlertID) ([]Delivery, error) {
	return s.store.Deliveries(ctx, id)
}
