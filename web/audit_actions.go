package web

import (
	"log/slog"
	"net/http"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/audit"
)

// auditRefusal records, best effort, a request refused because it
// concerned another person's data. The refusal stands whether or not the
// record is written; a failure to write it is logged.
func (s *server) auditRefusal(r *http.Request, v *visit, what, detail string) {
	ctx := r.Context()
	actor := bankbridge.Actor{Kind: bankbridge.ActorCustomer, Customer: v.sess.Customer}
	if v.sess.Staff != 0 {
		actor = bankbridge.Actor{Kind: bankbridge.ActorStaff, Staff: v.sess.Staff}
	}
	s.Logger.LogAttrs(ctx, slog.LevelWarn, "web: refused a request about another person's data",
		slog.String("request_id", bankbridge.RequestID(ctx)), slog.String("actor", audit.ActorString(actor)), slog.String("what", what))
	if s.Audit == nil {
		return
	}
	if _, err := s.Audit.Append(ctx, audit.Record{Kind: audit.AccessRefused, Outcome: audit.Denied, Actor: audit.ActorString(actor),
		Purpose: what, Detail: r.Method + " " + r.URL.Path + " (" + detail + ")"}); err != nil {
		s.Logger.LogAttrs(ctx, slog.LevelError, "web: audit of a refused request failed",
			slog.String("request_id", bankbridge.RequestID(ctx)), slog.String("error", err.Error()))
	}
}

// auditStaffAction records a change a member of staff is about to make,
// with the reason they gave. It returns false, having answered the
// request, if the record cannot be written: no record, no change.
func (s *server) auditStaffAction(w http.ResponseWriter, r *http.Request, v *visit, c bankbridge.CustomerID, action, reason string) bool {
	if s.Audit == nil {
		return true
	}
	_, err := s.Audit.Append(r.Context(), audit.Record{Kind: audit.StaffAction, Outcome: audit.OK, Customer: c,
		Actor:   audit.ActorString(bankbridge.Actor{Kind: bankbridge.ActorStaff, Staff: v.sess.Staff}),
		Purpose: truncate(reason, 500), Detail: truncate(action, 500)})
	if err != nil {
		s.fail(w, r, err)
		return false
	}
	return true
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
