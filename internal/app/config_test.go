package app

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

// loadServe loads serve's configuration from env and args as serveCmd does.
func loadServe(env map[string]string, args ...string) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	getenv := func(k string) string { return env[k] }
	c.Flags(fs, getenv)
	c.ServerFlags(fs, getenv)
	err := Parse(fs, args, &c)
	return c, err
}

// TestConfigDrainAndGrace: the rolling-restart timings come from flags or
// BANKBRIDGE_DRAIN / BANKBRIDGE_SHUTDOWN_GRACE, with working defaults.
func TestConfigDrainAndGrace(t *testing.T) {
	t.Parallel()
	c, err := loadServe(nil)
	if err != nil || c.Drain != 5*time.Second || c.Shutdown != 15*time.Second {
		t.Errorf("defaults: drain %s, grace %s, %v", c.Drain, c.Shutdown, err)
	}
	c, err = loadServe(map[string]string{"BANKBRIDGE_DRAIN": "0s", "BANKBRIDGE_SHUTDOWN_GRACE": "40s"}, "--drain", "2s")
	if err != nil || c.Drain != 2*time.Second || c.Shutdown != 40*time.Second {
		t.Errorf("from env and flag: drain %s, grace %s, %v", c.Drain, c.Shutdown, err)
	}
}

func TestConfigDemo(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		env  string // BANKBRIDGE_DEMO; "" unset
		args []string
		want bool
	}{
		{"OnByDefault", "", nil, true},
		{"OffInWords", "false", nil, false},
		{"OffAsZero", "0", nil, false},
		{"OffInCapitals", "FALSE", nil, false},
		{"OnAsOne", "1", nil, true},
		{"OnInWords", "true", nil, true},
		{"FlagOverridesVariable", "true", []string{"--demo=false"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			if c.env != "" {
				env["BANKBRIDGE_DEMO"] = c.env
			}
			got, err := loadServe(env, c.args...)
			if err != nil {
				t.Fatal(err)
			}
			if got.Demo != c.want {
				t.Errorf("Demo = %v, want %v", got.Demo, c.want)
			}
		})
	}
}

// TestConfigRefusesWhatItCannotParse checks that a value that does not
// parse is an error naming its variable and flag, never a default or a
// yes, and that every problem is reported at once.
func TestConfigRefusesWhatItCannotParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want []string // each must appear in the one error
	}{
		{"MisspeltDemo", map[string]string{"BANKBRIDGE_DEMO": "nope"}, nil,
			[]string{`BANKBRIDGE_DEMO="nope"`, "--demo"}},
		{"YesIsNotABoolean", map[string]string{"BANKBRIDGE_DEMO": "yes"}, nil,
			[]string{`BANKBRIDGE_DEMO="yes"`}},
		{"BadVariableEvenWhenTheFlagIsGiven", map[string]string{"BANKBRIDGE_DEMO": "nope"}, []string{"--demo=false"},
			[]string{`BANKBRIDGE_DEMO="nope"`}},
		{"DemoCustomersNotANumber", map[string]string{"BANKBRIDGE_DEMO_CUSTOMERS": "lots"}, nil,
			[]string{`BANKBRIDGE_DEMO_CUSTOMERS="lots"`, "--demo-customers"}},
		{"EveryProblemAtOnce", map[string]string{"BANKBRIDGE_DEMO": "nope", "BANKBRIDGE_DEMO_CUSTOMERS": "1e3", "BANKBRIDGE_LOG_LEVEL": "loud", "BANKBRIDGE_EVENTS": "http://x"}, nil,
			[]string{"BANKBRIDGE_DEMO=", "BANKBRIDGE_DEMO_CUSTOMERS=", "--log-level", "--events"}},
		{"BadFlagReportedWithBadVariables", map[string]string{"BANKBRIDGE_DEMO_CUSTOMERS": "ten"}, []string{"--demo=maybe"},
			[]string{"--demo", "maybe", `BANKBRIDGE_DEMO_CUSTOMERS="ten"`}},
		{"BadStringValueNamesItsVariable", map[string]string{"BANKBRIDGE_LOG_FORMAT": "xml"}, nil,
			[]string{"BANKBRIDGE_LOG_FORMAT", "--log-format"}},
		{"DemoCustomersOutOfRange", map[string]string{"BANKBRIDGE_DEMO_CUSTOMERS": "0"}, nil,
			[]string{"--demo-customers (env BANKBRIDGE_DEMO_CUSTOMERS) must be between"}},
		{"DrainNotADuration", map[string]string{"BANKBRIDGE_DRAIN": "5"}, nil,
			[]string{`BANKBRIDGE_DRAIN="5" is not a duration`, "--drain"}},
		{"ShutdownGraceNotADuration", map[string]string{"BANKBRIDGE_SHUTDOWN_GRACE": "soon"}, nil,
			[]string{`BANKBRIDGE_SHUTDOWN_GRACE="soon"`, "--shutdown-grace"}},
		{"NegativeDrain", nil, []string{"--drain", "-1s"},
			[]string{"--drain (env BANKBRIDGE_DRAIN) must be from 0 to 10m"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadServe(c.env, c.args...)
			if err == nil {
				t.Fatal("accepted")
			}
			if _, ok := err.(UsageError); !ok {
				t.Errorf("error %T is not a usage error (exit status 2)", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestConfigTimeZone: the bank's time zone comes from --time-zone or
// BANKBRIDGE_TIME_ZONE, UTC by default; a name that is no IANA zone is
// refused at start, naming the flag.
func TestConfigTimeZone(t *testing.T) {
	t.Parallel()
	c, err := loadServe(nil)
	if err != nil || c.Location() != time.UTC {
		t.Errorf("default: %v, %v", c.Location(), err)
	}
	c, err = loadServe(map[string]string{"BANKBRIDGE_TIME_ZONE": "America/New_York"})
	if err != nil || c.Location().String() != "America/New_York" {
		t.Errorf("from env: %v, %v", c.Location(), err)
	}
	if _, err := loadServe(nil, "--time-zone", "Mars/Olympus_Mons"); err == nil || !strings.Contains(err.Error(), "--time-zone") {
		t.Errorf("not a zone: %v", err)
	}
}
