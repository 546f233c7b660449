package oauth

import (
	"crypto/rand"
	"encoding/asn1"
	"math/big"
	"testing"
)

// TestES256DER holds es256DER to the encoding crypto/ecdsa.Verify makes
// from big.Ints (an ASN.1 SEQUENCE of two INTEGERs, RFC 3279 §2.2.3), on
// random signatures and on the edges: leading zero bytes, a high bit that
// needs a zero byte before it, and R or S zero, which is refused.
func TestES256DER(t *testing.T) {
	t.Parallel()
	var sigs [][64]byte
	for range 200 {
		var s [64]byte
		rand.Read(s[:])
		sigs = append(sigs, s)
	}
	edge := func(r0, r1, s0 byte) [64]byte {
		var s [64]byte
		for i := range s {
			s[i] = 0x11
		}
		s[0], s[1], s[32] = r0, r1, s0
		return s
	}
	sigs = append(sigs, edge(0, 0, 0x80), edge(0x80, 0, 0), edge(0, 0x80, 0xff), edge(0xff, 0xff, 0x7f))
	var low [64]byte
	low[31], low[63] = 1, 0x80 // R = 1, S = 128
	sigs = append(sigs, low)
	for _, sig := range sigs {
		var buf [es256DERMax]byte
		got, ok := es256DER(&buf, &sig)
		want, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])})
		if err != nil {
			t.Fatal(err)
		}
		if !ok || string(got) != string(want) {
			t.Fatalf("es256DER(%x) = %x, %v; want %x", sig, got, ok, want)
		}
	}
	rZero, sZero := edge(0, 0, 0x11), edge(0x11, 0x11, 0)
	clear(rZero[:32])
	clear(sZero[32:])
	for _, zero := range [][64]byte{{}, rZero, sZero} {
		var buf [es256DERMax]byte
		if _, ok := es256DER(&buf, &zero); ok {
			t.Errorf("es256DER(%x) accepted a zero R or S", zero)
		}
	}
}
