package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/activities"
	"github.com/tollgate/tollgate/ledger"
	"github.com/tollgate/tollgate/payouts"
	"github.com/tollgate/tollgate/workflows"
)

func TestGracePeriodDelaysCloseAndLocksRates(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("1000.00"), payouts.SimulatedOptions{})
	var cutoff time.Time
	f.env.OnActivity(workflows.ActivityComputeStatement, mock.Anything, mock.Anything).Return(
		func(_ context.Context, req activities.ComputeRequest) (activities.ComputeResult, error) {
			cutoff = req.Cutoff
			return activities.ComputeResult{Statement: tollgate.Statement{Currency: "EUR", Total: "0.00", CarryOut: "0.00"}}, nil
		})
	f.env.ExecuteWorkflow(workflows.SettlementCycle, workflows.CycleInput{ContractID: contract, PeriodEnd: start, InitiatedBy: initiator, GracePeriod: time.Hour})
	require.NoError(t, f.env.GetWorkflowError())
	rec := f.recorder.last()
	require.Equal(t, start.Add(time.Hour), rec.Timeline[indexOf(events(rec), "closed")].At, "the period closes after the grace period")
	require.Equal(t, start.Add(time.Hour), cutoff)
}

func TestNegativeTotalBooksTheMirrorAndPaysNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("1000.00"), payouts.SimulatedOptions{})
	f.env.OnActivity(workflows.ActivityComputeStatement, mock.Anything, mock.Anything).Return(activities.ComputeResult{
		Statement: tollgate.Statement{Currency: "EUR", Total: "-5.00", CarryOut: "0.00"}, TotalMinor: -500, AutoApproveLimitMinor: 10000,
	}, nil)
	f.at(time.Minute, func() {
		rec := f.status()
		require.Equal(t, workflows.StatusAwaitingApproval, rec.Status, "a negative total is flagged")
		require.Contains(t, rec.Anomalies[0], activities.AnomalyNegativeTotal)
		f.mustUpdate(workflows.ActionApprove, approve("bob"))
	})
	res := f.run()
	require.Equal(t, workflows.StatusCompleted, res.Status)
	require.EqualValues(t, 500, f.ledger.balance(operator, ledger.PurposeOperatorPayable))
	require.EqualValues(t, -500, f.ledger.balance(provider, ledger.PurposeProviderReceivable))
	require.Equal(t, 0, f.bank.Count())
	require.Contains(t, events(f.recorder.last()), "payout_skipped")
}

func TestWorkflowCancellationBeforePostingReleases(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("5000.00"), payouts.SimulatedOptions{})
	f.at(time.Minute, func() { f.env.CancelWorkflow() })
	f.env.ExecuteWorkflow(workflows.SettlementCycle, workflows.CycleInput{ContractID: contract, PeriodEnd: start, InitiatedBy: initiator})
	require.True(t, f.env.IsWorkflowCompleted())
	var res workflows.CycleResult
	require.NoError(t, f.env.GetWorkflowResult(&res))
	require.Equal(t, workflows.StatusCancelled, res.Status)
	require.Equal(t, []string{f.id}, f.store.released)
	require.Equal(t, workflows.StatusCancelled, f.recorder.last().Status)
}

func TestSignalsFromTheUIForOperatorActions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("1000.00"), payouts.SimulatedOptions{})
	f.store.failClose = true
	f.at(10*time.Minute, func() {
		f.env.SignalWorkflow(workflows.ActionSkip, act("ops")) // close is not skippable
		f.env.SignalWorkflow(workflows.ActionRetry, act(""))   // no actor
	})
	f.at(11*time.Minute, func() {
		rec := f.status()
		require.Equal(t, workflows.StatusNeedsAttention, rec.Status)
		require.Equal(t, 2, count(events(rec), "signal_ignored"))
		f.store.setFailClose(false)
		f.env.SignalWorkflow(workflows.ActionRetry, act("ops"))
	})
	require.Equal(t, workflows.StatusCompleted, f.run().Status)
}

func TestFailedPostingCannotBeCancelled(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("1000.00"), payouts.SimulatedOptions{})
	f.env.OnActivity(workflows.ActivityPostStatement, mock.Anything, mock.Anything).
		Return(activities.PostResult{}, temporal.NewApplicationError("connection reset after commit?", tollgate.ErrTypeUnavailable)).Times(5)
	f.env.OnActivity(workflows.ActivityPostStatement, mock.Anything, mock.Anything).Return(activities.PostResult{EntryID: 42}, nil).Once()
	f.at(10*time.Minute, func() {
		require.Equal(t, workflows.StatusNeedsAttention, f.status().Status)
		// The posting may have committed before the failure: releasing the
		// transactions now could settle them twice.
		f.refused(workflows.ActionCancel, act("ops"), "can no longer be cancelled")
		f.mustUpdate(workflows.ActionRetry, act("ops"))
	})
	res := f.run()
	require.Equal(t, workflows.StatusCompleted, res.Status)
	require.Equal(t, []int64{42}, res.LedgerEntries)
	require.Empty(t, f.store.released)
}

func TestWorkflowCancellationAfterApprovalFinishesTheMoneySteps(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("5000.00"), payouts.SimulatedOptions{PendingPolls: 5})
	f.at(time.Minute, func() { f.mustUpdate(workflows.ActionApprove, approve("bob")) })
	f.at(time.Minute+300*time.Millisecond, func() {
		require.Equal(t, workflows.StatusPaying, f.status().Status)
		f.env.CancelWorkflow()
	})
	res := f.run()
	require.Equal(t, workflows.StatusCompleted, res.Status, "a payout in flight is seen through, never abandoned")
	require.Equal(t, 1, f.bank.Count())
	require.Empty(t, f.store.released)
	require.Contains(t, f.store.completed, f.id)
	// Two notices (statement ready, paid) for each of two parties, all
	// handled (skipped: the fixture's parties have no webhook URL).
	require.Equal(t, 4, count(events(f.recorder.last()), "webhook_skipped"))
}
