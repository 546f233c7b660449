package web

import (
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/ledger"
)

func TestMoney(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a    ledger.Amount
		c    ledger.Currency
		want string
	}{
		{0, "USD", "0.00 USD"},
		{5, "USD", "0.05 USD"},
		{100000, "USD", "1,000.00 USD"},
		{-123456789, "USD", "-1,234,567.89 USD"},
		{99999, "USD", "999.99 USD"},
		{1000000, "JPY", "1,000,000 JPY"},
	}
	for _, tt := range tests {
		if got := money(tt.a, tt.c); got != tt.want {
			t.Errorf("money(%d, %s) = %q, want %q", tt.a, tt.c, got, tt.want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"":                     "/accounts",
		"/transfer":            "/transfer",
		"/oauth/authorize?x=1": "/oauth/authorize?x=1",
		"//evil.example":       "/accounts",
		"/\\evil.example":      "/accounts",
		"https://evil.example": "/accounts",
		"/x\r\nSet-Cookie: a":  "/accounts",
	}
	for in, want := range tests {
		if got := safeNext(in, "/accounts"); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

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
