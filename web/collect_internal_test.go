package web

import (
	"strings"
	"testing"

	"github.com/bankbridge/bankbridge/rails"
)

// TestRecallWordsHaveSpanish: every answer the other bank can give to a
// request for return reads in Spanish on the payment's page, so a new
// refusal reason in rails cannot show up half translated.
func TestRecallWordsHaveSpanish(t *testing.T) {
	n := 0
	for _, note := range rails.RecallNotes() {
		if !strings.HasPrefix(note, "the other bank did not return it: ") {
			continue
		}
		n++
		w := recallWords(rails.Payment{Recall: rails.RecallRefused, RecallNote: note})
		if _, ok := spanish[w]; !ok {
			t.Errorf("catalog_es.go has no Spanish for %q", w)
		}
	}
	if n < 5 {
		t.Fatalf("only %d refusals: the list is broken", n)
	}
	for _, st := range []rails.Status{rails.StatusNew, rails.StatusHeld, rails.StatusBatched, rails.StatusSent, rails.StatusSettled, rails.StatusReturned, rails.StatusRefused} {
		for _, k := range []rails.Kind{rails.KindCredit, rails.KindDebit} {
			if w := statusWords(rails.Payment{Kind: k, Status: st}); spanish[w] == "" {
				t.Errorf("catalog_es.go has no Spanish for the %s %s status %q", k, st, w)
			}
		}
	}
}
