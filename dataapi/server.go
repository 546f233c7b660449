package dataapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/dataapi/records"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/oauth"
)

// Prefix is where the API is mounted: FDX v6 resources under a versioned
// prefix.
const Prefix = "/fdx/v6"

// Verifier checks a request's DPoP-bound token and the consent behind it.
// *oauth.Verifier implements it.
type Verifier interface {
	Verify(r *http.Request) (oauth.Access, error)
	WriteChallenge(w http.ResponseWriter, err error)
}

// Auditor is the disclosure log. *audit.Log implements it.
type Auditor interface {
	Start(ctx context.Context, rec audit.Record) *audit.Pending
}

// Customers reads the people behind consents. *identity.Service implements it.
type Customers interface {
	Customer(ctx context.Context, id bankbridge.CustomerID) (identity.Customer, error)
}

var (
	_ Verifier  = (*oauth.Verifier)(nil)
	_ Auditor   = (*audit.Log)(nil)
	_ Customers = (*identity.Service)(nil)
)

// Deps is what the data API needs. Everything but Registerer, Logger, Now
// and the options is required.
type Deps struct {
	Verifier  Verifier
	Consents  *consent.Service
	Ledger    *ledger.Service
	Customers Customers
	Audit     Auditor
	Store     records.Store
	// Registerer receives the API's metrics (per-partner responses and
	// latency, 12 CFR 1033.311 performance). Optional.
	Registerer prometheus.Registerer
	// Limiter keeps partners and customers to their budgets. Default:
	// NewLimiter, in this instance's memory; NewFleetLimiter for a fleet.
	Limiter Limiter
	// Payments is the bank's payment limits (daily, per payee, new payee,
	// step-up on the day's total), the same guard as the web's and the
	// chat's. Required.
	Payments *limits.Guard
	// Rails pays payees at other banks (ACH, instant payments). Optional:
	// nil lists and pays payees at this bank only.
	Rails  Rails
	Logger *slog.Logger
	Now    func() time.Time
	// BaseURL is the bank's public scheme and host, for links in answers
	// (the payment confirmation page). Default: none, links are relative.
	BaseURL string
	// BankName names the data provider in consents. Default "bankbridge".
	BankName string
	// Language, when set, is the customer's chosen language ("es", "en",
	// or "" for none; the setting the web app, e-mail and chat share,
	// assistant.Languages): a statement document is written in it, as the
	// customer downloads it from the bank's app. Nil: English.
	Language func(ctx context.Context, c bankbridge.CustomerID) string
	Options  Options
}

// Options tune limits. The zero value gives the documented defaults.
type Options struct {
	// CustomerRate is the budget of one customer's data within one
	// partner, requests per minute (default 300); the partner's own budget
	// is consent.Partner.RateLimit.
	CustomerRate int
	// StepUpLimit is the largest payment (minor units) between the
	// customer's own accounts made without the customer confirming on the
	// bank's page. Default: the step-up amount of Deps.Payments. Payments
	// to payees follow Deps.Payments: they wait for the customer when the
	// 24-hour total passes its step-up amount.
	StepUpLimit ledger.Amount
	// ConfirmTTL is how long a payment waits for the customer. Default 15 min.
	ConfirmTTL time.Duration
	// AllowHTTPCallbacks accepts http:// callback URLs on loopback hosts,
	// for development and tests.
	AllowHTTPCallbacks bool
	// HTTPClient delivers notifications. Default: 10 s timeout, no redirects.
	HTTPClient *http.Client
	// Lease, when set, makes Run deliver notifications only while this
	// instance holds DeliveryLease: instances delivering side by side would
	// post the same due notification twice and write their attempts over
	// each other's. Nil: Run always delivers (one process).
	Lease Lease
}

// Lease runs work that must run on one instance of a fleet at a time
// (store/postgres: an advisory lock; store/sqlite: always granted).
type Lease interface {
	// RunExclusive waits until the caller holds the lease called name,
	// runs fn with a context cancelled if the lease is lost, releases the
	// lease when fn returns, and returns fn's error, or why it could not.
	RunExclusive(ctx context.Context, name string, fn func(context.Context) error) error
}

