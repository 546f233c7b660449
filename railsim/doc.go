// Package railsim is a local emulator of the ACH operator and the banks
// behind it, as platformsim is of the messaging platforms: it takes the
// bank's NACHA files over an SFTP-style HTTP exchange (the calls
// rails.HTTPTransport makes), refuses a file moov-io/ach finds invalid
// (naming the line and record), settles files, returns entries by scenario
// (an account number chosen to be short of funds, closed, unknown or invalid,
// or to draw a notification of change), sends inbound credits (payroll) to
// the bank, and shows its side on a page.
//
// It keeps its state in memory: it stands in for the outside world, and a
// restart of it is a new world. It must never import the bank's packages:
// it is the other side, and speaks only the file format. Known limits: only
// PPD credits and prenotes are taken; one settlement per file, at once or
// after a set delay; no IAT or debits; no instant returns (pacs.004).
package railsim
