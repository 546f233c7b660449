package legible_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bankbridge/bankbridge/legible"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		bad  rune // 0: accepted
	}{
		{"AcceptsPlainNote", "Rent for March", 0},
		{"AcceptsAccentsAndOtherScripts", "Zoë Ångström, Ωμέγα, 山田太郎, محمد", 0},
		{"AcceptsRightToLeftTextWithoutControls", "שלום עולם", 0},
		{"AcceptsMultiLineWithTab", "line one\n\tline two\r\n", 0},
		{"AcceptsEmojiFamilyJoinedByZWJ", "👨\u200D👩\u200D👧", 0},
		{"AcceptsZWJAfterSkinTone", "👩🏽\u200D💻", 0},
		{"AcceptsZWJAfterPresentationSelector", "🏳\uFE0F\u200D🌈", 0},
		{"AcceptsPersianZWNJ", "می\u200Cخواهم", 0},
		{"AcceptsDevanagariZWJ", "क्\u200Dष", 0},
		{"RefusesRightToLeftOverride", "invoice\u202Efdp.exe", '\u202E'},
		{"RefusesLeftToRightOverride", "\u202DSam", '\u202D'},
		{"RefusesEmbeddings", "a\u202Ab\u202Bc\u202Cd", '\u202A'},
		{"RefusesIsolates", "Sam\u2066Smith\u2069", '\u2066'},
		{"RefusesFirstStrongIsolate", "\u2068x", '\u2068'},
		{"RefusesDirectionMarks", "Sam\u200F", '\u200F'},
		{"RefusesLeftToRightMark", "\u200ESam", '\u200E'},
		{"RefusesArabicLetterMark", "x\u061Cy", '\u061C'},
		{"RefusesZeroWidthSpace", "Sa\u200Bm", '\u200B'},
		{"RefusesZWJBetweenLatinLetters", "Sa\u200Dm", '\u200D'},
		{"RefusesZWNJBetweenLatinLetters", "Sa\u200Cm", '\u200C'},
		{"RefusesLeadingZWJ", "\u200DSam", '\u200D'},
		{"RefusesTrailingZWNJ", "Sam\u200C", '\u200C'},
		{"RefusesZWJBetweenScripts", "क\u200Dm", '\u200D'},
		{"RefusesByteOrderMark", "\uFEFFSam", '\uFEFF'},
		{"RefusesWordJoiner", "Sam\u2060Smith", '\u2060'},
		{"RefusesInvisibleOperators", "1\u20622", '\u2062'},
		{"RefusesInvisiblePlus", "1\u20642", '\u2064'},
		{"RefusesSoftHyphen", "Pay\u00ADPal", '\u00AD'},
		{"RefusesTagCharacters", "hi\U000E0041\U000E0042", '\U000E0041'},
		{"RefusesMongolianVowelSeparator", "a\u180Eb", '\u180E'},
		{"RefusesHangulFiller", "\u3164", '\u3164'},
		{"RefusesBrailleBlank", "Sam\u2800", '\u2800'},
		{"RefusesNUL", "a\x00b", 0},
		{"RefusesEscape", "a\x1b[31mred", 0x1b},
		{"RefusesDEL", "a\x7fb", 0x7f},
		{"RefusesC1Control", "a\u0085b", '\u0085'},
		{"RefusesInvalidUTF8", "a\xffb", utf8.RuneError},
		{"RefusesReplacementCharacter", "a\uFFFDb", utf8.RuneError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := legible.Check(tt.in)
			if tt.bad == 0 && tt.name[:7] == "Accepts" {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want nil", tt.in, err)
				}
				if got := legible.Clean(tt.in); got != tt.in {
					t.Errorf("Clean(%q) = %q, want it unchanged", tt.in, got)
				}
				return
			}
			var le *legible.Error
			if !errors.As(err, &le) {
				t.Fatalf("Check(%q) = %v, want *legible.Error", tt.in, err)
			}
			if tt.bad != 0 && le.Rune != tt.bad {
				t.Errorf("Check(%q) names U+%04X, want U+%04X", tt.in, le.Rune, tt.bad)
			}
			if !strings.Contains(err.Error(), "U+") {
				t.Errorf("message %q does not name the character", err)
			}
			if c := legible.Clean(tt.in); legible.Check(c) != nil || c == tt.in {
				t.Errorf("Clean(%q) = %q: still refused or unchanged", tt.in, c)
			}
		})
	}
}

func TestCleanKeepsVisibleText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"invoice\u202Efdp.exe":         "invoicefdp.exe",
		"S\u200Ba\u200Dm\uFEFF":        "Sam",
		"\u2066Pay Sam 20\u2069":       "Pay Sam 20",
		"a\u200B\u200Db":               "ab", // the joiner loses its reason once its neighbour goes
		"👨\u200D👩 and \u202Ebad\u202C": "👨\u200D👩 and bad",
	} {
		if got := legible.Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzClean holds the package's promises for any input: Clean's output
// passes Check, is valid UTF-8, never grows, is unchanged by a second
// Clean, and equals the input exactly when Check accepts the input.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "Sam", "invoice\u202Efdp", "👨\u200D👩\u200D👧", "می\u200Cخواهم", "a\xffb", "a\u200B\u200Db", "\U000E0041"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := legible.Clean(s)
		if err := legible.Check(c); err != nil {
			t.Fatalf("Check(Clean(%q)) = %v", s, err)
		}
		if !utf8.ValidString(c) {
			t.Fatalf("Clean(%q) = %q: invalid UTF-8", s, c)
		}
		if len(c) > len(s) {
			t.Fatalf("Clean(%q) grew to %q", s, c)
		}
		if legible.Clean(c) != c {
			t.Fatalf("Clean is not idempotent on %q", s)
		}
		if (legible.Check(s) == nil) != (c == s) {
			t.Fatalf("Check(%q) = %v but Clean changed it to %q", s, legible.Check(s), c)
		}
	})
}
