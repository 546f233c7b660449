package auditapi

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/problem"
)

// Source is what the endpoints need from the log. *audit.Log implements it.
type Source interface {
	Head(ctx context.Context) (audit.SignedHead, error)
	InclusionByHash(ctx context.Context, leaf audit.Hash, size uint64) (audit.InclusionProof, error)
	Consistency(ctx context.Context, first, second uint64) (audit.ConsistencyProof, error)
	KeyFor(ctx context.Context, id audit.Hash) (ed25519.PublicKey, error)
	PublicKeys(ctx context.Context) ([]ed25519.PublicKey, error)
	// Checkpoint is the latest head as a signed checkpoint note, from the
	// signer's memory (outside the database).
	Checkpoint(ctx context.Context) (audit.Remembered, error)
}

var _ Source = (*audit.Log)(nil)

// New returns the handler of the /audit/v1/ endpoints; mount it at
// "/audit/v1/". log receives internal errors; nil discards them.
func New(src Source, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &api{src: src, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /audit/v1/sth", a.sth)
	mux.HandleFunc("GET /audit/v1/checkpoint", a.checkpoint)
	mux.HandleFunc("GET /audit/v1/keys", a.keys)
	mux.HandleFunc("GET /audit/v1/proof/inclusion", a.inclusion)
	mux.HandleFunc("GET /audit/v1/proof/consistency", a.consistency)
	mux.HandleFunc("/audit/v1/", func(w http.ResponseWriter, r *http.Request) {
		a.fail(w, r, errNoRoute)
	})
	return mux
}

type api struct {
	src Source
	log *slog.Logger
}

var (
	errNoRoute  = bankbridge.E(bankbridge.NotFound, "not_found", "no such endpoint; see /audit/v1/sth")
	errBadParam = bankbridge.E(bankbridge.Invalid, "invalid_parameter", "a query parameter is missing or not valid")
)

// STH is the answer of /audit/v1/sth: the signed head, whose key_id names
// the key that signed it, and that key. After a rotation heads are signed
// by another key: a verifier pins the history at /audit/v1/keys, not one key.
type STH struct {
	audit.SignedHead
	PublicKey ed25519.PublicKey `json:"public_key"`
}

func (a *api) sth(w http.ResponseWriter, r *http.Request) {
	h, err := a.src.Head(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	pub, err := a.src.KeyFor(r.Context(), h.KeyID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// A head changes every few seconds: caches must ask again.
	a.write(w, "no-cache", STH{SignedHead: h, PublicKey: pub})
}

// checkpoint serves the latest head as a C2SP tlog-checkpoint signed note
// (https://c2sp.org/tlog-checkpoint: text/plain, the note as signed), so
// note tools and witnesses read it without knowing this API.
func (a *api) checkpoint(w http.ResponseWriter, r *http.Request) {
	m, err := a.src.Checkpoint(r.Context())
	if err == nil && m.Checkpoint == "" {
		err = audit.ErrNoHead.WithOp("auditapi.checkpoint", nil)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	io.WriteString(w, m.Checkpoint)
}

// Key is one key of the log's history, as /audit/v1/keys lists it.
type Key struct {
	KeyID     audit.Hash        `json:"key_id"`     // what heads name in their key_id
	PublicKey ed25519.PublicKey `json:"public_key"` // Ed25519, 32 bytes, base64
}

// Keys is the answer of /audit/v1/keys: every key that signed, or will
// sign, heads of the log, oldest first (a rotated key is listed before it
// signs).
type Keys struct {
	Keys []Key `json:"keys"`
}

func (a *api) keys(w http.ResponseWriter, r *http.Request) {
	pubs, err := a.src.PublicKeys(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := Keys{Keys: make([]Key, len(pubs))}
	for i, p := range pubs {
		out.Keys[i] = Key{KeyID: audit.KeyID(p), PublicKey: p}
	}
	// Short: a rotation publishes its key here before the key signs.
	a.write(w, "public, max-age=60", out)
}

func (a *api) inclusion(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	leaf, err := audit.ParseHash(q.Get("leaf_hash"))
	if err != nil {
		a.fail(w, r, badParam("leaf_hash", "64 hex digits or the base64 of 32 bytes"))
		return
	}
	size, ok := uintParam(q.Get("tree_size"), true)
	if !ok {
		a.fail(w, r, badParam("tree_size", "a positive whole number, or absent for the latest tree head"))
		return
	}
	p, err := a.src.InclusionByHash(r.Context(), leaf, size)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	cache := "no-cache"
	if size != 0 {
		cache = "public, max-age=86400, immutable" // a proof in a fixed tree never changes
	}
	a.write(w, cache, p)
}

func (a *api) consistency(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	first, ok := uintParam(q.Get("first"), false)
	if !ok {
		a.fail(w, r, badParam("first", "a positive whole number"))
		return
	}
	second, ok := uintParam(q.Get("second"), false)
	if !ok {
		a.fail(w, r, badParam("second", "a positive whole number"))
		return
	}
	p, err := a.src.Consistency(r.Context(), first, second)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.write(w, "public, max-age=86400, immutable", p)
}

// uintParam reads a positive decimal (no sign, no leading zeros beyond
// "0"); "" is 0 when optional.
func uintParam(s string, optional bool) (uint64, bool) {
	if s == "" {
		return 0, optional
	}
	if len(s) > 20 || s[0] == '+' || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil && v > 0
}

func badParam(name, want string) error {
	e := errBadParam.WithMessage(name + " must be " + want)
	e.Fields = []bankbridge.FieldError{{Pointer: "/" + name, Detail: "must be " + want}}
	return e
}

func (a *api) write(w http.ResponseWriter, cache string, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", cache)
	h.Set("Access-Control-Allow-Origin", "*") // anyone may verify, from anywhere
	h.Set("X-Content-Type-Options", "nosniff")
	_ = json.NewEncoder(w).Encode(v)
}

func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	if bankbridge.ErrorKind(err) == bankbridge.Internal {
		a.log.LogAttrs(r.Context(), slog.LevelError, "auditapi: request failed", slog.String("request_id", bankbridge.RequestID(r.Context())),
			slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	problem.Write(w, r, err)
}
