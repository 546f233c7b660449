package channels_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/channels"
)

func TestTickets(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	tk := channels.NewTickets("secret", "test", clock)
	tick := tk.Sign("link", "15550100001", time.Minute)
	if got, ok := tk.Open("link", tick); !ok || got != "15550100001" {
		t.Fatalf("open: %q %v", got, ok)
	}
	if _, ok := tk.Open("state", tick); ok {
		t.Error("a link ticket opened as a state")
	}
	if _, ok := channels.NewTickets("other", "test", clock).Open("link", tick); ok {
		t.Error("a ticket opened under another secret")
	}
	if _, ok := channels.NewTickets("secret", "other label", clock).Open("link", tick); ok {
		t.Error("a ticket opened under another label")
	}
	b := []byte(tick)
	b[3] ^= 1
	if _, ok := tk.Open("link", string(b)); ok {
		t.Error("a tampered ticket opened")
	}
	for _, bad := range []string{"", "!!", strings.Repeat("A", 600)} {
		if _, ok := tk.Open("link", bad); ok {
			t.Errorf("garbage %q opened", bad)
		}
	}
	later := channels.NewTickets("secret", "test", func() time.Time { return now.Add(time.Minute + time.Second) })
	if _, ok := later.Open("link", tick); ok {
		t.Error("an expired ticket opened")
	}
}

func FuzzTicketsOpen(f *testing.F) {
	tk := channels.NewTickets("secret", "fuzz", nil)
	f.Add(tk.Sign("link", "42", time.Hour))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		// Never a panic; nothing opens but what was signed, whose subject
		// is bounded.
		if sub, ok := tk.Open("link", s); ok && len(sub) > 256 {
			t.Fatalf("opened a ticket with an oversized subject %q", sub)
		}
	})
}

func TestDeriveKey(t *testing.T) {
	t.Parallel()
	parent, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	a1, err := channels.DeriveKey(parent, "telegram")
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := channels.DeriveKey(parent, "telegram")
	b, _ := channels.DeriveKey(parent, "whatsapp")
	if !a1.Equal(a2) {
		t.Error("the same parent and label gave two keys: a fleet would disagree")
	}
	if a1.Equal(b) || a1.Equal(parent) {
		t.Error("another label, or the parent, gave the same key")
	}
}
