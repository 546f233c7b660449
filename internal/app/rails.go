package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/railsim"
	"github.com/prometheus/client_golang/prometheus"
)

// RailsLease is the lease of the ACH worker: one instance of the fleet
// builds, sends and receives files at a time.
const RailsLease = "rails-ach"

// RailsDeps is what the rails need.
type RailsDeps struct {
	Config  *Config
	Backend *Backend
	Ledger  *ledger.Service
	Base    string // this instance's public base URL, for the embedded emulator
	Log     *slog.Logger
	// Reg takes bankbridge_rails_payments_total{kind,status}, the status
	// changes this instance made. Optional.
	Reg *prometheus.Registry
	// OnChange is told each payment whose status this instance changed,
	// after the change is stored (the partner API's notifications).
	// Optional; each must not block.
	OnChange []func(rails.Payment)
}

// Rails is the payments service over the rails, the transport its worker
// uses, and, when the emulator runs inside this instance, its mount.
type Rails struct {
	Service   *rails.Service
	Transport rails.Transport
	Mounts    map[string]http.Handler
	Sim       *railsim.Sim
}

// RailsWiring builds the rails: the sanctions list (the operator's file or
// the sample), the service over the backend's store, and the transport to
// the operator, or to railsim mounted at /railsim/ when no --rails-url is
// set (the demo).
func RailsWiring(d RailsDeps) (*Rails, error) {
	c := d.Config
	list := rails.SampleSDN
	if c.SanctionsFile != "" {
		b, err := os.ReadFile(c.SanctionsFile)
		if err != nil {
			return nil, fmt.Errorf("sanctions list: %w", err)
		}
		list = b
	}
	scr, err := rails.ParseSDN(bytes.NewReader(list))
	if err != nil {
		return nil, err
	}
	if err := rails.CheckRouting(c.RailsRouting); err != nil {
		return nil, fmt.Errorf("--rails-routing %q: %w", c.RailsRouting, err)
	}
	r := &Rails{Mounts: map[string]http.Handler{}}
	hooks := d.OnChange
	if d.Reg != nil {
		moves := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bankbridge_rails_payments_total",
			Help: "Payments over the rails moved to a status by this instance, by kind (credit, prenote, instant) and status."}, []string{"kind", "status"})
		d.Reg.MustRegister(moves)
		hooks = append(hooks, func(p rails.Payment) { moves.WithLabelValues(string(p.Kind), string(p.Status)).Inc() })
	}
	onChange := func(p rails.Payment) {
		for _, h := range hooks {
			h(p)
		}
	}
	base := strings.TrimSuffix(c.RailsURL, "/")
	hc := &http.Client{Timeout: 30 * time.Second}
	if base == "" && c.Fleet() && !c.EmbeddedSim {
		// Each instance's emulator would be a world of its own, and the
		// worker's lease moves between instances: a fleet names one
		// operator. Payees and payments are still taken; they wait.
		d.Log.Warn("rails: no --rails-url in a fleet: payments are accepted and wait; run 'bankbridge railsim' once and give its URL")
		r.Service = rails.New(d.Backend.Rails, d.Ledger, rails.Options{Origin: rails.Origin{Routing: c.RailsRouting, BankName: "BANKBRIDGE"},
			Screener: scr, Logger: d.Log, OnChange: onChange, CoreOutbox: c.CoreOutboxDir(), RetellAfter: c.RailsRetell})
		return r, nil
	}
	if base == "" {
		// The emulator in this process: the worker reaches it without a
		// socket (the public URL may be a load balancer's, in front of
		// instances each with an emulator of its own), and people see it at
		// /railsim/.
		r.Sim = railsim.New(railsim.Options{})
		h := r.Sim.Handler()
		r.Mounts["/railsim/"] = http.StripPrefix("/railsim", h)
		base, hc = "http://railsim.internal", &http.Client{Timeout: 30 * time.Second, Transport: inProcess{h}}
	}
	cl := &railsim.Client{Base: base, Routing: c.RailsRouting, Client: hc}
	r.Transport = cl
	r.Service = rails.New(d.Backend.Rails, d.Ledger, rails.Options{Origin: rails.Origin{Routing: c.RailsRouting, BankName: "BANKBRIDGE"},
		Screener: scr, Logger: d.Log, Instant: cl, OnChange: onChange, CoreOutbox: c.CoreOutboxDir(), RetellAfter: c.RailsRetell})
	d.Log.Info("rails: ACH operator", "url", base, "sanctions_names", scr.Len())
	return r, nil
}

