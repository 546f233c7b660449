package legible

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Hidden reports whether r is never allowed in text for people, whatever
// surrounds it: a control character other than tab, line feed and carriage
// return (those are for multi-line fields; single-line fields refuse them
// on their own), DEL, a format character (Unicode category Cf) other than
// the two joiners, or one of the letters that draw nothing.
//
// Cf is the category of the bidirectional embeddings, overrides and
// isolates (U+202A-202E, U+2066-2069, U+200E/F, U+061C), the zero-width
// space U+200B, the word joiner and invisible operators (U+2060-2064), the
// byte-order mark U+FEFF, the soft hyphen U+00AD and the tag characters
// (U+E0000-E007F, which also smuggle hidden instructions to language
// models). None of them is needed to write a name or a note in any
// language; the joiners are, and Joiner decides where.
func Hidden(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case r == zwj || r == zwnj:
		return false // decided by their neighbours: see Joiner
	case unicode.IsControl(r), unicode.Is(unicode.Cf, r):
		return true
	case r == utf8.RuneError:
		return true // invalid UTF-8 (or a literal U+FFFD, which hides what was there)
	}
	return blank[r]
}

const (
	zwnj = '\u200C' // ZERO WIDTH NON-JOINER
	zwj  = '\u200D' // ZERO WIDTH JOINER
)

// blank are letters (category Lo) and symbols that draw nothing and are
// used to fake empty or identical names: the Hangul fillers, the Braille
// blank and the Khmer inherent vowels.
var blank = map[rune]bool{
	'\u115F': true, '\u1160': true, '\u3164': true, '\uFFA0': true, // Hangul fillers
	'\u2800': true,                 // BRAILLE PATTERN BLANK
	'\u17B4': true, '\u17B5': true, // KHMER VOWEL INHERENT AQ/AA
}

// Joiner reports whether the joiner at s[i:] is where a language needs it;
// s[i:] must start with U+200C or U+200D.
//
// The zero width joiner (U+200D) is kept between two pictographs (an emoji
// family or profession is three emoji glued by it; a skin tone or the
// emoji presentation selector may come before it), and between two letters
// of one script other than Latin (Devanagari, Malayalam and Sinhala
// conjuncts are spelled with it). The zero width non-joiner (U+200C) is
// kept between two letters of one script other than Latin: Persian and
// Kurdish words and several Indic scripts are spelled with it. Anywhere
// else a joiner changes nothing a reader can see and only makes two
// strings that look alike compare unequal ("Sam" and "Sa\u200Dm"), so it
// is refused.
func Joiner(s string, i int) bool {
	r, n := utf8.DecodeRuneInString(s[i:])
	before, _ := utf8.DecodeLastRuneInString(s[:i])
	after, _ := utf8.DecodeRuneInString(s[i+n:])
	if r == zwj && pictograph(before) && pictograph(after) {
		return true
	}
	return sameScriptLetters(before, after)
}

// pictograph is an emoji that may be joined: a symbol (So), a skin-tone
// modifier (Sk) or the emoji presentation selector U+FE0F after one.
func pictograph(r rune) bool {
	return r > 0x2000 && (unicode.Is(unicode.So, r) || unicode.Is(unicode.Sk, r) || r == '\uFE0F')
}

// sameScriptLetters reports whether a and b are letters or marks of one
// script that is not Latin (nor Common, where digits and punctuation are).
func sameScriptLetters(a, b rune) bool {
	if !(unicode.IsLetter(a) || unicode.IsMark(a)) || !(unicode.IsLetter(b) || unicode.IsMark(b)) {
		return false
	}
	for _, t := range []*unicode.RangeTable{unicode.Arabic, unicode.Devanagari, unicode.Bengali, unicode.Gurmukhi,
		unicode.Gujarati, unicode.Oriya, unicode.Tamil, unicode.Telugu, unicode.Kannada, unicode.Malayalam,
		unicode.Sinhala, unicode.Syriac} {
		if unicode.Is(t, a) && unicode.Is(t, b) {
			return true
		}
	}
	return false
}

// Find returns the byte offset and the rune of the first character of s a
// reader would not see, or -1 if there is none. Invalid UTF-8 counts as
// such a character (reported as U+FFFD).
func Find(s string) (int, rune) {
	for i, r := range s {
		if Hidden(r) || ((r == zwj || r == zwnj) && !Joiner(s, i)) {
			return i, r
		}
	}
	return -1, 0
}

// Check returns nil if s has no character a reader would not see, or an
// *Error naming the first one, for the caller to show against its field.
func Check(s string) error {
	i, r := Find(s)
	if i < 0 {
		return nil
	}
	return &Error{Offset: i, Rune: r}
}

// Clean returns s without the characters a reader would not see, for text
// the bank must answer rather than refuse (a chat message from a platform).
// Invalid UTF-8 is dropped too. Clean(s) == s exactly when Check(s) == nil.
func Clean(s string) string {
	if Check(s) == nil {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		if Hidden(r) || ((r == zwj || r == zwnj) && !Joiner(s, i)) {
			continue
		}
		b.WriteRune(r)
	}
	// Removing a character can make a joiner lose the neighbours it was
	// kept for ("a\u200B\u200Db"): clean again until nothing changes.
	out := b.String()
	if out != s {
		return Clean(out)
	}
	return out
}

// Error is text refused for a character a reader would not see.
type Error struct {
	Offset int  // byte offset in the text
	Rune   rune // the character; U+FFFD for invalid UTF-8
}

// Error is a message fit for the person who typed the text: it names the
// character by its code point, which is what they need to find it.
func (e *Error) Error() string {
	return fmt.Sprintf("contains an invisible or direction-changing character (U+%04X) that could make it read as something else; remove it", e.Rune)
}
