// Package web is the bank's own channel: the customer web app (accounts,
// history, transfers with a confirmation step, TOTP enrolment and step-up) and
// the staff console under /console/ (customer lookup, freezing accounts).
//
// Pages are rendered on the server with html/template; templates, the style
// sheet and the icon are embedded, so the binary serves everything from its
// own origin and the Content-Security-Policy forbids inline script entirely.
// There is no JavaScript.
//
// Security, in one place (middleware.go): every response carries a strict CSP,
// nosniff, no-referrer, DENY framing and a Permissions-Policy; pages behind a
// login are no-store; HSTS and Secure cookies when Deps.Secure. Every POST must
// carry the session's CSRF token (or, on the login forms, the pre-session
// double-submit token), checked in constant time, behind Go's
// http.CrossOriginProtection as a second layer. Customer and staff live in
// separate realms with separate cookies (the console's is SameSite=Strict and
// scoped to /console). An account or transfer that is not the customer's
// answers 404, exactly like one that does not exist.
//
// The package must never move money except through ledger.Service with an
// idempotency key minted when the confirmation page was rendered, never read
// the environment, never log tokens, passwords or full account numbers, and
// never claim the paths the lead mounts elsewhere (/healthz, /readyz,
// /metrics, /api/, /oauth/, /.well-known/).
//
// Known limits: only transfers between accounts at this bank (own accounts
// and saved payees with an internal account); the console can look customers
// up by email only; dates in the history filter are UTC days.
package web
