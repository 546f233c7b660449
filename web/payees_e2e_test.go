package web_test

import (
	"context"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/internal/testbrowser"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
)

// TestBrowserPayees runs web/e2e/payees.mjs in headless Chromium against a
// real server with real SQLite stores and the rail emulator: add a payee
// (a mistyped routing number refused by its check digit), pay it
// instantly, and read a refusal in words. Prerequisites as
// TestBrowserTransfer. BANKBRIDGE_E2E_PAYEES_SCREENSHOT keeps the
// screenshot at that path.
func TestBrowserPayees(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{now: true})
	c := b.customer("Grace Hopper", "grace@example.com")
	b.account(c.ID, "Everyday checking", ledger.Checking, 250000)
	srv := httptest.NewServer(b.handler)
	t.Cleanup(srv.Close)
	testbrowser.Run(t, "e2e", "payees.mjs", "BANKBRIDGE_E2E_PAYEES_SCREENSHOT", 2*time.Minute,
		"BASE_URL="+srv.URL, "EMAIL=grace@example.com", "PASSWORD="+password)
}

// TestBrowserCollectAndRecall runs web/e2e/collect.mjs in headless
// Chromium: a collection from the customer's own account at another bank,
// authorised in words, and an instant payment asked back. Prerequisites
// as TestBrowserTransfer. BANKBRIDGE_E2E_COLLECT_SCREENSHOT keeps the
// screenshot at that path.
func TestBrowserCollectAndRecall(t *testing.T) {
	b := newBank(t, bankOptions{now: true})
	ctx := context.Background()
	c := b.customer("Grace Hopper", "grace@example.com")
	checking := b.account(c.ID, "Everyday checking", ledger.Checking, 250000)
	own, err := b.rails.AddPayee(ctx, rails.Payee{Customer: c.ID, Name: "Grace Hopper", Nickname: "Grace savings", Routing: "231380104", Number: "987654321"})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.rails.Store().UpdatePayee(ctx, own.ID, rails.PayeeVerified, "", "", "", ""); err != nil {
		t.Fatal(err)
	}
	sam, err := b.rails.AddPayee(ctx, rails.Payee{Customer: c.ID, Name: "Sam Lee", Nickname: "Sam", Routing: "231380104", Number: "123456789"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.rails.PayInstant(ctx, rails.PayRequest{Customer: c.ID, Payee: sam.ID, From: checking.ID, Amount: 40_00, Channel: "web", Key: "e2e-instant"})
	if err != nil || p.Status != rails.StatusSettled {
		t.Fatalf("an instant payment: %+v, %v", p, err)
	}
	srv := httptest.NewServer(b.handler)
	t.Cleanup(srv.Close)
	testbrowser.Run(t, "e2e", "collect.mjs", "BANKBRIDGE_E2E_COLLECT_SCREENSHOT", 2*time.Minute,
		"BASE_URL="+srv.URL, "EMAIL=grace@example.com", "PASSWORD="+password, "PAYEE=Grace savings",
		"INSTANT=/payments/ach/"+strconv.FormatInt(int64(p.ID), 10))
	ps, err := b.rails.Store().Payments(ctx, rails.PaymentQuery{Customer: c.ID, Kinds: []rails.Kind{rails.KindDebit}})
	if err != nil || len(ps) != 1 || ps[0].Amount != 120_00 || ps[0].SEC != rails.SECWEB {
		t.Fatalf("after the walk, collections %+v, %v; want one of 120.00, WEB", ps, err)
	}
	if got, err := b.rails.Store().Payment(ctx, p.ID); err != nil || got.Recall == "" {
		t.Fatalf("after the walk the instant payment is %+v, %v; want it asked back", got, err)
	}
}
