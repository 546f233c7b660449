package consent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
)

// EventKind names a change in a consent's life.
type EventKind string

// The consent events a Hook receives.
const (
	EventGranted      EventKind = "granted"
	EventRevoked      EventKind = "revoked"
	EventExpired      EventKind = "expired"
	EventUsed         EventKind = "used"
	EventReauthorised EventKind = "reauthorised"
)

// Event is one change to a consent, as a Hook sees it: the consent after the
// change, who caused it and why.
type Event struct {
	Kind   EventKind
	Grant  Grant
	At     time.Time
	By     string // "customer", "staff:12", "partner", "system"
	Reason string
}

// Hook is told of every consent event, after it is stored. The audit log
// subscribes here. A Hook must not block for long: it runs on the caller's
// request.
type Hook interface {
	ConsentEvent(ctx context.Context, e Event)
}

// HookFunc adapts a function to Hook.
type HookFunc func(ctx context.Context, e Event)

// ConsentEvent calls f.
func (f HookFunc) ConsentEvent(ctx context.Context, e Event) { f(ctx, e) }

// LateHook is a Hook whose target is set after the Service is built, for
// subscribers that themselves need the Service (the data API, the
// messenger hub). Events before Set are dropped: there is no one to tell.
type LateHook struct {
	mu sync.RWMutex
	h  Hook
}

// Set makes l forward to h.
func (l *LateHook) Set(h Hook) { l.mu.Lock(); l.h = h; l.mu.Unlock() }

// ConsentEvent forwards e, if a target is set.
func (l *LateHook) ConsentEvent(ctx context.Context, e Event) {
	l.mu.RLock()
	h := l.h
	l.mu.RUnlock()
	if h != nil {
		h.ConsentEvent(ctx, e)
	}
}

// PartnerHook is told of every change to a partner (registered, suspended,
// reinstated, refused), after it is stored, with who made it and why. The
// audit log subscribes here. Like Hook, it runs on the caller's request and
// must not block for long.
type PartnerHook interface {
	PartnerChanged(ctx context.Context, e PartnerEvent)
}

// PartnerHookFunc adapts a function to PartnerHook.
type PartnerHookFunc func(ctx context.Context, e PartnerEvent)

// PartnerChanged calls f.
func (f PartnerHookFunc) PartnerChanged(ctx context.Context, e PartnerEvent) { f(ctx, e) }

// Accounts is what the Service needs from the ledger to check that a
// customer owns the accounts they share. ledger.Store implements it.
type Accounts interface {
	CustomerAccounts(ctx context.Context, c bankbridge.CustomerID) ([]ledger.Account, error)
}

// Options configure a Service. The zero value gives working defaults.
type Options struct {
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// Hooks are told of every consent event, in order.
	Hooks []Hook
	// PartnerHooks are told of every partner change, in order.
	PartnerHooks []PartnerHook
	// Accounts checks account ownership when a consent is given. Required
	// for NewGrant; partner administration works without it.
	Accounts Accounts
	// TouchEvery bounds how often a consent's last use is written: at most
	// once per interval (default one minute), to spare a write per call.
	TouchEvery time.Duration
}

// Service is the consent capability: partners and the consents customers
// give them. It is safe for concurrent use.
type Service struct {
	store Store
	opts  Options
}

// New returns a Service over store.
func New(store Store, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TouchEvery <= 0 {
		opts.TouchEvery = time.Minute
	}
	return &Service{store: store, opts: opts}
}

// Store returns the store, for the authorization server's working records.
func (s *Service) Store() Store { return s.store }

// Now is the service's clock in UTC, to the microsecond the stores keep.
func (s *Service) Now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

func (s *Service) emit(ctx context.Context, e Event) {
	for _, h := range s.opts.Hooks {
		h.ConsentEvent(ctx, e)
	}
}

func (s *Service) emitPartner(ctx context.Context, e PartnerEvent) {
	for _, h := range s.opts.PartnerHooks {
		h.PartnerChanged(ctx, e)
	}
}

