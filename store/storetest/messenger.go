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

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/ledger"
)

// MessengerOpener opens a fresh, empty database for one test and returns
// its messenger store.
type MessengerOpener func(t testing.TB) assistant.Store

// Messenger runs the assistant.Store conformance suite against the engine
// open returns.
func Messenger(t *testing.T, open MessengerOpener) {
	t.Run("LinksSaveReadReplaceDelete", func(t *testing.T) { t.Parallel(); msgLinks(t, open) })
	t.Run("PendingLinkTakenOnceAndExpires", func(t *testing.T) { t.Parallel(); msgPending(t, open) })
	t.Run("FirstDeliveryOnceUnderConcurrency", func(t *testing.T) { t.Parallel(); msgDeliveries(t, open) })
	t.Run("SendClaimedOnceTakenOverWhenStale", func(t *testing.T) { t.Parallel(); msgSendClaims(t, open) })
	t.Run("ConversationsRoundTripWithPending", func(t *testing.T) { t.Parallel(); msgConversations(t, open) })
	t.Run("TranscriptLastNOldestFirst", func(t *testing.T) { t.Parallel(); msgTranscript(t, open) })
	t.Run("SettingsDefaultThenSaved", func(t *testing.T) { t.Parallel(); msgSettings(t, open) })
	t.Run("LanguageSharedWithSettings", func(t *testing.T) { t.Parallel(); msgLanguage(t, open) })
	t.Run("TimeZoneKeptBesideTheLanguage", func(t *testing.T) { t.Parallel(); msgTimeZone(t, open) })
}

var mT0 = time.Date(2026, 3, 4, 5, 6, 7, 890123000, time.UTC)

func msgLinks(t *testing.T, open MessengerOpener) {
	ctx := context.Background()
	s := open(t)
	k1 := assistant.Key{Platform: "messenger", User: "psid-1"}
	k2 := assistant.Key{Platform: "telegram", User: "42"}
	if _, err := s.Link(ctx, k1); !errors.Is(err, assistant.ErrNotLinked) {
		t.Fatalf("Link of nobody: %v, want ErrNotLinked", err)
	}
	l1 := assistant.Link{Key: k1, Customer: 7, Grant: "g1", Linked: mT0}
	l2 := assistant.Link{Key: k2, Customer: 7, Grant: "g2", Linked: mT0.Add(time.Second)}
	for _, l := range []assistant.Link{l1, l2} {
		noErr(t, s.SaveLink(ctx, l))
	}
	got, err := s.Link(ctx, k1)
	noErr(t, err)
	if d := cmp.Diff(l1, got); d != "" {
		t.Errorf("Link (-want +got):\n%s", d)
	}
	byC, err := s.LinksByCustomer(ctx, 7)
	noErr(t, err)
	if d := cmp.Diff([]assistant.Link{l1, l2}, byC); d != "" {
		t.Errorf("LinksByCustomer (-want +got):\n%s", d)
	}
	// Linking again replaces: another customer, another consent.
	l1b := assistant.Link{Key: k1, Customer: 9, Grant: "g3", Linked: mT0.Add(time.Minute)}
	noErr(t, s.SaveLink(ctx, l1b))
	if gs, _ := s.LinksByGrant(ctx, "g1"); len(gs) != 0 {
		t.Errorf("LinksByGrant(g1) after relink = %v, want none", gs)
	}
	gs, err := s.LinksByGrant(ctx, "g3")
	if err != nil || len(gs) != 1 || gs[0] != l1b {
		t.Errorf("LinksByGrant(g3) = %v, %v; want [%v]", gs, err, l1b)
	}
	ok, err := s.DeleteLink(ctx, k1)
	if err != nil || !ok {
		t.Fatalf("DeleteLink = %v, %v; want true", ok, err)
	}
	if ok, _ := s.DeleteLink(ctx, k1); ok {
		t.Error("DeleteLink twice reported a link the second time")
	}
	if _, err := s.Link(ctx, k1); !errors.Is(err, assistant.ErrNotLinked) {
		t.Errorf("Link after delete: %v", err)
	}
}

