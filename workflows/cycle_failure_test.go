package workflows_test

import (
	"net/http"
	"net/http/httptest"
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

func TestTransientPayoutFailureThenSuccess(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("1000.00"), payouts.SimulatedOptions{TransientFailures: 3, PendingPolls: 3})
	res := f.run()
	require.Equal(t, workflows.StatusCompleted, res.Status)
	require.Equal(t, 1, f.bank.Count())
	p, _ := f.bank.Payment(f.id)
	require.Equal(t, payouts.StatusConfirmed, p.Status)
	require.Equal(t, 4, p.Polls, "three pending polls, then confirmed")
	require.NotContains(t, f.recorder.statuses(), workflows.StatusNeedsAttention, "transient failures are retried quietly")
}

func TestDefinitivePayoutFailureCompensatesThenRetry(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("1000.00"), payouts.SimulatedOptions{})
	f.bank.Decline(f.id, "beneficiary account closed")
	f.at(time.Hour, func() {
		rec := f.status()
		require.Equal(t, workflows.StatusPayoutFailed, rec.Status)
		require.Contains(t, rec.Error, "beneficiary account closed")
		require.Equal(t, "failed", rec.Payout.Status)
		// The posting is undone while the cycle waits.
		require.Equal(t, []string{f.id + "/post/1", f.id + "/reverse/1"}, f.ledger.keys())
		require.Zero(t, f.ledger.balance(provider, ledger.PurposeProviderReceivable))
		f.refused(workflows.ActionSkip, act("ops"), "can be skipped")
		f.mustUpdate(workflows.ActionRetry, act("ops"))
	})
	res := f.run()
	require.Equal(t, workflows.StatusCompleted, res.Status)
	require.Equal(t, []string{f.id + "/post/1", f.id + "/reverse/1", f.id + "/post/2"}, f.ledger.keys())
	require.EqualValues(t, 10000, f.ledger.balance(provider, ledger.PurposeProviderReceivable))
	require.EqualValues(t, -10000, f.ledger.balance(operator, ledger.PurposeOperatorPayable))
	// The declined key paid nothing; the retry paid once under a new key.
	_, ok := f.bank.Payment(f.id)
	require.False(t, ok)
	p, ok := f.bank.Payment(f.id + "-2")
	require.True(t, ok)
	require.Equal(t, payouts.StatusConfirmed, p.Status)
	require.Equal(t, 1, f.bank.Count())
	require.Equal(t, []int64{1, 2, 3}, res.LedgerEntries)
	require.Equal(t, []string{
		workflows.StatusCollecting, workflows.StatusComputing, workflows.StatusPosting, workflows.StatusPaying,
		workflows.StatusPayoutFailed, workflows.StatusPosting, workflows.StatusPaying, workflows.StatusCompleted,
	}, f.recorder.statuses())
}

func TestPayoutReturnedThenCancel(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("1000.00"), payouts.SimulatedOptions{PendingPolls: 1})
	f.bank = payouts.NewSimulated(payouts.SimulatedOptions{ReturnedKeys: map[string]string{f.id: "returned by the payee's bank"}})
	f.acts.Payouts[payouts.SimulatedName] = f.bank
	f.at(time.Hour, func() {
		require.Equal(t, workflows.StatusPayoutFailed, f.status().Status)
		f.mustUpdate(workflows.ActionCancel, act("ops"))
	})
	res := f.run()
	require.Equal(t, workflows.StatusCancelled, res.Status)
	require.Equal(t, []string{f.id}, f.store.released)
	require.Zero(t, f.ledger.balance(provider, ledger.PurposeProviderReceivable))
	require.Empty(t, f.store.completed)
}

func TestNeedsAttentionThenRetry(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("1000.00"), payouts.SimulatedOptions{})
	f.store.failClose = true
	f.at(10*time.Minute, func() {
		rec := f.status()
		require.Equal(t, workflows.StatusNeedsAttention, rec.Status)
		require.Contains(t, rec.Error, "close: database is down")
		f.refused(workflows.ActionSkip, act("ops"), "can be skipped")
		f.refused(workflows.ActionRetry, act(""), "actor is required")
		f.store.setFailClose(false)
		f.mustUpdate(workflows.ActionRetry, act("ops"))
	})
	res := f.run()
	require.Equal(t, workflows.StatusCompleted, res.Status)
	require.Equal(t, []string{
		workflows.StatusCollecting, workflows.StatusNeedsAttention, workflows.StatusCollecting,
		workflows.StatusComputing, workflows.StatusPosting, workflows.StatusPaying, workflows.StatusCompleted,
	}, f.recorder.statuses())
	require.Equal(t, "", f.recorder.last().Error)
}

