package main

import (
	"context"
	"fmt"
	"runtime"

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
	lease     lease // what runs once per fleet runs under it: see singleton.go
	ping      func(context.Context) error
	close     func() error
	versions  func(context.Context) ([]string, error)
	// settle brings the database to rest after a bulk load (benchmarks).
	settle func(context.Context) error
	// limits holds rate budgets for the fleet (the data API's, the Send
	// API's pacing) on PostgreSQL; nil on SQLite, whose one process keeps
	// them in memory, exactly.
	limits *postgres.Limits
}

func openBackend(ctx context.Context, c *Config) (*backend, error) {
	if c.Database == "" {
		db, err := sqlite.Open(ctx, c.SQLitePath())
		if err != nil {
			return nil, err
		}
		return &backend{engine: "sqlite", ledger: db.Ledger(), identity: db.Identity(), audit: db.Audit(), consent: db.Consent(), messenger: db.Messenger(), insights: db.Insights(), dataapi: db.DataAPI(), alerts: db.Alerts(), lease: db.Lease(), ping: db.Ping, close: db.Close, versions: db.Versions, settle: db.Settle}, nil
	}
	db, err := postgres.Open(ctx, c.Database)
	if err != nil {
		return nil, err
	}
	return &backend{engine: "postgres", ledger: db.Ledger(), identity: db.Identity(), audit: db.Audit(), consent: db.Consent(), messenger: db.Messenger(), insights: db.Insights(), dataapi: db.DataAPI(), alerts: db.Alerts(), lease: db.Lease(), limits: db.Limits(nil), ping: db.Ping, close: db.Close, versions: db.Versions, settle: db.Settle}, nil
}

// ledgerOptions tunes group commit per engine: SQLite has one writer, so one
// batch at a time; PostgreSQL overlaps one batch's commit with the next.
func (b *backend) ledgerOptions() ledger.Options {
	if b.engine == "sqlite" {
		return ledger.Options{Batchers: 1, MaxBatch: 4096}
	}
	return ledger.Options{Batchers: 2, MaxBatch: 512}
}

// procsBase is GOMAXPROCS as the runtime set it at start: the CPUs this
// process may use, cgroup limits included.
var procsBase = runtime.GOMAXPROCS(0)

// tuneProcs gives the Go scheduler two Ps per CPU on SQLite, unless the
// operator set GOMAXPROCS. There every commit (a ledger batch, the audit
// record each data API call waits for) is a cgo call that blocks its
// thread in fsync. When it returns, its goroutine needs a P; with one per
// CPU, all busy, it waits in the run queue behind the calls being served,
// and so does every caller waiting for that commit. With spare Ps it runs
// at once, and the kernel, which favours a thread that was blocked, shares
// the CPUs. Measured on 2 vCPUs, interleaved: bench api balances p99
// 6.1 / 6.4 ms against 9.5 / 9.0 ms, bench ledger 29,840 / 27,756
// transfers/s against 27,586 / 26,207. Not on PostgreSQL: there the
// commit waits on a socket, the database server's processes need the same
// CPUs, and balances p99 did not move (19.4 against 19.6 ms).
func (b *backend) tuneProcs(getenv func(string) string) {
	if b.engine == "sqlite" && getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(2 * procsBase)
	}
}

func (b *backend) String() string { return fmt.Sprintf("%s database", b.engine) }