func msgPending(t *testing.T, open MessengerOpener) {
	ctx := context.Background()
	s := open(t)
	k := assistant.Key{Platform: "messenger", User: "psid-1"}
	if _, err := s.TakePendingLink(ctx, k, mT0); !errors.Is(err, assistant.ErrNoPendingLink) {
		t.Fatalf("take of nothing: %v", err)
	}
	p := assistant.PendingLink{Key: k, Verifier: "v1", Expires: mT0.Add(5 * time.Minute)}
	noErr(t, s.SavePendingLink(ctx, p))
	p.Verifier = "v2" // a second tap replaces the first
	noErr(t, s.SavePendingLink(ctx, p))
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			got, err := s.TakePendingLink(ctx, k, mT0)
			switch {
			case err == nil:
				wins.Add(1)
				if d := cmp.Diff(p, got); d != "" {
					t.Errorf("taken (-want +got):\n%s", d)
				}
			case !errors.Is(err, assistant.ErrNoPendingLink):
				t.Errorf("take: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d takers got the pending link, want exactly 1", wins.Load())
	}
	noErr(t, s.SavePendingLink(ctx, p))
	if _, err := s.TakePendingLink(ctx, k, p.Expires); !errors.Is(err, assistant.ErrNoPendingLink) {
		t.Errorf("take at expiry: %v, want ErrNoPendingLink", err)
	}
	if _, err := s.TakePendingLink(ctx, k, mT0); !errors.Is(err, assistant.ErrNoPendingLink) {
		t.Errorf("an expired pending link must be gone after a take: %v", err)
	}
}

func msgDeliveries(t *testing.T, open MessengerOpener) {
	ctx := context.Background()
	s := open(t)
	var firsts atomic.Int32
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			first, err := s.FirstDelivery(ctx, "messenger", "m_1", mT0.Add(time.Duration(i)), 24*time.Hour)
			if err != nil {
				t.Errorf("FirstDelivery: %v", err)
			}
			if first {
				firsts.Add(1)
			}
		})
	}
	wg.Wait()
	if firsts.Load() != 1 {
		t.Errorf("%d deliveries of one event were first, want 1", firsts.Load())
	}
	// A forgotten id is first again (an outbound send that failed), once.
	noErr(t, s.ForgetDelivery(ctx, "messenger", "m_1"))
	if first, err := s.FirstDelivery(ctx, "messenger", "m_1", mT0, 24*time.Hour); err != nil || !first {
		t.Errorf("after ForgetDelivery: %v, %v; want first", first, err)
	}
	if err := s.ForgetDelivery(ctx, "messenger", "never-seen"); err != nil {
		t.Errorf("forgetting an unknown id: %v", err)
	}
	// The same id on another platform is another event.
	if first, err := s.FirstDelivery(ctx, "telegram", "m_1", mT0, 24*time.Hour); err != nil || !first {
		t.Errorf("same id on another platform: %v, %v; want first", first, err)
	}
	// Ids older than keep may be forgotten, newer ones never are: after a
	// purge pass (forced here by an at whose micros end in 0x00), a recent
	// id is still a redelivery.
	late := time.UnixMicro((mT0.Add(48*time.Hour).UnixMicro() &^ 0xff) + 0x100).UTC()
	if _, err := s.FirstDelivery(ctx, "messenger", "m_2", late, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if first, _ := s.FirstDelivery(ctx, "messenger", "m_2", late.Add(time.Second), 24*time.Hour); first {
		t.Error("a recent event id was forgotten")
	}
}

