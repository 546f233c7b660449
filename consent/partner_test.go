package consent_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// TestPartnerHooks checks that every stored partner change reaches the
// PartnerHooks with who made it and why, in order, and that a refused change
// (no attestation, no reason, same status, reinstating a refused partner)
// tells them nothing.
func TestPartnerHooks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, testdb.SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	var (
		mu  sync.Mutex
		got []consent.PartnerEvent
	)
	svc := consent.New(db.Consent(), consent.Options{Now: func() time.Time { return now },
		PartnerHooks: []consent.PartnerHook{consent.PartnerHookFunc(func(_ context.Context, e consent.PartnerEvent) {
			mu.Lock()
			got = append(got, e)
			mu.Unlock()
		})}})

	bad := goodPartner(t)
	bad.Attestation.NoSecondaryUse = false
	if _, err := svc.RegisterPartner(ctx, bad, "staff:1"); !errors.Is(err, consent.ErrNoAttestation) {
		t.Fatalf("without attestation: %v", err)
	}
	if _, err := svc.RegisterPartner(ctx, goodPartner(t), "staff:1"); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		do     func(context.Context, consent.PartnerID, string, string) error
		reason string
		want   error
	}{
		{svc.SuspendPartner, "", consent.ErrReasonRequired},
		{svc.SuspendPartner, "keys leaked", nil},
		{svc.SuspendPartner, "again", consent.ErrPartnerSameState},
		{svc.ReinstatePartner, "keys rotated", nil},
		{svc.RefusePartner, "sold data to brokers", nil},
		{svc.ReinstatePartner, "changed our mind", consent.ErrPartnerFinal},
	}
	for i, st := range steps {
		if err := st.do(ctx, "budget-app", st.reason, "staff:2"); !errors.Is(err, st.want) {
			t.Errorf("step %d (%q): got %v, want %v", i, st.reason, err, st.want)
		}
	}
	at := now.Truncate(time.Microsecond)
	want := []consent.PartnerEvent{
		{Partner: "budget-app", Action: consent.ActionRegistered, Reason: "registered with a signed secondary-use attestation", By: "staff:1", At: at},
		{Partner: "budget-app", Action: consent.ActionSuspended, Reason: "keys leaked", By: "staff:2", At: at},
		{Partner: "budget-app", Action: consent.ActionReinstated, Reason: "keys rotated", By: "staff:2", At: at},
		{Partner: "budget-app", Action: consent.ActionRefused, Reason: "sold data to brokers", By: "staff:2", At: at},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("partner hook events (-want +got):\n%s", d)
	}
	hist, err := svc.PartnerHistory(ctx, "budget-app")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, hist); d != "" {
		t.Errorf("the hooks saw something other than the stored history (-hooks +history):\n%s", d)
	}
}
