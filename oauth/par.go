package oauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/bankbridge/bankbridge/consent"
)

// RequestURIPrefix starts every request_uri we issue (RFC 9126 §2.2).
const RequestURIPrefix = "urn:ietf:params:oauth:request_uri:"

// maxForm bounds the body of any endpoint; a PAR with a long
// authorization_details is a few kilobytes.
const maxForm = 64 << 10

// ConsentRequest is FDX's consent request as carried in an
// authorization_details entry of type fdx_v1.0 (RFC 9396 §2).
type ConsentRequest struct {
	DurationType   string            `json:"durationType,omitempty"`
	DurationPeriod int               `json:"durationPeriod,omitempty"` // days
	LookbackPeriod int               `json:"lookbackPeriod,omitempty"` // days
	Resources      []DetailsResource `json:"resources"`
}

// DetailsResource is one resource of a consent request or grant: the data
// clusters for accounts (and, in a grant, the account's opaque id).
type DetailsResource struct {
	ResourceType string            `json:"resourceType"`
	ResourceID   string            `json:"resourceId,omitempty"`
	DataClusters []consent.Cluster `json:"dataClusters"`
}

// AuthorizationDetail is one RFC 9396 authorization_details entry.
type AuthorizationDetail struct {
	Type           string         `json:"type"`
	ConsentRequest ConsentRequest `json:"consentRequest"`
}

// wanted is what a partner asks for, from its authorization_details.
type wanted struct {
	clusters         []consent.Cluster
	duration, lookbk int
	// durationSet and lookbkSet say whether the request named them: a
	// refresh narrowing a consent takes the consent's own for a missing one,
	// never the defaults of a new request.
	durationSet, lookbkSet bool
}