// Run runs the ACH worker every period until ctx ends; without an
// operator (a fleet with no --rails-url) it only sends payments to the
// core in mirror mode, or waits for ctx.
func (r *Rails) Run(ctx context.Context, period time.Duration) {
	if r.Transport == nil {
		if r.Service.Options().CoreOutbox == "" {
			<-ctx.Done()
			return
		}
		// Mirror mode without an operator: payments still leave to the core.
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			if _, err := r.Service.ToCore(ctx); err != nil && ctx.Err() == nil {
				slog.Default().Warn("rails: payments to the core", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}
	r.Service.Run(ctx, r.Transport, period)
}

// inProcess is an http.RoundTripper that serves requests with a handler in
// this process.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := &recorder{header: http.Header{}, code: http.StatusOK}
	t.h.ServeHTTP(rec, req)
	return &http.Response{StatusCode: rec.code, Status: http.StatusText(rec.code), Header: rec.header, Request: req,
		Body: io.NopCloser(bytes.NewReader(rec.body.Bytes())), ContentLength: int64(rec.body.Len()), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
}

type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
	}
}
func (r *recorder) Write(b []byte) (int, error) { r.wrote = true; return r.body.Write(b) }

// ChatRails is the assistant's way to the rails (assistant.Rails) over the
// rails service: payments to payees at other banks from any chat platform,
// and their status in words.
type ChatRails struct{ S *rails.Service }

var (
	_ assistant.Rails         = ChatRails{}
	_ assistant.RailCollector = ChatRails{}
)

// Collectable implements assistant.RailCollector: only a payee the bank
// verified with a prenote may be debited (rails.ErrNotValidated), and
// never one that failed verification.
func (c ChatRails) Collectable(ctx context.Context, cu bankbridge.CustomerID, payee ledger.PayeeID) error {
	p, err := c.S.Store().Payee(ctx, cu, payee)
	switch {
	case err != nil:
		return err
	case p.Status == rails.PayeeFailed:
		return rails.ErrPayeeFailed
	case p.Status != rails.PayeeVerified:
		return rails.ErrNotValidated
	}
	return nil
}

// Collect implements assistant.RailCollector: a WEB debit, its
// authorisation the words the chat showed (rails.Authorized).
func (c ChatRails) Collect(ctx context.Context, r assistant.RailCollection) (assistant.RailStatus, error) {
	got, err := c.S.Collect(ctx, rails.DebitRequest{Customer: r.Customer, Payee: r.Payee, To: r.To, Amount: r.Amount, SEC: rails.SECWEB,
		Authorization: rails.Authorized(rails.SECWEB, r.Channel, c.S.Options().Now(), "chat", r.Terms), Channel: r.Channel, Key: r.Key})
	if err != nil {
		return assistant.RailStatus{}, err
	}
	return chatStatus(got), nil
}

// Pay implements assistant.Rails: a standard ACH credit.
func (c ChatRails) Pay(ctx context.Context, p assistant.RailPayment) (assistant.RailStatus, error) {
	got, err := c.S.Pay(ctx, rails.PayRequest{Customer: p.Customer, Payee: p.Payee, From: p.From, Amount: p.Amount, Memo: p.Memo,
		Channel: p.Channel, Key: p.Key})
	if err != nil {
		return assistant.RailStatus{}, err
	}
	return chatStatus(got), nil
}

