package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/settlement"
)

// ComputeRequest is the input of ComputeStatement.
type ComputeRequest struct {
	Snapshot tollgate.CycleSnapshot
	// Cutoff locks FX: only rates with as_of <= Cutoff are used.
	Cutoff time.Time
}

// ComputeResult is the statement with its total in minor units, the form
// the workflow compares and the ledger posts.
type ComputeResult struct {
	Statement  tollgate.Statement
	TotalMinor int64
	// AutoApproveLimitMinor is the contract's auto-approval limit in minor
	// units, so the workflow compares integers instead of doing money
	// arithmetic.
	AutoApproveLimitMinor int64
}

// ComputeStatement applies the settlement rules to the closed period with
// the rates in force at the cutoff. A missing rate is not retried: the cycle
// parks until someone adds the rate.
func (a *Activities) ComputeStatement(ctx context.Context, req ComputeRequest) (ComputeResult, error) {
	snap := req.Snapshot
	rates := map[tollgate.Currency]tollgate.Rate{}
	if bases := snap.Period().RateBases(); len(bases) > 0 {
		var err error
		if rates, err = a.Cycles.RatesAt(ctx, snap.Currency, bases, req.Cutoff); err != nil {
			return ComputeResult{}, classify(err)
		}
	}
	return compute(snap, rates, req.Cutoff)
}

// compute is the pure part of ComputeStatement.
func compute(snap tollgate.CycleSnapshot, rates map[tollgate.Currency]tollgate.Rate, cutoff time.Time) (ComputeResult, error) {
	st, err := settlement.ComputePeriod(snap.Period(), rates, cutoff)
	if errors.Is(err, settlement.ErrMissingRate) {
		return ComputeResult{}, temporal.NewNonRetryableApplicationError(err.Error(), tollgate.ErrTypeMissingRate, err)
	}
	if err != nil {
		return ComputeResult{}, classify(err)
	}
	total, err := st.TotalMinorUnits()
	if err != nil {
		return ComputeResult{}, classify(err)
	}
	limit, err := snap.Approval.Limit(snap.Currency)
	if err != nil {
		return ComputeResult{}, classify(err)
	}
	limitMinor, err := tollgate.MinorUnits(limit, snap.Currency)
	if err != nil {
		return ComputeResult{}, classify(err)
	}
	return ComputeResult{Statement: st, TotalMinor: total, AutoApproveLimitMinor: limitMinor}, nil
}
