package platformsim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
)

// The handover protocol
// (https://developers.facebook.com/docs/messenger-platform/handover-protocol):
// the bank's app is the page's primary receiver, a live-chat app (played by
// the sim itself: LiveChatRequest, LiveChatReply, LiveChatPassBack) a
// secondary one. One app owns a thread at a time; it alone may send there
// and gets the person's messages under messaging, the others under
// standby. The primary receiver may take a thread at any time
// (take_thread_control); the owner may pass it (pass_thread_control); an
// app that wants it asks the owner (request_thread_control). Each change
// is told to the app it concerns with a messaging_handovers webhook.

// pageInboxAppID is the page inbox's app id, a target Meta documents for
// pass_thread_control.
const pageInboxAppID = "263902037430900"

// standby reports whether ev, from a person, goes under standby for the
// bank: the live-chat app owns the person's thread.
func (s *Sim) standby(ev event) bool {
	if ev.Message == nil && ev.Postback == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.byPSID[ev.Sender.ID]
	return u != nil && u.Owner == s.o.LiveChatAppID
}

// bankOwns reports whether the bank may send to u: it owns the thread, or
// the thread is idle. s.mu held.
func (s *Sim) bankOwns(u *User) bool { return u.Owner == "" || u.Owner == s.o.AppID }

type threadRequest struct {
	Recipient struct {
		ID string `json:"id"`
	} `json:"recipient"`
	TargetAppID string `json:"target_app_id"`
	Metadata    string `json:"metadata"`
}

func (s *Sim) readThreadRequest(w http.ResponseWriter, r *http.Request) (threadRequest, *User, *graphError) {
	var req threadRequest
	if e := s.token(r); e != nil {
		return req, nil, e
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 8<<10)).Decode(&req); err != nil || req.Recipient.ID == "" {
		return req, nil, gerr(http.StatusBadRequest, 100, 0, "(#100) recipient is required")
	}
	if len(req.Metadata) > 1000 {
		return req, nil, gerr(http.StatusBadRequest, 100, 0, "(#100) metadata must be at most 1000 characters")
	}
	s.mu.Lock()
	u := s.byPSID[req.Recipient.ID]
	s.mu.Unlock()
	if u == nil {
		return req, nil, gerr(http.StatusBadRequest, 100, 2018001, "(#100) No matching user found")
	}
	return req, u, nil
}

// passThreadControl is POST /{version}/me/pass_thread_control by the bank's
// app: only the thread's owner (or anyone while it is idle) may pass it,
// and only to an app of the page.
func (s *Sim) passThreadControl(w http.ResponseWriter, r *http.Request) {
	req, u, e := s.readThreadRequest(w, r)
	if e != nil {
		writeGraph(w, nil, e)
		return
	}
	if req.TargetAppID != s.o.LiveChatAppID && req.TargetAppID != pageInboxAppID {
		writeGraph(w, nil, gerr(http.StatusBadRequest, 100, 0, "(#100) target_app_id is not an app of this page"))
		return
	}
	s.mu.Lock()
	if !s.bankOwns(u) {
		s.mu.Unlock()
		writeGraph(w, nil, gerr(http.StatusBadRequest, 10, 0, "(#10) Only the thread owner can pass thread control."))
		return
	}
	u.Owner = req.TargetAppID
	s.appendLocked(u, Line{At: s.o.Now(), Note: true, Text: "The bank passed this conversation to live chat."})
	s.mu.Unlock()
	writeGraph(w, map[string]bool{"success": true}, nil)
}

// takeThreadControl is POST /{version}/me/take_thread_control by the bank's
// app, the primary receiver, which may take any thread.
func (s *Sim) takeThreadControl(w http.ResponseWriter, r *http.Request) {
	_, u, e := s.readThreadRequest(w, r)
	if e != nil {
		writeGraph(w, nil, e)
		return
	}
	s.mu.Lock()
	if u.Owner != s.o.AppID {
		u.Owner = s.o.AppID
		s.appendLocked(u, Line{At: s.o.Now(), Note: true, Text: "The bank took this conversation back from live chat."})
	}
	s.mu.Unlock()
	writeGraph(w, map[string]bool{"success": true}, nil)
}

// ThreadOwner is the app owning name's thread ("" while idle).
func (s *Sim) ThreadOwner(name string) string {
	u := s.user(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	return u.Owner
}

// LiveChatRequest is the live-chat app asking for name's thread: the
// bank, owning it, gets a request_thread_control webhook.
func (s *Sim) LiveChatRequest(ctx context.Context, name string) error {
	u := s.user(name)
	return s.deliver(ctx, event{Sender: party{u.PSID}, RequestThreadControl: &handover{RequestedOwnerAppID: s.o.LiveChatAppID, Metadata: "a live agent is free"}})
}

// LiveChatReply is a live agent writing to name, which the live-chat app
// may only do while it owns the thread.
func (s *Sim) LiveChatReply(name, text string) bool {
	u := s.user(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.Owner != s.o.LiveChatAppID {
		return false
	}
	s.appendLocked(u, Line{At: s.o.Now(), FromPage: true, Text: text, MessagingType: "RESPONSE", Tag: "live chat"})
	return true
}

// LiveChatPassBack is the live-chat app passing name's thread back to the
// bank, the primary receiver, which gets a pass_thread_control webhook.
func (s *Sim) LiveChatPassBack(ctx context.Context, name string) error {
	u := s.user(name)
	s.mu.Lock()
	if u.Owner != s.o.LiveChatAppID {
		s.mu.Unlock()
		return nil
	}
	u.Owner = s.o.AppID
	s.appendLocked(u, Line{At: s.o.Now(), Note: true, Text: "Live chat passed this conversation back to the bank."})
	s.mu.Unlock()
	return s.deliver(ctx, event{Sender: party{u.PSID}, PassThreadControl: &handover{NewOwnerAppID: s.o.AppID, PreviousOwnerAppID: s.o.LiveChatAppID, Metadata: "resolved by a live agent"}})
}
