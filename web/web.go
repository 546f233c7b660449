package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/scheduled"
)

// Auth is what the web needs from identity: logins, sessions, TOTP and the
// people behind them. *identity.Service implements it; tests may pass a fake.
type Auth interface {
	Login(ctx context.Context, realm identity.Realm, email, password, totpCode string) (string, identity.Session, error)
	Session(ctx context.Context, token string) (identity.Session, error)
	Logout(ctx context.Context, token string) error
	BeginTOTP(ctx context.Context, token string) (secret, otpauthURL string, err error)
	ConfirmTOTP(ctx context.Context, token, code string) error
	StepUp(ctx context.Context, token, code string) error
	Customer(ctx context.Context, id bankbridge.CustomerID) (identity.Customer, error)
	Staff(ctx context.Context, id bankbridge.StaffID) (identity.Staff, error)
}

// Directory finds a customer by email for the staff console's lookup. When
// Deps.Directory is nil and Auth has a Store() identity.Store method (as
// *identity.Service does), New builds one over that store.
type Directory interface {
	CustomerByEmail(ctx context.Context, email string) (identity.Customer, error)
}

// Searcher finds customers by part of their name, e-mail, phone or account
// number, for the console's lookup. *sqlstore.IdentityStore implements it;
// when the Directory or the identity store does, the lookup searches,
// otherwise it takes an exact e-mail only.
type Searcher interface {
	SearchCustomers(ctx context.Context, text string, limit int) ([]identity.Customer, error)
}

// storeDirectory looks customers up through the identity store: the
// credential by email gives the id, the customer record the rest.
type storeDirectory struct{ st identity.Store }

func (d storeDirectory) SearchCustomers(ctx context.Context, text string, limit int) ([]identity.Customer, error) {
	se, ok := d.st.(Searcher)
	if !ok {
		return nil, errNoSearch
	}
	return se.SearchCustomers(ctx, text, limit)
}

func (d storeDirectory) CustomerByEmail(ctx context.Context, email string) (identity.Customer, error) {
	cred, err := d.st.CredentialByEmail(ctx, identity.RealmCustomer, identity.NormalizeEmail(email))
	if err != nil {
		return identity.Customer{}, err
	}
	return d.st.Customer(ctx, bankbridge.CustomerID(cred.ID))
}

// DefaultStepUpLimit is the largest transfer, in minor units, a customer may
// make without a fresh TOTP step-up: 1,000.00.
const DefaultStepUpLimit ledger.Amount = 100000

// stepUpWindow is how long a step-up stays good for large transfers.
const stepUpWindow = 10 * time.Minute

