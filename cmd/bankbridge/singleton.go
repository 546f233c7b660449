package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/bankbridge/bankbridge/demo"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/internal/app"
)

// The leases of the jobs serve runs once per fleet. The audit sealer's is
// audit.SealerLease; the data API's notifications, dataapi.DeliveryLease.
const (
	seedLease  = "demo-seed"
	sweepLease = "consent-sweep"
	purgeLease = "session-purge"
)

// singleton runs job on one instance of the fleet at a time until ctx ends:
// it waits for the app.Lease name, runs job with a context that ends if the
// app.Lease is lost (the lock's connection died), and then waits for the app.Lease
// again, so that the job moves to another instance within seconds of its
// holder dying. job returns when its ctx ends.
func singleton(ctx context.Context, l app.Lease, log *slog.Logger, name string, job func(context.Context)) {
	for {
		err := l.RunExclusive(ctx, name, func(ctx context.Context) error {
			log.Info("singleton: this instance runs it", "job", name)
			job(ctx)
			return nil
		})
		if ctx.Err() != nil {
			return
		}
		log.Warn("singleton: lost its app.Lease, or could not take it; trying again", "job", name, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// seedDemo seeds the demo bank into an empty database, once per fleet:
// instances started together take the seeding app.Lease in turn, and each
// after the first finds the bank seeded.
func seedDemo(ctx context.Context, stdout io.Writer, size int, b *app.Backend, ids *identity.Service, ins *insights.Service) error {
	return b.Lease.RunExclusive(ctx, seedLease, func(ctx context.Context) error {
		seeded, err := demo.Seeded(ctx, b.Ledger)
		if err != nil || seeded {
			return err
		}
		fmt.Fprintf(stdout, "Empty database: seeding the demo bank (%d customers, 90 days)...\n", size)
		res, err := demo.Seed(ctx, demo.Deps{Identity: ids, Ledger: b.Ledger, Insights: ins}, demo.Options{Customers: size})
		if err != nil {
			return fmt.Errorf("seed demo bank: %w", err)
		}
		fmt.Fprintf(stdout, "Seeded %d customers, %d accounts, %d transfers in %s.\n", res.Customers, res.Accounts, res.Transfers, res.Elapsed.Round(time.Millisecond))
		return nil
	})
}
