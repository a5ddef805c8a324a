package workflows_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/activities"
	"github.com/tollgate/tollgate/internal/testwait"
	"github.com/tollgate/tollgate/payouts"
	"github.com/tollgate/tollgate/worker"
	"github.com/tollgate/tollgate/workflows"
)

var (
	record       = flag.Bool("record", false, "run TestRecordHistories against a real Temporal server and rewrite testdata/*.json")
	temporalAddr = flag.String("temporal", "127.0.0.1:7233", "Temporal frontend used by -record (for example the dev stack's)")
)

// scenario is one recorded path through the cycle.
type scenario struct {
	name  string
	snap  tollgate.CycleSnapshot
	bank  payouts.SimulatedOptions
	setup func(r *recording)
	drive func(r *recording)
}

// recording runs one scenario on a real server with the real activities on
// in-memory fakes, on a task queue of its own.
type recording struct {
	t     *testing.T
	c     client.Client
	id    string
	store *fakeStore
	bank  *payouts.Simulated
}

// TestRecordHistories records the histories that TestReplayRecordedHistories
// replays. It needs a Temporal server with the Tollgate search attributes
// registered, such as the one the dev stack starts. It stays serial, like
// TestRecordScheduledCycle: both rewrite testdata/*.json, and the parallel
// TestReplayRecordedHistories starts only after every serial test is done.
func TestRecordHistories(t *testing.T) {
	if !*record {
		t.Skip("records histories only with -record")
	}
	c, err := client.Dial(client.Options{HostPort: *temporalAddr})
	require.NoError(t, err)
	t.Cleanup(c.Close)

	manual := snapshot("5000.00")
	two := snapshot("5000.00")
	two.Approval.ApprovalsRequired = 2
	escalate := snapshot("5000.00")
	escalate.Approval.ApprovalTimeout = tollgate.Duration(time.Second) // short, so the recording is quick

	for _, sc := range []scenario{
		{name: "auto_approve", snap: snapshot("1000.00")},
		{name: "manual_approval", snap: manual, drive: func(r *recording) {
			r.waitStatus(workflows.StatusAwaitingApproval)
			r.signal(workflows.ActionApprove, approve(initiator)) // refused and recorded
			r.update(workflows.ActionApprove, approve("bob"))
		}},
		{name: "two_approvers", snap: two, drive: func(r *recording) {
			r.waitStatus(workflows.StatusAwaitingApproval)
			r.update(workflows.ActionApprove, approve("bob"))
			r.signal(workflows.ActionApprove, approve("bob")) // duplicate, counted once
			r.signal(workflows.ActionApprove, approve("carol"))
		}},
		{name: "reject", snap: manual, drive: func(r *recording) {
			r.waitStatus(workflows.StatusAwaitingApproval)
			r.update(workflows.ActionReject, workflows.Decision{Approver: "bob", Comment: "fees look wrong"})
		}},
		{name: "cancel_awaiting_approval", snap: manual, drive: func(r *recording) {
			r.waitStatus(workflows.StatusAwaitingApproval)
			r.update(workflows.ActionCancel, act("ops"))
		}},
		{name: "approval_escalation", snap: escalate, drive: func(r *recording) {
			r.waitEvent("approval_escalated")
			r.update(workflows.ActionApprove, approve("bob"))
		}},
		{name: "payout_transient", snap: snapshot("1000.00"), bank: payouts.SimulatedOptions{TransientFailures: 2, PendingPolls: 2}},
		{name: "payout_declined_retry", snap: snapshot("1000.00"),
			setup: func(r *recording) { r.bank.Decline(r.id, "beneficiary account closed") },
			drive: func(r *recording) {
				r.waitStatus(workflows.StatusPayoutFailed)
				r.update(workflows.ActionRetry, act("ops"))
			}},
		{name: "needs_attention_retry", snap: snapshot("1000.00"),
			setup: func(r *recording) { r.store.setFailClose(true) },
			drive: func(r *recording) {
				r.waitStatus(workflows.StatusNeedsAttention)
				r.store.setFailClose(false)
				r.signal(workflows.ActionRetry, act("ops"))
			}},
	} {
		t.Run(sc.name, func(t *testing.T) { recordScenario(t, c, sc) })
	}
}

func recordScenario(t *testing.T, c client.Client, sc scenario) {
	queue := "tollgate-record-" + sc.name
	r := &recording{t: t, c: c, store: &fakeStore{snap: sc.snap}, bank: payouts.NewSimulated(sc.bank),
		id: workflows.CycleID("c-"+sc.name, time.Now().UTC().Truncate(time.Minute))}
	w := sdkworker.New(c, queue, sdkworker.Options{})
	worker.Register(w, &activities.Activities{
		Cycles: r.store, Recorder: &fakeRecorder{}, Ledger: &fakeLedger{},
		Parties: fakeParties{operator: {ID: operator}, provider: {ID: provider}},
		Payouts: payouts.Registry{payouts.SimulatedName: r.bank},
	})
	require.NoError(t, w.Start())
	defer w.Stop()
	if sc.setup != nil {
		sc.setup(r)
	}
	ctx, cancel := context.WithTimeout(t.Context(), testwait.Scale(t, 2*time.Minute))
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: r.id, TaskQueue: queue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING}, //nolint:staticcheck // SA1019: kept as recorded; switching to the conflict policy changes the recorded start request
		workflows.SettlementCycleWorkflowName,
		workflows.CycleInput{ContractID: "c-" + sc.name, PeriodEnd: time.Now().UTC().Truncate(time.Minute), InitiatedBy: initiator})
	require.NoError(t, err)
	if sc.drive != nil {
		sc.drive(r)
	}
	var res workflows.CycleResult
	require.NoError(t, run.Get(ctx, &res))

	hist := &historypb.History{}
	it := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		hist.Events = append(hist.Events, ev)
	}
	b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(hist)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join("testdata", sc.name+".json"), b, 0o644))
	t.Logf("%s: %s, %d events", sc.name, res.Status, len(hist.Events))
}

func (r *recording) status() tollgate.CycleRecord {
	v, err := r.c.QueryWorkflow(r.t.Context(), r.id, "", workflows.QueryStatus)
	require.NoError(r.t, err)
	var rec tollgate.CycleRecord
	require.NoError(r.t, v.Get(&rec))
	return rec
}

// waitFor polls the status query until ok or a deadline.
func (r *recording) waitFor(what string, ok func(tollgate.CycleRecord) bool) {
	r.t.Helper()
	testwait.Until(r.t, time.Minute, fmt.Sprintf("cycle %s: %s", r.id, what), func() bool { return ok(r.status()) })
}

func (r *recording) waitStatus(s string) {
	r.waitFor(s, func(rec tollgate.CycleRecord) bool { return rec.Status == s })
}

func (r *recording) waitEvent(e string) {
	r.waitFor(e, func(rec tollgate.CycleRecord) bool { return slices.Contains(events(rec), e) })
}

func (r *recording) update(name string, arg any) {
	h, err := r.c.UpdateWorkflow(r.t.Context(), client.UpdateWorkflowOptions{
		WorkflowID: r.id, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
	require.NoError(r.t, err)
	require.NoError(r.t, h.Get(r.t.Context(), nil))
}

func (r *recording) signal(name string, arg any) {
	require.NoError(r.t, r.c.SignalWorkflow(r.t.Context(), r.id, "", name, arg))
}
