package testdb

import (
	"net"
	"os"
	"testing"
	"time"
)

// NATSURL is the machine's NATS server (with JetStream);
// BANKBRIDGE_TEST_NATS overrides it. Unreachable: the test is skipped
// locally and fails in CI.
func NATSURL(t testing.TB) string {
	t.Helper()
	url, addr := os.Getenv("BANKBRIDGE_TEST_NATS"), "127.0.0.1:4222"
	if url == "" {
		url = "nats://" + addr
	}
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("NATS at %s is unreachable in CI: %v", addr, err)
		}
		t.Skipf("NATS at %s is unreachable: %v", addr, err)
	}
	c.Close()
	return url
}
