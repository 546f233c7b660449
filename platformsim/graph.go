package platformsim

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"time"
	"unicode/utf8"
)

// The platform's limits, as its documentation states them.
const (
	maxText          = 2000 // characters of a text message
	maxTemplateText  = 640  // characters of a button template's text
	maxButtons       = 3
	maxQuickReplies  = 13
	maxTitle         = 20
	maxPayload       = 1000
	window           = 24 * time.Hour
	humanAgentWindow = 7 * 24 * time.Hour
)

// tags the sim accepts with messaging_type MESSAGE_TAG.
var tags = map[string]bool{"ACCOUNT_UPDATE": true, "CONFIRMED_EVENT_UPDATE": true, "POST_PURCHASE_UPDATE": true, "HUMAN_AGENT": true}

// graphError is the Graph API's error answer.
type graphError struct {
	status  int
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    int    `json:"code"`
	Subcode int    `json:"error_subcode,omitempty"`
	TraceID string `json:"fbtrace_id"`
}

func gerr(status, code, sub int, msg string) *graphError {
	return &graphError{status: status, Message: msg, Type: "OAuthException", Code: code, Subcode: sub, TraceID: randomID(6)}
}

func writeGraph(w http.ResponseWriter, v any, e *graphError) {
	w.Header().Set("Content-Type", "application/json")
	if e != nil {
		w.WriteHeader(e.status)
		json.NewEncoder(w).Encode(map[string]any{"error": e})
		return
	}
	json.NewEncoder(w).Encode(v)
}

// token checks the page access token.
func (s *Sim) token(r *http.Request) *graphError {
	if subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("access_token")), []byte(s.o.PageToken)) != 1 {
		return gerr(http.StatusBadRequest, 190, 0, "Invalid OAuth access token.")
	}
	return nil
}

// limit applies the page's call rate: error 613 beyond it.
func (s *Sim) limit() *graphError {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	keep := s.window[:0]
	for _, t := range s.window {
		if now.Sub(t) < time.Second {
			keep = append(keep, t)
		}
	}
	s.window = keep
	if len(s.window) >= s.o.RatePerSecond {
		return gerr(http.StatusBadRequest, 613, 0, "Calls to this api have exceeded the rate limit.")
	}
	s.window = append(s.window, now)
	if s.failNext > 0 {
		s.failNext--
		if s.failCode == 613 {
			return gerr(http.StatusBadRequest, 613, 0, "Calls to this api have exceeded the rate limit.")
		}
		return gerr(http.StatusInternalServerError, s.failCode, 0, "An unexpected error has occurred. Please retry your request later.")
	}
	return nil
}

// sendRequest is the Send API body.
type sendRequest struct {
	Recipient struct {
		ID string `json:"id"`
	} `json:"recipient"`
	MessagingType string `json:"messaging_type"`
	Tag           string `json:"tag"`
	Message       *struct {
		Text         string `json:"text"`
		QuickReplies []struct {
			ContentType string `json:"content_type"`
			Title       string `json:"title"`
			Payload     string `json:"payload"`
		} `json:"quick_replies"`
		Attachment *struct {
			Type    string `json:"type"`
			Payload struct {
				TemplateType string `json:"template_type"`
				Text         string `json:"text"`
				Buttons      []struct {
					Type    string `json:"type"`
					Title   string `json:"title"`
					URL     string `json:"url"`
					Payload string `json:"payload"`
				} `json:"buttons"`
			} `json:"payload"`
		} `json:"attachment"`
	} `json:"message"`
}

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// linkURL reports whether raw may be an account_link button's url: https
// (https://developers.facebook.com/docs/messenger-platform/send-messages/buttons/login,
// "url: Authentication callback URL. Must use HTTPS protocol."), or http on
// a loopback host when Options.AllowLoopbackHTTP says so (the demo).
func (s *Sim) linkURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		if !s.o.AllowLoopbackHTTP {
			return false
		}
		h := u.Hostname()
		if h == "localhost" {
			return true
		}
		ip, err := netip.ParseAddr(h)
		return err == nil && ip.IsLoopback()
	}
	return false
}

