package limits_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
)

var (
	now    = time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	policy = limits.Policy{Daily: 5_000_00, PerPayee: 3_000_00, NewPayee: 1_000_00, Cooling: 24 * time.Hour, StepUp: 1_000_00}
	old    = now.Add(-30 * 24 * time.Hour)
)

func TestDecide(t *testing.T) {
	t.Parallel()
	known := limits.Usage{FirstPaid: old}
	with := func(u limits.Usage, day, payee ledger.Amount) limits.Usage { u.Day, u.Payee = day, payee; return u }
	tests := []struct {
		name string
		u    limits.Usage
		pay  limits.Payment
		want error
	}{
		{"AllowsAPaymentUnderEveryLimit", known, limits.Payment{Amount: 500_00, Saved: old}, nil},
		{"AllowsExactlyTheStepUpAmount", known, limits.Payment{Amount: 1_000_00, Saved: old}, nil},
		{"StepsUpOnePaymentAboveTheThreshold", known, limits.Payment{Amount: 1_000_01, Saved: old}, limits.ErrStepUp},
		{"StepsUpWhenTheDaysTotalCrossesTheThreshold", with(known, 1_000_00, 0), limits.Payment{Amount: 1, Saved: old}, limits.ErrStepUp},
		{"StepsUpTheSecondOfSplitPayments", with(known, 1_000_00, 1_000_00), limits.Payment{Amount: 1_000_00, Saved: old}, limits.ErrStepUp},
		{"AllowsPastTheThresholdWhenSteppedUp", with(known, 1_000_00, 1_000_00), limits.Payment{Amount: 1_000_00, Saved: old, SteppedUp: true}, nil},
		{"RefusesPastTheDailyLimitEvenSteppedUp", with(known, 4_500_00, 0), limits.Payment{Amount: 500_01, Saved: old, SteppedUp: true}, limits.ErrDaily},
		{"AllowsUpToTheDailyLimit", with(known, 4_500_00, 0), limits.Payment{Amount: 500_00, Saved: old, SteppedUp: true}, nil},
		{"DailyRefusalComesBeforeStepUp", with(known, 5_000_00, 0), limits.Payment{Amount: 1, Saved: old}, limits.ErrDaily},
		{"RefusesPastThePerPayeeLimit", with(known, 3_000_00, 3_000_00), limits.Payment{Amount: 1, Saved: old, SteppedUp: true}, limits.ErrPayee},
		{"AllowsAnotherPayeeWhenOneIsFull", with(known, 3_000_00, 0), limits.Payment{Amount: 1_000_00, Saved: old, SteppedUp: true}, nil},
		{"CoolsOffAPayeeNeverPaid", limits.Usage{}, limits.Payment{Amount: 1_000_01, Saved: old, SteppedUp: true}, limits.ErrNewPayee},
		{"AllowsANeverPaidPayeeUpToTheNewPayeeLimit", limits.Usage{}, limits.Payment{Amount: 1_000_00, Saved: old}, nil},
		{"CoolsOffAPayeeSavedAnHourAgo", known, limits.Payment{Amount: 1_000_01, Saved: now.Add(-time.Hour), SteppedUp: true}, limits.ErrNewPayee},
		{"CoolsOffAPayeeFirstPaidAnHourAgo", with(limits.Usage{FirstPaid: now.Add(-time.Hour)}, 600_00, 600_00), limits.Payment{Amount: 400_01, Saved: old, SteppedUp: true}, limits.ErrNewPayee},
		{"EndsCoolingOffAfterThePeriod", with(limits.Usage{FirstPaid: now.Add(-24 * time.Hour)}, 0, 0), limits.Payment{Amount: 2_000_00, Saved: now.Add(-24 * time.Hour), SteppedUp: true}, nil},
		{"RefusesAnOverflowingTotal", with(known, math.MaxInt64, 0), limits.Payment{Amount: 1, Saved: old, SteppedUp: true}, limits.ErrDaily},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := limits.Decide(policy, tc.u, tc.pay, now); !errors.Is(got, tc.want) || (got == nil) != (tc.want == nil) {
				t.Errorf("Decide = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestDecideSplitting is the property the issue asks for: however a
// customer splits payments over a day, to however many payees, what passes
// without a step-up never totals more than the step-up amount, what passes
// at all never totals more than the daily limit, and no payee gets more than
// its limit.
func TestDecideSplitting(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var day ledger.Amount
		payees := map[ledger.AccountID]*limits.Usage{}
		for range 1 + rng.IntN(40) {
			to := ledger.AccountID(1 + rng.IntN(4))
			u := payees[to]
			if u == nil {
				u = &limits.Usage{}
				if rng.IntN(2) == 0 {
					u.FirstPaid = old
				}
				payees[to] = u
			}
			pay := limits.Payment{Payee: to, Amount: ledger.Amount(1 + rng.Int64N(2_000_00)), SteppedUp: rng.IntN(3) == 0, Saved: old}
			in := *u
			in.Day = day
			if limits.Decide(policy, in, pay, now) != nil {
				continue
			}
			day += pay.Amount
			u.Payee += pay.Amount
			if u.FirstPaid.IsZero() {
				u.FirstPaid = now
			}
			if !pay.SteppedUp {
			}
			limit := policy.PerPayee
			if u.FirstPaid.Equal(now) {
				limit = policy.NewPayee
			}
			switch {
			case day > policy.Daily:
				t.Fatalf("paid %d in a day, limit %d", day, policy.Daily)
			case u.Payee > limit:
				t.Fatalf("paid payee %d %d, limit %d", to, u.Payee, limit)
			case !pay.SteppedUp && day > policy.StepUp:
				t.Fatalf("a payment without step-up took the day to %d, past %d", day, policy.StepUp)
			}
		}
	}
}

func TestPolicy(t *testing.T) {
	t.Parallel()
	if err := limits.DefaultPolicy.Validate(); err != nil {
		t.Errorf("DefaultPolicy: %v", err)
	}
	if got := (limits.Policy{}).WithDefaults(); got != limits.DefaultPolicy {
		t.Errorf("zero policy with defaults = %+v, want %+v", got, limits.DefaultPolicy)
	}
	bad := limits.Policy{Daily: 100, PerPayee: 200, NewPayee: 300, StepUp: -1, Cooling: time.Hour}
	if err := bad.Validate(); err == nil {
		t.Error("Validate accepted a negative step-up and limits out of order")
	}
}
