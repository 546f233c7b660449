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

// statuses is the one table of Kind to HTTP status (STYLE.md, Errors).
// Every edge reads it through Status: the problem+json APIs and the web
// pages alike, so a Kind cannot answer one status here and another there.
var statuses = [...]int{
	bankbridge.Internal:        http.StatusInternalServerError,
	bankbridge.Invalid:         http.StatusBadRequest,
	bankbridge.Unauthenticated: http.StatusUnauthorized,
	bankbridge.Forbidden:       http.StatusForbidden,
	bankbridge.NotFound:        http.StatusNotFound,
	bankbridge.Conflict:        http.StatusConflict,
	bankbridge.Unprocessable:   http.StatusUnprocessableEntity,
	bankbridge.TooManyRequests: http.StatusTooManyRequests,
	bankbridge.Unavailable:     http.StatusServiceUnavailable,
}

// Status maps each Kind to its one HTTP status; a Kind missing from the
// table is a fault of ours, 500.
func Status(k bankbridge.Kind) int {
	if int(k) < len(statuses) && statuses[k] != 0 {
		return statuses[k]
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
