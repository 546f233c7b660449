package dataapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/ledger/ledgertest"
	"github.com/bankbridge/bankbridge/problem"
)

// syncBuffer is a log sink tests read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLedgerFailures checks how the API answers a ledger that cannot book a
// payment: a transient failure is 503 ledger_busy (retry with the same
// key); anything else is 500 "internal error", without its cause, and is
// logged with the request id the partner was given.
func TestLedgerFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
		wantLogged bool
	}{
		{"TransientIsBusy", bankbridge.E(bankbridge.Unavailable, "database_busy", "the database is busy; try again"), 503, "ledger_busy", false},
		{"ConstraintIsInternal", bankbridge.E(bankbridge.Conflict, "duplicate", "that value is already in use").WithOp("sqlite.apply", errors.New("UNIQUE constraint failed: postings.id")), 500, "internal", true},
		{"UntypedIsInternal", errors.New("sqlite.apply: no such column: secret_column"), 500, "internal", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var log syncBuffer
			bl := &ledgertest.Breakable{}
			b := newBank(t, bankOptions{
				ledger: func(s ledger.Store) ledger.Store { bl.Store = s; return bl },
				log:    slog.New(slog.NewJSONHandler(&log, nil)),
			})
			tok, _ := b.link(b.budget, b.ada, []ledger.AccountID{b.ada.checking.ID}, allClusters())
			chk := b.accountID(tok, b.ada.checking.Name)
			payee := decode[struct {
				Payees []struct {
					PayeeID string `json:"payeeId"`
				} `json:"payees"`
			}](t, b.call(b.budget, tok, "GET", P+"/payees", nil, nil)).Payees[0].PayeeID

			bl.Fail(c.err)
			res := b.call(b.budget, tok, "POST", P+"/payments", map[string]any{"fromAccountId": chk, "toPayeeId": payee, "amount": 20},
				map[string]string{"Idempotency-Key": "k1", "x-fapi-interaction-id": "c3f0e9a4-5b6d-4e7f-8a9b-0c1d2e3f4a5b"})
			if res.Status != c.wantStatus {
				t.Fatalf("status = %d, want %d: %s", res.Status, c.wantStatus, res.Body)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var p problem.Details
			if err := json.Unmarshal(res.Body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Code != c.wantCode || p.RequestID != "c3f0e9a4-5b6d-4e7f-8a9b-0c1d2e3f4a5b" {
				t.Errorf("problem = %+v, want code %s and the interaction id", p, c.wantCode)
			}
			if c.wantStatus == 500 && p.Detail != "internal error" {
				t.Errorf("detail = %q, want only \"internal error\"", p.Detail)
			}
			if s := string(res.Body); strings.Contains(s, "constraint") || strings.Contains(s, "secret_column") || (c.wantStatus == 500 && strings.Contains(s, "retry")) {
				t.Errorf("the answer tells more than it should: %s", s)
			}
			logged := log.String()
			if got := strings.Contains(logged, `"request_id":"c3f0e9a4-5b6d-4e7f-8a9b-0c1d2e3f4a5b"`); got != c.wantLogged {
				t.Errorf("logged with the request id = %v, want %v; log:\n%s", got, c.wantLogged, logged)
			}
			if c.wantLogged && !strings.Contains(logged, c.err.Error()[len(c.err.Error())-10:]) {
				t.Errorf("the log lost the cause %q:\n%s", c.err, logged)
			}
		})
	}
}
