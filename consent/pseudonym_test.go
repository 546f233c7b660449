package consent

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"sync"
	"testing"
)

// TestPseudonymsCloneMatchesHMAC: ids made from the cloned keyed HMAC are
// HMAC-SHA256 under the id key, also when made concurrently.
func TestPseudonymsCloneMatchesHMAC(t *testing.T) {
	t.Parallel()
	x, err := NewPseudonyms(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	want := func(n int64) string {
		m := hmac.New(sha256.New, x.mac)
		var b [9]byte
		b[0] = KindTxn
		binary.BigEndian.PutUint64(b[1:], uint64(n))
		m.Write(b[:1])
		m.Write([]byte("partner/7"))
		m.Write([]byte{0})
		m.Write(b[1:])
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for n := int64(g * 1000); n < int64(g*1000+200); n++ {
				if got := x.Of(KindTxn, "partner", "7", n); got != want(n) {
					t.Errorf("id %d: %s, want %s", n, got, want(n))
					return
				}
			}
		})
	}
	wg.Wait()
}
