package demo_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/demo"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/google/go-cmp/cmp"
)

// now is the end of the test histories: fixed, so runs compare.
var now = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

var small = demo.Options{Customers: 50, Days: 30, Seed: 7, Now: now}

// open returns a fresh, empty database of engine as demo.Deps.
func open(t *testing.T, engine string) demo.Deps {
	t.Helper()
	ctx := context.Background()
	var led ledger.Store
	var ids identity.Store
	switch engine {
	case "sqlite":
		db, err := sqlite.Open(ctx, testdb.SQLitePath(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		led, ids = db.Ledger(), db.Identity()
	case "postgres":
		db, err := postgres.Open(ctx, testdb.MigratedPostgresURL(t, postgres.Migrations(), postgres.Open))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		led, ids = db.Ledger(), db.Identity()
	default:
		t.Fatalf("unknown engine %q", engine)
	}
	return demo.Deps{Identity: identity.New(ids, identity.Options{}), Ledger: led}
}

func seed(t *testing.T, d demo.Deps, o demo.Options) demo.Result {
	t.Helper()
	res, err := demo.Seed(context.Background(), d, o)
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	return res
}

// snapshot is every account of customers 0 (the bank) to n, as balances.
type acct struct {
	Customer             bankbridge.CustomerID
	Kind                 ledger.AccountKind
	Number               string
	Limit, Balance, Held ledger.Amount
	Currency             ledger.Currency
}

func snapshot(t *testing.T, st ledger.Store, n int) []acct {
	t.Helper()
	var out []acct
	for c := range n + 1 {
		as, err := st.CustomerAccounts(context.Background(), bankbridge.CustomerID(c))
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			out = append(out, acct{a.Customer, a.Kind, string(a.Number), a.Limit, a.Balance, a.Held, a.Currency})
		}
	}
	return out
}

func TestSeed(t *testing.T) {
	for _, engine := range testdb.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d := open(t, engine)
			if ok, err := demo.Seeded(ctx, d.Ledger); err != nil || ok {
				t.Fatalf("Seeded on an empty database = %v, %v; want false", ok, err)
			}
			res := seed(t, d, small)

			t.Run("CountsAndVerify", func(t *testing.T) {
				rep, err := d.Ledger.Verify(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !rep.OK() {
					t.Fatalf("Verify found problems: %v", rep.Problems)
				}
				if rep.Transfers != res.Transfers || rep.Accounts != res.Accounts {
					t.Errorf("Verify counts %d accounts, %d transfers; Seed reported %+v", rep.Accounts, rep.Transfers, res)
				}
				if res.Customers != 50 || res.Merchants < 50 || res.Transfers < 50*30 || res.Payees < 50 || res.Cards < 50 {
					t.Errorf("Seed created too little: %+v", res)
				}
			})

			t.Run("DemoLoginsWork", func(t *testing.T) {
				_, sess, err := d.Identity.Login(ctx, identity.RealmCustomer, demo.CustomerEmail, demo.CustomerPassword, "")
				if err != nil {
					t.Fatalf("customer login: %v", err)
				}
				c, err := d.Identity.Customer(ctx, sess.Customer)
				if err != nil || c.Email != demo.CustomerEmail {
					t.Fatalf("the demo session is customer %+v, %v", c, err)
				}
				for _, st := range demo.Staff() {
					_, ss, err := d.Identity.Login(ctx, identity.RealmStaff, st.Email, demo.StaffPassword, "")
					if err != nil || ss.Role != st.Role {
						t.Errorf("staff login %s: role %q, %v; want role %q", st.Email, ss.Role, err, st.Role)
					}
				}
			})

			t.Run("EveryCustomerHasTwoOrThreeAccounts", func(t *testing.T) {
				for c := 1; c <= 50; c++ {
					as, err := d.Ledger.CustomerAccounts(ctx, bankbridge.CustomerID(c))
					if err != nil {
						t.Fatal(err)
					}
					if len(as) < 2 || len(as) > 3 || as[0].Kind != ledger.Checking {
						t.Errorf("customer %d has %d accounts (first %q); want checking plus 1 or 2", c, len(as), as[0].Kind)
					}
					cards, err := d.Ledger.CustomerCards(ctx, bankbridge.CustomerID(c))
					if err != nil || len(cards) == 0 {
						t.Errorf("customer %d has no card (%v)", c, err)
					}
				}
			})

			t.Run("ManyCustomersAged55To75", func(t *testing.T) {
				n := 0
				for c := 1; c <= 50; c++ {
					cu, err := d.Identity.Customer(ctx, bankbridge.CustomerID(c))
					if err != nil {
						t.Fatal(err)
					}
					if age := now.Year() - cu.BirthYear; age >= 55 && age <= 75 {
						n++
					}
				}
				if n < 12 {
					t.Errorf("%d of 50 customers are aged 55 to 75; want about a third", n)
				}
			})

			t.Run("DemoCustomerHasPayeesAndCardPurchases", func(t *testing.T) {
				_, sess, err := d.Identity.Login(ctx, identity.RealmCustomer, demo.CustomerEmail, demo.CustomerPassword, "")
				if err != nil {
					t.Fatal(err)
				}
				ps, err := d.Ledger.Payees(ctx, sess.Customer)
				if err != nil {
					t.Fatal(err)
				}
				var nicks []string
				for _, p := range ps {
					nicks = append(nicks, p.Nickname)
				}
				slices.Sort(nicks)
				if diff := cmp.Diff([]string{"Sam", "landlord", "mom"}, nicks); diff != "" {
					t.Errorf("demo payees (-want +got):\n%s", diff)
				}
				as, err := d.Ledger.CustomerAccounts(ctx, sess.Customer)
				if err != nil || len(as) != 3 {
					t.Fatalf("demo customer accounts: %d, %v; want 3", len(as), err)
				}
				purchases := 0
				for _, a := range as {
					page, err := d.Ledger.History(ctx, ledger.HistoryQuery{Account: a.ID, Limit: 500})
					if err != nil {
						t.Fatal(err)
					}
					for _, e := range page.Entries {
						if e.Transfer.Merchant == 0 {
							continue
						}
						m, err := d.Ledger.Merchant(ctx, e.Transfer.Merchant)
						if err != nil {
							t.Fatal(err)
						}
						if _, err := strconv.Atoi(m.MCC); err != nil || len(m.MCC) != 4 || m.Category != e.Transfer.Category {
							t.Errorf("transfer %q: merchant %+v, category %q", e.Transfer.Description, m, e.Transfer.Category)
						}
						if e.Amount >= 0 {
							t.Errorf("purchase %q credits the customer %s", e.Transfer.Description, e.Amount.Format("USD"))
						}
						purchases++
					}
				}
				if purchases < 20 {
					t.Errorf("the demo customer has %d purchases at merchants in 30 days; want many", purchases)
				}
			})

			t.Run("RecentPurchasesAreHolds", func(t *testing.T) {
				holds := 0
				for c := 1; c <= 50; c++ {
					as, _ := d.Ledger.CustomerAccounts(ctx, bankbridge.CustomerID(c))
					for _, a := range as {
						page, err := d.Ledger.History(ctx, ledger.HistoryQuery{Account: a.ID, Status: ledger.Pending, Limit: 500})
						if err != nil {
							t.Fatal(err)
						}
						for _, e := range page.Entries {
							if e.Transfer.Created.Before(now.Add(-48*time.Hour)) || e.Transfer.Merchant == 0 {
								t.Errorf("hold %q at %s is not a recent card purchase", e.Transfer.Description, e.Transfer.Created)
							}
							holds++
						}
					}
				}
				if holds == 0 {
					t.Error("no card holds in the last two days")
				}
			})

			t.Run("RefusesASeededDatabase", func(t *testing.T) {
				if ok, err := demo.Seeded(ctx, d.Ledger); err != nil || !ok {
					t.Fatalf("Seeded = %v, %v; want true", ok, err)
				}
				if _, err := demo.Seed(ctx, d, small); !errors.Is(err, demo.ErrSeeded) {
					t.Errorf("second Seed: %v; want ErrSeeded", err)
				}
			})

			t.Run("SameSeedSameBank", func(t *testing.T) {
				d2 := open(t, engine)
				res2 := seed(t, d2, small)
				res.Elapsed, res2.Elapsed = 0, 0
				if diff := cmp.Diff(res, res2); diff != "" {
					t.Errorf("results differ (-first +second):\n%s", diff)
				}
				if diff := cmp.Diff(snapshot(t, d.Ledger, 50), snapshot(t, d2.Ledger, 50)); diff != "" {
					t.Errorf("balances differ (-first +second):\n%s", diff)
				}
			})
		})
	}
}

