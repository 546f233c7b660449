package channels

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// TestDPoPKeyFollowsTheClientKey: two clients with one partner key (two
// instances of a fleet) prove possession of the same DPoP key, so a code
// bound at the pushed request by one is redeemed by the other; another
// partner key gives another DPoP key.
func TestDPoPKeyFollowsTheClientKey(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	thumb := func(k *ecdsa.PrivateKey) string {
		t.Helper()
		proof, err := (&Client{Key: k}).proof("POST", "https://bank.example/oauth/token")
		if err != nil {
			t.Fatal(err)
		}
		jws, err := jose.ParseSigned(proof, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		jwk := jws.Signatures[0].Protected.JSONWebKey
		if jwk == nil {
			t.Fatal("the proof embeds no key")
		}
		if _, err := jws.Verify(jwk); err != nil {
			t.Fatalf("the proof does not verify with its own key: %v", err)
		}
		tp, err := jwk.Thumbprint(crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		return string(tp)
	}
	a, b, c := thumb(key), thumb(key), thumb(other)
	if a != b {
		t.Error("two clients with one partner key use different DPoP keys: a code pushed by one instance cannot be redeemed by another")
	}
	if a == c {
		t.Error("clients of two partner keys share a DPoP key")
	}
}
