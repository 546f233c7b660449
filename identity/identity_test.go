package identity_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/identity"
)

func TestAgeBand(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		born int
		want identity.AgeBand
	}{
		{2009, identity.AgeUnder18}, {2008, identity.Age18to24}, {2002, identity.Age18to24}, {2001, identity.Age25to34},
		{1992, identity.Age25to34}, {1991, identity.Age35to44}, {1982, identity.Age35to44}, {1981, identity.Age45to54},
		{1972, identity.Age45to54}, {1971, identity.Age55to64}, {1962, identity.Age55to64}, {1961, identity.Age65Plus},
		{1906, identity.Age65Plus},
	} {
		if got := (identity.Customer{BirthYear: tc.born}).AgeBand(now); got != tc.want {
			t.Errorf("born %d: AgeBand = %q, want %q", tc.born, got, tc.want)
		}
	}
}

func TestSteppedUpWithin(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		up   time.Time
		want bool
	}{
		{"Never", time.Time{}, false},
		{"JustNow", now, true},
		{"FourMinutesAgo", now.Add(-4 * time.Minute), true},
		{"ExactlyFiveMinutesAgo", now.Add(-5 * time.Minute), true},
		{"SixMinutesAgo", now.Add(-6 * time.Minute), false},
		{"InTheFuture", now.Add(time.Minute), false},
	} {
		if got := (identity.Session{SteppedUp: tc.up}).SteppedUpWithin(5*time.Minute, now); got != tc.want {
			t.Errorf("%s: SteppedUpWithin = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSecretsStayOutOfLogs(t *testing.T) {
	t.Parallel()
	const token, csrf = "tok-SECRET-abc", "csrf-SECRET-def"
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("login", "token", identity.Token(token), "session", identity.Session{Realm: identity.RealmCustomer, Customer: 7, CSRF: csrf})
	out := buf.String() + fmt.Sprint(identity.Token(token)) + fmt.Sprintf("%v %s", identity.Token(token), identity.Token(token))
	if strings.Contains(out, "SECRET") {
		t.Errorf("a secret reached the log: %s", out)
	}
	if !strings.Contains(out, `"customer":7`) {
		t.Errorf("the session's non-secret fields are missing from the log: %s", out)
	}
}

func TestCSRFMatches(t *testing.T) {
	t.Parallel()
	s := identity.Session{CSRF: "abc"}
	for _, tc := range []struct {
		in   string
		want bool
	}{{"abc", true}, {"abd", false}, {"ab", false}, {"", false}} {
		if got := s.CSRFMatches(tc.in); got != tc.want {
			t.Errorf("CSRFMatches(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if (identity.Session{}).CSRFMatches("") {
		t.Error("an empty CSRF token matched an empty session token")
	}
}

func TestTokenHash(t *testing.T) {
	t.Parallel()
	good := strings.Repeat("A", 43) // 32 bytes in base64url without padding
	for _, tc := range []struct {
		name, token string
		ok          bool
	}{
		{"WellFormed", good, true},
		{"Empty", "", false},
		{"TooShort", good[:40], false},
		{"Padded", good + "=", false},
		{"StdAlphabet", strings.Repeat("+", 43), false},
	} {
		h, ok := identity.TokenHash(tc.token)
		if ok != tc.ok || (ok && len(h) != 32) {
			t.Errorf("%s: TokenHash = %x, %v; want ok %v", tc.name, h, ok, tc.ok)
		}
	}
}
