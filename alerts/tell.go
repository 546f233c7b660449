package alerts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/bankbridge/bankbridge"
)

// Tell puts a notice in the customer's notification centre: a scheduled
// payment that was not made, and why. key makes it idempotent (a worker
// that tells twice adds one alert). It is delivered in the bank's own app
// only; the chat channels are not sent it.
func (s *Service) Tell(ctx context.Context, c bankbridge.CustomerID, key, title, body string) error {
	h := sha256.Sum256([]byte("bankbridge-notice\x00" + key + "\x00" + strconv.FormatInt(int64(c), 10)))
	a := Alert{ID: AlertID(hex.EncodeToString(h[:12])), Customer: c, Rule: Scheduled, Title: title, Body: body, Created: s.o.Now()}
	return s.store.Commit(ctx, "", 0, Batch{Alerts: []Alert{a}}, a.Created)
}
