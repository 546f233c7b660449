package web

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/problem"
)

// TestFailUsesTheOneStatusTable: every Kind answers on a page the status
// it answers in problem+json, with a heading of its own, and shows the
// safe message only when the fault is not ours.
func TestFailUsesTheOneStatusTable(t *testing.T) {
	t.Parallel()
	s := &server{Deps: Deps{Logger: slog.New(slog.DiscardHandler), BankName: "bank"}, pages: mustParsePages(time.UTC)}
	for k := bankbridge.Kind(0); k.String() != fmt.Sprintf("kind(%d)", k); k++ {
		t.Run(k.String(), func(t *testing.T) {
			t.Parallel()
			err := bankbridge.E(k, "some_code", "the safe message")
			w := httptest.NewRecorder()
			s.fail(w, httptest.NewRequest("GET", "/accounts", nil), fmt.Errorf("op: %w", err))
			if want := problem.Status(k); w.Code != want {
				t.Errorf("status = %d, want %d as problem.Status says", w.Code, want)
			}
			body := w.Body.String()
			if w.Code != 404 && failTitles[w.Code] == "" {
				t.Errorf("no heading for status %d", w.Code)
			}
			shown := strings.Contains(body, "the safe message")
			if ours := w.Code >= 500; shown == ours && w.Code != 404 {
				t.Errorf("status %d shows the safe message: %v", w.Code, shown)
			}
		})
	}
}
