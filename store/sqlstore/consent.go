package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/ledger"
)

// ConsentStore implements consent.Store on either engine: partners and
// their history, consents, and the authorization server's working records.
// Writes go through the writer, reads through the readers; the atomic steps
// (using a code, taking a request, ending a consent, recording a JWT id)
// are single conditional statements, safe across PostgreSQL instances and
// serialised by SQLite's one writer.
type ConsentStore struct{ db *DB }

var _ consent.Store = (*ConsentStore)(nil)

// Consent returns the consent store of db.
func (s Stores) Consent() *ConsentStore { return &ConsentStore{db: s.db} }

// resourceJSON is how a consent's resources are kept in one column.
type resourceJSON struct {
	Account  int64             `json:"account"`
	Clusters []consent.Cluster `json:"clusters"`
}

func encodeResources(rs []consent.Resource) string {
	out := make([]resourceJSON, len(rs))
	for i, r := range rs {
		out[i] = resourceJSON{int64(r.Account), r.Clusters}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

func decodeResources(s string) ([]consent.Resource, error) {
	var in []resourceJSON
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, err
	}
	out := make([]consent.Resource, len(in))
	for i, r := range in {
		out[i] = consent.Resource{Account: ledger.AccountID(r.Account), Clusters: r.Clusters}
	}
	return out, nil
}

func jsonText(v any) string { b, _ := json.Marshal(v); return string(b) }

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

const partnerCols = `id, legal_name, lei, homepage, security_contact, redirect_uris, jwks, jwks_uri, jwks_uri_allowed,
	purposes, attested, attest_signatory, attested_at, rate_limit, status, created_at, updated_at`

func scanPartner(r Scanner) (consent.Partner, error) {
	var p consent.Partner
	var uris, jwks, purposes string
	var allowed, attested, attestedAt, created, updated int64
	err := r.Scan(&p.ID, &p.LegalName, &p.LEI, &p.Homepage, &p.SecurityContact, &uris, &jwks, &p.JWKSURI, &allowed,
		&purposes, &attested, &p.Attestation.Signatory, &attestedAt, &p.RateLimit, &p.Status, &created, &updated)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal([]byte(uris), &p.RedirectURIs); err != nil {
		return p, err
	}
	if err := json.Unmarshal([]byte(purposes), &p.Purposes); err != nil {
		return p, err
	}
	if jwks != "" {
		p.JWKS = json.RawMessage(jwks)
	}
	p.JWKSURIAllowed, p.Attestation.NoSecondaryUse = allowed == 1, attested == 1
	p.Attestation.At, p.Created, p.Updated = fromMicros(attestedAt), fromMicros(created), fromMicros(updated)
	return p, nil
}

// CreatePartner inserts the partner and its first event.
func (s *ConsentStore) CreatePartner(ctx context.Context, p consent.Partner, ev consent.PartnerEvent) error {
	const op = "sqlstore.CreatePartner"
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	defer tx.Rollback()
	_, err = tx.Exec(ctx, `INSERT INTO partners (`+partnerCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)`,
		string(p.ID), p.LegalName, p.LEI, p.Homepage, p.SecurityContact, jsonText(p.RedirectURIs), string(p.JWKS), p.JWKSURI,
		boolInt(p.JWKSURIAllowed), jsonText(p.Purposes), boolInt(p.Attestation.NoSecondaryUse), p.Attestation.Signatory,
		micros(p.Attestation.At), p.RateLimit, string(p.Status), micros(p.Created), micros(p.Updated))
	if err != nil {
		return s.db.Err(op, err, consent.ErrPartnerTaken)
	}
	if err := insertPartnerEvent(ctx, tx, ev); err != nil {
		return s.db.Err(op, err, nil)
	}
	return s.db.Err(op, tx.Commit(), nil)
}

func insertPartnerEvent(ctx context.Context, tx Querier, ev consent.PartnerEvent) error {
	_, err := tx.Exec(ctx, `INSERT INTO partner_events (partner_id, action, reason, by_whom, at) VALUES ($1,$2,$3,$4,$5)`,
		string(ev.Partner), string(ev.Action), ev.Reason, ev.By, micros(ev.At))
	return err
}

// Partner returns one partner.
func (s *ConsentStore) Partner(ctx context.Context, id consent.PartnerID) (consent.Partner, error) {
	p, err := scanPartner(s.db.R().QueryRow(ctx, `SELECT `+partnerCols+` FROM partners WHERE id = $1`, string(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return consent.Partner{}, consent.ErrPartnerNotFound
	}
	return p, s.db.Err("sqlstore.Partner", err, nil)
}

// Partners lists every partner by id.
func (s *ConsentStore) Partners(ctx context.Context) ([]consent.Partner, error) {
	const op = "sqlstore.Partners"
	rows, err := s.db.R().Query(ctx, `SELECT `+partnerCols+` FROM partners ORDER BY id`)
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	defer rows.Close()
	var ps []consent.Partner
	for rows.Next() {
		p, err := scanPartner(rows)
		if err != nil {
			return nil, s.db.Err(op, err, nil)
		}
		ps = append(ps, p)
	}
	return ps, s.db.Err(op, rows.Err(), nil)
}

// SetPartnerStatus changes the status and appends the event, atomically.
func (s *ConsentStore) SetPartnerStatus(ctx context.Context, id consent.PartnerID, status consent.PartnerStatus, ev consent.PartnerEvent) error {
	const op = "sqlstore.SetPartnerStatus"
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	defer tx.Rollback()
	res, err := tx.Exec(ctx, `UPDATE partners SET status = $1, updated_at = $2 WHERE id = $3`, string(status), micros(ev.At), string(id))
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return consent.ErrPartnerNotFound
	}
	if err := insertPartnerEvent(ctx, tx, ev); err != nil {
		return s.db.Err(op, err, nil)
	}
	return s.db.Err(op, tx.Commit(), nil)
}

// ReplacePartnerRedirects replaces the redirect URIs while they are
// still `from`, compared as the stored JSON text (written by jsonText, so
// the same list gives the same text), and appends ev, atomically.
func (s *ConsentStore) ReplacePartnerRedirects(ctx context.Context, id consent.PartnerID, from, to []string, ev consent.PartnerEvent) (bool, error) {
	const op = "sqlstore.ReplacePartnerRedirects"
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return false, s.db.Err(op, err, nil)
	}
	defer tx.Rollback()
	res, err := tx.Exec(ctx, `UPDATE partners SET redirect_uris = $1, updated_at = $2 WHERE id = $3 AND redirect_uris = $4`,
		jsonText(to), micros(ev.At), string(id), jsonText(from))
	if err != nil {
		return false, s.db.Err(op, err, nil)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM partners WHERE id = $1`, string(id)).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return false, consent.ErrPartnerNotFound
		} else if err != nil {
			return false, s.db.Err(op, err, nil)
		}
		return false, nil
	}
	if err := insertPartnerEvent(ctx, tx, ev); err != nil {
		return false, s.db.Err(op, err, nil)
	}
	return true, s.db.Err(op, tx.Commit(), nil)
}

