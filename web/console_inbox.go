package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/legible"
)

// Inbox is the staff side of conversations the assistant handed over to a
// person: *channels.Hub implements it.
type Inbox interface {
	Waiting(ctx context.Context) ([]assistant.Conversation, error)
	Transcript(ctx context.Context, k assistant.Key) (assistant.Conversation, bankbridge.CustomerID, []assistant.Message, error)
	StaffReply(ctx context.Context, k assistant.Key, staff bankbridge.StaffID, text string) error
	HandBack(ctx context.Context, k assistant.Key, staff bankbridge.StaffID) error
	// TakeThread takes the conversation's thread from the app sharing the
	// page that owns it (Messenger's live-chat vendor), audited with the
	// staff member's name.
	TakeThread(ctx context.Context, k assistant.Key, staff bankbridge.StaffID, name string) error
	// CustomerChats lists the chats linked to a customer, on every
	// platform, for the customer page.
	CustomerChats(ctx context.Context, c bankbridge.CustomerID) ([]assistant.Link, error)
}

// inboxRoles may read and answer handed-over chats.
var inboxRoles = []identity.Role{identity.Administrator, identity.Support}

// maxStaffReply bounds a staff message: the platform's text limit.
const maxStaffReply = 2000

// inboxView is the inbox page: the list, or one conversation.
type inboxView struct {
	Waiting  []assistant.Conversation
	Conv     *assistant.Conversation
	Customer *identity.Customer
	Messages []assistant.Message
	Path     string // /console/inbox/{platform}/{user}
	Error    string
}

func inboxKey(r *http.Request) assistant.Key {
	return assistant.Key{Platform: r.PathValue("platform"), User: r.PathValue("user")}
}

func inboxPath(k assistant.Key) string {
	return "/console/inbox/" + url.PathEscape(k.Platform) + "/" + url.PathEscape(k.User)
}

