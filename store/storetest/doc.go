// Package storetest holds ONE conformance suite per Store interface. Every
// engine (store/sqlite, store/postgres) runs the same suite, so a behaviour
// is written down once and both engines must show it.
//
// It must never be imported by production code.
package storetest

import "testing"

// noErr ends the test at once when err is not nil: the check the suites
// make after every step that must succeed, in one line.
func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// NoErr is noErr for the engines' own tests.
func NoErr(t testing.TB, err error) {
	t.Helper()
	noErr(t, err)
}
