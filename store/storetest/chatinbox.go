package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bankbridge/bankbridge/channels/inbox"
)

// ChatStore is what the chat channels keep besides the assistant's store:
// the inbox and linkings in progress.
type ChatStore interface {
	inbox.Store
	inbox.LinkAttempts
}

// ChatOpener opens a fresh, empty database for one test and returns two
// handles on it: two instances on PostgreSQL, the same store twice on
// SQLite (one writer).
type ChatOpener func(t testing.TB) (ChatStore, ChatStore)

// Chat runs the conformance suite of the chat inbox and link attempts.
func Chat(t *testing.T, open ChatOpener) {
	t.Run("InboxDedupesByPlatformAndEventID", func(t *testing.T) { t.Parallel(); inboxDedupe(t, open) })
	t.Run("InboxHeadOfConversationOnly", func(t *testing.T) { t.Parallel(); inboxOrder(t, open) })
	t.Run("InboxExpiredLeaseTakenOver", func(t *testing.T) { t.Parallel(); inboxTakeover(t, open) })
	t.Run("InboxTwoInstancesProcessOnceInOrder", func(t *testing.T) { t.Parallel(); inboxConcurrent(t, open) })
	t.Run("InboxPurgesDoneOnly", func(t *testing.T) { t.Parallel(); inboxPurge(t, open) })
	t.Run("LinkAttemptTakenOnceAndExpires", func(t *testing.T) { t.Parallel(); linkAttempts(t, open) })
}

func ev(conv, id string) inbox.Event {
	return inbox.Event{Platform: "messenger", Conversation: conv, EventID: id, Body: []byte(`{"id":"` + id + `"}`), Received: mT0}
}

func ids(evs []inbox.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.EventID)
	}
	return out
}

func inboxDedupe(t *testing.T, open ChatOpener) {
	ctx := context.Background()
	s, _ := open(t)
	n, err := s.Enqueue(ctx, []inbox.Event{ev("a", "mid:1"), ev("a", "mid:2"), ev("a", "mid:1")})
	if err != nil || n != 2 {
		t.Fatalf("Enqueue with a repeat = %d, %v; want 2 new", n, err)
	}
	n, err = s.Enqueue(ctx, []inbox.Event{ev("a", "mid:2")})
	if err != nil || n != 0 {
		t.Fatalf("Enqueue of a redelivery = %d, %v; want 0", n, err)
	}
	// Another platform's event of the same id is another event.
	other := ev("a", "mid:2")
	other.Platform = "telegram"
	if n, err := s.Enqueue(ctx, []inbox.Event{other}); err != nil || n != 1 {
		t.Fatalf("Enqueue on another platform = %d, %v; want 1", n, err)
	}
	got, err := s.Claim(ctx, "x", mT0, time.Minute, 10)
	noErr(t, err)
	if len(got) != 2 || string(got[0].Body) != `{"id":"mid:1"}` || got[0].Attempts != 1 || !got[0].Received.Equal(mT0) {
		t.Fatalf("Claim = %+v; want mid:1 of messenger and mid:2 of telegram, each a head", got)
	}
}

