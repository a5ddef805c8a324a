package activities

import (
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/tollgate/tollgate"
)

// Error types carried in temporal.ApplicationError. Workflows match on these
// strings; never rename one.
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

// classify maps a domain error to a Temporal application error by explicit
// code, deciding once whether it is worth retrying.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return err
	}
	switch tollgate.ErrorCode(err) {
	case tollgate.CodeInvalid:
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalid, err)
	case tollgate.CodeConflict:
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeConflict, err)
	case tollgate.CodeNotFound:
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeNotFound, err)
	case tollgate.CodeUnavailable:
		return temporal.NewApplicationError(err.Error(), ErrTypeUnavailable, err)
	default:
		return temporal.NewApplicationError(err.Error(), ErrTypeInternal, err)
	}
}
