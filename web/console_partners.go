package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/identity"
)

// PartnerAdmin is what the console's partner pages need from the consent
// capability: list, register, suspend, reinstate and refuse partners, and
// read each one's history. *consent.Service implements it. by is the
// member of staff ("staff:12"); reasons are required and kept.
type PartnerAdmin interface {
	Partners(ctx context.Context) ([]consent.Partner, error)
	Partner(ctx context.Context, id consent.PartnerID) (consent.Partner, error)
	RegisterPartner(ctx context.Context, p consent.Partner, by string) (consent.Partner, error)
	SuspendPartner(ctx context.Context, id consent.PartnerID, reason, by string) error
	ReinstatePartner(ctx context.Context, id consent.PartnerID, reason, by string) error
	RefusePartner(ctx context.Context, id consent.PartnerID, reason, by string) error
	PartnerHistory(ctx context.Context, id consent.PartnerID) ([]consent.PartnerEvent, error)
}

// Who may do what with partners. Compliance may stop a partner at once
// (a stated risk cannot wait for an administrator) but not let one in.
var (
	partnerViewRoles    = []identity.Role{identity.Administrator, identity.Compliance}
	partnerSuspendRoles = []identity.Role{identity.Administrator, identity.Compliance}
	partnerAdminRoles   = []identity.Role{identity.Administrator}
)

// maxPartnerJWKS bounds the inline key set on the registration form: a JWKS with a few RSA keys
// is a few kilobytes; the other forms are much smaller than maxForm.
const maxPartnerJWKS = 32 << 10

// partnerForm is the registration form as typed, kept to show it again
// with the errors.
type partnerForm struct {
	ID, LegalName, LEI, Homepage, SecurityContact string
	RedirectURIs                                  string // one per line
	JWKS, JWKSURI                                 string
	AllowJWKSURI                                  bool
	Purposes                                      map[consent.Cluster]string
	Attest                                        bool
	Signatory                                     string
	RateLimit                                     string
}

// purposeRow is one cluster's purpose field on the form.
type purposeRow struct {
	consent.ClusterInfo
	Value string
	Error string
}

// partnerRow is one partner in the list.
type partnerRow struct {
	Partner  consent.Partner
	Clusters []consent.Cluster
}

type consolePartnersView struct {
	Partners    []partnerRow
	CanRegister bool
	Form        partnerForm
	Purposes    []purposeRow
	Errors      map[string]string // by form field; "" for the whole form
	Attestation string
}

type consolePartnerView struct {
	Partner      consent.Partner
	Clusters     []purposeRow
	History      []consent.PartnerEvent
	CanSuspend   bool
	CanReinstate bool
	CanRefuse    bool
	Error        string
}

// partners returns the partner administration, or nil when the app has
// none (the pages then answer 404).
func (s *server) partners() PartnerAdmin {
	if s.Partners != nil {
		return s.Partners
	}
	if pa, ok := s.Consents.(PartnerAdmin); ok {
		return pa
	}
	return nil
}

// staffActor names the member of staff of a visit as history and the audit
// log record it.
func staffActor(v *visit) string { return "staff:" + strconv.FormatInt(int64(v.sess.Staff), 10) }

// consolePartners lists every partner with its status and, for
// administrators, the registration form.
func (s *server) consolePartners(w http.ResponseWriter, r *http.Request, v *visit) {
	s.renderPartners(w, r, v, http.StatusOK, partnerForm{RateLimit: strconv.Itoa(consent.DefaultRateLimit)}, nil)
}

