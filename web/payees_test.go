package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
)

var payeeRowRe = regexp.MustCompile(`data-payee="(\d+)"`)

// addPayee saves a payee through the form and returns its id.
func (br *browser) addPayee(name, routing, number string) (page, string) {
	br.b.t.Helper()
	res := br.post("/payees", url.Values{"csrf": {br.csrf("/payees")}, "name": {name}, "nickname": {name}, "routing": {routing},
		"number": {number}, "type": {"checking"}})
	if res.status != http.StatusSeeOther {
		return res, ""
	}
	list := br.get("/payees")
	ms := payeeRowRe.FindAllStringSubmatch(list.body, -1)
	for _, m := range ms {
		if strings.Contains(list.body[strings.Index(list.body, m[0]):], name) {
			return res, m[1]
		}
	}
	br.b.t.Fatalf("payee %s not listed:\n%s", name, list.body)
	return res, ""
}

// payACH pays a payee through the form, review and confirmation.
func (br *browser) payACH(id string, from ledger.AccountID, amount string) page {
	br.b.t.Helper()
	return br.paySpeed(id, from, amount, "standard")
}

func (br *browser) paySpeed(id string, from ledger.AccountID, amount, speed string) page {
	br.b.t.Helper()
	rev := br.post("/payees/"+id+"/pay", url.Values{"csrf": {br.csrf("/payees/" + id + "/pay")}, "from": {fmt.Sprint(from)}, "amount": {amount}, "speed": {speed}})
	if rev.status != http.StatusOK {
		return rev
	}
	return br.post("/payees/"+id+"/pay/confirm", br.confirmForm(rev))
}

func TestPayeesAtOtherBanks(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, pg bool) {
		b := newBank(t, bankOptions{postgres: pg})
		ada := b.customer("Ada Lovelace", "ada@example.com")
		b.customer("Eve Other", "eve@example.com")
		br := b.browser()
		br.login("", "ada@example.com")
		if res, _ := br.addPayee("Sam Lee", "231380105", "123456789"); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "check digit") {
			t.Fatalf("a routing number with a wrong check digit: %d\n%s", res.status, res.body)
		}
		_, id := br.addPayee("Sam Lee", "231380104", "123456789")
		list := br.get("/payees")
		if !strings.Contains(list.body, "Not verified") || !strings.Contains(list.body, "••••6789") {
			t.Fatalf("the list:\n%s", list.body)
		}
		csrf := br.csrf("/payees")
		if res := br.post("/payees/"+id+"/verify", url.Values{"csrf": {csrf}}); res.status != http.StatusSeeOther {
			t.Fatalf("verify: %d\n%s", res.status, res.body)
		}
		if !strings.Contains(br.get("/payees").body, "Checking the account") {
			t.Fatal("a payee being verified does not say so")
		}
		if res := br.post("/payees/"+id+"/nickname", url.Values{"csrf": {csrf}, "nickname": {"Sammy"}}); res.status != http.StatusSeeOther {
			t.Fatalf("rename: %d\n%s", res.status, res.body)
		}
		// Another customer cannot see, pay or remove Ada's payee.
		eve := b.browser()
		eve.login("", "eve@example.com")
		if res := eve.get("/payees/" + id + "/pay"); res.status != http.StatusNotFound {
			t.Fatalf("another customer's payee: %d", res.status)
		}
		if res := eve.post("/payees/"+id+"/delete", url.Values{"csrf": {eve.csrf("/payees")}}); res.status != http.StatusNotFound {
			t.Fatalf("another customer deletes: %d", res.status)
		}
		if res := br.post("/payees/"+id+"/delete", url.Values{"csrf": {csrf}}); res.status != http.StatusSeeOther {
			t.Fatalf("delete: %d", res.status)
		}
		if ps, _ := b.rails.Store().Payees(context.Background(), ada.ID); len(ps) != 0 {
			t.Fatalf("payees left: %+v", ps)
		}
	})
}

