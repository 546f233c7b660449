package bankbridge

import (
	"context"
	"errors"
	"fmt"
)

// Kind classifies an error by what a client can do about it. Each Kind maps to
// one HTTP status at the edge (see problem.Status).
type Kind uint8

// The kinds of error. The zero value is Internal so that an error nobody
// classified is never mistaken for the client's fault.
const (
	Internal        Kind = iota // a fault of ours; 500; the message is never shown
	Invalid                     // the request is malformed or breaks a rule; 400
	Unauthenticated             // who is calling is unknown; 401
	Forbidden                   // the caller may not do this; 403
	NotFound                    // no such thing, or not one the caller may see; 404
	Conflict                    // the state forbids it (replay with another body, frozen account); 409
	TooManyRequests             // slow down; 429
	Unavailable                 // try again later; 503
	Unprocessable               // well formed but refused by a business rule (insufficient funds); 422
)

var kindNames = [...]string{"internal", "invalid", "unauthenticated", "forbidden", "not_found", "conflict", "too_many_requests", "unavailable", "unprocessable"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Error is an error a client can act on: a Kind, a stable machine Code, and a
// Message safe to show to the user. Codes are declared where the error arises
// (ledger.ErrInsufficientFunds); the ones partners can receive are listed,
// with their status, in dataapi.Catalog, which a test keeps equal to the
// OpenAPI document. Op names the operation that failed and Err keeps the
// internal cause, which is logged but never shown.
type Error struct {
	Kind    Kind
	Code    string // stable, snake_case; partner-facing ones are in dataapi.Catalog
	Message string // safe for the end user
	Op      string // e.g. "ledger.Transfer"
	Err     error  // internal cause, may be nil
	// Fields lists per-field validation problems, rendered as JSON pointers.
	Fields []FieldError
}

// FieldError is one invalid input field, named by a JSON pointer (RFC 6901).
type FieldError struct {
	Pointer string `json:"pointer"`
	Detail  string `json:"detail"`
}

func (e *Error) Error() string {
	s := e.Code
	if e.Op != "" {
		s = e.Op + ": " + s
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports a match on Code, so that errors.Is(err, ledger.ErrInsufficientFunds)
// holds for any Error carrying that code, whatever its Op or cause.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code != "" && t.Code == e.Code
}

// E builds an Error. It is a small convenience so call sites read as one line.
func E(kind Kind, code, msg string) *Error { return &Error{Kind: kind, Code: code, Message: msg} }

// WithOp returns a copy of e naming the operation and the internal cause.
func (e *Error) WithOp(op string, cause error) *Error {
	c := *e
	c.Op, c.Err = op, cause
	return &c
}

// ErrorKind returns the Kind of the first *Error in err's chain, or Internal.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// ErrorCode returns the code of the first *Error in err's chain, or "internal".
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code
	}
	return "internal"
}

// ErrorMessage returns the message safe to show for err: the first *Error's
// Message, or "internal error" for anything untyped.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Kind != Internal && e.Message != "" {
		return e.Message
	}
	return "internal error"
}

// CustomerID identifies a customer of the bank. It is internal: partners see
// opaque per-partner identifiers instead.
type CustomerID int64

// StaffID identifies a member of bank staff.
type StaffID int64

// Actor is who is acting in a request: a customer, a member of staff, a partner
// or the system itself.
type Actor struct {
	Kind     ActorKind
	Customer CustomerID
	Staff    StaffID
	Partner  string
}

// ActorKind says which field of Actor is meaningful.
type ActorKind uint8

// The kinds of actor.
const (
	ActorSystem ActorKind = iota
	ActorCustomer
	ActorStaff
	ActorPartner
)

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx; the system actor when there is none.
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	return a
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request id used in logs and problems.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id in ctx, or "".
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey{}).(string)
	return s
}

// WithMessage returns a copy of e with a more specific safe message; the code,
// and so errors.Is, stay the same.
func (e *Error) WithMessage(msg string) *Error {
	c := *e
	c.Message = msg
	return &c
}
