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
// An order is changed (Service.Edit) only on the version the customer was
// shown: every claim, edit and cancel moves the version on, so an edit and
// the worker's claim are each a compare-and-set, and an occurrence is paid
// as it was or as edited, never a mix. The customer may authorise an order
// with their authenticator code when setting it up (Order.Authorized): the
// worker then pays it past the limits' step-up, which nobody could give on
// the date. Dates are calendar days in the bank's time zone
// (Options.Location), and an occurrence is due from RunHour there.
//
// Known limits: an order not authorised at setup whose day's total crosses
// the step-up is refused on its date (the customer is told, and may edit
// it to authorise it); the time zone is the bank's, not each customer's.
package scheduled
