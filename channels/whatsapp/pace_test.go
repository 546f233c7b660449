package whatsapp_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/channels/whatsapp"
)

// turns is a fleet budget store that answers what it is told and records
// what it was asked.
type turns struct {
	mu    sync.Mutex
	ok    bool
	err   error
	keys  []string
	given int
}

func (f *turns) Take(_ context.Context, key string, every time.Duration, burst int, _ time.Duration) (time.Duration, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, key)
	return 0, f.ok, f.err
}

func (f *turns) Give(context.Context, string, time.Duration) error {
	f.mu.Lock()
	f.given++
	f.mu.Unlock()
	return nil
}

func TestFleetThroughput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		f    *turns
		want error
	}{
		{"TurnGiven", &turns{ok: true}, nil},
		{"TurnRefused", &turns{ok: false}, whatsapp.ErrThrottled},
		{"StoreAwayPacesLocally", &turns{err: errors.New("database away")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBed(t, "sqlite", "")
			b.sim.Say(ctx, "ann", "hi")
			ann := b.sim.Chat("ann").WaID
			ad, err := whatsapp.New(whatsapp.Config{AccessToken: "TOKEN", AppSecret: "app-secret", VerifyToken: "verify-me",
				PhoneNumberID: b.sim.PhoneNumberID(), GraphURL: b.sim.GraphURL(), BankURL: "https://bank.example", Turns: tc.f, Now: b.clk.now}, b.hub)
			if err != nil {
				t.Fatal(err)
			}
			err = ad.Send(ctx, channels.Outbound{To: ann, Reply: assistant.Reply{Text: "hello"}, Purpose: channels.Response, LastIn: b.clk.now()})
			if !errors.Is(err, tc.want) && !(err == nil && tc.want == nil) {
				t.Errorf("send: %v, want %v", err, tc.want)
			}
			if len(tc.f.keys) != 1 || tc.f.keys[0] != "whatsapp:"+b.sim.PhoneNumberID() {
				t.Errorf("budget keys asked %v, want the number's once", tc.f.keys)
			}
		})
	}
}
