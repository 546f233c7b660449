package channels_test

import (
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/channels"
)

// TestDefaultGraphVersionIsNotNearItsExpiry fails 180 days before Meta
// stops serving the default Graph API version: time to move the default
// (and the emulators' table) to a newer one.
func TestDefaultGraphVersionIsNotNearItsExpiry(t *testing.T) {
	if left := time.Until(channels.DefaultGraphVersionExpires); left < 180*24*time.Hour {
		t.Errorf("Graph API %s expires on %s, in %v: move channels.DefaultGraphVersion to a newer version",
			channels.DefaultGraphVersion, channels.DefaultGraphVersionExpires.Format(time.DateOnly), left.Round(time.Hour))
	}
}

func TestCheckGraph(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		base, version string
		ok            bool
	}{
		{"https://graph.facebook.com", "", true},
		{"https://graph.facebook.com", "v25.0", true},
		{"http://localhost:8080/sim/graph", "v26.0", true},
		{"https://graph.facebook.com/v23.0", "", false},
		{"https://graph.facebook.com", "25.0", false},
		{"graph.facebook.com", "", false},
		{"ftp://graph.facebook.com", "", false},
	} {
		if err := channels.CheckGraph(tc.base, tc.version, "U", "V"); (err == nil) != tc.ok {
			t.Errorf("CheckGraph(%q, %q) = %v, want ok %v", tc.base, tc.version, err, tc.ok)
		}
	}
}
