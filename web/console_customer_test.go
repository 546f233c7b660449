package web_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/web"
)

// TestConsoleSearchAndCustomerPage: staff find a customer by part of a
// name, an e-mail, a phone number or an account number; the page shows
// contact details, a card's available credit (not its negative balance),
// recent transactions and cards; a freeze needs a reason and is in the
// audit log with it and who froze.
func TestConsoleSearchAndCustomerPage(t *testing.T) {
	t.Parallel()
	b, l := auditBank(t)
	ctx := context.Background()
	ada, err := b.ids.RegisterCustomer(ctx, identity.Customer{Name: "Ada Lovelace", Email: "ada@example.com", Phone: "+15550100001", BirthYear: 1985}, password)
	if err != nil {
		t.Fatal(err)
	}
	b.customer("Adam Smith", "adam@example.com")
	checking := b.account(ada.ID, "Everyday checking", ledger.Checking, 250000)
	card, err := b.ledger.Store().CreateAccount(ctx, ledger.Account{Customer: ada.ID, Kind: ledger.CreditCard, Name: "Rewards card",
		Currency: "USD", Number: "4000000077", Routing: "011000015", Limit: 300000})
	if err != nil {
		t.Fatal(err)
	}
	b.move(card.ID, b.funding, 130165, "Airline tickets")
	if _, err := b.ledger.Store().CreateCard(ctx, ledger.Card{Account: card.ID, Customer: ada.ID, Last4: "2516", Network: "visa", Status: ledger.CardActive}); err != nil {
		t.Fatal(err)
	}
	st := b.staff("agent@bank.test", identity.Support)
	br := b.browser()
	br.login("/console", "agent@bank.test")

	for _, q := range []string{"LOVEL", "ada@exam", "555 010 0001", "0077"} {
		res := br.get("/console/customers?" + url.Values{"q": {q}}.Encode())
		if res.status != http.StatusSeeOther || res.loc != fmt.Sprintf("/console/customers/%d", ada.ID) {
			t.Errorf("search %q: %d to %q, want Ada's page", q, res.status, res.loc)
		}
	}
	if p := br.get("/console/customers?q=ada"); p.status != http.StatusOK || !strings.Contains(p.body, "Adam Smith") || !strings.Contains(p.body, "Ada Lovelace") {
		t.Errorf("search \"ada\" does not list both: %d", p.status)
	}
	if p := br.get("/console/customers?q=zzz"); p.status != http.StatusNotFound {
		t.Errorf("search with no match: %d", p.status)
	}

	p := br.get(fmt.Sprintf("/console/customers/%d", ada.ID))
	for _, want := range []string{"15550100001", "1,698.35 USD", "Airline tickets", "••••2516", "Everyday checking"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the customer page lacks %q", want)
		}
	}
	if strings.Contains(p.body, "-1,301.65 USD<span") {
		t.Errorf("the card's available shows the negative balance")
	}
	csrf := p.field(t, csrfRe)
	path := fmt.Sprintf("/console/accounts/%d/status", checking.ID)
	if res := br.post(path, url.Values{"csrf": {csrf}, "status": {"frozen"}}); res.status != http.StatusBadRequest || b.get(checking.ID).Status != ledger.Open {
		t.Fatalf("freeze without a reason: %d", res.status)
	}
	if res := br.post(path, url.Values{"csrf": {csrf}, "status": {"frozen"}, "reason": {"Customer reported the phone stolen"}}); res.status != http.StatusSeeOther {
		t.Fatalf("freeze: %d", res.status)
	}
	pg, err := l.Records(ctx, audit.Query{Kind: audit.StaffAction})
	if err != nil {
		t.Fatal(err)
	}
	if len(pg.Records) != 1 {
		t.Fatalf("%d staff_action records after one freeze, want 1", len(pg.Records))
	}
	r := pg.Records[0]
	if r.Actor != fmt.Sprintf("staff:%d", st.ID) || r.Purpose != "Customer reported the phone stolen" || r.Customer != ada.ID || !strings.Contains(r.Detail, "open -> frozen") {
		t.Errorf("staff action recorded as %+v", r)
	}

	b.staff("co@bank.test", identity.Compliance)
	cb := b.browser()
	cb.login("/console", "co@bank.test")
	page := cb.get("/console/audit?kind=staff_action")
	if !strings.Contains(page.body, fmt.Sprintf("Staff support (staff:%d)", st.ID)) || !strings.Contains(page.body, "Customer reported the phone stolen") {
		t.Errorf("the audit page does not name the member of staff and the reason")
	}
	for _, f := range []string{"csv", "json"} {
		x := cb.get("/console/audit." + f + "?kind=staff_action")
		if x.status != http.StatusOK || !strings.Contains(x.body, "Customer reported the phone stolen") || !strings.Contains(x.header.Get("Content-Disposition"), "attachment") {
			t.Errorf("audit export %s: %d", f, x.status)
		}
	}
	if x := br.get("/console/audit.csv"); x.status != http.StatusForbidden {
		t.Errorf("support exporting the audit log: %d, want 403", x.status)
	}
}