// consoleInbox lists the conversations waiting for a person.
func (s *server) consoleInbox(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Inbox == nil {
		s.notFound(w, r, v)
		return
	}
	cs, err := s.Inbox.Waiting(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.consolePage(v, "Chat inbox")
	p.Nav = "inbox"
	if r.URL.Query().Get("done") == "handed-back" {
		p.Flash = "Handed back to the assistant, which told the customer."
	}
	p.Data = inboxView{Waiting: cs}
	s.render(w, r, http.StatusOK, "console_inbox", p)
}

// consoleChat shows one conversation with its transcript. Reading a linked
// customer's chat is a staff view of their data, recorded first.
func (s *server) consoleChat(w http.ResponseWriter, r *http.Request, v *visit) {
	s.renderChat(w, r, v, http.StatusOK, "")
}

func (s *server) renderChat(w http.ResponseWriter, r *http.Request, v *visit, status int, msg string) {
	if s.Inbox == nil {
		s.notFound(w, r, v)
		return
	}
	k := inboxKey(r)
	conv, c, ms, err := s.Inbox.Transcript(r.Context(), k)
	if errors.Is(err, assistant.ErrNoConversation) {
		s.notFound(w, r, v)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	iv := inboxView{Conv: &conv, Messages: ms, Path: inboxPath(k), Error: msg}
	if c != 0 {
		cust, err := s.Auth.Customer(r.Context(), c)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		iv.Customer = &cust
		if s.Audit != nil {
			if _, err := s.Audit.Append(r.Context(), audit.Record{Kind: audit.StaffView, Customer: c,
				Clusters: []string{"CUSTOMER_CONTACT"}, Purpose: "answer a chat handed over by the assistant",
				Actor:  audit.ActorString(bankbridge.Actor{Kind: bankbridge.ActorStaff, Staff: v.sess.Staff}),
				Detail: "GET /console/inbox/{platform}/{user}"}); err != nil {
				s.fail(w, r, err)
				return
			}
		}
	}
	p := s.consolePage(v, "Chat")
	p.Nav = "inbox"
	switch r.URL.Query().Get("done") {
	case "sent":
		p.Flash = "Sent."
	case "taken":
		p.Flash = "The thread is the bank's: answer here."
	}
	p.Data = iv
	s.render(w, r, status, "console_inbox", p)
}

// consoleChatReply sends a staff message into the conversation.
func (s *server) consoleChatReply(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Inbox == nil {
		s.notFound(w, r, v)
		return
	}
	text := strings.TrimSpace(r.PostForm.Get("text"))
	if text == "" || utf8.RuneCountInString(text) > maxStaffReply {
		s.renderChat(w, r, v, http.StatusUnprocessableEntity, "Write a message of 1 to 2,000 characters.")
		return
	}
	if err := legible.Check(text); err != nil {
		s.renderChat(w, r, v, http.StatusUnprocessableEntity, "The message "+err.Error()+".")
		return
	}
	// The reply is on the audit log (not its words, which are the
	// conversation's) before it goes out.
	if !s.auditStaffAction(w, r, v, 0, "chat reply on "+r.PathValue("platform"), "answering a chat handed over by the assistant") {
		return
	}
	err := s.Inbox.StaffReply(r.Context(), inboxKey(r), v.sess.Staff, text)
	switch k := bankbridge.ErrorKind(err); {
	case err == nil:
	case k == bankbridge.NotFound:
		s.notFound(w, r, v)
		return
	case k == bankbridge.Conflict || k == bankbridge.Invalid:
		s.renderChat(w, r, v, http.StatusConflict, bankbridge.ErrorMessage(err))
		return
	case k == bankbridge.Unavailable || k == bankbridge.TooManyRequests:
		s.renderChat(w, r, v, http.StatusServiceUnavailable, "The messaging platform did not take the message. Try again in a moment.")
		return
	default:
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, inboxPath(inboxKey(r))+"?done=sent", http.StatusSeeOther)
}

// consoleChatHandBack returns the conversation to the assistant.
func (s *server) consoleChatHandBack(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Inbox == nil {
		s.notFound(w, r, v)
		return
	}
	if !s.auditStaffAction(w, r, v, 0, "chat on "+r.PathValue("platform")+" handed back to the assistant", "conversation done") {
		return
	}
	err := s.Inbox.HandBack(r.Context(), inboxKey(r), v.sess.Staff)
	switch k := bankbridge.ErrorKind(err); {
	case err == nil:
	case k == bankbridge.NotFound:
		s.notFound(w, r, v)
		return
	case k == bankbridge.Conflict || k == bankbridge.Unavailable:
		// The platform refused the notice; the conversation is back with
		// the assistant all the same.
		s.Logger.Warn("web: hand-back notice not sent", "err", err)
	default:
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/inbox?done=handed-back", http.StatusSeeOther)
}

// consoleChatTake takes the conversation's thread from the live-chat app
// that owns it (Messenger's take_thread_control), so that staff answer
// from here; the audit log names the staff member.
func (s *server) consoleChatTake(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Inbox == nil {
		s.notFound(w, r, v)
		return
	}
	st, err := s.Auth.Staff(r.Context(), v.sess.Staff)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	err = s.Inbox.TakeThread(r.Context(), inboxKey(r), v.sess.Staff, st.Name)
	switch k := bankbridge.ErrorKind(err); {
	case err == nil:
	case k == bankbridge.NotFound:
		s.notFound(w, r, v)
		return
	case k == bankbridge.Conflict || k == bankbridge.Invalid:
		s.renderChat(w, r, v, http.StatusConflict, bankbridge.ErrorMessage(err))
		return
	case k == bankbridge.Unavailable || k == bankbridge.TooManyRequests:
		s.renderChat(w, r, v, http.StatusServiceUnavailable, "The messaging platform did not give the thread. Try again in a moment.")
		return
	default:
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, inboxPath(inboxKey(r))+"?done=taken", http.StatusSeeOther)
}
