package tollgate

import (
	"errors"
	"fmt"
)

// Code classifies an application error. The HTTP layer maps each code to a
// status and a stable problem type in exactly one place; activities map them
// to retryable or non-retryable Temporal errors in exactly one place.
type Code string

const (
	CodeInvalid      Code = "invalid"      // the input is malformed or breaks a rule
	CodeNotFound     Code = "not_found"    // the named object does not exist
	CodeConflict     Code = "conflict"     // the request contradicts existing state
	CodeUnauthorized Code = "unauthorized" // no or bad credentials
	CodeForbidden    Code = "forbidden"    // credentials lack the right
	CodeUnavailable  Code = "unavailable"  // a dependency is down; retry later
	CodeInternal     Code = "internal"     // a bug or an unexpected failure
	CodeRateLimited  Code = "rate_limited" // too many requests
	CodeTooLarge     Code = "too_large"    // the body or batch is over the limit
)

// Error is the one application error type.
type Error struct {
	Code    Code
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an application error with a formatted message.
func Errorf(code Code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches a code and message to an underlying error.
func Wrap(code Code, err error, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode reports the code of the first application error in err's chain,
// or CodeInternal when there is none.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// Error types carried in Temporal application errors between activities,
// workflows and the API (Update refusals). They are wire names: never rename
// one.
const (
	ErrTypeInvalid     = "Invalid"     // bad input: retrying cannot help
	ErrTypeConflict    = "Conflict"    // contradicts stored state: retrying cannot help
	ErrTypeNotFound    = "NotFound"    // referenced object missing: retrying cannot help
	ErrTypeUnavailable = "Unavailable" // dependency down: retry
	ErrTypeInternal    = "Internal"    // unexpected: retry, then park the cycle

	// ErrTypeMissingRate: the statement needs an FX rate that does not
	// exist yet; an operator adds it and retries.
	ErrTypeMissingRate = "MissingRate"
	// ErrTypePayoutDeclined: the payout adapter refused or failed the
	// payout for good; the cycle compensates.
	ErrTypePayoutDeclined = "PayoutDeclined"
	// ErrTypePayoutPending: the payout is not confirmed yet; the activity
	// is retried, which is how confirmation is polled.
	ErrTypePayoutPending = "PayoutPending"
)
