package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bankbridge/bankbridge/keyring"
)

// KeyStore implements keyring.Store: sealed signing keys in keyring_keys.
type KeyStore struct{ db *DB }

var _ keyring.Store = (*KeyStore)(nil)

// Keys returns the keyring store over db.
func (db *DB) Keys() *KeyStore { return &KeyStore{db: db} }

// SealedKeys returns the keys of name by version.
func (s *KeyStore) SealedKeys(ctx context.Context, name keyring.Name) ([]keyring.Sealed, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT version, kid, kek_id, sealed, public_key, created_at, activates_at, retired_at
		FROM keyring_keys WHERE name = $1 ORDER BY version`, string(name))
	if err != nil {
		return nil, mapErr("postgres.SealedKeys", err, nil)
	}
	defer rows.Close()
	var out []keyring.Sealed
	for rows.Next() {
		k := keyring.Sealed{Name: name}
		var created, activates, retired int64
		if err := rows.Scan(&k.Version, &k.KID, &k.KEKID, &k.Private, &k.Public, &created, &activates, &retired); err != nil {
			return nil, mapErr("postgres.SealedKeys", err, nil)
		}
		k.Created, k.Activates, k.Retired = fromMicros(created), fromMicros(activates), fromMicros(retired)
		out = append(out, k)
	}
	return out, mapErr("postgres.SealedKeys", rows.Err(), nil)
}

// AddSealedKey inserts k unless its version or kid is taken (either unique
// constraint: DO NOTHING without a target covers both).
func (s *KeyStore) AddSealedKey(ctx context.Context, k keyring.Sealed) (bool, error) {
	tag, err := s.db.pool.Exec(ctx, `INSERT INTO keyring_keys (name, version, kid, kek_id, sealed, public_key, created_at, activates_at, retired_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING`,
		string(k.Name), k.Version, k.KID, k.KEKID, k.Private, k.Public, micros(k.Created), micros(k.Activates), micros(k.Retired))
	if err != nil {
		return false, mapErr("postgres.AddSealedKey", err, nil)
	}
	return tag.RowsAffected() == 1, nil
}

// RetireKey sets retired_at once.
func (s *KeyStore) RetireKey(ctx context.Context, name keyring.Name, kid string, at time.Time) error {
	const op = "postgres.RetireKey"
	tag, err := s.db.pool.Exec(ctx, `UPDATE keyring_keys SET retired_at = CASE WHEN retired_at = 0 THEN $1 ELSE retired_at END
		WHERE name = $2 AND kid = $3`, micros(at), string(name), kid)
	if err != nil {
		return mapErr(op, err, nil)
	}
	if tag.RowsAffected() == 0 {
		return keyring.ErrNotFound.WithOp(op, nil)
	}
	return nil
}

// legacyOAuthKey is the row oauth.Server kept its key under before the
// keyring.
const legacyOAuthKey = "as-es256-1"

// LegacyOAuthKey returns the plaintext JWK of oauth_keys.
func (s *KeyStore) LegacyOAuthKey(ctx context.Context) ([]byte, error) {
	var jwk string
	err := s.db.pool.QueryRow(ctx, `SELECT jwk FROM oauth_keys WHERE name = $1`, legacyOAuthKey).Scan(&jwk)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, keyring.ErrNotFound.WithOp("postgres.LegacyOAuthKey", nil)
	}
	return []byte(jwk), mapErr("postgres.LegacyOAuthKey", err, nil)
}

// DropLegacyOAuthKey deletes it.
func (s *KeyStore) DropLegacyOAuthKey(ctx context.Context) error {
	_, err := s.db.pool.Exec(ctx, `DELETE FROM oauth_keys WHERE name = $1`, legacyOAuthKey)
	return mapErr("postgres.DropLegacyOAuthKey", err, nil)
}
