package workflows_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/tollgate/tollgate/activities"
	"github.com/tollgate/tollgate/internal/testwait"
	"github.com/tollgate/tollgate/payouts"
	"github.com/tollgate/tollgate/worker"
	"github.com/tollgate/tollgate/workflows"
)

// TestRecordScheduledCycle records a ScheduledCycle started by a real
// Temporal Schedule tick (so the nominal-time search attribute is set) into
// testdata/scheduled_tick.json, which TestReplayRecordedHistories replays.
func TestRecordScheduledCycle(t *testing.T) {
	if !*record {
		t.Skip("records histories only with -record")
	}
	c, err := client.Dial(client.Options{HostPort: *temporalAddr})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	queue := "tollgate-record-scheduled"
	snap := snapshot("1000.00")
	w := sdkworker.New(c, queue, sdkworker.Options{})
	worker.Register(w, &activities.Activities{
		Cycles: &fakeStore{snap: snap}, Recorder: &fakeRecorder{}, Ledger: &fakeLedger{},
		Parties: fakeParties{operator: {ID: operator}, provider: {ID: provider}},
		Payouts: payouts.Registry{payouts.SimulatedName: payouts.NewSimulated(payouts.SimulatedOptions{})},
	})
	require.NoError(t, w.Start())
	defer w.Stop()

	ctx, cancel := context.WithTimeout(t.Context(), testwait.Scale(t, 2*time.Minute))
	defer cancel()
	id := "schedule-record-" + time.Now().UTC().Format("20060102T150405")
	h, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:     id,
		Spec:   client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 24 * time.Hour}}},
		Paused: true,
		Action: &client.ScheduleWorkflowAction{ID: "tick-" + id, Workflow: workflows.ScheduledCycleWorkflowName, TaskQueue: queue,
			Args: []any{workflows.ScheduledCycleInput{ContractID: "c-scheduled"}}},
	})
	require.NoError(t, err)
	defer func() { _ = h.Delete(context.Background()) }()
	require.NoError(t, h.Trigger(ctx, client.ScheduleTriggerOptions{}))

	var runID, wfID string
	testwait.Until(t, time.Minute, "the schedule to record the triggered start", func() bool {
		d, err := h.Describe(ctx)
		if err != nil || len(d.Info.RecentActions) == 0 {
			return false
		}
		a := d.Info.RecentActions[0].StartWorkflowResult
		wfID, runID = a.WorkflowID, a.FirstExecutionRunID
		return true
	})
	var res workflows.ScheduledCycleResult
	require.NoError(t, c.GetWorkflow(ctx, wfID, runID).Get(ctx, &res))
	require.Contains(t, res.CycleID, "cycle-c-scheduled-")

	hist := &historypb.History{}
	it := c.GetWorkflowHistory(ctx, wfID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		hist.Events = append(hist.Events, ev)
	}
	b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(hist)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join("testdata", "scheduled_tick.json"), b, 0o644))
	t.Logf("scheduled tick %s: %d events, cycle %s", wfID, len(hist.Events), res.CycleID)
}
