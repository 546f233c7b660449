package problem

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/bankbridge/bankbridge"
)

// Details is an RFC 9457 problem details object with bankbridge's extension
// members: a stable machine code, the request id, and per-field errors.
type Details struct {
	Type      string                  `json:"type"`
	Title     string                  `json:"title"`
	Status    int                     `json:"status"`
	Detail    string                  `json:"detail,omitempty"`
	Instance  string                  `json:"instance,omitempty"`
	Code      string                  `json:"code"`
	RequestID string                  `json:"request_id,omitempty"`
	Errors    []bankbridge.FieldError `json:"errors,omitempty"`
}

// Status maps each Kind to its one HTTP status.
func Status(k bankbridge.Kind) int {
	switch k {
	case bankbridge.Invalid:
		return http.StatusBadRequest
	case bankbridge.Unauthenticated:
		return http.StatusUnauthorized
	case bankbridge.Forbidden:
		return http.StatusForbidden
	case bankbridge.NotFound:
		return http.StatusNotFound
	case bankbridge.Conflict:
		return http.StatusConflict
	case bankbridge.Unprocessable:
		return http.StatusUnprocessableEntity
	case bankbridge.TooManyRequests:
		return http.StatusTooManyRequests
	case bankbridge.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// TypeURI is the documented type of a code: a page bankbridge serves.
func TypeURI(code string) string { return "/problems#" + code }

// From builds the problem details for err as seen by request r.
func From(r *http.Request, err error) Details {
	kind := bankbridge.ErrorKind(err)
	d := Details{
		Status:    Status(kind),
		Code:      bankbridge.ErrorCode(err),
		Detail:    bankbridge.ErrorMessage(err),
		RequestID: bankbridge.RequestID(r.Context()),
		Instance:  r.URL.Path,
	}
	if kind == bankbridge.Internal {
		d.Code = "internal"
	}
	d.Type = TypeURI(d.Code)
	d.Title = http.StatusText(d.Status)
	var e *bankbridge.Error
	if kind != bankbridge.Internal && errors.As(err, &e) {
		d.Errors = e.Fields
	}
	return d
}

// Write renders err as application/problem+json. A Retry-After hint is added
// for 429 and 503 when the caller set none.
func Write(w http.ResponseWriter, r *http.Request, err error) {
	d := From(r, err)
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	if (d.Status == http.StatusTooManyRequests || d.Status == http.StatusServiceUnavailable) && h.Get("Retry-After") == "" {
		h.Set("Retry-After", strconv.Itoa(1))
	}
	w.WriteHeader(d.Status)
	_ = json.NewEncoder(w).Encode(d)
}
