package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeDrainsBeforeStopping is a rolling restart seen from the load
// balancer: once serve is told to stop, /readyz answers 503 at once while
// every other request is still served for the drain; then serve stops.
func TestServeDrainsBeforeStopping(t *testing.T) {
	t.Parallel()
	const drain = 1500 * time.Millisecond
	base, stop := startServer(t, nil, "--data", t.TempDir(), "--demo=false", "--drain", drain.String(), "--shutdown-grace", "5s")
	if code, _, _ := get(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz before stopping = %d", code)
	}
	began := time.Now()
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	var code int
	var body string
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if code, body, _ = get(t, base+"/readyz"); code == http.StatusServiceUnavailable {
			break
		}
	}
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "draining") {
		t.Fatalf("/readyz while draining = %d %s, want 503 draining", code, body)
	}
	// Requests the load balancer already routed here are still served.
	if code, _, _ := get(t, base+"/login"); code != http.StatusOK {
		t.Errorf("/login while draining = %d, want 200", code)
	}
	select {
	case err := <-stopped:
		t.Fatalf("serve stopped %s after the signal, before its %s drain: %v", time.Since(began), drain, err)
	default:
	}
	if err := <-stopped; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if took := time.Since(began); took < drain {
		t.Errorf("stopped after %s, within the drain", took)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("still answering after the shutdown")
	}
}
