package identity

import (
	"net/url"
	"testing"
	"time"
)

// rfcSecret is RFC 6238 Appendix B's SHA-1 seed "12345678901234567890" in base32.
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

// The SHA-1 rows of RFC 6238 Appendix B (8 digits).
var rfcVectors = []struct {
	unix int64
	code string
}{
	{59, "94287082"},
	{1111111109, "07081804"},
	{1111111111, "14050471"},
	{1234567890, "89005924"},
	{2000000000, "69279037"},
	{20000000000, "65353130"},
}

func TestTOTPRFC6238Vectors(t *testing.T) {
	t.Parallel()
	key := []byte("12345678901234567890")
	for _, v := range rfcVectors {
		at := time.Unix(v.unix, 0).UTC()
		if got := hotp(key, uint64(totpStepAt(at)), 8); got != v.code {
			t.Errorf("8 digits at %d: got %s, want %s", v.unix, got, v.code)
		}
		// 6 digits are the same value modulo 10^6: the last six digits.
		if got := TOTPCode(rfcSecret, at); got != v.code[2:] {
			t.Errorf("TOTPCode at %d: got %s, want %s", v.unix, got, v.code[2:])
		}
	}
}

func TestTOTPCodeAcceptsSecretSpellings(t *testing.T) {
	t.Parallel()
	at := time.Unix(59, 0)
	for _, s := range []string{rfcSecret, "gezdgnbvgy3tqojqgezdgnbvgy3tqojq", "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"} {
		if got := TOTPCode(s, at); got != "287082" {
			t.Errorf("TOTPCode(%q) = %q, want 287082", s, got)
		}
	}
	if got := TOTPCode("not base32!", at); got != "" {
		t.Errorf("TOTPCode(bad secret) = %q, want empty", got)
	}
}

func TestMatchTOTP(t *testing.T) {
	t.Parallel()
	now := time.Unix(1111111111, 0) // step 37037037
	step := totpStepAt(now)
	for _, tc := range []struct {
		name     string
		code     string
		wantStep int64
		ok       bool
	}{
		{"CurrentStep", TOTPCode(rfcSecret, now), step, true},
		{"PreviousStep", TOTPCode(rfcSecret, now.Add(-30*time.Second)), step - 1, true},
		{"NextStep", TOTPCode(rfcSecret, now.Add(30*time.Second)), step + 1, true},
		{"TwoStepsOld", TOTPCode(rfcSecret, now.Add(-60*time.Second)), 0, false},
		{"TwoStepsAhead", TOTPCode(rfcSecret, now.Add(60*time.Second)), 0, false},
		{"WithSpaces", " " + TOTPCode(rfcSecret, now)[:3] + " " + TOTPCode(rfcSecret, now)[3:], step, true},
		{"Empty", "", 0, false},
		{"FiveDigits", TOTPCode(rfcSecret, now)[:5], 0, false},
		{"Letters", "abcdef", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := matchTOTP(rfcSecret, tc.code, now)
			if ok != tc.ok || (ok && got != tc.wantStep) {
				t.Errorf("matchTOTP(%q) = %d, %v; want %d, %v", tc.code, got, ok, tc.wantStep, tc.ok)
			}
		})
	}
}

func TestKeyURI(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(keyURI("Example Bank", "ann@example.com", rfcSecret))
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Example Bank:ann@example.com" {
		t.Errorf("key URI %s: wrong scheme, type or label", u)
	}
	q := u.Query()
	for k, want := range map[string]string{"secret": rfcSecret, "issuer": "Example Bank", "algorithm": "SHA1", "digits": "6", "period": "30"} {
		if q.Get(k) != want {
			t.Errorf("key URI %s: %s = %q, want %q", u, k, q.Get(k), want)
		}
	}
}

func TestNewTOTPSecret(t *testing.T) {
	t.Parallel()
	a, err := newTOTPSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := newTOTPSecret()
	if a == b || len(a) != 32 { // 20 bytes in base32 without padding
		t.Errorf("secrets %q, %q: want two different 32-character secrets", a, b)
	}
	if TOTPCode(a, time.Now()) == "" {
		t.Errorf("a new secret %q does not decode", a)
	}
}
