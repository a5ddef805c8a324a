package activities

import (
	"context"
	"strings"

	"github.com/tollgate/tollgate"
)

// ReleaseRequest is the input of ReleaseCycle.
type ReleaseRequest struct {
	CycleID string
	// ContractID lets the release take the contract lock, so it serialises
	// with a close of the same cycle still in flight. Empty in histories
	// recorded before it existed; the release then runs without the lock.
	ContractID string
}

// CompleteRequest is the input of CompleteCycle.
type CompleteRequest struct {
	CycleID  string
	CarryOut string // decimal string in the settlement currency, <= 0
}

// RecordRequest is the input of RecordCycle.
type RecordRequest struct {
	Record tollgate.CycleRecord
}

// CloseCycle closes the cycle's period and returns its snapshot; the store
// makes it idempotent on the cycle ID.
func (a *Activities) CloseCycle(ctx context.Context, req tollgate.CloseRequest) (tollgate.CycleSnapshot, error) {
	snap, err := a.Cycles.CloseCycle(ctx, req)
	return snap, classify(err)
}

// ReleaseCycle hands the cycle's transactions to the next cycle.
func (a *Activities) ReleaseCycle(ctx context.Context, req ReleaseRequest) error {
	contractID := req.ContractID
	if contractID == "" {
		// Scheduled before the request carried it: the cycle ID is
		// "cycle-<contract>-<period end>" and the period end has no '-'.
		if rest, ok := strings.CutPrefix(req.CycleID, "cycle-"); ok {
			if i := strings.LastIndexByte(rest, '-'); i > 0 {
				contractID = rest[:i]
			}
		}
	}
	return classify(a.Cycles.ReleaseCycle(ctx, req.CycleID, contractID))
}

// CompleteCycle marks the cycle's transactions settled and stores its carry.
func (a *Activities) CompleteCycle(ctx context.Context, req CompleteRequest) error {
	return classify(a.Cycles.CompleteCycle(ctx, req.CycleID, req.CarryOut))
}

// RecordCycle upserts the cycle's read model.
func (a *Activities) RecordCycle(ctx context.Context, req RecordRequest) error {
	return classify(a.Recorder.RecordCycle(ctx, req.Record))
}
