package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/bankbridge/bankbridge/identity"
)

// The login guard (identity.Guard) lives on the identity store, so that
// identity.New finds it there.
var _ identity.Guard = (*IdentityStore)(nil)

// RecordLoginFailure implements identity.Guard.
func (s *IdentityStore) RecordLoginFailure(ctx context.Context, client string, at time.Time) error {
	_, err := s.db.w.ExecContext(ctx, `INSERT INTO login_failures (client, failed_at) VALUES (?, ?)`, client, micros(at))
	return mapErr("sqlite.RecordLoginFailure", err, nil)
}

// CountLoginFailures implements identity.Guard.
func (s *IdentityStore) CountLoginFailures(ctx context.Context, client string, since time.Time) (int, int, error) {
	var from, total int
	err := s.db.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(client = ?), 0), COUNT(*) FROM login_failures WHERE failed_at >= ?`,
		client, micros(since)).Scan(&from, &total)
	return from, total, mapErr("sqlite.CountLoginFailures", err, nil)
}

// LoginFailuresByClient implements identity.Guard.
func (s *IdentityStore) LoginFailuresByClient(ctx context.Context, since time.Time, limit int) ([]identity.ClientFailures, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT client, COUNT(*), MAX(failed_at) FROM login_failures WHERE failed_at >= ?
		GROUP BY client ORDER BY COUNT(*) DESC, MAX(failed_at) DESC, client LIMIT ?`, micros(since), limit)
	if err != nil {
		return nil, mapErr("sqlite.LoginFailuresByClient", err, nil)
	}
	defer rows.Close()
	var out []identity.ClientFailures
	for rows.Next() {
		var c identity.ClientFailures
		var last int64
		if err := rows.Scan(&c.Client, &c.Failures, &last); err != nil {
			return nil, mapErr("sqlite.LoginFailuresByClient", err, nil)
		}
		c.Last = fromMicros(last)
		out = append(out, c)
	}
	return out, mapErr("sqlite.LoginFailuresByClient", rows.Err(), nil)
}

// PurgeLoginFailures implements identity.Guard.
func (s *IdentityStore) PurgeLoginFailures(ctx context.Context, before time.Time) (int, error) {
	res, err := s.db.w.ExecContext(ctx, `DELETE FROM login_failures WHERE failed_at < ?`, micros(before))
	if err != nil {
		return 0, mapErr("sqlite.PurgeLoginFailures", err, nil)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// RememberDevice implements identity.Guard.
func (s *IdentityStore) RememberDevice(ctx context.Context, p identity.Principal, hash []byte, at time.Time) error {
	_, err := s.db.w.ExecContext(ctx, `INSERT INTO login_devices (token_hash, realm, principal_id, failures, last_used) VALUES (?, ?, ?, 0, ?)
		ON CONFLICT (token_hash) DO UPDATE SET realm = excluded.realm, principal_id = excluded.principal_id, failures = 0, last_used = excluded.last_used`,
		hash, string(p.Realm), p.ID, micros(at))
	return mapErr("sqlite.RememberDevice", err, nil)
}

// Device implements identity.Guard.
func (s *IdentityStore) Device(ctx context.Context, hash []byte) (identity.Device, error) {
	var d identity.Device
	var realm string
	var last int64
	err := s.db.r.QueryRowContext(ctx, `SELECT realm, principal_id, failures, last_used FROM login_devices WHERE token_hash = ?`, hash).
		Scan(&realm, &d.ID, &d.Failures, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return d, identity.ErrNoDevice
	}
	d.Realm, d.LastUsed = identity.Realm(realm), fromMicros(last)
	return d, mapErr("sqlite.Device", err, nil)
}

// DeviceFailed implements identity.Guard.
func (s *IdentityStore) DeviceFailed(ctx context.Context, hash []byte) error {
	_, err := s.db.w.ExecContext(ctx, `UPDATE login_devices SET failures = failures + 1 WHERE token_hash = ?`, hash)
	return mapErr("sqlite.DeviceFailed", err, nil)
}