// parseDetails reads authorization_details (RFC 9396 §2): exactly one entry
// of type fdx_v1.0 whose consent request names known clusters for ACCOUNT
// resources, a TIME_BOUND duration of at most 365 days and a look-back of at
// most 730. Unknown members are refused rather than ignored (§5: the AS
// must not grant what it does not understand).
func parseDetails(raw string) (wanted, error) {
	if len(raw) == 0 || len(raw) > 16<<10 {
		return wanted{}, errors.New("authorization_details is required")
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	var ds []AuthorizationDetail
	if err := dec.Decode(&ds); err != nil {
		return wanted{}, fmt.Errorf("authorization_details is not a JSON array of known objects: %w", err)
	}
	if dec.More() {
		return wanted{}, errors.New("trailing data after authorization_details")
	}
	if len(ds) != 1 || ds[0].Type != DetailsType {
		return wanted{}, fmt.Errorf("exactly one authorization_details entry of type %s is supported", DetailsType)
	}
	cr := ds[0].ConsentRequest
	w := wanted{duration: cr.DurationPeriod, lookbk: cr.LookbackPeriod, durationSet: cr.DurationPeriod != 0, lookbkSet: cr.LookbackPeriod != 0}
	if cr.DurationType != "" && cr.DurationType != string(consent.TimeBound) {
		return wanted{}, errors.New("only TIME_BOUND consents are offered")
	}
	if w.duration == 0 {
		w.duration = consent.DefaultDays
	}
	if w.lookbk == 0 {
		w.lookbk = consent.DefaultLookbackDays
	}
	if w.duration < 1 || w.duration > consent.MaxDays {
		return wanted{}, fmt.Errorf("durationPeriod must be 1 to %d days", consent.MaxDays)
	}
	if w.lookbk < 1 || w.lookbk > consent.MaxLookbackDays {
		return wanted{}, fmt.Errorf("lookbackPeriod must be 1 to %d days", consent.MaxLookbackDays)
	}
	if len(cr.Resources) == 0 {
		return wanted{}, errors.New("consentRequest.resources is empty")
	}
	for _, r := range cr.Resources {
		if r.ResourceType != "ACCOUNT" || r.ResourceID != "" {
			return wanted{}, errors.New(`resources are of resourceType "ACCOUNT", without ids: the customer chooses the accounts`)
		}
		for _, c := range r.DataClusters {
			if !c.Valid() {
				return wanted{}, fmt.Errorf("unknown data cluster %q", c)
			}
			if !slices.Contains(w.clusters, c) {
				w.clusters = append(w.clusters, c)
			}
		}
	}
	if len(w.clusters) == 0 {
		return wanted{}, errors.New("no data clusters asked for")
	}
	return w, nil
}

// pkceChallenge is an S256 challenge: base64url of 32 bytes, 43 characters
// (RFC 7636 §4.2).
var pkceChallenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// par is the pushed authorization request endpoint (RFC 9126 §2). The
// client authenticates (private_key_jwt), the whole request is validated
// here, and the answer is a request_uri the browser carries to the
// authorization endpoint. FAPI 2.0 §5.3.2.2 makes PAR the only way in.
func (s *Server) par(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		writeError(w, badRequest("the body must be application/x-www-form-urlencoded"))
		return
	}
	form := r.PostForm
	if len(r.URL.Query()) > 0 {
		writeError(w, badRequest("parameters go in the body, not the query"))
		return
	}
	// The proof is checked first: a use_dpop_nonce answer must not have
	// spent the client assertion the client will send again.
	// RFC 9449 §10.1: a proof at PAR binds the code to its key, as dpop_jkt does.
	pr, hasProof, oerr := s.endpointProof(r, PathPAR, false)
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	p, oerr := s.authenticateClient(r, form)
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	now := s.now()
	jkt := form.Get("dpop_jkt")
	if hasProof {
		if jkt != "" && jkt != pr.jkt {
			writeError(w, badRequest("dpop_jkt does not match the DPoP proof's key")) // RFC 9449 §10.1
			return
		}
		jkt = pr.jkt
	}
	switch {
	case form.Has("request_uri"):
		writeError(w, badRequest("request_uri is not allowed in a pushed request")) // RFC 9126 §2.1
		return
	case form.Has("request"):
		writeError(w, errf(http.StatusBadRequest, "request_not_supported", "signed request objects are not supported"))
		return
	case form.Get("response_type") != "code":
		writeError(w, errf(http.StatusBadRequest, codeUnsupportedResponse, "response_type must be code"))
		return
	case form.Has("response_mode") && form.Get("response_mode") != "query":
		writeError(w, badRequest("response_mode must be query"))
		return
	}
	redirect := form.Get("redirect_uri")
	if !p.AllowsRedirect(redirect) { // exact match: FAPI 2.0 §5.3.1.2, RFC 9700 §4.1.3
		writeError(w, badRequest("redirect_uri is not registered for this client (compared exactly)"))
		return
	}
	// RFC 7636 §4.3, FAPI 2.0 §5.3.2.2: PKCE with S256 only.
	challenge, method := form.Get("code_challenge"), form.Get("code_challenge_method")
	switch {
	case challenge == "":
		writeError(w, badRequest("code_challenge is required (PKCE, S256)"))
		return
	case method != "S256":
		writeError(w, badRequest("code_challenge_method must be S256"))
		return
	case !pkceChallenge.MatchString(challenge):
		writeError(w, badRequest("code_challenge must be the base64url SHA-256 of the verifier"))
		return
	}
	state := form.Get("state")
	if len(state) > 512 {
		writeError(w, badRequest("state is too long"))
		return
	}
	want, err := parseDetails(form.Get("authorization_details"))
	if err != nil {
		writeError(w, errf(http.StatusBadRequest, codeInvalidDetails, err.Error()))
		return
	}
	for _, c := range want.clusters {
		if p.Purpose(c) == "" {
			writeError(w, errf(http.StatusBadRequest, codeInvalidDetails,
				fmt.Sprintf("%s was not declared with a purpose when this client registered", c)))
			return
		}
	}
	if sc := form.Get("scope"); sc != "" && !subset(strings.Fields(sc), want.clusters) {
		writeError(w, errf(http.StatusBadRequest, codeInvalidScope, "scope may only repeat the data clusters in authorization_details"))
		return
	}
	q := consent.Request{
		ID: consent.NewRequestID(), Partner: p.ID, RedirectURI: redirect, State: state, CodeChallenge: challenge, DPoPJKT: jkt,
		Clusters: want.clusters, DurationDays: want.duration, LookbackDays: want.lookbk, Created: now, Expires: now.Add(RequestTTL),
	}
	if err := s.store.SaveRequest(r.Context(), q); err != nil {
		writeError(w, s.internal(r, err))
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"request_uri": RequestURIPrefix + q.ID,
		"expires_in":  int(RequestTTL / 1e9),
	})
}

// subset reports whether every scope value names one of the clusters.
func subset(scopes []string, clusters []consent.Cluster) bool {
	for _, sc := range scopes {
		if !slices.Contains(clusters, consent.Cluster(sc)) {
			return false
		}
	}
	return true
}
