package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/bankbridge/bankbridge/keyring"
)

// KeyStore implements keyring.Store: sealed signing keys in keyring_keys.
type KeyStore struct{ db *DB }

var _ keyring.Store = (*KeyStore)(nil)

// Keys returns the keyring store over db.
func (db *DB) Keys() *KeyStore { return &KeyStore{db: db} }

// SealedKeys returns the keys of name by version.
func (s *KeyStore) SealedKeys(ctx context.Context, name keyring.Name) ([]keyring.Sealed, error) {
	rows, err := s.db.w.QueryContext(ctx, `SELECT version, kid, kek_id, sealed, public_key, created_at, activates_at, retired_at
		FROM keyring_keys WHERE name = ? ORDER BY version`, string(name))
	if err != nil {
		return nil, mapErr("sqlite.SealedKeys", err, nil)
	}
	defer rows.Close()
	var out []keyring.Sealed
	for rows.Next() {
		k := keyring.Sealed{Name: name}
		var created, activates, retired int64
		if err := rows.Scan(&k.Version, &k.KID, &k.KEKID, &k.Private, &k.Public, &created, &activates, &retired); err != nil {
			return nil, mapErr("sqlite.SealedKeys", err, nil)
		}
		k.Created, k.Activates, k.Retired = fromMicros(created), fromMicros(activates), fromMicros(retired)
		out = append(out, k)
	}
	return out, mapErr("sqlite.SealedKeys", rows.Err(), nil)
}

// AddSealedKey inserts k unless its version or kid is taken (either unique
// constraint: DO NOTHING without a target covers both).
func (s *KeyStore) AddSealedKey(ctx context.Context, k keyring.Sealed) (bool, error) {
	res, err := s.db.w.ExecContext(ctx, `INSERT INTO keyring_keys (name, version, kid, kek_id, sealed, public_key, created_at, activates_at, retired_at)
		VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`,
		string(k.Name), k.Version, k.KID, k.KEKID, k.Private, k.Public, micros(k.Created), micros(k.Activates), micros(k.Retired))
	if err != nil {
		return false, mapErr("sqlite.AddSealedKey", err, nil)
	}
	n, err := res.RowsAffected()
	return n == 1, mapErr("sqlite.AddSealedKey", err, nil)
}

// RetireKey sets retired_at once.
func (s *KeyStore) RetireKey(ctx context.Context, name keyring.Name, kid string, at time.Time) error {
	const op = "sqlite.RetireKey"
	res, err := s.db.w.ExecContext(ctx, `UPDATE keyring_keys SET retired_at = CASE WHEN retired_at = 0 THEN ? ELSE retired_at END
		WHERE name = ? AND kid = ?`, micros(at), string(name), kid)
	if err != nil {
		return mapErr(op, err, nil)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(keyring.ErrNotFound.WithOp(op, nil), mapErr(op, err, nil))
	}
	return nil
}

// legacyOAuthKey is the row oauth.Server kept its key under before the
// keyring.
const legacyOAuthKey = "as-es256-1"

// LegacyOAuthKey returns the plaintext JWK of oauth_keys.
func (s *KeyStore) LegacyOAuthKey(ctx context.Context) ([]byte, error) {
	var jwk string
	err := s.db.w.QueryRowContext(ctx, `SELECT jwk FROM oauth_keys WHERE name = ?`, legacyOAuthKey).Scan(&jwk)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, keyring.ErrNotFound.WithOp("sqlite.LegacyOAuthKey", nil)
	}
	return []byte(jwk), mapErr("sqlite.LegacyOAuthKey", err, nil)
}

// DropLegacyOAuthKey deletes it.
func (s *KeyStore) DropLegacyOAuthKey(ctx context.Context) error {
	_, err := s.db.w.ExecContext(ctx, `DELETE FROM oauth_keys WHERE name = ?`, legacyOAuthKey)
	return mapErr("sqlite.DropLegacyOAuthKey", err, nil)
}
