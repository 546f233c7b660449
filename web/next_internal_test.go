package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// NextForm is one post-login destination an attacker might write, as the
// server receives it (after the query's own decoding), and whether it is a
// path on this site that safeNext keeps. TestBrowserNext takes the same
// list to a real browser.
type NextForm struct {
	Name string `json:"name"`
	Next string `json:"next"`
	Kept bool   `json:"kept"`
}

// NextForms are the tricky forms: each refused one is read as another
// origin by some browser or parser, or decodes to one.
var NextForms = []NextForm{
	{"SchemeRelative", "//evil.example/x", false},
	{"TripleSlash", "///evil.example/x", false},
	{"BackslashAfterSlash", "/\\evil.example/x", false},
	{"SlashBackslashSlash", "/\\/evil.example/x", false},
	{"TwoBackslashes", "\\\\evil.example/x", false},
	{"TabBetweenSlashes", "/\t/evil.example/x", false},
	{"NewlineBetweenSlashes", "/\n/evil.example/x", false},
	{"CarriageReturnBetweenSlashes", "/\r/evil.example/x", false},
	{"LeadingTab", "\t//evil.example/x", false},
	{"LeadingSpace", " //evil.example/x", false},
	{"TrailingSpaceAfterScheme", "https://evil.example/ ", false},
	{"NULBetweenSlashes", "/\x00/evil.example/x", false},
	{"VerticalTab", "/\x0b/evil.example/x", false},
	{"FormFeed", "/\x0c/evil.example/x", false},
	{"DEL", "/\x7f/evil.example/x", false},
	{"NextLineC1", "/\u0085/evil.example/x", false},
	{"ZeroWidthSpace", "/\u200b/evil.example/x", false},
	{"RightToLeftOverride", "/\u202e/evil.example/x", false},
	{"ByteOrderMarkFirst", "\ufeff//evil.example/x", false},
	{"IdeographicSpace", "/\u3000/evil.example/x", false},
	{"FullwidthSolidus", "/\uff0fevil.example/x", false},
	{"DivisionSlash", "/\u2215evil.example/x", false},
	{"HTTPS", "https://evil.example/x", false},
	{"UpperCaseScheme", "HTTPS://evil.example/x", false},
	{"SchemeWithoutSlashes", "http:evil.example/x", false},
	{"JavaScript", "javascript:alert(1)", false},
	{"Data", "data:text/html,<h1>x</h1>", false},
	{"NoLeadingSlash", "evil.example/x", false},
	{"DotRelative", "./x", false},
	{"DotSlashSlash", "/.//evil.example/x", false},
	{"EncodedTab", "/%09/evil.example/x", false},
	{"EncodedSlash", "/%2F/evil.example/x", false},
	{"EncodedBackslash", "/%5Cevil.example/x", false},
	{"EncodedNewline", "/%0A/evil.example/x", false},
	{"BadEscape", "/%zz/x", false},
	{"Empty", "", false},
	{"TooLong", "/" + strings.Repeat("a", 600), false},
	// Kept: paths on this site, however they look.
	{"Accounts", "/accounts", true},
	{"PathQueryFragment", "/accounts/12?tab=history#top", true},
	{"ConsentWithEncodedRequest", "/consent?request=urn%3Aexample%3Aabc", true},
	{"AtSignIsAPath", "/@evil.example", true},
	{"HostLookingPath", "/evil.example/x", true},
	{"SlashesInQuery", "/accounts?next=//evil.example", true},
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	const home = "/accounts"
	for _, tt := range NextForms {
		t.Run(tt.Name, func(t *testing.T) {
			t.Parallel()
			got := safeNext(tt.Next, home)
			want := home
			if tt.Kept {
				want = tt.Next
			}
			if got != want {
				t.Fatalf("safeNext(%q) = %q, want %q", tt.Next, got, want)
			}
			// What the login handler then answers must lead to this site,
			// as Go's URL parser resolves it (the browser test checks
			// Chromium's reading).
			w := httptest.NewRecorder()
			http.Redirect(w, httptest.NewRequest("POST", "https://bank.example/login", nil), got, http.StatusSeeOther)
			base, _ := url.Parse("https://bank.example/login")
			loc, err := base.Parse(w.Header().Get("Location"))
			if err != nil || loc.Host != "bank.example" || loc.Scheme != "https" {
				t.Fatalf("Location %q leads to %v (%v)", w.Header().Get("Location"), loc, err)
			}
		})
	}
}

// FuzzSafeNext: whatever the input, the destination kept is a path that
// Go resolves on this site, and is either the input or home.
func FuzzSafeNext(f *testing.F) {
	for _, tt := range NextForms {
		f.Add(tt.Next)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next, "/home")
		if got != next && got != "/home" {
			t.Fatalf("safeNext(%q) = %q", next, got)
		}
		base, _ := url.Parse("https://bank.example/login")
		loc, err := base.Parse(got)
		if err != nil || loc.Host != "bank.example" || strings.ContainsAny(got, "\t\n\r\\") || strings.HasPrefix(got, "//") {
			t.Fatalf("safeNext(%q) = %q leads to %v (%v)", next, got, loc, err)
		}
	})
}