// PartnerEvents returns the partner's history, oldest first.
func (s *ConsentStore) PartnerEvents(ctx context.Context, id consent.PartnerID) ([]consent.PartnerEvent, error) {
	const op = "sqlstore.PartnerEvents"
	rows, err := s.db.R().Query(ctx, `SELECT partner_id, action, reason, by_whom, at FROM partner_events WHERE partner_id = $1 ORDER BY id`, string(id))
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	defer rows.Close()
	var evs []consent.PartnerEvent
	for rows.Next() {
		var ev consent.PartnerEvent
		var at int64
		if err := rows.Scan(&ev.Partner, &ev.Action, &ev.Reason, &ev.By, &at); err != nil {
			return nil, s.db.Err(op, err, nil)
		}
		ev.At = fromMicros(at)
		evs = append(evs, ev)
	}
	return evs, s.db.Err(op, rows.Err(), nil)
}

const grantCols = `id, customer_id, partner_id, resources, purposes, duration_type, duration_days, lookback_days,
	created_at, updated_at, expires_at, status, revoked_by, revoke_reason, last_used`

func scanGrant(r Scanner) (consent.Grant, error) {
	var g consent.Grant
	var res, purposes string
	var created, updated, expires, lastUsed int64
	err := r.Scan(&g.ID, &g.Customer, &g.Partner, &res, &purposes, &g.DurationType, &g.DurationDays, &g.LookbackDays,
		&created, &updated, &expires, &g.Status, &g.RevokedBy, &g.RevokeReason, &lastUsed)
	if err != nil {
		return g, err
	}
	if g.Resources, err = decodeResources(res); err != nil {
		return g, err
	}
	if err := json.Unmarshal([]byte(purposes), &g.Purposes); err != nil {
		return g, err
	}
	g.Created, g.Updated, g.Expires, g.LastUsed = fromMicros(created), fromMicros(updated), fromMicros(expires), fromMicros(lastUsed)
	return g, nil
}

