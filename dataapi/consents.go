package dataapi

import (
	"encoding/json"
	"io"
	"mime"
	"strings"

	"github.com/bankbridge/bankbridge/consent"
)

// ConsentResource is one account of a consent, by the partner's id.
type ConsentResource struct {
	ResourceType string   `json:"resourceType"`
	ResourceID   string   `json:"resourceId"`
	DataClusters []string `json:"dataClusters"`
}

// ConsentParty is FDX's Party.
type ConsentParty struct {
	Name string `json:"name,omitempty"`
	Type string `json:"type"`
}

// ConsentGrant is FDX's ConsentGrant as the partner sees it.
type ConsentGrant struct {
	ID             string            `json:"id"`
	Status         string            `json:"status"`
	Parties        []ConsentParty    `json:"parties"`
	CreatedTime    string            `json:"createdTime"`
	UpdatedTime    string            `json:"updatedTime"`
	ExpirationTime string            `json:"expirationTime"`
	DurationType   string            `json:"durationType"`
	DurationPeriod int               `json:"durationPeriod"`
	LookbackPeriod int               `json:"lookbackPeriod"`
	Resources      []ConsentResource `json:"resources"`
}

// grantOf shapes g for the partner: accounts by the partner's ids, the
// customer not named (the partner knows them by the token's subject).
func (c *call) grantOf(g consent.Grant) ConsentGrant {
	out := ConsentGrant{ID: string(g.ID), Status: string(g.Status), CreatedTime: ts(g.Created), UpdatedTime: ts(g.Updated),
		ExpirationTime: ts(g.Expires), DurationType: string(g.DurationType), DurationPeriod: g.DurationDays, LookbackPeriod: g.LookbackDays,
		Parties:   []ConsentParty{{Name: c.s.d.BankName, Type: "DATA_PROVIDER"}, {Name: c.acc.Partner.LegalName, Type: "DATA_RECIPIENT"}, {Type: "INDIVIDUAL"}},
		Resources: []ConsentResource{}}
	for _, r := range g.Resources {
		cr := ConsentResource{ResourceType: "ACCOUNT", ResourceID: c.s.ids.Account(c.partner, r.Account), DataClusters: []string{}}
		for _, cl := range r.Clusters {
			cr.DataClusters = append(cr.DataClusters, string(cl))
		}
		out.Resources = append(out.Resources, cr)
	}
	return out
}

// ownConsent answers whether id is the consent the token stands on: a
// partner reads and revokes only that one (another partner's, or another
// of its own customers', is not found).
func (c *call) ownConsent() bool {
	id := c.r.PathValue("consentId")
	return len(id) <= 64 && id == string(c.acc.Grant.ID)
}

func (s *Server) consentGet(c *call) {
	if !c.ownConsent() {
		c.fail(errNotFound)
		return
	}
	g, err := s.d.Consents.Grant(c.ctx, c.acc.Grant.ID)
	if err != nil {
		c.fail(err)
		return
	}
	c.json(200, c.grantOf(g))
}

// RevocationRequest is FDX's ConsentRevocationRequest: why the partner
// revokes. Both fields are optional.
type RevocationRequest struct {
	Reason    string `json:"reason,omitempty"`
	Initiator string `json:"initiator,omitempty"`
}

// revocationReasons are FDX's ConsentRevocationReason values.
var revocationReasons = []string{"BUSINESS_RULE", "USER_ACTION"}

// consentRevoke is PUT /consents/{consentId}/revocation: 204 when revoked
// now, 409 when it had already ended. Once revoked the token stops working
// (within the Verifier's one-second cache), so a later call answers 401.
func (s *Server) consentRevoke(c *call) {
	if !c.ownConsent() {
		c.fail(errNotFound)
		return
	}
	var req RevocationRequest
	if c.r.ContentLength != 0 || c.r.Header.Get("Content-Type") != "" {
		if err := c.decode(&req); err != nil {
			c.fail(err)
			return
		}
		if req.Reason != "" && !contains(revocationReasons, req.Reason) {
			c.fail(fieldErr(errBody, "/reason", "one of BUSINESS_RULE, USER_ACTION"))
			return
		}
		if len(req.Initiator) > 64 {
			c.fail(fieldErr(errBody, "/initiator", "at most 64 characters"))
			return
		}
	}
	g, err := s.d.Consents.Grant(c.ctx, c.acc.Grant.ID)
	if err != nil {
		c.fail(err)
		return
	}
	if g.Status != consent.Active {
		c.fail(errRevoked)
		return
	}
	reason := "revoked by the partner through the data API"
	if req.Reason != "" {
		reason += " (" + req.Reason + ")"
	}
	if _, err := s.d.Consents.Revoke(c.ctx, g.ID, "partner", reason); err != nil {
		c.fail(err)
		return
	}
	c.noContent()
}

// decode reads a JSON body of at most 16 KiB into v, refusing another
// content type, unknown fields and trailing data.
func (c *call) decode(v any) error {
	mt, _, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errContentType
	}
	if c.r.ContentLength > maxBody {
		return errBodyTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(c.r.Body, maxBody+1))
	if err != nil {
		return errBody.WithMessage("the body could not be read")
	}
	if len(body) > maxBody {
		return errBodyTooLarge
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return errBody
	}
	if dec.More() {
		return errBody.WithMessage("the body holds more than one JSON value")
	}
	return nil
}
