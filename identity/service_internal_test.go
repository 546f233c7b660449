package identity

import (
	"testing"
	"time"
)

func TestLockForDoublesPerLockAndCaps(t *testing.T) {
	t.Parallel()
	s := New(nil, Options{}) // defaults: 5 failures, 1 minute, 1 hour
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{
		// One lock per 5 failures in a row, each twice the one before.
		{5, time.Minute}, {10, 2 * time.Minute}, {15, 4 * time.Minute}, {20, 8 * time.Minute},
		{30, 32 * time.Minute}, {35, time.Hour}, {40, time.Hour}, {1000, time.Hour},
	} {
		if got := s.lockFor(tc.failures); got != tc.want {
			t.Errorf("lockFor(%d) = %v, want %v", tc.failures, got, tc.want)
		}
	}
}
