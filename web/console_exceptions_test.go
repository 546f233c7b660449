package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/railsim"
	"github.com/bankbridge/bankbridge/web"
)

// railsAuditBank is a bank with the rails and an audit log (o as newBank's).
func railsAuditBank(t *testing.T, o bankOptions) (*bank, *audit.Log) {
	t.Helper()
	b := newBank(t, o)
	key, err := audit.LoadOrCreateKey(filepath.Join(t.TempDir(), audit.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	l := audit.New(b.db.Audit(), audit.Options{Key: key, Now: b.clock.Now, SealEvery: time.Hour})
	t.Cleanup(l.Close)
	b.handler = web.New(web.Deps{Auth: b.ids, Ledger: b.ledger, Logger: slog.New(slog.DiscardHandler), Now: b.clock.Now,
		BankName: "Test Bank", Audit: l, Rails: b.rails, Limits: b.limits, Languages: b.langs})
	return b, l
}

// staffActions lists the staff_action records whose detail contains what.
func staffActions(t *testing.T, l *audit.Log, what string) []audit.Record {
	t.Helper()
	pg, err := l.Records(context.Background(), audit.Query{Kind: audit.StaffAction})
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for _, r := range pg.Records {
		if strings.Contains(r.Detail, what) {
			out = append(out, r)
		}
	}
	return out
}

var resolveLinkRe = regexp.MustCompile(`href="(/console/rails/exceptions/\d+/dishonor/\d+)\?action=(credit|charge)"`)

// TestConsoleSettlesACHReturnExceptions: what waits in the ACH return
// exceptions account is listed for support and compliance; a compliance
// officer credits the customer with the money held and charges them what
// the bank paid out, each confirmed with a reason that is audited with
// their name; support may not act; the same form sent twice settles once,
// and another officer after it is told who settled it. The books agree.
func TestConsoleSettlesACHReturnExceptions(t *testing.T) {
	t.Parallel()
	b, l := railsAuditBank(t, bankOptions{simClock: true})
	ctx := context.Background()
	ada := b.customer("Ada Lovelace", "ada@example.com")
	acct := b.account(ada.ID, "Everyday checking", ledger.Checking, 1_000_00)
	// The worker stands still for five days: a credit to no account here
	// and a debit Ada's account cannot pay are returned late, the emulator
	// dishonours both returns R68, and the bank accepts.
	if _, err := b.sim.SendCredits("021000089", []railsim.Credit{{Account: "555000111", Name: "NOBODY", Amount: 25_00, Company: "ACME PAYROLL"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.sim.SendDebits("021000089", []railsim.Debit{{Account: string(acct.Number), Name: "ADA", Amount: 1_500_00, Company: "CITY POWER"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.rails.Receive(ctx, b.railsTr); err != nil {
		t.Fatal(err)
	}
	b.clock.Add(5 * 24 * time.Hour)
	for range 2 {
		if err := b.rails.Cycle(ctx, b.railsTr); err != nil {
			t.Fatal(err)
		}
	}
	b.staff("support@bank.test", identity.Support)
	b.staff("officer@bank.test", identity.Compliance)
	b.staff("admin@bank.test", identity.Administrator)

	sup := b.browser()
	sup.login("/console", "support@bank.test")
	list := sup.get("/console/rails/exceptions")
	if list.status != http.StatusOK || strings.Count(list.body, "<tr data-trace=") != 2 || !strings.Contains(list.body, "25.00 USD") ||
		!strings.Contains(list.body, "1,500.00 USD") || !strings.Contains(list.body, "A compliance officer or an administrator settles it") ||
		strings.Contains(list.body, "?action=") {
		t.Fatalf("support's list: %d\n%s", list.status, list.body)
	}

	co := b.browser()
	co.login("/console", "officer@bank.test")
	list = co.get("/console/rails/exceptions")
	links := map[string]string{}
	for _, m := range resolveLinkRe.FindAllStringSubmatch(list.body, -1) {
		links[m[2]] = m[1]
	}
	if links["credit"] == "" || links["charge"] == "" {
		t.Fatalf("the officer's list has no credit and charge actions:\n%s", list.body)
	}
	creditPath, chargePath := links["credit"], links["charge"]

	// Support may not settle: refused, and the refusal is audited.
	if p := sup.get(creditPath + "?action=credit"); p.status != http.StatusForbidden {
		t.Fatalf("support opening the confirmation: %d", p.status)
	}
	if p := sup.post(creditPath, url.Values{"csrf": {sup.csrf("/console/rails/exceptions")}, "action": {"write_off"}, "reason": {"tidy up"}}); p.status != http.StatusForbidden {
		t.Fatalf("support settling: %d", p.status)
	}

	// The confirmation step, then a reason.
	conf := co.get(creditPath + "?action=credit")
	if conf.status != http.StatusOK || !strings.Contains(conf.body, "Credit the customer?") || !strings.Contains(conf.body, "25.00 USD goes from the ACH return exceptions account") {
		t.Fatalf("the confirmation: %d\n%s", conf.status, conf.body)
	}
	csrf := conf.field(t, csrfRe)
	if p := co.post(creditPath, url.Values{"csrf": {csrf}, "action": {"charge"}, "reason": {"x"}}); p.status != http.StatusBadRequest {
		t.Fatalf("charging money held: %d", p.status)
	}
	form := url.Values{"csrf": {csrf}, "action": {"credit"}, "account": {string(acct.Number)}, "reason": {""}}
	if p := co.post(creditPath, form); p.status != http.StatusBadRequest || !strings.Contains(p.body, "Write why") {
		t.Fatalf("no reason: %d\n%s", p.status, p.body)
	}
	if got := b.get(acct.ID).Balance; got != 1_000_00 {
		t.Fatalf("balance %d before the credit", got)
	}
	form.Set("reason", "ACME PAYROLL says the credit was for Ada's new account")
	res := co.post(creditPath, form)
	if res.status != http.StatusSeeOther || res.loc != "/console/rails/exceptions?done=credit" {
		t.Fatalf("credit: %d %q\n%s", res.status, res.loc, res.body)
	}
	// Sent twice (a double click): the same answer, the money once, one record.
	if again := co.post(creditPath, form); again.status != http.StatusSeeOther || again.loc != res.loc {
		t.Fatalf("sent twice: %d %q\n%s", again.status, again.loc, again.body)
	}
	if got := b.get(acct.ID).Balance; got != 1_025_00 {
		t.Fatalf("balance %d after the credit, want 102500", got)
	}
	if rs := staffActions(t, l, "credited to the customer"); len(rs) != 1 || rs[0].Purpose != "ACME PAYROLL says the credit was for Ada's new account" ||
		!strings.HasPrefix(rs[0].Actor, "staff:") || rs[0].Customer != ada.ID {
		t.Fatalf("the audit of the credit: %+v", rs)
	}
	// Another officer after it is told who settled it, and nothing moves.
	ad := b.browser()
	ad.login("/console", "admin@bank.test")
	if p := ad.post(creditPath, url.Values{"csrf": {ad.csrf("/console/rails/exceptions")}, "action": {"write_off"}, "reason": {"no owner"}}); p.status != http.StatusConflict ||
		!strings.Contains(p.body, "credited to the customer by Staff compliance") {
		t.Fatalf("settled twice by two officers: %d\n%s", p.status, p.body)
	}

	// The debit the bank paid out: charged to Ada by the overdraft-on-return rule.
	if p := co.get(chargePath + "?action=charge"); p.status != http.StatusOK || !strings.Contains(p.body, "the overdraft-on-return rule") {
		t.Fatalf("the charge's confirmation: %d\n%s", p.status, p.body)
	}
	if p := co.post(chargePath, url.Values{"csrf": {csrf}, "action": {"charge"}, "reason": {"the debit stands; Ada's mandate was valid"}}); p.status != http.StatusSeeOther {
		t.Fatalf("charge: %d\n%s", p.status, p.body)
	}
	if got := b.get(acct.ID); got.Balance != 0 {
		t.Fatalf("after the charge: balance %d", got.Balance)
	}
	done := co.get("/console/rails/exceptions?done=charge")
	if !strings.Contains(done.body, "Nothing waits.") || !strings.Contains(done.body, "the customer was charged") ||
		!strings.Contains(done.body, "Staff compliance: the debit stands") || !strings.Contains(done.body, "475.00 USD") ||
		!strings.Contains(done.body, `data-field="resolved">2`) {
		t.Fatalf("the list after both:\n%s", done.body)
	}
	rec, err := b.rails.Reconcile(ctx)
	if err != nil || rec.Difference != 0 || rec.ReceivableDifference != 0 || rec.Owed != 475_00 || rec.Waiting.Count != 0 || rec.Resolved.Count != 2 {
		t.Fatalf("the reconciliation: %+v %v", rec, err)
	}
	if rep, err := b.ledger.Store().Verify(ctx); err != nil || !rep.OK() {
		t.Fatalf("ledger verify: %v %v", err, rep.Problems)
	}
	// The rails page counts them.
	if p := co.get("/console/rails"); !strings.Contains(p.body, `href="/console/rails/exceptions">0 (0.00 USD)</a>; settled by operators: 2`) {
		t.Fatalf("the rails page:\n%s", p.body)
	}
}

// TestStaffAsksAnInstantPaymentBack: support asks a customer's settled
// instant payment back from the console (the customer reported fraud by
// phone), through the customers' own path; the reason and what the
// customer said are audited with the staff member's name; compliance may
// not; sent twice, it is asked once; the customer's page shows the request.
func TestStaffAsksAnInstantPaymentBack(t *testing.T) {
	t.Parallel()
	b, l := railsAuditBank(t, bankOptions{})
	ctx := context.Background()
	ada := b.customer("Ada Lovelace", "ada@example.com")
	from := b.account(ada.ID, "Checking", ledger.Checking, 1_000_00)
	br := b.browser()
	br.login("", "ada@example.com")
	_, sam := br.addPayee("Sam Lee", "231380104", "123456789")
	inst := br.paySpeed(sam, from.ID, "40.00", "instant")
	if inst.status != http.StatusSeeOther {
		t.Fatalf("instant: %d\n%s", inst.status, inst.body)
	}
	ach := br.payACH(sam, from.ID, "10.00")
	var id, achID int64
	fmt.Sscanf(strings.TrimPrefix(inst.loc, "/payments/ach/"), "%d", &id)
	fmt.Sscanf(strings.TrimPrefix(ach.loc, "/payments/ach/"), "%d", &achID)
	recall := fmt.Sprintf("/console/rails/payments/%d/recall", id)
	b.staff("support@bank.test", identity.Support)
	b.staff("officer@bank.test", identity.Compliance)

	sup := b.browser()
	sup.login("/console", "support@bank.test")
	cust := sup.get(fmt.Sprintf("/console/customers/%d", ada.ID))
	if !strings.Contains(cust.body, `href="`+recall+`"`) || strings.Contains(cust.body, fmt.Sprintf("/console/rails/payments/%d/recall", achID)) {
		t.Fatalf("the customer's page offers no way to ask the instant payment back (or offers the ACH one):\n%s", cust.body)
	}
	co := b.browser()
	co.login("/console", "officer@bank.test")
	if p := co.get(recall); p.status != http.StatusForbidden {
		t.Fatalf("compliance asking back: %d", p.status)
	}
	if p := co.get(fmt.Sprintf("/console/customers/%d", ada.ID)); strings.Contains(p.body, `href="`+recall+`"`) {
		t.Fatalf("compliance is offered the link")
	}
	page := sup.get(recall)
	if page.status != http.StatusOK || !strings.Contains(page.body, "FRAD: it was sent because of fraud") || !strings.Contains(page.body, "40.00 USD") {
		t.Fatalf("the form: %d\n%s", page.status, page.body)
	}
	csrf := page.field(t, csrfRe)
	if p := sup.post(recall, url.Values{"csrf": {csrf}, "reason": {"FRAD"}}); p.status != http.StatusBadRequest || !strings.Contains(p.body, "what the customer told you") {
		t.Fatalf("no note: %d\n%s", p.status, p.body)
	}
	if p := sup.post(recall, url.Values{"csrf": {csrf}, "reason": {"NOPE"}, "note": {"x"}}); p.status != http.StatusUnprocessableEntity {
		t.Fatalf("a reason not in the code set: %d", p.status)
	}
	form := url.Values{"csrf": {csrf}, "reason": {"FRAD"}, "note": {"Ada phoned: a caller posing as the bank talked her into it"}}
	res := sup.post(recall, form)
	if res.status != http.StatusSeeOther || res.loc != fmt.Sprintf("/console/customers/%d?done=recall#payments", ada.ID) {
		t.Fatalf("ask: %d %q\n%s", res.status, res.loc, res.body)
	}
	if p := sup.post(recall, form); p.status != http.StatusConflict || !strings.Contains(p.body, "asked back already") {
		t.Fatalf("sent twice: %d\n%s", p.status, p.body)
	}
	p, err := b.rails.Store().Payment(ctx, rails.PaymentID(id))
	if err != nil || p.Recall != rails.RecallAccepted {
		t.Fatalf("the payment: %+v %v", p, err)
	}
	rs := staffActions(t, l, "asked back for the customer")
	if len(rs) != 1 || !strings.Contains(rs[0].Detail, "reason FRAD") || rs[0].Purpose != form.Get("note") || rs[0].Customer != ada.ID || !strings.HasPrefix(rs[0].Actor, "staff:") {
		t.Fatalf("the audit: %+v", rs)
	}
	if pg := sup.get(strings.TrimSuffix(res.loc, "#payments")); !strings.Contains(pg.body, "We asked the other bank for the payment back") ||
		!strings.Contains(pg.body, "accepted: the other bank agreed") {
		t.Fatalf("the console's customer page after:\n%s", pg.body)
	}
	// The customer's own page shows the request and the answer.
	if pg := br.get(inst.loc); !strings.Contains(pg.body, "You asked for it back: the other bank agreed to return it") || strings.Contains(pg.body, `href="`+inst.loc+`/recall"`) {
		t.Fatalf("the customer's page:\n%s", pg.body)
	}
	// An ACH payment is not asked back here.
	if p := sup.get(fmt.Sprintf("/console/rails/payments/%d/recall", achID)); p.status != http.StatusConflict || !strings.Contains(p.body, "Only an instant payment") {
		t.Fatalf("an ACH payment: %d\n%s", p.status, p.body)
	}
}
