package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/identity"
)

// IdentityStore implements identity.Store: customers, staff, credentials and
// sessions. Writes go through the writer, reads through the readers.
type IdentityStore struct{ db *DB }

var _ identity.Store = (*IdentityStore)(nil)

// Identity returns the identity store of db.
func (s Stores) Identity() *IdentityStore { return &IdentityStore{db: s.db} }

const customerCols = `id, name, email, phone, line1, line2, city, region, postal_code, country, birth_year, since`

func scanCustomer(r Scanner) (identity.Customer, error) {
	var c identity.Customer
	var since int64
	a := &c.Address
	err := r.Scan(&c.ID, &c.Name, &c.Email, &c.Phone, &a.Line1, &a.Line2, &a.City, &a.Region, &a.PostalCode, &a.Country, &c.BirthYear, &since)
	c.Since = fromMicros(since)
	return c, err
}

func customerArgs(c identity.Customer, hash string) []any {
	a := c.Address
	return []any{int64(c.ID), c.Name, c.Email, c.Phone, a.Line1, a.Line2, a.City, a.Region, a.PostalCode, a.Country, c.BirthYear, micros(c.Since), hash}
}

// realmTable returns the table holding realm's accounts and the error for an
// unknown one of them.
func realmTable(r identity.Realm) (string, *bankbridge.Error, error) {
	switch r {
	case identity.RealmCustomer:
		return "customers", identity.ErrCustomerNotFound, nil
	case identity.RealmStaff:
		return "staff", identity.ErrStaffNotFound, nil
	}
	return "", nil, identity.ErrRealm
}

// CreateCustomer inserts a customer; ErrEmailTaken if the email is in use.
func (s *IdentityStore) CreateCustomer(ctx context.Context, c identity.Customer, passwordHash string) (identity.Customer, error) {
	const op = "sqlstore.CreateCustomer"
	args := customerArgs(c, passwordHash)[1:] // the engine assigns the id
	err := s.db.W().QueryRow(ctx,
		`INSERT INTO customers (name, email, phone, line1, line2, city, region, postal_code, country, birth_year, since, password_hash)
		 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) RETURNING id`, args...).Scan(&c.ID)
	if err != nil {
		return identity.Customer{}, s.db.Err(op, err, identity.ErrEmailTaken)
	}
	c.Since = fromMicros(micros(c.Since))
	return c, nil
}

