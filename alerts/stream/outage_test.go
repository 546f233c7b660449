package stream_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/alerts/stream"
)

// cable is a TCP proxy to the NATS server that can be cut and mended: the
// server is gone for the client, as when NATS restarts, without touching
// the machine's server that other tests share.
type cable struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  []net.Conn
}

func newCable(t *testing.T, target string) *cable {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cable{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); c.setCut(true) })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			if c.cut {
				c.mu.Unlock()
				in.Close() // refused, as a server that is down
				continue
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				c.mu.Unlock()
				in.Close()
				continue
			}
			c.conns = append(c.conns, in, out)
			c.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
	return c
}

func (c *cable) url() string { return "nats://" + c.ln.Addr().String() }

// setCut cuts (closing every connection, without a goodbye) or mends.
func (c *cable) setCut(cut bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut = cut
	if cut {
		for _, conn := range c.conns {
			conn.Close()
		}
		c.conns = nil
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// NATS down and back (issue 15): the bus says it lost the server, the
// relay fails (the client fails acknowledgements pending at a disconnect)
// instead of waiting for ever, the bus says it is back, and the relay then
// publishes everything, each event once.
func TestRelayFailsVisiblyWhileNATSIsDownAndRecovers(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := natsURL(t)
	host := strings.TrimPrefix(url, "nats://")
	cab := newCable(t, host)
	var logs syncBuffer
	d := stream.Deployment{Cluster: fmt.Sprintf("O%d", time.Now().UnixNano()), Database: "db1"}
	bus, err := stream.Dial(ctx, cab.url(), d, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	dial(t, ctx, url, d) // the cleanup that removes the stream
	db := deposits(t, ctx, 20, 100)

	cab.setCut(true)
	waitFor(t, &logs, "stream: disconnected from NATS")
	t0 := time.Now()
	n, err := bus.RelayOnce(ctx, db.Ledger(), db.Alerts(), 1000)
	if err == nil || ctx.Err() != nil {
		t.Fatalf("relay with NATS down: %d, %v (context %v); want a bounded failure", n, err, ctx.Err())
	}
	t.Logf("relay with NATS down failed after %s: %v", time.Since(t0).Round(time.Millisecond), err)
	if took := time.Since(t0); took > 5*time.Second {
		t.Errorf("the relay took %s to fail", took)
	}
	if cur, _ := db.Alerts().Cursor(ctx, stream.RelayName); cur != 0 {
		t.Errorf("the relay's cursor moved to %d with nothing acknowledged", cur)
	}

	cab.setCut(false)
	waitFor(t, &logs, "stream: reconnected to NATS")
	if n, err := bus.RelayOnce(ctx, db.Ledger(), db.Alerts(), 1000); err != nil || n != 20 {
		t.Fatalf("relay after NATS came back: %d, %v", n, err)
	}
	if msgs, err := bus.Messages(ctx); err != nil || msgs != 20 {
		t.Errorf("the stream holds %d messages (%v), want each event once", msgs, err)
	}
	// Closing at shutdown is no outage: no second "disconnected".
	bus.Close()
	time.Sleep(100 * time.Millisecond)
	if n := strings.Count(logs.String(), "stream: disconnected from NATS"); n != 1 {
		t.Errorf("%d disconnects logged, want the cut's only:\n%s", n, logs.String())
	}
}

func waitFor(t *testing.T, logs *syncBuffer, line string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), line); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q logged within 10 s:\n%s", line, logs.String())
		}
	}
}
