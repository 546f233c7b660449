package sqlstore

import (
	"math"
	"slices"
	"testing"

	"github.com/bankbridge/bankbridge/ledger"
)

// FuzzParseLegs: what parseLegs reads, ledger.DecodePostings reads the
// same, and parseLegs reads whatever ledger.EncodePostings writes.
func FuzzParseLegs(f *testing.F) {
	f.Add("1:-100,2:100")
	f.Add("")
	f.Add("7:-9223372036854775807,8:9223372036854775807")
	f.Add("1:2,")
	f.Add(":1")
	f.Fuzz(func(t *testing.T, s string) {
		want, werr := ledger.DecodePostings(s)
		got, ok := parseLegs([]byte(s), nil)
		if ok && (werr != nil || !slices.Equal(got, want)) {
			t.Fatalf("parseLegs(%q) = %v; DecodePostings %v, %v", s, got, want, werr)
		}
		if werr != nil || slices.ContainsFunc(want, func(p ledger.Posting) bool { return p.Amount == math.MinInt64 || p.Account == math.MinInt64 }) {
			return
		}
		enc := ledger.EncodePostings(want)
		if again, ok := parseLegs([]byte(enc), nil); !ok || !slices.Equal(again, want) {
			t.Fatalf("parseLegs(%q) = %v, %v; want %v", enc, again, ok, want)
		}
	})
}
