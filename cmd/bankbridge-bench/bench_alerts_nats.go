package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/alerts/stream"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// benchAlertsNATS runs the alerts of `bench alerts --events nats://...` as
// a fleet of n instances would, over a throw-away cluster: each instance a
// relay, a consumer of the shared stream and a dispatcher, all delivering
// to the bench channel. Only instance 0's relay is woken by the ledger's
// commits (it is the instance that posts); the others poll, as another
// instance's relay would. It returns the wake function for OnBatch and a
// stop function that waits for every goroutine and removes the stream.
func benchAlertsNATS(ctx context.Context, url string, n int, lst ledger.Store, ast alerts.Store, o alerts.Options) (wake func(), stop func(), err error) {
	var b [6]byte
	rand.Read(b[:])
	dep := stream.Deployment{Cluster: "bench-" + hex.EncodeToString(b[:]), Database: "bench"}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var buses []*stream.Bus
	stop = func() {
		cancel()
		wg.Wait()
		if len(buses) > 0 {
			removeStream(url, buses[0].StreamName())
		}
		for _, bus := range buses {
			bus.Close()
		}
	}
	ch := make(chan struct{}, 1)
	wake = func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	for i := range n {
		bus, err := stream.Dial(ctx, url, dep, nil)
		if err != nil {
			stop()
			return nil, nil, fmt.Errorf("bench alerts: %w", err)
		}
		buses = append(buses, bus)
		svc := alerts.New(ast, lst, o)
		var w <-chan struct{}
		if i == 0 {
			w = ch
		}
		wg.Go(func() { bus.Relay(ctx, lst, ast, w, 250*time.Millisecond) })
		wg.Go(func() { bus.Consume(ctx, svc, 200) })
		wg.Go(func() { svc.RunDispatcher(ctx) })
	}
	return wake, stop, nil
}

// removeStream deletes the bench's stream from the shared NATS server.
func removeStream(url, name string) {
	nc, err := nats.Connect(url)
	if err != nil {
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	js.DeleteStream(ctx, name)
}
