package sqlstore

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
func (s Stores) Keys() *KeyStore { return &KeyStore{db: s.db} }

// SealedKeys returns the keys of name by version. It reads from the writer:
// a key just added (AddSealedKey) must be seen by the rotation that follows.
func (s *KeyStore) SealedKeys(ctx context.Context, name keyring.Name) ([]keyring.Sealed, error) {
	const op = "sqlstore.SealedKeys"
	rows, err := s.db.W().Query(ctx, `SELECT version, kid, kek_id, sealed, public_key, created_at, activates_at, retired_at
		FROM keyring_keys WHERE name = $1 ORDER BY version`, string(name))
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	out, err := Collect(rows, func(r Scanner) (keyring.Sealed, error) {
		k := keyring.Sealed{Name: name}
		var created, activates, retired int64
		err := r.Scan(&k.Version, &k.KID, &k.KEKID, &k.Private, &k.Public, &created, &activates, &retired)
		k.Created, k.Activates, k.Retired = fromMicros(created), fromMicros(activates), fromMicros(retired)
		return k, err
	})
	return out, s.db.Err(op, err, nil)
}

// AddSealedKey inserts k unless its version or kid is taken (either unique
// constraint: DO NOTHING without a target covers both) and reports whether
// it did.
func (s *KeyStore) AddSealedKey(ctx context.Context, k keyring.Sealed) (bool, error) {
	const op = "sqlstore.AddSealedKey"
	res, err := s.db.W().Exec(ctx, `INSERT INTO keyring_keys (name, version, kid, kek_id, sealed, public_key, created_at, activates_at, retired_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING`,
		string(k.Name), k.Version, k.KID, k.KEKID, k.Private, k.Public, micros(k.Created), micros(k.Activates), micros(k.Retired))
	if err != nil {
		return false, s.db.Err(op, err, nil)
	}
	n, err := res.RowsAffected()
	return n == 1, s.db.Err(op, err, nil)
}

// RetireKey marks the key kid of name retired at at, once: a key retired
// before keeps its first time.
func (s *KeyStore) RetireKey(ctx context.Context, name keyring.Name, kid string, at time.Time) error {
	const op = "sqlstore.RetireKey"
	res, err := s.db.W().Exec(ctx, `UPDATE keyring_keys SET retired_at = CASE WHEN retired_at = 0 THEN $1 ELSE retired_at END
		WHERE name = $2 AND kid = $3`, micros(at), string(name), kid)
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(keyring.ErrNotFound.WithOp(op, nil), s.db.Err(op, err, nil))
	}
	return nil
}

// legacyOAuthKey is the row oauth.Server kept its key under before the
// keyring.
const legacyOAuthKey = "as-es256-1"

// LegacyOAuthKey returns the plaintext JWK of oauth_keys.
func (s *KeyStore) LegacyOAuthKey(ctx context.Context) ([]byte, error) {
	const op = "sqlstore.LegacyOAuthKey"
	var jwk string
	err := s.db.W().QueryRow(ctx, `SELECT jwk FROM oauth_keys WHERE name = $1`, legacyOAuthKey).Scan(&jwk)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, keyring.ErrNotFound.WithOp(op, nil)
	}
	return []byte(jwk), s.db.Err(op, err, nil)
}

// DropLegacyOAuthKey deletes the plaintext key once the keyring holds it.
func (s *KeyStore) DropLegacyOAuthKey(ctx context.Context) error {
	_, err := s.db.W().Exec(ctx, `DELETE FROM oauth_keys WHERE name = $1`, legacyOAuthKey)
	return s.db.Err("sqlstore.DropLegacyOAuthKey", err, nil)
}
