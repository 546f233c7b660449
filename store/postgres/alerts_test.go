package postgres_test

import (
	"testing"

	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/store/storetest"
)

func TestAlerts(t *testing.T) {
	t.Parallel()
	storetest.Alerts(t, func(t testing.TB) alerts.Store { _, db := openLedger(t); return db.Alerts() })
}
