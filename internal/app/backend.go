package app

import (
	"context"
	"fmt"
	"runtime"

	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/alerts/stream"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/dataapi/records"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/keyring"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/scheduled"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// Backend is the storage the config selects, seen through the capabilities'
// Store interfaces. Opening it applies pending migrations.
type Backend struct {
	Engine    string
	Ledger    ledger.Store
	Identity  identity.Store
	Audit     audit.Store
	Consent   consent.Store
	Messenger assistant.Store
	Insights  insights.Store
	DataAPI   records.Store
	Alerts    alerts.Store
	Lease     Lease // what runs once per fleet runs under it
	Keys      keyring.Store
	Limits    *limits.Guard     // the payment limits, over this database, for every channel
	Rails     rails.Store       // payments over the rails: payees, files, returns
	Mirror    rails.MirrorStore // mirror mode: what was imported from the core
	Scheduled scheduled.Store   // scheduled and recurring payments
	Deploy    stream.Identity   // the id the database generated: the default cluster name
	// RateLimits holds rate budgets for the fleet (the data API's, the Send
	// API's pacing) on PostgreSQL; nil on SQLite, whose one process keeps
	// them in memory, exactly.
	RateLimits *postgres.Budgets
	Ping       func(context.Context) error
	Close      func() error
	Versions   func(context.Context) ([]string, error)
	// Settle brings the database to rest after a bulk load (benchmarks).
	Settle func(context.Context) error
}

// Lease runs what must run once per fleet: on PostgreSQL an advisory lock
// held on a connection of its own (store/postgres/lease.go), on SQLite,
// one process by nature, always granted.
type Lease interface {
	RunExclusive(ctx context.Context, name string, fn func(context.Context) error) error
}

// OpenBackend opens the database c selects (SQLite in c.Data, or
// c.Database) and applies its pending migrations. The caller calls Close.
func OpenBackend(ctx context.Context, c *Config) (*Backend, error) {
	if c.Database == "" {
		db, err := sqlite.Open(ctx, c.SQLitePath())
		if err != nil {
			return nil, err
		}
		return &Backend{Engine: "sqlite", Ledger: db.Ledger(), Identity: db.Identity(), Audit: db.Audit(), Consent: db.Consent(), Messenger: db.Messenger(), Insights: db.Insights(), DataAPI: db.DataAPI(), Alerts: db.Alerts(), Lease: db.Lease(), Keys: db.Keys(), Deploy: db, Ping: db.Ping, Close: db.Close, Versions: db.Versions, Settle: db.Settle,
			Limits: limits.NewGuard(db.Limits(), c.LimitPolicy(), nil), Rails: db.Rails(), Mirror: db.Mirror(), Scheduled: db.Scheduled()}, nil
	}
	db, err := postgres.Open(ctx, c.Database)
	if err != nil {
		return nil, err
	}
	return &Backend{Engine: "postgres", Ledger: db.Ledger(), Identity: db.Identity(), Audit: db.Audit(), Consent: db.Consent(), Messenger: db.Messenger(), Insights: db.Insights(), DataAPI: db.DataAPI(), Alerts: db.Alerts(), Lease: db.Lease(), Keys: db.Keys(), Deploy: db, Ping: db.Ping, Close: db.Close, Versions: db.Versions, Settle: db.Settle,
		Limits: limits.NewGuard(db.Limits(), c.LimitPolicy(), nil), RateLimits: db.Budgets(nil), Rails: db.Rails(), Mirror: db.Mirror(), Scheduled: db.Scheduled()}, nil
}

// LedgerOptions tunes group commit per engine: SQLite has one writer, so one
// batch at a time; PostgreSQL overlaps one batch's commit with the next.
func (b *Backend) LedgerOptions() ledger.Options {
	if b.Engine == "sqlite" {
		return ledger.Options{Batchers: 1, MaxBatch: 4096}
	}
	return ledger.Options{Batchers: 2, MaxBatch: 512}
}

// procsBase is GOMAXPROCS as the runtime set it at start: the CPUs this
// process may use, cgroup limits included.
var procsBase = runtime.GOMAXPROCS(0)

// TuneProcs gives the Go scheduler two Ps per CPU on SQLite, unless the
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
func (b *Backend) TuneProcs(getenv func(string) string) {
	if b.Engine == "sqlite" && getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(2 * procsBase)
	}
}

// String names the engine, for messages to the operator.
func (b *Backend) String() string { return fmt.Sprintf("%s database", b.Engine) }
