// Package identity owns the people who use the bank: customers and staff,
// their passwords, their sessions, login lockout and TOTP step-up.
//
// Passwords are hashed with argon2id (OWASP parameters) into a PHC string and
// compared in constant time. Login answers the same error, after about the
// same work, for an unknown email and a wrong password; failures are counted
// per account, and after Options.MaxFailures the account is locked with an
// exponential backoff (1 minute, doubling, capped at 1 hour); a full success
// resets the count. TOTP follows RFC 6238 (SHA-1, 6 digits, 30 s steps, ±1
// step of drift) and a time step is never accepted twice for one account.
// Session tokens are 32 random bytes; only their SHA-256 is stored, so a
// leaked database does not yield live sessions. Each session carries its own
// CSRF token.
//
// Storage is behind Store (store.go), implemented in store/sqlite and
// store/postgres and held to one conformance suite (store/storetest.Identity).
//
// identity must never import net/http, ledger, consent, any store or driver,
// and must never log a password, a session token, a CSRF token or a TOTP
// secret (Token and Session implement slog.LogValuer to redact them).
//
// Logins resist spraying without letting a stranger lock the owner out
// (guard.go, Throttle.Decide): failed logins are kept in the database
// (Guard), so a fleet shares one count; a client address with too many
// recent failures is refused before any password check; while the bank as
// a whole fails too often, browsers an account does not recognise wait a
// little; and the per-account lock applies only to such browsers: a
// device that logged in before (its token in a cookie) passes through it,
// and TOTP with the password lifts it.
//
// Known limits: the TOTP secret is stored in clear (base32) next to the
// password hash; there is no password change, password reset or TOTP reset
// yet; an unknown email is never locked out, so lockout (which only exists for
// real accounts) can reveal that an email is registered to someone who
// deliberately fails five times; a session's idle expiry slides at most once
// a minute, to spare the database a write per request.
package identity
