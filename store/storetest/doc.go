// Package storetest holds ONE conformance suite per Store interface. Every
// engine (store/sqlite, store/postgres) runs the same suite, so a behaviour
// is written down once and both engines must show it.
//
// It must never be imported by production code.
package storetest
