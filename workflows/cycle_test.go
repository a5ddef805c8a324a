package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/activities"
	"github.com/tollgate/tollgate/ledger"
	"github.com/tollgate/tollgate/payouts"
	"github.com/tollgate/tollgate/workflows"
)

func TestCycleID(t *testing.T) {
	t.Parallel()
	require.Equal(t, "cycle-c-games-20260301T0000Z", workflows.CycleID("c-games", start))
	paris := time.FixedZone("CET", 3600)
	require.Equal(t, workflows.CycleID("c", start), workflows.CycleID("c", start.In(paris)), "the same instant is the same cycle")
	require.Equal(t, "cycle-c-20260301T000005Z", workflows.CycleID("c", start.Add(5*time.Second)))
	require.NotEqual(t, workflows.CycleID("c", start), workflows.CycleID("c", start.Add(time.Minute)))
}

func TestHappyPathWithManualApproval(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("5000.00"), payouts.SimulatedOptions{PendingPolls: 2})
	f.at(time.Minute, func() {
		rec := f.status()
		require.Equal(t, workflows.StatusAwaitingApproval, rec.Status)
		require.Equal(t, "500.00", rec.Statement.Total)
		f.update(workflows.ActionApprove, approve("bob"), func(res workflows.ActionResult, err error) {
			require.NoError(t, err)
			require.Equal(t, workflows.ActionResult{Status: workflows.StatusAwaitingApproval, Approvals: 1, Required: 1}, res)
		})
	})
	res := f.run()

	require.Equal(t, workflows.StatusCompleted, res.Status)
	require.EqualValues(t, 50000, res.TotalMinor)
	require.Equal(t, tollgate.PayoutState{Status: "confirmed", Reference: "sim-000001"}, res.Payout)
	require.Equal(t, []string{
		workflows.StatusCollecting, workflows.StatusComputing, workflows.StatusAwaitingApproval,
		workflows.StatusPosting, workflows.StatusPaying, workflows.StatusCompleted,
	}, f.recorder.statuses())

	// One posting, idempotent on the cycle: the operator owes, the provider is due.
	require.Equal(t, []string{f.id + "/post/1"}, f.ledger.keys())
	require.EqualValues(t, -50000, f.ledger.balance(operator, ledger.PurposeOperatorPayable))
	require.EqualValues(t, 50000, f.ledger.balance(provider, ledger.PurposeProviderReceivable))
	// One payout, keyed by the cycle ID.
	p, ok := f.bank.Payment(f.id)
	require.True(t, ok)
	require.EqualValues(t, 50000, p.Request.Amount)
	require.Equal(t, provider, p.Request.PayeeID)
	require.Equal(t, payouts.StatusConfirmed, p.Status)
	require.Equal(t, 1, f.bank.Count())
	require.Equal(t, map[string]string{f.id: "0.00"}, f.store.completed)
	require.Empty(t, f.store.released)

	last := f.recorder.last()
	require.Equal(t, workflows.StatusCompleted, last.Status)
	require.Len(t, last.Approvals, 1)
	require.Equal(t, "bob", last.Approvals[0].Approver)
	require.Equal(t, []int64{1}, last.LedgerEntry)
	require.Contains(t, events(last), "collected")
	require.Contains(t, events(last), "paid")
	// Parties without a webhook URL are skipped, and that is recorded.
	require.Contains(t, events(last), "webhook_skipped")
}

func TestAutoApprove(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("1000.00"), payouts.SimulatedOptions{})
	res := f.run()
	require.Equal(t, workflows.StatusCompleted, res.Status)
	require.NotContains(t, f.recorder.statuses(), workflows.StatusAwaitingApproval)
	require.Contains(t, events(f.recorder.last()), "auto_approved")
	require.Equal(t, 1, f.bank.Count())
}

func TestAnomalyForcesManualApproval(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("1000.00"), payouts.SimulatedOptions{})
	f.acts.AnomalyLimits = map[tollgate.Currency]string{"EUR": "50.00"}
	f.at(time.Minute, func() {
		rec := f.status()
		require.Equal(t, workflows.StatusAwaitingApproval, rec.Status)
		require.Len(t, rec.Anomalies, 1)
		require.Contains(t, rec.Anomalies[0], activities.AnomalyAboveThreshold)
		f.mustUpdate(workflows.ActionApprove, approve("bob"))
	})
	require.Equal(t, workflows.StatusCompleted, f.run().Status)
}

func TestZeroTotalPostsAndPaysNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("0.00"), payouts.SimulatedOptions{})
	res := f.run()
	require.Equal(t, workflows.StatusCompleted, res.Status)
	require.Empty(t, f.ledger.keys())
	require.Equal(t, 0, f.bank.Count())
	require.Contains(t, events(f.recorder.last()), "post_skipped")
	require.Contains(t, f.store.completed, f.id)
}

// An approved cycle is final: a zero-total cycle whose completion parks
// cannot be cancelled (it would drop its carry), only retried.
func TestApprovedZeroTotalCannotBeCancelled(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("0.00"), payouts.SimulatedOptions{})
	f.store.failComplete = 1
	f.at(10*time.Minute, func() {
		rec := f.status()
		require.Equal(t, workflows.StatusNeedsAttention, rec.Status)
		f.refused(workflows.ActionCancel, act("ops"), "is approved; it can no longer be cancelled")
		f.mustUpdate(workflows.ActionRetry, act("ops"))
	})
	res := f.run()
	require.Equal(t, workflows.StatusCompleted, res.Status)
	require.Contains(t, f.store.completed, f.id, "the carry reached the contract")
	require.NotContains(t, f.recorder.statuses(), workflows.StatusCancelled)
}

