package main

import (
	"context"
	"fmt"
	"github.com/bankbridge/bankbridge/alerts"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/dataapi/records"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// backend is the storage the config selects, seen through the capabilities'
// Store interfaces. Opening it applies pending migrations.
type backend struct {
	engine    string
	ledger    ledger.Store
	identity  identity.Store
	audit     audit.Store
	consent   consent.Store
	messenger assistant.Store
	insights  insights.Store
	dataapi   records.Store
	alerts    alerts.Store
	ping      func(context.Context) error
	close     func() error
	versions  func(context.Context) ([]string, error)
	// settle brings the database to rest after a bulk load (benchmarks).
	settle func(context.Context) error
}

func openBackend(ctx context.Context, c *Config) (*backend, error) {
	if c.Database == "" {
		db, err := sqlite.Open(ctx, c.SQLitePath())
		if err != nil {
			return nil, err
		}
		return &backend{engine: "sqlite", ledger: db.Ledger(), identity: db.Identity(), audit: db.Audit(), consent: db.Consent(), messenger: db.Messenger(), insights: db.Insights(), dataapi: db.DataAPI(), alerts: db.Alerts(), ping: db.Ping, close: db.Close, versions: db.Versions, settle: db.Settle}, nil
	}
	db, err := postgres.Open(ctx, c.Database)
	if err != nil {
		return nil, err
	}
	return &backend{engine: "postgres", ledger: db.Ledger(), identity: db.Identity(), audit: db.Audit(), consent: db.Consent(), messenger: db.Messenger(), insights: db.Insights(), dataapi: db.DataAPI(), alerts: db.Alerts(), ping: db.Ping, close: db.Close, versions: db.Versions, settle: db.Settle}, nil
}

// ledgerOptions tunes group commit per engine: SQLite has one writer, so one
// batch at a time; PostgreSQL overlaps one batch's commit with the next.
func (b *backend) ledgerOptions() ledger.Options {
	if b.engine == "sqlite" {
		return ledger.Options{Batchers: 1, MaxBatch: 4096}
	}
	return ledger.Options{Batchers: 2, MaxBatch: 512}
}

func (b *backend) String() string { return fmt.Sprintf("%s database", b.engine) }
