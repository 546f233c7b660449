package railsim

import (
	"html/template"
	"net/http"
	"sort"
	"time"
)

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"money": func(c int64) string { return formatCents(c) },
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
}).Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>railsim: the ACH operator</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:70rem}table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}.R{color:#a00}.C{color:#a60}</style></head>
<body><h1>railsim: the ACH operator and the banks behind it</h1>
<p>Scenario accounts: 1111111111 returns R01 (insufficient funds), 2222222222 R02 (closed), 3333333333 R03 (no account),
4444444444 R04 (invalid number), 5555555555 draws a notification of change C01, 6666666666 returns a debit R10 (not authorised),
8888888888 settles and is returned R03 late (after its two-banking-day window), 9999999999 is returned R03 twice (a duplicate), 9999999990 twice in one file.
The same returns apply to the bank's credits and its debits (collections). Any other account settles.
The bank's dishonoured returns (R61-R70) are checked strictly and accepted or contested (R71-R77); a late return of the bank's is dishonoured R68;
a return sent with a wrong amount and dishonoured R69 may be corrected (R74) below.</p>
{{range .Banks}}<section><h2>Bank {{.Routing}}</h2>
<p>Net position with the operator: <strong>{{money .Position}}</strong></p>
<h3>Files received</h3>
<table><tr><th>file</th><th>received</th><th>settled</th><th>entries</th></tr>
{{range .Files}}<tr><td>{{.Name}}</td><td>{{when .Received}}</td><td>{{when .Settled}}</td><td>
{{range .Entries}}<div>{{.Trace}} {{.Name}} ••••{{.Last4}} {{money .Amount}} <span class="{{.Class}}">{{.Outcome}}</span></div>{{end}}</td></tr>
{{else}}<tr><td colspan="4">none yet</td></tr>{{end}}</table>
<h3>Instant payments (pacs.008 in, pacs.002 out)</h3>
<table><tr><th>message</th><th>at</th><th>to</th><th>amount</th><th>status</th></tr>
{{range .Instants}}<tr><td>{{.MsgID}}</td><td>{{when .At}}</td><td>{{.Creditor}} ••••{{.Last4}}</td><td>{{money .Amount}}</td><td>{{.Status}} {{.Reason}}</td></tr>
{{else}}<tr><td colspan="5">none yet</td></tr>{{end}}</table>
<h3>Instant credits to this bank (pacs.008 to it, its pacs.002)</h3>
<table><tr><th>end-to-end id</th><th>at</th><th>from</th><th>to</th><th>amount</th><th>status</th></tr>
{{range .Inbound}}<tr><td>{{.E2E}}</td><td>{{when .At}}</td><td>{{.Debtor}}</td><td>••••{{.Last4}}</td><td>{{money .Amount}}</td><td>{{.Status}}</td></tr>
{{else}}<tr><td colspan="6">none yet</td></tr>{{end}}</table>
<h3>Files sent to the bank</h3>
<table><tr><th>file</th><th>what</th><th>at</th><th>taken</th></tr>
{{range .Sent}}<tr><td>{{.Name}}</td><td>{{.What}}</td><td>{{when .At}}</td><td>{{if .Waiting}}waiting{{else}}yes{{end}}</td></tr>
{{else}}<tr><td colspan="4">none yet</td></tr>{{end}}</table>
<h3>Return an entry of this bank's now</h3>
<form method="post" action="ach/{{.Routing}}/returns"><input type="hidden" name="page" value="1">
<label>Trace number <input name="trace" required maxlength="15"></label>
<label>Return code <input name="code" required value="R03" maxlength="3"></label>
<label>Cents (empty: the entry's; needed for a trace it never sent) <input name="cents" inputmode="numeric"></label>
<button>Send return</button></form>
<h3>Dishonour a return this bank sent</h3>
<form method="post" action="ach/{{.Routing}}/dishonors"><input type="hidden" name="page" value="1">
<label>Return's trace number <input name="trace" required maxlength="15"></label>
<label>Code <select name="code"><option>R68</option><option>R67</option><option>R69</option><option>R61</option><option>R70</option></select></label>
<button>Dishonour</button></form>
<h3>Correct a return this bank dishonoured R69 (R74)</h3>
<form method="post" action="ach/{{.Routing}}/corrections"><input type="hidden" name="page" value="1">
<label>Dishonour's trace number <input name="trace" required maxlength="15"></label>
<label>Cents (empty: the entry's, as corrected) <input name="cents" inputmode="numeric"></label>
<button>Send corrected return</button></form>
<h3>Send a payroll credit to this bank</h3>
<form method="post" action="ach/{{.Routing}}/credits"><input type="hidden" name="page" value="1">
<label>Account number <input name="account" required maxlength="17"></label>
<label>Name <input name="name" value="EMPLOYEE" maxlength="22"></label>
<label>Cents <input name="cents" required inputmode="numeric" value="250000"></label>
<label>Company <input name="company" value="ACME PAYROLL" maxlength="16"></label>
<button>Send credit</button></form>
<h3>Send a debit to this bank (a company collecting from its customer)</h3>
<form method="post" action="ach/{{.Routing}}/debits"><input type="hidden" name="page" value="1">
<label>Account number <input name="account" required maxlength="17"></label>
<label>Name <input name="name" value="CUSTOMER" maxlength="22"></label>
<label>Cents <input name="cents" required inputmode="numeric" value="4500"></label>
<label>Company <input name="company" value="CITY POWER" maxlength="16"></label>
<label>SEC code <select name="sec"><option>PPD</option><option>WEB</option></select></label>
<button>Send debit</button></form>
<h3>Send an instant credit to this bank</h3>
<form method="post" action="instant/{{.Routing}}/credits"><input type="hidden" name="page" value="1">
<label>Account number <input name="account" required maxlength="34"></label>
<label>From <input name="debtor" value="ACME LTD" maxlength="70"></label>
<label>Cents <input name="cents" required inputmode="numeric" value="15000"></label>
<button>Send instant credit</button></form>
<h3>Ask this bank to return an instant credit (camt.056)</h3>
<form method="post" action="instant/{{.Routing}}/recalls"><input type="hidden" name="page" value="1">
<label>End-to-end id <input name="e2e" required maxlength="35"></label>
<label>Reason <select name="reason"><option>DUPL</option><option>FRAD</option><option>TECH</option><option>CUST</option></select></label>
<button>Ask for it back</button></form></section>
{{else}}<p>No bank has sent a file yet.</p>
<form method="post" id="credit" onsubmit="this.action='ach/'+this.routing.value+'/credits'"><input type="hidden" name="page" value="1">
<label>Bank routing number <input name="routing" required value="021000089"></label>
<label>Account number <input name="account" required maxlength="17"></label>
<label>Cents <input name="cents" required value="250000"></label> <button>Send a payroll credit</button></form>{{end}}
</body></html>`))

type pageEntry struct {
	Trace, Name, Last4, Outcome, Class string
	Amount                             int64
}

type pageFile struct {
	Name              string
	Received, Settled time.Time
	Entries           []pageEntry
}

type pageSent struct {
	sentFile
	Waiting bool
}

type pageInbound struct {
	E2E, Debtor, Last4, Status string
	Amount                     int64
	At                         time.Time
}

type pageBank struct {
	Inbound  []pageInbound
	Routing  string
	Position int64
	Files    []pageFile
	Sent     []pageSent
	Instants []pageInstant
}

type pageInstant struct {
	MsgID, Creditor, Last4, Status, Reason string
	Amount                                 int64
	At                                     time.Time
}

func (s *Sim) page(w http.ResponseWriter, r *http.Request) {
	if s.o.SettleAfter > 0 {
		s.Settle(false)
	}
	s.mu.Lock()
	var banks []pageBank
	for routing, b := range s.banks {
		pb := pageBank{Routing: routing, Position: b.position}
		for i := len(b.order) - 1; i >= 0; i-- {
			f := b.files[b.order[i]]
			pf := pageFile{Name: f.name, Received: f.received, Settled: f.settled}
			for _, e := range f.entries {
				last := e.account
				if len(last) > 4 {
					last = last[len(last)-4:]
				}
				out := e.outcome
				if out == "" {
					out = "waiting"
				}
				pf.Entries = append(pf.Entries, pageEntry{Trace: e.trace, Name: e.name, Last4: last, Outcome: out, Class: out[:1], Amount: e.amount})
			}
			pb.Files = append(pb.Files, pf)
		}
		for i := len(b.instantOrder) - 1; i >= 0; i-- {
			in := b.instants[b.instantOrder[i]]
			last := in.account
			if len(last) > 4 {
				last = last[len(last)-4:]
			}
			pb.Instants = append(pb.Instants, pageInstant{MsgID: in.msgID, Creditor: in.creditor, Last4: last, Status: in.status, Reason: in.reason, Amount: in.amount, At: in.at})
		}
		for i := len(b.inboundOrder) - 1; i >= 0; i-- {
			in := b.inbound[b.inboundOrder[i]]
			last := in.account
			if len(last) > 4 {
				last = last[len(last)-4:]
			}
			pb.Inbound = append(pb.Inbound, pageInbound{E2E: in.e2e, Debtor: in.debtor, Last4: last, Status: in.status, Amount: in.amount, At: in.at})
		}
		for i := len(b.sent) - 1; i >= 0; i-- {
			_, waiting := b.outbox[b.sent[i].Name]
			pb.Sent = append(pb.Sent, pageSent{b.sent[i], waiting})
		}
		banks = append(banks, pb)
	}
	s.mu.Unlock()
	sort.Slice(banks, func(i, j int) bool { return banks[i].Routing < banks[j].Routing })
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; script-src 'unsafe-inline'")
	if err := pageTmpl.Execute(w, struct{ Banks []pageBank }{banks}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// formatCents writes cents as dollars for the page: the emulator is the
// outside world and does not use the bank's formatter.
func formatCents(c int64) string {
	neg := c < 0
	if neg {
		c = -c
	}
	s := "$" + itoa(c/100) + "." + pad2(c%100)
	if neg {
		return "-" + s
	}
	return s
}

func itoa(n int64) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func pad2(n int64) string {
	if n < 10 {
		return "0" + itoa(n)
	}
	return itoa(n)
}
