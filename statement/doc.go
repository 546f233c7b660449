// Package statement owns the monthly account statement: the model built
// from the ledger for one account and one calendar month (UTC), and its two
// renderings, the PDF document (codeberg.org/go-pdf/fpdf) and CSV. The
// customer's web app and the partner API serve the very same document: both
// build it here, from the same inputs, and the PDF's dates are fixed by the
// period (not the clock), so the same month gives the same bytes.
//
// A statement lists the account's posted transfers by transaction time
// within the month, oldest first, each with its running balance; the
// opening and closing balances, money in and out, and the fees and interest
// of the month. Money reads through ledger.Amount.Display (Amount.Format,
// the ledger's machine form, in CSV); text for people passes legible.Clean.
// Both renderings are written in the statement's Lang, English or Spanish
// (spanish.go): the caller sets it to the customer's choice, and the bank's
// own descriptions and categories are translated when rendered.
//
// It must never import net/http, a store or an edge: callers check who may
// see which statement (the web its session, the data API the consent) and
// hand Build an account they already resolved. Known limits: a transfer
// still pending today is left out, and appears on its month's statement once
// posted, so a past month can change while a hold is open; the PDF uses the
// standard Helvetica font, so a letter outside Windows-1252 prints as "?"; the
// bank's address and telephone are DemoBank's (only the name follows the
// edge's BankName), as the configuration has no field for them yet; the card a
// purchase was made with is not in the ledger, so the statement does not
// name it.
package statement
