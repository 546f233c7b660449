package dataapi

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"testing"
)

// TestUUIDs holds the ids the API makes to RFC 9562's text form: random
// ones are version 4, derived ones version 8 and the same as they were
// when written through fmt (an event queued under one key gets one id,
// whichever release of an instance queues it).
func TestUUIDs(t *testing.T) {
	t.Parallel()
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		id := newUUID()
		if !v4.MatchString(id) {
			t.Fatalf("newUUID() = %q: not a version 4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("newUUID() repeated %q", id)
		}
		seen[id] = true
	}
	for _, name := range []string{"", "n1|sub-1", "a longer name, with spaces and ünïcode"} {
		b := sha256.Sum256([]byte(name))
		b[6] = b[6]&0x0f | 0x80
		b[8] = b[8]&0x3f | 0x80
		want := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
		if got := derivedUUID(name); got != want {
			t.Errorf("derivedUUID(%q) = %q, want %q", name, got, want)
		}
	}
}
