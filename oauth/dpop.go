package oauth

import (
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/bankbridge/bankbridge/consent"
)

// maxProof bounds a DPoP proof: a JWS with an embedded public key (an RSA
// 4096 key is the largest we accept) fits easily.
const maxProof = 8 << 10

// proofClaims are the claims of a DPoP proof (RFC 9449 §4.2).
type proofClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	ATH   string `json:"ath,omitempty"`
	Nonce string `json:"nonce,omitempty"`
}

// proof is a DPoP proof whose signature verified with the key it embeds.
type proof struct {
	claims proofClaims
	jkt    string // RFC 7638 thumbprint of the embedded key, base64url
}

// parseProof checks the parts of a DPoP proof that need nothing but the
// proof itself (RFC 9449 §4.3 steps 2-6): one well-formed JWS, typ
// dpop+jwt, an allowed asymmetric algorithm, an embedded public jwk, and a
// signature that verifies with it. Claims are returned for the caller's
// request-bound checks, and the protected header for proofKeys.
func parseProof(raw string) (proof, jose.Header, error) {
	if len(raw) == 0 || len(raw) > maxProof {
		return proof{}, jose.Header{}, errors.New("missing or oversized DPoP proof")
	}
	// Only FAPI 2.0's algorithms parse: never none, never HMAC (step 4).
	jws, err := jose.ParseSignedCompact(raw, consent.SigningAlgs)
	if err != nil {
		return proof{}, jose.Header{}, err
	}
	if len(jws.Signatures) != 1 {
		return proof{}, jose.Header{}, errors.New("exactly one signature expected")
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" { // step 3
		return proof{}, jose.Header{}, errors.New(`typ must be "dpop+jwt"`)
	}
	jwk := h.JSONWebKey
	if jwk == nil || !jwk.Valid() || !jwk.IsPublic() { // step 5 (go-jose also refuses private embedded keys)
		return proof{}, jose.Header{}, errors.New("the proof must embed a public jwk")
	}
	payload, err := jws.Verify(jwk) // step 6
	if err != nil {
		return proof{}, jose.Header{}, err
	}
	var c proofClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return proof{}, jose.Header{}, err
	}
	if err := c.required(); err != nil {
		return proof{}, jose.Header{}, err
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return proof{}, jose.Header{}, err
	}
	return proof{claims: c, jkt: base64.RawURLEncoding.EncodeToString(tp)}, h, nil
}

// required checks the claims every proof carries.
func (c proofClaims) required() error {
	if c.JTI == "" || len(c.JTI) > 256 || c.HTM == "" || c.HTU == "" || c.IAT == 0 {
		return errors.New("jti, htm, htu and iat are required")
	}
	return nil
}

// proofCheck is what a proof must match besides its own form.
type proofCheck struct {
	method     string // htm (RFC 9449 §4.3 step 8)
	base, path string // htu is base+path (step 9), kept apart so that the common match needs no concatenation
	// tokenHash, when presenting a token, is its SHA-256: ath must name it (step 11).
	tokenHash *[sha256.Size]byte
	now       time.Time // iat within proofWindow of it (step 10)
}

// htuOf returns u as compared with another htu: without query and fragment,
// which htu never carries (RFC 9449 §4.2), and normalised as RFC 9449 §4.3
// step 9 asks, by syntax (RFC 3986 §6.2.2: scheme and host in lower case,
// percent-encodings in upper case, unreserved characters decoded, dot
// segments removed) and by scheme (§6.2.3: the default port and an empty
// path dropped). ok is false for anything but an absolute http(s) URI.
func htuOf(u string) (string, bool) {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	p, err := url.Parse(u)
	if err != nil || p.Opaque != "" || p.User != nil || p.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(p.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host, port := strings.ToLower(p.Hostname()), p.Port()
	if scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	path := normalPath(p.EscapedPath())
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, true
}

// normalPath applies RFC 3986 §6.2.2.1-3 to an escaped path: hex digits of
// percent-encodings in upper case, encoded unreserved characters decoded,
// then §5.2.4's removal of dot segments.
func normalPath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) && ishex(p[i+1]) && ishex(p[i+2]) {
			c := unhex(p[i+1])<<4 | unhex(p[i+2])
			if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
				b.WriteByte(c)
			} else {
				b.WriteString("%" + strings.ToUpper(p[i+1:i+3]))
			}
			i += 2
			continue
		}
		b.WriteByte(p[i])
	}
	return removeDots(b.String())
}

