package insights

import (
	"context"
	"sync"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
)

// StoreSegments reads customers' segments from the identity and ledger
// stores: the birth year of the customer, the products of their accounts.
// It caches each answer for TTL (default an hour), so a product opened
// today shows in a customer's segment within the hour.
type StoreSegments struct {
	Customers interface {
		Customer(ctx context.Context, id bankbridge.CustomerID) (identity.Customer, error)
	}
	Accounts interface {
		CustomerAccounts(ctx context.Context, c bankbridge.CustomerID) ([]ledger.Account, error)
	}
	TTL time.Duration
	Now func() time.Time

	mu    sync.Mutex
	cache map[bankbridge.CustomerID]cached
}

type cached struct {
	s  Segmentation
	at time.Time
}

// maxCache bounds the cache; past it the cache starts again empty.
const maxCache = 100_000

// Segments implements Segments. A customer the identity store does not know
// gets an unknown band and no products rather than failing the batch.
func (s *StoreSegments) Segments(ctx context.Context, ids []bankbridge.CustomerID) (map[bankbridge.CustomerID]Segmentation, error) {
	now, ttl := time.Now, s.TTL
	if s.Now != nil {
		now = s.Now
	}
	if ttl <= 0 {
		ttl = time.Hour
	}
	out := make(map[bankbridge.CustomerID]Segmentation, len(ids))
	t := now()
	s.mu.Lock()
	if s.cache == nil || len(s.cache) > maxCache {
		s.cache = map[bankbridge.CustomerID]cached{}
	}
	var miss []bankbridge.CustomerID
	for _, id := range ids {
		if c, ok := s.cache[id]; ok && t.Sub(c.at) < ttl {
			out[id] = c.s
		} else {
			miss = append(miss, id)
		}
	}
	s.mu.Unlock()
	for _, id := range miss {
		var seg Segmentation
		c, err := s.Customers.Customer(ctx, id)
		switch {
		case err == nil:
			seg.BirthYear = c.BirthYear
		case bankbridge.ErrorKind(err) != bankbridge.NotFound:
			return nil, err
		}
		accts, err := s.Accounts.CustomerAccounts(ctx, id)
		if err != nil {
			return nil, err
		}
		seg.Products = ProductsOf(accts)
		out[id] = seg
		s.mu.Lock()
		s.cache[id] = cached{seg, t}
		s.mu.Unlock()
	}
	return out, nil
}