func TestMissingRateParksUntilRateAdded(t *testing.T) {
	t.Parallel()
	snap := snapshot("800.00")
	snap.Totals = append(snap.Totals, tollgate.Totals{Currency: "USD", Charges: 1, ChargeSum: dec("200.00"), Count: 1})
	f := newFixture(t, snap, payouts.SimulatedOptions{})
	f.at(time.Hour, func() {
		rec := f.status()
		require.Equal(t, workflows.StatusNeedsAttention, rec.Status)
		require.Contains(t, rec.Error, "compute:")
		require.Contains(t, rec.Error, "fx rate missing")
		f.store.setRate("USD", tollgate.Rate{Rate: dec("0.5"), AsOf: start.Add(-time.Hour), Source: "ecb"})
		f.mustUpdate(workflows.ActionRetry, act("ops"))
	})
	res := f.run()
	require.Equal(t, workflows.StatusCompleted, res.Status)
	// (800 + 200 × 0.5) × 10% = 90.00, and the rate is on the statement.
	require.Equal(t, "90.00", res.Statement.Total)
	require.Len(t, res.Statement.FX, 1)
}

func TestSkipFailedCheckForcesManualApproval(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("1000.00"), payouts.SimulatedOptions{})
	f.env.OnActivity(workflows.ActivityCheckAnomalies, mock.Anything, mock.Anything).
		Return(activities.CheckResult{}, temporal.NewNonRetryableApplicationError("detector crashed", tollgate.ErrTypeInternal, nil))
	f.at(time.Minute, func() {
		require.Equal(t, workflows.StatusNeedsAttention, f.status().Status)
		f.mustUpdate(workflows.ActionSkip, act("ops"))
	})
	f.at(2*time.Minute, func() {
		rec := f.status()
		require.Equal(t, workflows.StatusAwaitingApproval, rec.Status, "an unchecked statement is never auto-approved")
		require.Contains(t, rec.Anomalies[0], "check_skipped")
		f.mustUpdate(workflows.ActionApprove, approve("bob"))
	})
	require.Equal(t, workflows.StatusCompleted, f.run().Status)
}

// A worker without the contract's adapter cannot pay: the posting is
// reversed and the cycle waits in payout_failed, from which a retry (once the
// adapter is back) posts and pays afresh.
func TestMissingAdapterCompensatesThenRetry(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("1000.00"), payouts.SimulatedOptions{})
	f.acts.Payouts = payouts.Registry{} // the worker lost its adapter: a configuration fault
	f.at(10*time.Minute, func() {
		rec := f.status()
		require.Equal(t, workflows.StatusPayoutFailed, rec.Status)
		require.Contains(t, rec.Error, `payout adapter "simulated" is not configured`)
		require.Equal(t, []string{f.id + "/post/1", f.id + "/reverse/1"}, f.ledger.keys(), "the posting is undone")
		f.acts.Payouts[payouts.SimulatedName] = f.bank
		f.mustUpdate(workflows.ActionRetry, act("ops"))
	})
	require.Equal(t, workflows.StatusCompleted, f.run().Status)
	require.Equal(t, 1, f.bank.Count())
	require.Equal(t, []string{f.id + "/post/1", f.id + "/reverse/1", f.id + "/post/2"}, f.ledger.keys())
}

func TestCancelWhileNeedsAttentionBeforePosting(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("1000.00"), payouts.SimulatedOptions{})
	f.store.failClose = true
	f.at(10*time.Minute, func() { f.mustUpdate(workflows.ActionCancel, act("ops")) })
	res := f.run()
	require.Equal(t, workflows.StatusCancelled, res.Status)
	require.Equal(t, []string{f.id}, f.store.released)
}

