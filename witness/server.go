package witness

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/bankbridge/bankbridge/audit"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Server is a witness of one log: POST /add-checkpoint, C2SP tlog-witness.
type Server struct {
	origin string
	keyMu  sync.RWMutex
	logs   []ed25519.PublicKey // the log's key history
	signer *Signer
	state  audit.Memory // the last checkpoint cosigned, in the witness's own folder
	log    *slog.Logger
	mu     sync.Mutex // check and persist atomically (the spec's race)
}

// NewServer is a witness of the log origin signed by one of logKeys,
// cosigning with signer and keeping its state in state.
func NewServer(origin string, logKeys []ed25519.PublicKey, signer *Signer, state audit.Memory, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{origin: origin, logs: logKeys, signer: signer, state: state, log: log}
}

// SetLogKeys replaces the log's key history (after a rotation). A new key
// gains nothing against the witness's promise: whatever key signs, a
// checkpoint must extend the last one cosigned.
func (s *Server) SetLogKeys(keys []ed25519.PublicKey) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	s.logs = append([]ed25519.PublicKey(nil), keys...)
}

func (s *Server) logKeys() []ed25519.PublicKey {
	s.keyMu.RLock()
	defer s.keyMu.RUnlock()
	return s.logs
}

// maxBody bounds a request: 63 proof lines and a checkpoint with a few
// signatures fit in a few KiB.
const maxBody = 16 << 10

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/add-checkpoint" || r.Method != http.MethodPost {
		http.Error(w, "POST /add-checkpoint", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		http.Error(w, "request too large", http.StatusBadRequest)
		return
	}
	code, resp, ctype := s.add(r.Context(), body)
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(code)
	io.WriteString(w, resp)
}

