package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/jackc/pgx/v5"
)

// ErrLeaseLost is what RunExclusive returns when the lease's connection
// died (the server restarted, a network partition, pg_terminate_backend)
// while fn ran: the server has released, or is about to release, the lock,
// and another instance may already hold it.
var ErrLeaseLost = bankbridge.E(bankbridge.Unavailable, "lease_lost", "this instance lost a fleet lease; another instance takes the work over")

// Lease runs the work that must run once per fleet (the audit sealer, demo
// seeding, scheduled jobs) under a session-level advisory lock, each holder
// on a connection of its own, outside the pool: the lock lives exactly as
// long as that connection, so when the holder dies (kill -9, a crash) the
// server ends the session and releases the lock, and a waiting instance
// takes it within leasePoll. No clocks and no lease table: PostgreSQL is
// the one arbiter.
type Lease struct {
	cfg *pgx.ConnConfig
}

// Lease returns the database's lease. Each RunExclusive opens one
// connection for as long as it waits or holds, so the connection budget of
// an instance is the pool plus one per singleton.
func (db *DB) Lease() *Lease { return &Lease{cfg: db.pool.Config().ConnConfig} }

const (
	// leasePoll is how often a waiter tries the lock. Trying, rather than
	// blocking in pg_advisory_lock, leaves no waiting backend behind when a
	// waiter gives up: a backend blocked on a lock does not notice that its
	// client went away.
	leasePoll = 500 * time.Millisecond
	// leaseCheck is how often a holder checks its connection; a check that
	// fails or takes longer than leaseCheckWait means the lease is lost.
	leaseCheck     = time.Second
	leaseCheckWait = 2 * time.Second
)

// RunExclusive waits until this instance holds the lease called name in
// this database and schema, runs fn with a context that is cancelled if the
// lease is lost, and releases the lease when fn returns. It returns fn's
// error; ErrLeaseLost if the lease was lost meanwhile (whatever fn
// returned); ctx's error if ctx ended while waiting, without running fn; or
// an error if the database cannot be reached.
func (l *Lease) RunExclusive(ctx context.Context, name string, fn func(context.Context) error) error {
	op := "postgres.Lease " + name
	cfg := l.cfg.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	// The name shows who holds what in pg_stat_activity. No timeout may end
	// the session while it holds the lock; the server's TCP keepalives end
	// it within ~11 s when the holder's machine vanishes without closing
	// its socket (the holder itself stops within leaseCheck+leaseCheckWait).
	for k, v := range map[string]string{"application_name": leaseApp(name), "statement_timeout": "0", "lock_timeout": "0",
		"idle_in_transaction_session_timeout": "0", "tcp_keepalives_idle": "5", "tcp_keepalives_interval": "2", "tcp_keepalives_count": "3"} {
		cfg.RuntimeParams[k] = v
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s: connect: %w", op, err)
	}
	// Closing the session releases the lock; no unlock is needed, and none
	// could be trusted on a connection that may be broken.
	defer conn.Close(context.Background())
	var schema string
	if err := conn.QueryRow(ctx, `SELECT coalesce(current_schema(), '')`).Scan(&schema); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	key := leaseKey(schema, name)
	for {
		var got bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%s: %w", op, err)
		}
		if got {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(leasePoll):
		}
	}

	lctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(leaseCheck)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			// The connection is this goroutine's alone until stop: fn never
			// sees it. A live session still holds its session-level lock.
			cctx, ccancel := context.WithTimeout(context.Background(), leaseCheckWait)
			err := conn.Ping(cctx)
			ccancel()
			if err != nil {
				cancel(ErrLeaseLost.WithOp(op, err))
				return
			}
		}
	}()
	err = fn(lctx)
	close(stop)
	<-stopped
	if cause := context.Cause(lctx); errors.Is(cause, ErrLeaseLost) {
		return cause
	}
	return err
}

// leaseKey is the advisory lock key of name: a hash of the schema and the
// name, so that deployments (and tests) in different schemas of one
// database never contend. Advisory locks are per database already.
func leaseKey(schema, name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(schema))
	h.Write([]byte{0})
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// leaseApp is the application_name of a lease's connection (at most 63
// bytes, PostgreSQL's limit).
func leaseApp(name string) string {
	s := "bankbridge lease " + name
	if len(s) > 63 {
		s = s[:63]
	}
	return s
}
