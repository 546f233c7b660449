package alerts_test

import (
	"context"
	"testing"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
)

// TestReportOpensOneCase: a payment reported from a chat opens a case
// staff see with the others; reporting it again returns the same case.
func TestReportOpensOneCase(t *testing.T) {
	t.Parallel()
	b := newBank(t, alerts.Options{})
	ctx := context.Background()
	m := b.merchant("Odd Shop", "online_retail", "US")
	b.move(b.settle, b.alice, 10000, "salary")
	tr := b.buy(m, 4200, 0)
	k, err := b.svc.Report(ctx, 1, tr.ID, b.card.ID, 4200, "USD")
	if err != nil {
		t.Fatal(err)
	}
	again, err := b.svc.Report(ctx, 1, tr.ID, b.card.ID, 4200, "USD")
	if err != nil || again.ID != k.ID {
		t.Fatalf("second report: case %d, %v; want case %d", again.ID, err, k.ID)
	}
	cases, err := b.svc.Cases(ctx, "open", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 1 || cases[0].ID != k.ID || cases[0].Customer != 1 || cases[0].Card != b.card.ID || cases[0].Amount != 4200 {
		t.Fatalf("open cases %+v", cases)
	}
	if _, err := b.svc.Report(ctx, 1, 0, b.card.ID, 4200, "USD"); bankbridge.ErrorKind(err) != bankbridge.Invalid {
		t.Errorf("a report without a payment: %v, want Invalid", err)
	}
}