// RegisterPartner validates and stores a partner, active at once, and
// records who registered it. Errors: ErrNoAttestation when the
// secondary-use attestation is missing (checked first: it is never
// negotiable), ErrPartnerInvalid with Fields, ErrPartnerTaken.
func (s *Service) RegisterPartner(ctx context.Context, p Partner, by string) (Partner, error) {
	const op = "consent.RegisterPartner"
	p = normalizePartner(p)
	if !p.Attestation.NoSecondaryUse || p.Attestation.Signatory == "" {
		e := ErrNoAttestation.WithOp(op, nil)
		e.Fields = []bankbridge.FieldError{{Pointer: "/attestation", Detail: "the partner must sign: " + AttestationText}}
		return Partner{}, e
	}
	if fs := partnerFields(p); len(fs) > 0 {
		e := ErrPartnerInvalid.WithOp(op, nil)
		e.Fields = fs
		return Partner{}, e
	}
	now := s.Now()
	if p.Attestation.At.IsZero() {
		p.Attestation.At = now
	}
	p.Attestation.At = p.Attestation.At.UTC().Truncate(time.Microsecond)
	p.Status, p.Created, p.Updated = PartnerActive, now, now
	ev := PartnerEvent{Partner: p.ID, Action: ActionRegistered, Reason: "registered with a signed secondary-use attestation", By: by, At: now}
	if err := s.store.CreatePartner(ctx, p, ev); err != nil {
		return Partner{}, err
	}
	s.emitPartner(ctx, ev)
	return p, nil
}

// ReplaceRedirectURIs replaces a partner's redirect URIs `from` with `to`,
// recording the reason and who, and reports whether it did: false when
// they were not `from` any more (another instance of a fleet replaced
// them first: the call is idempotent). Errors: ErrReasonRequired,
// ErrPartnerInvalid when `to` is not a valid set of redirect URIs,
// ErrPartnerNotFound.
func (s *Service) ReplaceRedirectURIs(ctx context.Context, id PartnerID, from, to []string, reason, by string) (bool, error) {
	const op = "consent.ReplaceRedirectURIs"
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return false, ErrReasonRequired.WithOp(op, nil)
	}
	p, err := s.store.Partner(ctx, id)
	if err != nil {
		return false, err
	}
	p.RedirectURIs = to
	p = normalizePartner(p)
	for _, f := range partnerFields(p) {
		if strings.HasPrefix(f.Pointer, "/redirect_uris") {
			e := ErrPartnerInvalid.WithOp(op, nil)
			e.Fields = []bankbridge.FieldError{f}
			return false, e
		}
	}
	now := s.Now()
	ev := PartnerEvent{Partner: p.ID, Action: ActionRedirects, Reason: reason, By: by, At: now}
	ok, err := s.store.ReplacePartnerRedirects(ctx, p.ID, from, p.RedirectURIs, ev)
	if err != nil || !ok {
		return false, err
	}
	s.emitPartner(ctx, ev)
	return true, nil
}

// Partner returns one partner; ErrPartnerNotFound.
func (s *Service) Partner(ctx context.Context, id PartnerID) (Partner, error) {
	return s.store.Partner(ctx, id)
}

// Partners lists every partner.
func (s *Service) Partners(ctx context.Context) ([]Partner, error) { return s.store.Partners(ctx) }

// PartnerHistory returns a partner's registrations, suspensions and
// refusals with their reasons, oldest first.
func (s *Service) PartnerHistory(ctx context.Context, id PartnerID) ([]PartnerEvent, error) {
	if _, err := s.store.Partner(ctx, id); err != nil {
		return nil, err
	}
	return s.store.PartnerEvents(ctx, id)
}

// SuspendPartner stops all of a partner's access at once: every token check
// consults the partner's status. The reason is required and kept.
func (s *Service) SuspendPartner(ctx context.Context, id PartnerID, reason, by string) error {
	return s.setPartner(ctx, "consent.SuspendPartner", id, PartnerSuspended, ActionSuspended, reason, by)
}

// ReinstatePartner lifts a suspension; the reason is required and kept.
func (s *Service) ReinstatePartner(ctx context.Context, id PartnerID, reason, by string) error {
	return s.setPartner(ctx, "consent.ReinstatePartner", id, PartnerActive, ActionReinstated, reason, by)
}

