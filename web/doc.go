// Package web is the bank's own channel: the customer web app (accounts,
// history and each transaction's details, monthly statements as PDF and
// CSV (package statement, the same document the partner API serves),
// transfers with a confirmation step, TOTP enrolment and step-up,
// alerts and "was this you?", cards (freeze, report lost or stolen),
// disputes and the cases they open, password change and reset by e-mail,
// the consent screen and Connected apps, "Who saw my data", confirmation of
// payments partners started) and the staff console under /console/
// (customer search, the customer page, freezing accounts with a reason,
// consents, partners, the chat inbox, the case queue, fraud cases, the audit
// log and its export, API performance, engagement). Roles by least
// privilege are in docs/staff.md; every change staff make is a staff_action
// record written before the change, every page refused for a role an
// access_refused record.
// Each page reaches the capability behind it through a small interface
// declared here (Auth, ConsentFlow, Consents, AuditLog, Engagement, Alerts,
// Payments...), so the package imports no store and no other edge; a page
// whose dependency is not wired answers 404. Every staff view of customer
// data is written to the disclosure log before it is shown.
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
// never claim the paths cmd/bankbridge mounts elsewhere (/healthz, /readyz,
// /metrics, /oauth/, /.well-known/, /fdx/, /openapi.json, /docs/api,
// /audit/v1/, /channels/, /sim/).
//
// Logins (login.go, login_guard.go): the post-login destination is kept
// only when a browser would read it as a path on this site; when Auth is a
// LoginGuard, each login carries the client's address and the device
// cookie of an earlier success, and /console/logins shows the failed
// logins by address and across the bank, reloading itself when asked.
//
// Language (i18n.go, catalog_es.go): the customer pages are English or
// Spanish, the customer's one choice kept by assistant.Languages (shared with
// the chat and the e-mails), else a cookie, else Accept-Language. Every
// customer template text is {{t "English"}}; TestCatalogCoversTemplates
// fails on any other text or a key without Spanish. The console is English.
// What the bank wrote into the ledger is translated when shown
// (ledger.DescriptionIn), statements included (statement.Statement.Lang),
// and the history's search matches it as shown (ledger.HistoryQuery.Lang).
//
// Known limits: Go-side messages (form errors, refusals from other packages)
// are translated only where the catalogue has them, else shown in English;
// the client address is the connection's, so behind a proxy
// that does not keep it every client shares one throttle; only transfers between accounts at this bank (own accounts
// and saved payees with an internal account); the customer search scans
// (no trigram index); chats are linked from the customer page, not listed
// per customer; dates in the history filter are UTC days; the search folds
// the case of accented letters on PostgreSQL only ("NÓMINA" finds "Nómina"
// there, not on SQLite, whose LIKE folds ASCII); a transaction's
// card is named only when its account has one card (the ledger does not
// record which card paid).
package web
