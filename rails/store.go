package rails

import (
	"context"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
)

// Store keeps payees, payments, files and inbound entries. It is
// implemented once, in store/sqlstore, and proved on both engines by
// store/storetest.Rails.
//
// Contract: unknown ids answer ErrPayeeNotFound, ErrPaymentNotFound or
// ErrFileNotFound; a payee of another customer is not found. Status changes
// are compare-and-set: they happen only from the states named, so two
// workers (or one run twice) cannot both move a payment.
type Store interface {
	// EntriesOf lists the inbound entries that name payment id (the
	// returns of a payment, the entry a return of the bank's answered),
	// oldest first.
	EntriesOf(ctx context.Context, id PaymentID) ([]Entry, error)
	// AddPayee saves an external payee (unverified) and returns it with its
	// id. A nickname the customer already uses answers ErrNicknameTaken.
	AddPayee(ctx context.Context, p Payee) (Payee, error)
	// Payee returns one of a customer's external payees.
	Payee(ctx context.Context, c bankbridge.CustomerID, id ledger.PayeeID) (Payee, error)
	// Payees lists a customer's external payees by nickname.
	Payees(ctx context.Context, c bankbridge.CustomerID) ([]Payee, error)
	// RenamePayee changes a payee's nickname (ErrNicknameTaken if used).
	RenamePayee(ctx context.Context, c bankbridge.CustomerID, id ledger.PayeeID, nickname string) error
	// DeletePayee removes a payee; its payments keep their copy of it.
	DeletePayee(ctx context.Context, c bankbridge.CustomerID, id ledger.PayeeID) error
	// UpdatePayee sets a payee's status and detail, and its routing,
	// account number and type when a notification of change corrects them
	// (empty values keep the old ones). It is a no-op on a deleted payee.
	UpdatePayee(ctx context.Context, id ledger.PayeeID, s PayeeStatus, detail, routing string, number ledger.AccountNumber, t AccountType) error

	// CreatePayment records a new payment (StatusNew). A payment of the
	// same customer, channel and key returns that one instead, with true.
	CreatePayment(ctx context.Context, p Payment) (Payment, bool, error)
	// Payment returns one payment.
	Payment(ctx context.Context, id PaymentID) (Payment, error)
	// PaymentByKey returns the payment a customer made on a channel under
	// an idempotency key (ErrPaymentNotFound): how an edge follows the
	// payment it started.
	PaymentByKey(ctx context.Context, c bankbridge.CustomerID, channel, key string) (Payment, error)
	// PaymentByTrace returns the payment whose entry carried trace.
	PaymentByTrace(ctx context.Context, trace string) (Payment, error)
	// Payments lists payments, newest first.
	Payments(ctx context.Context, q PaymentQuery) ([]Payment, error)
	// MovePayment sets p's status (and Hold, Reversal, ReturnCode, Reason,
	// Screen, Owed when not empty) if its status is one of from, and says whether
	// it did.
	MovePayment(ctx context.Context, p Payment, from ...Status) (bool, error)
	// Told records that the change of payment id to status was told
	// (OnChange); a later change stays untold until it is told in turn.
	Told(ctx context.Context, id PaymentID, status Status) error
	// Untold lists up to limit payments whose last change, stored before
	// before, was never told (its instance died in between), oldest first.
	Untold(ctx context.Context, before time.Time, limit int) ([]Payment, error)
	// SetDebt changes what a returned debit's customer owes (and what is
	// being taken of it) from from to to, if it is still from, and says
	// whether it did.
	SetDebt(ctx context.Context, id PaymentID, from, to Debt) (bool, error)
	// SetRecall moves an instant payment's request for return from one
	// state to another with its note, if it is still from, and says
	// whether it did.
	SetRecall(ctx context.Context, id PaymentID, from, to, note string) (bool, error)
	// MarkInstantSent moves an accepted instant payment to sent with its
	// trace (its message id), and says whether it did.
	MarkInstantSent(ctx context.Context, id PaymentID, trace string, at time.Time) (bool, error)
	// MarkSentToCore moves an accepted credit to sent with its trace (its
	// end-to-end id) once its pain.001 is written for the core (mirror
	// mode), and says whether it did.
	MarkSentToCore(ctx context.Context, id PaymentID, trace string, at time.Time) (bool, error)

	// CreateFile records an outbound file built from the payments of ids
	// that are still accepted, and moves them to batched with their traces,
	// in one transaction. build gets the payments (with their traces) and
	// the file's id and returns the file's bytes; it runs inside the
	// transaction, so a file and its payments are recorded together or not
	// at all. With no accepted payment among ids it records nothing and
	// returns a zero File.
	CreateFile(ctx context.Context, ids []PaymentID, at time.Time, build func(FileID, []Payment) (File, error)) (File, error)
	// File returns one file with its body.
	File(ctx context.Context, id FileID) (File, error)
	// Files lists files without their bodies, newest first.
	Files(ctx context.Context, q FileQuery) ([]File, error)
	// MoveFile sets a file's status and the time of it if its status is
	// from, and says whether it did.
	MoveFile(ctx context.Context, id FileID, from, to FileStatus, at time.Time) (bool, error)
	// ReceiveFile records an inbound file by name: a name seen before with
	// the same body returns the file recorded then (true); with another
	// body, ErrFileConflict.
	ReceiveFile(ctx context.Context, f File) (File, bool, error)

	// AddEntry records an inbound entry once per file and trace, and says
	// whether it was new.
	AddEntry(ctx context.Context, e Entry) (bool, error)
	// Entry returns one inbound entry (ErrEntryNotFound).
	Entry(ctx context.Context, f FileID, trace string, k EntryKind) (Entry, error)
	// MoveEntry sets an entry's status, detail and payment if its status
	// is from, and says whether it did.
	MoveEntry(ctx context.Context, e Entry, from EntryStatus) (bool, error)
	// Entries lists inbound entries, newest first; Customer 0 means all.
	Entries(ctx context.Context, q EntryQuery) ([]Entry, error)
	// AccountByNumber finds the ledger account with a number, for inbound
	// credits; ledger.ErrAccountNotFound when none has it.
	AccountByNumber(ctx context.Context, n ledger.AccountNumber) (ledger.Account, error)
	// Totals sums payments and entries by status for reconciliation.
	Totals(ctx context.Context) ([]Total, error)

	// Resolution returns the operator's decision on an exception entry
	// (ErrResolutionNotFound).
	Resolution(ctx context.Context, f FileID, trace string, k EntryKind) (Resolution, error)
	// DecideResolution records r, the first decision on its entry: a
	// decision recorded before (by anyone, on any instance) is returned
	// instead, with false.
	DecideResolution(ctx context.Context, r Resolution) (Resolution, bool, error)
	// FinishResolution records r booked (its Transfer, Owed and Done) if
	// it was not yet, and in the same transaction moves its entry from
	// unmatched to resolved, appending note to the entry's detail; it says
	// whether it did.
	FinishResolution(ctx context.Context, r Resolution, note string) (bool, error)
	// CancelResolution forgets a decision not yet booked (the ledger
	// refused it), and says whether it did.
	CancelResolution(ctx context.Context, f FileID, trace string, k EntryKind) (bool, error)
	// Resolutions lists decisions, newest first.
	Resolutions(ctx context.Context, q ResolutionQuery) ([]Resolution, error)
	// SetResolutionDebt changes what a charged exception's customer owes
	// (and what is being taken of it) from from to to, if it is still
	// from, and says whether it did.
	SetResolutionDebt(ctx context.Context, f FileID, trace string, k EntryKind, from, to Debt) (bool, error)
}

