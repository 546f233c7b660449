package audit

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
)

// Kind says what a record is about.
type Kind string

// The kinds of record. Disclosure kinds (DataAccess, PlatformMessage,
// StaffView) carry the customer, the accounts and the data clusters or
// fields disclosed.
const (
	DataAccess      Kind = "data_access"      // a partner called the data API
	PlatformMessage Kind = "platform_message" // a message with customer data went to a messaging platform
	ConsentGranted  Kind = "consent_granted"
	ConsentUsed     Kind = "consent_used" // a token was issued or refreshed under a consent
	ConsentRevoked  Kind = "consent_revoked"
	ConsentExpired  Kind = "consent_expired"
	StaffView       Kind = "staff_view"     // bank staff opened a customer's data in the console
	PartnerChange   Kind = "partner_change" // a partner was registered, suspended, reinstated or refused
	RetentionPrune  Kind = "retention_prune"
	// StaffAction is a change a member of staff made (a freeze, a revoke, a
	// case step, a reply): Detail says what, Purpose the reason they gave.
	StaffAction Kind = "staff_action"
	// AccessRefused is an attempt refused because it concerned another
	// person's data (a customer disputing someone else's transaction, staff
	// outside their role): Outcome is Denied, Detail what was asked.
	AccessRefused Kind = "access_refused"
	// ChatControl: bank staff took a chat's thread from another app
	// sharing the page (Messenger's take_thread_control), named in Detail.
	ChatControl Kind = "chat_control"
)

// Kinds lists every kind, in the order the console offers them.
var Kinds = []Kind{DataAccess, PlatformMessage, ConsentGranted, ConsentUsed, ConsentRevoked, ConsentExpired, StaffView, PartnerChange, RetentionPrune, StaffAction, AccessRefused, ChatControl}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if k == v {
			return true
		}
	}
	return false
}

// Disclosure reports whether records of this kind disclose customer data,
// so that Log.Append must not answer before they are durable.
func (k Kind) Disclosure() bool {
	return k == DataAccess || k == PlatformMessage || k == StaffView
}

// Outcome is how the recorded action ended.
type Outcome string

// The outcomes.
const (
	OK     Outcome = "ok"     // done (for a disclosure: the data was sent)
	Denied Outcome = "denied" // refused: no consent, out of scope, forbidden
	Failed Outcome = "failed" // an error on our side; nothing was disclosed
)

// Valid reports whether o is a known outcome.
func (o Outcome) Valid() bool { return o == OK || o == Denied || o == Failed }

// Record is one entry of the log. The log assigns Seq, LeafHash and, when
// zero, Time, Actor and RequestID (from the context).
type Record struct {
	Seq       uint64                `json:"seq"`  // leaf index: 0 for the first record, dense
	Time      time.Time             `json:"time"` // when it happened, UTC, microsecond precision
	Kind      Kind                  `json:"kind"`
	Partner   string                `json:"partner"`  // partner (OAuth client) id; "" when none
	Consent   string                `json:"consent"`  // consent (grant) id; "" when none
	Customer  bankbridge.CustomerID `json:"customer"` // whose data; 0 when none
	Accounts  []ledger.AccountID    `json:"accounts"` // whose accounts' data
	Clusters  []string              `json:"clusters"` // FDX data clusters disclosed, e.g. BALANCES
	Fields    []string              `json:"fields"`   // finer than clusters, when known, e.g. transactions.amount
	Purpose   string                `json:"purpose"`  // the purpose the consent states
	Actor     string                `json:"actor"`    // "customer:12", "staff:3", "partner:acme", "system"
	Outcome   Outcome               `json:"outcome"`
	RequestID string                `json:"request_id"`
	Detail    string                `json:"detail"` // the operation ("GET /accounts/{id}/transactions"); never the data itself
	// LeafHash is HashLeaf(LeafInput()); set by the log.
	LeafHash Hash `json:"leaf_hash"`
	// Pruned says retention removed the fields; only Seq, Time, Kind and
	// LeafHash remain.
	Pruned bool `json:"pruned,omitempty"`
	// MAC is MACKey.Tag(LeafHash), set by the store as it appends, under a
	// key the database does not hold; nil for records written before the
	// log had MACs (covered by the heads signed before). Not exported: only
	// the bank can check it.
	MAC []byte `json:"-"`
}

// ActorString renders an actor as Record.Actor expects.
func ActorString(a bankbridge.Actor) string {
	switch a.Kind {
	case bankbridge.ActorCustomer:
		return "customer:" + strconv.FormatInt(int64(a.Customer), 10)
	case bankbridge.ActorStaff:
		return "staff:" + strconv.FormatInt(int64(a.Staff), 10)
	case bankbridge.ActorPartner:
		return "partner:" + a.Partner
	}
	return "system"
}

// Limits on a record, so that one record stays small and one batch bounded.
const (
	maxText  = 512 // bytes in a text field
	maxItems = 256 // entries in a list
)

