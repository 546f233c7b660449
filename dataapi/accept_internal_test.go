package dataapi

import (
	"strings"
	"testing"
)

func TestWantsPDF(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		accept []string
		pdf    bool
	}{
		{nil, false},
		{[]string{""}, false},
		{[]string{"application/pdf"}, true},
		{[]string{"APPLICATION/PDF"}, true},
		{[]string{"application/json"}, false},
		{[]string{"*/*"}, false},
		{[]string{"text/html"}, false},
		{[]string{"application/*"}, false},
		{[]string{"application/json;q=0.5, application/pdf"}, true},
		{[]string{"application/json", "application/pdf;q=1"}, false}, // a tie: JSON
		{[]string{"application/json;q=0.1", "application/pdf;q=0.2"}, true},
		{[]string{"application/pdf;q=0, */*"}, false},
		{[]string{"application/*;q=0.2, application/pdf;q=0.9"}, true},
		{[]string{"application/pdf;q=0.9, application/*;q=1"}, false}, // the specific range sets pdf's 0.9; json gets 1
		{[]string{"application/pdf;q=2"}, true},                       // out of range: the default 1
		{[]string{"application/pdf;q=abc, application/json;q=0.5"}, true},
		{[]string{"application/pdf ; q=0.3 , application/json ; q=0.2"}, true},
		{[]string{",,;;=, application/pdf"}, true},
	} {
		if got := wantsPDF(tt.accept); got != tt.pdf {
			t.Errorf("wantsPDF(%q) = %v, want %v", tt.accept, got, tt.pdf)
		}
	}
}

// FuzzWantsPDF: any Accept header is answered without a panic, and only
// one that names application/pdf gets a PDF (wildcards tie, and JSON wins).
func FuzzWantsPDF(f *testing.F) {
	for _, s := range []string{"application/pdf", "application/json;q=0.5, application/pdf", "*/*;q=0.1", ";q=", "a/b/c", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		pdf := wantsPDF([]string{accept})
		if pdf && !strings.Contains(strings.ToLower(accept), "application/pdf") {
			t.Errorf("wantsPDF(%q) is true though it does not name application/pdf", accept)
		}
	})
}
