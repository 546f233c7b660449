// Package problem renders errors as RFC 9457 problem details
// (application/problem+json). Write is the one place an error becomes an HTTP
// response for the JSON edges: the status comes from the error's Kind, the
// detail only from its safe message, and anything untyped is a 500 that says
// "internal error" and is logged by the caller's middleware, never shown.
//
// It must never import a capability package: it knows bankbridge.Error only.
// OAuth endpoints keep RFC 6749's error shape and do not use it.
package problem
