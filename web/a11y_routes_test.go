package web_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// a11yNotScanned are the GET routes the accessibility scan leaves out, each
// with why: they answer no HTML page of their own.
var a11yNotScanned = map[string]string{
	"GET /static/":                         "stylesheets and images",
	"GET /{$}":                             "a redirect to /accounts or /login",
	"GET /console":                         "a redirect to /console/",
	"GET /language":                        "sets the language and redirects back",
	"GET /privacy/disclosures.csv":         "a CSV download",
	"GET /privacy/disclosures.json":        "a JSON download",
	"GET /accounts/{id}/statements/{file}": "a PDF or CSV statement",
	"GET /console/audit.csv":               "a CSV download",
	"GET /console/audit.json":              "a JSON download",
	"GET /console/performance.csv":         "a CSV download",
	"GET /console/insights.csv":            "a CSV download",
}

// getRouteRe finds the GET routes the app registers on its mux.
var getRouteRe = regexp.MustCompile(`mux\.Handle(?:Func)?\("(GET /[^"]*)"`)

// appGetRoutes returns every GET pattern registered in the package's
// sources (web/routes.go and the files whose route functions it calls).
func appGetRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range getRouteRe.FindAllStringSubmatch(string(src), -1) {
			out = append(out, m[1])
		}
	}
	if len(out) < 40 || !strings.Contains(strings.Join(out, "\n"), "GET /accounts/{id}") {
		t.Fatalf("found only %d GET routes: %q", len(out), out)
	}
	sort.Strings(out)
	return out
}

// routeMatcher is the regexp of a net/http pattern's path ("GET /a/{id}"):
// a wildcard is one segment, {x...} the rest, {$} the end, and a pattern
// ending in / any path below it.
func routeMatcher(pattern string) *regexp.Regexp {
	path := strings.TrimPrefix(pattern, "GET ")
	end := "$"
	switch {
	case strings.HasSuffix(path, "/{$}"):
		path = strings.TrimSuffix(path, "{$}")
	case strings.HasSuffix(path, "/"):
		end = ""
	}
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		switch {
		case strings.HasSuffix(seg, "...}"):
			segs[i] = ".*"
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}"):
			segs[i] = "[^/]+"
		default:
			segs[i] = regexp.QuoteMeta(seg)
		}
	}
	return regexp.MustCompile("^" + strings.Join(segs, "/") + end)
}

// a11yErrorPages are the plan's pages that show an error on purpose, with
// its status.
var a11yErrorPages = map[string]int{
	"/nowhere":               http.StatusNotFound,   // the not-found page
	"/console/customers?q=e": http.StatusBadRequest, // a search too short: the form and its error
}

// TestAccessibilityScanCoversEveryPage holds TestBrowserAccessibility's
// plan to the app's routes: every GET route the app registers is scanned
// by at least one page of the plan, unless a11yNotScanned says why not.
// Each page of the plan is also fetched here, as its person, and must
// show the page (200), or a refusal for a role that may not see it (403):
// a page that answers 404 for want of a fixture would be scanned empty.
func TestAccessibilityScanCoversEveryPage(t *testing.T) {
	t.Parallel()
	routes := appGetRoutes(t)
	for p := range a11yNotScanned {
		if !strings.Contains("\n"+strings.Join(routes, "\n")+"\n", "\n"+p+"\n") {
			t.Errorf("a11yNotScanned names %q, which is no route of the app", p)
		}
	}
	sc := newA11yScan(t)
	var paths []string
	for _, who := range sc.plan {
		for _, p := range who.Pages {
			u, err := url.Parse(p)
			if err != nil {
				t.Fatal(err)
			}
			paths = append(paths, u.Path)
		}
	}
	for _, r := range routes {
		if _, ok := a11yNotScanned[r]; ok {
			continue
		}
		re := routeMatcher(r)
		found := false
		for _, p := range paths {
			if re.MatchString(p) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s is scanned by no page of TestBrowserAccessibility's plan: add a page (and what it shows) or say in a11yNotScanned why not", r)
		}
	}

	// Each page, as its person: the page itself, not a 404 for want of a
	// fixture (a11yErrorPages aside).
	sessions := map[string]*browser{}
	for _, who := range sc.plan {
		k := who.Realm + " " + who.Email
		br := sessions[k]
		if br == nil {
			br = sc.ab.browser()
			switch who.Realm {
			case "customer":
				br.login("", who.Email)
			case "staff":
				br.login("/console", who.Email)
			}
			sessions[k] = br
		}
		for _, p := range who.Pages {
			got := br.get(p).status
			switch {
			case got == http.StatusForbidden && who.Realm == "staff":
			case a11yErrorPages[p] != 0:
				if got != a11yErrorPages[p] {
					t.Errorf("%s %s: status %d, want %d", who.Name, p, got, a11yErrorPages[p])
				}
			case got == http.StatusOK:
			default:
				t.Errorf("%s %s: status %d, want 200 (or 403 for a role refused)", who.Name, p, got)
			}
		}
	}
}
