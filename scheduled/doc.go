// Package scheduled owns standing orders: payments a customer sets up for a
// later date, once, weekly or monthly until a date or a count, to one of
// their own accounts, a payee at the bank, or an external payee over the
// rails.
//
// The rule of the package is that an occurrence is paid at most once,
// whatever the fleet does: the worker (Service.Run, under one fleet lease)
// first claims an occurrence in the store, which records the run and
// moves the order to its next date in one transaction conditional on the
// order's count of runs, so two instances that race claim it once; then it
// pays under an idempotency key made of the order and the occurrence's
// number, so an instance killed between the claim and the payment leaves a
// claimed run that the next pass pays under the same key, never twice.
//
// A run found later than Grace after its date (every instance was down) is
// not paid late: it is recorded as missed and the customer is told. A run
// the ledger or the limits refuse (not enough money, a frozen account, a
// daily limit) is recorded as refused and the customer is told in plain
// words; nothing is retried for that occurrence, and the next one goes on
// its date.
//
// It must never decide limits itself (package limits does), move money
// other than through ledger.Service and rails.Service, or hold state in
// memory that another instance would need.
//
// Known limits: a payment refused for needing the customer's second factor
// (limits.ErrStepUp) is refused, not put to the customer to confirm; dates
// are calendar days in UTC, and an order's runs start at RunHour UTC.
package scheduled