// CreateGrant inserts a consent.
func (s *ConsentStore) CreateGrant(ctx context.Context, g consent.Grant) error {
	_, err := s.db.W().Exec(ctx, `INSERT INTO consents (`+grantCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)`,
		string(g.ID), int64(g.Customer), string(g.Partner), encodeResources(g.Resources), jsonText(g.Purposes),
		string(g.DurationType), g.DurationDays, g.LookbackDays, micros(g.Created), micros(g.Updated), micros(g.Expires),
		string(g.Status), g.RevokedBy, g.RevokeReason, micros(g.LastUsed))
	return s.db.Err("sqlstore.CreateGrant", err, nil)
}

// Grant returns one consent.
func (s *ConsentStore) Grant(ctx context.Context, id consent.GrantID) (consent.Grant, error) {
	g, err := scanGrant(s.db.R().QueryRow(ctx, `SELECT `+grantCols+` FROM consents WHERE id = $1`, string(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return consent.Grant{}, consent.ErrGrantNotFound
	}
	return g, s.db.Err("sqlstore.Grant", err, nil)
}

func (s *ConsentStore) grants(ctx context.Context, op, where string, args ...any) ([]consent.Grant, error) {
	rows, err := s.db.R().Query(ctx, `SELECT `+grantCols+` FROM consents WHERE `+where, args...)
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	defer rows.Close()
	var gs []consent.Grant
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, s.db.Err(op, err, nil)
		}
		gs = append(gs, g)
	}
	return gs, s.db.Err(op, rows.Err(), nil)
}

// CustomerGrants lists a customer's consents, newest first.
func (s *ConsentStore) CustomerGrants(ctx context.Context, c bankbridge.CustomerID) ([]consent.Grant, error) {
	return s.grants(ctx, "sqlstore.CustomerGrants", `customer_id = $1 ORDER BY created_at DESC, id`, int64(c))
}

// PartnerGrants lists a partner's consents, newest first.
func (s *ConsentStore) PartnerGrants(ctx context.Context, p consent.PartnerID) ([]consent.Grant, error) {
	return s.grants(ctx, "sqlstore.PartnerGrants", `partner_id = $1 ORDER BY created_at DESC, id`, string(p))
}

// DueGrants lists ACTIVE consents past their expiry.
func (s *ConsentStore) DueGrants(ctx context.Context, now time.Time, limit int) ([]consent.Grant, error) {
	return s.grants(ctx, "sqlstore.DueGrants", `status = 'ACTIVE' AND expires_at <= $1 ORDER BY expires_at LIMIT $2`, micros(now), limit)
}

// ChangedSince lists consents and partners updated at or after since: two
// range scans over the updated_at indexes (migration 0018).
func (s *ConsentStore) ChangedSince(ctx context.Context, since time.Time, limit int) ([]consent.Change, error) {
	const op = "sqlstore.ChangedSince"
	var out []consent.Change
	for _, q := range []struct {
		sql   string
		grant bool
	}{
		{`SELECT id, updated_at FROM consents WHERE updated_at >= $1 ORDER BY updated_at LIMIT $2`, true},
		{`SELECT id, updated_at FROM partners WHERE updated_at >= $1 ORDER BY updated_at LIMIT $2`, false},
	} {
		rows, err := s.db.R().Query(ctx, q.sql, micros(since), limit)
		if err != nil {
			return nil, s.db.Err(op, err, nil)
		}
		for rows.Next() {
			var id string
			var at int64
			if err := rows.Scan(&id, &at); err != nil {
				rows.Close()
				return nil, s.db.Err(op, err, nil)
			}
			c := consent.Change{Updated: fromMicros(at)}
			if q.grant {
				c.Grant = consent.GrantID(id)
			} else {
				c.Partner = consent.PartnerID(id)
			}
			out = append(out, c)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, s.db.Err(op, err, nil)
		}
	}
	return out, nil
}

// grantExists distinguishes "not ACTIVE" from "absent" after a conditional
// update changed nothing.
func (s *ConsentStore) grantExists(ctx context.Context, id consent.GrantID) error {
	var one int
	err := s.db.W().QueryRow(ctx, `SELECT 1 FROM consents WHERE id = $1`, string(id)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return consent.ErrGrantNotFound
	}
	return err
}

// EndGrant moves an ACTIVE consent to status, once.
func (s *ConsentStore) EndGrant(ctx context.Context, id consent.GrantID, status consent.Status, by, reason string, at time.Time) (bool, error) {
	const op = "sqlstore.EndGrant"
	res, err := s.db.W().Exec(ctx, `UPDATE consents SET status = $1, revoked_by = $2, revoke_reason = $3, updated_at = $4
		WHERE id = $5 AND status = 'ACTIVE'`, string(status), by, reason, micros(at), string(id))
	if err != nil {
		return false, s.db.Err(op, err, nil)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	return false, s.db.Err(op, s.grantExists(ctx, id), nil)
}

// ExtendGrant sets a new expiry on an ACTIVE consent.
func (s *ConsentStore) ExtendGrant(ctx context.Context, id consent.GrantID, expires time.Time, days int, at time.Time) (bool, error) {
	const op = "sqlstore.ExtendGrant"
	res, err := s.db.W().Exec(ctx, `UPDATE consents SET expires_at = $1, duration_days = $2, updated_at = $3 WHERE id = $4 AND status = 'ACTIVE'`,
		micros(expires), days, micros(at), string(id))
	if err != nil {
		return false, s.db.Err(op, err, nil)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	return false, s.db.Err(op, s.grantExists(ctx, id), nil)
}

// TouchGrant records the last use.
func (s *ConsentStore) TouchGrant(ctx context.Context, id consent.GrantID, at time.Time) error {
	_, err := s.db.W().Exec(ctx, `UPDATE consents SET last_used = $1 WHERE id = $2 AND last_used < $3`, micros(at), string(id), micros(at))
	return s.db.Err("sqlstore.TouchGrant", err, nil)
}

const requestCols = `id, partner_id, redirect_uri, state, code_challenge, dpop_jkt, clusters, duration_days, lookback_days, created_at, expires_at`

func scanRequest(r Scanner) (consent.Request, error) {
	var q consent.Request
	var clusters string
	var created, expires int64
	err := r.Scan(&q.ID, &q.Partner, &q.RedirectURI, &q.State, &q.CodeChallenge, &q.DPoPJKT, &clusters, &q.DurationDays,
		&q.LookbackDays, &created, &expires)
	if err != nil {
		return q, err
	}
	if err := json.Unmarshal([]byte(clusters), &q.Clusters); err != nil {
		return q, err
	}
	q.Created, q.Expires = fromMicros(created), fromMicros(expires)
	return q, nil
}

// purgeAfter is how long expired requests and codes are kept before a later
// write deletes them: long enough to answer "already used" for a replayed
// code instead of "unknown".
const purgeAfter = time.Hour

// SaveRequest stores a pushed authorization request and deletes requests
// that expired over an hour ago.
func (s *ConsentStore) SaveRequest(ctx context.Context, q consent.Request) error {
	const op = "sqlstore.SaveRequest"
	if _, err := s.db.W().Exec(ctx, `DELETE FROM oauth_requests WHERE expires_at < $1`, micros(q.Created.Add(-purgeAfter))); err != nil {
		return s.db.Err(op, err, nil)
	}
	_, err := s.db.W().Exec(ctx, `INSERT INTO oauth_requests (`+requestCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
		q.ID, string(q.Partner), q.RedirectURI, q.State, q.CodeChallenge, q.DPoPJKT, jsonText(q.Clusters), q.DurationDays,
		q.LookbackDays, micros(q.Created), micros(q.Expires))
	return s.db.Err(op, err, nil)
}

// Request returns a stored request.
func (s *ConsentStore) Request(ctx context.Context, id string) (consent.Request, error) {
	q, err := scanRequest(s.db.R().QueryRow(ctx, `SELECT `+requestCols+` FROM oauth_requests WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return consent.Request{}, consent.ErrRequestNotFound
	}
	return q, s.db.Err("sqlstore.Request", err, nil)
}