// msgSendClaims: a bank-started message's key is claimed by one of
// concurrent claimers; others see it in flight until it is sent (then
// done) or until the claim is older than the lease (its instance died),
// when one of them takes it over. A sent key is never claimed again, and
// an inbound event id is not a send key.
func msgSendClaims(t *testing.T, open MessengerOpener) {
	ctx := context.Background()
	s := open(t)
	const lease = 20 * time.Second
	claims := func(at time.Time) (won int32) {
		var n atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				c, err := s.ClaimSend(ctx, "messenger", "alert:1:psid", at, lease)
				if err != nil {
					t.Errorf("ClaimSend: %v", err)
				}
				if c == assistant.SendClaimed {
					n.Add(1)
				}
			})
		}
		wg.Wait()
		return n.Load()
	}
	if n := claims(mT0); n != 1 {
		t.Fatalf("%d of 16 concurrent claims won, want 1", n)
	}
	if c, err := s.ClaimSend(ctx, "messenger", "alert:1:psid", mT0.Add(lease-time.Millisecond), lease); err != nil || c != assistant.SendInFlight {
		t.Errorf("a claim within its lease: %v, %v; want in flight", c, err)
	}
	// The claimer died: past the lease one of the others takes it over.
	if n := claims(mT0.Add(lease + time.Millisecond)); n != 1 {
		t.Errorf("%d of 16 claims took over a stale claim, want 1", n)
	}
	if err := s.SentDelivery(ctx, "messenger", "alert:1:psid"); err != nil {
		t.Fatal(err)
	}
	if c, err := s.ClaimSend(ctx, "messenger", "alert:1:psid", mT0.Add(time.Hour), lease); err != nil || c != assistant.SendDone {
		t.Errorf("a sent key: %v, %v; want done", c, err)
	}
	// A failed send forgets its claim: the retry claims it afresh.
	if c, _ := s.ClaimSend(ctx, "telegram", "alert:1:psid", mT0, lease); c != assistant.SendClaimed {
		t.Errorf("the same key on another platform: %v, want claimed", c)
	}
	if err := s.ForgetDelivery(ctx, "telegram", "alert:1:psid"); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.ClaimSend(ctx, "telegram", "alert:1:psid", mT0.Add(time.Second), lease); c != assistant.SendClaimed {
		t.Errorf("after a forgotten claim: %v, want claimed", c)
	}
	// An inbound event already seen is done, never claimable: it was not
	// a send of ours.
	if _, err := s.FirstDelivery(ctx, "messenger", "mid:1", mT0, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.ClaimSend(ctx, "messenger", "mid:1", mT0.Add(time.Hour), lease); c != assistant.SendDone {
		t.Errorf("an inbound event id: %v, want done", c)
	}
	// A claimed key is not a first delivery either.
	if first, _ := s.FirstDelivery(ctx, "telegram", "alert:1:psid", mT0.Add(time.Hour), 24*time.Hour); first {
		t.Error("FirstDelivery of a claimed send key reported first")
	}
}

