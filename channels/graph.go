package channels

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"time"
)

// Meta's Graph API, which Messenger's Send API and WhatsApp's Cloud API
// both are, is called at a version in the path
// (https://graph.facebook.com/<version>/...). Each version is served for
// at least two years, then expires, and calls at it fail
// (https://developers.facebook.com/docs/graph-api/guides/versioning,
// "Version Schedules"). The two adapters take the version as a setting
// whose default is here, once.

// DefaultGraphURL is the Graph API's host.
const DefaultGraphURL = "https://graph.facebook.com"

// DefaultGraphVersion is the version the bank calls unless told
// otherwise, and DefaultGraphVersionExpires the day Meta stops serving it
// (https://developers.facebook.com/docs/graph-api/changelog/versions,
// "Graph API": v25.0 released 2026-02-18, expiring 2028-07-29; v26.0
// released 2026-07-29, expiry not yet set). v19.0, which Messenger used
// before, expired on 2026-05-21; v23.0, WhatsApp's before, expires on
// 2027-10-08. TestDefaultGraphVersionIsNotNearItsExpiry fails 180 days
// before the day, so that the default moves on in time.
const DefaultGraphVersion = "v25.0"

// DefaultGraphVersionExpires is when DefaultGraphVersion expires.
var DefaultGraphVersionExpires = time.Date(2028, 7, 29, 0, 0, 0, 0, time.UTC)

var graphVersion = regexp.MustCompile(`^v[1-9][0-9]*\.[0-9]+$`)

// CheckGraph checks a Graph API base URL (without a version) and a
// version ("v25.0", or empty for the default); urlSetting and
// versionSetting name the settings in the error
// ("BANKBRIDGE_MESSENGER_GRAPH_URL", "BANKBRIDGE_MESSENGER_GRAPH_VERSION").
func CheckGraph(base, version, urlSetting, versionSetting string) error {
	if u, err := url.Parse(base); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%s=%q is not an http(s) URL", urlSetting, base)
	} else if last := path.Base(u.Path); graphVersion.MatchString(last) {
		return fmt.Errorf("%s=%q names a Graph API version (%s): give the URL without it, and the version in %s (default %s)", urlSetting, base, last, versionSetting, DefaultGraphVersion)
	}
	if version != "" && !graphVersion.MatchString(version) {
		return fmt.Errorf("%s=%q is not a Graph API version of the form %s", versionSetting, version, DefaultGraphVersion)
	}
	return nil
}
