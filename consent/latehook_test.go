package consent_test

import (
	"context"
	"testing"

	"github.com/bankbridge/bankbridge/consent"
)

func TestLateHookForwardsOnlyOnceSet(t *testing.T) {
	t.Parallel()
	var got []consent.EventKind
	l := &consent.LateHook{}
	l.ConsentEvent(context.Background(), consent.Event{Kind: consent.EventGranted}) // no target yet: dropped
	l.Set(consent.HookFunc(func(_ context.Context, e consent.Event) { got = append(got, e.Kind) }))
	l.ConsentEvent(context.Background(), consent.Event{Kind: consent.EventRevoked})
	if len(got) != 1 || got[0] != consent.EventRevoked {
		t.Errorf("forwarded %v, want only the event after Set", got)
	}
}