// TakeRequest deletes and returns a request in one statement.
func (s *ConsentStore) TakeRequest(ctx context.Context, id string) (consent.Request, error) {
	q, err := scanRequest(s.db.W().QueryRow(ctx, `DELETE FROM oauth_requests WHERE id = $1 RETURNING `+requestCols, id))
	if errors.Is(err, sql.ErrNoRows) {
		return consent.Request{}, consent.ErrRequestNotFound
	}
	return q, s.db.Err("sqlstore.TakeRequest", err, nil)
}

const codeCols = `hash, consent_id, partner_id, redirect_uri, code_challenge, dpop_jkt, expires_at, used_at`

func scanCode(r Scanner) (consent.Code, error) {
	var c consent.Code
	var expires, used int64
	err := r.Scan(&c.Hash, &c.Grant, &c.Partner, &c.RedirectURI, &c.CodeChallenge, &c.DPoPJKT, &expires, &used)
	c.Expires, c.Used = fromMicros(expires), fromMicros(used)
	return c, err
}

// SaveCode stores an authorization code and purges long-expired ones.
func (s *ConsentStore) SaveCode(ctx context.Context, c consent.Code) error {
	const op = "sqlstore.SaveCode"
	if _, err := s.db.W().Exec(ctx, `DELETE FROM oauth_codes WHERE expires_at < $1`, micros(c.Expires.Add(-purgeAfter))); err != nil {
		return s.db.Err(op, err, nil)
	}
	_, err := s.db.W().Exec(ctx, `INSERT INTO oauth_codes (`+codeCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,0)`,
		c.Hash, string(c.Grant), string(c.Partner), c.RedirectURI, c.CodeChallenge, c.DPoPJKT, micros(c.Expires))
	return s.db.Err(op, err, nil)
}

// UseCode redeems partner's code exactly once; another partner's is not
// found and stays unused.
func (s *ConsentStore) UseCode(ctx context.Context, hash []byte, partner consent.PartnerID, at time.Time) (consent.Code, error) {
	const op = "sqlstore.UseCode"
	c, err := scanCode(s.db.W().QueryRow(ctx, `UPDATE oauth_codes SET used_at = $1 WHERE hash = $2 AND partner_id = $3 AND used_at = 0 RETURNING `+codeCols,
		micros(at), hash, string(partner)))
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return consent.Code{}, s.db.Err(op, err, nil)
	}
	c, err = scanCode(s.db.W().QueryRow(ctx, `SELECT `+codeCols+` FROM oauth_codes WHERE hash = $1 AND partner_id = $2`, hash, string(partner)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return consent.Code{}, consent.ErrCodeNotFound
	case err != nil:
		return consent.Code{}, s.db.Err(op, err, nil)
	}
	return c, consent.ErrCodeReused
}

// SaveRefreshToken stores a refresh token's record.
func (s *ConsentStore) SaveRefreshToken(ctx context.Context, t consent.RefreshToken) error {
	_, err := s.db.W().Exec(ctx, `INSERT INTO oauth_refresh_tokens (hash, consent_id, partner_id, jkt, created_at) VALUES ($1,$2,$3,$4,$5)`,
		t.Hash, string(t.Grant), string(t.Partner), t.JKT, micros(t.Created))
	return s.db.Err("sqlstore.SaveRefreshToken", err, nil)
}

// RefreshToken returns a refresh token's record.
func (s *ConsentStore) RefreshToken(ctx context.Context, hash []byte) (consent.RefreshToken, error) {
	var t consent.RefreshToken
	var created int64
	err := s.db.R().QueryRow(ctx, `SELECT hash, consent_id, partner_id, jkt, created_at FROM oauth_refresh_tokens WHERE hash = $1`, hash).
		Scan(&t.Hash, &t.Grant, &t.Partner, &t.JKT, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return consent.RefreshToken{}, consent.ErrTokenNotFound
	}
	t.Created = fromMicros(created)
	return t, s.db.Err("sqlstore.RefreshToken", err, nil)
}

// UseJTI records a JWT id; false means it was seen and has not expired.
// One call in 256 also purges expired ids.
func (s *ConsentStore) UseJTI(ctx context.Context, key string, expires, now time.Time) (bool, error) {
	const op = "sqlstore.UseJTI"
	if len(key) > 512 {
		return false, fmt.Errorf("%s: key too long", op)
	}
	res, err := s.db.W().Exec(ctx, `INSERT INTO oauth_jtis (key, expires_at) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE oauth_jtis.expires_at <= $3`,
		key, micros(expires), micros(now))
	if err != nil {
		return false, s.db.Err(op, err, nil)
	}
	n, _ := res.RowsAffected()
	if now.UnixNano()&0xff == 0 {
		s.db.W().Exec(ctx, `DELETE FROM oauth_jtis WHERE expires_at <= $1`, micros(now))
	}
	return n == 1, nil
}

// SigningKey returns the key stored under name, storing key if none is.
func (s *ConsentStore) SigningKey(ctx context.Context, name string, key []byte, at time.Time) ([]byte, error) {
	const op = "sqlstore.SigningKey"
	if _, err := s.db.W().Exec(ctx, `INSERT INTO oauth_keys (name, jwk, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
		name, string(key), micros(at)); err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	var jwk string
	if err := s.db.W().QueryRow(ctx, `SELECT jwk FROM oauth_keys WHERE name = $1`, name).Scan(&jwk); err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	return []byte(jwk), nil
}