func msgConversations(t *testing.T, open MessengerOpener) {
	ctx := context.Background()
	s := open(t)
	k := assistant.Key{Platform: "messenger", User: "psid-1"}
	if _, err := s.Conversation(ctx, k); !errors.Is(err, assistant.ErrNoConversation) {
		t.Fatalf("Conversation of nobody: %v", err)
	}
	c := assistant.Conversation{Key: k, Mode: assistant.ModeBot, LastIn: mT0, LastOut: mT0.Add(time.Second), Updated: mT0.Add(time.Second),
		Pending: &assistant.Pending{ID: "p1", Action: assistant.Pay, From: 3, To: 4, Amount: 2050, Currency: "USD", Payee: "Sam",
			Memo: "dinner", Key: "chat-k", Expires: mT0.Add(5 * time.Minute)}}
	noErr(t, s.SaveConversation(ctx, c))
	got, err := s.Conversation(ctx, k)
	noErr(t, err)
	if d := cmp.Diff(c, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
	c.Pending = &assistant.Pending{ID: "p2", Action: assistant.UnfreezeCard, Cards: []ledger.CardID{5, 6}, Expires: mT0.Add(time.Minute)}
	noErr(t, s.SaveConversation(ctx, c))
	if got, _ := s.Conversation(ctx, k); !cmp.Equal(c, got) {
		t.Errorf("replace (-want +got):\n%s", cmp.Diff(c, got))
	}
	// Hand-over: longest waiting first, bot conversations not listed.
	var want []assistant.Conversation
	for i := range 3 {
		h := assistant.Conversation{Key: assistant.Key{Platform: "messenger", User: fmt.Sprint("h", i)}, Mode: assistant.ModeHuman,
			HandedAt: mT0.Add(time.Duration(3-i) * time.Minute), LastIn: mT0, Updated: mT0}
		noErr(t, s.SaveConversation(ctx, h))
		want = append([]assistant.Conversation{h}, want...)
	}
	got2, err := s.HandedOver(ctx, 10)
	noErr(t, err)
	if d := cmp.Diff(want, got2); d != "" {
		t.Errorf("HandedOver (-want +got):\n%s", d)
	}
	if got3, _ := s.HandedOver(ctx, 2); len(got3) != 2 {
		t.Errorf("HandedOver(2) gave %d", len(got3))
	}
}

func msgTranscript(t *testing.T, open MessengerOpener) {
	ctx := context.Background()
	s := open(t)
	k := assistant.Key{Platform: "messenger", User: "psid-1"}
	other := assistant.Key{Platform: "messenger", User: "psid-2"}
	var all []assistant.Message
	for i := range 7 {
		m := assistant.Message{Key: k, At: mT0.Add(time.Duration(i) * time.Second), Dir: assistant.In, Text: fmt.Sprint("message ", i, " ✓")}
		if i%2 == 1 {
			m.Dir, m.Author = assistant.Out, "assistant"
		}
		noErr(t, s.AppendMessage(ctx, m))
		noErr(t, s.AppendMessage(ctx, assistant.Message{Key: other, At: m.At, Dir: assistant.In, Text: "elsewhere"}))
		all = append(all, m)
	}
	got, err := s.Messages(ctx, k, 3)
	noErr(t, err)
	if d := cmp.Diff(all[4:], got); d != "" {
		t.Errorf("last 3 (-want +got):\n%s", d)
	}
}

func msgSettings(t *testing.T, open MessengerOpener) {
	ctx := context.Background()
	s := open(t)
	got, err := s.Settings(ctx, bankbridge.CustomerID(5))
	noErr(t, err)
	if d := cmp.Diff(assistant.DefaultSettings(5), got); d != "" {
		t.Errorf("defaults (-want +got):\n%s", d)
	}
	if got.Privacy != assistant.PrivacyMinimal {
		t.Errorf("default privacy %q, want minimal", got.Privacy)
	}
	for _, st := range []assistant.Settings{
		{Customer: 5, Privacy: assistant.PrivacyFull, Alerts: false, Updated: mT0},
		{Customer: 5, Privacy: assistant.PrivacyOff, Alerts: true, Updated: mT0.Add(time.Hour)},
		{Customer: 5, Privacy: assistant.PrivacyOff, Alerts: true, Language: assistant.Spanish, Updated: mT0.Add(2 * time.Hour)},
		{Customer: 5, Privacy: assistant.PrivacyFull, Alerts: true, Language: assistant.Spanish, Updated: mT0.Add(3 * time.Hour)},
		{Customer: 5, Privacy: assistant.PrivacyFull, Alerts: true, Language: assistant.English, Updated: mT0.Add(4 * time.Hour)},
	} {
		noErr(t, s.SaveSettings(ctx, st))
		got, err := s.Settings(ctx, 5)
		noErr(t, err)
		if d := cmp.Diff(st, got); d != "" {
			t.Errorf("saved (-want +got):\n%s", d)
		}
	}
	if got, _ := s.Settings(ctx, 6); got != assistant.DefaultSettings(6) {
		t.Errorf("another customer's settings changed: %v", got)
	}
	if err := s.SaveSettings(ctx, assistant.Settings{Customer: 5, Privacy: assistant.PrivacyFull, Language: "fr", Updated: mT0}); bankbridge.ErrorKind(err) != bankbridge.Invalid {
		t.Errorf("an unknown language: %v, want Invalid", err)
	}
	if got, _ := s.Settings(ctx, 5); got.Language != assistant.English {
		t.Errorf("after a refused save the language is %q, want en", got.Language)
	}
}

// msgLanguage: the language the web and e-mail read and write is the one
// the chat's settings hold, and setting it changes nothing else.
func msgLanguage(t *testing.T, open MessengerOpener) {
	ctx := context.Background()
	s := open(t)
	ls, ok := s.(assistant.Languages)
	if !ok {
		t.Fatalf("%T does not implement assistant.Languages", s)
	}
	if l, err := ls.Language(ctx, 7); err != nil || l != "" {
		t.Fatalf("never chosen: %q, %v; want \"\"", l, err)
	}
	noErr(t, ls.SetLanguage(ctx, 7, assistant.Spanish, mT0))
	want := assistant.DefaultSettings(7)
	want.Language, want.Updated = assistant.Spanish, mT0
	if got, err := s.Settings(ctx, 7); err != nil || got != want {
		t.Errorf("settings after SetLanguage: %+v, %v; want %+v", got, err, want)
	}
	want = assistant.Settings{Customer: 7, Privacy: assistant.PrivacyOff, Alerts: false, Language: assistant.Spanish, Updated: mT0.Add(time.Hour)}
	noErr(t, s.SaveSettings(ctx, want))
	noErr(t, ls.SetLanguage(ctx, 7, assistant.English, mT0.Add(2*time.Hour)))
	want.Language, want.Updated = assistant.English, mT0.Add(2*time.Hour)
	if got, err := s.Settings(ctx, 7); err != nil || got != want {
		t.Errorf("SetLanguage changed more than the language: %+v, %v; want %+v", got, err, want)
	}
	if l, err := ls.Language(ctx, 7); err != nil || l != assistant.English {
		t.Errorf("Language = %q, %v; want en", l, err)
	}
	if err := ls.SetLanguage(ctx, 7, "fr", mT0); bankbridge.ErrorKind(err) != bankbridge.Invalid {
		t.Errorf("SetLanguage(fr) = %v, want Invalid", err)
	}
}

// msgTimeZone: a customer's time zone is kept beside the language, changed
// only by SetTimeZone (saving the chat's settings or the language keeps
// it), validated, and forgotten with "".
func msgTimeZone(t *testing.T, open MessengerOpener) {
	ctx := context.Background()
	s := open(t)
	tz, ok := s.(assistant.TimeZones)
	if !ok {
		t.Fatalf("%T does not implement assistant.TimeZones", s)
	}
	if z, err := tz.TimeZone(ctx, 8); err != nil || z != "" {
		t.Fatalf("never chosen: %q, %v; want \"\"", z, err)
	}
	noErr(t, tz.SetTimeZone(ctx, 8, "America/Mexico_City", mT0))
	want := assistant.DefaultSettings(8)
	want.Updated = mT0
	if got, err := s.Settings(ctx, 8); err != nil || got != want {
		t.Errorf("settings after SetTimeZone: %+v, %v; want %+v", got, err, want)
	}
	noErr(t, s.SaveSettings(ctx, assistant.Settings{Customer: 8, Privacy: assistant.PrivacyOff, Language: assistant.Spanish, Updated: mT0.Add(time.Hour)}))
	noErr(t, s.(assistant.Languages).SetLanguage(ctx, 8, assistant.English, mT0.Add(2*time.Hour)))
	if z, err := tz.TimeZone(ctx, 8); err != nil || z != "America/Mexico_City" {
		t.Errorf("after saving the settings and the language: %q, %v; want America/Mexico_City", z, err)
	}
	if got, _ := s.Settings(ctx, 8); got.Privacy != assistant.PrivacyOff || got.Language != assistant.English {
		t.Errorf("SetTimeZone's row lost the settings: %+v", got)
	}
	noErr(t, tz.SetTimeZone(ctx, 8, "Europe/Madrid", mT0.Add(3*time.Hour)))
	if got, _ := s.Settings(ctx, 8); got.Privacy != assistant.PrivacyOff || got.Language != assistant.English {
		t.Errorf("SetTimeZone changed more than the zone: %+v", got)
	}
	for _, bad := range []string{"Mars/Olympus_Mons", "Local", "../etc/passwd", "America/New York", "/usr/share/zoneinfo/UTC"} {
		if err := tz.SetTimeZone(ctx, 8, bad, mT0); bankbridge.ErrorKind(err) != bankbridge.Invalid {
			t.Errorf("SetTimeZone(%q) = %v, want Invalid", bad, err)
		}
	}
	if z, _ := tz.TimeZone(ctx, 8); z != "Europe/Madrid" {
		t.Errorf("after refusals: %q, want Europe/Madrid", z)
	}
	noErr(t, tz.SetTimeZone(ctx, 8, "", mT0.Add(4*time.Hour)))
	if z, err := tz.TimeZone(ctx, 8); err != nil || z != "" {
		t.Errorf("forgotten: %q, %v", z, err)
	}
}
