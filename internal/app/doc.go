// Package app is bankbridge's wiring, shared by the commands that run it:
// the configuration (flags and BANKBRIDGE_* variables, validated at once),
// the storage backend the configuration selects, the partner-facing
// services (consent with its audit hooks, the authorization server, the
// data API), the messenger channel, and the HTTP surface with its metrics.
// cmd/bankbridge runs it as the product; cmd/bankbridge-bench measures the
// same wiring, so a benchmark never measures a copy.
//
// It must never import a test-support package (a *test package or
// testing): the production binary links it. It builds; it does not run
// anything in the background, which is the commands' to own and stop.
package app
