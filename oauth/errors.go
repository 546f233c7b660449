package oauth

import (
	"encoding/json"
	"net/http"
)

// Error is an OAuth error as RFC 6749 §5.2 shapes it: a registered code and
// a description safe to show to the client's developer. OAuth endpoints keep
// this shape instead of problem+json, as OAuth clients expect.
type Error struct {
	Code        string // invalid_request, invalid_client, invalid_grant, ...
	Description string
	Status      int
	// Nonce, when set, is sent as DPoP-Nonce (RFC 9449 §8).
	Nonce string
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

// The error codes used, with their RFC sections.
const (
	codeInvalidRequest       = "invalid_request"        // RFC 6749 §5.2
	codeInvalidClient        = "invalid_client"         // RFC 6749 §5.2
	codeInvalidGrant         = "invalid_grant"          // RFC 6749 §5.2
	codeUnauthorizedClient   = "unauthorized_client"    // RFC 6749 §5.2
	codeUnsupportedGrantType = "unsupported_grant_type" // RFC 6749 §5.2
	codeInvalidScope         = "invalid_scope"          // RFC 6749 §5.2
	codeUnsupportedResponse  = "unsupported_response_type"
	codeAccessDenied         = "access_denied"                 // RFC 6749 §4.1.2.1
	codeInvalidDetails       = "invalid_authorization_details" // RFC 9396 §5
	codeInvalidDPoPProof     = "invalid_dpop_proof"            // RFC 9449 §5
	codeUseDPoPNonce         = "use_dpop_nonce"                // RFC 9449 §8
	codeInvalidToken         = "invalid_token"                 // RFC 6750 §3.1
	codeServerError          = "server_error"
	codeTemporarilyUnavail   = "temporarily_unavailable"
)

func errf(status int, code, desc string) *Error {
	return &Error{Code: code, Description: desc, Status: status}
}

func badRequest(desc string) *Error { return errf(http.StatusBadRequest, codeInvalidRequest, desc) }
func badClient(desc string) *Error  { return errf(http.StatusUnauthorized, codeInvalidClient, desc) }
func badGrant(desc string) *Error   { return errf(http.StatusBadRequest, codeInvalidGrant, desc) }
func badProof(desc string) *Error   { return errf(http.StatusBadRequest, codeInvalidDPoPProof, desc) }

// writeJSON answers v with no caching, as RFC 6749 §5.1 requires of every
// response carrying tokens.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers e in RFC 6749's shape.
func writeError(w http.ResponseWriter, e *Error) {
	if e.Nonce != "" {
		w.Header().Set("DPoP-Nonce", e.Nonce)
	}
	writeJSON(w, e.Status, map[string]string{"error": e.Code, "error_description": e.Description})
}
