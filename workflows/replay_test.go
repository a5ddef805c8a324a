package workflows_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tollgate/tollgate/workflows"
)

// TestReplayRecordedHistories replays every history recorded from a real
// Temporal server (see record_test.go). A change that makes the workflow
// issue different commands for an old history fails here: guard it with
// workflow.GetVersion (versions.go) and record a new history.
func TestReplayRecordedHistories(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded histories; record them with: go test ./workflows -run TestRecordHistories -record -temporal host:port")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(workflows.SettlementCycle, workflow.RegisterOptions{Name: workflows.SettlementCycleWorkflowName})
			r.RegisterWorkflowWithOptions(workflows.ScheduledCycle, workflow.RegisterOptions{Name: workflows.ScheduledCycleWorkflowName})
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(quietLogger, file))
		})
	}
}