// DeliveryLease is the name of the lease notifications are delivered under.
const DeliveryLease = "dataapi-notifications"

// Defaults of Options.
const (
	DefaultCustomerRate = 300
	DefaultConfirmTTL   = 15 * time.Minute
	maxBody             = 16 << 10
	maxQuery            = 2048
)

// Server is the data API: an http.Handler for Prefix, /openapi.json and
// /docs/api, a consent.Hook that tells partners of consent changes, the
// back end of the bank's payment confirmation page, and a background loop
// (Run) delivering notifications and saving performance counters. It is
// safe for concurrent use.
type Server struct {
	d      Deps
	o      Options
	log    *slog.Logger
	ids    *ids
	limits Limiter
	mux    *http.ServeMux
	perf   *perf
	wake   chan struct{}
}

// New loads (or creates, on first start) the identifier secret and returns
// the API. Errors: a missing dependency, a store failure.
func New(ctx context.Context, d Deps) (*Server, error) {
	if d.Verifier == nil || d.Consents == nil || d.Ledger == nil || d.Customers == nil || d.Audit == nil || d.Store == nil || d.Payments == nil {
		return nil, errors.New("dataapi: Verifier, Consents, Ledger, Customers, Audit, Store and Payments are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Limiter == nil {
		d.Limiter = NewLimiter(d.Now)
	}
	if d.BankName == "" {
		d.BankName = "bankbridge"
	}
	d.BaseURL = strings.TrimSuffix(d.BaseURL, "/")
	o := d.Options
	if o.CustomerRate <= 0 {
		o.CustomerRate = DefaultCustomerRate
	}
	if o.StepUpLimit <= 0 {
		o.StepUpLimit = d.Payments.Policy().StepUp
	}
	if o.ConfirmTTL <= 0 {
		o.ConfirmTTL = DefaultConfirmTTL
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	secret, err := d.Consents.IDSecret(ctx)
	if err != nil {
		return nil, fmt.Errorf("dataapi: %w", err)
	}
	x, err := newIDs(secret)
	if err != nil {
		return nil, err
	}
	s := &Server{d: d, o: o, log: d.Logger, ids: x, limits: d.Limiter, wake: make(chan struct{}, 1)}
	s.perf = newPerf(d.Store, d.Now)
	if d.Registerer != nil {
		if err := s.perf.register(d.Registerer); err != nil {
			return nil, fmt.Errorf("dataapi: metrics: %w", err)
		}
	}
	s.routes()
	return s, nil
}

// route is one endpoint: its handler, the query parameters it accepts, and
// whether it takes a JSON body.
type route struct {
	method, path string
	params       []string
	h            func(c *call)
}

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	for _, rt := range s.table() {
		pattern := rt.method + " " + Prefix + rt.path
		s.mux.Handle(pattern, s.api(pattern, rt))
	}
	s.mux.HandleFunc("GET /openapi.json", s.openAPI)
	s.mux.HandleFunc("GET /docs/api", s.docsPage)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		interaction(w, r)
		s.fail(w, r, errNotFound)
	})
}

// table is the route table: every operation with the query parameters it
// takes (a test keeps it equal to the OpenAPI document's).
func (s *Server) table() []route {
	return []route{
		{"GET", "/customers/current", nil, s.customer},
		{"GET", "/accounts", pageParams, s.accounts},
		{"GET", "/accounts/{accountId}", nil, s.account},
		{"GET", "/accounts/{accountId}/balances", nil, s.balances},
		{"GET", "/accounts/{accountId}/contact", nil, s.contact},
		{"GET", "/accounts/{accountId}/transactions", append(pageParams[:3:3], timeParams...), s.transactions},
		{"GET", "/accounts/{accountId}/payment-networks", pageParams, s.paymentNetworks},
		{"GET", "/accounts/{accountId}/statements", append(pageParams[:3:3], timeParams...), s.statements},
		{"GET", "/accounts/{accountId}/statements/{statementId}", nil, s.statement},
		{"GET", "/consents/{consentId}", nil, s.consentGet},
		{"PUT", "/consents/{consentId}/revocation", nil, s.consentRevoke},
		{"GET", "/payees", nil, s.payees},
		{"POST", "/payments", nil, s.paymentCreate},
		{"GET", "/payments/{paymentId}", nil, s.paymentGet},
		{"POST", "/notification-subscriptions", nil, s.subscriptionCreate},
		{"GET", "/notification-subscriptions/{subscriptionId}", nil, s.subscriptionGet},
		{"DELETE", "/notification-subscriptions/{subscriptionId}", nil, s.subscriptionDelete},
	}
}

