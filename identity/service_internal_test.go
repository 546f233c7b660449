package identity

import (
	"testing"
	"time"
)

func TestLockForDoublesAndCaps(t *testing.T) {
	t.Parallel()
	s := New(nil, Options{}) // defaults: 5 failures, 1 minute, 1 hour
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{
		{5, time.Minute}, {6, 2 * time.Minute}, {7, 4 * time.Minute}, {8, 8 * time.Minute},
		{10, 32 * time.Minute}, {11, time.Hour}, {12, time.Hour}, {1000, time.Hour},
	} {
		if got := s.lockFor(tc.failures); got != tc.want {
			t.Errorf("lockFor(%d) = %v, want %v", tc.failures, got, tc.want)
		}
	}
}
