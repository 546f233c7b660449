package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge/alerts/stream"
)

// Config is every setting bankbridge reads, with working defaults: SQLite in
// ./data, demo data on, port 8080. Flags override BANKBRIDGE_* variables,
// which override the defaults.
type Config struct {
	Addr      string        // listen address
	Data      string        // data folder (SQLite file, keys)
	Database  string        // "" for SQLite in Data, or postgres://...
	KeyFile   string        // the key-encryption key sealing the keys in the database; "" for Data/keyring.kek
	Demo      bool          // seed a demo bank into an empty database
	DemoSize  int           // customers in the demo bank
	LogLevel  string        // debug, info, warn, error
	LogFormat string        // text or json
	PublicURL string        // the URL people use, for links; default from Addr
	TLSCert   string        // serve HTTPS with this certificate...
	TLSKey    string        // ...and key
	Shutdown  time.Duration // grace period for in-flight requests
	Events    string        // "" to consume ledger events in process, or nats://host:4222 for JetStream
	Cluster   string        // the deployment's name on NATS; "" for the id its database generated
	SMTP      string        // host:port of an SMTP relay for e-mail alerts; "" for none
	MailFrom  string        // the From address of e-mail alerts
	Witnesses string        // comma-separated URLs of witnesses that cosign the disclosure log's checkpoints
}

// flags registers the common settings on fs, defaulting each from getenv.
// Subcommands call it and add their own.
func (c *Config) flags(fs *flag.FlagSet, getenv func(string) string) {
	str := envString(fs, getenv)
	str(&c.Data, "data", "data", "data folder for the embedded SQLite database")
	str(&c.Database, "database", "", "database URL: empty for SQLite in the data folder, or postgres://user@host:5432/db")
	str(&c.KeyFile, "key-file", "", "key-encryption key file sealing the signing keys in the database; the same on every instance (default <data>/"+kekFile+")")
	str(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	str(&c.LogFormat, "log-format", "text", "log format: text or json")
}

// serverFlags registers the settings only serve needs.
func (c *Config) serverFlags(fs *flag.FlagSet, getenv func(string) string) {
	str := envString(fs, getenv)
	str(&c.Addr, "addr", ":8080", "listen address")
	str(&c.PublicURL, "public-url", "", "public base URL for links (default http://localhost:<port>)")
	str(&c.TLSCert, "tls-cert", "", "TLS certificate file (enables HTTPS and Secure cookies)")
	str(&c.TLSKey, "tls-key", "", "TLS key file")
	str(&c.Events, "events", "", "ledger events: empty to consume them in this process, or nats://host:4222 to relay them to NATS JetStream for several instances")
	str(&c.Cluster, "cluster", "", "deployment name on NATS, the same on every instance (letters, digits, - and _): empty for the id the database generated when first migrated")
	str(&c.SMTP, "smtp", "", "SMTP relay host:port for e-mail alerts (empty: no e-mail)")
	str(&c.MailFrom, "mail-from", "alerts@bankbridge.example", "From address of e-mail alerts")
	str(&c.Witnesses, "witness", "", "comma-separated URLs of witnesses (`bankbridge witness`) asked to cosign each disclosure-log checkpoint")
	demo := true
	if v := getenv(envName("demo")); v != "" {
		b, err := strconv.ParseBool(v)
		demo = b || err != nil // an unreadable value keeps the default; Validate reports it
	}
	fs.BoolVar(&c.Demo, "demo", demo, "seed a demo bank into an empty database (env BANKBRIDGE_DEMO)")
	size := 1000
	if v := getenv(envName("demo-customers")); v != "" {
		size, _ = strconv.Atoi(v) // 0 on error; Validate reports it
	}
	fs.IntVar(&c.DemoSize, "demo-customers", size, "customers in the demo bank (env BANKBRIDGE_DEMO_CUSTOMERS)")
	c.Shutdown = 15 * time.Second
}

// envString returns a function that registers a string flag on fs whose
// default comes from its BANKBRIDGE_* variable when that is set.
func envString(fs *flag.FlagSet, getenv func(string) string) func(p *string, name, def, help string) {
	return func(p *string, name, def, help string) {
		if v := getenv(envName(name)); v != "" {
			def = v
		}
		fs.StringVar(p, name, def, help+" (env "+envName(name)+")")
	}
}

func envName(flag string) string {
	return "BANKBRIDGE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	if c.Database != "" {
		u, err := url.Parse(c.Database)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			errs = append(errs, fmt.Errorf("--database must be empty (SQLite) or a postgres:// URL"))
		}
	} else if c.Data == "" {
		errs = append(errs, fmt.Errorf("--data must name a folder"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level must be debug, info, warn or error, not %q", c.LogLevel))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format must be text or json, not %q", c.LogFormat))
	}
	if c.Events != "" {
		if u, err := url.Parse(c.Events); err != nil || u.Scheme != "nats" || u.Host == "" {
			errs = append(errs, fmt.Errorf("--events must be empty or a nats://host:port URL"))
		}
	}
	if c.Cluster != "" {
		if err := stream.ValidCluster(c.Cluster); err != nil {
			errs = append(errs, fmt.Errorf("--cluster: %w", err))
		}
	}
	if c.Demo && (c.DemoSize < 1 || c.DemoSize > 1_000_000) {
		errs = append(errs, fmt.Errorf("--demo-customers must be between 1 and 1000000"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, fmt.Errorf("--tls-cert and --tls-key go together"))
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || u.Host == "" {
			errs = append(errs, fmt.Errorf("--public-url must be an absolute URL"))
		}
	}
	for _, w := range strings.Split(c.Witnesses, ",") {
		if w = strings.TrimSpace(w); w == "" {
			continue
		}
		if u, err := url.Parse(w); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--witness %q must be an http(s) URL of a witness", w))
		}
	}
	if len(errs) > 0 {
		return usageError{errors.Join(errs...).Error()}
	}
	return nil
}

// SQLitePath is the database file used when Database is empty.
func (c *Config) SQLitePath() string { return filepath.Join(c.Data, "bankbridge.db") }

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
		kf = filepath.Join(c.Data, kekFile)
	}
	events := c.Events
	if u, err := url.Parse(events); err == nil && u.User != nil {
		events = u.Redacted()
	}
	return slog.GroupValue(slog.String("addr", c.Addr), slog.String("database", db), slog.String("key_file", kf), slog.Bool("demo", c.Demo),
		slog.String("public_url", c.PublicURL), slog.Bool("tls", c.TLSCert != ""), slog.String("events", events), slog.String("cluster", c.Cluster), slog.String("witnesses", c.Witnesses))
}

// logger builds the process logger writing to w.
func (c *Config) logger(w io.Writer) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: lv}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// parse parses args into fs, turning flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string, c *Config) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return c.Validate()
}
