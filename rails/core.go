package rails

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Mirror mode sends payments to other banks through the core: the worker
// (under the rails lease) writes each accepted credit as a pain.001 into
// the core's outbox folder (Options.CoreOutbox), one file per payment, and
// marks it sent; the core's booking of it (a camt.053/054 debit entry
// naming its end-to-end id) settles it (SettleFromCore). The file is
// written under a hidden temporary name, the payment recorded sent, and
// only then renamed: a crash before the record leaves a temporary file the
// next pass writes again (the same bytes), a crash after it a temporary
// file the next pass renames. The core never sees a half-written file, nor
// a file for a payment not recorded, and each payment leaves once.

// CoreFileName is the name a payment's pain.001 has in the core's outbox.
func CoreFileName(id PaymentID) string { return "pain001-" + EndToEndID(id) + ".xml" }

func coreTempName(id PaymentID) string { return "." + CoreFileName(id) + ".tmp" }

// ToCore writes every accepted credit as a pain.001 into the core's outbox
// and marks it sent, and finishes the files a crash left behind. It returns
// how many payments it sent now. Without an outbox it does nothing.
func (s *Service) ToCore(ctx context.Context) (int, error) {
	dir := s.o.CoreOutbox
	if dir == "" {
		return 0, nil
	}
	if err := s.finishCoreFiles(ctx, dir); err != nil {
		return 0, err
	}
	due, err := s.st.Payments(ctx, PaymentQuery{Kinds: []Kind{KindCredit}, Status: []Status{StatusAccepted}, Limit: 1000})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range due {
		acct, err := s.led.Store().Account(ctx, p.From)
		if err != nil {
			return n, err
		}
		debtor := acct.Name
		if debtor == "" {
			debtor = "CUSTOMER"
		}
		now := s.o.Now()
		body, err := BuildPain001(s.o.Origin, p, debtor, string(acct.Number), now)
		if err != nil {
			return n, err
		}
		tmp := filepath.Join(dir, coreTempName(p.ID))
		if err := writeSynced(tmp, body); err != nil {
			return n, fmt.Errorf("rails: core outbox: %w", err)
		}
		ok, err := s.st.MarkSentToCore(ctx, p.ID, EndToEndID(p.ID), now)
		if err != nil {
			return n, err
		}
		if !ok {
			// Another runner took it (or it moved): its own file stands.
			continue
		}
		if err := os.Rename(tmp, filepath.Join(dir, CoreFileName(p.ID))); err != nil {
			return n, fmt.Errorf("rails: core outbox: %w", err)
		}
		p.Status, p.Trace, p.Updated = StatusSent, EndToEndID(p.ID), now
		s.tell(ctx, p)
		n++
	}
	return n, nil
}

// finishCoreFiles renames the temporary files of payments recorded sent
// (a crash between the record and the rename) and removes those of
// payments that will not leave; a payment still accepted is written again.
func (s *Service) finishCoreFiles(ctx context.Context, dir string) error {
	es, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("rails: core outbox: %w", err)
	}
	for _, e := range es {
		name := e.Name()
		inner, ok := strings.CutPrefix(name, ".pain001-")
		if !ok || !strings.HasSuffix(inner, ".xml.tmp") {
			continue
		}
		p, ok, err := s.paymentOfEndToEnd(ctx, strings.TrimSuffix(inner, ".xml.tmp"))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		switch {
		case p.Status == StatusAccepted:
		case p.Trace == EndToEndID(p.ID) && p.Status != StatusRefused:
			if err := os.Rename(filepath.Join(dir, name), filepath.Join(dir, CoreFileName(p.ID))); err != nil {
				return fmt.Errorf("rails: core outbox: %w", err)
			}
		default:
			_ = os.Remove(filepath.Join(dir, name))
		}
	}
	return nil
}

func writeSynced(name string, body []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(body); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// SettleFromCore settles the payments the core booked: each debit entry
// naming a payment's end-to-end id (NtryDtls/TxDtls/Refs/EndToEndId, else
// the entry's reference) for its amount releases the payment's hold and
// marks it settled. The core's entry itself is then posted by the mirror
// like any other (to the core-settlement account), so the money leaves the
// account once. An entry for another amount settles nothing: the
// reconciliation shows it. Run again, it changes nothing.
func (s *Service) SettleFromCore(ctx context.Context, entries []StatementEntry) error {
	for _, e := range entries {
		if e.Amount >= 0 {
			continue
		}
		e2e := e.EndToEnd
		if e2e == "" {
			e2e = e.Ref
		}
		p, ok, err := s.paymentOfEndToEnd(ctx, e2e)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if p.Kind != KindCredit || p.Status != StatusSent || p.Trace != EndToEndID(p.ID) || p.Amount != -e.Amount {
			if p.Status == StatusSent && p.Amount != -e.Amount {
				s.o.Logger.Warn("rails: the core booked a payment for another amount", "payment", p.ID, "amount", p.Amount, "booked", -e.Amount)
			}
			continue
		}
		if err := s.void(ctx, p.Hold); err != nil {
			return err
		}
		p.Status, p.Settled = StatusSettled, s.o.Now()
		if _, err := s.move(ctx, p, StatusSent); err != nil {
			return err
		}
	}
	return nil
}

// paymentOfEndToEnd finds the payment an end-to-end id names (EndToEndID);
// false when the id is not one of ours or names no payment.
func (s *Service) paymentOfEndToEnd(ctx context.Context, e2e string) (Payment, bool, error) {
	id, ok := PaymentOfEndToEnd(e2e)
	if !ok {
		return Payment{}, false, nil
	}
	p, err := s.st.Payment(ctx, id)
	if errors.Is(err, ErrPaymentNotFound) {
		return Payment{}, false, nil
	}
	return p, err == nil, err
}