// ServeHTTP serves Prefix+"/", /openapi.json and /docs/api.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// call is one API request after its token was verified.
type call struct {
	s       *Server
	w       http.ResponseWriter
	r       *http.Request
	ctx     context.Context
	acc     oauth.Access
	partner string
	op      string // "GET /fdx/v6/accounts/{accountId}": the audit record's detail
	pending *audit.Pending
}

// interaction echoes the FAPI interaction id (or makes one) and puts it in
// the context as the request id, so logs, problems and audit records carry
// the id the partner knows.
func interaction(w http.ResponseWriter, r *http.Request) *http.Request {
	id := r.Header.Get("x-fapi-interaction-id")
	if !validInteractionID(id) {
		id = newUUID()
	}
	w.Header().Set("x-fapi-interaction-id", id)
	return r.WithContext(bankbridge.WithRequestID(r.Context(), id))
}

// validInteractionID accepts what FAPI asks for (an RFC 4122 UUID) and,
// leniently, any 1-64 of [A-Za-z0-9-]; anything else is replaced.
func validInteractionID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// newUUID is a random UUID (version 4, RFC 9562 section 5.4).
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return uuidString(&b)
}

// derivedUUID is a name-based UUID (version 8, RFC 9562 section 5.8) of
// name: the same name gives the same id.
func derivedUUID(name string) string {
	h := sha256.Sum256([]byte(name))
	b := [16]byte(h[:16])
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	return uuidString(&b)
}

// uuidString writes b in the 8-4-4-4-12 hex form of RFC 9562 section 4.
// Every call that brings no interaction id gets one, so it is written
// into one buffer rather than through fmt.
func uuidString(b *[16]byte) string {
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return string(s[:])
}

// statusWriter remembers the status, for the performance counters.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// api wraps an endpoint with what every call passes: the interaction id,
// the query's shape, the token and consent (Verifier), the partner's and
// the customer's rate limits, and the performance counters.
func (s *Server) api(pattern string, rt route) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w := &statusWriter{ResponseWriter: rw}
		r = interaction(w, r)
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		acc, err := s.d.Verifier.Verify(r)
		if err != nil {
			s.d.Verifier.WriteChallenge(w, err)
			return // unattributed: no partner to count it against
		}
		partner := string(acc.Partner.ID)
		defer func() { s.perf.observe(partner, w.status, time.Since(start)) }()
		ctx := bankbridge.WithActor(r.Context(), bankbridge.Actor{Kind: bankbridge.ActorPartner, Partner: partner})
		r = r.WithContext(ctx)
		c := &call{s: s, w: w, r: r, ctx: ctx, acc: acc, partner: partner, op: pattern}
		if ok, wait := s.limits.Allow(ctx, Budget{"p:" + partner, acc.Partner.RateLimit},
			Budget{"c:" + partner + ":" + strconv.FormatInt(int64(acc.Grant.Customer), 10), s.o.CustomerRate}); !ok {
			c.tooMany(wait)
			return
		}
		if err := checkQuery(r, rt.params); err != nil {
			c.fail(err)
			return
		}
		rt.h(c)
	})
}

func (c *call) tooMany(wait time.Duration) {
	secs := int((wait + time.Second - 1) / time.Second)
	c.w.Header().Set("Retry-After", strconv.Itoa(max(1, secs)))
	c.fail(errRateLimited)
}

