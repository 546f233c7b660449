package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/ledger"
)

// AuditLog is what the web needs from the disclosure log: to record staff
// views, and to show and export a customer's records. *audit.Log
// implements it. Optional in Deps: without it the disclosure pages answer
// 404 and staff views are not recorded, so production must set it.
type AuditLog interface {
	Append(ctx context.Context, r audit.Record) (audit.Record, error)
	Records(ctx context.Context, q audit.Query) (audit.Page, error)
	Export(ctx context.Context, q audit.Query) (audit.Export, error)
}

// disclosurePage bounds the records on one page of "Who saw my data".
const disclosurePage = 200

// disclosureRow is one record in plain words.
type disclosureRow struct {
	Seq      uint64
	Time     time.Time
	Event    string // "Shared with the app", "Viewed by bank staff"...
	What     []string
	Accounts []string
	Purpose  string
	Refused  bool
}

// disclosureGroup is everything one partner (or the bank's staff) did.
type disclosureGroup struct {
	Who     string
	Partner string // the partner's id, "" for the bank itself
	Last    time.Time
	Rows    []disclosureRow
}

type disclosuresView struct {
	Groups []disclosureGroup
	Older  string
	Newest bool
}

// disclosures is "Who saw my data": the customer's records, grouped by who
// received the data, newest first.
func (s *server) disclosures(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Audit == nil {
		s.notFound(w, r, v)
		return
	}
	ctx := r.Context()
	q := audit.Query{Customer: v.sess.Customer, Limit: disclosurePage}
	if b := r.URL.Query().Get("before"); b != "" {
		n, err := strconv.ParseUint(b, 10, 64)
		if err != nil {
			s.failPage(w, r, v, http.StatusBadRequest, "Bad request", "That page of records does not exist.")
			return
		}
		q.Before = n
	}
	p, err := s.Audit.Records(ctx, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	accts, err := s.Ledger.Store().CustomerAccounts(ctx, v.sess.Customer)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names := make(map[ledger.AccountID]string, len(accts))
	for _, a := range accts {
		names[a.ID] = a.Name + " ending " + lastFour(a.Number)
	}
	view := disclosuresView{Newest: q.Before != 0}
	if p.Next != 0 {
		view.Older = "/privacy/disclosures?before=" + strconv.FormatUint(p.Next, 10)
	}
	byWho := map[string]int{}
	for _, rec := range p.Records {
		key := rec.Partner
		if key == "" && rec.Kind == audit.StaffView {
			key = "\x00staff"
		}
		i, ok := byWho[key]
		if !ok {
			i = len(view.Groups)
			byWho[key] = i
			view.Groups = append(view.Groups, disclosureGroup{Who: s.partnerName(ctx, rec), Partner: rec.Partner, Last: rec.Time})
		}
		g := &view.Groups[i]
		row := disclosureRow{Seq: rec.Seq, Time: rec.Time, Event: eventName(rec), Purpose: rec.Purpose, Refused: rec.Outcome != audit.OK}
		for _, c := range rec.Clusters {
			row.What = append(row.What, clusterTitle(c))
		}
		row.What = append(row.What, rec.Fields...)
		for _, a := range rec.Accounts {
			if n, ok := names[a]; ok {
				row.Accounts = append(row.Accounts, n)
			} else {
				row.Accounts = append(row.Accounts, "a closed account")
			}
		}
		g.Rows = append(g.Rows, row)
	}
	pg := v.page("Who saw my data", "privacy")
	pg.Data = view
	s.render(w, r, http.StatusOK, "disclosures", pg)
}

// disclosuresExport downloads all the customer's records, each with its
// inclusion proof and the signed tree head, as CSV or JSON.
func (s *server) disclosuresExport(format string) func(http.ResponseWriter, *http.Request, *visit) {
	return func(w http.ResponseWriter, r *http.Request, v *visit) {
		if s.Audit == nil {
			s.notFound(w, r, v)
			return
		}
		x, err := s.Audit.Export(r.Context(), audit.Query{Customer: v.sess.Customer})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		name := "disclosures-" + s.Now().UTC().Format("2006-01-02") + "." + format
		h := w.Header()
		h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
		if format == "csv" {
			h.Set("Content-Type", "text/csv; charset=utf-8")
			err = x.WriteCSV(w)
		} else {
			h.Set("Content-Type", "application/json")
			err = x.WriteJSON(w)
		}
		if err != nil {
			s.Logger.ErrorContext(r.Context(), "web: export disclosures", "request_id", bankbridge.RequestID(r.Context()), "err", err)
		}
	}
}

// partnerName is the partner's display name when the consent capability
// knows it, else its id; the bank's own staff for a staff view.
func (s *server) partnerName(ctx context.Context, rec audit.Record) string {
	if rec.Partner == "" {
		if rec.Kind == audit.StaffView || rec.Kind == audit.StaffAction {
			return "Bank staff"
		}
		return "The bank"
	}
	if s.Consents != nil {
		if p, err := s.Consents.Partner(ctx, consent.PartnerID(rec.Partner)); err == nil && p.LegalName != "" {
			return p.LegalName
		}
	}
	return rec.Partner
}

// eventName says what a record means, in the customer's words.
func eventName(r audit.Record) string {
	refused := r.Outcome != audit.OK
	switch r.Kind {
	case audit.DataAccess:
		if refused {
			return "Asked for data, refused"
		}
		return "Data shared with the app"
	case audit.PlatformMessage:
		return "Sent to you in a message"
	case audit.ConsentGranted:
		return "You gave consent"
	case audit.ConsentUsed:
		return "Consent used to connect"
	case audit.ConsentRevoked:
		return "Consent revoked"
	case audit.ConsentExpired:
		return "Consent expired"
	case audit.StaffView:
		return "Viewed by bank staff"
	case audit.PartnerChange:
		return "The app's status changed"
	case audit.StaffAction:
		return "Changed by bank staff"
	}
	return strings.ReplaceAll(string(r.Kind), "_", " ")
}

// clusterTitle is a data cluster's plain title ("Balances").
func clusterTitle(c string) string {
	i := slices.IndexFunc(consent.Clusters, func(ci consent.ClusterInfo) bool { return string(ci.Cluster) == c })
	if i < 0 {
		return c
	}
	return consent.Clusters[i].Title
}

func lastFour(n ledger.AccountNumber) string {
	if len(n) <= 4 {
		return string(n)
	}
	return string(n[len(n)-4:])
}
