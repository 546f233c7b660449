package dataapi

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"net/http"
	"strings"
)

// OpenAPI is the API's OpenAPI 3.1 document, served at /openapi.json. Tests
// validate every answer against it.
//
//go:embed openapi.json
var OpenAPI []byte

//go:embed docs.html
var docsHTML []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(OpenAPI)
}

// docsPage is a readable rendering of the document, drawn in the browser
// from /openapi.json by a small inline script: no CDN, nothing fetched
// from elsewhere.
func (s *Server) docsPage(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'sha256-"+docsScriptHash+"'; style-src 'unsafe-inline'; connect-src 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(docsHTML)
}

// docsScriptHash is the CSP hash of the page's one inline script.
var docsScriptHash = func() string {
	s := string(docsHTML)
	i := strings.Index(s, "<script>")
	j := strings.Index(s, "</script>")
	sum := sha256.Sum256([]byte(s[i+len("<script>") : j]))
	return base64.StdEncoding.EncodeToString(sum[:])
}()
