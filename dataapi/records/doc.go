// Package records owns the data API's durable records: payments that
// partners start (with their idempotency key, the hash of the request and
// their status), partners' notification subscriptions and the outbox of
// signed event notifications waiting to be delivered, and the monthly
// performance counters the bank publishes per partner (12 CFR 1033.311).
//
// It holds types, the Store interface (implemented in store/sqlite and
// store/postgres, held to store/storetest.DataAPI) and small pure helpers.
// The HTTP side, the checks and the delivery loop live in package dataapi.
//
// It must never import net/http, an edge or a store: stores implement it and
// the web app reads payments through it. Known limits: a notification
// subscription's signing secret is stored in clear, like the authorization
// server's key; performance counters are per month in UTC.
package records