func TestFailingWebhookDoesNotFailTheCycle(t *testing.T) {
	t.Parallel()
	var got []*http.Request
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	t.Cleanup(bad.Close)
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = append(got, r) }))
	t.Cleanup(good.Close)
	f := newFixture(t, snapshot("1000.00"), payouts.SimulatedOptions{})
	f.acts.Parties = fakeParties{
		operator: {ID: operator, WebhookURL: bad.URL, SigningSecret: "s1"},
		provider: {ID: provider, WebhookURL: good.URL, SigningSecret: "s2"},
	}
	res := f.run()
	require.Equal(t, workflows.StatusCompleted, res.Status)
	ev := events(f.recorder.last())
	require.Equal(t, 2, count(ev, "webhook_failed"), "statement ready and paid, to the operator")
	require.Equal(t, 2, count(ev, "webhook_sent"))
	require.Len(t, got, 2)
	require.Equal(t, activities.EventStatementReady, got[0].Header.Get(activities.HeaderEvent))
	require.Equal(t, activities.EventCyclePaid, got[1].Header.Get(activities.HeaderEvent))
	require.NotEmpty(t, got[0].Header.Get(activities.HeaderSignature))
}

func count(ss []string, s string) int {
	n := 0
	for _, v := range ss {
		if v == s {
			n++
		}
	}
	return n
}

// A posting that committed but whose answer was lost on every attempt parks
// the cycle; it cannot be cancelled (the money may be booked), and a retry
// replays the original entry instead of booking it twice.
func TestPostingCommittedButUnacknowledgedIsReplayed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("1000.00"), payouts.SimulatedOptions{})
	f.ledger.loseAcks(f.id+"/post/1", 5)
	f.at(10*time.Minute, func() {
		rec := f.status()
		require.Equal(t, workflows.StatusNeedsAttention, rec.Status)
		require.Contains(t, rec.Error, "post: connection reset after commit")
		f.refused(workflows.ActionCancel, act("ops"), "can no longer be cancelled")
		f.mustUpdate(workflows.ActionRetry, act("ops"))
	})
	res := f.run()
	require.Equal(t, workflows.StatusCompleted, res.Status)
	require.Equal(t, []string{f.id + "/post/1"}, f.ledger.keys())
	require.Equal(t, []int64{1}, res.LedgerEntries)
	require.EqualValues(t, 10000, f.ledger.balance(provider, ledger.PurposeProviderReceivable))
	require.Equal(t, 1, f.bank.Count())
}

// A reversal whose answer is lost once is retried by Temporal with the same
// request and replays.
func TestReversalUnacknowledgedOnceIsReplayed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("1000.00"), payouts.SimulatedOptions{})
	f.bank.Decline(f.id, "beneficiary account closed")
	f.ledger.loseAcks(f.id+"/reverse/1", 1)
	f.at(time.Hour, func() {
		require.Equal(t, workflows.StatusPayoutFailed, f.status().Status)
		f.mustUpdate(workflows.ActionCancel, act("ops"))
	})
	res := f.run()
	require.Equal(t, workflows.StatusCancelled, res.Status)
	require.Equal(t, []string{f.id + "/post/1", f.id + "/reverse/1"}, f.ledger.keys())
	require.Equal(t, []int64{1, 2}, res.LedgerEntries)
	require.Regexp(t, `^payout failed: payout: .*beneficiary account closed`, f.ledger.entry(2).Description)
	require.Zero(t, f.ledger.balance(provider, ledger.PurposeProviderReceivable))
}

// A reversal that committed but whose answer was lost on every attempt parks
// the cycle in needs_attention; an operator's retry must replay it.
func TestReversalRetriedAfterLostAcksReplays(t *testing.T) {
	t.Parallel()
	f := newFixture(t, snapshot("1000.00"), payouts.SimulatedOptions{})
	f.bank.Decline(f.id, "beneficiary account closed")
	f.ledger.loseAcks(f.id+"/reverse/1", 5)
	f.at(10*time.Minute, func() {
		rec := f.status()
		require.Equal(t, workflows.StatusNeedsAttention, rec.Status)
		require.Contains(t, rec.Error, "compensate: connection reset after commit")
		f.mustUpdate(workflows.ActionRetry, act("ops"))
	})
	f.at(20*time.Minute, func() {
		rec := f.status()
		require.Equal(t, workflows.StatusPayoutFailed, rec.Status, rec.Error)
		f.mustUpdate(workflows.ActionCancel, act("ops"))
	})
	res := f.run()
	require.Equal(t, workflows.StatusCancelled, res.Status)
	require.Equal(t, []string{f.id + "/post/1", f.id + "/reverse/1"}, f.ledger.keys())
	require.Regexp(t, `^payout failed: payout: .*beneficiary account closed`, f.ledger.entry(2).Description)
	require.Zero(t, f.ledger.balance(provider, ledger.PurposeProviderReceivable))
}
