package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge/alerts/stream"

	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/rails"
)

// KEKFile is the key-encryption key's file in the data folder when no
// --key-file names one (see docs/keys.md).
const KEKFile = "keyring.kek"

// UsageError is a mistake in the command line: exit status 2, a plain message.
type UsageError string

// Error returns the message as given.
func (e UsageError) Error() string { return string(e) }

// Config is every setting bankbridge reads, with working defaults: SQLite in
// ./data, demo data on, port 8080. Flags override BANKBRIDGE_* variables,
// which override the defaults.
type Config struct {
	Addr      string        // listen address
	Data      string        // data folder (SQLite file, keys)
	Database  string        // "" for SQLite in Data, or postgres://...
	KeyFile   string        // the key-encryption key sealing the keys in the database; "" for Data/KEKFile
	Demo      bool          // seed a demo bank into an empty database
	DemoSize  int           // customers in the demo bank
	LogLevel  string        // debug, info, warn, error
	LogFormat string        // text or json
	PublicURL string        // the URL people use, for links; default from Addr
	TLSCert   string        // serve HTTPS with this certificate...
	TLSKey    string        // ...and key
	Drain     time.Duration // after SIGTERM, how long /readyz says 503 while requests are still served
	Shutdown  time.Duration // then, how long requests in flight may take to finish
	Events    string        // "" to consume ledger events in process, or nats://host:4222 for JetStream
	Cluster   string        // the deployment's name on NATS; "" for the id its database generated
	// EmbeddedSim runs the messaging platform emulator inside a fleet
	// instance all the same (a fleet of one); see MessengerDeps.Fleet.
	EmbeddedSim bool
	SMTP        string // host:port of an SMTP relay for e-mail alerts and password resets; "" for none
	MailFrom    string // the From address of e-mail alerts
	// TimeZone is the bank's time zone (an IANA name: "America/New_York"):
	// the pages show dates and times there, and a scheduled payment is due
	// from 06:00 on its date there. Default UTC.
	TimeZone  string
	Witnesses string // comma-separated URLs of witnesses that cosign the disclosure log's checkpoints
	// The bank's payment limits (docs/limits.md), minor units and hours;
	// 0 takes limits.DefaultPolicy's figure.
	LimitDaily, LimitPayee, LimitNewPayee, LimitStepUp, LimitCoolingHours int
	// Platforms holds the Telegram and WhatsApp channels' settings.
	Platforms Platforms
	// Payments over the rails (docs/rails.md): the ACH operator's URL ("" for
	// the railsim emulator inside this instance, at /railsim/), the bank's
	// routing number in its files, and the sanctions list (OFAC SDN CSV; ""
	// for the bundled sample of invented names).
	RailsURL, RailsRouting, SanctionsFile string
	// RailsRetell is how old a payment's untold change must be before the
	// rails worker tells it for an instance that died (0: 30 s).
	RailsRetell time.Duration
	// Mode is "own" (bankbridge keeps the books) or "mirror" (a core keeps
	// them: its camt.053 statements, dropped into CoreInbox, are imported
	// by a worker; docs/rails.md "Mirror mode"). Empty outside serve.
	// CoreOutbox is where mirror mode leaves payments for the core, as
	// pain.001.
	Mode, CoreInbox, CoreOutbox string

	envErrs []error // BANKBRIDGE_* values that did not parse; Validate reports them
}

