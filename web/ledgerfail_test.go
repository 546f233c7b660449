package web_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/ledger/ledgertest"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestTransferLedgerFailures checks that a transfer the ledger cannot book
// reads "busy, confirm again" only when the failure is transient; anything
// else is a 500 apology with a reference, and the log holds the cause
// under that reference (the request id).
func TestTransferLedgerFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		err        error
		wantStatus int
		wantText   string
	}{
		{"TransientIsBusy", bankbridge.E(bankbridge.Unavailable, "database_busy", "the database is busy; try again"), http.StatusServiceUnavailable, "The bank is busy"},
		{"ConstraintIsInternal", bankbridge.E(bankbridge.Conflict, "duplicate", "that value is already in use").WithOp("sqlite.apply", errors.New("UNIQUE constraint failed: postings.id")), http.StatusInternalServerError, "Something went wrong"},
		{"UntypedIsInternal", errors.New("sqlite.apply: disk I/O error"), http.StatusInternalServerError, "Something went wrong"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var log lockedBuffer
			bl := &ledgertest.Breakable{}
			b := newBank(t, bankOptions{ledger: func(s ledger.Store) ledger.Store { bl.Store = s; return bl },
				log: slog.New(slog.NewJSONHandler(&log, nil))})
			cu := b.customer("Ada Lovelace", "ada@example.com")
			from := b.account(cu.ID, "Checking", ledger.Checking, 50000)
			to := b.account(cu.ID, "Savings", ledger.Savings, 1000)
			br := b.browser()
			br.login("", "ada@example.com")
			form := br.confirmForm(br.review(from.ID, to.ID, "12.00"))

			bl.Fail(c.err)
			res := br.post("/transfer/confirm", form)
			if res.status != c.wantStatus || !strings.Contains(res.body, c.wantText) {
				t.Fatalf("status %d, want %d with %q:\n%s", res.status, c.wantStatus, c.wantText, res.body)
			}
			if c.wantStatus != http.StatusInternalServerError {
				return
			}
			if strings.Contains(res.body, "busy") || strings.Contains(res.body, "constraint") || strings.Contains(res.body, "I/O") {
				t.Errorf("the page says busy or tells the cause:\n%s", res.body)
			}
			m := regexp.MustCompile(`reference ([0-9a-f]+)`).FindStringSubmatch(res.body)
			if m == nil {
				t.Fatalf("no reference on the page:\n%s", res.body)
			}
			if l := log.String(); !strings.Contains(l, `"request_id":"`+m[1]+`"`) || !strings.Contains(l, c.err.Error()[len(c.err.Error())-8:]) {
				t.Errorf("log lacks the reference %s or the cause:\n%s", m[1], l)
			}
		})
	}
}
