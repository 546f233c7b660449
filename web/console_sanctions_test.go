package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/web"
)

var caseLinkRe = regexp.MustCompile(`href="/console/cases/(\d+)"`)

// TestSanctionsHoldIsACase: a payment held by the sanctions screen is a
// case in the console's queue, with its age, that compliance takes, notes
// and decides from the case; the customer never sees the case.
func TestSanctionsHoldIsACase(t *testing.T) {
	t.Parallel()
	ab := newAlertsBank(t)
	ab.handler = web.New(web.Deps{Auth: ab.ids, Ledger: ab.ledger, Logger: slog.New(slog.DiscardHandler), Now: ab.clock.Now,
		BankName: "Test Bank", Alerts: ab.svc, Limits: ab.limits, Rails: ab.rails})
	from := ab.checking(ab.ada.ID)
	br := ab.browser()
	br.login("", "ada@example.com")
	_, id := br.addPayee("Dmitri Kovalenko", "231380104", "123456789")
	if res := br.payACH(id, from.ID, "10.00"); res.status != http.StatusSeeOther {
		t.Fatalf("pay: %d\n%s", res.status, res.body)
	}
	ab.staff("support@bank.test", identity.Support)
	ab.staff("compliance@bank.test", identity.Compliance)

	co := ab.browser()
	co.login("/console", "compliance@bank.test")
	q := co.get("/console/cases?kind=sanctions")
	if q.status != http.StatusOK || !strings.Contains(q.body, "Sanctions hold") {
		t.Fatalf("the queue of sanctions holds:\n%s", q.body)
	}
	m := caseLinkRe.FindStringSubmatch(q.body)
	if m == nil {
		t.Fatalf("no case linked in the queue:\n%s", q.body)
	}
	casePath := "/console/cases/" + m[1]
	// Support sees the case but cannot decide it.
	sup := ab.browser()
	sup.login("/console", "support@bank.test")
	if p := sup.get(casePath); !strings.Contains(p.body, "SDN 9001") || strings.Contains(p.body, "/release") {
		t.Fatalf("support's view of the case:\n%s", p.body)
	}
	csrf := co.csrf(casePath)
	if r := co.post(casePath+"/assign", url.Values{"csrf": {csrf}}); r.status != http.StatusSeeOther {
		t.Fatalf("assign: %d\n%s", r.status, r.body)
	}
	if r := co.post(casePath+"/note", url.Values{"csrf": {csrf}, "note": {"Different date of birth from the SDN entry."}}); r.status != http.StatusSeeOther {
		t.Fatalf("note: %d\n%s", r.status, r.body)
	}
	page := co.get(casePath)
	if !strings.Contains(page.body, "Release the payment") || !strings.Contains(page.body, "Different date of birth") {
		t.Fatalf("the case page:\n%s", page.body)
	}
	n := regexp.MustCompile(`/console/rails/payments/(\d+)/release`).FindStringSubmatch(page.body)[1]
	r := co.post("/console/rails/payments/"+n+"/release", url.Values{"csrf": {csrf}, "from": {"case"}})
	if r.status != http.StatusSeeOther || r.loc != casePath+"?done=released" {
		t.Fatalf("release from the case: %d %s\n%s", r.status, r.loc, r.body)
	}
	if p := co.get(r.loc); !strings.Contains(p.body, "Payment released") || !strings.Contains(p.body, `data-field="status">closed`) {
		t.Fatalf("the case after the release:\n%s", p.body)
	}
	if p, _ := ab.rails.Store().Payments(context.Background(), rails.PaymentQuery{Customer: ab.ada.ID}); len(p) != 1 || p[0].Status != rails.StatusAccepted {
		t.Fatalf("payment: %+v", p)
	}
	// The customer is not told of the screen: no case on their list, and
	// the case's page is not theirs.
	if p := br.get("/cases"); strings.Contains(p.body, "Sanctions") || strings.Contains(p.body, "SDN") {
		t.Fatalf("the customer's cases show the hold:\n%s", p.body)
	}
	if p := br.get("/cases/" + m[1]); p.status != http.StatusNotFound {
		t.Fatalf("the customer opening the sanctions case: %d", p.status)
	}
}