// TestConsoleCaseQueue: a customer's dispute reaches the queue with its
// age and deadline; support takes it, notes it (the customer sees the
// note), closes it; every step is on the audit log with the reason; the
// analyst cannot open the queue.
func TestConsoleCaseQueue(t *testing.T) {
	t.Parallel()
	ab := newAlertsBank(t)
	key := make([]byte, ed25519.SeedSize)
	l := audit.New(ab.db.Audit(), audit.Options{Key: ed25519.NewKeyFromSeed(key), Now: ab.clock.Now, SealEvery: time.Hour})
	t.Cleanup(l.Close)
	ab.handler = web.New(web.Deps{Auth: ab.ids, Ledger: ab.ledger, Logger: slog.New(slog.DiscardHandler), Now: ab.clock.Now,
		BankName: "Test Bank", Alerts: ab.svc, Audit: l})
	tr := ab.cardPayment(ab.checking(ab.ada.ID).ID, 4200, "Gadget Hut")
	cust := ab.browser()
	cust.login("", "ada@example.com")
	csrf := cust.csrf("/cards")
	res := cust.post("/disputes", url.Values{"csrf": {csrf}, "transfer": {fmt.Sprint(tr.ID)}, "reason": {"not_as_described"}})
	m := caseLoc.FindStringSubmatch(res.loc)
	if m == nil {
		t.Fatalf("dispute: %d %q", res.status, res.loc)
	}
	agent := ab.staff("agent@bank.test", identity.Support)
	ab.staff("analyst@bank.test", identity.Analyst)
	br := ab.browser()
	br.login("/console", "agent@bank.test")
	q := br.get("/console/cases?kind=dispute")
	if q.status != http.StatusOK || !strings.Contains(q.body, `data-case="`+m[1]+`"`) || !strings.Contains(q.body, "visa 13.3") {
		t.Fatalf("the queue lacks the dispute: %d", q.status)
	}
	scsrf := q.field(t, csrfRe)
	path := "/console/cases/" + m[1]
	for _, step := range []struct {
		name string
		form url.Values
		want int
	}{
		{"assign", url.Values{}, http.StatusSeeOther},
		{"note", url.Values{"note": {""}}, http.StatusBadRequest},
		{"note", url.Values{"note": {"Asked the merchant for the delivery proof."}}, http.StatusSeeOther},
		{"close", url.Values{"note": {"Refunded by the merchant."}}, http.StatusSeeOther},
		{"note", url.Values{"note": {"too late"}}, http.StatusConflict},
	} {
		step.form.Set("csrf", scsrf)
		if res := br.post(path+"/"+step.name, step.form); res.status != step.want {
			t.Errorf("%s %v: %d, want %d", step.name, step.form, res.status, step.want)
		}
	}
	if p := br.get(path); !strings.Contains(p.body, "Staff support: Asked the merchant") || !strings.Contains(p.body, "Refunded by the merchant.") {
		t.Errorf("the case page lacks its notes")
	}
	if p := cust.get("/cases/" + m[1]); !strings.Contains(p.body, "Our team: Asked the merchant") || !strings.Contains(p.body, "Refunded by the merchant.") {
		t.Errorf("the customer does not see the team's note and outcome")
	}
	pg, err := l.Records(context.Background(), audit.Query{Kind: audit.StaffAction})
	if err != nil {
		t.Fatal(err)
	}
	if len(pg.Records) != 3 {
		t.Errorf("%d staff_action records for assign, note and close, want 3", len(pg.Records))
	}
	for _, r := range pg.Records {
		if r.Actor != fmt.Sprintf("staff:%d", agent.ID) || r.Customer != ab.ada.ID || r.Purpose == "" {
			t.Errorf("record %+v", r)
		}
	}
	an := ab.browser()
	an.login("/console", "analyst@bank.test")
	if p := an.get("/console/cases"); p.status != http.StatusForbidden {
		t.Errorf("the analyst opens the case queue: %d", p.status)
	}
}