// Deps is everything the web app needs. Auth, Ledger and Logger are required.
type Deps struct {
	Auth   Auth
	Ledger *ledger.Service
	Logger *slog.Logger
	// Directory backs the console's customer lookup by email. Optional: see
	// Directory.
	Directory Directory
	// Secure says the app is served over TLS: cookies get Secure (and the
	// __Host-/__Secure- prefixes) and responses carry HSTS.
	Secure bool
	// Now returns the time; tests inject a clock. Default time.Now.
	Now func() time.Time
	// Location is the bank's time zone (--time-zone): every date and time
	// a page shows is read there, and "today" on the scheduled payments'
	// form. Default UTC.
	Location *time.Location
	// BankName is shown in titles and headers. Default "bankbridge".
	BankName string
	// StepUpLimit is the largest transfer (minor units) allowed without a
	// TOTP step-up in the last 10 minutes. Default DefaultStepUpLimit.
	StepUpLimit ledger.Amount
	// Limits applies the bank's payment limits (daily, per payee, new
	// payee, step-up on the day's total) to transfers to payees, the same
	// guard as the partner API's and the chat's. Without it, transfers to
	// payees are refused; transfers between one's own accounts still work.
	Limits *limits.Guard
	// ConsentFlow and Consents back the consent screen (/consent), the
	// Connected apps page and the console's consent list. Optional: without
	// them those pages answer 404. See consent.go.
	ConsentFlow ConsentFlow
	Consents    Consents
	// Audit is the disclosure log: "Who saw my data", the console's audit
	// page, and a record of every staff view. See disclosures.go.
	Audit AuditLog
	// Insights backs the console's engagement page, and Events takes the
	// app's engagement events. Both optional: without Insights the page
	// answers 404; without Events nothing is recorded. See insights.go.
	Insights Engagement
	Events   EventRecorder
	// Inbox backs the console's chat inbox (conversations handed over by
	// the assistant). Optional: without it the inbox answers 404. See
	// console_inbox.go.
	Inbox Inbox
	// Partners backs the console's partner pages. Optional: when nil and
	// Consents implements PartnerAdmin (as *consent.Service does), that is
	// used; otherwise the pages answer 404. See console_partners.go.
	Partners PartnerAdmin
	// Payments backs the page where a customer confirms or declines a
	// payment an app started above the step-up limit
	// (/payments/confirm/{id}). Optional: without it the page answers 404.
	// See payment_confirm.go.
	Payments Payments
	// Performance backs the console's API performance page. Optional:
	// without it the page answers 404. See console_performance.go.
	Performance APIPerformance
	// Passwords backs password change (on /security) and reset
	// (/password/forgot, /password/reset). Optional: when nil and Auth
	// implements Passwords (as *identity.Service does), that is used.
	// Mail sends the reset e-mails, with links to PublicURL; without it
	// the forgotten-password page says to call the bank. See password.go.
	Passwords Passwords
	Mail      Mailer
	PublicURL string
	// Alerts backs the customer's notification centre (/notifications) and
	// the console's fraud cases and dead letters (/console/alerts).
	// Optional: without it those pages answer 404. See notifications.go.
	Alerts Alerts
	// Rails backs the payees at other banks (/payees), payments to them
	// over ACH, their status, and the console's rails page. Optional:
	// without it those pages answer 404. See payees.go.
	Rails *rails.Service
	// Mirror backs the console's mirror reconciliation (/console/mirror):
	// the core's closing balances beside the mirror's (*rails.Mirror).
	// Optional: without it that page answers 404. See console_mirror.go.
	Mirror MirrorReconciler
	// Languages keeps each customer's language, shared with the chat and
	// e-mails (*sqlstore.MessengerStore). Optional: without it the choice
	// lives in a cookie on each browser. See i18n.go.
	Languages assistant.Languages
	// TimeZones keeps each customer's time zone (the security page's
	// choice, *sqlstore.MessengerStore): their pages show times in it.
	// Optional: without it, and for a customer who never chose, times
	// read in Location. See i18n.go.
	TimeZones assistant.TimeZones
	// Scheduled backs the scheduled and recurring payments (/scheduled).
	// Optional: without it those pages answer 404. See scheduled.go.
	Scheduled *scheduled.Service
}

// server holds the dependencies and the parsed templates.
type server struct {
	Deps
	pages   *pages
	cookies cookieNames
}

// New returns the web app's handler: the customer pages at / and the staff
// console at /console/. It panics if a template fails to parse, which a test
// catches before release.
func New(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.BankName == "" {
		d.BankName = "bankbridge"
	}
	if d.StepUpLimit <= 0 && d.Limits != nil {
		d.StepUpLimit = d.Limits.Policy().StepUp
	}
	if d.StepUpLimit <= 0 {
		d.StepUpLimit = DefaultStepUpLimit
	}
	if d.Directory == nil {
		if st, ok := d.Auth.(interface{ Store() identity.Store }); ok {
			d.Directory = storeDirectory{st.Store()}
		}
	}
	if d.Passwords == nil {
		if p, ok := d.Auth.(Passwords); ok {
			d.Passwords = p
		}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Location == nil {
		d.Location = time.UTC
	}
	s := &server{Deps: d, pages: mustParsePages(d.Location), cookies: newCookieNames(d.Secure)}
	return s.routes()
}
