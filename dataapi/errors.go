package dataapi

import (
	"net/http"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/problem"
	"github.com/bankbridge/bankbridge/rails"
)

// The data API's errors. Every error answer is application/problem+json
// (RFC 9457) with one of these stable codes, except 401, which keeps the
// RFC 6750/9449 challenge (WWW-Authenticate and {error, error_description})
// so that OAuth client libraries understand it.
var (
	errNotFound       = bankbridge.E(bankbridge.NotFound, "not_found", "no such resource, or not one this consent covers")
	errParam          = bankbridge.E(bankbridge.Invalid, "invalid_parameter", "a query parameter is missing, repeated or not valid")
	errPageKey        = bankbridge.E(bankbridge.Invalid, "page_key_invalid", "the pageKey is not one this API gave for this account; start again without it")
	errTimeRange      = bankbridge.E(bankbridge.Invalid, "time_range_invalid", "startTime must be before endTime and within the consent's look-back period")
	errBodyTooLarge   = bankbridge.E(bankbridge.Invalid, "body_too_large", "the request body is larger than 16 KiB")
	errContentType    = bankbridge.E(bankbridge.Invalid, "content_type_unsupported", "send the body as application/json")
	errBody           = bankbridge.E(bankbridge.Invalid, "body_invalid", "the body is not valid JSON of the documented shape (unknown fields are refused)")
	errIdemKey        = bankbridge.E(bankbridge.Invalid, "idempotency_key_required", "send an Idempotency-Key header of 1 to 64 letters, digits, '-' or '_'")
	errKeyReused      = bankbridge.E(bankbridge.Conflict, "idempotency_key_reused", "this Idempotency-Key was used for a different request")
	errCurrency       = bankbridge.E(bankbridge.Invalid, "currency_mismatch", "the payment's currency is not the account's")
	errSameAccount    = bankbridge.E(bankbridge.Invalid, "same_account", "a payment cannot go to the account it leaves")
	errRevoked        = bankbridge.E(bankbridge.Conflict, "consent_already_revoked", "the consent is already revoked or expired")
	errRateLimited    = bankbridge.E(bankbridge.TooManyRequests, "rate_limited", "too many requests; retry after the time in Retry-After")
	errCallback       = bankbridge.E(bankbridge.Invalid, "callback_url_invalid", "the callbackUrl must be an absolute https URL without credentials or fragment")
	errTooManySubs    = bankbridge.E(bankbridge.Conflict, "subscription_limit_reached", "a partner may have at most 5 notification subscriptions")
	errAuditDown      = audit.ErrClosed // audit_unavailable: nothing is disclosed unlogged
	errInternalOfCode = bankbridge.E(bankbridge.Internal, "internal", "internal error")
)

// Catalog lists every problem code the data API answers with, and its
// status: the OpenAPI document's Problem.code enum must equal it (a test
// keeps them so).
var Catalog = map[string]int{
	"not_found":                http.StatusNotFound,
	"invalid_parameter":        http.StatusBadRequest,
	"page_key_invalid":         http.StatusBadRequest,
	"time_range_invalid":       http.StatusBadRequest,
	"body_too_large":           http.StatusBadRequest,
	"content_type_unsupported": http.StatusBadRequest,
	"body_invalid":             http.StatusBadRequest,
	"idempotency_key_required": http.StatusBadRequest,
	"idempotency_key_reused":   http.StatusConflict,
	// The payment limits' refusals (package limits), the same on every channel.
	"daily_limit_exceeded":       http.StatusUnprocessableEntity,
	"payee_limit_exceeded":       http.StatusUnprocessableEntity,
	"new_payee_limit_exceeded":   http.StatusUnprocessableEntity,
	"currency_mismatch":          http.StatusBadRequest,
	"same_account":               http.StatusBadRequest,
	"consent_already_revoked":    http.StatusConflict,
	"rate_limited":               http.StatusTooManyRequests,
	"callback_url_invalid":       http.StatusBadRequest,
	"subscription_limit_reached": http.StatusConflict,
	"audit_unavailable":          http.StatusServiceUnavailable,
	"ledger_busy":                http.StatusServiceUnavailable,
	"internal":                   http.StatusInternalServerError,
	// The amount parser's codes (ledger.ParseAmount).
	"amount_invalid":      http.StatusBadRequest,
	"amount_not_positive": http.StatusBadRequest,
	"amount_too_precise":  http.StatusBadRequest,
	"amount_too_large":    http.StatusBadRequest,
	// A collection from a payee the bank has not verified (a prenote):
	// NACHA's account validation for WEB debits (rails.ErrNotValidated).
	"payee_not_verified": http.StatusUnprocessableEntity,
}

// PaymentFailureReasons are the codes a FAILED payment's reason may hold.
var PaymentFailureReasons = []string{
	ledger.ErrInsufficientFunds.Code, ledger.ErrAccountFrozen.Code, ledger.ErrAccountClosed.Code,
	ledger.ErrCurrencyMismatch.Code, ledger.ErrOverflow.Code, "declined_by_customer", "confirmation_expired",
	// A limit reached between the payment's creation and its transfer,
	// by the customer's payments on other channels or instances.
	limits.ErrDaily.Code, limits.ErrPayee.Code, limits.ErrNewPayee.Code, limits.ErrStepUp.Code,
	// A payment to another bank: refused by the rails (the payee's account
	// failed verification, a network's own limit, the other bank rejected
	// an instant payment).
	rails.ErrPayeeFailed.Code, rails.ErrSameDayLimit.Code, rails.ErrInstantLimit.Code, "payment_refused",
	// A collection whose payee is no longer verified when it is confirmed.
	rails.ErrNotValidated.Code,
}

// fail answers err as problem+json, keeping only the codes of the catalog:
// anything else a capability returns becomes not_found (when it says
// NotFound: absent and forbidden look the same), or internal.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := bankbridge.ErrorCode(err)
	if _, ok := Catalog[code]; !ok || bankbridge.ErrorKind(err) == bankbridge.Internal {
		switch bankbridge.ErrorKind(err) {
		case bankbridge.NotFound:
			err = errNotFound
		case bankbridge.Unavailable:
			err = ledger.ErrBusy.WithOp("dataapi", err)
		default:
			s.log.ErrorContext(r.Context(), "dataapi: internal error", "request_id", bankbridge.RequestID(r.Context()),
				"method", r.Method, "path", r.URL.Path, "err", err)
			err = errInternalOfCode
		}
	}
	problem.Write(w, r, err)
}
