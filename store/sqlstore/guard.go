package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/bankbridge/bankbridge/identity"
)

// The login guard (identity.Guard) lives on the identity store, so that
// identity.New finds it there. Every instance of a fleet counts the same
// rows: the budget is the fleet's.

var _ identity.Guard = (*IdentityStore)(nil)

// RecordLoginFailure implements identity.Guard.
func (s *IdentityStore) RecordLoginFailure(ctx context.Context, client string, at time.Time) error {
	_, err := s.db.W().Exec(ctx, `INSERT INTO login_failures (client, failed_at) VALUES ($1, $2)`, client, micros(at))
	return s.db.Err("sqlstore.RecordLoginFailure", err, nil)
}

// CountLoginFailures implements identity.Guard.
func (s *IdentityStore) CountLoginFailures(ctx context.Context, client string, since time.Time) (int, int, error) {
	var from, total int
	err := s.db.R().QueryRow(ctx, `SELECT COUNT(*) FILTER (WHERE client = $1), COUNT(*) FROM login_failures WHERE failed_at >= $2`,
		client, micros(since)).Scan(&from, &total)
	return from, total, s.db.Err("sqlstore.CountLoginFailures", err, nil)
}

// LoginFailuresByClient implements identity.Guard.
func (s *IdentityStore) LoginFailuresByClient(ctx context.Context, since time.Time, limit int) ([]identity.ClientFailures, error) {
	const op = "sqlstore.LoginFailuresByClient"
	rows, err := s.db.R().Query(ctx, `SELECT client, COUNT(*), MAX(failed_at) FROM login_failures WHERE failed_at >= $1
		GROUP BY client ORDER BY COUNT(*) DESC, MAX(failed_at) DESC, client LIMIT $2`, micros(since), limit)
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	out, err := Collect(rows, func(r Scanner) (identity.ClientFailures, error) {
		var c identity.ClientFailures
		var last int64
		err := r.Scan(&c.Client, &c.Failures, &last)
		c.Last = fromMicros(last)
		return c, err
	})
	return out, s.db.Err(op, err, nil)
}

// PurgeLoginFailures implements identity.Guard.
func (s *IdentityStore) PurgeLoginFailures(ctx context.Context, before time.Time) (int, error) {
	const op = "sqlstore.PurgeLoginFailures"
	res, err := s.db.W().Exec(ctx, `DELETE FROM login_failures WHERE failed_at < $1`, micros(before))
	if err != nil {
		return 0, s.db.Err(op, err, nil)
	}
	n, err := res.RowsAffected()
	return int(n), s.db.Err(op, err, nil)
}

// RememberDevice implements identity.Guard.
func (s *IdentityStore) RememberDevice(ctx context.Context, p identity.Principal, hash []byte, at time.Time) error {
	_, err := s.db.W().Exec(ctx, `INSERT INTO login_devices (token_hash, realm, principal_id, failures, last_used) VALUES ($1, $2, $3, 0, $4)
		ON CONFLICT (token_hash) DO UPDATE SET realm = excluded.realm, principal_id = excluded.principal_id, failures = 0, last_used = excluded.last_used`,
		hash, string(p.Realm), p.ID, micros(at))
	return s.db.Err("sqlstore.RememberDevice", err, nil)
}

// Device implements identity.Guard.
func (s *IdentityStore) Device(ctx context.Context, hash []byte) (identity.Device, error) {
	var d identity.Device
	var realm string
	var last int64
	err := s.db.R().QueryRow(ctx, `SELECT realm, principal_id, failures, last_used FROM login_devices WHERE token_hash = $1`, hash).
		Scan(&realm, &d.ID, &d.Failures, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return d, identity.ErrNoDevice
	}
	d.Realm, d.LastUsed = identity.Realm(realm), fromMicros(last)
	return d, s.db.Err("sqlstore.Device", err, nil)
}

// DeviceFailed implements identity.Guard.
func (s *IdentityStore) DeviceFailed(ctx context.Context, hash []byte) error {
	_, err := s.db.W().Exec(ctx, `UPDATE login_devices SET failures = failures + 1 WHERE token_hash = $1`, hash)
	return s.db.Err("sqlstore.DeviceFailed", err, nil)
}
