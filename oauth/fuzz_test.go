package oauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func fuzzKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func signedProof(t testing.TB, key *ecdsa.PrivateKey, typ string, claims any) string {
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{EmbedJWK: true}).WithType(jose.ContentType(typ)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseProof(t *testing.T) {
	t.Parallel()
	key := fuzzKey(t)
	good := map[string]any{"jti": "j1", "htm": "POST", "htu": "https://bank.example/oauth/token", "iat": time.Now().Unix()}
	hmacSigner, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}, (&jose.SignerOptions{}).WithType("dpop+jwt"))
	hmacProof, _ := jwt.Signed(hmacSigner).Claims(good).Serialize()
	noJTI := map[string]any{"htm": "POST", "htu": "https://bank.example/oauth/token", "iat": time.Now().Unix()}
	tests := []struct {
		name  string
		proof string
		ok    bool
	}{
		{"AcceptsAWellFormedProof", signedProof(t, key, "dpop+jwt", good), true},
		{"RefusesAnotherTyp", signedProof(t, key, "JWT", good), false},
		{"RefusesHMAC", hmacProof, false},
		{"RefusesMissingJTI", signedProof(t, key, "dpop+jwt", noJTI), false},
		{"RefusesGarbage", "not.a.jwt", false},
		{"RefusesEmpty", "", false},
		{"RefusesTamperedPayload", func() string {
			p := strings.Split(signedProof(t, key, "dpop+jwt", good), ".")
			p[1] = p[1][:len(p[1])-2] + "AA"
			return strings.Join(p, ".")
		}(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, _, err := parseProof(tt.proof)
			if (err == nil) != tt.ok {
				t.Fatalf("parseProof: err = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && len(p.jkt) != 43 {
				t.Errorf("thumbprint %q, want 43 base64url characters", p.jkt)
			}
		})
	}
}

// FuzzParseProof feeds arbitrary DPoP headers to the proof parser: it must
// never panic, and whatever it accepts carries the required claims and a
// thumbprint.
func FuzzParseProof(f *testing.F) {
	key := fuzzKey(f)
	f.Add(signedProof(f, key, "dpop+jwt", map[string]any{"jti": "j", "htm": "GET", "htu": "https://b/x", "iat": 1700000000}))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, raw string) {
		p, _, err := parseProof(raw)
		if err != nil {
			return
		}
		if p.jkt == "" || p.claims.JTI == "" || p.claims.HTM == "" || p.claims.HTU == "" || p.claims.IAT == 0 {
			t.Fatalf("accepted a proof without its required parts: %+v", p)
		}
		th := sha256.Sum256([]byte("t"))
		_ = p.check(proofCheck{method: "GET", base: "https://b", path: "/x", now: time.Unix(1700000000, 0), tokenHash: &th})
	})
}

// FuzzParseAssertion feeds arbitrary client assertions to the parser that
// runs before any key is known: it must never panic nor accept an
// algorithm outside FAPI 2.0's.
func FuzzParseAssertion(f *testing.F) {
	key := fuzzKey(f)
	sig, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, nil)
	good, _ := jwt.Signed(sig).Claims(jwt.Claims{Issuer: "budget-app", Subject: "budget-app", Audience: jwt.Audience{"https://bank"}, ID: "j"}).Serialize()
	f.Add(good)
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln")
	f.Add("..")
	f.Fuzz(func(t *testing.T, raw string) {
		tok, iss, err := parseAssertion(raw)
		if err != nil {
			return
		}
		if iss == "" || len(tok.Headers) != 1 {
			t.Fatalf("accepted an assertion without issuer or with %d signatures", len(tok.Headers))
		}
		switch jose.SignatureAlgorithm(tok.Headers[0].Algorithm) {
		case jose.PS256, jose.ES256, jose.EdDSA:
		default:
			t.Fatalf("accepted algorithm %s", tok.Headers[0].Algorithm)
		}
	})
}

