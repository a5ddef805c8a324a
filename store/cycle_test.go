package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
)

// TestRecordCycleStartNeverOverwrites: the API's first row makes a started
// cycle readable, a second start leaves a newer row alone, and the
// workflow's own record replaces the first row.
func TestRecordCycleStartNeverOverwrites(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	start := tollgate.CycleRecord{CycleID: "cycle-c-1-x", ContractID: "c-1", PeriodEnd: t0, Status: "collecting", InitiatedBy: "alice"}
	require.NoError(t, f.st.RecordCycleStart(ctx, start))
	row, err := f.st.GetCycle(ctx, start.CycleID)
	require.NoError(t, err)
	require.Equal(t, "collecting", row.Status)
	require.Equal(t, "alice", row.Record.InitiatedBy)

	// The workflow's record wins over the start row.
	wf := start
	wf.Status, wf.Timeline = "computing", []tollgate.TimelineEvent{{Event: "closed"}}
	require.NoError(t, f.st.RecordCycle(ctx, wf))
	// A later start (a retried POST) does not move it back.
	again := start
	again.InitiatedBy = "bob"
	require.NoError(t, f.st.RecordCycleStart(ctx, again))
	row, err = f.st.GetCycle(ctx, start.CycleID)
	require.NoError(t, err)
	require.Equal(t, "computing", row.Status)
	require.Equal(t, "alice", row.Record.InitiatedBy)
	require.Len(t, row.Record.Timeline, 1)
}
