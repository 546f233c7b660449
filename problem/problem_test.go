package problem_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/problem"
	"github.com/google/go-cmp/cmp"
)

func TestWrite(t *testing.T) {
	t.Parallel()
	bad := bankbridge.E(bankbridge.Invalid, "amount_invalid", "the amount is not a number")
	bad.Fields = []bankbridge.FieldError{{Pointer: "/amount", Detail: "not a number"}}
	cases := []struct {
		name string
		err  error
		want problem.Details
	}{
		{"TypedErrorShowsSafeMessage", fmt.Errorf("wrapped: %w", bad.WithOp("x", errors.New("secret cause"))),
			problem.Details{Type: "/problems#amount_invalid", Title: "Bad Request", Status: 400, Detail: "the amount is not a number", Code: "amount_invalid", Instance: "/p", RequestID: "rid",
				Errors: []bankbridge.FieldError{{Pointer: "/amount", Detail: "not a number"}}}},
		{"UntypedErrorIsInternalAndHidesCause", errors.New("pq: password authentication failed for user bank"),
			problem.Details{Type: "/problems#internal", Title: "Internal Server Error", Status: 500, Detail: "internal error", Code: "internal", Instance: "/p", RequestID: "rid"}},
		{"TypedInternalStillHidden", bankbridge.E(bankbridge.Internal, "db", "table accounts is corrupt"),
			problem.Details{Type: "/problems#internal", Title: "Internal Server Error", Status: 500, Detail: "internal error", Code: "internal", Instance: "/p", RequestID: "rid"}},
		{"Unavailable", bankbridge.E(bankbridge.Unavailable, "ledger_busy", "retry"),
			problem.Details{Type: "/problems#ledger_busy", Title: "Service Unavailable", Status: 503, Detail: "retry", Code: "ledger_busy", Instance: "/p", RequestID: "rid"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/p", nil)
			r = r.WithContext(bankbridge.WithRequestID(r.Context(), "rid"))
			w := httptest.NewRecorder()
			problem.Write(w, r, c.err)
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if w.Code != c.want.Status {
				t.Errorf("status = %d, want %d", w.Code, c.want.Status)
			}
			var got problem.Details
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if c.want.Status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
				t.Error("no Retry-After on 503")
			}
		})
	}
}

// TestStatus holds the table of STYLE.md, and makes a new Kind fail here
// until it is given a status.
func TestStatus(t *testing.T) {
	t.Parallel()
	want := map[bankbridge.Kind]int{
		bankbridge.Internal: 500, bankbridge.Invalid: 400, bankbridge.Unauthenticated: 401,
		bankbridge.Forbidden: 403, bankbridge.NotFound: 404, bankbridge.Conflict: 409,
		bankbridge.Unprocessable: 422, bankbridge.TooManyRequests: 429, bankbridge.Unavailable: 503,
	}
	for k := bankbridge.Kind(0); k < 64; k++ {
		named := k.String() != fmt.Sprintf("kind(%d)", k)
		w, ok := want[k]
		switch {
		case named && !ok:
			t.Errorf("Kind %s has no status in this test's table", k)
		case !named && problem.Status(k) != 500:
			t.Errorf("Status(%s) = %d, want 500 for a Kind nobody named", k, problem.Status(k))
		case named && problem.Status(k) != w:
			t.Errorf("Status(%s) = %d, want %d", k, problem.Status(k), w)
		}
	}
}
