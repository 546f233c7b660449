package consent

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strconv"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
)

// GrantID names a consent. It is random (128 bits), opaque, and is what the
// token endpoint returns as grant_id (FDX, RFC 9396).
type GrantID string

// Status is a consent's state, with FDX's ConsentStatus names.
type Status string

// The consent statuses. Only ACTIVE allows anything.
const (
	Active  Status = "ACTIVE"
	Revoked Status = "REVOKED"
	Expired Status = "EXPIRED"
)

// DurationType is FDX's ConsentDurationType. The bank supports TIME_BOUND
// only: every consent ends, at most MaxDays after it is given.
type DurationType string

// TimeBound is the one duration type supported.
const TimeBound DurationType = "TIME_BOUND"

// Durations, in days.
const (
	DefaultDays         = 90  // when the partner asks for nothing else
	MaxDays             = 365 // never longer
	DefaultLookbackDays = 365 // how far back TRANSACTIONS reach by default
	MaxLookbackDays     = 730
)

// Resource is one account in a consent with the clusters shared for it.
type Resource struct {
	Account  ledger.AccountID
	Clusters []Cluster
}

// Party is one of the parties to a consent, as FDX names them.
type Party struct {
	Role string // DATA_PROVIDER, DATA_RECIPIENT or INDIVIDUAL
	Name string
	ID   string
}

// Grant is a customer's consent for one partner, shaped like FDX's
// ConsentGrant: the parties, the resources (accounts with their data
// clusters), times, duration, look-back period and status, plus the purposes
// shown when it was given and who revoked it and why.
type Grant struct {
	ID       GrantID
	Customer bankbridge.CustomerID
	Partner  PartnerID
	// Resources are the accounts, in ascending id order, each with its
	// clusters in Clusters order.
	Resources []Resource
	// Purposes are the partner's declared purposes at the time of consent,
	// per cluster: what the customer was shown.
	Purposes     map[Cluster]string
	DurationType DurationType
	DurationDays int
	LookbackDays int
	Created      time.Time
	Updated      time.Time
	Expires      time.Time
	Status       Status
	// RevokedBy says who revoked: "customer", "staff:12", "partner"; "" if not.
	RevokedBy    string
	RevokeReason string
	LastUsed     time.Time // zero if never
}

// Covers reports whether the consent includes cluster for account. It looks
// at the resources only; Usable says whether the consent is in force.
func (g Grant) Covers(account ledger.AccountID, cluster Cluster) bool {
	for _, r := range g.Resources {
		if r.Account == account {
			return slices.Contains(r.Clusters, cluster)
		}
	}
	return false
}

// Accounts lists the accounts in the consent.
func (g Grant) Accounts() []ledger.AccountID {
	ids := make([]ledger.AccountID, len(g.Resources))
	for i, r := range g.Resources {
		ids[i] = r.Account
	}
	return ids
}

// Clusters lists every cluster the consent names, for any account, in
// Clusters order.
func (g Grant) Clusters() []Cluster {
	var cs []Cluster
	for _, r := range g.Resources {
		for _, c := range r.Clusters {
			if !slices.Contains(cs, c) {
				cs = append(cs, c)
			}
		}
	}
	slices.SortFunc(cs, func(a, b Cluster) int { return a.order() - b.order() })
	return cs
}

// Usable returns nil if the consent is in force at now: ACTIVE and not past
// its expiry, to the second. Otherwise ErrGrantRevoked or ErrGrantExpired.
func (g Grant) Usable(now time.Time) error {
	switch {
	case g.Status == Revoked:
		return ErrGrantRevoked
	case g.Status == Expired || !now.Before(g.Expires):
		return ErrGrantExpired
	case g.Status != Active:
		return ErrGrantRevoked
	}
	return nil
}

// Parties returns the consent's parties, FDX style: the bank as data
// provider, the partner as data recipient, the customer as individual.
func (g Grant) Parties(bank string) []Party {
	return []Party{
		{Role: "DATA_PROVIDER", Name: bank},
		{Role: "DATA_RECIPIENT", ID: string(g.Partner)},
		{Role: "INDIVIDUAL", ID: strconv.FormatInt(int64(g.Customer), 10)},
	}
}

// Grant errors. Compare with errors.Is.
var (
	ErrGrantInvalid  = bankbridge.E(bankbridge.Invalid, "consent_invalid", "the consent is missing something or asks for too much")
	ErrGrantNotFound = bankbridge.E(bankbridge.NotFound, "consent_not_found", "no such consent")
	ErrGrantRevoked  = bankbridge.E(bankbridge.Forbidden, "consent_revoked", "the consent was revoked")
	ErrGrantExpired  = bankbridge.E(bankbridge.Forbidden, "consent_expired", "the consent has expired")
	ErrNotCovered    = bankbridge.E(bankbridge.Forbidden, "consent_not_covered", "the consent does not cover this")
)

// newID returns n random bytes, base64url without padding.
func newID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewGrantID returns a fresh random grant id.
func NewGrantID() GrantID { return GrantID(newID(16)) }

// normalizeResources drops duplicates and orders accounts and clusters, so a
// consent has one canonical form.
func normalizeResources(rs []Resource) []Resource {
	byAcct := map[ledger.AccountID][]Cluster{}
	for _, r := range rs {
		for _, c := range r.Clusters {
			if !slices.Contains(byAcct[r.Account], c) {
				byAcct[r.Account] = append(byAcct[r.Account], c)
			}
		}
	}
	out := make([]Resource, 0, len(byAcct))
	for a, cs := range byAcct {
		slices.SortFunc(cs, func(x, y Cluster) int { return x.order() - y.order() })
		out = append(out, Resource{Account: a, Clusters: cs})
	}
	slices.SortFunc(out, func(x, y Resource) int { return cmp.Compare(x.Account, y.Account) })
	return out
}