// add handles one add-checkpoint body and returns the status, the body
// and its content type, each case as the specification names it.
func (s *Server) add(ctx context.Context, body []byte) (int, string, string) {
	const text = "text/plain; charset=utf-8"
	old, proof, cp, err := parseRequest(body)
	if err != nil {
		return http.StatusBadRequest, err.Error() + "\n", text
	}
	if origin, _, _ := bytes.Cut(cp, []byte("\n")); string(origin) != s.origin {
		return http.StatusNotFound, "unknown log\n", text
	}
	keys := s.logKeys()
	c, err := audit.OpenCheckpoint(s.origin, cp, keys...)
	if err != nil {
		return http.StatusForbidden, "the checkpoint is not signed by the log's key\n", text
	}
	n, err := note.Open(cp, note.VerifierList(logVerifiers(s.origin, keys)...))
	if err != nil {
		return http.StatusForbidden, "the checkpoint is not signed by the log's key\n", text
	}
	size, root := c.Head.Size, c.Head.Root
	if old > size {
		return http.StatusBadRequest, "old size is larger than the checkpoint's\n", text
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	last, err := s.state.Last(ctx)
	if err != nil && !errors.Is(err, audit.ErrNoHead) {
		s.log.Error("witness: read state", "err", err)
		return http.StatusInternalServerError, "state unreadable\n", text
	}
	if old != last.Head.Size {
		return http.StatusConflict, strconv.FormatUint(last.Head.Size, 10) + "\n", "text/x.tlog.size"
	}
	switch {
	case old == size && root != last.Head.Root:
		// Two different trees of one size, both signed by the log: the
		// fork itself. Kept in the log as evidence.
		s.log.Error("witness: the log signed two trees of one size: refusing", "size", size, "cosigned_root", last.Head.Root.String(), "offered", string(cp))
		return http.StatusConflict, strconv.FormatUint(last.Head.Size, 10) + "\n", "text/x.tlog.size"
	case old == 0 && len(proof) != 0:
		return http.StatusUnprocessableEntity, "the proof from size 0 must be empty\n", text
	case old > 0 && old < size:
		if err := tlog.CheckTree(proof, int64(size), tlog.Hash(root), int64(old), tlog.Hash(last.Head.Root)); err != nil {
			s.log.Error("witness: the checkpoint does not extend the one cosigned: refusing", "old", old, "size", size, "err", err, "offered", string(cp))
			return http.StatusUnprocessableEntity, "the consistency proof does not verify\n", text
		}
	}
	signed, err := note.Sign(&note.Note{Text: n.Text}, s.signer)
	if err != nil {
		return http.StatusInternalServerError, "sign\n", text
	}
	line := string(signed[len(n.Text)+1:]) // after the blank line: our signature line
	// Persisted before the answer (the spec's MUST): a witness that
	// forgets what it cosigned could be walked back.
	if _, err := s.state.Advance(ctx, last.Rev, audit.Remembered{Head: audit.SignedHead{Size: size, Root: root, Time: c.Head.Time, KeyID: c.Head.KeyID}, Checkpoint: string(cp)}); err != nil {
		s.log.Error("witness: persist state", "err", err)
		return http.StatusInternalServerError, "state not persisted\n", text
	}
	s.log.Info("witness: cosigned", "origin", s.origin, "size", size, "root", root.String())
	return http.StatusOK, line, text
}

func logVerifiers(origin string, keys []ed25519.PublicKey) []note.Verifier {
	var vs []note.Verifier
	for _, k := range keys {
		vkey, err := audit.NoteVerifierKey(origin, k)
		if err != nil {
			continue
		}
		if v, err := note.NewVerifier(vkey); err == nil {
			vs = append(vs, v)
		}
	}
	return vs
}

// parseRequest reads "old N\n", up to 63 base64 hash lines, a blank line,
// then the checkpoint.
func parseRequest(body []byte) (uint64, tlog.TreeProof, []byte, error) {
	head, cp, ok := bytes.Cut(body, []byte("\n\n"))
	if !ok {
		return 0, nil, nil, errors.New("no blank line before the checkpoint")
	}
	sc := bufio.NewScanner(bytes.NewReader(head))
	if !sc.Scan() {
		return 0, nil, nil, errors.New("no old size line")
	}
	v, ok := strings.CutPrefix(sc.Text(), "old ")
	old, err := strconv.ParseUint(v, 10, 64)
	if !ok || err != nil || v != strconv.FormatUint(old, 10) {
		return 0, nil, nil, errors.New("malformed old size line")
	}
	var proof tlog.TreeProof
	for sc.Scan() {
		if len(proof) == 63 {
			return 0, nil, nil, errors.New("more than 63 proof lines")
		}
		b, err := base64.StdEncoding.DecodeString(sc.Text())
		if err != nil || len(b) != tlog.HashSize {
			return 0, nil, nil, errors.New("a proof line is not a base64 hash")
		}
		proof = append(proof, tlog.Hash(b))
	}
	return old, proof, cp, nil
}

// Client is the bank's side: an audit.Cosigner that submits each
// checkpoint to the witness at URL.
type Client struct {
	URL  string // the submission prefix, e.g. http://witness.example:7380
	HTTP *http.Client
	mu   sync.Mutex
	old  uint64 // the size the witness last cosigned, as far as we know
}

var _ audit.Cosigner = (*Client)(nil)

// Cosign submits checkpoint with a proof from the size the witness last
// cosigned; when the witness says it is at another size (409, the first
// time, or after another log instance submitted), it asks once more with
// a proof from that size.
func (c *Client) Cosign(ctx context.Context, checkpoint []byte, proof func(ctx context.Context, old uint64) ([]audit.Hash, error)) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for range 2 {
		p, err := proof(ctx, c.old)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "old %d\n", c.old)
		for _, h := range p {
			b.WriteString(base64.StdEncoding.EncodeToString(h[:]) + "\n")
		}
		b.WriteString("\n")
		b.Write(checkpoint)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.URL, "/")+"/add-checkpoint", &b)
		if err != nil {
			return nil, err
		}
		hc := c.HTTP
		if hc == nil {
			hc = http.DefaultClient
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("witness %s: %w", c.URL, err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
			if _, size, _ := bytes.Cut(checkpoint, []byte("\n")); len(size) > 0 {
				v, _, _ := bytes.Cut(size, []byte("\n"))
				c.old, _ = strconv.ParseUint(string(v), 10, 64)
			}
			return body, nil
		case resp.StatusCode == http.StatusConflict && resp.Header.Get("Content-Type") == "text/x.tlog.size":
			n, err := strconv.ParseUint(strings.TrimSpace(string(body)), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("witness %s: 409 with a malformed size", c.URL)
			}
			if n == c.old {
				return nil, fmt.Errorf("witness %s refuses: it cosigned another tree of size %d (a fork)", c.URL, n)
			}
			c.old = n
		default:
			return nil, fmt.Errorf("witness %s refuses (%d): %s", c.URL, resp.StatusCode, strings.TrimSpace(string(body)))
		}
	}
	return nil, fmt.Errorf("witness %s: its size moved while we asked", c.URL)
}
