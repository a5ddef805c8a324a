package workflows

import (
	"errors"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ScheduledCycleWorkflowName is the workflow a contract's Temporal Schedule
// starts on every tick.
const ScheduledCycleWorkflowName = "ScheduledCycle"

// ScheduledCycleInput is fixed when the schedule is created or updated.
type ScheduledCycleInput struct {
	ContractID  string
	GracePeriod time.Duration
}

// ScheduledCycleResult names the cycle the tick started (or found).
type ScheduledCycleResult struct {
	CycleID string
}

// scheduledStartTime is the search attribute Temporal sets on workflows a
// schedule starts: the tick's nominal time, whatever the start latency.
var scheduledStartTime = temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")

// ScheduledCycle turns a schedule tick into the settlement cycle for the
// period that ends at the tick's nominal time. A schedule cannot compute
// workflow arguments per tick, so this small workflow reads the nominal time
// and starts the cycle as an abandoned child with the cycle's own ID: the
// cycle outlives the tick, and a repeated tick finds the same cycle.
func ScheduledCycle(ctx workflow.Context, in ScheduledCycleInput) (ScheduledCycleResult, error) {
	end, ok := workflow.GetTypedSearchAttributes(ctx).GetTime(scheduledStartTime)
	if !ok {
		end = workflow.Now(ctx) // triggered by hand outside a schedule
	}
	end = end.UTC().Truncate(time.Minute)
	id := CycleID(in.ContractID, end)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            id,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword(SearchAttrContractID).ValueSet(in.ContractID),
			temporal.NewSearchAttributeKeyKeyword(SearchAttrCycleStatus).ValueSet(StatusCollecting),
		),
	})
	child := workflow.ExecuteChildWorkflow(cctx, SettlementCycleWorkflowName, CycleInput{
		ContractID: in.ContractID, PeriodEnd: end, InitiatedBy: "schedule", GracePeriod: in.GracePeriod,
	})
	var exec workflow.Execution
	err := child.GetChildWorkflowExecution().Get(ctx, &exec)
	var started *temporal.ChildWorkflowExecutionAlreadyStartedError
	if err != nil && !errors.As(err, &started) {
		return ScheduledCycleResult{}, err
	}
	return ScheduledCycleResult{CycleID: id}, nil
}
