package sqlstore_test

import (
	"testing"

	"github.com/bankbridge/bankbridge/alerts"
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
	"github.com/bankbridge/bankbridge/store/storetest"
)

// TestConformance runs the suite of each store implemented here, and of
// the fleet lease, on each engine, opened as the application opens it
// (sqlite.Open, postgres.Open).
// The ledger's suites run from the engines' packages, beside the engine
// code they prove.
func TestConformance(t *testing.T) {
	t.Parallel()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			open := func(t testing.TB) stores { return e.open(t, e.fresh(t)) }
			par := func(name string, suite func(t *testing.T)) {
				t.Run(name, func(t *testing.T) { t.Parallel(); suite(t) })
			}
			par("Consent", func(t *testing.T) {
				storetest.Consent(t, func(t testing.TB) (consent.Store, identity.Store) { s := open(t); return s.consent, s.identity })
			})
			par("Identity", func(t *testing.T) {
				storetest.Identity(t, func(t testing.TB) identity.Store { return open(t).identity })
			})
			par("DataAPI", func(t *testing.T) { storetest.DataAPI(t, func(t testing.TB) records.Store { return open(t).dataapi }) })
			par("Messenger", func(t *testing.T) {
				storetest.Messenger(t, func(t testing.TB) assistant.Store { return open(t).messenger })
			})
			par("Chat", func(t *testing.T) {
				storetest.Chat(t, func(t testing.TB) (storetest.ChatStore, storetest.ChatStore) {
					where := e.fresh(t)
					a := e.open(t, where)
					if e.name == "sqlite" {
						return a.chat, a.chat
					}
					return a.chat, e.open(t, where).chat
				})
			})
			par("Directory", func(t *testing.T) {
				storetest.Directory(t, func(t testing.TB) (storetest.CustomerSearcher, identity.Store, ledger.Store) {
					s := open(t)
					return s.identity.(storetest.CustomerSearcher), s.identity, s.ledger
				})
			})
			par("Alerts", func(t *testing.T) { storetest.Alerts(t, func(t testing.TB) alerts.Store { return open(t).alerts }) })
			par("Audit", func(t *testing.T) {
				storetest.Audit(t, func(t testing.TB) (audit.Store, storetest.AuditExec) { s := open(t); return s.audit(), s.execAudit })
			})
			par("AuditInstances", func(t *testing.T) {
				storetest.AuditInstances(t, func(t testing.TB, n int) []audit.Store {
					s := open(t)
					sts := make([]audit.Store, n)
					for i := range sts {
						sts[i] = s.audit()
					}
					return sts
				})
			})
			par("Keys", func(t *testing.T) {
				storetest.Keys(t, func(t testing.TB) (keyring.Store, consent.Store) { s := open(t); return s.keys, s.consent },
					func(t testing.TB) func() keyring.Store {
						where := e.fresh(t)
						return func() keyring.Store { return e.open(t, where).keys }
					})
			})
			par("Guard", func(t *testing.T) { storetest.Guard(t, func(t testing.TB) identity.Guard { return open(t).guard }) })
			par("Deployment", func(t *testing.T) {
				// Empty databases, not testdb's copies of one template,
				// which share the template's deployment id.
				storetest.Deployment(t, func(t testing.TB) func() storetest.DeploymentStore {
					where := e.bare(t)
					return func() storetest.DeploymentStore { return e.open(t, where).db }
				})
			})
			par("Limits", func(t *testing.T) {
				// Two handles on one database: two instances on PostgreSQL,
				// two stores over the one writer on SQLite.
				storetest.Limits(t, func(t testing.TB) (limits.Store, limits.Store) {
					where := e.fresh(t)
					a := e.open(t, where)
					if e.name == "sqlite" {
						return a.limits, a.limits
					}
					return a.limits, e.open(t, where).limits
				})
			})
			par("Lease", func(t *testing.T) {
				// Engine code (advisory locks; a fleet of one on SQLite),
				// proved by one suite like the rest.
				storetest.Lease(t, func(t testing.TB) (audit.Lease, audit.Store) { s := open(t); return s.lease, s.audit() })
			})
			par("Scheduled", func(t *testing.T) {
				storetest.Scheduled(t, func(t testing.TB) func() storetest.ScheduledDB {
					where := e.fresh(t)
					first := e.open(t, where)
					return func() storetest.ScheduledDB {
						s := first
						if e.name != "sqlite" {
							s = e.open(t, where) // another instance: its own pool
						}
						return storetest.ScheduledDB{Scheduled: s.scheduled, Ledger: s.ledger, Rails: s.rails}
					}
				})
			})
			par("Rails", func(t *testing.T) {
				storetest.Rails(t, func(t testing.TB) (rails.Store, ledger.Store) { s := open(t); return s.rails, s.ledger })
			})
			par("Mirror", func(t *testing.T) {
				storetest.Mirror(t, func(t testing.TB) (rails.MirrorStore, rails.Store, ledger.Store) {
					s := open(t)
					return s.mirror, s.rails, s.ledger
				})
			})
			par("Insights", func(t *testing.T) {
				storetest.Insights(t, func(t testing.TB) insights.Store { return open(t).insights })
			})
		})
	}
}

func BenchmarkImportCustomers(b *testing.B) {
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			storetest.BenchmarkImportCustomers(b, e.open(b, e.fresh(b)).identity, 100_000)
		})
	}
}