// RefusePartner denies a partner for a stated risk, for good.
func (s *Service) RefusePartner(ctx context.Context, id PartnerID, reason, by string) error {
	return s.setPartner(ctx, "consent.RefusePartner", id, PartnerRefused, ActionRefused, reason, by)
}

func (s *Service) setPartner(ctx context.Context, op string, id PartnerID, to PartnerStatus, action PartnerAction, reason, by string) error {
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) < 3 || utf8.RuneCountInString(reason) > 500 {
		return ErrReasonRequired.WithOp(op, nil)
	}
	p, err := s.store.Partner(ctx, id)
	if err != nil {
		return err
	}
	switch {
	case p.Status == to:
		return ErrPartnerSameState.WithOp(op, nil)
	case p.Status == PartnerRefused:
		return ErrPartnerFinal.WithOp(op, nil)
	}
	ev := PartnerEvent{Partner: id, Action: action, Reason: reason, By: by, At: s.Now()}
	if err := s.store.SetPartnerStatus(ctx, id, to, ev); err != nil {
		return err
	}
	s.emitPartner(ctx, ev)
	return nil
}

// GrantRequest is a customer's decision to share: which partner, which
// accounts with which clusters, for how long.
type GrantRequest struct {
	Customer     bankbridge.CustomerID
	Partner      PartnerID
	Resources    []Resource
	DurationDays int // 0 means DefaultDays
	LookbackDays int // 0 means DefaultLookbackDays
}

// NewGrant records a consent, ACTIVE at once, and tells the hooks. The
// partner must be active and have declared a purpose for every cluster; the
// accounts must be the customer's and open or frozen (not closed).
// Errors: ErrGrantInvalid (with Fields), ErrPartnerNotFound,
// ErrPartnerInactive.
func (s *Service) NewGrant(ctx context.Context, req GrantRequest) (Grant, error) {
	const op = "consent.NewGrant"
	p, err := s.store.Partner(ctx, req.Partner)
	if err != nil {
		return Grant{}, err
	}
	if p.Status != PartnerActive {
		return Grant{}, ErrPartnerInactive.WithOp(op, nil)
	}
	if req.DurationDays == 0 {
		req.DurationDays = DefaultDays
	}
	if req.LookbackDays == 0 {
		req.LookbackDays = DefaultLookbackDays
	}
	var fs []bankbridge.FieldError
	add := func(ptr, d string) { fs = append(fs, bankbridge.FieldError{Pointer: ptr, Detail: d}) }
	if req.DurationDays < 1 || req.DurationDays > MaxDays {
		add("/duration", fmt.Sprintf("choose between 1 and %d days", MaxDays))
	}
	if req.LookbackDays < 1 || req.LookbackDays > MaxLookbackDays {
		add("/lookback", fmt.Sprintf("the look-back period is between 1 and %d days", MaxLookbackDays))
	}
	res := normalizeResources(req.Resources)
	if len(res) == 0 {
		add("/accounts", "choose at least one account")
	}
	if s.opts.Accounts == nil {
		return Grant{}, fmt.Errorf("%s: no account directory configured", op)
	}
	own, err := s.opts.Accounts.CustomerAccounts(ctx, req.Customer)
	if err != nil {
		return Grant{}, err
	}
	purposes := map[Cluster]string{}
	for _, r := range res {
		i := slices.IndexFunc(own, func(a ledger.Account) bool { return a.ID == r.Account })
		if i < 0 || own[i].Status == ledger.Closed {
			add("/accounts", "one of the accounts chosen is not yours or is closed")
		}
		if len(r.Clusters) == 0 {
			add("/accounts", "each account needs at least one kind of data")
		}
		for _, c := range r.Clusters {
			if p.Purposes[c] == "" {
				add("/clusters/"+string(c), "the partner declared no purpose for this data")
				continue
			}
			purposes[c] = p.Purposes[c]
		}
	}
	if len(fs) > 0 {
		e := ErrGrantInvalid.WithOp(op, nil)
		e.Fields = fs
		return Grant{}, e
	}
	now := s.Now()
	g := Grant{
		ID: NewGrantID(), Customer: req.Customer, Partner: p.ID, Resources: res, Purposes: purposes,
		DurationType: TimeBound, DurationDays: req.DurationDays, LookbackDays: req.LookbackDays,
		Created: now, Updated: now, Expires: now.Add(time.Duration(req.DurationDays) * 24 * time.Hour), Status: Active,
	}
	if err := s.store.CreateGrant(ctx, g); err != nil {
		return Grant{}, err
	}
	s.emit(ctx, Event{Kind: EventGranted, Grant: g, At: now, By: "customer"})
	return g, nil
}

