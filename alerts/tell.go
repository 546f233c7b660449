package alerts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/bankbridge/bankbridge"
)

// Notice is something the bank tells a customer that no ledger event
// raised (a scheduled payment that was not made), written by the package
// that owns its words, in each language the bank speaks.
type Notice struct {
	Title, Body     string // English
	TitleES, BodyES string // Spanish
}

// Tell puts a notice in the customer's notification centre and sends it
// where their alerts go (e-mail, linked chats), minimised per their
// privacy setting like every alert, each in the language the customer
// reads at the time it is sent. key makes it idempotent: a worker that
// tells twice adds one alert and one delivery per channel.
func (s *Service) Tell(ctx context.Context, c bankbridge.CustomerID, key string, n Notice) error {
	h := sha256.Sum256([]byte("bankbridge-notice\x00" + key + "\x00" + strconv.FormatInt(int64(c), 10)))
	now := s.o.Now()
	a := Alert{ID: AlertID(hex.EncodeToString(h[:12])), Customer: c, Rule: Scheduled, Title: n.Title, Body: n.Body, Created: now}
	if n.BodyES != "" {
		a.Facts.Texts = map[string][2]string{"es": {n.TitleES, n.BodyES}}
	}
	sts, err := s.store.Settings(ctx, []bankbridge.CustomerID{c})
	if err != nil {
		return err
	}
	st, ok := sts[c]
	if !ok {
		st = DefaultSettings(c)
	}
	var links []Link
	if s.o.Links != nil {
		if links, err = s.o.Links.Links(ctx, c); err != nil {
			return fmt.Errorf("alerts: links of customer %d: %w", c, err)
		}
	}
	b := Batch{Alerts: []Alert{a}, Deliveries: s.deliveries(a, st, links, now)}
	if err := s.store.Commit(ctx, s.o.Cursor, 0, b, now); err != nil {
		return err
	}
	if s.o.OnSent != nil {
		s.o.OnSent(c, "web", a.Rule, now)
	}
	if len(b.Deliveries) > 0 {
		s.kick()
	}
	return nil
}
