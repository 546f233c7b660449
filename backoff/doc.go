// Package backoff is the one schedule of waits between retries, for every
// package that retries: exponential from a base, capped, with jitter, and
// a sleep that gives up with its context.
//
// It sits beside the root package, importing only the standard library, so
// that any layer may use it. It must never retry by itself: callers own
// their loops, and their bound on attempts (DESIGN.md: retries are
// bounded, then Unavailable). Known limits: the jitter is from
// math/rand/v2, not reproducible by seed.
package backoff