// Recent implements assistant.Rails: the customer's latest credits,
// instant payments and collections (the debits they started of their own
// accounts elsewhere); prenotes and returns of inbound credits are the
// bank's.
func (c ChatRails) Recent(ctx context.Context, cu bankbridge.CustomerID, n int) ([]assistant.RailStatus, error) {
	ps, err := c.S.Store().Payments(ctx, rails.PaymentQuery{Customer: cu, Kinds: []rails.Kind{rails.KindCredit, rails.KindInstant, rails.KindDebit}, Limit: n})
	if err != nil {
		return nil, err
	}
	out := make([]assistant.RailStatus, 0, len(ps))
	for _, p := range ps {
		out = append(out, chatStatus(p))
	}
	return out, nil
}

// RailState is a payment's status as the chat and the alerts word it:
// scheduled, held, sent, settled, returned, refused.
func RailState(s rails.Status) string {
	switch s {
	case rails.StatusHeld, rails.StatusSent, rails.StatusSettled, rails.StatusReturned, rails.StatusRefused:
		return string(s)
	}
	return "scheduled" // new, accepted, batched: not yet with the network
}

func chatStatus(p rails.Payment) assistant.RailStatus {
	return assistant.RailStatus{Ref: "ACH-" + strconv.FormatInt(int64(p.ID), 10), Payee: p.Name, Collection: p.Kind == rails.KindDebit,
		From: p.From, Amount: p.Amount, Currency: p.Currency, State: RailState(p.Status), Reason: p.Reason, ReturnCode: p.ReturnCode,
		Effective: p.Effective, Updated: p.Updated}
}

// RailAlerts turns the rails' status changes into alerts (OnChange): a
// payment to another bank that left, settled, came back (with its reason),
// was refused, held for compliance or released, in the language the
// customer chose for chats (Spanish through the assistant's catalogue).
// Prenotes and the bank's own returns of inbound credits raise none, nor
// does an instant payment leaving (it settles or is refused in the same
// second). An alert that cannot be raised is logged: the change itself is
// stored, and the payments page shows it.
func RailAlerts(al *alerts.Service, lang assistant.Store, log *slog.Logger) func(context.Context, rails.Payment) {
	return func(ctx context.Context, p rails.Payment) {
		if p.Kind != rails.KindCredit && p.Kind != rails.KindInstant && p.Kind != rails.KindDebit {
			return
		}
		state := map[rails.Status]string{rails.StatusSent: alerts.PaymentLeft, rails.StatusSettled: alerts.PaymentSettled,
			rails.StatusReturned: alerts.PaymentReturned, rails.StatusRefused: alerts.PaymentRefused, rails.StatusHeld: alerts.PaymentHeld}[p.Status]
		if p.Kind == rails.KindDebit {
			// A collection is told when its money arrives and when it
			// comes back (with what stays owed), not when it leaves.
			state = map[rails.Status]string{rails.StatusSettled: alerts.CollectionSettled, rails.StatusReturned: alerts.CollectionReturned,
				rails.StatusHeld: alerts.PaymentHeld}[p.Status]
		}
		if p.Status == rails.StatusAccepted && p.Screen != "" {
			state = alerts.PaymentReleased // only a release moves a screened payment to accepted
		}
		if state == "" || state == alerts.PaymentLeft && p.Kind == rails.KindInstant {
			return
		}
		es := false
		if lang != nil {
			if s, err := lang.Settings(ctx, p.Customer); err == nil {
				es = s.Language == assistant.Spanish
			}
		}
		reason := p.Reason
		if es {
			reason = assistant.RailReason(assistant.Spanish, reason, p.ReturnCode, p.Status == rails.StatusReturned)
		}
		err := al.PaymentChanged(ctx, alerts.PaymentChange{Payment: int64(p.ID), Customer: p.Customer, Account: p.From, Payee: p.Name,
			Amount: p.Amount, Currency: p.Currency, State: state, Reason: reason, Spanish: es})
		if err != nil {
			log.Warn("rails: payment alert not raised", "payment", p.ID, "status", p.Status, "err", err)
		}
	}
}