// removeDots is RFC 3986 §5.2.4.
func removeDots(in string) string {
	var out []string
	segs := strings.Split(in, "/")
	for i, s := range segs {
		switch s {
		case ".":
			if i == len(segs)-1 {
				out = append(out, "")
			}
		case "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			if i == len(segs)-1 {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return strings.Join(out, "/")
}

func ishex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// check verifies the request-bound claims.
func (p proof) check(c proofCheck) error {
	if p.claims.HTM != c.method {
		return errors.New("htm does not match the request method")
	}
	// The common case, a client sending the URL as the server spells it,
	// needs no parsing: only a claim that differs is normalised.
	if htu := p.claims.HTU; len(htu) != len(c.base)+len(c.path) || !strings.HasPrefix(htu, c.base) || !strings.HasSuffix(htu, c.path) {
		got, ok := htuOf(htu)
		want, _ := htuOf(c.base + c.path)
		if !ok || got != want {
			return errors.New("htu does not match the request URL")
		}
	}
	iat := time.Unix(p.claims.IAT, 0)
	if iat.Before(c.now.Add(-proofWindow)) || iat.After(c.now.Add(proofWindow)) {
		return errors.New("iat is outside the acceptable window")
	}
	if c.tokenHash != nil {
		if !sameHash(p.claims.ATH, c.tokenHash) {
			return errors.New("ath does not match the access token")
		}
	} else if p.claims.ATH != "" {
		return errors.New("ath without an access token")
	}
	return nil
}

// sameHash reports whether ath, base64url, decodes to want. A hash in its
// usual 43 characters is decoded on the stack; any other spelling the
// decoder accepts (it skips CR and LF) takes the general path.
func sameHash(ath string, want *[sha256.Size]byte) bool {
	var buf [sha256.Size]byte
	got := buf[:]
	if len(ath) == base64.RawURLEncoding.EncodedLen(sha256.Size) {
		n, err := base64.RawURLEncoding.Decode(buf[:], []byte(ath))
		if err != nil {
			return false
		}
		got = buf[:n]
	} else {
		var err error
		if got, err = base64.RawURLEncoding.DecodeString(ath); err != nil {
			return false
		}
	}
	return subtle.ConstantTimeCompare(got, want[:]) == 1
}

// dpopHeader returns the one DPoP header of r (RFC 9449 §4.3 step 1).
func dpopHeader(r *http.Request) (string, error) {
	vs := r.Header.Values("DPoP")
	switch {
	case len(vs) == 0:
		return "", errors.New("a DPoP proof is required")
	case len(vs) > 1 || strings.Contains(vs[0], ","):
		return "", errors.New("exactly one DPoP header is allowed")
	}
	return vs[0], nil
}

// Nonces (RFC 9449 §8-9) are stateless so that any instance accepts what
// another issued: 8 bytes of issue time and an HMAC of it under the server's
// secret, base64url.

// nonce returns a fresh nonce for now.
func (s *Server) nonce(now time.Time) string {
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.Unix()))
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte("dpop-nonce"))
	mac.Write(b[:8])
	copy(b[8:], mac.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validNonce reports whether n is a nonce this server issued within the
// last nonceTTL.
func (s *Server) validNonce(n string, now time.Time) bool {
	b, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil || len(b) != 24 {
		return false
	}
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte("dpop-nonce"))
	mac.Write(b[:8])
	if !hmac.Equal(mac.Sum(nil)[:16], b[8:]) {
		return false
	}
	at := time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0)
	return !at.After(now.Add(5*time.Second)) && now.Sub(at) <= nonceTTL
}

// replayCache remembers proof jtis in memory for the resource server, where
// a database write per API call would cost more than the whole check. Two
// generations rotate every 2*proofWindow, so an id is kept at least as long
// as a proof with it can pass the iat check.
type replayCache struct {
	mu        sync.Mutex
	cur, prev map[replayKey]struct{}
	rotated   time.Time
}

// replayKey is a proof's key thumbprint and jti: a jti is unique per key.
type replayKey struct{ jkt, jti string }

func newReplayCache() *replayCache {
	return &replayCache{cur: map[replayKey]struct{}{}, prev: map[replayKey]struct{}{}}
}

// fresh records key and reports whether it was not seen before.
func (c *replayCache) fresh(key replayKey, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.rotated) >= 2*proofWindow {
		c.prev, c.cur, c.rotated = c.cur, make(map[replayKey]struct{}, len(c.cur)), now
	}
	if _, ok := c.cur[key]; ok {
		return false
	}
	if _, ok := c.prev[key]; ok {
		return false
	}
	c.cur[key] = struct{}{}
	return true
}

// endpointProof checks the DPoP proof sent to one of our own endpoints
// (path under the issuer): RFC 9449 §4.3 in full, with a server nonce unless
// Deps.NoNonce (§8), and its jti recorded in the store so that no instance
// accepts it twice (§11.1). Without a proof it answers ok=false, or an error
// when required.
func (s *Server) endpointProof(r *http.Request, path string, required bool) (p proof, ok bool, oerr *Error) {
	raw, err := dpopHeader(r)
	if err != nil {
		if !required && len(r.Header.Values("DPoP")) == 0 {
			return proof{}, false, nil
		}
		return proof{}, false, badProof(err.Error())
	}
	p, err = s.proofs.parse(raw)
	if err != nil {
		return proof{}, false, badProof("the DPoP proof is not valid: " + err.Error())
	}
	now := s.now()
	if err := p.check(proofCheck{method: r.Method, base: s.d.Issuer, path: path, now: now}); err != nil {
		return proof{}, false, badProof(err.Error())
	}
	if !s.d.NoNonce && !s.validNonce(p.claims.Nonce, now) {
		e := errf(http.StatusBadRequest, codeUseDPoPNonce, "use the DPoP-Nonce this response carries")
		e.Nonce = s.nonce(now)
		return proof{}, false, e
	}
	fresh, err := s.store.UseJTI(r.Context(), "dpop:"+p.jkt+":"+p.claims.JTI, now.Add(2*proofWindow), now)
	if err != nil {
		return proof{}, false, s.internal(r, err)
	}
	if !fresh {
		return proof{}, false, badProof("the DPoP proof was already used (jti)")
	}
	return p, true, nil
}