func TestTwoApprovers(t *testing.T) {
	t.Parallel()
	snap := snapshot("5000.00")
	snap.Approval.ApprovalsRequired = 2
	f := newFixture(t, snap, payouts.SimulatedOptions{})
	f.at(time.Minute, func() {
		f.update(workflows.ActionApprove, approve("bob"), func(res workflows.ActionResult, err error) {
			require.NoError(t, err)
			require.Equal(t, 1, res.Approvals)
			require.Equal(t, 2, res.Required)
		})
	})
	f.at(2*time.Minute, func() {
		require.Equal(t, workflows.StatusAwaitingApproval, f.status().Status, "one approval of two is not enough")
		// The second approver uses the Temporal UI's signal.
		f.env.SignalWorkflow(workflows.ActionApprove, approve("carol"))
	})
	res := f.run()
	require.Equal(t, workflows.StatusCompleted, res.Status)
	last := f.recorder.last()
	require.Len(t, last.Approvals, 2)
	require.Equal(t, []string{"bob", "carol"}, []string{last.Approvals[0].Approver, last.Approvals[1].Approver})
}

func TestSelfApprovalRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("5000.00"), payouts.SimulatedOptions{})
	f.at(time.Minute, func() {
		f.refused(workflows.ActionApprove, approve(initiator), "initiated this cycle and cannot also approve it")
		f.env.SignalWorkflow(workflows.ActionApprove, approve(initiator))
	})
	f.at(2*time.Minute, func() {
		rec := f.status()
		require.Equal(t, workflows.StatusAwaitingApproval, rec.Status)
		require.Empty(t, rec.Approvals)
		require.Contains(t, eventDetail(rec, "signal_ignored"), "initiated this cycle")
		f.refused(workflows.ActionApprove, approve(""), "approver is required")
		f.mustUpdate(workflows.ActionApprove, approve("bob"))
	})
	require.Equal(t, workflows.StatusCompleted, f.run().Status)
}

func TestDuplicateApproverCountedOnce(t *testing.T) {
	t.Parallel()
	snap := snapshot("5000.00")
	snap.Approval.ApprovalsRequired = 2
	f := newFixture(t, snap, payouts.SimulatedOptions{})
	f.at(time.Minute, func() { f.mustUpdate(workflows.ActionApprove, approve("bob")) })
	f.at(2*time.Minute, func() {
		f.refused(workflows.ActionApprove, approve("bob"), "already approved")
		f.env.SignalWorkflow(workflows.ActionApprove, approve("bob"))
	})
	f.at(3*time.Minute, func() {
		rec := f.status()
		require.Equal(t, workflows.StatusAwaitingApproval, rec.Status, "bob counts once")
		require.Len(t, rec.Approvals, 1)
		require.Contains(t, eventDetail(rec, "signal_ignored"), "already approved")
		f.mustUpdate(workflows.ActionApprove, approve("carol"))
	})
	require.Equal(t, workflows.StatusCompleted, f.run().Status)
	require.Len(t, f.recorder.last().Approvals, 2)
}

func TestRejectReleasesTransactions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("5000.00"), payouts.SimulatedOptions{})
	f.at(time.Minute, func() {
		f.mustUpdate(workflows.ActionReject, workflows.Decision{Approver: "bob", Comment: "fees look wrong"})
	})

	res := f.run()
	require.Equal(t, workflows.StatusRejected, res.Status)
	require.Equal(t, []string{f.id}, f.store.released)
	require.Empty(t, f.ledger.keys())
	require.Equal(t, 0, f.bank.Count())
	require.Empty(t, f.store.completed)
	last := f.recorder.last()
	require.Equal(t, workflows.StatusRejected, last.Status)
	require.Equal(t, "reject", last.Approvals[0].Decision)
	require.Equal(t, "fees look wrong", last.Approvals[0].Comment)
}

func TestApprovalTimeoutEscalates(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("5000.00"), payouts.SimulatedOptions{})
	// Reminder after 1h, escalation after 1h+2h; approval at 3.5h.
	f.at(3*time.Hour+30*time.Minute, func() {
		rec := f.status()
		require.Equal(t, []string{"approval_reminder", "approval_escalated"}, filter(events(rec), "approval_"))
		require.Equal(t, start.Add(time.Hour), rec.Timeline[indexOf(events(rec), "approval_reminder")].At)
		require.Equal(t, start.Add(3*time.Hour), rec.Timeline[indexOf(events(rec), "approval_escalated")].At)
		f.mustUpdate(workflows.ActionApprove, approve("bob"))
	})
	require.Equal(t, workflows.StatusCompleted, f.run().Status)
}

func TestCancelWhileAwaitingApproval(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("5000.00"), payouts.SimulatedOptions{})
	f.at(time.Minute, func() {
		f.refused(workflows.ActionRetry, act("ops"), "only a cycle in needs_attention or payout_failed can be retried")
		f.mustUpdate(workflows.ActionCancel, act("ops"))
	})
	res := f.run()
	require.Equal(t, workflows.StatusCancelled, res.Status)
	require.Equal(t, []string{f.id}, f.store.released)
	require.Empty(t, f.ledger.keys())
	require.Equal(t, 0, f.bank.Count())
}

func filter(ss []string, prefix string) []string {
	var out []string
	for _, s := range ss {
		if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
			out = append(out, s)
		}
	}
	return out
}

func indexOf(ss []string, s string) int {
	for i, v := range ss {
		if v == s {
			return i
		}
	}
	return -1
}
