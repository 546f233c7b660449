package stream_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them: every
// worker must have an owner that stops it and waits for it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
