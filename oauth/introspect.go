package oauth

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"net/http"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/bankbridge/bankbridge/consent"
)

// tokenInfo is what a presented token refers to.
type tokenInfo struct {
	grant   consent.GrantID
	partner consent.PartnerID
	access  *accessClaims // nil for a refresh token
	jkt     string
}

// lookup identifies a token of ours, access (a JWT we signed, unexpired) or
// refresh (by hash); ok is false for anything else.
func (s *Server) lookup(ctx context.Context, raw string) (tokenInfo, bool, error) {
	if raw == "" || len(raw) > 8<<10 {
		return tokenInfo{}, false, nil
	}
	if strings.Count(raw, ".") == 2 {
		c, err := s.parseAccess(raw)
		if err != nil {
			return tokenInfo{}, false, nil
		}
		return tokenInfo{grant: consent.GrantID(c.GrantID), partner: consent.PartnerID(c.ClientID), access: &c, jkt: c.Confirm.JKT}, true, nil
	}
	rt, err := s.store.RefreshToken(ctx, hashToken(raw))
	if errors.Is(err, consent.ErrTokenNotFound) {
		return tokenInfo{}, false, nil
	}
	if err != nil {
		return tokenInfo{}, false, err
	}
	return tokenInfo{grant: rt.Grant, partner: rt.Partner, jkt: rt.JKT}, true, nil
}

// parseAccess verifies one of our access tokens: our key, typ at+jwt, our
// issuer and audience, not expired (RFC 9068 §4).
func (s *Server) parseAccess(raw string) (accessClaims, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return accessClaims{}, err
	}
	ks, err := s.keySet(context.Background())
	if err != nil {
		return accessClaims{}, err
	}
	var pub *ecdsa.PublicKey
	if len(tok.Headers) == 1 {
		pub = ks.verify[tok.Headers[0].KeyID] // any key not retired: tokens outlive a rotation
	}
	if pub == nil {
		return accessClaims{}, errors.New("not signed by this server")
	}
	if typ, _ := tok.Headers[0].ExtraHeaders[jose.HeaderType].(string); typ != "at+jwt" {
		return accessClaims{}, errors.New("not an access token")
	}
	var c accessClaims
	if err := tok.Claims(pub, &c); err != nil {
		return accessClaims{}, err
	}
	c.kid = tok.Headers[0].KeyID
	for _, f := range strings.Fields(c.Scope) {
		c.scope = append(c.scope, consent.Cluster(f))
	}
	switch {
	case c.Issuer != s.d.Issuer || !c.Audience.Contains(s.d.Issuer):
		return accessClaims{}, errors.New("wrong issuer or audience")
	case c.Expiry == nil || !s.now().Before(c.Expiry.Time()):
		return accessClaims{}, errors.New("expired")
	case c.Confirm.JKT == "" || c.GrantID == "":
		return accessClaims{}, errors.New("not sender-constrained")
	}
	return c, nil
}

// introspect is RFC 7662 token introspection, for the client's own tokens
// (a partner learns nothing about another's). Any token not in force, for
// whatever reason, is {"active": false} (§2.2).
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		writeError(w, badRequest("the body must be application/x-www-form-urlencoded"))
		return
	}
	p, oerr := s.authenticateClient(r, r.PostForm)
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	ti, ok, err := s.lookup(r.Context(), r.PostForm.Get("token"))
	if err != nil {
		writeError(w, s.internal(r, err))
		return
	}
	inactive := map[string]any{"active": false}
	if !ok || ti.partner != p.ID {
		writeJSON(w, http.StatusOK, inactive)
		return
	}
	g, _, err := s.d.Consent.Check(r.Context(), ti.grant)
	if err != nil {
		writeJSON(w, http.StatusOK, inactive)
		return
	}
	out := map[string]any{
		"active": true, "client_id": string(p.ID), "iss": s.d.Issuer, "token_type": "DPoP",
		"grant_id": string(g.ID), "sub": s.subject(p.ID, g.Customer), "cnf": map[string]string{"jkt": ti.jkt},
	}
	if ti.access != nil {
		// What this access token carries, which a refresh may have narrowed.
		var clusters []consent.Cluster
		for _, f := range strings.Fields(ti.access.Scope) {
			clusters = append(clusters, consent.Cluster(f))
		}
		out["scope"], out["exp"], out["iat"], out["jti"] = ti.access.Scope, ti.access.Expiry, ti.access.IssuedAt, ti.access.ID
		out["authorization_details"] = s.detailsOf(g, clusters, ti.access.Lookback)
	} else {
		clusters := g.Clusters()
		sc := make([]string, len(clusters))
		for i, c := range clusters {
			sc[i] = string(c)
		}
		out["scope"], out["exp"] = strings.Join(sc, " "), g.Expires.Unix()
		out["authorization_details"] = s.detailsOf(g, clusters, 0)
	}
	writeJSON(w, http.StatusOK, out)
}

// revoke is RFC 7009 revocation. Our tokens are all handles on one consent,
// so revoking any of them (refresh or access) revokes the consent: every
// token it backs stops working at the next check, on every instance within
// a second (RFC 7009 §2.1 lets the server revoke more than the token
// presented; it asks that revoking a refresh token also revoke its access
// tokens). An unknown token, or another client's, is answered 200 and
// changes nothing (§2.2).
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		writeError(w, badRequest("the body must be application/x-www-form-urlencoded"))
		return
	}
	p, oerr := s.authenticateClient(r, r.PostForm)
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	if r.PostForm.Get("token") == "" {
		writeError(w, badRequest("token is required"))
		return
	}
	ti, ok, err := s.lookup(r.Context(), r.PostForm.Get("token"))
	if err != nil {
		writeError(w, s.internal(r, err))
		return
	}
	if ok && ti.partner == p.ID {
		if _, err := s.d.Consent.Revoke(r.Context(), ti.grant, "partner", "the partner revoked its token (RFC 7009)"); err != nil && !errors.Is(err, consent.ErrGrantNotFound) {
			writeError(w, s.internal(r, err))
			return
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}
