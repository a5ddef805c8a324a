package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tollgate/tollgate/activities"
)

// RoundTripInput is the input of the RoundTrip workflow.
type RoundTripInput struct {
	ID      string
	Message string
}

// RoundTripResult is what the workflow read back from PostgreSQL.
type RoundTripResult struct {
	ID       string
	Message  string
	StoredAt time.Time
	Workflow string
}

// RoundTrip proves that a worker is polling the task queue and can reach
// PostgreSQL: it records a ping through an activity and returns what was
// stored. The API exposes it as a deep readiness check.
func RoundTrip(ctx workflow.Context, in RoundTripInput) (RoundTripResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
	})
	var a *activities.Activities
	var out activities.RecordPingResult
	err := workflow.ExecuteActivity(ctx, a.RecordPing, activities.RecordPingRequest{
		ID:         in.ID,
		Message:    in.Message,
		WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
	}).Get(ctx, &out)
	if err != nil {
		return RoundTripResult{}, err
	}
	return RoundTripResult{ID: out.ID, Message: out.Message, StoredAt: out.StoredAt, Workflow: out.WorkflowID}, nil
}