// graphCall refuses a call at an unknown or expired Graph API version
// (versions.go) before the endpoint sees it.
func (s *Sim) graphCall(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if e := s.version(r); e != nil {
			writeGraph(w, nil, e)
			return
		}
		h(w, r)
	}
}

// messages is POST /{version}/me/messages: it checks the request as the
// platform would and appends the message to the user's chat.
func (s *Sim) messages(w http.ResponseWriter, r *http.Request) {
	if e := s.token(r); e != nil {
		writeGraph(w, nil, e)
		return
	}
	if e := s.limit(); e != nil {
		writeGraph(w, nil, e)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	var req sendRequest
	if err != nil || json.Unmarshal(body, &req) != nil {
		writeGraph(w, nil, gerr(http.StatusBadRequest, 100, 0, "(#100) Invalid JSON in the request body."))
		return
	}
	line, e := s.check(req)
	if e != nil {
		writeGraph(w, nil, e)
		return
	}
	s.mu.Lock()
	u := s.byPSID[req.Recipient.ID]
	s.appendLocked(u, line)
	s.mu.Unlock()
	writeGraph(w, map[string]string{"recipient_id": req.Recipient.ID, "message_id": "m_" + randomID(12)}, nil)
}

// check validates a Send API request: recipient, messaging type, tag and
// window, and the message's format.
func (s *Sim) check(req sendRequest) (Line, *graphError) {
	bad := func(msg string) *graphError { return gerr(http.StatusBadRequest, 100, 0, "(#100) "+msg) }
	s.mu.Lock()
	u, ok := s.byPSID[req.Recipient.ID]
	var lastIn time.Time
	owns := true
	if ok {
		lastIn, owns = u.LastIn, s.bankOwns(u)
	}
	s.mu.Unlock()
	if !ok {
		return Line{}, gerr(http.StatusBadRequest, 100, 2018001, "(#100) No matching user found")
	}
	if !owns {
		// Handover protocol: only the thread's owner sends (handover.go).
		return Line{}, gerr(http.StatusBadRequest, 10, 0, "(#10) This app does not control this thread; another app of the page does.")
	}
	since := s.o.Now().Sub(lastIn)
	switch req.MessagingType {
	case "RESPONSE", "UPDATE":
		if req.Tag != "" {
			return Line{}, bad("tag is only allowed with messaging_type MESSAGE_TAG")
		}
		if lastIn.IsZero() || since >= window {
			return Line{}, gerr(http.StatusBadRequest, 10, 2018278, "(#10) This message is sent outside of allowed window.")
		}
	case "MESSAGE_TAG":
		if !tags[req.Tag] {
			return Line{}, bad(fmt.Sprintf("tag %q is not a valid message tag", req.Tag))
		}
		if req.Tag == "HUMAN_AGENT" && (lastIn.IsZero() || since >= humanAgentWindow) {
			return Line{}, gerr(http.StatusBadRequest, 10, 2018278, "(#10) This message is sent outside of allowed window.")
		}
	default:
		return Line{}, bad("messaging_type must be RESPONSE, UPDATE or MESSAGE_TAG")
	}
	m := req.Message
	if m == nil {
		return Line{}, bad("message is required")
	}
	line := Line{At: s.o.Now(), FromPage: true, MessagingType: req.MessagingType, Tag: req.Tag}
	switch {
	case m.Text != "" && m.Attachment != nil:
		return Line{}, bad("a message has text or an attachment, not both")
	case m.Text != "":
		if utf8.RuneCountInString(m.Text) > maxText {
			return Line{}, bad("message text is longer than 2000 characters")
		}
		line.Text = m.Text
	case m.Attachment != nil:
		a := m.Attachment
		if a.Type != "template" || a.Payload.TemplateType != "button" {
			return Line{}, bad("only button templates are emulated")
		}
		if a.Payload.Text == "" || utf8.RuneCountInString(a.Payload.Text) > maxTemplateText {
			return Line{}, bad("button template text must be 1 to 640 characters")
		}
		if len(a.Payload.Buttons) == 0 || len(a.Payload.Buttons) > maxButtons {
			return Line{}, bad("a button template has 1 to 3 buttons")
		}
		line.Text = a.Payload.Text
		for _, b := range a.Payload.Buttons {
			switch b.Type {
			case "web_url":
				if !absoluteURL(b.URL) || b.Title == "" || utf8.RuneCountInString(b.Title) > maxTitle {
					return Line{}, bad("a web_url button needs an absolute url and a title of at most 20 characters")
				}
			case "postback":
				if b.Title == "" || utf8.RuneCountInString(b.Title) > maxTitle || b.Payload == "" || len(b.Payload) > maxPayload {
					return Line{}, bad("a postback button needs a title (at most 20) and a payload (at most 1000)")
				}
			case "account_link":
				if !s.linkURL(b.URL) || b.Title != "" {
					return Line{}, bad("an account_link button has an https url and no title")
				}
				b.Title = "Log in"
			default:
				return Line{}, bad(fmt.Sprintf("button type %q is not supported", b.Type))
			}
			line.Buttons = append(line.Buttons, Button{Type: b.Type, Title: b.Title, URL: b.URL, Payload: b.Payload})
		}
	default:
		return Line{}, bad("message must have text or an attachment")
	}
	if len(m.QuickReplies) > maxQuickReplies {
		return Line{}, bad("at most 13 quick replies")
	}
	for _, q := range m.QuickReplies {
		if q.ContentType != "text" || q.Title == "" || utf8.RuneCountInString(q.Title) > maxTitle || q.Payload == "" || len(q.Payload) > maxPayload {
			return Line{}, bad("a quick reply needs content_type text, a title (at most 20) and a payload (at most 1000)")
		}
		line.QuickReplies = append(line.QuickReplies, QuickReply{Title: q.Title, Payload: q.Payload})
	}
	return line, nil
}

// me is GET /{version}/me?fields=recipient&account_linking_token=...: the
// person an account-linking token belongs to.
func (s *Sim) me(w http.ResponseWriter, r *http.Request) {
	if e := s.token(r); e != nil {
		writeGraph(w, nil, e)
		return
	}
	tok := r.URL.Query().Get("account_linking_token")
	s.mu.Lock()
	lt, ok := s.tokens[tok]
	var psid string
	if ok && s.o.Now().Before(lt.expires) {
		psid = s.users[lt.user].PSID
	}
	s.mu.Unlock()
	if psid == "" {
		writeGraph(w, nil, gerr(http.StatusBadRequest, 100, 0, "(#100) The account linking token is invalid or expired."))
		return
	}
	writeGraph(w, map[string]string{"id": s.o.PageID, "recipient": psid}, nil)
}

// unlinkAccounts is POST /{version}/me/unlink_accounts {"psid": ...}: the
// page ends a link.
func (s *Sim) unlinkAccounts(w http.ResponseWriter, r *http.Request) {
	if e := s.token(r); e != nil {
		writeGraph(w, nil, e)
		return
	}
	var req struct {
		PSID string `json:"psid"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil {
		writeGraph(w, nil, gerr(http.StatusBadRequest, 100, 0, "(#100) psid is required"))
		return
	}
	s.mu.Lock()
	u, ok := s.byPSID[req.PSID]
	if ok && u.Linked {
		u.Linked = false
		s.appendLocked(u, Line{At: s.o.Now(), Note: true, Text: "The bank unlinked your account."})
	}
	s.mu.Unlock()
	if !ok {
		writeGraph(w, nil, gerr(http.StatusBadRequest, 100, 2018001, "(#100) No matching user found"))
		return
	}
	writeGraph(w, map[string]string{"result": "unlink account success"}, nil)
}
