package postgres

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// IdentityStore implements identity.Store on PostgreSQL: customers, staff,
// credentials and sessions.
type IdentityStore struct{ db *DB }

var _ identity.Store = (*IdentityStore)(nil)

// Identity returns the identity store of db.
func (db *DB) Identity() *IdentityStore { return &IdentityStore{db: db} }

const customerCols = `id, name, email, phone, line1, line2, city, region, postal_code, country, birth_year, since`

// identityErr maps a unique violation of an email constraint, recognised by
// SQLSTATE 23505 and the constraint's name, to identity.ErrEmailTaken; every
// other error goes through mapErr.
func identityErr(op string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" &&
		(pe.ConstraintName == "customers_email_key" || pe.ConstraintName == "staff_email_key") {
		return identity.ErrEmailTaken.WithOp(op, err)
	}
	return mapErr(op, err, nil)
}

func scanCustomer(r pgx.Row) (identity.Customer, error) {
	var c identity.Customer
	var id, birth, since int64
	a := &c.Address
	err := r.Scan(&id, &c.Name, &c.Email, &c.Phone, &a.Line1, &a.Line2, &a.City, &a.Region, &a.PostalCode, &a.Country, &birth, &since)
	c.ID, c.BirthYear, c.Since = bankbridge.CustomerID(id), int(birth), fromMicros(since)
	return c, err
}

func customerArgs(c identity.Customer, hash string) []any {
	a := c.Address
	return []any{int64(c.ID), c.Name, c.Email, c.Phone, a.Line1, a.Line2, a.City, a.Region, a.PostalCode, a.Country, int64(c.BirthYear), micros(c.Since), hash}
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
	const op = "postgres.CreateCustomer"
	args := customerArgs(c, passwordHash)[1:] // the id comes from the sequence
	var id int64
	err := s.db.pool.QueryRow(ctx,
		`INSERT INTO customers (name, email, phone, line1, line2, city, region, postal_code, country, birth_year, since, password_hash)
		 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) RETURNING id`, args...).Scan(&id)
	if err != nil {
		return identity.Customer{}, identityErr(op, err)
	}
	c.ID, c.Since = bankbridge.CustomerID(id), fromMicros(micros(c.Since))
	return c, nil
}

// ImportCustomers takes len(cs) ids from the sequence in one statement, then
// streams the rows with COPY, all in one transaction. COPY is PostgreSQL's
// bulk path: one round trip per buffer, no per-row statement.
func (s *IdentityStore) ImportCustomers(ctx context.Context, cs []identity.Customer, passwordHash string) ([]identity.Customer, error) {
	const op = "postgres.ImportCustomers"
	out := make([]identity.Customer, len(cs))
	if len(cs) == 0 {
		return out, nil
	}
	tx, err := s.db.pool.Begin(ctx)
	if err != nil {
		return nil, mapErr(op, err, nil)
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, `SELECT nextval('customers_id_seq') FROM generate_series(1, $1)`, len(cs))
	if err != nil {
		return nil, mapErr(op, err, nil)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, mapErr(op, err, nil)
	}
	// Sequence values are increasing but, with concurrent inserts, need not
	// be contiguous; sorting keeps "ids in the order of cs" whatever the
	// order the rows came back in.
	slices.Sort(ids)
	for i, c := range cs {
		c.ID, c.Since = bankbridge.CustomerID(ids[i]), fromMicros(micros(c.Since))
		out[i] = c
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"customers"},
		[]string{"id", "name", "email", "phone", "line1", "line2", "city", "region", "postal_code", "country", "birth_year", "since", "password_hash"},
		pgx.CopyFromSlice(len(out), func(i int) ([]any, error) { return customerArgs(out[i], passwordHash), nil }))
	if err != nil {
		return nil, identityErr(op, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, identityErr(op, err)
	}
	return out, nil
}

