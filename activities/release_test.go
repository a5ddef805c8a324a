package activities

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
)

type releaseRecorder struct{ cycle, contract string }

func (r *releaseRecorder) CloseCycle(context.Context, tollgate.CloseRequest) (tollgate.CycleSnapshot, error) {
	return tollgate.CycleSnapshot{}, nil
}
func (r *releaseRecorder) ReleaseCycle(_ context.Context, cycleID, contractID string) error {
	r.cycle, r.contract = cycleID, contractID
	return nil
}
func (r *releaseRecorder) CompleteCycle(context.Context, string, string) error { return nil }
func (r *releaseRecorder) RatesAt(context.Context, tollgate.Currency, []tollgate.Currency, time.Time) (map[tollgate.Currency]tollgate.Rate, error) {
	return nil, nil
}

// A release scheduled before ReleaseRequest carried the contract still
// takes the contract's lock: the contract is read back from the cycle ID.
func TestReleaseDerivesContractFromOldRequests(t *testing.T) {
	t.Parallel()
	r := &releaseRecorder{}
	a := &Activities{Cycles: r}
	require.NoError(t, a.ReleaseCycle(t.Context(), ReleaseRequest{CycleID: "cycle-c-games-eu-20260301T0000Z"}))
	require.Equal(t, "c-games-eu", r.contract)
	require.NoError(t, a.ReleaseCycle(t.Context(), ReleaseRequest{CycleID: "cycle-x-20260301T0000Z", ContractID: "given"}))
	require.Equal(t, "given", r.contract)
}
