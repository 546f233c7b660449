// Package demo builds a realistic, reproducible demo bank: the bank's own
// accounts, about sixty merchants with their ISO 18245 category codes, one
// member of staff per role, and any number of customers (many of them aged
// 55 to 75) with checking, savings and credit-card accounts, debit and
// credit cards, payees, and weeks of history: salaries and pensions, rent
// and mortgages, utility bills, card purchases whose mix follows the
// customer's age, card holds in the last two days, transfers between
// customers, savings, card payments, interest and fees.
//
// `bankbridge seed` calls Seed; `bankbridge serve` calls it on an empty
// database (Seeded tells). The same Options give the same bank: every
// customer draws from its own PCG stream of math/rand/v2 keyed by (Seed,
// customer index), and the history is applied in a total order.
//
// What it must never do: run against a bank with real customers. All demo
// customers share one password (CustomerPassword) and one stored hash, and
// the staff share StaffPassword; both are printed by serve. Seed refuses a
// database whose settlement account exists (ErrSeeded).
//
// How it writes: customers through identity.Service.ImportCustomers (bulk,
// one precomputed hash); accounts, cards, payees and merchants one at a time
// through ledger.Store; transfers with ledger.Store.Apply in batches of
// 2,000, back-dated with Request.At. The generator keeps its own copy of
// every balance and drops a spend the customer cannot afford, so the ledger
// refuses nothing; any refusal is reported as an error.
//
// Known limits: customers are written 1,000 at a time with all their
// history, so transfer ids grow with time within each chunk, not across
// chunks, and payees link customers of the same chunk only. Reproducibility
// holds on one CPU architecture (amounts come from floating-point draws that
// a fused multiply-add could round differently elsewhere). Accounts, cards
// and payees go in one transaction per chunk through BulkLedger, which both
// stores implement (one row per call otherwise). A million customers with 90 days is
// about 200 million transfers: hours and tens of GB on one machine; use
// fewer days for such sizes. A failed seed leaves what it wrote: start
// again from an empty database.
package demo