// Grant returns one consent as stored; ErrGrantNotFound. An ACTIVE consent
// past its expiry is returned as EXPIRED (and so recorded).
func (s *Service) Grant(ctx context.Context, id GrantID) (Grant, error) {
	g, err := s.store.Grant(ctx, id)
	if err != nil {
		return Grant{}, err
	}
	return s.settle(ctx, g), nil
}

// settle records the expiry of an ACTIVE consent found past its end, so that
// an expired consent stops working on the minute even if no sweeper ran.
func (s *Service) settle(ctx context.Context, g Grant) Grant {
	now := s.Now()
	if g.Status != Active || now.Before(g.Expires) {
		return g
	}
	changed, err := s.store.EndGrant(ctx, g.ID, Expired, "system", "the consent reached its end date", now)
	g.Status, g.Updated = Expired, now
	if err == nil && changed {
		g.RevokedBy, g.RevokeReason = "", ""
		s.emit(ctx, Event{Kind: EventExpired, Grant: g, At: now, By: "system", Reason: "the consent reached its end date"})
	}
	return g
}

// Check returns the consent if it is in force now and its partner is
// active: the test every token use passes. Errors: ErrGrantNotFound,
// ErrGrantRevoked, ErrGrantExpired, ErrPartnerInactive.
func (s *Service) Check(ctx context.Context, id GrantID) (Grant, Partner, error) {
	g, err := s.Grant(ctx, id)
	if err != nil {
		return Grant{}, Partner{}, err
	}
	if err := g.Usable(s.Now()); err != nil {
		return g, Partner{}, err
	}
	p, err := s.store.Partner(ctx, g.Partner)
	if err != nil {
		return g, Partner{}, err
	}
	if p.Status != PartnerActive {
		return g, p, ErrPartnerInactive
	}
	return g, p, nil
}

// ChangedSince lists the consents and partners changed at or after since
// (Store.ChangedSince), at most limit of each: a resource server's cache
// polls it to learn, once per poll and not once per consent, what another
// instance revoked or suspended.
func (s *Service) ChangedSince(ctx context.Context, since time.Time, limit int) ([]Change, error) {
	return s.store.ChangedSince(ctx, since, limit)
}

// Used records that the consent was used now: the last-use time (written at
// most once per TouchEvery) and a "used" event for the hooks.
func (s *Service) Used(ctx context.Context, g Grant) error {
	now := s.Now()
	if g.LastUsed.IsZero() || now.Sub(g.LastUsed) >= s.opts.TouchEvery {
		if err := s.store.TouchGrant(ctx, g.ID, now); err != nil {
			return err
		}
	}
	g.LastUsed = now
	s.emit(ctx, Event{Kind: EventUsed, Grant: g, At: now, By: "partner:" + string(g.Partner)})
	return nil
}

// Revoke ends a consent now: every token it backs stops working on the
// next check. by says who ("customer", "staff:12", "partner"); reason is
// kept. Revoking a consent that already ended changes nothing and is not an
// error. ErrGrantNotFound.
func (s *Service) Revoke(ctx context.Context, id GrantID, by, reason string) (Grant, error) {
	g, err := s.store.Grant(ctx, id)
	if err != nil {
		return Grant{}, err
	}
	return s.revoke(ctx, g, by, reason)
}

func (s *Service) revoke(ctx context.Context, g Grant, by, reason string) (Grant, error) {
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > 500 {
		reason = string([]rune(reason)[:500])
	}
	now := s.Now()
	changed, err := s.store.EndGrant(ctx, g.ID, Revoked, by, reason, now)
	if err != nil {
		return Grant{}, err
	}
	if !changed {
		return s.store.Grant(ctx, g.ID)
	}
	g.Status, g.Updated, g.RevokedBy, g.RevokeReason = Revoked, now, by, reason
	s.emit(ctx, Event{Kind: EventRevoked, Grant: g, At: now, By: by, Reason: reason})
	return g, nil
}

