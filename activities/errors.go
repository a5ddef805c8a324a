package activities

import (
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/tollgate/tollgate"
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
		return temporal.NewNonRetryableApplicationError(err.Error(), tollgate.ErrTypeInvalid, err)
	case tollgate.CodeConflict:
		return temporal.NewNonRetryableApplicationError(err.Error(), tollgate.ErrTypeConflict, err)
	case tollgate.CodeNotFound:
		return temporal.NewNonRetryableApplicationError(err.Error(), tollgate.ErrTypeNotFound, err)
	case tollgate.CodeUnavailable:
		return temporal.NewApplicationError(err.Error(), tollgate.ErrTypeUnavailable, err)
	default:
		return temporal.NewApplicationError(err.Error(), tollgate.ErrTypeInternal, err)
	}
}
