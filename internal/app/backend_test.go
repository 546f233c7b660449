package app

import (
	"runtime"
	"testing"
)

// TestTuneProcs: two Ps per CPU on SQLite only, and never over the
// operator's GOMAXPROCS. Not parallel: it sets the process's GOMAXPROCS.
func TestTuneProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "GOMAXPROCS" {
				return v
			}
			return ""
		}
	}
	for _, c := range []struct {
		engine, env string
		want        int
	}{
		{"postgres", "", procsBase},
		{"sqlite", "3", procsBase},
		{"sqlite", "", 2 * procsBase},
	} {
		runtime.GOMAXPROCS(procsBase)
		(&Backend{Engine: c.engine}).TuneProcs(env(c.env))
		if got := runtime.GOMAXPROCS(0); got != c.want {
			t.Errorf("%s, GOMAXPROCS=%q: %d Ps, want %d", c.engine, c.env, got, c.want)
		}
	}
}
