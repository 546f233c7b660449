package web

import (
	"context"
	"net/http"

	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
)

// MirrorReconciler is the mirror's reconciliation against the core
// (*rails.Mirror): every account taken on, the core's last closing balance
// beside the mirror's, and the entries the ledger refused.
type MirrorReconciler interface {
	Reconcile(ctx context.Context) (rails.MirrorReport, error)
}

type consoleMirrorView struct {
	Report rails.MirrorReport
	// Differing lists the accounts that differ first, so a long list
	// does not hide them.
	Differing, Agreeing []rails.MirrorDifference
	Exceptions          []mirrorException
}

// mirrorException is a refused entry with its account's currency.
type mirrorException struct {
	rails.MirrorException
	Currency ledger.Currency
}

// consoleMirror shows the mirror reconciliation (docs/rails.md, "Mirror
// mode"): what `bankbridge mirror reconcile` prints, for the staff who may
// see the rails page (railsRoles). It reads only; every instance can serve
// it.
func (s *server) consoleMirror(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Mirror == nil {
		s.notFound(w, r, v)
		return
	}
	rep, err := s.Mirror.Reconcile(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cv := consoleMirrorView{Report: rep}
	cur := map[ledger.AccountNumber]ledger.Currency{}
	for _, a := range rep.Accounts {
		cur[a.Account] = a.Currency
		if a.Difference != 0 {
			cv.Differing = append(cv.Differing, a)
		} else {
			cv.Agreeing = append(cv.Agreeing, a)
		}
	}
	for _, e := range rep.Exceptions {
		c := cur[e.Account]
		if c == "" {
			c = "USD"
		}
		cv.Exceptions = append(cv.Exceptions, mirrorException{e, c})
	}
	p := v.page("Core mirror", "mirror")
	p.Data = cv
	s.render(w, r, http.StatusOK, "console_mirror", p)
}