// PaymentQuery selects payments.
type PaymentQuery struct {
	Customer bankbridge.CustomerID // 0: every customer
	Status   []Status              // empty: any
	Kinds    []Kind                // empty: any
	File     FileID
	Owing    bool   // only payments whose customer still owes on their return
	Recall   string // only payments whose request for return is in this state
	Limit    int    // 0 means 100
}

// FileStatus is where a file is.
type FileStatus string

// File states. Outbound: built (recorded with its payments), sent (the
// operator took it), confirmed (the operator settled it). Inbound:
// received, then processed.
const (
	FileBuilt     FileStatus = "built"
	FileSent      FileStatus = "sent"
	FileConfirmed FileStatus = "confirmed"
	FileReceived  FileStatus = "received"
	FileProcessed FileStatus = "processed"
)

// Direction says whether a file left or entered the bank.
type Direction string

// Directions.
const (
	DirOut Direction = "out"
	DirIn  Direction = "in"
)

// File is a NACHA file the bank sent or received.
type File struct {
	ID        FileID
	Direction Direction
	Name      string
	Body      []byte
	Hash      [32]byte
	Status    FileStatus
	Entries   int
	Total     ledger.Amount
	Created   time.Time
	Sent      time.Time
	Confirmed time.Time // outbound: confirmed; inbound: processed
	Error     string    // an inbound file that could not be read, why
}