// Flags registers the common settings on fs, defaulting each from getenv.
// Subcommands call it and add their own.
func (c *Config) Flags(fs *flag.FlagSet, getenv func(string) string) {
	f := c.EnvFlags(fs, getenv)
	f.String(&c.Data, "data", "data", "data folder for the embedded SQLite database")
	f.String(&c.Database, "database", "", "database URL: empty for SQLite in the data folder, or postgres://user@host:5432/db")
	f.String(&c.KeyFile, "key-file", "", "key-encryption key file sealing the signing keys in the database; the same on every instance (default <data>/"+KEKFile+")")
	f.String(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.String(&c.LogFormat, "log-format", "text", "log format: text or json")
}

// ServerFlags registers the settings only serve needs.
func (c *Config) ServerFlags(fs *flag.FlagSet, getenv func(string) string) {
	f := c.EnvFlags(fs, getenv)
	f.String(&c.Addr, "addr", ":8080", "listen address")
	f.String(&c.PublicURL, "public-url", "", "public base URL for links (default http://localhost:<port>)")
	f.String(&c.TLSCert, "tls-cert", "", "TLS certificate file (enables HTTPS and Secure cookies)")
	f.String(&c.TLSKey, "tls-key", "", "TLS key file")
	f.String(&c.Events, "events", "", "ledger events: empty to consume them in this process, or nats://host:4222 to relay them to NATS JetStream for several instances")
	f.String(&c.Cluster, "cluster", "", "deployment name on NATS, the same on every instance (letters, digits, - and _): empty for the id the database generated when first migrated")
	f.Bool(&c.EmbeddedSim, "embedded-sim", false, "with --database postgres://... and --events, run the messaging platform emulator inside this instance anyway (a fleet of one); a fleet runs 'bankbridge sim' once instead")
	f.String(&c.SMTP, "smtp", "", "SMTP relay host:port for e-mail alerts and password resets (empty: no e-mail)")
	f.String(&c.MailFrom, "mail-from", "alerts@bankbridge.example", "From address of e-mail alerts")
	f.String(&c.TimeZone, "time-zone", "UTC", "the bank's time zone, an IANA name such as America/New_York: dates on the pages, and the day and 06:00 hour scheduled payments are due")
	f.String(&c.Witnesses, "witness", "", "comma-separated URLs of witnesses (`bankbridge witness`) asked to cosign each disclosure-log checkpoint")
	// The demo seed writes known passwords into an empty database, so it
	// is on only when the variable says so in words that parse: a typo is
	// an error, never a yes.
	f.Bool(&c.Demo, "demo", true, "seed a demo bank into an empty database")
	f.Int(&c.DemoSize, "demo-customers", 1000, "customers in the demo bank")
	// A rolling restart loses no request: on SIGTERM /readyz fails at
	// once, the load balancer stops sending within its check interval
	// (the drain covers a few), and only then does the listener close.
	f.Duration(&c.Drain, "drain", 5*time.Second, "on SIGTERM, how long to keep serving with /readyz answering 503 so a load balancer stops sending (0: stop at once)")
	f.Duration(&c.Shutdown, "shutdown-grace", 15*time.Second, "after the drain, how long requests in flight may take to finish")
	f.Int(&c.LimitDaily, "limit-daily", 0, "most a customer may pay others in 24 hours, all channels, in minor units (0: 1000000)")
	f.Int(&c.LimitPayee, "limit-payee", 0, "most a customer may pay one payee in 24 hours, in minor units (0: 500000)")
	f.Int(&c.LimitNewPayee, "limit-new-payee", 0, "most to a payee in its cooling-off, per 24 hours, in minor units (0: 100000)")
	f.Int(&c.LimitCoolingHours, "limit-new-payee-hours", 0, "hours a payee stays new after it is saved or first paid (0: 24)")
	f.String(&c.RailsURL, "rails-url", "", "the ACH operator's URL (an exchange as 'bankbridge railsim' serves it); empty runs the emulator inside this instance at /railsim/")
	f.String(&c.RailsRouting, "rails-routing", "021000089", "the bank's ABA routing number in the NACHA files it sends")
	f.Duration(&c.RailsRetell, "rails-retell-after", 30*time.Second, "how old a payment's status change left untold by an instance that died must be before the rails worker tells it (longer than telling takes)")
	f.String(&c.SanctionsFile, "sanctions-file", "", "sanctions list in OFAC's SDN CSV format (sdn.csv) to screen payees against; empty for a small sample of invented names")
	f.String(&c.Mode, "mode", "own", "own: bankbridge keeps the books; mirror: a core keeps them and its camt.053 statements are imported from --core-inbox")
	f.String(&c.CoreInbox, "core-inbox", "", "mirror mode: the folder the core drops its camt.053 statements in (default <data>/core-inbox); imported files move to done/, unreadable ones to rejected/")
	f.String(&c.CoreOutbox, "core-outbox", "", "mirror mode: the folder bankbridge leaves payments to other banks in for the core, one pain.001 per payment (default <data>/core-outbox)")
	f.Int(&c.LimitStepUp, "limit-step-up", 0, "24-hour total above which a payment needs the customer's second factor, in minor units (0: 100000)")
	c.PlatformFlags(f)
}

// EnvFlags registers flags whose defaults come from BANKBRIDGE_* variables.
// A variable that does not parse as its flag's type is an error naming the
// variable and the flag, kept in the Config so that Validate reports it
// with every other problem; the flag then keeps its built-in default.
type EnvFlags struct {
	fs     *flag.FlagSet
	getenv func(string) string
	errs   *[]error
	env    string // the variable of the next flag, when not EnvName(name)
}

// EnvFlags registers a command's own flags on fs the way Flags does,
// with their problems reported by c.Validate.
func (c *Config) EnvFlags(fs *flag.FlagSet, getenv func(string) string) EnvFlags {
	return EnvFlags{fs: fs, getenv: getenv, errs: &c.envErrs}
}

// Env returns f with the next flags read from the variable env instead of
// BANKBRIDGE_<FLAG>.
func (f EnvFlags) Env(env string) EnvFlags { f.env = env; return f }

// lookup returns the flag's variable and its value ("" when unset) and the
// help text naming the variable.
func (f EnvFlags) lookup(name, help string) (env, v, h string) {
	env = f.env
	if env == "" {
		env = EnvName(name)
	}
	return env, f.getenv(env), help + " (env " + env + ")"
}

func (f EnvFlags) refuse(env, v, name, want string) {
	*f.errs = append(*f.errs, fmt.Errorf("%s=%q is not %s (flag --%s)", env, v, want, name))
}

// String registers a string flag: every value parses.
func (f EnvFlags) String(p *string, name, def, help string) {
	_, v, help := f.lookup(name, help)
	if v != "" {
		def = v
	}
	f.fs.StringVar(p, name, def, help)
}

// Bool registers a boolean flag; its variable takes what strconv.ParseBool
// does (1, t, true, TRUE, 0, f, false, FALSE...).
func (f EnvFlags) Bool(p *bool, name string, def bool, help string) {
	env, v, help := f.lookup(name, help)
	if v != "" {
		if b, err := strconv.ParseBool(v); err != nil {
			f.refuse(env, v, name, "true or false")
		} else {
			def = b
		}
	}
	f.fs.BoolVar(p, name, def, help)
}

// Int registers an integer flag.
func (f EnvFlags) Int(p *int, name string, def int, help string) {
	env, v, help := f.lookup(name, help)
	if v != "" {
		if n, err := strconv.Atoi(v); err != nil {
			f.refuse(env, v, name, "a whole number")
		} else {
			def = n
		}
	}
	f.fs.IntVar(p, name, def, help)
}

// Uint64 registers an unsigned integer flag.
func (f EnvFlags) Uint64(p *uint64, name string, def uint64, help string) {
	env, v, help := f.lookup(name, help)
	if v != "" {
		if n, err := strconv.ParseUint(v, 10, 64); err != nil {
			f.refuse(env, v, name, "a positive whole number")
		} else {
			def = n
		}
	}
	f.fs.Uint64Var(p, name, def, help)
}

// Duration registers a duration flag: 500ms, 5s, 1m (time.ParseDuration).
func (f EnvFlags) Duration(p *time.Duration, name string, def time.Duration, help string) {
	env, v, help := f.lookup(name, help)
	if v != "" {
		if d, err := time.ParseDuration(v); err != nil {
			f.refuse(env, v, name, "a duration such as 5s")
		} else {
			def = d
		}
	}
	f.fs.DurationVar(p, name, def, help)
}

// EnvName is the variable that sets flag: BANKBRIDGE_ and the flag in
// upper case, dashes as underscores.
func EnvName(flag string) string {
	return "BANKBRIDGE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// Validate reports every problem at once, those of the environment
// variables first.
func (c *Config) Validate() error {
	errs := slices.Clone(c.envErrs)
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf("--time-zone (env BANKBRIDGE_TIME_ZONE) %q is not a time zone: use an IANA name such as America/New_York", c.TimeZone))
	}
	if err := c.LimitPolicy().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("--limit-* (env BANKBRIDGE_LIMIT_*): %w", err))
	}
	if c.Database != "" {
		u, err := url.Parse(c.Database)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			errs = append(errs, fmt.Errorf("--database (env BANKBRIDGE_DATABASE) must be empty (SQLite) or a postgres:// URL"))
		}
	} else if c.Data == "" {
		errs = append(errs, fmt.Errorf("--data (env BANKBRIDGE_DATA) must name a folder"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level (env BANKBRIDGE_LOG_LEVEL) must be debug, info, warn or error, not %q", c.LogLevel))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format (env BANKBRIDGE_LOG_FORMAT) must be text or json, not %q", c.LogFormat))
	}
	// Serve's flags only: other commands leave them empty.
	if c.RailsRouting != "" && rails.CheckRouting(c.RailsRouting) != nil {
		errs = append(errs, fmt.Errorf("--rails-routing (env BANKBRIDGE_RAILS_ROUTING) %q is not an ABA routing number (nine digits, a matching check digit)", c.RailsRouting))
	}
	if c.Mode != "" && c.Mode != "own" && c.Mode != "mirror" {
		errs = append(errs, fmt.Errorf("--mode (env BANKBRIDGE_MODE) must be own or mirror, not %q", c.Mode))
	}
	if c.RailsURL != "" {
		if u, err := url.Parse(c.RailsURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--rails-url (env BANKBRIDGE_RAILS_URL) must be an http(s) URL"))
		}
	}
	if c.Events != "" {
		if u, err := url.Parse(c.Events); err != nil || u.Scheme != "nats" || u.Host == "" {
			errs = append(errs, fmt.Errorf("--events (env BANKBRIDGE_EVENTS) must be empty or a nats://host:port URL"))
		}
	}
	if c.Cluster != "" {
		if err := stream.ValidCluster(c.Cluster); err != nil {
			errs = append(errs, fmt.Errorf("--cluster (env BANKBRIDGE_CLUSTER): %w", err))
		}
	}
	if c.Demo && (c.DemoSize < 1 || c.DemoSize > 1_000_000) {
		errs = append(errs, fmt.Errorf("--demo-customers (env BANKBRIDGE_DEMO_CUSTOMERS) must be between 1 and 1000000"))
	}
	if c.Drain < 0 || c.Drain > 10*time.Minute {
		errs = append(errs, fmt.Errorf("--drain (env BANKBRIDGE_DRAIN) must be from 0 to 10m, not %s", c.Drain))
	}
	if c.Shutdown < 0 || c.Shutdown > 10*time.Minute {
		errs = append(errs, fmt.Errorf("--shutdown-grace (env BANKBRIDGE_SHUTDOWN_GRACE) must be from 0 to 10m, not %s", c.Shutdown))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, fmt.Errorf("--tls-cert and --tls-key go together"))
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || u.Host == "" {
			errs = append(errs, fmt.Errorf("--public-url (env BANKBRIDGE_PUBLIC_URL) must be an absolute URL"))
		}
	}
	for _, w := range strings.Split(c.Witnesses, ",") {
		if w = strings.TrimSpace(w); w == "" {
			continue
		}
		if u, err := url.Parse(w); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--witness (env BANKBRIDGE_WITNESS) %q must be an http(s) URL of a witness", w))
		}
	}
	errs = append(errs, c.Platforms.validate()...)
	if len(errs) > 0 {
		return UsageError(errors.Join(errs...).Error())
	}
	return nil
}