// FuzzParseDetails feeds arbitrary authorization_details: no panic, and
// anything accepted is within the bounds.
func FuzzParseDetails(f *testing.F) {
	f.Add(`[{"type":"fdx_v1.0","consentRequest":{"durationPeriod":90,"resources":[{"resourceType":"ACCOUNT","dataClusters":["BALANCES"]}]}}]`)
	f.Add(`[{"type":"x"}]`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, raw string) {
		w, err := parseDetails(raw)
		if err != nil {
			return
		}
		if len(w.clusters) == 0 || w.duration < 1 || w.duration > 365 || w.lookbk < 1 || w.lookbk > 730 {
			t.Fatalf("accepted out-of-bounds details: %+v", w)
		}
		for _, c := range w.clusters {
			if !c.Valid() {
				t.Fatalf("accepted unknown cluster %q", c)
			}
		}
	})
}

// sameOutcome fails t unless the remembered-header path (c) and the full
// parse agree on raw: both refuse it, or both accept it with the same
// claims and thumbprint.
func sameOutcome(t *testing.T, c *proofKeys, raw string) {
	t.Helper()
	want, _, werr := parseProof(raw)
	got, gerr := c.parse(raw)
	if (werr == nil) != (gerr == nil) || got != want {
		t.Fatalf("proofKeys.parse(%q) = %+v, %v; parseProof = %+v, %v", raw, got, gerr, want, werr)
	}
}

// TestProofKeysAgreeWithParseProof holds the fast path for a remembered
// header to the full parse, on the proofs a client would send and on
// tampered ones that reuse a remembered header.
func TestProofKeysAgreeWithParseProof(t *testing.T) {
	t.Parallel()
	key := fuzzKey(t)
	claims := func(jti string) map[string]any {
		return map[string]any{"jti": jti, "htm": "GET", "htu": "https://bank.example/fdx/v6/accounts", "iat": time.Now().Unix()}
	}
	first := signedProof(t, key, "dpop+jwt", claims("j1"))
	c := newProofKeys()
	if _, err := c.parse(first); err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(first, ".")
	if _, ok := c.keys[head]; !ok {
		t.Fatal("an ES256 proof's header was not remembered")
	}
	second := signedProof(t, key, "dpop+jwt", claims("j2"))
	if h, _, _ := strings.Cut(second, "."); h != head {
		t.Fatal("the same key gave another header: the test proves nothing")
	}
	parts := strings.Split(second, ".")
	other := strings.Split(signedProof(t, fuzzKey(t), "dpop+jwt", claims("j3")), ".")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for name, raw := range map[string]string{
		"NextProofOfTheSameKey":       second,
		"TamperedPayload":             parts[0] + "." + flip(parts[1], 5) + "." + parts[2],
		"TamperedSignature":           parts[0] + "." + parts[1] + "." + flip(parts[2], 10),
		"AnotherKeysSignature":        parts[0] + "." + other[1] + "." + other[2],
		"ShortSignature":              parts[0] + "." + parts[1] + "." + parts[2][:40],
		"NoSignature":                 parts[0] + "." + parts[1] + ".",
		"FourParts":                   second + ".x",
		"TwoParts":                    parts[0] + "." + parts[1],
		"PayloadNotJSON":              parts[0] + "." + "bm90IGpzb24" + "." + parts[2],
		"MissingClaims":               signedProof(t, key, "dpop+jwt", map[string]any{"htm": "GET"}),
		"NonCanonicalBase64Signature": parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-1] + flip(parts[2][len(parts[2])-1:], 0),
	} {
		t.Run(name, func(t *testing.T) { sameOutcome(t, c, raw) })
	}
}

// FuzzProofKeys is a differential fuzz test: behind a remembered header,
// any payload and signature must meet the same fate on the fast path as
// in the full parse.
func FuzzProofKeys(f *testing.F) {
	key := fuzzKey(f)
	seed := signedProof(f, key, "dpop+jwt", map[string]any{"jti": "j", "htm": "GET", "htu": "https://b/x", "iat": 1700000000})
	parts := strings.Split(seed, ".")
	c := newProofKeys()
	if _, err := c.parse(seed); err != nil {
		f.Fatal(err)
	}
	f.Add(parts[1], parts[2])
	f.Add(parts[1], parts[2]+".x")
	f.Add("e30", parts[2])
	f.Fuzz(func(t *testing.T, payload, sig string) {
		sameOutcome(t, c, parts[0]+"."+payload+"."+sig)
	})
}