// ImportCustomers inserts cs in one transaction with multi-row INSERTs
// (InsertRows), taking their ids first: on PostgreSQL len(cs) values of the
// sequence in one statement; on SQLite the ones after the current maximum,
// which no other insert can take in between because the writer is the only
// connection and the transaction is BEGIN IMMEDIATE.
func (s *IdentityStore) ImportCustomers(ctx context.Context, cs []identity.Customer, passwordHash string) ([]identity.Customer, error) {
	const op = "sqlstore.ImportCustomers"
	out := make([]identity.Customer, len(cs))
	if len(cs) == 0 {
		return out, nil
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	defer tx.Rollback()
	ids, err := s.db.takeIDs(ctx, tx, "customers", len(cs))
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	rows := make([][]any, len(cs))
	for i, c := range cs {
		c.ID, c.Since = bankbridge.CustomerID(ids[i]), fromMicros(micros(c.Since))
		out[i] = c
		rows[i] = customerArgs(c, passwordHash)
	}
	if _, err := s.db.InsertRows(ctx, tx, `INSERT INTO customers (`+customerCols+`, password_hash)`, "", rows); err != nil {
		return nil, s.db.Err(op, err, identity.ErrEmailTaken)
	}
	if err := tx.Commit(); err != nil {
		return nil, s.db.Err(op, err, identity.ErrEmailTaken)
	}
	return out, nil
}

// Customer returns one customer; ErrCustomerNotFound if unknown.
func (s *IdentityStore) Customer(ctx context.Context, id bankbridge.CustomerID) (identity.Customer, error) {
	c, err := scanCustomer(s.db.R().QueryRow(ctx, `SELECT `+customerCols+` FROM customers WHERE id = $1`, int64(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return identity.Customer{}, identity.ErrCustomerNotFound.WithOp("sqlstore.Customer", nil)
	}
	if err != nil {
		return identity.Customer{}, s.db.Err("sqlstore.Customer", err, nil)
	}
	return c, nil
}

// CreateStaff inserts a member of staff; ErrEmailTaken if the email is in use.
func (s *IdentityStore) CreateStaff(ctx context.Context, st identity.Staff, passwordHash string) (identity.Staff, error) {
	const op = "sqlstore.CreateStaff"
	err := s.db.W().QueryRow(ctx,
		`INSERT INTO staff (email, name, role, created_at, password_hash) VALUES ($1,$2,$3,$4,$5) RETURNING id`,
		st.Email, st.Name, string(st.Role), micros(st.Created), passwordHash).Scan(&st.ID)
	if err != nil {
		return identity.Staff{}, s.db.Err(op, err, identity.ErrEmailTaken)
	}
	st.Created = fromMicros(micros(st.Created))
	return st, nil
}

// Staff returns one member of staff; ErrStaffNotFound if unknown.
func (s *IdentityStore) Staff(ctx context.Context, id bankbridge.StaffID) (identity.Staff, error) {
	var st identity.Staff
	var created int64
	err := s.db.R().QueryRow(ctx, `SELECT id, email, name, role, created_at FROM staff WHERE id = $1`, int64(id)).
		Scan(&st.ID, &st.Email, &st.Name, &st.Role, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return identity.Staff{}, identity.ErrStaffNotFound.WithOp("sqlstore.Staff", nil)
	}
	if err != nil {
		return identity.Staff{}, s.db.Err("sqlstore.Staff", err, nil)
	}
	st.Created = fromMicros(created)
	return st, nil
}

const credentialCols = `id, email, password_hash, failures, locked_until, totp_secret, totp_pending, totp_last_step`

func (s *IdentityStore) credential(ctx context.Context, op string, realm identity.Realm, where string, arg any) (identity.Credential, error) {
	table, notFound, err := realmTable(realm)
	if err != nil {
		return identity.Credential{}, err
	}
	c := identity.Credential{Principal: identity.Principal{Realm: realm}}
	var locked int64
	err = s.db.R().QueryRow(ctx, `SELECT `+credentialCols+` FROM `+table+` WHERE `+where+` = $1`, arg).
		Scan(&c.ID, &c.Email, &c.PasswordHash, &c.Failures, &locked, &c.TOTPSecret, &c.TOTPPending, &c.TOTPLastStep)
	if errors.Is(err, sql.ErrNoRows) {
		return identity.Credential{}, notFound.WithOp(op, nil)
	}
	if err != nil {
		return identity.Credential{}, s.db.Err(op, err, nil)
	}
	c.LockedUntil = fromMicros(locked)
	return c, nil
}

// CredentialByEmail returns the credential of realm's account with email.
func (s *IdentityStore) CredentialByEmail(ctx context.Context, realm identity.Realm, email string) (identity.Credential, error) {
	return s.credential(ctx, "sqlstore.CredentialByEmail", realm, "email", email)
}

// Credential returns p's credential.
func (s *IdentityStore) Credential(ctx context.Context, p identity.Principal) (identity.Credential, error) {
	return s.credential(ctx, "sqlstore.Credential", p.Realm, "id", p.ID)
}

// update runs one UPDATE of p's row ("SET ..." given) and reports p's
// NotFound error when no row matched.
func (s *IdentityStore) update(ctx context.Context, op string, p identity.Principal, set string, args ...any) error {
	table, notFound, err := realmTable(p.Realm)
	if err != nil {
		return err
	}
	res, err := s.db.W().Exec(ctx, `UPDATE `+table+` SET `+set+` WHERE id = $`+strconv.Itoa(len(args)+1), append(args, p.ID)...)
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.db.Err(op, err, nil)
	} else if n == 0 {
		return notFound.WithOp(op, nil)
	}
	return nil
}

// RecordFailure adds one failure in a single UPDATE ... RETURNING, so
// concurrent failures are all counted.
func (s *IdentityStore) RecordFailure(ctx context.Context, p identity.Principal) (int, error) {
	const op = "sqlstore.RecordFailure"
	table, notFound, err := realmTable(p.Realm)
	if err != nil {
		return 0, err
	}
	var n int
	err = s.db.W().QueryRow(ctx, `UPDATE `+table+` SET failures = failures + 1 WHERE id = $1 RETURNING failures`, p.ID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound.WithOp(op, nil)
	}
	if err != nil {
		return 0, s.db.Err(op, err, nil)
	}
	return n, nil
}

// LockUntil sets the end of p's lock.
func (s *IdentityStore) LockUntil(ctx context.Context, p identity.Principal, until time.Time) error {
	return s.update(ctx, "sqlstore.LockUntil", p, `locked_until = $1`, micros(until))
}

// ResetFailures clears p's failures and lock.
func (s *IdentityStore) ResetFailures(ctx context.Context, p identity.Principal) error {
	return s.update(ctx, "sqlstore.ResetFailures", p, `failures = 0, locked_until = 0`)
}

// SetTOTPPending stores a secret being enrolled.
func (s *IdentityStore) SetTOTPPending(ctx context.Context, p identity.Principal, secret string) error {
	return s.update(ctx, "sqlstore.SetTOTPPending", p, `totp_pending = $1`, secret)
}

// EnableTOTP makes secret the enrolled one.
func (s *IdentityStore) EnableTOTP(ctx context.Context, p identity.Principal, secret string, step int64) error {
	return s.update(ctx, "sqlstore.EnableTOTP", p, `totp_secret = $1, totp_pending = '', totp_last_step = $2`, secret, step)
}

// UseTOTPStep records step if it is later than the last one, in one
// conditional UPDATE: of two concurrent calls with the same step, one wins.
func (s *IdentityStore) UseTOTPStep(ctx context.Context, p identity.Principal, step int64) (bool, error) {
	const op = "sqlstore.UseTOTPStep"
	table, _, err := realmTable(p.Realm)
	if err != nil {
		return false, err
	}
	res, err := s.db.W().Exec(ctx, `UPDATE `+table+` SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $3`, step, p.ID, step)
	if err != nil {
		return false, s.db.Err(op, err, nil)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.db.Err(op, err, nil)
	}
	if n == 1 {
		return true, nil
	}
	// Nothing updated: a replay, or no such account.
	if _, err := s.Credential(ctx, p); err != nil {
		return false, err
	}
	return false, nil
}

// CreateSession stores a session under its token hash.
func (s *IdentityStore) CreateSession(ctx context.Context, hash []byte, sess identity.Session) error {
	_, err := s.db.W().Exec(ctx,
		`INSERT INTO sessions (token_hash, realm, customer_id, staff_id, csrf, created_at, expires_at, last_seen, stepped_up_at)
		 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
		hash, string(sess.Realm), int64(sess.Customer), int64(sess.Staff), sess.CSRF,
		micros(sess.Created), micros(sess.Expires), micros(sess.LastSeen), micros(sess.SteppedUp))
	return s.db.Err("sqlstore.CreateSession", err, nil)
}

// Session returns a session with its account's role and TOTP enrolment.
func (s *IdentityStore) Session(ctx context.Context, hash []byte) (identity.Session, error) {
	const op = "sqlstore.Session"
	var sess identity.Session
	var created, expires, seen, stepped int64
	err := s.db.R().QueryRow(ctx, `
		SELECT s.realm, s.customer_id, s.staff_id, s.csrf, s.created_at, s.expires_at, s.last_seen, s.stepped_up_at,
		       COALESCE(c.totp_secret <> '', st.totp_secret <> '', false), COALESCE(st.role, '')
		FROM sessions s
		LEFT JOIN customers c ON s.realm = 'customer' AND c.id = s.customer_id
		LEFT JOIN staff st ON s.realm = 'staff' AND st.id = s.staff_id
		WHERE s.token_hash = $1`, hash).
		Scan(&sess.Realm, &sess.Customer, &sess.Staff, &sess.CSRF, &created, &expires, &seen, &stepped, &sess.TOTPEnrolled, &sess.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return identity.Session{}, identity.ErrNoSession.WithOp(op, nil)
	}
	if err != nil {
		return identity.Session{}, s.db.Err(op, err, nil)
	}
	sess.Created, sess.Expires, sess.LastSeen, sess.SteppedUp = fromMicros(created), fromMicros(expires), fromMicros(seen), fromMicros(stepped)
	return sess, nil
}

func (s *IdentityStore) updateSession(ctx context.Context, op string, hash []byte, set string, args ...any) error {
	res, err := s.db.W().Exec(ctx, `UPDATE sessions SET `+set+` WHERE token_hash = $`+strconv.Itoa(len(args)+1), append(args, hash)...)
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.db.Err(op, err, nil)
	} else if n == 0 {
		return identity.ErrNoSession.WithOp(op, nil)
	}
	return nil
}

// TouchSession records activity.
func (s *IdentityStore) TouchSession(ctx context.Context, hash []byte, lastSeen, expires time.Time) error {
	return s.updateSession(ctx, "sqlstore.TouchSession", hash, `last_seen = $1, expires_at = $2`, micros(lastSeen), micros(expires))
}

// StepUpSession records a step-up.
func (s *IdentityStore) StepUpSession(ctx context.Context, hash []byte, at time.Time) error {
	return s.updateSession(ctx, "sqlstore.StepUpSession", hash, `stepped_up_at = $1`, micros(at))
}

// DeleteSession deletes one session, if it exists.
func (s *IdentityStore) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := s.db.W().Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hash)
	return s.db.Err("sqlstore.DeleteSession", err, nil)
}

// DeleteSessions deletes every session of p. The realm is a literal in the
// query so that the partial index of that realm serves it.
func (s *IdentityStore) DeleteSessions(ctx context.Context, p identity.Principal) (int, error) {
	switch p.Realm {
	case identity.RealmCustomer:
		return s.deleteSessions(ctx, "sqlstore.DeleteSessions", `realm = 'customer' AND customer_id = $1`, p.ID)
	case identity.RealmStaff:
		return s.deleteSessions(ctx, "sqlstore.DeleteSessions", `realm = 'staff' AND staff_id = $1`, p.ID)
	}
	return 0, identity.ErrRealm
}

// DeleteExpiredSessions deletes sessions expired at now.
func (s *IdentityStore) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	return s.deleteSessions(ctx, "sqlstore.DeleteExpiredSessions", `expires_at <= $1`, micros(now))
}

func (s *IdentityStore) deleteSessions(ctx context.Context, op, where string, args ...any) (int, error) {
	res, err := s.db.W().Exec(ctx, `DELETE FROM sessions WHERE `+where, args...)
	if err != nil {
		return 0, s.db.Err(op, err, nil)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.db.Err(op, err, nil)
	}
	return int(n), nil
}

// SetPassword replaces p's password hash and lifts any lock.
func (s *IdentityStore) SetPassword(ctx context.Context, p identity.Principal, hash string) error {
	return s.update(ctx, "sqlstore.SetPassword", p, `password_hash = $1, failures = 0, locked_until = 0`, hash)
}

// CreateReset stores a password reset.
func (s *IdentityStore) CreateReset(ctx context.Context, r identity.Reset) error {
	if !r.Realm.Valid() {
		return identity.ErrRealm
	}
	_, err := s.db.W().Exec(ctx, `INSERT INTO password_resets (token_hash, realm, principal_id, email, created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6)`,
		r.Hash, string(r.Realm), r.ID, r.Email, micros(r.Created), micros(r.Expires))
	return s.db.Err("sqlstore.CreateReset", err, nil)
}

// ResetsSince counts p's resets created at or after since.
func (s *IdentityStore) ResetsSince(ctx context.Context, p identity.Principal, since time.Time) (int, error) {
	var n int
	err := s.db.W().QueryRow(ctx, `SELECT count(*) FROM password_resets WHERE realm = $1 AND principal_id = $2 AND created_at >= $3`,
		string(p.Realm), p.ID, micros(since)).Scan(&n)
	return n, s.db.Err("sqlstore.ResetsSince", err, nil)
}

// UseReset marks a reset used in one conditional UPDATE ... RETURNING: of
// two concurrent uses of one link, only one finds it unused.
func (s *IdentityStore) UseReset(ctx context.Context, hash []byte, now time.Time) (identity.Reset, error) {
	const op = "sqlstore.UseReset"
	r := identity.Reset{Hash: hash}
	var realm string
	var created, expires int64
	err := s.db.W().QueryRow(ctx, `UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at = 0 AND expires_at > $3
RETURNING realm, principal_id, email, created_at, expires_at`, micros(now), hash, micros(now)).Scan(&realm, &r.ID, &r.Email, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return r, identity.ErrResetLink.WithOp(op, nil)
	}
	if err != nil {
		return r, s.db.Err(op, err, nil)
	}
	r.Realm, r.Created, r.Expires, r.Used = identity.Realm(realm), fromMicros(created), fromMicros(expires), fromMicros(micros(now))
	return r, nil
}

// ErrSearchShort refuses a customer search of fewer than two characters:
// it would list everyone.
var ErrSearchShort = bankbridge.E(bankbridge.Invalid, "search_too_short", "enter at least 2 characters")

// SearchCustomers finds up to limit customers whose name or e-mail contains
// text, or, when text has 3 digits or more, whose phone or one of whose
// account numbers contains those digits; case-insensitive (ASCII on
// SQLite), ordered by name. It is the staff console's lookup (web's
// Directory), and reads the ledger's accounts table, which lives in the
// same database, for the account numbers.
//
// Known limit: a substring match cannot use an index; it scans customers
// (0.47 s for 200,000 on SQLite, docs/decisions.md). A trigram index
// (pg_trgm) is the way on when a bank needs it faster.
func (s *IdentityStore) SearchCustomers(ctx context.Context, text string, limit int) ([]identity.Customer, error) {
	const op = "sqlstore.SearchCustomers"
	text = Fold(strings.TrimSpace(text))
	if utf8.RuneCountInString(text) < 2 {
		return nil, ErrSearchShort.WithOp(op, nil)
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	like := func(s string) string {
		r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
		return "%" + r.Replace(s) + "%"
	}
	args := []any{like(text)}
	// Case folded on both sides, the same on both engines (Dialect.fold).
	where := s.db.d.fold + `(c.name) LIKE $1 ESCAPE '\' OR ` + s.db.d.fold + `(c.email) LIKE $1 ESCAPE '\'`
	digits := strings.Map(func(r rune) rune {
		if '0' <= r && r <= '9' {
			return r
		}
		return -1
	}, text)
	if len(digits) >= 3 {
		args = append(args, like(digits))
		where += ` OR replace(replace(replace(replace(replace(replace(c.phone, '+', ''), '-', ''), ' ', ''), '(', ''), ')', ''), '.', '') LIKE $2 ESCAPE '\'` +
			` OR EXISTS (SELECT 1 FROM accounts a WHERE a.customer_id = c.id AND a.number LIKE $2 ESCAPE '\')`
	}
	args = append(args, limit)
	rows, err := s.db.R().Query(ctx, `SELECT `+prefixed("c.", customerCols)+` FROM customers c WHERE `+where+
		` ORDER BY c.name, c.id LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	cs, err := Collect(rows, scanCustomer)
	return cs, s.db.Err(op, err, nil)
}

// prefixed qualifies each column of a comma-separated list.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}