// LimitPolicy is the payment limits c sets, with the defaults filled in.
func (c *Config) LimitPolicy() limits.Policy {
	return limits.Policy{Daily: ledger.Amount(c.LimitDaily), PerPayee: ledger.Amount(c.LimitPayee), NewPayee: ledger.Amount(c.LimitNewPayee),
		StepUp: ledger.Amount(c.LimitStepUp), Cooling: time.Duration(c.LimitCoolingHours) * time.Hour}.WithDefaults()
}

// SQLitePath is the database file used when Database is empty.
func (c *Config) SQLitePath() string { return filepath.Join(c.Data, "bankbridge.db") }

// Fleet reports whether the configuration is one instance of a fleet:
// PostgreSQL and ledger events over NATS, the setup for several instances.
func (c *Config) Fleet() bool { return c.Database != "" && c.Events != "" }

// Engine names the engine the config selects.
func (c *Config) Engine() string {
	if c.Database == "" {
		return "sqlite"
	}
	return "postgres"
}

// LogValue is the effective configuration with secrets removed: a database
// URL's password never reaches the log.
func (c Config) LogValue() slog.Value {
	db := "sqlite:" + c.SQLitePath()
	if c.Database != "" {
		if u, err := url.Parse(c.Database); err == nil {
			u.User = url.User(u.User.Username())
			db = u.Redacted()
		} else {
			db = "postgres:(unparsable)"
		}
	}
	kf := c.KeyFile // a path, never the key
	if kf == "" {
		kf = filepath.Join(c.Data, KEKFile)
	}
	events := c.Events
	if u, err := url.Parse(events); err == nil && u.User != nil {
		events = u.Redacted()
	}
	return slog.GroupValue(slog.String("addr", c.Addr), slog.String("database", db), slog.String("key_file", kf), slog.Bool("demo", c.Demo),
		slog.String("public_url", c.PublicURL), slog.Bool("tls", c.TLSCert != ""), slog.String("events", events), slog.String("cluster", c.Cluster), slog.String("witnesses", c.Witnesses))
}

// Logger builds the process Logger writing to w.
func (c *Config) Logger(w io.Writer) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: lv}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Parse parses args into fs, turning flag errors into usage errors.
func Parse(fs *flag.FlagSet, args []string, c *Config) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		// The flag package stops at the first bad flag; the variables'
		// problems are known already and are reported with it.
		return UsageError(errors.Join(append([]error{err}, c.envErrs...)...).Error())
	}
	if fs.NArg() > 0 {
		return UsageError(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	return c.Validate()
}

// Location is the bank's time zone (TimeZone); UTC when it is empty or
// not one (Validate reports that).
func (c *Config) Location() *time.Location {
	l, err := time.LoadLocation(c.TimeZone)
	if err != nil || c.TimeZone == "" {
		return time.UTC
	}
	return l
}