func (s *server) renderPartners(w http.ResponseWriter, r *http.Request, v *visit, status int, f partnerForm, errs map[string]string) {
	pa := s.partners()
	if pa == nil {
		s.notFound(w, r, v)
		return
	}
	ps, err := pa.Partners(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := consolePartnersView{CanRegister: slices.Contains(partnerAdminRoles, v.sess.Role), Form: f, Errors: errs,
		Attestation: consent.AttestationText}
	for _, p := range ps {
		view.Partners = append(view.Partners, partnerRow{Partner: p, Clusters: sortedClusters(p.Purposes)})
	}
	for _, c := range consent.Clusters {
		view.Purposes = append(view.Purposes, purposeRow{ClusterInfo: c, Value: f.Purposes[c.Cluster], Error: errs["purpose_"+string(c.Cluster)]})
	}
	pg := s.consolePage(v, "Partners")
	pg.Nav = "partners"
	switch r.URL.Query().Get("done") {
	case "registered":
		pg.Flash = "Partner registered and active."
	}
	pg.Data = view
	s.render(w, r, status, "console_partners", pg)
}

// sortedClusters lists the clusters a partner declared, in the consent
// screen's order.
func sortedClusters(m map[consent.Cluster]string) []consent.Cluster {
	var out []consent.Cluster
	for _, c := range consent.Clusters {
		if m[c.Cluster] != "" {
			out = append(out, c.Cluster)
		}
	}
	return out
}

// readPartnerForm reads the registration form.
func readPartnerForm(r *http.Request) partnerForm {
	in := r.PostForm
	f := partnerForm{ID: in.Get("id"), LegalName: in.Get("legal_name"), LEI: in.Get("lei"), Homepage: in.Get("homepage"),
		SecurityContact: in.Get("security_contact"), RedirectURIs: in.Get("redirect_uris"), JWKS: strings.TrimSpace(in.Get("jwks")),
		JWKSURI: in.Get("jwks_uri"), AllowJWKSURI: in.Get("allow_jwks_uri") == "on", Attest: in.Get("attest") == "on",
		Signatory: in.Get("signatory"), RateLimit: strings.TrimSpace(in.Get("rate_limit")), Purposes: map[consent.Cluster]string{}}
	for _, c := range consent.Clusters {
		if why := strings.TrimSpace(in.Get("purpose_" + string(c.Cluster))); why != "" {
			f.Purposes[c.Cluster] = why
		}
	}
	return f
}

// partner turns the form into a partner; the consent service validates.
func (f partnerForm) partner() (consent.Partner, map[string]string) {
	p := consent.Partner{ID: consent.PartnerID(f.ID), LegalName: f.LegalName, LEI: f.LEI, Homepage: f.Homepage,
		SecurityContact: f.SecurityContact, RedirectURIs: strings.FieldsFunc(f.RedirectURIs, func(r rune) bool { return r == '\n' || r == '\r' }),
		JWKSURI: f.JWKSURI, JWKSURIAllowed: f.AllowJWKSURI, Purposes: f.Purposes,
		Attestation: consent.Attestation{NoSecondaryUse: f.Attest, Signatory: f.Signatory}}
	errs := map[string]string{}
	if f.JWKS != "" {
		if len(f.JWKS) > maxPartnerJWKS {
			errs["jwks"] = "The key set is too large; give at most a few public keys."
		}
		p.JWKS = []byte(f.JWKS)
	}
	if f.RateLimit != "" {
		n, err := strconv.Atoi(f.RateLimit)
		if err != nil || n < 1 {
			errs["rate_limit"] = "Enter a whole number of requests per minute."
		}
		p.RateLimit = n
	}
	return p, errs
}

// fieldErrors maps the service's JSON pointers to the form's field names.
func fieldErrors(errs map[string]string, fs []bankbridge.FieldError) {
	for _, fe := range fs {
		parts := strings.Split(strings.TrimPrefix(fe.Pointer, "/"), "/")
		name, detail := parts[0], fe.Detail
		switch {
		case name == "redirect_uris" && len(parts) == 2:
			if n, err := strconv.Atoi(parts[1]); err == nil {
				detail = fmt.Sprintf("Line %d: %s", n+1, detail)
			}
		case name == "purposes" && len(parts) == 2:
			name = "purpose_" + parts[1]
		}
		if old := errs[name]; old != "" {
			detail = old + " " + detail
		}
		errs[name] = detail
	}
}

// consoleRegisterPartner registers a partner from the form. Without the
// secondary-use attestation the service refuses it before anything else;
// the form comes back with the errors and everything typed kept.
func (s *server) consoleRegisterPartner(w http.ResponseWriter, r *http.Request, v *visit) {
	pa := s.partners()
	if pa == nil {
		s.notFound(w, r, v)
		return
	}
	f := readPartnerForm(r)
	p, errs := f.partner()
	if len(errs) == 0 {
		got, err := pa.RegisterPartner(r.Context(), p, staffActor(v))
		if err == nil {
			s.Logger.LogAttrs(r.Context(), slog.LevelInfo, "web: partner registered",
				slog.String("request_id", bankbridge.RequestID(r.Context())), slog.Int64("staff", int64(v.sess.Staff)),
				slog.String("partner", string(got.ID)))
			http.Redirect(w, r, "/console/partners/"+string(got.ID)+"?done=registered", http.StatusSeeOther)
			return
		}
		var be *bankbridge.Error
		switch {
		case errors.Is(err, consent.ErrNoAttestation):
			errs["attest"] = "Registration refused: the partner must sign the secondary-use attestation (and name who signed)."
		case errors.Is(err, consent.ErrPartnerInvalid) && errors.As(err, &be):
			fieldErrors(errs, be.Fields)
		case errors.Is(err, consent.ErrPartnerTaken):
			errs["id"] = "A partner with that id is already registered."
		default:
			s.fail(w, r, err)
			return
		}
	}
	errs[""] = "The partner was not registered. Correct the fields marked below."
	s.renderPartners(w, r, v, http.StatusBadRequest, f, errs)
}

// consolePartner shows one partner, its declared purposes, its history of
// registrations, suspensions and refusals with their reasons, and the
// actions the visitor's role allows.
func (s *server) consolePartner(w http.ResponseWriter, r *http.Request, v *visit) {
	s.renderPartner(w, r, v, http.StatusOK, "")
}

func (s *server) renderPartner(w http.ResponseWriter, r *http.Request, v *visit, status int, problem string) {
	pa := s.partners()
	if pa == nil {
		s.notFound(w, r, v)
		return
	}
	id := consent.PartnerID(r.PathValue("id"))
	p, err := pa.Partner(r.Context(), id)
	if errors.Is(err, consent.ErrPartnerNotFound) {
		s.notFound(w, r, v)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	hist, err := pa.PartnerHistory(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	slices.Reverse(hist) // newest first
	view := consolePartnerView{Partner: p, History: hist, Error: problem,
		CanSuspend:   p.Status == consent.PartnerActive && slices.Contains(partnerSuspendRoles, v.sess.Role),
		CanReinstate: p.Status == consent.PartnerSuspended && slices.Contains(partnerAdminRoles, v.sess.Role),
		CanRefuse:    p.Status != consent.PartnerRefused && slices.Contains(partnerAdminRoles, v.sess.Role)}
	for _, c := range sortedClusters(p.Purposes) {
		view.Clusters = append(view.Clusters, purposeRow{ClusterInfo: c.Info(), Value: p.Purposes[c]})
	}
	pg := s.consolePage(v, p.LegalName)
	pg.Nav = "partners"
	switch r.URL.Query().Get("done") {
	case "registered":
		pg.Flash = "Partner registered and active."
	case "suspended":
		pg.Flash = "Partner suspended: its tokens and requests are refused from now on."
	case "reinstated":
		pg.Flash = "Partner reinstated."
	case "refused":
		pg.Flash = "Partner refused."
	}
	pg.Data = view
	s.render(w, r, status, "console_partner", pg)
}

// partnerChange is one of PartnerAdmin's status changes as a method
// expression (PartnerAdmin.SuspendPartner).
type partnerChange func(pa PartnerAdmin, ctx context.Context, id consent.PartnerID, reason, by string) error

// partnerAction makes the handler of one status change (suspend,
// reinstate, refuse). The role check is in routes; the reason is required
// and kept in the partner's history and the audit log.
func (s *server) partnerAction(done string, do partnerChange) func(http.ResponseWriter, *http.Request, *visit) {
	return func(w http.ResponseWriter, r *http.Request, v *visit) {
		pa := s.partners()
		if pa == nil {
			s.notFound(w, r, v)
			return
		}
		id := consent.PartnerID(r.PathValue("id"))
		reason := strings.TrimSpace(r.PostForm.Get("reason"))
		err := do(pa, r.Context(), id, reason, staffActor(v))
		switch {
		case err == nil:
			s.Logger.LogAttrs(r.Context(), slog.LevelInfo, "web: partner "+done,
				slog.String("request_id", bankbridge.RequestID(r.Context())), slog.Int64("staff", int64(v.sess.Staff)),
				slog.String("partner", string(id)))
			http.Redirect(w, r, "/console/partners/"+string(id)+"?done="+done, http.StatusSeeOther)
		case errors.Is(err, consent.ErrPartnerNotFound):
			s.notFound(w, r, v)
		case errors.Is(err, consent.ErrReasonRequired):
			s.renderPartner(w, r, v, http.StatusBadRequest, "Give the reason, in a sentence (3 to 500 characters): it is kept in the partner's history.")
		case errors.Is(err, consent.ErrPartnerSameState), errors.Is(err, consent.ErrPartnerFinal):
			s.renderPartner(w, r, v, http.StatusConflict, bankbridge.ErrorMessage(err))
		default:
			s.fail(w, r, err)
		}
	}
}