func TestSeedRejectsBadOptions(t *testing.T) {
	t.Parallel()
	for name, o := range map[string]demo.Options{
		"NegativeCustomers": {Customers: -1},
		"TooManyCustomers":  {Customers: demo.MaxCustomers + 1},
		"NegativeDays":      {Days: -1},
		"TooManyDays":       {Days: 3651},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := demo.Seed(context.Background(), demo.Deps{}, o); !errors.Is(err, demo.ErrOptions) {
				t.Errorf("Seed(%+v) = %v; want ErrOptions", o, err)
			}
		})
	}
}

// bulk is a ledger store with the optional BulkLedger methods, made of the
// single-row ones, counting the rows it was handed.
type bulk struct {
	ledger.Store
	rows int
}

var _ demo.BulkLedger = (*bulk)(nil)

func (b *bulk) CreateAccounts(ctx context.Context, as []ledger.Account) ([]ledger.Account, error) {
	for i := range as {
		var err error
		if as[i], err = b.CreateAccount(ctx, as[i]); err != nil {
			return nil, err
		}
	}
	b.rows += len(as)
	return as, nil
}

func (b *bulk) CreateCards(ctx context.Context, cs []ledger.Card) ([]ledger.Card, error) {
	for i := range cs {
		var err error
		if cs[i], err = b.CreateCard(ctx, cs[i]); err != nil {
			return nil, err
		}
	}
	b.rows += len(cs)
	return cs, nil
}

func (b *bulk) CreatePayees(ctx context.Context, ps []ledger.Payee) ([]ledger.Payee, error) {
	for i := range ps {
		var err error
		if ps[i], err = b.CreatePayee(ctx, ps[i]); err != nil {
			return nil, err
		}
	}
	b.rows += len(ps)
	return ps, nil
}

func TestSeedUsesBulkLedgerWhenThere(t *testing.T) {
	t.Parallel()
	plain := open(t, "sqlite")
	seed(t, plain, small)
	d := open(t, "sqlite")
	b := &bulk{Store: d.Ledger}
	d.Ledger = b
	res := seed(t, d, small)
	if want := res.Accounts - 4 + res.Cards + res.Payees; b.rows != want {
		t.Errorf("the bulk methods got %d rows; want %d (every customer account, card and payee)", b.rows, want)
	}
	if diff := cmp.Diff(snapshot(t, plain.Ledger, 50), snapshot(t, b.Store, 50)); diff != "" {
		t.Errorf("the bulk path built another bank (-plain +bulk):\n%s", diff)
	}
}
