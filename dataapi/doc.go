// Package dataapi is the third-party data and payments API after FDX 6.4
// (its Core Exchange operations answer Plaid Core Exchange 6.4's schemas,
// with FDX's paging and date ranges), mounted under /fdx/v6: the customer,
// accounts, balances, account contact, transactions (keyset pages), payment
// networks, statements (the document as PDF with Accept: application/pdf,
// else its figures as JSON), the consent
// itself (read, revoke), payees and payments, and notification
// subscriptions; plus its OpenAPI 3.1 document (/openapi.json) and a
// readable page (/docs/api).
//
// Every call passes, in order: the FAPI interaction id (echoed or made),
// the DPoP-bound token and the consent behind it (oauth.Verifier: status,
// expiry, partner active), the partner's and the customer's rate limits,
// the query's shape, then the consent's accounts and clusters, field by
// field. What a call discloses is written to the audit log, durably, before
// the answer is sent (audit.Log.Start overlaps the commit with the reads).
// Partners see per-partner opaque ids (HMAC under a secret kept in the
// consent store); anything a partner may not see answers 404, exactly like
// what does not exist.
//
// Payments go through the ledger with idempotency, or, to a payee at
// another bank, through Deps.Rails (rails.go: the rail's status follows
// them, RailChanged tells partners); above the customer's
// step-up limit they wait for the customer on the bank's own page
// (ConfirmPayment, DeclinePayment back it). Status changes and consent
// changes reach partners as signed notifications from an outbox with
// retries (Run, Deliver; in a fleet, one instance at a time delivers, under
// Options.Lease). Performance per partner per month (share of
// proper responses, latency) is counted for 12 CFR 1033.311 and kept 13
// months (Performance, /metrics).
//
// What it must never do: import a store or another edge; disclose before
// the audit record is durable; tell a partner that something exists which
// the consent does not cover. Known limits: DPoP replay memory is per
// instance (rate limits hold for the fleet with NewFleetLimiter, and fall
// back to per instance, logged, while its store is down); the statement list's links name only JSON; the daily payment
// limit is checked under a per-instance lock, so two instances may together
// exceed it by one payment; notification callbacks are fetched from the
// bank's network (https only), with no egress filtering of private
// addresses.
package dataapi
