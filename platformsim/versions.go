package platformsim

import (
	"net/http"
	"time"
)

// graphVersions are the Graph API versions Meta lists, with the day each
// stops being served (https://developers.facebook.com/docs/graph-api/changelog/versions,
// "Graph API"; the zero time is "TBD"). Older ones than listed here are
// long gone and refused as unknown.
var graphVersions = map[string]time.Time{
	"v26.0": {},
	"v25.0": day(2028, 7, 29),
	"v24.0": day(2028, 2, 18),
	"v23.0": day(2027, 10, 8),
	"v22.0": day(2027, 5, 20),
	"v21.0": day(2027, 1, 21),
	"v20.0": day(2026, 9, 24),
	"v19.0": day(2026, 5, 21),
	"v18.0": day(2026, 1, 26),
	"v17.0": day(2025, 9, 12),
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// LatestGraphVersion is the newest version the sim serves.
const LatestGraphVersion = "v26.0"

// version refuses a Graph API call at a version that is unknown or past
// its expiry at the sim's clock. Meta stops serving a version on its
// expiry date (https://developers.facebook.com/docs/graph-api/guides/versioning,
// "Version Schedules": each version is available for at least two years,
// then expires); the sim answers such a call with an OAuthException (code
// 100, an unsupported request), so that a bank still pinned to it fails in
// tests rather than in production.
func (s *Sim) version(r *http.Request) *graphError {
	if msg := versionRefusal(r.PathValue("version"), s.o.Now()); msg != "" {
		return gerr(http.StatusBadRequest, 100, 0, "(#100) "+msg)
	}
	return nil
}

// versionRefusal says why a Graph API call at version v is refused at
// now, or "" when the version is served: the one table for both Meta
// emulators (Messenger's Send API, WhatsApp's Cloud API).
func versionRefusal(v string, now time.Time) string {
	until, ok := graphVersions[v]
	if !ok {
		return "Unknown Graph API version " + v + "."
	}
	if !until.IsZero() && !now.Before(until) {
		return "Graph API " + v + " expired on " + until.Format("2006-01-02") + "; call a supported version such as " + LatestGraphVersion + "."
	}
	return ""
}

// GraphVersionExpires is the day the emulators stop serving Graph API
// version v (zero: not listed, or no day set yet).
func GraphVersionExpires(v string) time.Time { return graphVersions[v] }