// FileQuery selects files.
type FileQuery struct {
	Direction Direction
	Status    []FileStatus
	Limit     int // 0 means 100
}

// Errors of files.
var (
	ErrFileNotFound = bankbridge.E(bankbridge.NotFound, "file_not_found", "no such file")
	ErrFileConflict = bankbridge.E(bankbridge.Conflict, "file_name_reused", "a file of that name with another content was received before")
)

// EntryKind is what an inbound entry was.
type EntryKind string

// Inbound entry kinds.
const (
	EntryCredit EntryKind = "credit"
	EntryReturn EntryKind = "return"
	EntryChange EntryKind = "change"
	// EntryDebit is a debit another bank's customer originated against an
	// account here.
	EntryDebit EntryKind = "debit"
)

// EntryStatus is what the bank did with an inbound entry.
type EntryStatus string

// Inbound entry outcomes.
const (
	EntryPosted    EntryStatus = "posted"    // a credit posted, a return or change applied
	EntryUnmatched EntryStatus = "unmatched" // no account or payment matched: for an operator
	// EntryReturned is an inbound debit the bank sent back: at once
	// (funds short, no account) or later, when the customer said they
	// never authorised it (R10).
	EntryReturned EntryStatus = "returned"
)

// ErrEntryNotFound is an inbound entry that does not exist (or is not the
// customer's).
var ErrEntryNotFound = bankbridge.E(bankbridge.NotFound, "entry_not_found", "no such entry")

// Entry is one inbound entry as the bank handled it.
type Entry struct {
	File     FileID
	Trace    string
	Kind     EntryKind
	Status   EntryStatus
	Customer bankbridge.CustomerID
	Account  ledger.AccountID
	Payment  PaymentID
	Amount   ledger.Amount
	Code     string // return or change code
	Name     string // the originating company, for a credit
	Transfer ledger.TransferID
	Detail   string
	At       time.Time
}

// EntryQuery selects inbound entries.
type EntryQuery struct {
	Customer bankbridge.CustomerID
	Kinds    []EntryKind   // empty: any
	Status   []EntryStatus // empty: any
	Limit    int
}

// Total is a count and sum of one kind and status.
type Total struct {
	// What is "payment", "core" (a credit sent to the core as pain.001
	// in mirror mode), "return", "debit", "debit_return", "owed" (Status
	// "" on returned collections, "exceptions" on exceptions an operator
	// charged), "resolved" (exceptions an operator settled: Amount is what
	// they held in the exceptions account, signed) or "entry:<kind>".
	What   string
	Status string
	Count  int64
	Amount ledger.Amount
}