// Customer returns one customer; ErrCustomerNotFound if unknown.
func (s *IdentityStore) Customer(ctx context.Context, id bankbridge.CustomerID) (identity.Customer, error) {
	c, err := scanCustomer(s.db.pool.QueryRow(ctx, `SELECT `+customerCols+` FROM customers WHERE id = $1`, int64(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		return identity.Customer{}, identity.ErrCustomerNotFound.WithOp("postgres.Customer", nil)
	}
	if err != nil {
		return identity.Customer{}, mapErr("postgres.Customer", err, nil)
	}
	return c, nil
}

// CreateStaff inserts a member of staff; ErrEmailTaken if the email is in use.
func (s *IdentityStore) CreateStaff(ctx context.Context, st identity.Staff, passwordHash string) (identity.Staff, error) {
	var id int64
	err := s.db.pool.QueryRow(ctx,
		`INSERT INTO staff (email, name, role, created_at, password_hash) VALUES ($1,$2,$3,$4,$5) RETURNING id`,
		st.Email, st.Name, string(st.Role), micros(st.Created), passwordHash).Scan(&id)
	if err != nil {
		return identity.Staff{}, identityErr("postgres.CreateStaff", err)
	}
	st.ID, st.Created = bankbridge.StaffID(id), fromMicros(micros(st.Created))
	return st, nil
}

// Staff returns one member of staff; ErrStaffNotFound if unknown.
func (s *IdentityStore) Staff(ctx context.Context, id bankbridge.StaffID) (identity.Staff, error) {
	var st identity.Staff
	var sid, created int64
	var role string
	err := s.db.pool.QueryRow(ctx, `SELECT id, email, name, role, created_at FROM staff WHERE id = $1`, int64(id)).
		Scan(&sid, &st.Email, &st.Name, &role, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return identity.Staff{}, identity.ErrStaffNotFound.WithOp("postgres.Staff", nil)
	}
	if err != nil {
		return identity.Staff{}, mapErr("postgres.Staff", err, nil)
	}
	st.ID, st.Role, st.Created = bankbridge.StaffID(sid), identity.Role(role), fromMicros(created)
	return st, nil
}

const credentialCols = `id, email, password_hash, failures, locked_until, totp_secret, totp_pending, totp_last_step`

func (s *IdentityStore) credential(ctx context.Context, op string, realm identity.Realm, where string, arg any) (identity.Credential, error) {
	table, notFound, err := realmTable(realm)
	if err != nil {
		return identity.Credential{}, err
	}
	c := identity.Credential{Principal: identity.Principal{Realm: realm}}
	var failures, locked int64
	err = s.db.pool.QueryRow(ctx, `SELECT `+credentialCols+` FROM `+table+` WHERE `+where+` = $1`, arg).
		Scan(&c.ID, &c.Email, &c.PasswordHash, &failures, &locked, &c.TOTPSecret, &c.TOTPPending, &c.TOTPLastStep)
	if errors.Is(err, pgx.ErrNoRows) {
		return identity.Credential{}, notFound.WithOp(op, nil)
	}
	if err != nil {
		return identity.Credential{}, mapErr(op, err, nil)
	}
	c.Failures, c.LockedUntil = int(failures), fromMicros(locked)
	return c, nil
}

// CredentialByEmail returns the credential of realm's account with email.
func (s *IdentityStore) CredentialByEmail(ctx context.Context, realm identity.Realm, email string) (identity.Credential, error) {
	return s.credential(ctx, "postgres.CredentialByEmail", realm, "email", email)
}

// Credential returns p's credential.
func (s *IdentityStore) Credential(ctx context.Context, p identity.Principal) (identity.Credential, error) {
	return s.credential(ctx, "postgres.Credential", p.Realm, "id", p.ID)
}

// update runs one UPDATE of p's row; set uses $1.. for args and p's id is
// appended as the last parameter. No matching row is p's NotFound error.
func (s *IdentityStore) update(ctx context.Context, op string, p identity.Principal, set, idParam string, args ...any) error {
	table, notFound, err := realmTable(p.Realm)
	if err != nil {
		return err
	}
	tag, err := s.db.pool.Exec(ctx, `UPDATE `+table+` SET `+set+` WHERE id = `+idParam, append(args, p.ID)...)
	if err != nil {
		return mapErr(op, err, nil)
	}
	if tag.RowsAffected() == 0 {
		return notFound.WithOp(op, nil)
	}
	return nil
}

// RecordFailure adds one failure in a single UPDATE ... RETURNING: the row
// lock serialises concurrent failures, so all are counted.
func (s *IdentityStore) RecordFailure(ctx context.Context, p identity.Principal) (int, error) {
	const op = "postgres.RecordFailure"
	table, notFound, err := realmTable(p.Realm)
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.db.pool.QueryRow(ctx, `UPDATE `+table+` SET failures = failures + 1 WHERE id = $1 RETURNING failures`, p.ID).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, notFound.WithOp(op, nil)
	}
	if err != nil {
		return 0, mapErr(op, err, nil)
	}
	return int(n), nil
}

// LockUntil sets the end of p's lock.
func (s *IdentityStore) LockUntil(ctx context.Context, p identity.Principal, until time.Time) error {
	return s.update(ctx, "postgres.LockUntil", p, `locked_until = $1`, "$2", micros(until))
}

// ResetFailures clears p's failures and lock.
func (s *IdentityStore) ResetFailures(ctx context.Context, p identity.Principal) error {
	return s.update(ctx, "postgres.ResetFailures", p, `failures = 0, locked_until = 0`, "$1")
}

// SetTOTPPending stores a secret being enrolled.
func (s *IdentityStore) SetTOTPPending(ctx context.Context, p identity.Principal, secret string) error {
	return s.update(ctx, "postgres.SetTOTPPending", p, `totp_pending = $1`, "$2", secret)
}

// EnableTOTP makes secret the enrolled one.
func (s *IdentityStore) EnableTOTP(ctx context.Context, p identity.Principal, secret string, step int64) error {
	return s.update(ctx, "postgres.EnableTOTP", p, `totp_secret = $1, totp_pending = '', totp_last_step = $2`, "$3", secret, step)
}

// UseTOTPStep records step if it is later than the last one, in one
// conditional UPDATE: under READ COMMITTED the second of two concurrent
// updates re-checks the condition on the new row version and matches nothing.
func (s *IdentityStore) UseTOTPStep(ctx context.Context, p identity.Principal, step int64) (bool, error) {
	const op = "postgres.UseTOTPStep"
	table, _, err := realmTable(p.Realm)
	if err != nil {
		return false, err
	}
	tag, err := s.db.pool.Exec(ctx, `UPDATE `+table+` SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1`, step, p.ID)
	if err != nil {
		return false, mapErr(op, err, nil)
	}
	if tag.RowsAffected() == 1 {
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
	_, err := s.db.pool.Exec(ctx,
		`INSERT INTO sessions (token_hash, realm, customer_id, staff_id, csrf, created_at, expires_at, last_seen, stepped_up_at)
		 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
		hash, string(sess.Realm), int64(sess.Customer), int64(sess.Staff), sess.CSRF,
		micros(sess.Created), micros(sess.Expires), micros(sess.LastSeen), micros(sess.SteppedUp))
	return mapErr("postgres.CreateSession", err, nil)
}

// Session returns a session with its account's role and TOTP enrolment.
func (s *IdentityStore) Session(ctx context.Context, hash []byte) (identity.Session, error) {
	const op = "postgres.Session"
	var sess identity.Session
	var realm, role string
	var cust, staff, created, expires, seen, stepped int64
	err := s.db.pool.QueryRow(ctx, `
		SELECT s.realm, s.customer_id, s.staff_id, s.csrf, s.created_at, s.expires_at, s.last_seen, s.stepped_up_at,
		       COALESCE(c.totp_secret <> '', st.totp_secret <> '', false), COALESCE(st.role, '')
		FROM sessions s
		LEFT JOIN customers c ON s.realm = 'customer' AND c.id = s.customer_id
		LEFT JOIN staff st ON s.realm = 'staff' AND st.id = s.staff_id
		WHERE s.token_hash = $1`, hash).
		Scan(&realm, &cust, &staff, &sess.CSRF, &created, &expires, &seen, &stepped, &sess.TOTPEnrolled, &role)
	if errors.Is(err, pgx.ErrNoRows) {
		return identity.Session{}, identity.ErrNoSession.WithOp(op, nil)
	}
	if err != nil {
		return identity.Session{}, mapErr(op, err, nil)
	}
	sess.Realm, sess.Role = identity.Realm(realm), identity.Role(role)
	sess.Customer, sess.Staff = bankbridge.CustomerID(cust), bankbridge.StaffID(staff)
	sess.Created, sess.Expires, sess.LastSeen, sess.SteppedUp = fromMicros(created), fromMicros(expires), fromMicros(seen), fromMicros(stepped)
	return sess, nil
}

func (s *IdentityStore) updateSession(ctx context.Context, op, sql string, args ...any) error {
	tag, err := s.db.pool.Exec(ctx, sql, args...)
	if err != nil {
		return mapErr(op, err, nil)
	}
	if tag.RowsAffected() == 0 {
		return identity.ErrNoSession.WithOp(op, nil)
	}
	return nil
}

// TouchSession records activity.
func (s *IdentityStore) TouchSession(ctx context.Context, hash []byte, lastSeen, expires time.Time) error {
	return s.updateSession(ctx, "postgres.TouchSession",
		`UPDATE sessions SET last_seen = $1, expires_at = $2 WHERE token_hash = $3`, micros(lastSeen), micros(expires), hash)
}

// StepUpSession records a step-up.
func (s *IdentityStore) StepUpSession(ctx context.Context, hash []byte, at time.Time) error {
	return s.updateSession(ctx, "postgres.StepUpSession",
		`UPDATE sessions SET stepped_up_at = $1 WHERE token_hash = $2`, micros(at), hash)
}

// DeleteSession deletes one session, if it exists.
func (s *IdentityStore) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := s.db.pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hash)
	return mapErr("postgres.DeleteSession", err, nil)
}

// DeleteSessions deletes every session of p.
func (s *IdentityStore) DeleteSessions(ctx context.Context, p identity.Principal) (int, error) {
	var q string
	switch p.Realm {
	case identity.RealmCustomer:
		q = `DELETE FROM sessions WHERE realm = 'customer' AND customer_id = $1`
	case identity.RealmStaff:
		q = `DELETE FROM sessions WHERE realm = 'staff' AND staff_id = $1`
	default:
		return 0, identity.ErrRealm
	}
	tag, err := s.db.pool.Exec(ctx, q, p.ID)
	if err != nil {
		return 0, mapErr("postgres.DeleteSessions", err, nil)
	}
	return int(tag.RowsAffected()), nil
}

// DeleteExpiredSessions deletes sessions expired at now.
func (s *IdentityStore) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.db.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, micros(now))
	if err != nil {
		return 0, mapErr("postgres.DeleteExpiredSessions", err, nil)
	}
	return int(tag.RowsAffected()), nil
}
