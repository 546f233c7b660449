package dataapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/dataapi"
	"github.com/bankbridge/bankbridge/ledger"
)

// gate is a lease held by "another instance" until open is closed.
type gate struct {
	open chan struct{}
	name chan string
}

func (g gate) RunExclusive(ctx context.Context, name string, fn func(context.Context) error) error {
	select {
	case g.name <- name:
	default:
	}
	select {
	case <-g.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	return fn(ctx)
}

// TestRunDeliversOnlyUnderTheLease: with a Lease, Run leaves notifications
// to the instance that holds it, and delivers them once it holds it.
func TestRunDeliversOnlyUnderTheLease(t *testing.T) {
	t.Parallel()
	g := gate{open: make(chan struct{}), name: make(chan string, 1)}
	b := newBank(t, bankOptions{opts: dataapi.Options{Lease: g}})
	ctx, cancel := context.WithCancel(context.Background())
	tok, grant := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID}, allClusters())
	b.call(b.budget, tok, "POST", P+"/notification-subscriptions", map[string]any{"callbackUrl": b.hooks.srv.URL}, nil)
	if _, err := b.consents.RevokeForCustomer(ctx, b.ada.id.ID, consent.GrantID(grant)); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { b.api.Run(ctx); close(done) }()
	if name := <-g.name; name != dataapi.DeliveryLease {
		t.Errorf("Run asked for the lease %q, want %q", name, dataapi.DeliveryLease)
	}
	time.Sleep(1200 * time.Millisecond) // the wake-up and a tick of Run's loop
	if n := len(b.hooks.deliveries()); n != 0 {
		t.Fatalf("%d deliveries while another instance holds the lease", n)
	}
	close(g.open)
	for deadline := time.Now().Add(5 * time.Second); len(b.hooks.deliveries()) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("nothing delivered within 5 s of holding the lease")
		}
	}
	cancel()
	<-done
	if n := len(b.hooks.deliveries()); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}
}