func TestACHPaymentFromTheWebApp(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, pg bool) {
		b := newBank(t, bankOptions{postgres: pg})
		ctx := context.Background()
		ada := b.customer("Ada Lovelace", "ada@example.com")
		from := b.account(ada.ID, "Checking", ledger.Checking, 5_000_00)
		br := b.browser()
		br.login("", "ada@example.com")
		_, good := br.addPayee("Sam Lee", "231380104", "123456789")
		_, short := br.addPayee("Ann Short", "231380104", "1111111111")
		// A new payee: at most 1,000.00 a day in its cooling-off.
		if res := br.payACH(good, from.ID, "1000.01"); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "This payee is new") {
			t.Fatalf("over the new-payee limit: %d\n%s", res.status, res.body)
		}
		res := br.payACH(good, from.ID, "250.00")
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.loc, "/payments/ach/") {
			t.Fatalf("pay: %d\n%s", res.status, res.body)
		}
		status := res.loc
		if p := br.get(status); !strings.Contains(p.body, "Scheduled") {
			t.Fatalf("status page:\n%s", p.body)
		}
		// A payment on its way reloads only when the customer asks to
		// follow it (WCAG 2.2.1), and so does the list.
		for _, path := range []string{status, "/payments/ach"} {
			if p := br.get(path); strings.Contains(p.body, `http-equiv="refresh"`) || !strings.Contains(p.body, `href="`+path+`?follow=1"`) {
				t.Errorf("%s reloads unasked, or offers no way to follow:\n%s", path, p.body)
			}
			if p := br.get(path + "?follow=1"); !strings.Contains(p.body, `http-equiv="refresh"`) {
				t.Errorf("%s?follow=1 does not reload", path)
			}
		}
		if a := b.get(from.ID); a.Held != 250_00 {
			t.Fatalf("held %d", a.Held)
		}
		ret := br.payACH(short, from.ID, "100.00")
		if ret.status != http.StatusSeeOther {
			t.Fatalf("second payment: %d\n%s", ret.status, ret.body)
		}
		if err := b.rails.Cycle(ctx, b.railsTr); err != nil {
			t.Fatal(err)
		}
		if p := br.get(status); !strings.Contains(p.body, "Settled") {
			t.Fatalf("settled status page:\n%s", p.body)
		}
		if p := br.get(ret.loc); !strings.Contains(p.body, "Returned") || !strings.Contains(p.body, "did not have enough money") {
			t.Fatalf("returned status page:\n%s", p.body)
		}
		if a := b.get(from.ID); a.Balance != 4_750_00 || a.Held != 0 {
			t.Fatalf("balance %d held %d", a.Balance, a.Held)
		}
		b.customer("Eve Other", "eve@example.com")
		eve := b.browser()
		eve.login("", "eve@example.com")
		if p := eve.get(status); p.status != http.StatusNotFound {
			t.Fatalf("another customer's payment: %d", p.status)
		}
		if p := br.get("/payments/ach"); !strings.Contains(p.body, "Ann Short") || !strings.Contains(p.body, "Returned") {
			t.Fatalf("list:\n%s", p.body)
		}
		// In Spanish: the titles with the payee's name, and the return's
		// reason the rails wrote (R01).
		br.get("/language?lang=es")
		for _, c := range []struct{ path, want string }{
			{ret.loc, "<title>Pago a Ann Short"},
			{ret.loc, "Devuelto: el dinero volvió a tu cuenta. Por qué: la otra cuenta no tenía suficiente dinero."},
			{"/payments/ach", "la otra cuenta no tenía suficiente dinero"},
			{"/payees/" + good + "/pay", "<title>Pagar a Sam Lee"},
			{"/payees/" + good + "/collect", "<title>Cobrar de Sam Lee"},
		} {
			if p := br.get(c.path); !strings.Contains(p.body, c.want) {
				t.Errorf("%s in Spanish lacks %q:\n%s", c.path, c.want, p.body)
			}
		}
	})
}

func TestSanctionsHitWaitsForCompliance(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	ada := b.customer("Ada Lovelace", "ada@example.com")
	from := b.account(ada.ID, "Checking", ledger.Checking, 1_000_00)
	br := b.browser()
	br.login("", "ada@example.com")
	_, id := br.addPayee("Dmitri Kovalenko", "231380104", "123456789")
	res := br.payACH(id, from.ID, "10.00")
	if res.status != http.StatusSeeOther {
		t.Fatalf("pay: %d\n%s", res.status, res.body)
	}
	if p := br.get(res.loc); !strings.Contains(p.body, "On hold") {
		t.Fatalf("a held payment's page:\n%s", p.body)
	}
	b.staff("support@bank.test", identity.Support)
	b.staff("compliance@bank.test", identity.Compliance)
	sup := b.browser()
	sup.login("/console", "support@bank.test")
	page := sup.get("/console/rails")
	if !strings.Contains(page.body, "SDN 9001") || strings.Contains(page.body, "/release") {
		t.Fatalf("support sees the hit but cannot decide:\n%s", page.body)
	}
	n := strings.TrimPrefix(res.loc, "/payments/ach/")
	if r := sup.post("/console/rails/payments/"+n+"/release", url.Values{"csrf": {sup.csrf("/console/rails")}}); r.status != http.StatusForbidden {
		t.Fatalf("support releases: %d", r.status)
	}
	co := b.browser()
	co.login("/console", "compliance@bank.test")
	if r := co.post("/console/rails/payments/"+n+"/release", url.Values{"csrf": {co.csrf("/console/rails")}}); r.status != http.StatusSeeOther {
		t.Fatalf("compliance releases: %d\n%s", r.status, r.body)
	}
	if p := co.get("/console/rails?done=released"); !strings.Contains(p.body, "Payment released") || strings.Contains(p.body, "SDN 9001") {
		t.Fatalf("after the release:\n%s", p.body)
	}
	if p, _ := b.rails.Store().Payments(context.Background(), rails.PaymentQuery{Customer: ada.ID}); len(p) != 1 || p[0].Status != rails.StatusAccepted {
		t.Fatalf("payment: %+v", p)
	}
}

func TestInstantPaymentFromTheWebApp(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	ada := b.customer("Ada Lovelace", "ada@example.com")
	from := b.account(ada.ID, "Checking", ledger.Checking, 1_000_00)
	br := b.browser()
	br.login("", "ada@example.com")
	_, good := br.addPayee("Sam Lee", "231380104", "123456789")
	_, closed := br.addPayee("Cal Closed", "231380104", "2222222222")
	res := br.paySpeed(good, from.ID, "40.00", "instant")
	if res.status != http.StatusSeeOther {
		t.Fatalf("instant: %d\n%s", res.status, res.body)
	}
	if p := br.get(res.loc); !strings.Contains(p.body, "Settled") || !strings.Contains(p.body, "Instant payment") {
		t.Fatalf("an instant payment's page:\n%s", p.body)
	}
	res = br.paySpeed(closed, from.ID, "10.00", "instant")
	if p := br.get(res.loc); !strings.Contains(p.body, "Not sent") || !strings.Contains(p.body, "the other account is closed") {
		t.Fatalf("a refused instant payment's page:\n%s", p.body)
	}
	if a := b.get(from.ID); a.Balance != 960_00 || a.Held != 0 {
		t.Fatalf("balance %d held %d", a.Balance, a.Held)
	}
}