// ErrInvalid reports a record the log refuses: unknown kind or outcome, a
// field too long, a list entry that is not a plain identifier.
var ErrInvalid = bankbridge.E(bankbridge.Invalid, "audit_record_invalid", "the audit record is not valid")

// Validate checks r before it is appended.
func (r *Record) Validate() error {
	bad := func(msg string) error { return ErrInvalid.WithOp("audit.Validate", fmt.Errorf("%s", msg)) }
	if !r.Kind.Valid() {
		return bad("unknown kind " + strconv.Quote(string(r.Kind)))
	}
	if !r.Outcome.Valid() {
		return bad("unknown outcome " + strconv.Quote(string(r.Outcome)))
	}
	for _, s := range []string{r.Partner, r.Consent, r.Purpose, r.Actor, r.RequestID, r.Detail} {
		if len(s) > maxText {
			return bad("a text field is longer than 512 bytes")
		}
	}
	if len(r.Accounts) > maxItems || len(r.Clusters) > maxItems || len(r.Fields) > maxItems {
		return bad("a list has more than 256 entries")
	}
	for _, l := range [][]string{r.Clusters, r.Fields} {
		for _, s := range l {
			if !identifier(s) {
				return bad("list entry " + strconv.Quote(s) + " is not a plain identifier")
			}
		}
	}
	return nil
}

// identifier reports whether s is 1-64 of [A-Za-z0-9_.:/-]: list entries are
// stored comma-joined, so they may not hold a comma.
func identifier(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_.:/-", c) >= 0) {
			return false
		}
	}
	return true
}

// leafVersion is the first byte of every leaf input; a new encoding takes a
// new version and old leaves keep theirs.
const leafVersion = 1

// LeafInput is the canonical encoding of r that the tree commits to, in the
// TLS presentation language RFC 9162 uses (big-endian, length-prefixed):
//
//	uint8   version = 1
//	uint64  seq
//	int64   time, Unix microseconds
//	text    kind, partner, consent          (text = uint32 length + UTF-8)
//	int64   customer
//	uint32  n; n x int64                     accounts
//	uint32  n; n x text                      clusters
//	uint32  n; n x text                      fields
//	text    purpose, actor, outcome, request_id, detail
//
// Seq is inside, so moving a record to another position changes its hash.
func (r *Record) LeafInput() []byte { return r.appendLeafInput(nil) }

// appendLeafInput appends LeafInput to b.
func (r *Record) appendLeafInput(b []byte) []byte {
	n := 1 + 8 + 8 + 8 + 4 + 8*len(r.Accounts) + 8
	for _, s := range [...]string{string(r.Kind), r.Partner, r.Consent, r.Purpose, r.Actor, string(r.Outcome), r.RequestID, r.Detail} {
		n += 4 + len(s)
	}
	for _, s := range r.Clusters {
		n += 4 + len(s)
	}
	for _, s := range r.Fields {
		n += 4 + len(s)
	}
	b = slices.Grow(b, n)
	text := func(s string) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	list := func(l []string) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(l)))
		for _, s := range l {
			text(s)
		}
	}
	b = append(b, leafVersion)
	b = binary.BigEndian.AppendUint64(b, r.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(micros(r.Time)))
	text(string(r.Kind))
	text(r.Partner)
	text(r.Consent)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Customer))
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.Accounts)))
	for _, a := range r.Accounts {
		b = binary.BigEndian.AppendUint64(b, uint64(a))
	}
	list(r.Clusters)
	list(r.Fields)
	text(r.Purpose)
	text(r.Actor)
	text(string(r.Outcome))
	text(r.RequestID)
	text(r.Detail)
	return b
}

// ComputeLeafHash is HashLeaf(r.LeafInput()): what Record.LeafHash must be.
func (r *Record) ComputeLeafHash() Hash { return HashLeaf(r.LeafInput()) }

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// JoinAccounts and the other helpers below are the one text form stores use
// for lists: comma-joined, so a row stays one scan.

// JoinAccounts writes account ids comma-joined.
func JoinAccounts(as []ledger.AccountID) string {
	if len(as) == 0 {
		return ""
	}
	b := make([]byte, 0, 8*len(as))
	for i, a := range as {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(a), 10)
	}
	return string(b)
}

// SplitAccounts reads what JoinAccounts wrote.
func SplitAccounts(s string) ([]ledger.AccountID, error) {
	if s == "" {
		return nil, nil
	}
	out := make([]ledger.AccountID, 0, strings.Count(s, ",")+1)
	for s != "" {
		var part string
		part, s, _ = strings.Cut(s, ",")
		v, err := strconv.ParseInt(part, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("audit: bad account list: %w", err)
		}
		out = append(out, ledger.AccountID(v))
	}
	return out, nil
}

// JoinList writes identifiers comma-joined (Validate forbids commas in them).
func JoinList(l []string) string { return strings.Join(l, ",") }

// SplitList reads what JoinList wrote.
func SplitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
