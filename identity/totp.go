package identity

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// TOTP parameters (RFC 6238 §4 defaults, which every authenticator app
// supports): HMAC-SHA-1, 30-second steps from the Unix epoch, 6 digits.
const (
	totpStep   = 30 // seconds
	totpDigits = 6
	totpSkew   = 1  // steps accepted either side of now (RFC 6238 §5.2)
	secretLen  = 20 // bytes: the HMAC-SHA-1 output size, as RFC 4226 §4 recommends
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// newTOTPSecret returns a random secret, base32 without padding.
func newTOTPSecret() (string, error) {
	b := make([]byte, secretLen)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("identity: totp secret: %w", err)
	}
	return b32.EncodeToString(b), nil
}

func decodeSecret(secret string) ([]byte, error) {
	s := strings.ToUpper(strings.TrimRight(strings.ReplaceAll(secret, " ", ""), "="))
	return b32.DecodeString(s)
}

// totpStepAt is the RFC 6238 time counter T = floor(unix / 30).
func totpStepAt(t time.Time) int64 { return t.Unix() / totpStep }

// hotp is RFC 4226 §5.3: HMAC-SHA-1 over the big-endian counter, dynamic
// truncation, then modulo 10^digits, zero-padded.
func hotp(key []byte, counter uint64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

// TOTPCode returns the 6-digit RFC 6238 code for the base32 secret at t
// (SHA-1, 30-second steps). It returns "" if secret is not base32. Tests and
// the browser test use it to compute the code an authenticator app shows.
func TOTPCode(secret string, t time.Time) string {
	key, err := decodeSecret(secret)
	if err != nil || len(key) == 0 {
		return ""
	}
	return hotp(key, uint64(totpStepAt(t)), totpDigits)
}

// matchTOTP returns the time step whose code equals code, looking at now's
// step and totpSkew steps either side; ok is false when none does. Every
// candidate is computed and compared in constant time.
func matchTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	key, err := decodeSecret(secret)
	if err != nil || len(key) == 0 || len(code) != totpDigits {
		return 0, false
	}
	cur := totpStepAt(now)
	for s := cur - totpSkew; s <= cur+totpSkew; s++ {
		if subtle.ConstantTimeCompare([]byte(hotp(key, uint64(s), totpDigits)), []byte(code)) == 1 && !ok {
			step, ok = s, true
		}
	}
	return step, ok
}

// keyURI is the Key Uri Format read by authenticator apps:
// otpauth://totp/Issuer:account?secret=...&issuer=Issuer&algorithm=SHA1&digits=6&period=30
func keyURI(issuer, account, secret string) string {
	q := url.Values{}
	q.Set("secret", secret)
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", fmt.Sprint(totpDigits))
	q.Set("period", fmt.Sprint(totpStep))
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: q.Encode()}
	return u.String()
}