// chatsOf is a chat inbox holding the linked chats of one customer.
type chatsOf struct {
	web.Inbox // nil: only the customer page's list is asked here
	customer  bankbridge.CustomerID
	links     []assistant.Link
}

func (c chatsOf) CustomerChats(_ context.Context, id bankbridge.CustomerID) ([]assistant.Link, error) {
	if id != c.customer {
		return nil, nil
	}
	return c.links, nil
}

// TestConsoleCustomerPageListsChats: support sees each chat linked to the
// customer, on every platform, with a way into its conversation;
// compliance, who may see the customer but not read chats, does not see
// the section.
func TestConsoleCustomerPageListsChats(t *testing.T) {
	t.Parallel()
	b, l := auditBank(t)
	ada := b.customer("Ada Lovelace", "ada@example.com")
	b.account(ada.ID, "Everyday checking", ledger.Checking, 1000)
	linked := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	inbox := chatsOf{customer: ada.ID, links: []assistant.Link{
		{Key: assistant.Key{Platform: "messenger", User: "psid-7"}, Customer: ada.ID, Linked: linked},
		{Key: assistant.Key{Platform: "whatsapp", User: "15550100001"}, Customer: ada.ID, Linked: linked.AddDate(0, 0, 3)},
	}}
	b.handler = web.New(web.Deps{Auth: b.ids, Ledger: b.ledger, Logger: slog.New(slog.DiscardHandler), Now: b.clock.Now,
		BankName: "Test Bank", Audit: l, Inbox: inbox})
	b.staff("agent@bank.test", identity.Support)
	b.staff("compliance@bank.test", identity.Compliance)
	br := b.browser()
	br.login("/console", "agent@bank.test")
	p := br.get(fmt.Sprintf("/console/customers/%d", ada.ID))
	for _, want := range []string{`href="/console/inbox/messenger/psid-7"`, "Messenger conversation", "WhatsApp conversation",
		`href="/console/inbox/whatsapp/15550100001"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the customer page lacks %q", want)
		}
	}
	other := b.customer("Adam Smith", "adam@example.com")
	if p := br.get(fmt.Sprintf("/console/customers/%d", other.ID)); !strings.Contains(p.body, "No chat is linked.") {
		t.Errorf("a customer without chats: the page does not say so")
	}
	co := b.browser()
	co.login("/console", "compliance@bank.test")
	if p := co.get(fmt.Sprintf("/console/customers/%d", ada.ID)); p.status != http.StatusOK || strings.Contains(p.body, "psid-7") || strings.Contains(p.body, "No chat is linked") {
		t.Errorf("a role that may not read chats sees them listed (%d)", p.status)
	}
}