func inboxOrder(t *testing.T, open ChatOpener) {
	ctx := context.Background()
	s, _ := open(t)
	if _, err := s.Enqueue(ctx, []inbox.Event{ev("a", "a1"), ev("b", "b1"), ev("a", "a2"), ev("a", "a3")}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Claim(ctx, "x", mT0, time.Minute, 10)
	noErr(t, err)
	if d := cmp.Diff([]string{"a1", "b1"}, ids(got)); d != "" {
		t.Fatalf("first Claim (-want +got):\n%s", d)
	}
	if again, err := s.Claim(ctx, "y", mT0.Add(time.Second), time.Minute, 10); err != nil || len(again) != 0 {
		t.Fatalf("Claim while the heads are leased = %v, %v; want none", ids(again), err)
	}
	noErr(t, s.Done(ctx, got[0].ID, mT0.Add(time.Second), ""))
	next, err := s.Claim(ctx, "y", mT0.Add(2*time.Second), time.Minute, 10)
	if err != nil || len(next) != 1 || next[0].EventID != "a2" {
		t.Fatalf("Claim after a1 is done = %v, %v; want [a2]", ids(next), err)
	}
}

func inboxTakeover(t *testing.T, open ChatOpener) {
	ctx := context.Background()
	s, s2 := open(t)
	if _, err := s.Enqueue(ctx, []inbox.Event{ev("a", "a1"), ev("a", "a2")}); err != nil {
		t.Fatal(err)
	}
	first, err := s.Claim(ctx, "dead-instance", mT0, 30*time.Second, 10)
	if err != nil || len(first) != 1 {
		t.Fatalf("Claim = %v, %v", ids(first), err)
	}
	// The instance dies: nothing is done. Before the lease ends nobody
	// takes it; after, another instance does, and the order holds.
	if got, _ := s2.Claim(ctx, "survivor", mT0.Add(29*time.Second), 30*time.Second, 10); len(got) != 0 {
		t.Fatalf("Claim inside the lease = %v; want none", ids(got))
	}
	got, err := s2.Claim(ctx, "survivor", mT0.Add(31*time.Second), 30*time.Second, 10)
	if err != nil || len(got) != 1 || got[0].EventID != "a1" || got[0].Attempts != 2 {
		t.Fatalf("Claim after the lease = %+v, %v; want a1 on its second attempt", got, err)
	}
}

func inboxConcurrent(t *testing.T, open ChatOpener) {
	ctx := context.Background()
	s, s2 := open(t)
	const convs, per = 40, 4
	var all []inbox.Event
	for i := range per {
		for c := range convs {
			all = append(all, ev(fmt.Sprint("c", c), fmt.Sprintf("c%d-%d", c, i)))
		}
	}
	if _, err := s.Enqueue(ctx, all); err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		order    = map[string][]string{}
		inFlight = map[string]bool{}
		bad      atomic.Value
		done     atomic.Int64
	)
	var wg sync.WaitGroup
	for w := range 4 {
		st := s
		if w%2 == 1 {
			st = s2
		}
		wg.Go(func() {
			for idle := 0; idle < 50 && done.Load() < convs*per; {
				evs, err := st.Claim(ctx, fmt.Sprint("w", w), mT0, time.Hour, 7)
				if err != nil {
					bad.Store(err.Error())
					return
				}
				if len(evs) == 0 {
					idle++
					time.Sleep(2 * time.Millisecond)
					continue
				}
				for _, e := range evs {
					mu.Lock()
					if inFlight[e.Conversation] {
						bad.Store("two events of " + e.Conversation + " in flight at once")
					}
					inFlight[e.Conversation] = true
					order[e.Conversation] = append(order[e.Conversation], e.EventID)
					mu.Unlock()
				}
				for _, e := range evs {
					mu.Lock()
					inFlight[e.Conversation] = false
					mu.Unlock()
					if err := st.Done(ctx, e.ID, mT0, ""); err != nil {
						bad.Store(err.Error())
						return
					}
					done.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if b := bad.Load(); b != nil {
		t.Fatal(b)
	}
	for c := range convs {
		conv := fmt.Sprint("c", c)
		var want []string
		for i := range per {
			want = append(want, fmt.Sprintf("c%d-%d", c, i))
		}
		if d := cmp.Diff(want, order[conv]); d != "" {
			t.Errorf("conversation %s processed (-want +got):\n%s", conv, d)
		}
	}
}

func inboxPurge(t *testing.T, open ChatOpener) {
	ctx := context.Background()
	s, _ := open(t)
	if _, err := s.Enqueue(ctx, []inbox.Event{ev("a", "a1"), ev("b", "b1")}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Claim(ctx, "x", mT0, time.Minute, 10)
	noErr(t, s.Done(ctx, got[0].ID, mT0, ""))
	n, err := s.Purge(ctx, mT0.Add(time.Second))
	if err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v; want the one done event", n, err)
	}
	// The purged id may come again (past the redelivery window it is the
	// adapter's age check that refuses it); the waiting one stays.
	if n, _ := s.Enqueue(ctx, []inbox.Event{ev("a", "a1"), ev("b", "b1")}); n != 1 {
		t.Fatalf("Enqueue after purge = %d new; want 1 (b1 still waits)", n)
	}
}

func linkAttempts(t *testing.T, open ChatOpener) {
	ctx := context.Background()
	s, s2 := open(t)
	a := inbox.LinkAttempt{Platform: "messenger", ID: "state:abc", User: "psid-1", Verifier: "v", RedirectURI: "https://platform.example/r?t=1", Expires: mT0.Add(10 * time.Minute)}
	noErr(t, s.SaveLinkAttempt(ctx, a))
	if _, err := s.TakeLinkAttempt(ctx, "telegram", "state:abc", mT0); !errors.Is(err, inbox.ErrLinkAttempt) {
		t.Fatalf("Take on another platform: %v, want ErrLinkAttempt", err)
	}
	var wg sync.WaitGroup
	var won atomic.Int32
	var got inbox.LinkAttempt
	for i := range 8 {
		st := s
		if i%2 == 1 {
			st = s2
		}
		wg.Go(func() {
			g, err := st.TakeLinkAttempt(ctx, "messenger", "state:abc", mT0)
			if err == nil {
				won.Add(1)
				got = g
			} else if !errors.Is(err, inbox.ErrLinkAttempt) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d concurrent takes won, want 1", won.Load())
	}
	if d := cmp.Diff(a, got); d != "" {
		t.Errorf("taken (-want +got):\n%s", d)
	}
	c := inbox.LinkAttempt{Platform: "messenger", ID: "code:h", User: "psid-1", Grant: "g1", Expires: mT0.Add(time.Minute)}
	noErr(t, s.SaveLinkAttempt(ctx, c))
	if _, err := s.TakeLinkAttempt(ctx, "messenger", "code:h", mT0.Add(time.Minute)); !errors.Is(err, inbox.ErrLinkAttempt) {
		t.Fatalf("Take at expiry: %v, want ErrLinkAttempt", err)
	}
}
