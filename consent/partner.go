package consent

import (
	"encoding/json"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/legible"
)

// PartnerID names a partner. It is also its OAuth client_id: lower-case
// letters, digits and dashes, 3 to 64 of them ("messenger", "budget-app").
type PartnerID string

var partnerIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$`)

// Valid reports whether id is well formed.
func (id PartnerID) Valid() bool { return partnerIDRe.MatchString(string(id)) }

// PartnerStatus is whether a partner may act.
type PartnerStatus string

// The partner statuses. Only an active partner gets tokens or data.
const (
	PartnerActive    PartnerStatus = "active"
	PartnerSuspended PartnerStatus = "suspended" // stopped by staff, with a reason; may be reinstated
	PartnerRefused   PartnerStatus = "refused"   // denied by staff for a stated risk; final
)

// Attestation is the partner's promise about secondary use: it will not use
// the data for targeted advertising, cross-selling or sale. Registration is
// refused without it.
type Attestation struct {
	NoSecondaryUse bool      // the promise itself
	Signatory      string    // who signed for the partner
	At             time.Time // when
}

// AttestationText is the promise a partner signs, shown to staff and kept
// with the partner.
const AttestationText = "We will use the data only for the purposes declared for each data cluster. " +
	"We will not use it, or anything derived from it, for targeted advertising, cross-selling or sale to anyone."

// Partner is a third party registered by bank staff: an OAuth client with
// declared purposes. Keys are inline (JWKS) or fetched from a JWKSURI that
// staff explicitly allowed.
type Partner struct {
	ID              PartnerID
	LegalName       string
	LEI             string // ISO 17442 Legal Entity Identifier, 20 characters
	Homepage        string // https URL
	SecurityContact string // email address or https URL
	// RedirectURIs are compared exactly, byte for byte (FAPI 2.0 §5.3.1.2).
	RedirectURIs []string
	// JWKS is the partner's public key set (RFC 7517) as JSON; empty when
	// JWKSURI is used.
	JWKS json.RawMessage
	// JWKSURI is where the partner publishes its keys; only used when
	// JWKSURIAllowed is set by staff.
	JWKSURI        string
	JWKSURIAllowed bool
	// Purposes is the declared purpose for each cluster the partner may ask
	// for, in the partner's words ("show balances in chat"). A partner can
	// never ask for a cluster without a purpose.
	Purposes    map[Cluster]string
	Attestation Attestation
	// RateLimit is the partner's API budget, requests per minute.
	RateLimit int
	Status    PartnerStatus
	Created   time.Time
	Updated   time.Time
}

// Purpose returns the declared purpose for c, "" if none.
func (p Partner) Purpose(c Cluster) string { return p.Purposes[c] }

// AllowsRedirect reports whether uri is one of the partner's redirect URIs,
// by exact comparison.
func (p Partner) AllowsRedirect(uri string) bool { return slices.Contains(p.RedirectURIs, uri) }

// PartnerAction is what happened to a partner.
type PartnerAction string

// The partner actions kept in its history.
const (
	ActionRegistered PartnerAction = "registered"
	ActionSuspended  PartnerAction = "suspended"
	ActionReinstated PartnerAction = "reinstated"
	ActionRefused    PartnerAction = "refused"
	// ActionRedirects: the partner's redirect URIs were replaced
	// (ReplaceRedirectURIs), with the reason.
	ActionRedirects PartnerAction = "redirects_changed"
)

// PartnerEvent is one entry of a partner's history. Every suspension and
// refusal carries its reason: a data provider may deny a third party only for
// a stated risk.
type PartnerEvent struct {
	Partner PartnerID
	Action  PartnerAction
	Reason  string
	By      string // "staff:12", "cli", "system"
	At      time.Time
}

// DefaultRateLimit is a partner's budget when registration names none.
const DefaultRateLimit = 600 // requests per minute

// Partner errors. Compare with errors.Is.
var (
	ErrPartnerInvalid   = bankbridge.E(bankbridge.Invalid, "partner_invalid", "some partner details are missing or not valid")
	ErrNoAttestation    = bankbridge.E(bankbridge.Invalid, "partner_attestation_missing", "the partner must attest that it will not use data for targeted advertising, cross-selling or sale")
	ErrPartnerTaken     = bankbridge.E(bankbridge.Conflict, "partner_exists", "a partner with that id is already registered")
	ErrPartnerNotFound  = bankbridge.E(bankbridge.NotFound, "partner_not_found", "no such partner")
	ErrPartnerInactive  = bankbridge.E(bankbridge.Forbidden, "partner_inactive", "the partner is suspended or was refused")
	ErrReasonRequired   = bankbridge.E(bankbridge.Invalid, "reason_required", "give the reason, in a sentence")
	ErrPartnerFinal     = bankbridge.E(bankbridge.Conflict, "partner_refused", "a refused partner cannot be reinstated; register it again after review")
	ErrPartnerSameState = bankbridge.E(bankbridge.Conflict, "partner_status_unchanged", "the partner already has that status")
)

// SigningAlgs are the JWS algorithms FAPI 2.0 (§5.4) allows, and so the
// only ones accepted from partners.
var SigningAlgs = []jose.SignatureAlgorithm{jose.PS256, jose.ES256, jose.EdDSA}

// ParseJWKS parses a partner's key set and checks every key is a public
// signing key of an allowed algorithm; a private key is refused so that one
// pasted by mistake is not stored.
func ParseJWKS(raw []byte) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return set, fmt.Errorf("not a JSON Web Key Set: %w", err)
	}
	if len(set.Keys) == 0 {
		return set, fmt.Errorf("the key set has no keys")
	}
	for i, k := range set.Keys {
		switch {
		case !k.Valid():
			return set, fmt.Errorf("key %d is not valid", i)
		case !k.IsPublic():
			return set, fmt.Errorf("key %d is a private key: send only the public half", i)
		case k.Use != "" && k.Use != "sig":
			return set, fmt.Errorf("key %d is not for signatures (use %q)", i, k.Use)
		case k.Algorithm != "" && !slices.Contains(SigningAlgs, jose.SignatureAlgorithm(k.Algorithm)):
			return set, fmt.Errorf("key %d has algorithm %s; use PS256, ES256 or EdDSA", i, k.Algorithm)
		}
	}
	return set, nil
}

// validLEI checks an ISO 17442 LEI: 18 alphanumerics and two check digits,
// verified with ISO 7064 MOD 97-10 as for an IBAN.
func validLEI(s string) bool {
	if len(s) != 20 {
		return false
	}
	rem := 0
	for _, r := range s {
		var v int
		switch {
		case r >= '0' && r <= '9':
			v = int(r - '0')
			rem = (rem*10 + v) % 97
		case r >= 'A' && r <= 'Z':
			v = int(r-'A') + 10
			rem = (rem*100 + v) % 97
		default:
			return false
		}
	}
	return rem == 1 && s[18] >= '0' && s[18] <= '9' && s[19] >= '0' && s[19] <= '9'
}

// httpsURL reports whether s is an absolute https URL without a fragment.
func httpsURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.Fragment == "" && u.User == nil
}

// validRedirect accepts https URLs, and plain http only on a loopback host
// (RFC 8252 §7.3), for development and tests. No fragment, no userinfo, no
// wildcards: the comparison is exact.
func validRedirect(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Fragment != "" || u.User != nil || strings.Contains(s, "*") || len(s) > 512 {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		host := u.Hostname()
		ip := net.ParseIP(host)
		return host == "localhost" || (ip != nil && ip.IsLoopback())
	}
	return false
}

// normalizePartner trims what people type.
func normalizePartner(p Partner) Partner {
	p.ID = PartnerID(strings.ToLower(strings.TrimSpace(string(p.ID))))
	p.LegalName = strings.TrimSpace(p.LegalName)
	p.LEI = strings.ToUpper(strings.TrimSpace(p.LEI))
	p.Homepage = strings.TrimSpace(p.Homepage)
	p.SecurityContact = strings.TrimSpace(p.SecurityContact)
	p.JWKSURI = strings.TrimSpace(p.JWKSURI)
	uris := make([]string, 0, len(p.RedirectURIs))
	for _, u := range p.RedirectURIs {
		if u = strings.TrimSpace(u); u != "" && !slices.Contains(uris, u) {
			uris = append(uris, u)
		}
	}
	p.RedirectURIs = uris
	purposes := make(map[Cluster]string, len(p.Purposes))
	for c, why := range p.Purposes {
		if why = strings.TrimSpace(why); why != "" {
			purposes[Cluster(strings.ToUpper(strings.TrimSpace(string(c))))] = why
		}
	}
	p.Purposes = purposes
	p.Attestation.Signatory = strings.TrimSpace(p.Attestation.Signatory)
	if p.RateLimit == 0 {
		p.RateLimit = DefaultRateLimit
	}
	return p
}

// partnerFields lists what is wrong with a normalised partner.
func partnerFields(p Partner) []bankbridge.FieldError {
	var fs []bankbridge.FieldError
	add := func(ptr, detail string) { fs = append(fs, bankbridge.FieldError{Pointer: ptr, Detail: detail}) }
	if !p.ID.Valid() {
		add("/id", "use 3 to 64 lower-case letters, digits and dashes, such as budget-app")
	}
	if p.LegalName == "" || utf8.RuneCountInString(p.LegalName) > 200 {
		add("/legal_name", "enter the partner's registered legal name (at most 200 characters)")
	} else if err := legible.Check(p.LegalName); err != nil {
		// The consent screen shows this name to customers: it must read
		// as it is.
		add("/legal_name", "the name "+err.Error())
	}
	if !validLEI(p.LEI) {
		add("/lei", "enter the 20-character Legal Entity Identifier (ISO 17442); its check digits must match")
	}
	if !httpsURL(p.Homepage) {
		add("/homepage", "enter an https:// address")
	}
	if a, err := mail.ParseAddress(p.SecurityContact); (err != nil || a.Address != p.SecurityContact) && !httpsURL(p.SecurityContact) {
		add("/security_contact", "enter an email address or an https:// address where security issues are reported")
	}
	if len(p.RedirectURIs) == 0 {
		add("/redirect_uris", "give at least one redirect URI")
	}
	for i, u := range p.RedirectURIs {
		if !validRedirect(u) {
			add(fmt.Sprintf("/redirect_uris/%d", i), "use an https:// URI without a fragment or wildcard (http only for localhost)")
		}
	}
	switch {
	case len(p.JWKS) > 0 && p.JWKSURI != "":
		add("/jwks", "give either inline keys or a jwks_uri, not both")
	case len(p.JWKS) > 0:
		if _, err := ParseJWKS(p.JWKS); err != nil {
			add("/jwks", err.Error())
		}
	case p.JWKSURI != "":
		if !httpsURL(p.JWKSURI) {
			add("/jwks_uri", "enter an https:// address")
		} else if !p.JWKSURIAllowed {
			add("/jwks_uri", "a jwks_uri must be explicitly allowed by staff; otherwise give the keys inline")
		}
	default:
		add("/jwks", "give the partner's public keys (a JWKS), for private_key_jwt and DPoP")
	}
	if len(p.Purposes) == 0 {
		add("/purposes", "declare a purpose for at least one data cluster")
	}
	for c, why := range p.Purposes {
		if !c.Valid() {
			add("/purposes/"+string(c), "unknown data cluster")
		} else if utf8.RuneCountInString(why) > 300 {
			add("/purposes/"+string(c), "describe the purpose in at most 300 characters")
		} else if err := legible.Check(why); err != nil {
			add("/purposes/"+string(c), "the purpose "+err.Error())
		}
	}
	if p.RateLimit < 1 || p.RateLimit > 1_000_000 {
		add("/rate_limit", "requests per minute must be between 1 and 1000000")
	}
	return fs
}
