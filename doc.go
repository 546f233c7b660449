// Package bankbridge holds the vocabulary every other package shares and
// nothing else: the Error type with its Kind and stable code, and the typed
// helpers that carry the acting party through a context.
//
// It must never import another bankbridge package, a driver or net/http;
// everything points down to it. See docs/architecture.md for the map.
package bankbridge