// checkQuery refuses a query that is too long, repeats a parameter, names
// one the endpoint does not take, or holds a control character.
func checkQuery(r *http.Request, allowed []string) error {
	raw := r.URL.RawQuery
	if raw == "" {
		return nil
	}
	if len(raw) > maxQuery {
		return errParam.WithMessage("the query string is longer than 2048 bytes")
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return errParam.WithMessage("the query string is malformed")
	}
	for k, v := range q {
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		switch {
		case !ok:
			return fieldErr(errParam.WithMessage("unknown query parameter "+strconv.Quote(trunc(k, 40))), "/query/"+trunc(k, 40), "not a parameter of this endpoint")
		case len(v) > 1:
			return fieldErr(errParam.WithMessage("query parameter "+k+" is repeated"), "/query/"+k, "give it once")
		case strings.IndexFunc(v[0], func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
			return fieldErr(errParam.WithMessage("query parameter "+k+" holds a control character"), "/query/"+k, "remove control characters")
		}
	}
	return nil
}

func trunc(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}

func fieldErr(e *bankbridge.Error, ptr, detail string) *bankbridge.Error {
	c := *e
	c.Fields = []bankbridge.FieldError{{Pointer: ptr, Detail: detail}}
	return &c
}

// disclose starts the audit record of what this call is about to disclose,
// so that its commit overlaps the reads; json waits for it before sending.
func (c *call) disclose(accounts []ledger.AccountID, clusters []consent.Cluster, fields []string) {
	rec := audit.Record{Kind: audit.DataAccess, Partner: c.partner, Consent: string(c.acc.Grant.ID), Customer: c.acc.Grant.Customer,
		Accounts: accounts, Fields: fields, Detail: c.op, Purpose: c.purpose(clusters)}
	for _, cl := range clusters {
		rec.Clusters = append(rec.Clusters, string(cl))
	}
	c.pending = c.s.d.Audit.Start(c.ctx, rec)
}

// purpose is the consent's stated purposes for clusters, joined.
func (c *call) purpose(clusters []consent.Cluster) string {
	var ps []string
	for _, cl := range clusters {
		if p := c.acc.Grant.Purposes[cl]; p != "" && !contains(ps, p) {
			ps = append(ps, p)
		}
	}
	return trunc(strings.Join(ps, "; "), 500)
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// json sends v once the disclosure record (if any) is durable. If the log
// cannot take it, nothing is sent but a 503.
func (c *call) json(status int, v any) {
	buf := bodies.Get().(*bytes.Buffer)
	defer putBody(buf)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		c.fail(fmt.Errorf("dataapi: encode: %w", err))
		return
	}
	if !c.waitAudit() {
		return
	}
	h := c.w.Header()
	h["Content-Type"] = contentJSON
	// With its length known the body goes out in one write, not in
	// chunks (a page of transactions is tens of kilobytes).
	h["Content-Length"] = []string{strconv.Itoa(buf.Len())}
	c.w.WriteHeader(status)
	_, _ = c.w.Write(buf.Bytes())
}

var contentJSON = []string{"application/json"}

// bodies are the buffers answers are encoded into, reused between calls.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putBody returns buf to bodies unless it grew past what a page of
// transactions needs, so that one large answer does not stay in memory.
func putBody(buf *bytes.Buffer) {
	if buf.Cap() <= 256<<10 {
		buf.Reset()
		bodies.Put(buf)
	}
}

// waitAudit waits for the disclosure record; on failure it answers 503 and
// reports false.
func (c *call) waitAudit() bool {
	if c.pending == nil {
		return true
	}
	_, err := c.pending.Wait(c.ctx)
	c.pending = nil
	if err != nil {
		c.s.log.ErrorContext(c.ctx, "dataapi: audit record not written; nothing disclosed", "err", err)
		c.fail(errAuditDown)
		return false
	}
	return true
}

// noContent answers 204 once the record is durable.
func (c *call) noContent() {
	if c.waitAudit() {
		c.w.WriteHeader(http.StatusNoContent)
	}
}

// fail answers err. An answer of not found to an authenticated partner is
// recorded as a denied access (not waited for: nothing is disclosed).
func (c *call) fail(err error) {
	c.pending = nil
	if bankbridge.ErrorKind(err) == bankbridge.NotFound {
		c.s.d.Audit.Start(c.ctx, audit.Record{Kind: audit.DataAccess, Partner: c.partner, Consent: string(c.acc.Grant.ID),
			Customer: c.acc.Grant.Customer, Outcome: audit.Denied, Detail: c.op})
	}
	c.s.fail(c.w, c.r, err)
}
