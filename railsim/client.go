package railsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Client is the bank's side of the exchange (it satisfies rails.Transport
// without importing it): it reaches an operator that speaks railsim's exchange: files
// are put under the bank's routing number and the operator's files for the
// bank are listed, fetched and deleted. Paths (base + "/ach/{routing}/..."):
//
//	PUT    files/{name}    send a file (201; the same body again 200; another 409)
//	GET    files/{name}    {"status": "received" | "settled"}
//	GET    outbox          ["name", ...]
//	GET    outbox/{name}   the file
//	DELETE outbox/{name}   acknowledge it
type Client struct {
	Base    string // "http://127.0.0.1:8090"
	Routing string
	Client  *http.Client // nil: one with a 30 s timeout
}

const maxFile = 64 << 20

func (t *Client) do(ctx context.Context, method, path string, body []byte) ([]byte, int, error) {
	return t.doAt(ctx, method, "/ach/"+url.PathEscape(t.Routing)+"/"+path, body)
}

func (t *Client) doAt(ctx context.Context, method, path string, body []byte) ([]byte, int, error) {
	c := t.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, t.Base+path, rd)
	if err != nil {
		return nil, 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "text/plain")
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxFile))
	if err != nil {
		return nil, 0, err
	}
	if res.StatusCode >= 300 {
		return b, res.StatusCode, fmt.Errorf("railsim: %s %s: %s: %.200s", method, path, res.Status, b)
	}
	return b, res.StatusCode, nil
}

// Send implements Transport.
func (t *Client) Send(ctx context.Context, name string, body []byte) error {
	_, _, err := t.do(ctx, http.MethodPut, "files/"+url.PathEscape(name), body)
	return err
}

// Settled implements Transport.
func (t *Client) Settled(ctx context.Context, name string) (bool, error) {
	b, _, err := t.do(ctx, http.MethodGet, "files/"+url.PathEscape(name), nil)
	if err != nil {
		return false, err
	}
	var st struct{ Status string }
	if err := json.Unmarshal(b, &st); err != nil {
		return false, fmt.Errorf("railsim: file status: %w", err)
	}
	return st.Status == "settled", nil
}

// Inbox implements Transport.
func (t *Client) Inbox(ctx context.Context) ([]string, error) {
	b, _, err := t.do(ctx, http.MethodGet, "outbox", nil)
	if err != nil {
		return nil, err
	}
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return nil, fmt.Errorf("railsim: outbox: %w", err)
	}
	return names, nil
}

// Get implements Transport.
func (t *Client) Get(ctx context.Context, name string) ([]byte, error) {
	b, _, err := t.do(ctx, http.MethodGet, "outbox/"+url.PathEscape(name), nil)
	return b, err
}

// Ack implements Transport.
func (t *Client) Ack(ctx context.Context, name string) error {
	_, code, err := t.do(ctx, http.MethodDelete, "outbox/"+url.PathEscape(name), nil)
	if code == http.StatusNotFound {
		return nil // acknowledged before a crash
	}
	return err
}

// Instant sends a pacs.008 to the instant service and returns its pacs.002.
func (t *Client) Instant(ctx context.Context, pacs008 []byte) ([]byte, error) {
	c := t.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.Base+"/instant/"+url.PathEscape(t.Routing)+"/messages", bytes.NewReader(pacs008))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/xml")
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusNoContent {
		return nil, fmt.Errorf("railsim: instant: %s: %.200s", res.Status, b)
	}
	return b, nil
}

// InstantInbox lists the instant service's messages for the bank
// (rails.InstantInbox).
func (t *Client) InstantInbox(ctx context.Context) ([]string, error) {
	b, _, err := t.doAt(ctx, http.MethodGet, "/instant/"+url.PathEscape(t.Routing)+"/inbox", nil)
	if err != nil {
		return nil, err
	}
	var ids []string
	if err := json.Unmarshal(b, &ids); err != nil {
		return nil, fmt.Errorf("railsim: instant inbox: %w", err)
	}
	return ids, nil
}

// InstantGet reads one message of the inbox.
func (t *Client) InstantGet(ctx context.Context, id string) ([]byte, error) {
	b, _, err := t.doAt(ctx, http.MethodGet, "/instant/"+url.PathEscape(t.Routing)+"/inbox/"+url.PathEscape(id), nil)
	return b, err
}

// InstantAck takes a message out of the inbox; one taken before is fine.
func (t *Client) InstantAck(ctx context.Context, id string) error {
	_, code, err := t.doAt(ctx, http.MethodDelete, "/instant/"+url.PathEscape(t.Routing)+"/inbox/"+url.PathEscape(id), nil)
	if code == http.StatusNotFound {
		return nil
	}
	return err
}
