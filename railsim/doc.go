// Package railsim is a local emulator of the payment rails and the banks
// behind them, as platformsim is of the messaging platforms. As the ACH
// operator it takes the bank's NACHA files over an SFTP-style HTTP exchange
// (Client is the bank's side of it), refuses a file moov-io/ach finds
// invalid (naming the line and record), settles files, returns entries by
// scenario (an account number chosen to be short of funds, closed, unknown
// or invalid, or to draw a notification of change) and sends inbound
// credits (payroll). As the instant service it answers a pacs.008 with a
// pacs.002, accepted or rejected by the same scenario accounts. It shows its
// side on a page.
//
// It keeps its state in memory: it stands in for the outside world, and a
// restart of it is a new world. It must never import the bank's packages:
// it is the other side, and speaks only the formats. Known limits: only PPD
// credits and prenotes are taken; one settlement per file, at once or after
// a set delay; no IAT or debits; no instant returns (pacs.004).
package railsim
