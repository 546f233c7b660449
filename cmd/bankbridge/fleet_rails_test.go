package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bankbridge/bankbridge/demo"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/platformsim"
	"github.com/bankbridge/bankbridge/railsim"
)

// railsCase is a payee at another bank and what the emulator does with a
// payment to it.
type railsCase struct {
	nick, number string
	status, code string // the payment's final status and return code
}

var railsCases = []railsCase{
	{"Settles", "123456789", "settled", ""},
	{"Closed", "2222222222", "returned", "R02"},
	{"NoAccount", "3333333333", "returned", "R03"},
	{"Corrected", "5555555555", "settled", ""}, // and a notification of change
}

// TestFleetRailsKillMidStatusChange is the fleet rule (any instance killed
// at any time) for payments to other banks: two `bankbridge serve` on one
// PostgreSQL and NATS, the ACH operator (railsim) outside them, settling
// each file a moment after it takes it and returning some entries by
// scenario. A customer pays four payees on the web through a balancer
// while the instance running the rails worker is killed with SIGKILL,
// twice: once with a file out and unsettled, once with settlements and
// returns under way, each time restarted on its data folder. Then: every
// payment reached its scenario's final status, once; its final alert was
// raised exactly once (an alert's id is its payment and state) and no
// change was left untold; the settlement account agrees with the rail's
// records and the operator's position (`rails reconcile`), and `ledger
// verify` passes.
func TestFleetRailsKillMidStatusChange(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two bankbridge processes and a NATS server: not in -short")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	began := time.Now()
	bin := buildBinary(t)
	built := time.Now()
	nats := startNATS(t)
	db := testdb.PostgresURL(t)
	// Each file settles 1.5 s after the operator takes it: long enough for
	// a kill to find one out and unsettled.
	sim := railsim.New(railsim.Options{SettleAfter: 1500 * time.Millisecond})
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(simSrv.Close)

	lb := &balancer{}
	front := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", "fleet"
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
		},
		Transport: lb,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			lb.failed.Add(1)
			w.WriteHeader(http.StatusBadGateway)
		},
	})
	t.Cleanup(front.Close)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BANKBRIDGE_") {
			env = append(env, kv)
		}
	}
	// The messaging platform is outside the fleet, as in TestFleet; no
	// chat is used here.
	var chatH http.Handler
	chatSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { chatH.ServeHTTP(w, r) }))
	t.Cleanup(chatSrv.Close)
	chat := platformsim.New(platformsim.Options{Prefix: "/sim", BaseURL: chatSrv.URL + "/sim", WebhookURL: front.URL + "/channels/messenger/webhook",
		AppSecret: simSecret, VerifyToken: simVerify, PageToken: simPage, AllowLoopbackHTTP: true})
	chatH = chat.Handler()
	env = append(env, "BANKBRIDGE_KEY_FILE="+filepath.Join(t.TempDir(), "fleet.kek"),
		"BANKBRIDGE_MESSENGER_GRAPH_URL="+chat.GraphURL(), "BANKBRIDGE_MESSENGER_REDIRECT_URI="+chat.RedirectURI(),
		"BANKBRIDGE_MESSENGER_APP_SECRET="+simSecret, "BANKBRIDGE_MESSENGER_VERIFY_TOKEN="+simVerify, "BANKBRIDGE_MESSENGER_PAGE_TOKEN="+simPage)
	root := t.TempDir()
	var inst []*process
	for i := range 2 {
		inst = append(inst, newProcess(t, fmt.Sprintf("rails instance %d", i), bin, env, filepath.Join(root, fmt.Sprintf("data%d", i)),
			"--database", db, "--events", nats.URL(), "--public-url", front.URL, "--demo-customers", "4", "--rails-url", simSrv.URL,
			// A change left untold by the killed instance is told 3 s later,
			// not 30: the test stays short.
			"--rails-retell-after", "3s", "--drain", "0"))
	}
	inst[0].start(t)
	inst[1].start(t)
	for _, p := range inst {
		lb.add(p.addr)
	}
	pool, err := pgxpool.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	var cust, from int64
	var email string
	if err := pool.QueryRow(ctx, `SELECT c.id, c.email, a.id FROM customers c JOIN accounts a ON a.customer_id = c.id
		WHERE a.currency = 'USD' AND a.status = 'open' AND a.kind = 'checking' AND a.balance > 50000 ORDER BY c.id, a.id LIMIT 1`).Scan(&cust, &email, &from); err != nil {
		t.Fatal(err)
	}
	web := newBrowser(front.URL)
	if err := web.login(ctx, "/login", email, demo.CustomerPassword, "/accounts"); err != nil {
		t.Fatal(err)
	}
	payees := map[string]int64{}
	for _, c := range railsCases {
		res, _, err := web.post(ctx, "/payees", url.Values{"name": {"Fleet " + c.nick}, "nickname": {c.nick}, "routing": {"231380104"}, "number": {c.number}, "type": {"checking"}})
		if err != nil || res.Request.URL.Path != "/payees" {
			t.Fatalf("add payee %s: %v %v", c.nick, status(res), err)
		}
		var id int64
		if err := pool.QueryRow(ctx, `SELECT id FROM payees WHERE customer_id = $1 AND nickname = $2`, cust, c.nick).Scan(&id); err != nil {
			t.Fatal(err)
		}
		payees[c.nick] = id
	}
	t.Logf("up and set up at %s (build %s)", time.Since(began).Round(time.Millisecond), built.Sub(began).Round(time.Millisecond))

	// The customer pays, three rounds of the four payees, while the
	// killer waits for its moments. Amounts are unique: each names its
	// payment in the alerts.
	type paid struct {
		c      railsCase
		amount int64
	}
	var (
		mu       sync.Mutex
		payments []paid
		wg       sync.WaitGroup
	)
	wg.Go(func() {
		n := 0
		for round := range 3 {
			for _, c := range railsCases {
				n++
				amount := int64(10_00 + n)
				if err := railsPay(ctx, web, payees[c.nick], from, amount); err != nil {
					t.Errorf("pay %s %d: %v", c.nick, amount, err)
					continue
				}
				mu.Lock()
				payments = append(payments, paid{c, amount})
				mu.Unlock()
			}
			sleep(ctx, time.Duration(round+1)*700*time.Millisecond)
		}
	})
	count := func(q string) int {
		var n int
		if err := pool.QueryRow(ctx, q, cust).Scan(&n); err != nil {
			t.Error(err)
		}
		return n
	}
	killHolder := func(moment string, ready string) {
		for deadline := time.Now().Add(30 * time.Second); count(ready) == 0; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("never saw the moment: %s", moment)
			}
		}
		p := railsHolder(inst)
		t.Logf("SIGKILL %s (runs the rails worker) %s, at %s", p.name, moment, time.Since(began).Round(time.Millisecond))
		p.kill()
		sleep(ctx, 500*time.Millisecond)
		p.start(t)
	}
	killHolder("with a file out and unsettled", `SELECT count(*) FROM rail_payments WHERE customer_id = $1 AND status = 'sent'`)
	killHolder("with settlements and returns under way",
		`SELECT count(*) FROM rail_payments WHERE customer_id = $1 AND status IN ('settled', 'returned') AND EXISTS (SELECT 1 FROM rail_payments WHERE customer_id = $1 AND status IN ('accepted', 'batched', 'sent'))`)
	wg.Wait()
	if t.Failed() {
		return
	}

	// Every payment ends as its scenario says (a payment returned is
	// settled first, until its return comes in), and every change is
	// told (one the killed instance left untold by the worker, 3 s
	// later: Retell).
	want := map[int64]string{}
	for _, p := range payments {
		want[p.amount] = p.c.status
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		rows, err := pool.Query(ctx, `SELECT amount, status, untold FROM rail_payments WHERE customer_id = $1`, cust)
		if err != nil {
			t.Fatal(err)
		}
		open := []string{}
		for rows.Next() {
			var amount, untold int64
			var st string
			if err := rows.Scan(&amount, &st, &untold); err != nil {
				t.Fatal(err)
			}
			if st != want[amount] || untold != 0 {
				open = append(open, fmt.Sprintf("%d %s (untold %d)", amount, st, untold))
			}
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
		if len(open) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("payments not in their final status, or untold, after a minute: %v", open)
		}
	}
	t.Logf("all payments final at %s", time.Since(began).Round(time.Millisecond))
	if n := count(`SELECT count(*) FROM rail_payments WHERE customer_id = $1`); n != len(payments) {
		t.Errorf("%d payments recorded, %d made", n, len(payments))
	}
	for _, p := range payments {
		var st, code string
		var n int
		if err := pool.QueryRow(ctx, `SELECT status, return_code, count(*) OVER () FROM rail_payments WHERE customer_id = $1 AND amount = $2`, cust, p.amount).Scan(&st, &code, &n); err != nil {
			t.Errorf("payment of %d: %v", p.amount, err)
			continue
		}
		if n != 1 || st != p.c.status || code != p.c.code {
			t.Errorf("payment of %d to %s: %d of them, %s %s; want one, %s %s", p.amount, p.c.nick, n, st, code, p.c.status, p.c.code)
		}
		final := map[string]string{"settled": "Payment arrived", "returned": "Payment returned"}[p.c.status]
		var finals, all int
		if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE title = $3), count(*) FROM alerts WHERE customer_id = $1 AND rule = 'payment_status' AND amount = $2`,
			cust, p.amount, final).Scan(&finals, &all); err != nil {
			t.Fatal(err)
		}
		// Sent, arrived, and for a return its return: one alert each at
		// most; a payment that moved twice while its change was untold
		// is told its latest status only.
		most := map[string]int{"settled": 2, "returned": 3}[p.c.status]
		if finals != 1 || all > most {
			t.Errorf("payment of %d (%s): %d %q alerts, %d in all; want one, and at most %d", p.amount, p.c.nick, finals, final, all, most)
		}
	}

	for _, p := range inst {
		p.stop(t)
	}
	out, err := exec.CommandContext(ctx, bin, "rails", "reconcile", "--json", "--database", db, "--data", inst[0].data).CombinedOutput()
	if err != nil {
		t.Fatalf("rails reconcile: %v\n%s", err, out)
	}
	var rec struct {
		Settlement int64 `json:"settlement_balance"`
		Unmatched  int64 `json:"unmatched"`
		Difference int64 `json:"difference"`
	}
	if err := json.Unmarshal(out, &rec); err != nil {
		t.Fatalf("rails reconcile --json: %v\n%s", err, out)
	}
	if pos := sim.Position(demo.Routing); rec.Difference != 0 || rec.Settlement-rec.Unmatched != pos {
		t.Errorf("reconciliation %+v; the operator's position %d", rec, pos)
	}
	cmd := exec.CommandContext(ctx, bin, "ledger", "verify", "--database", db, "--data", inst[0].data)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "ledger OK") {
		t.Errorf("ledger verify: %v\n%s", err, out)
	}
	t.Logf("%d payments; whole test %s, %s after the build; %d requests failed at the balancer and were retried",
		len(payments), time.Since(began).Round(time.Millisecond), time.Since(built).Round(time.Millisecond), lb.failed.Load())
}

// railsHolder is the living instance that last said (by its log's
// time) it runs the rails worker: a killed holder's lease goes to the other.
func railsHolder(inst []*process) *process {
	var best *process
	var at time.Time
	for _, p := range inst {
		if !p.running() {
			continue
		}
		for _, line := range strings.Split(p.out.String(), "\n") {
			if !strings.Contains(line, "this instance runs it") || !strings.Contains(line, "rails-ach") {
				continue
			}
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			if when, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(f[0], "time=")); err == nil && when.After(at) {
				best, at = p, when
			}
		}
	}
	if best == nil {
		return inst[0]
	}
	return best
}

// railsPay pays a payee at another bank on the web: review, then confirm;
// a step cut off at the balancer (its instance died) is sent again with
// the same key, as a person reloading would.
func railsPay(ctx context.Context, b *browser, payee, from, cents int64) error {
	form := url.Values{"from": {fmt.Sprint(from)}, "amount": {fmt.Sprintf("%d.%02d", cents/100, cents%100)}, "speed": {"standard"}, "memo": {"fleet"}}
	var page string
	for attempt := 0; ; attempt++ {
		res, p, err := b.post(ctx, fmt.Sprintf("/payees/%d/pay", payee), form)
		if err == nil && res.StatusCode == http.StatusOK && find(keyRe, p) != "" {
			page = p
			break
		}
		if attempt == 9 || (err == nil && res.StatusCode != http.StatusBadGateway) {
			return fmt.Errorf("review: %v %v", status(res), err)
		}
		sleep(ctx, 300*time.Millisecond)
	}
	form.Set("key", find(keyRe, page))
	for attempt := 0; ; attempt++ {
		res, _, err := b.post(ctx, fmt.Sprintf("/payees/%d/pay/confirm", payee), form)
		if err == nil && strings.HasPrefix(res.Request.URL.Path, "/payments/ach/") {
			return nil
		}
		if attempt == 9 || (err == nil && res.StatusCode != http.StatusBadGateway) {
			return fmt.Errorf("confirm: %v %v", status(res), err)
		}
		sleep(ctx, 300*time.Millisecond)
	}
}
