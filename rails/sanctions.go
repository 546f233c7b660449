package rails

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// SampleSDN is a small sanctions list in the format of OFAC's SDN list
// (sdn.csv), with invented names, for the demo and tests. The operator
// supplies the real list (--sanctions-file).
//
//go:embed testdata/sdn_sample.csv
var SampleSDN []byte

// Screener matches names against a sanctions list. It is read-only once
// built and safe for concurrent use.
type Screener struct {
	entries []sdn
}

type sdn struct {
	num    string
	name   string
	tokens []string
}

// ParseSDN reads a list in the format of OFAC's sdn.csv: comma-separated,
// double quotes around text, no header, twelve fields per row (ent_num,
// SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage, GRT,
// Vess_flag, Vess_owner, Remarks), "-0-" for an empty field, and a final line
// holding a single control character (OFAC, "SDN List Data Formats & Data
// Schemas", https://ofac.treasury.gov/specially-designated-nationals-list-data-formats-data-schemas,
// dat_spec.txt). Individuals are "LAST, First"; entities are names as
// written. Rows of vessels and aircraft are skipped: a payee is a person or
// a firm. A malformed row is an error naming its line.
func ParseSDN(r io.Reader) (*Screener, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	s := &Screener{}
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("rails: sanctions list line %d: %w", line, err)
		}
		if len(rec) == 1 && strings.TrimSpace(strings.Trim(rec[0], "\x1a")) == "" {
			continue // the end-of-file marker
		}
		if len(rec) < 3 {
			return nil, fmt.Errorf("rails: sanctions list line %d: %d fields, want 12", line, len(rec))
		}
		kind := strings.ToLower(strings.TrimSpace(rec[2]))
		if kind == "vessel" || kind == "aircraft" {
			continue
		}
		name := strings.TrimSpace(rec[1])
		if name == "" || name == "-0-" {
			return nil, fmt.Errorf("rails: sanctions list line %d: no name", line)
		}
		// "LAST, First Middle" of an individual reads as "First Middle LAST".
		if last, first, ok := strings.Cut(name, ","); ok && kind == "individual" {
			name = strings.TrimSpace(first) + " " + strings.TrimSpace(last)
		}
		toks := tokens(name)
		if len(toks) == 0 {
			continue
		}
		s.entries = append(s.entries, sdn{num: strings.TrimSpace(rec[0]), name: name, tokens: toks})
	}
	return s, nil
}

// MustSample returns the screener of SampleSDN.
func MustSample() *Screener {
	s, err := ParseSDN(bytes.NewReader(SampleSDN))
	if err != nil {
		panic(err)
	}
	return s
}

// Len says how many names the list holds.
func (s *Screener) Len() int { return len(s.entries) }

// Hit is a name that matched the list.
type Hit struct {
	Entry string // the list's ent_num
	Name  string // the listed name
}

// Screen reports whether name matches a listed name: every word of the
// listed name is among the name's words, in any order, after folding case
// and punctuation ("Ivan PETROV" and "Petrov, Ivan A." both match "PETROV,
// Ivan"). It errs on the side of a hit: a person then looks, and a hit
// only holds the payment, never refuses it.
func (s *Screener) Screen(name string) (Hit, bool) {
	if s == nil {
		return Hit{}, false
	}
	have := map[string]bool{}
	for _, t := range tokens(name) {
		have[t] = true
	}
	for _, e := range s.entries {
		all := true
		for _, t := range e.tokens {
			if !have[t] {
				all = false
				break
			}
		}
		if all {
			return Hit{Entry: e.num, Name: e.name}, true
		}
	}
	return Hit{}, false
}

// tokens folds a name into its words: upper case, letters and digits only,
// words of one letter (initials) dropped.
func tokens(s string) []string {
	f := strings.FieldsFunc(strings.ToUpper(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	out := f[:0]
	for _, w := range f {
		if len([]rune(w)) > 1 {
			out = append(out, w)
		}
	}
	return out
}
