package storetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
)

// mirrorAccountList: the core's account list opens each account once,
// even with two openers at once (the number is unique in the ledger, the
// loser takes the winner's); a row refused is recorded with why and a
// later list opens it; an opened row keeps its record.
func mirrorAccountList(t *testing.T, open MirrorOpener) {
	st, rs, ls := open(t)
	ctx := context.Background()
	known := map[string]bankbridge.CustomerID{"ann@example.com": 41}
	var mu sync.Mutex
	opener := &rails.AccountOpener{Store: st, Ledger: ls, AccountByNumber: rs.AccountByNumber, Routing: "021000089",
		Customer: func(_ context.Context, email string) (bankbridge.CustomerID, error) {
			mu.Lock()
			defer mu.Unlock()
			if c, ok := known[email]; ok {
				return c, nil
			}
			return 0, bankbridge.E(bankbridge.NotFound, "customer_not_found", "no such customer")
		}}
	list, err := rails.ParseAccountList(strings.NewReader(rails.AccountListHeader + "\nL1,USD,checking,Everyday,ann@example.com\nL2,USD,savings,Joint,bob@example.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if _, err := opener.Open(ctx, "accounts-1.csv", list); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	as, err := ls.CustomerAccounts(ctx, 41)
	if err != nil || len(as) != 1 || as[0].Number != "L1" || as[0].Kind != ledger.Checking {
		t.Fatalf("ann's accounts: %+v %v", as, err)
	}
	rows, err := st.OpenedAccounts(ctx)
	if err != nil || len(rows) != 2 || rows[0].Status != "opened" || rows[0].Account != as[0].ID || rows[1].Status != "refused" || rows[1].Account != 0 {
		t.Fatalf("rows: %+v %v", rows, err)
	}
	mu.Lock()
	known["bob@example.com"] = 42
	mu.Unlock()
	if _, err := opener.Open(ctx, "accounts-2.csv", list); err != nil {
		t.Fatal(err)
	}
	rows, err = st.OpenedAccounts(ctx)
	if err != nil || len(rows) != 2 || rows[0].File != "accounts-1.csv" || rows[1].Status != "opened" || rows[1].File != "accounts-2.csv" || rows[1].Customer != 42 {
		t.Fatalf("rows after the second list: %+v %v", rows, err)
	}
	// A refused row never overwrites an opened one.
	if wrote, err := st.RecordOpened(ctx, rails.OpenedAccount{Number: "L1", Currency: "USD", File: "x", Status: "refused", At: time.Now()}); err != nil || wrote {
		t.Fatalf("an opened row overwritten: %v %v", wrote, err)
	}
	// A number held by another customer's account is refused.
	if _, err := ls.CreateAccount(ctx, ledger.Account{Customer: 7, Kind: ledger.Checking, Name: "Other", Currency: "USD", Number: "L3", OpenedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	l3, _ := rails.ParseAccountList(strings.NewReader(rails.AccountListHeader + "\nL3,USD,checking,Mine,ann@example.com\n"))
	res, err := opener.Open(ctx, "accounts-3.csv", l3)
	if err != nil || len(res) != 1 || res[0].Status != "refused" || !strings.Contains(res[0].Detail, "another account") {
		t.Fatalf("a number another customer holds: %+v %v", res, err)
	}
	if _, err := rails.ParseAccountList(strings.NewReader("number,currency\nL4,USD\n")); !errors.Is(err, rails.ErrMessage) {
		t.Fatalf("a list without its header: %v", err)
	}
}
