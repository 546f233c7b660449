package web

import (
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/ledger"
)

func FuzzCursor(f *testing.F) {
	f.Add(encodeCursor(ledger.Cursor{At: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), ID: 42}))
	f.Add("")
	f.Add("AAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := decodeCursor(s)
		if !ok {
			return
		}
		if c.ID <= 0 || c.At.Before(time.Unix(0, 0)) {
			t.Fatalf("decodeCursor(%q) accepted %+v", s, c)
		}
		back, ok := decodeCursor(encodeCursor(c))
		if !ok || !back.At.Equal(c.At) || back.ID != c.ID {
			t.Fatalf("round trip of %+v gave %+v, %v", c, back, ok)
		}
	})
}
