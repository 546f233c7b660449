// Package legible keeps text that reaches people reading as it is: it finds
// the characters that change how text looks without being seen themselves
// (bidirectional overrides and isolates, zero-width spaces, word joiners,
// the byte-order mark, tag characters, invisible fillers) and the control
// characters, so that every edge refuses or removes them with one rule.
// Transfer notes, names, payees, chat messages and staff replies all pass
// through Check (refuse, for forms and APIs that can tell the sender) or
// Clean (remove, for chat text the bank answers whatever it holds).
//
// It sits beside the root package and imports only the standard library,
// so that every layer may use it. It must never rewrite visible text
// (no normalisation, no case folding): it only refuses or removes what
// cannot be seen. Known limits: it does not catch look-alike letters from
// other scripts (homoglyphs, "Ѕam" with a Cyrillic S); that needs a
// confusables table and a policy per field.
package legible
