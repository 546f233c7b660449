package web

import (
	"context"

	"github.com/bankbridge/bankbridge/rails"
)

// syncSanctions opens a case in the queue for every rails payment the
// sanctions screen holds. It runs as the queue is read: held payments are
// few, opening is idempotent per payment (alerts.SanctionsKey), so every
// instance may do it, and a payment held by any channel (web, chat,
// partner API, scheduled) is in the queue the next time staff look.
func (s *server) syncSanctions(ctx context.Context) error {
	if s.Rails == nil || s.Alerts == nil {
		return nil
	}
	held, err := s.Rails.Store().Payments(ctx, rails.PaymentQuery{Status: []rails.Status{rails.StatusHeld}, Limit: 500})
	if err != nil {
		return err
	}
	for _, p := range held {
		if _, err := s.Alerts.OpenSanctionsCase(ctx, p.Customer, int64(p.ID), p.Hold, p.Amount, p.Currency, p.Screen); err != nil {
			return err
		}
	}
	return nil
}