// CustomerGrant returns one of the customer's consents; a consent of
// another customer is ErrGrantNotFound, exactly like one that does not exist.
func (s *Service) CustomerGrant(ctx context.Context, c bankbridge.CustomerID, id GrantID) (Grant, error) {
	g, err := s.Grant(ctx, id)
	if err != nil {
		return Grant{}, err
	}
	if g.Customer != c {
		return Grant{}, ErrGrantNotFound
	}
	return g, nil
}

// RevokeForCustomer revokes one of the customer's own consents.
func (s *Service) RevokeForCustomer(ctx context.Context, c bankbridge.CustomerID, id GrantID) (Grant, error) {
	g, err := s.CustomerGrant(ctx, c, id)
	if err != nil {
		return Grant{}, err
	}
	return s.revoke(ctx, g, "customer", "revoked by the customer")
}

// Reauthorise extends one of the customer's consents before it ends, by
// days from now (at most MaxDays), without the partner linking again.
// Errors: ErrGrantNotFound, ErrGrantRevoked, ErrGrantExpired,
// ErrGrantInvalid, ErrPartnerInactive.
func (s *Service) Reauthorise(ctx context.Context, c bankbridge.CustomerID, id GrantID, days int) (Grant, error) {
	const op = "consent.Reauthorise"
	if days == 0 {
		days = DefaultDays
	}
	if days < 1 || days > MaxDays {
		return Grant{}, ErrGrantInvalid.WithMessage(fmt.Sprintf("choose between 1 and %d days", MaxDays)).WithOp(op, nil)
	}
	g, err := s.CustomerGrant(ctx, c, id)
	if err != nil {
		return Grant{}, err
	}
	now := s.Now()
	if err := g.Usable(now); err != nil {
		return Grant{}, err
	}
	if p, err := s.store.Partner(ctx, g.Partner); err != nil {
		return Grant{}, err
	} else if p.Status != PartnerActive {
		return Grant{}, ErrPartnerInactive.WithOp(op, nil)
	}
	expires := now.Add(time.Duration(days) * 24 * time.Hour)
	ok, err := s.store.ExtendGrant(ctx, g.ID, expires, days, now)
	if err != nil {
		return Grant{}, err
	}
	if !ok {
		return Grant{}, ErrGrantRevoked.WithOp(op, nil)
	}
	g.Expires, g.DurationDays, g.Updated = expires, days, now
	s.emit(ctx, Event{Kind: EventReauthorised, Grant: g, At: now, By: "customer"})
	return g, nil
}

// CustomerGrants lists the customer's consents, newest first, with any past
// their end shown (and recorded) as EXPIRED.
func (s *Service) CustomerGrants(ctx context.Context, c bankbridge.CustomerID) ([]Grant, error) {
	gs, err := s.store.CustomerGrants(ctx, c)
	if err != nil {
		return nil, err
	}
	for i := range gs {
		gs[i] = s.settle(ctx, gs[i])
	}
	return gs, nil
}

// PartnerGrants lists a partner's consents, newest first.
func (s *Service) PartnerGrants(ctx context.Context, p PartnerID) ([]Grant, error) {
	gs, err := s.store.PartnerGrants(ctx, p)
	if err != nil {
		return nil, err
	}
	for i := range gs {
		gs[i] = s.settle(ctx, gs[i])
	}
	return gs, nil
}

// Sweep records the expiry of every ACTIVE consent past its end and tells
// the hooks; it returns how many. Expiry does not depend on it (every check
// compares the end with the clock); it keeps statuses and the audit trail
// current. Run it every minute or so.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	n := 0
	for {
		due, err := s.store.DueGrants(ctx, s.Now(), 500)
		if err != nil {
			return n, err
		}
		settled := 0
		for _, g := range due {
			if g2 := s.settle(ctx, g); g2.Status == Expired {
				settled++
			}
		}
		n += settled
		if len(due) < 500 || settled == 0 {
			return n, nil
		}
	}
}

// IsEnded reports whether err says the consent is no longer in force.
func IsEnded(err error) bool {
	return errors.Is(err, ErrGrantRevoked) || errors.Is(err, ErrGrantExpired)
}
