package assistant_test

import (
	"strings"
	"testing"
)

// TestAssistantRemovesInvisibleCharacters: chat text is answered, not
// refused, so what a reader would not see is removed before parsing and
// before anything is echoed: "pay S<ZWSP>am 20" still finds Sam, and no
// reply carries the hidden characters back.
func TestAssistantRemovesInvisibleCharacters(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	r := b.say("pay S\u200Bam\u202E 20")
	has(t, r, "Pay Sam 20.00 USD", "confirm")
	for _, hidden := range []string{"\u200B", "\u202E"} {
		if strings.Contains(text(r), hidden) {
			t.Errorf("reply %q carries %q back", text(r), hidden)
		}
	}
}
