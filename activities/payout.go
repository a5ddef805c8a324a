package activities

import (
	"context"

	"go.temporal.io/sdk/temporal"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/payouts"
)

// PayoutRequest is the input of InitiatePayout.
type PayoutRequest struct {
	Adapter        string
	IdempotencyKey string
	PayeeID        string
	AmountMinor    int64
	Currency       tollgate.Currency
	Options        map[string]string
}

// PayoutInitiated is the adapter's reference for the payout.
type PayoutInitiated struct {
	Reference string
}

// PayoutStatusRequest is the input of AwaitPayout.
type PayoutStatusRequest struct {
	Adapter   string
	Reference string
}

// PayoutConfirmed reports the confirmed payout.
type PayoutConfirmed struct {
	Reference string
}

// InitiatePayout instructs the payout through the contract's adapter.
// Transient failures are retried with the same key; a definitive refusal is
// tollgate.ErrTypePayoutDeclined so the cycle compensates.
func (a *Activities) InitiatePayout(ctx context.Context, req PayoutRequest) (PayoutInitiated, error) {
	ad, err := a.Payouts.Get(req.Adapter)
	if err != nil {
		// No adapter can pay this: a definitive refusal, so the cycle
		// reverses its posting and waits in payout_failed for an operator
		// instead of holding a posted but unpayable statement.
		return PayoutInitiated{}, temporal.NewNonRetryableApplicationError(err.Error(), tollgate.ErrTypePayoutDeclined, err)
	}
	ref, err := ad.Initiate(ctx, payouts.Request{
		IdempotencyKey: req.IdempotencyKey, PayeeID: req.PayeeID,
		Amount: req.AmountMinor, Currency: req.Currency, Options: req.Options,
	})
	if err != nil {
		return PayoutInitiated{}, payoutError(err)
	}
	return PayoutInitiated{Reference: ref}, nil
}

// AwaitPayout polls the payout once. Pending is a retryable error, so the
// activity's retry policy is the polling schedule and a long wait costs no
// workflow history.
func (a *Activities) AwaitPayout(ctx context.Context, req PayoutStatusRequest) (PayoutConfirmed, error) {
	ad, err := a.Payouts.Get(req.Adapter)
	if err != nil {
		return PayoutConfirmed{}, classify(err)
	}
	res, err := ad.Status(ctx, req.Reference)
	if err != nil {
		return PayoutConfirmed{}, payoutError(err)
	}
	switch res.Status {
	case payouts.StatusConfirmed:
		return PayoutConfirmed{Reference: req.Reference}, nil
	case payouts.StatusFailed:
		msg := "payout " + req.Reference + " failed: " + res.Reason
		return PayoutConfirmed{}, temporal.NewNonRetryableApplicationError(msg, tollgate.ErrTypePayoutDeclined, nil)
	default:
		return PayoutConfirmed{}, temporal.NewApplicationError("payout "+req.Reference+" is still pending", tollgate.ErrTypePayoutPending)
	}
}

// payoutError keeps transient adapter failures retryable and turns every
// definitive one into the single type the workflow compensates on.
func payoutError(err error) error {
	if payouts.IsTransient(err) {
		return classify(err)
	}
	return temporal.NewNonRetryableApplicationError(err.Error(), tollgate.ErrTypePayoutDeclined, err)
}
