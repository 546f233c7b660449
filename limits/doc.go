// Package limits owns the payment limits that hold across every channel: how
// much a customer may pay other people in a day, how much to one payee, how
// much to a payee still in its cooling-off period, and when the day's total
// needs a step-up (a fresh authenticator code, or the bank's own page).
//
// The rule is one function, Decide, given the customer's outgoing totals of
// the last 24 hours (all channels), the totals to the payee, the payee's
// first-seen time, the amount and whether the customer has stepped up; it
// answers nil, ErrStepUp or a refusal with a stable code. Guard applies it
// for a fleet: the store reads the totals and records the payment in one
// transaction that is serialised per customer in the database, so two
// payments that each fit but together do not cannot both pass, whichever
// instance takes them.
//
// Limits apply to money leaving the customer for someone else; moving money
// between one's own accounts is not limited here. This package must never
// import net/http, a store or a channel. Known limits: the figures of a
// Policy apply to every currency alike (the bank sets them in its own);
// a payment recorded and then lost to a crash before its transfer keeps
// counting for its day (the safe side), unless retried with the same key.
package limits
