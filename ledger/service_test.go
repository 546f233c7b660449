package ledger_test

import (
	"context"
	"errors"
	"testing"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/ledger/ledgertest"
)

// TestServiceApplyFailures checks that only transient store failures are
// retried and answered ErrBusy ("retry with the same key"); anything else is
// internal, tried once, and keeps its cause.
func TestServiceApplyFailures(t *testing.T) {
	t.Parallel()
	busy := bankbridge.E(bankbridge.Unavailable, "database_busy", "the database is busy; try again").WithOp("sqlite.apply", errors.New("SQLITE_BUSY"))
	unique := bankbridge.E(bankbridge.Conflict, "duplicate", "that value is already in use").WithOp("postgres.apply", errors.New("23505 transfers_pkey"))
	bug := errors.New("postgres.apply: column \"amount\" does not exist")
	cases := []struct {
		name      string
		err       error
		wantKind  bankbridge.Kind
		wantBusy  bool
		wantCalls int
	}{
		{"TransientIsRetriedThenBusy", busy, bankbridge.Unavailable, true, 3},
		{"TimeoutIsRetriedThenBusy", context.DeadlineExceeded, bankbridge.Unavailable, true, 3},
		{"ConstraintViolationIsInternal", unique, bankbridge.Internal, false, 1},
		{"UntypedFailureIsInternal", bug, bankbridge.Internal, false, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			st := &ledgertest.Breakable{}
			st.Fail(c.err)
			svc := ledger.New(st, ledger.Options{})
			defer svc.Close()
			_, _, err := svc.Transfer(context.Background(), ledger.Move("test", "k1", 1, 2, 100, "USD", "rent"))
			if err == nil {
				t.Fatal("Transfer succeeded over a failing store")
			}
			if got := bankbridge.ErrorKind(err); got != c.wantKind {
				t.Errorf("kind = %v, want %v (err %v)", got, c.wantKind, err)
			}
			if got := errors.Is(err, ledger.ErrBusy); got != c.wantBusy {
				t.Errorf("errors.Is(err, ErrBusy) = %v, want %v (err %v)", got, c.wantBusy, err)
			}
			if !errors.Is(err, c.err) {
				t.Errorf("the cause %v is lost: %v", c.err, err)
			}
			if got := st.Calls(); got != c.wantCalls {
				t.Errorf("Apply called %d times, want %d", got, c.wantCalls)
			}
		})
	}
}
