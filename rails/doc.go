// Package rails owns payments that leave and enter the bank over the payment
// rails: external payees (routing and account numbers, verified by an ACH
// prenote), outbound ACH credits built as NACHA files, the same-day windows
// and cut-offs that set their effective date, inbound files (returns,
// notifications of change, credits such as payroll), instant payments as
// ISO 20022 messages, sanctions screening of payee names, and a
// reconciliation of what was sent, settled and returned against the
// settlement account.
//
// Money follows the ledger's states: a payment accepted places a hold (a
// pending transfer from the customer's account to the ACH settlement
// account); the hold is posted when the file that carries it is confirmed
// by the operator, voided if the payment is refused or returned before
// settlement, and a return after settlement books a reversing transfer.
// Every step is keyed (ledger idempotency keys derived from the payment id or
// the inbound file's name and trace number, and status changes made only from
// the state expected), so a file processed twice, or a worker that crashes
// and runs again, changes nothing the second time.
//
// Instant payments are a pacs.008 out and a pacs.002 back (the FedNow
// shape) through InstantTransport: the hold is posted when the report says
// settled, voided when it says rejected, and kept while no answer came, the
// same message being sent again until one does.
//
// NACHA files are built and parsed with github.com/moov-io/ach (routing
// numbers are checked by their ABA check digit with it too), ISO 20022
// messages with github.com/moov-io/iso20022's types. Transport is how files
// reach the operator (railsim.Client over HTTP, or an operator's gateway
// with the same calls).
//
// rails must never import net/http, a store or a channel; it reads and
// writes through Store (implemented once in store/sqlstore). Known limits:
// only credits are originated (no customer-authorised debits yet); one
// originating company (the bank itself) per file; a credit to an unknown
// or closed account is returned (R03, R02) in the next file; returns the
// bank must not apply are dishonoured, and dishonours of its returns
// contested or accepted (dishonor.go); a return of an instant payment
// (pacs.004) is not taken yet. Mirror mode (mirror.go, camt.go) imports the
// core's camt.053 statements and camt.054 notifications into the ledger
// through MirrorStore; camt.052 is not read, and pain.001 to the core is
// not built (docs/rails.md, "Mirror mode").
package rails
